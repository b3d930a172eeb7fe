"""Nanda et al.'s progress measures against cases with a known answer."""

import math

import numpy as np
import pytest
import torch

from groklab import api
from groklab.analysis.progress import progress_phases
from groklab.config import ConfigError, validate_config
from groklab.history import load_history
from groklab.models import build_model
from groklab.probes.progress import (
    addition_inputs,
    excluded_loss,
    fourier_basis,
    frequency_norms,
    gini,
    key_frequencies,
    progress,
    restricted_loss,
    sum_directions,
)
from groklab.resolve import validate_run_config
from groklab.tasks import build_task

P = 23
KEYS = [3, 7]


def fourier_algorithm_logits(p, keys, scale=50.0):
    """The logits of the Fourier algorithm: sum over key frequencies of cos(w_k (a + b - c))."""
    inputs, labels = addition_inputs(p, with_equals=True)
    a, b = inputs[:, 0].double(), inputs[:, 1].double()
    c = torch.arange(p).double()
    logits = sum(torch.cos(2 * math.pi * k * ((a + b)[:, None] - c[None, :]) / p) for k in keys)
    return scale * logits, labels


def test_fourier_basis_is_orthonormal():
    basis = fourier_basis(P)
    torch.testing.assert_close(basis @ basis.T, torch.eye(P, dtype=torch.float64))


def test_fourier_algorithm_has_restricted_loss_near_zero_and_large_excluded_loss():
    logits, labels = fourier_algorithm_logits(P, KEYS)
    everything = torch.arange(P * P)
    full = torch.nn.functional.cross_entropy(logits, labels).item()
    restricted = restricted_loss(logits, labels, sum_directions(P, KEYS))
    assert full < 1e-3 and restricted == pytest.approx(full, abs=1e-9)  # nothing outside the key directions
    excluded = excluded_loss(logits, labels, sum_directions(P, KEYS), everything)
    assert excluded == pytest.approx(math.log(P), rel=1e-6)  # nothing left: uniform logits
    one_removed = excluded_loss(logits, labels, sum_directions(P, [KEYS[0]]), everything)
    assert full < one_removed < excluded  # the other frequency still carries some of the answer
    # wrong frequencies: restricting to them throws the algorithm away
    assert restricted_loss(logits, labels, sum_directions(P, [1, 2])) == pytest.approx(math.log(P), rel=1e-6)


def test_neurons_of_one_frequency_give_the_key_frequencies_under_both_rules():
    """The paper's rule (every firing neuron's best frequency) and the share rule agree on specialized neurons;
    on noise the paper's rule returns whatever each neuron's best frequency happens to be, the share rule
    none; a neuron that never fires adds no frequency."""
    inputs, _ = addition_inputs(P, with_equals=True)
    a, b = inputs[:, 0].double(), inputs[:, 1].double()
    phases = torch.linspace(0, 3, 8)  # neurons as in the trained network: ReLU(cos(w a + phi) + cos(w b + psi))
    neurons = [torch.relu(torch.cos(2 * math.pi * k * a / P + phase) + torch.cos(2 * math.pi * k * b / P + 2 * phase))
               for k in KEYS for phase in phases]
    neurons.append(torch.zeros(P * P, dtype=torch.float64))  # dead
    for rule in ("best_per_neuron", "share"):
        assert key_frequencies(torch.stack(neurons, dim=1), P, rule) == KEYS
    torch.manual_seed(0)
    noise = torch.randn(P * P, 64)
    assert key_frequencies(noise, P, "share") == []
    assert len(key_frequencies(noise, P)) > len(KEYS)


def test_gini_and_frequency_norms():
    assert gini(torch.ones(10)) == pytest.approx(0.0)
    assert gini(torch.tensor([0.0] * 9 + [5.0])) == pytest.approx(0.9)
    x = torch.arange(P).double()
    embed = torch.stack([torch.cos(2 * math.pi * 5 * x / P), torch.sin(2 * math.pi * 5 * x / P)], dim=1)
    norms = frequency_norms(embed, P)
    assert int(norms.argmax()) + 1 == 5 and norms.sum() == pytest.approx(norms[4].item())
    assert gini(norms) == pytest.approx(1 - 1 / len(norms))


