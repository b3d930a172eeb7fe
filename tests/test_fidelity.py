"""Equivalence with the papers' own code: groklab replays each original's recorded split, initial weights and
batch order (tests/reference/, recorded by scripts/reference/) and must compute the same losses.

Tolerances (docs/fidelity.md): the first update's loss to 1e-6 relative (the same function on the same
weights); the first 20 steps to 5e-5 (float32 rounding in a different operation order, amplified by Adam's
early normalized steps); later steps diverge chaotically in any float32 implementation, so the original's
recorded losses over the first 200 steps must lie within 3x the float32 rounding band around groklab's
float64 replay of the same steps (the band: how far groklab's own float32 replay strays from its float64 one)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from groklab import fidelity
from groklab.config.overrides import apply_overrides, validate_config
from groklab.objective import Objective
from groklab.optim import build_optimizer, lr_at
from groklab.replays import fidelity_line, replay_keys, replays
from groklab.train.trainer import build_model_for

REFERENCE = Path(__file__).parent / "reference"
FIRST_STEP_TOL, EARLY_TOL, EARLY_STEPS, BAND_STEPS, BAND_FACTOR = 1e-6, 5e-5, 20, 200, 3.0
REPLAYS = replay_keys()
# the band test's negative controls: a replay whose recording is cheap to replay in float64, and Adam settings
# changed slightly from its original's
BAND_CONTROL, CHANGED_ADAM = "liu2022_effective/grokking-squared", ["optim.eps=1e-7", "optim.betas=[0.9,0.998]"]


def recorded_losses(key: str, ref: fidelity.Reference) -> np.ndarray:
    """The original's per-step training loss (full-batch codes record it under step_train_loss)."""
    return ref.arrays["step_loss" if "step_loss" in ref.arrays else "step_train_loss"]


def replayed(key: str, steps: int, extra: list[str] | None = None, float64: bool = False,
             eval_at=()) -> fidelity.Trajectory:
    replay, ref = replays()[key], fidelity.load_reference(REFERENCE / key)
    cfg = fidelity.replay_config(replay, [*(extra or []), *(["train.loss_dtype=float64"] if float64 else [])])
    data, training = fidelity.replay_training(replay, ref, cfg)
    if float64:
        training.model.double()
        training.optimizer = build_optimizer(training.model, cfg.optim)
    return fidelity.run_replay(data, training, steps, eval_at=eval_at)


@pytest.mark.parametrize("key", REPLAYS)
def test_first_steps_match_the_original(key):
    ref = fidelity.load_reference(REFERENCE / key)
    theirs = recorded_losses(key, ref)[:EARLY_STEPS]
    diff = fidelity.relative_difference(replayed(key, EARLY_STEPS).step_loss, theirs)
    assert diff[0] < FIRST_STEP_TOL, f"{key}: the first loss differs by {diff[0]:.2e}"
    assert diff.max() < EARLY_TOL, f"{key}: step {diff.argmax()} differs by {diff.max():.2e}"


def test_a_different_warmup_is_caught():
    """The early tolerance tells computations apart: groklab's own warmup form instead of danielmamay's
    LinearLR(start_factor=0.1) moves the losses more than 10x beyond it within 20 steps."""
    key = "power2022/danielmamay"
    theirs = recorded_losses(key, fidelity.load_reference(REFERENCE / key))[:EARLY_STEPS]
    own_warmup = replayed(key, EARLY_STEPS, ["optim.warmup_start=null"]).step_loss
    assert fidelity.relative_difference(own_warmup, theirs).max() > 10 * EARLY_TOL


