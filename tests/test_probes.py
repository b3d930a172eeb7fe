"""Probes measured on real tensors: RQI, the Fourier structure, the analytic Fourier solution."""

import math

import pytest
import torch

from groklab.config import validate_config
from groklab.models import build_model
from groklab.probes.fourier import (
    analytic_accuracy,
    analytic_solution,
    frequency_agreement,
    ipr,
    neuron_spectra,
    operand_spectra,
    primitive_root,
)
from groklab.probes.norms import last_layer_norm
from groklab.probes.rqi import parallelograms, representation_quality
from groklab.tasks import build_task


def test_parallelograms_all_have_equal_sums_and_include_a_known_one():
    quads = parallelograms(10)
    assert ((quads[:, 0] + quads[:, 1]) == (quads[:, 2] + quads[:, 3])).all()
    assert [0, 3, 1, 2] in quads.tolist()


def test_rqi_is_one_for_a_number_line_whatever_its_scale_and_low_for_random_points():
    line = torch.arange(10.0)[:, None]
    assert representation_quality(3.7 * line - 2) == 1.0
    assert representation_quality(torch.randn(10, 1, generator=torch.Generator().manual_seed(0))) < 0.2


def test_ipr_is_one_for_a_single_frequency_and_small_for_noise():
    p = 31
    x = torch.arange(p)
    pure = torch.cat([torch.cos(2 * math.pi * 5 * x / p + 0.3), torch.cos(2 * math.pi * 5 * x / p)])[None]
    noise = torch.randn(1, 2 * p, generator=torch.Generator().manual_seed(0))
    assert ipr(neuron_spectra(pure, p, 2, "x+y")).item() == pytest.approx(1.0)
    assert ipr(neuron_spectra(noise, p, 2, "x+y")).item() < 0.2


@pytest.mark.parametrize("operation", ["x+y", "x*y"])
@pytest.mark.parametrize("p", [23, 97])
def test_analytic_fourier_solution_is_exact_on_the_whole_table(operation, p):
    assert analytic_accuracy(p, 500, operation) == 1.0


def test_analytic_solution_neurons_have_one_frequency_each():
    w_in, _ = analytic_solution(23, 64, "x*y")
    assert ipr(neuron_spectra(w_in[:-1], 23, 2, "x*y")).min().item() == pytest.approx(1.0)  # all but the zero detector


@pytest.mark.parametrize("operation", ["x+y", "x*y"])
def test_every_analytic_neuron_has_its_input_and_output_frequencies_agree_and_random_weights_do_not(operation):
    w_in, w_out = analytic_solution(23, 64, operation)
    fourier_neurons = slice(0, 63 if operation == "x*y" else 64)  # without the zero detector
    inputs = operand_spectra(w_in[fourier_neurons], 23, 2, operation)
    assert frequency_agreement(inputs, w_out[:, fourier_neurons], 23, operation) == 1.0
    g = torch.Generator().manual_seed(0)
    noise = operand_spectra(torch.randn(64, 46, generator=g), 23, 2, operation)
    random = frequency_agreement(noise, torch.randn(23, 64, generator=g), 23, operation)
    assert random < 0.1


def test_primitive_root_generates_the_multiplicative_group():
    for p in (23, 53, 97, 113):
        g = primitive_root(p)
        assert len({pow(g, i, p) for i in range(p - 1)}) == p - 1


def test_last_layer_norm_is_the_unembedding_norm():
    cfg = validate_config({"task": {"p": 23, "format": "x_y_eq"}, "model": {"d_model": 32, "n_heads": 2}})
    model = build_model(cfg.model, build_task(cfg.task, 0))
    assert last_layer_norm(model, None, cfg)["last_layer_norm"] == pytest.approx(model.unembed.weight.norm().item())


def two_input_relu_net():
    """Hidden neurons x1, x2 and x1 + x2 - 5 (ReLU), then a readout."""
    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        net[0].bias.copy_(torch.tensor([0.0, 0.0, -5.0]))
    return net