def test_progress_probe_records_series_on_its_schedule(tmp_path, tiny):
    # the share rule: a random network then has no key frequencies (the paper's rule gives it most of them)
    tiny["eval"] = {"every": 10, "log_points": 0, "probes": ["progress"], "probe_every": 50,
                    "key_frequency_rule": "share"}
    tiny["train"]["steps"] = 100
    handle = api.run(validate_config(tiny), tmp_path / "run", show_progress=False)
    history = load_history(handle.run_dir / "history.jsonl")
    measured = [r["step"] for r in history.records if "restricted_loss" in r]
    assert measured == [0, 50, 100]
    first = history.records[0]
    assert first["n_key_freqs"] == 0  # a random network has no key frequencies
    assert first["probe_s"] > 0 and first["weight_sq"] > 0
    per_parameter = [v for k, v in first.items() if k.startswith("weight_sq_")]
    assert "weight_sq_embed_weight" in first and sum(per_parameter) == pytest.approx(first["weight_sq"])
    # no key frequencies: restricted logits are constant per class (loss at least log p), nothing is excluded
    assert first["restricted_loss"] >= math.log(23) - 1e-9
    assert first["excluded_loss"] == pytest.approx(first["train_loss"], rel=1e-4)
    assert (handle.run_dir / "figures" / "probes.png").is_file()


def fourier_mlp(p, keys, width=256, seed=0):
    """A quadratic one-hidden-layer MLP on [a, b] one-hots that computes a + b with the given frequencies
    (Gromov's construction, each neuron one of `keys`), as a config and a model holding those weights."""
    cfg = validate_config({
        "task": {"name": "modular", "operation": "x+y", "p": p, "train_frac": 0.5, "format": "x_y"},
        "model": {"name": "mlp", "width": width, "depth": 2, "activation": "quadratic", "bias": False},
        "eval": {"probes": ["progress"]}, "device": "cpu"})
    data = build_task(cfg.task, 0)
    model = build_model(cfg.model, data)
    g = torch.Generator().manual_seed(seed)
    freqs = torch.tensor(keys).repeat(width // len(keys)).double()
    phases = 2 * math.pi * torch.rand(width, 2, generator=g, dtype=torch.float64)
    angle = 2 * math.pi * freqs[:, None] * torch.arange(p).double()[None, :] / p
    with torch.no_grad():
        model.net[0].weight.copy_(torch.cat([torch.cos(angle + phases[:, :1]), torch.cos(angle + phases[:, 1:])], 1))
        model.net[2].weight.copy_(torch.cos(angle + phases.sum(1, keepdim=True)).T / 4)
    return cfg, data, model


def test_mlp_computing_addition_with_two_frequencies_has_those_keys_and_a_low_restricted_loss():
    cfg, data, model = fourier_mlp(P, KEYS)
    values = progress(model, data, cfg)
    assert [k for k in KEYS if values.get(f"key_freq_{k}")] == KEYS and values["n_key_freqs"] == 2
    inputs, labels = addition_inputs(P, with_equals=False)
    full = torch.nn.functional.cross_entropy(model(inputs).double(), labels).item()
    assert (model(inputs).argmax(1) == labels).all()  # the construction computes a + b
    assert values["restricted_loss"] < full  # the other frequencies the squares make are only noise
    assert values["excluded_loss"] > math.log(P)  # without the key directions the answer is gone
    assert values["gini_neuron_logits"] > 0.8  # two of eleven frequencies hold all of the output weights
    random_cfg, random_data, random_model = fourier_mlp(P, KEYS)
    torch.nn.init.normal_(random_model.net[0].weight)
    assert progress(random_model, random_data, random_cfg)["n_key_freqs"] == 0


def test_progress_probe_needs_the_papers_setting(tiny):
    tiny["eval"]["probes"] = ["progress"]
    tiny["task"]["operation"] = "x-y"
    with pytest.raises(ConfigError, match="progress.*x\\+y"):
        validate_run_config(tiny)


def test_phases_from_measured_series():
    """A history shaped like the paper's: memorized by step 100, restricted loss falls from 400, test loss
    falls 700-900 while the weights shrink, excluded loss rises during circuit formation."""
    steps = np.arange(0, 1100, 100)
    test_loss = np.array([4.0, 5.0, 5.2, 5.2, 5.1, 5.0, 4.9, 2.0, 0.2, 0.01, 0.01])
    restricted = np.array([4.6, 4.6, 4.5, 4.0, 0.5, 0.2, 0.1, 0.05, 0.01, 0.01, 0.01])
    excluded = np.array([4.0, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 6.0, 6.0, 6.0])
    weight_sq = np.array([100, 110, 108, 100, 95, 90, 85, 60, 40, 30, 28.0])
    facts = progress_phases(steps, 100, test_loss, restricted, excluded, weight_sq)
    assert facts["memorization_phase"] == [0, 100]
    assert facts["circuit_formation_phase"] == [100, 700] and facts["cleanup_phase"] == [700, 900]
    assert facts["restricted_fall_step"] == 500 and facts["test_fall_step"] == 800  # halfway down in log
    assert facts["restricted_falls_first"] and facts["excluded_rises_in_formation"] and facts["weight_falls_in_cleanup"]
    flat = progress_phases(steps, 100, np.full(11, 5.0), restricted, excluded, weight_sq)
    assert flat["cleanup_phase"] is None and flat["restricted_falls_first"] is None  # test loss never falls