def band_replays(key: str, extra: list[str] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The original's recorded losses over the first BAND_STEPS steps, and groklab's float64 and float32 replays
    of them (with `extra` overrides)."""
    ref = fidelity.load_reference(REFERENCE / key)
    steps = min(len(recorded_losses(key, ref)), BAND_STEPS)
    exact = np.array(replayed(key, steps, extra, float64=True).step_loss)
    return recorded_losses(key, ref)[:steps], exact, np.array(replayed(key, steps, extra).step_loss)


@pytest.mark.slow
@pytest.mark.parametrize("key", REPLAYS)
def test_recorded_steps_lie_in_the_float32_band(key):
    theirs, exact, ours = band_replays(key)
    band = fidelity.relative_difference(ours, exact).max()
    spread = fidelity.relative_difference(theirs, exact).max()
    print(f"{key}: {len(theirs)} steps, groklab float32 vs float64 {band:.2e}, original vs groklab float64 "
          f"{spread:.2e}, original vs groklab float32 {fidelity.relative_difference(ours, theirs).max():.2e}")
    assert spread <= BAND_FACTOR * band, f"{key}: the original strays {spread:.2e} from groklab's float64 replay, " \
                                         f"more than {BAND_FACTOR}x float32's own {band:.2e}"


@pytest.mark.slow
@pytest.mark.parametrize("change", CHANGED_ADAM)
def test_a_slightly_different_adam_is_caught_by_the_band(change):
    """The band test tells optimizer settings apart that the 20-step test does not: with Adam's eps or beta2
    changed slightly, the original's losses stray beyond the band around the changed float64 replay."""
    key = BAND_CONTROL
    theirs, exact, ours = band_replays(key, [change])
    early = fidelity.relative_difference(ours[:EARLY_STEPS], theirs[:EARLY_STEPS]).max()
    band, spread = fidelity.relative_difference(ours, exact).max(), fidelity.relative_difference(theirs, exact).max()
    print(f"{key} with {change}: 20-step difference {early:.2e}, band {band:.2e}, original's spread {spread:.2e}")
    assert early < EARLY_TOL, f"{key} with {change}: already the 20-step test tells it apart ({early:.2e})"
    assert spread > BAND_FACTOR * band, f"{key} with {change}: spread {spread:.2e} within {BAND_FACTOR}x {band:.2e}"


def setting(cfg, key: str):
    """A config's value at a dotted key (task.n_train is the split's size, a property of the task)."""
    value = cfg
    for part in key.split("."):
        value = getattr(value, part)
    return list(value) if isinstance(value, tuple) else value


def agree(ours, theirs) -> bool:
    if isinstance(theirs, float) or isinstance(ours, float):
        return ours is not None and theirs is not None and float(ours) == pytest.approx(float(theirs), rel=1e-9)
    return ours == theirs


@pytest.mark.parametrize("key", REPLAYS)
def test_the_originals_settings_are_the_replays(key):
    """Each setting the recording states of the original's run (meta.json original_config: batch size, split
    size, initialization, optimizer, warmup, read from its source) is the replay's; and the preset's scale's too,
    unless the replay overrides it for the original (Replay.original) or lists it as a deviation the recording
    carries (Replay.deviations). The recorded batches and split have the stated sizes."""
    replay, ref = replays()[key], fidelity.load_reference(REFERENCE / key)
    stated = {name: item["value"] for name, item in ref.meta["original_config"].items()}
    assert {"optim.name", "optim.lr", "optim.betas", "optim.eps", "optim.weight_decay", "train.batch_size",
            "task.n_train", "optim.warmup_steps"} <= set(stated), f"{key}: meta.json states too little"
    replay_cfg, preset_cfg = fidelity.replay_config(replay), fidelity.replay_config(replay, original=False)
    overridden = {override.split("=", 1)[0] for override in replay.original}
    differ = []
    for name, theirs in stated.items():
        carried = name in replay.deviations
        if not carried and not agree(setting(replay_cfg, name), theirs):
            differ.append(f"the replay's {name} is {setting(replay_cfg, name)!r}, the original's {theirs!r}")
        if name not in overridden and not carried and not agree(setting(preset_cfg, name), theirs):
            differ.append(f"the preset's {name} is {setting(preset_cfg, name)!r}, the original's {theirs!r} "
                          "(neither a replay override nor a listed deviation)")
    assert not differ, f"{key}: " + "; ".join(differ)
    data = replay.split(ref, replay_cfg)
    assert len(data.train_x) == stated["task.n_train"], f"{key}: the recorded split has {len(data.train_x)} rows"
    if "batch_sizes" in ref.arrays:
        assert ref.arrays["batch_sizes"].max() == (stated["train.batch_size"] or len(data.train_x))


def test_openai_grok_positions_and_scoring_are_the_originals():
    """openai/grok's sinusoidal table (a buffer, so not among the loaded weights) is groklab's, and the replay
    scores what its _step scores: the answer after = and the closing <eos> after the answer."""
    key = "power2022/openai-grok"
    replay, ref = replays()[key], fidelity.load_reference(REFERENCE / key)
    data, training = fidelity.replay_training(replay, ref, fidelity.replay_config(replay))
    model = training.model.model
    theirs = ref.arrays["init/transformer.position_encoding"][: data.seq_len]
    assert np.abs(model.pos.numpy() - theirs).max() < 1e-6
    x, y = data.train_x[:4], data.train_y[:4]
    assert (x[:, 0] == 0).all() and (x[:, 4] == 1).all() and (y[:, 1] == 0).all()  # <eos> x / y = c, then <eos>
    logits = training.model(x)
    # the answer's logits are those of the five tokens up to =, read at the last of them
    cfg = fidelity.replay_config(replay)
    prefix = replace(data, train_x=data.train_x[:, :5], test_x=data.test_x[:, :5], seq_len=5, pad_token=None)
    up_to_eq = build_model_for(cfg, prefix, Objective(cfg))
    up_to_eq.load_state_dict(model.state_dict())
    torch.testing.assert_close(up_to_eq(x[:, :5]), logits[..., 0], rtol=1e-5, atol=1e-5)
    halves = [torch.nn.functional.cross_entropy(logits[..., i], y[:, i]).item() for i in (0, 1)]
    assert training.objective.loss(logits, y).item() == pytest.approx(sum(halves) / 2, rel=1e-6)
    wrong_end = torch.stack([y[:, 0], torch.full_like(y[:, 1], 5)], dim=1)
    confident = torch.nn.functional.one_hot(y, 239).transpose(1, 2).float()  # [B, C, 2]
    losses = training.objective.per_sample(confident, y)
    assert training.objective.correct(confident, y, losses).all()
    assert not training.objective.correct(confident, wrong_end, losses).any()  # both tokens must be right


def test_grokked_transformer_facts_scoring_and_tied_output():
    """GrokkedTransformer's facts become inputs ending in the answer, scored on the answer and </a> (the two
    positions its lm_labels keep) by one matrix that is both embedding and output layer; a fact that does not
    compose two training atomic facts is refused."""
    key = "wang2024_grokked_kg/grokked-transformer"
    replay, ref = replays()[key], fidelity.load_reference(REFERENCE / key)
    data, training = fidelity.replay_training(replay, ref, fidelity.replay_config(replay))
    labels = ref.arrays["train_labels"].astype(np.int64)
    scored = [row[row != -100].tolist() for row in labels[:50]]
    assert scored == data.train_y[:50].tolist()
    end = ref.meta["vocabulary"].index("</a>")
    assert (data.train_y[:, 1] == end).all() and not (data.train_x == end).any()
    model = training.model.model
    assert model.unembed.weight is model.embed.weight
    assert sum(p is model.embed.weight for p in training.optimizer.param_groups[0]["params"]) == 1
    broken = ref.arrays["test_tokens"].copy()
    inferred = (broken != 0).sum(1) == 5
    broken[np.argmax(inferred), 3] = (broken[np.argmax(inferred), 3] % 50) + 1  # another entity as the answer
    with pytest.raises(ValueError, match="does not compose"):
        replay.split(fidelity.Reference({**ref.arrays, "test_tokens": broken}, ref.meta), training.cfg)


def test_vectors_can_be_exempt_from_weight_decay():
    """optim.weight_decay_vectors=false: biases and LayerNorm gains in a group without decay, matrices decayed."""
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4), torch.nn.Linear(4, 2, bias=False))
    cfg = validate_config(apply_overrides({}, ["optim.weight_decay=0.1", "optim.weight_decay_vectors=false"])).optim
    groups = build_optimizer(model, cfg).param_groups
    decay = {id(p): group["weight_decay"] for group in groups for p in group["params"]}
    assert [decay[id(p)] for p in model.parameters()] == [0.1, 0.0, 0.0, 0.0, 0.1]
    default = validate_config(apply_overrides({}, ["optim.weight_decay=0.1"])).optim
    assert {g["weight_decay"] for g in build_optimizer(model, default).param_groups} == {0.1}