def test_local_complexity_counts_the_neurons_whose_boundary_passes_near_the_anchor():
    from groklab.probes.geometry import local_complexity

    net = two_input_relu_net()
    anchor = torch.tensor([[0.0, 3.0]])  # on x1 = 0; 3 from x2 = 0; 2/sqrt(2) from x1 + x2 = 5
    directions = torch.eye(2)
    assert local_complexity(net, anchor, 0.5, directions) == [1.0]
    assert local_complexity(net, anchor, 2.5, directions) == [2.0]  # x1 + x2 = 5 is crossed at (2.5, 3)
    assert local_complexity(net, anchor, 4.0, directions) == [3.0]


def test_local_complexity_is_counted_per_hidden_layer():
    from groklab.probes.geometry import local_complexity

    net = two_input_relu_net()
    deeper = torch.nn.Sequential(net[0], net[1], torch.nn.Linear(3, 1), torch.nn.ReLU(), torch.nn.Linear(1, 2))
    with torch.no_grad():  # the second layer's neuron is x2 - 3.2 while x1, x2 >= 0: crossed within radius 0.5
        deeper[2].weight.copy_(torch.tensor([[0.0, 1.0, 0.0]]))
        deeper[2].bias.fill_(-3.2)
    anchor, directions = torch.tensor([[0.0, 3.0]]), torch.eye(2)
    assert local_complexity(deeper, anchor, 0.5, directions) == [1.0, 1.0]
    assert local_complexity(deeper, anchor, 0.1, directions) == [1.0, 0.0]


@pytest.mark.parametrize("model_name", ["transformer", "mlp", "token_sum_mlp", "repr_mlp"])
def test_the_input_space_of_a_token_model_computes_the_model(model_name):
    """Local complexity around token inputs is measured in the continuous space the model's first layer reads:
    running that space's forward from the inputs' own points gives the model's own outputs (so the neighbourhood
    is a neighbourhood of the same network), and the counts lie between 0 and each layer's width."""
    from groklab.probes.geometry import input_space, input_space_complexity

    overrides = {"transformer": {}, "mlp": {"name": "mlp", "width": 32}, "token_sum_mlp": {"name": "token_sum_mlp"},
                 "repr_mlp": {"name": "repr_mlp"}}[model_name]
    cfg = validate_config({"model": overrides, "task": {"p": 11}})
    data = build_task(cfg.task, 0)
    model = build_model(cfg.model, data).eval()
    x = data.train_x[:16]
    space = input_space(model)
    with torch.no_grad():
        out = space.forward(space.anchors(x))
        if model_name == "transformer":
            out = model.unembed(model.final_norm(out[:, -1]))
        elif model_name == "token_sum_mlp":
            out = model.unembed(model.outproj(torch.relu(out)))
        torch.testing.assert_close(out, model(x), rtol=1e-5, atol=1e-5)
    counts = input_space_complexity(model, data.train_x, seed=0)
    widths = [layer.out_features for layer in space.layers]
    assert len(counts) == len(widths) and all(0 <= c <= w for c, w in zip(counts, widths, strict=True))
    assert sum(counts) > 0  # a tenth of the anchors' norm reaches some boundary in a random network


def test_boundary_crossings_count_at_the_scored_position_of_a_sequence():
    from groklab.probes.geometry import boundary_crossings

    layer = torch.nn.Identity()  # pre-activations = the points themselves, per position: [m, 2 positions, 1]
    forward = lambda points: layer(points.view(len(points), 2, 1))  # noqa: E731
    vertices = torch.tensor([[[1.0, -1.0], [1.0, 1.0]]])  # position 0 keeps its sign, position 1 flips
    assert boundary_crossings(forward, [layer], vertices, torch.tensor([0])) == [0.0]
    assert boundary_crossings(forward, [layer], vertices, torch.tensor([1])) == [1.0]


def test_random_directions_are_orthonormal_and_fixed_per_seed():
    from groklab.probes.geometry import random_directions

    a, b = random_directions(784, 25, 0), random_directions(784, 25, 0)
    assert torch.equal(a, b) and torch.allclose(a @ a.T, torch.eye(25), atol=1e-5)


