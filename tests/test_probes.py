"""Probes measured on real tensors: RQI, the Fourier structure, the analytic Fourier solution."""

import math

import pytest
import torch

from groklab.config import validate_config
from groklab.models import build_model
from groklab.probes.fourier import analytic_accuracy, analytic_solution, ipr, neuron_spectra, primitive_root
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