def test_warmup_start_follows_torch_linear_lr():
    cfg = validate_config(apply_overrides({}, ["optim.warmup_start=0.1", "optim.warmup_steps=10"])).optim
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    schedule = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=10)
    for step in range(15):
        assert lr_at(step, 100, cfg) == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-12)
        optimizer.step()
        schedule.step()
    zero_start = validate_config(apply_overrides({}, ["optim.warmup_start=0"])).optim
    assert lr_at(0, 100, zero_start) == 0.0 and lr_at(10, 100, zero_start) == zero_start.lr


def test_outputs_over_the_vocabulary():
    cfg = validate_config(apply_overrides({}, ["task.p=7", "task.outputs=vocabulary"]))
    assert cfg.task.n_classes == 9 and cfg.task.chance_accuracy == pytest.approx(1 / 7)


def test_a_split_that_is_not_the_table_is_refused():
    cfg = validate_config(apply_overrides({}, ["task.p=5", "task.operation=x/y"]))
    with pytest.raises(ValueError, match="not equations"):
        fidelity.modular_split(cfg, np.array([[0, 0]]), np.array([[1, 1]]))
    with pytest.raises(ValueError, match="partition"):
        fidelity.modular_split(cfg, np.array([[0, 1]]), np.array([[1, 1]]))
    with pytest.raises(ValueError, match="overlap"):
        fidelity.modular_split(cfg, np.array([[0, 1]]), np.array([[0, 1]]), partition=False)
    part = fidelity.modular_split(cfg, np.array([[0, 1], [2, 3]]), np.array([[1, 1]]), partition=False)
    assert part.train_x.shape[0] == 2 and part.test_x.shape[0] == 1


def test_every_recording_has_its_replay_module_and_every_replay_its_recording():
    recorded = sorted(f"{folder.parent.name}/{folder.name}" for folder in REFERENCE.glob("*/*")
                      if (folder / "reference.npz").is_file())
    assert recorded == REPLAYS and len(REPLAYS) == 11
    assert all(replay.preset == key.split("/")[0] and replay.scale for key, replay in replays().items())


def test_the_report_names_what_each_preset_was_replayed_against():
    from groklab.report.render import PaperSection, _paper_line

    assert "danielmamay" in fidelity_line("power2022")
    assert "not yet replayed" in fidelity_line("thilak2022_slingshot")
    line = fidelity_line("power2022")
    section = PaperSection("power2022", "t", "Power et al.", "grokked", [], fidelity=line)
    assert "docs/fidelity.md, row power2022" in _paper_line(section)