def test_pgd_stays_in_its_box_and_lowers_accuracy():
    from groklab.probes.adversarial import pgd

    g = torch.Generator().manual_seed(0)
    x = torch.rand(200, 2, generator=g)
    y = (x[:, 0] > x[:, 1]).long()
    net = torch.nn.Linear(2, 2)
    with torch.no_grad():  # a perfect linear classifier of the rule
        net.weight.copy_(torch.tensor([[-1.0, 1.0], [1.0, -1.0]]))
        net.bias.zero_()
    attacked = pgd(net, x, y, epsilon=0.1, step=0.02, iterations=10)
    assert (attacked - x).abs().max() <= 0.1 + 1e-6 and attacked.min() >= 0 and attacked.max() <= 1
    clean = (net(x).argmax(-1) == y).float().mean()
    robust = (net(attacked).argmax(-1) == y).float().mean()
    assert clean == 1.0 and robust < 0.9  # points within 0.1 of the diagonal flip
    assert net.weight.grad is None  # the attack does not touch the model's gradients


@pytest.mark.parametrize("k", [1, 3, 5])
def test_a_representation_spanning_k_equal_directions_has_effective_rank_and_participation_ratio_k(k):
    from groklab.probes.representation import centred_rank, participation_ratio

    directions = torch.linalg.qr(torch.randn(16, k, generator=torch.Generator().manual_seed(k), dtype=torch.float64))[
        0].T  # [k, 16]
    features = 2.5 * torch.cat([directions, -directions]) + 7.0  # centred at 7: the offset must not count
    assert centred_rank(features) == pytest.approx(k, rel=1e-6)
    assert participation_ratio(features) == pytest.approx(k, rel=1e-6)
    assert centred_rank(torch.ones(8, 16)) == participation_ratio(torch.ones(8, 16)) == 0.0  # a single point
    if k > 1:  # unequal spreads: fewer effective directions than k, the participation ratio fewer still
        spread = directions * torch.linspace(1, 3, k)[:, None]
        unequal = torch.cat([spread, -spread])
        assert 1 < participation_ratio(unequal) < centred_rank(unequal) < k


def test_each_mlp_hidden_layer_gets_its_own_rank():
    """A hand-built MLP whose first hidden layer spans k equal directions (the ReLU's bias keeps it linear on
    these inputs) and whose second is a single point: hidden1 has effective rank and participation ratio k,
    hidden2 0; the output layer's input is the last hidden layer; a transformer has no per-layer entries."""
    from types import SimpleNamespace

    from groklab.probes.representation import hidden_layers, representation

    k, width = 3, 8
    net = torch.nn.Sequential(torch.nn.Linear(k, width), torch.nn.ReLU(), torch.nn.Linear(width, width),
                              torch.nn.ReLU(), torch.nn.Linear(width, width), torch.nn.ReLU(),
                              torch.nn.Linear(width, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.eye(width, k))
        net[0].bias.fill_(10.0)
        net[2].weight.zero_()
        net[2].bias.fill_(1.0)  # hidden2: the same point for every input
    assert hidden_layers(net) == [net[2], net[4]]
    x = torch.cat([torch.eye(k), -torch.eye(k)])
    y = torch.zeros(2 * k, dtype=torch.long)
    data = SimpleNamespace(train_x=x, train_y=y, test_x=x, test_y=y)
    cfg = SimpleNamespace(train=SimpleNamespace(loss="cross_entropy"), task=SimpleNamespace(name="synthetic"), seed=0)
    values = representation(net, data, cfg)
    assert values["rep_effective_rank/hidden1_train"] == pytest.approx(k, rel=1e-6)
    assert values["rep_participation_ratio/hidden1_test"] == pytest.approx(k, rel=1e-6)
    assert values["rep_effective_rank/hidden2_train"] == 0.0
    assert "rep_effective_rank/hidden3_train" not in values and values["rep_effective_rank_train"] == 0.0
    transformer = build_model(validate_config({}).model, build_task(validate_config({}).task, 0))
    assert hidden_layers(transformer) == []


def test_linear_cka_is_one_for_a_rotated_scaled_copy_and_near_zero_for_unrelated_features():
    from groklab.probes.representation import linear_cka

    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 12, generator=g, dtype=torch.float64)
    rotation = torch.linalg.qr(torch.randn(12, 12, generator=g, dtype=torch.float64))[0]
    assert linear_cka(x, x) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(x, 3.0 * x @ rotation + 5.0) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(x, torch.randn(400, 12, generator=g, dtype=torch.float64)) < 0.1
    half = torch.cat([x[:, :6], torch.zeros(400, 6, dtype=torch.float64)], dim=1)  # half the directions kept
    assert 0.3 < linear_cka(x, half) < 0.9
    assert math.isnan(linear_cka(x, torch.ones(400, 3)))


@pytest.mark.parametrize("operation", ["x+y", "x*y", "x/y"])
def test_an_embedding_on_one_frequency_is_fourier_sparse_in_its_operations_group(operation):
    from groklab.probes.fourier import group_order
    from groklab.probes.representation import fourier_power, gini, sparsity

    p, k = 13, 3
    cyclic = group_order(p, "x*y") if operation != "x+y" else torch.arange(p)  # residue at each group position
    m = len(cyclic)
    angle = torch.zeros(p, dtype=torch.float64)
    angle[cyclic] = 2 * math.pi * k * torch.arange(m, dtype=torch.float64) / m
    rows = torch.stack([angle.cos(), angle.sin(), 0.5 * angle.cos()], dim=1)  # residue 0 unused for x*y, x/y
    power = fourier_power(rows, operation)
    assert len(power) == m // 2 and power.argmax().item() == k - 1
    measured = sparsity(power)
    assert measured["embed_fourier_top3_share"] == pytest.approx(1.0, abs=1e-12)
    assert measured["embed_fourier_gini"] == pytest.approx(1 - 1 / len(power), abs=1e-12)
    assert gini(torch.ones(6)) == 0.0
    noise = torch.randn(p, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert sparsity(fourier_power(noise, operation))["embed_fourier_gini"] < 0.6


def test_the_margin_is_the_target_logit_minus_the_best_other():
    from groklab.probes.representation import margins

    logits = torch.tensor([[3.0, 1.0, 2.0], [0.0, 4.0, 5.0]])
    assert margins(logits, torch.tensor([0, 1])).tolist() == [1.0, -1.0]


def test_the_representation_probe_measures_a_real_run_consistently(tmp_path, tiny):
    from groklab import api
    from groklab.history import load_history

    tiny["eval"]["probes"] = ["representation"]
    tiny["train"]["steps"] = 60
    handle = api.run(validate_config(tiny), tmp_path / "run", show_progress=False)
    record = load_history(handle.run_dir).records[-1]
    model = build_model(handle.result.config.model, build_task(handle.result.config.task, 0))
    matrices = {f"weight_norm/{name}" for name, p in model.named_parameters() if p.dim() >= 2}
    assert matrices <= record.keys()
    assert record["weight_norm_total"] == pytest.approx(math.sqrt(sum(record[m] ** 2 for m in matrices)))
    assert 0 < record["rep_cka_previous_train"] <= 1 + 1e-9 and 0 < record["rep_cka_previous_test"] <= 1 + 1e-9
    assert 0 <= record["embed_fourier_gini"] < 1 and 0 < record["embed_fourier_top3_share"] <= 1
    assert 1 <= record["rep_effective_rank_train"] <= 32 and 1 <= record["rep_participation_ratio_test"] <= 32
    assert record["logit_margin_q10_train"] <= record["logit_margin_train"]
    # the sample is the whole training set (264 equations): a positive lower decile means 90% are classified right
    if record["logit_margin_q10_train"] > 0:
        assert record["train_acc"] >= 0.9
    else:
        assert record["train_acc"] <= 0.9 + 1 / 264
    assert record["logit_norm_test"] > 0
    layers = [v for k, v in record.items() if k.startswith("rep_local_complexity/") and k.endswith("_train")]
    assert len(layers) == 1 and record["rep_local_complexity_train"] == pytest.approx(sum(layers))  # one per block
    assert (handle.run_dir / "figures" / "probes.png").is_file()
