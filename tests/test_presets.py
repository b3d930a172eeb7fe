"""Contract tests over the preset registry (not a folder listing)."""

import pkgutil

import pytest
import torch

import groklab.papers
from groklab import api
from groklab.objective import Objective
from groklab.presets import discover
from groklab.tasks import build_task
from groklab.train.trainer import build_model_for

PRESETS = api.presets()
CASES = [(p.id, scale) for p in PRESETS for scale in p.scales]


def test_every_paper_module_defines_exactly_one_registered_preset():
    modules = [m.name for m in pkgutil.iter_modules(groklab.papers.__path__)]
    registry = discover()
    assert len(registry) == len(modules) == len(PRESETS)
    aliases = [p.alias for p in PRESETS]
    assert len(set(aliases)) == len(aliases)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.id)
def test_preset_metadata(preset):
    assert {"quick", "canonical"} <= set(preset.scales)
    assert preset.citation and preset.url and preset.version >= 1 and preset.notes
    assert preset.reported.outcome in ("grokked", "generalized", "memorizing", "not_learning")


@pytest.mark.parametrize("preset_id,scale", CASES)
def test_scale_validates_builds_and_trains_two_steps(preset_id, scale):
    cfg = api.resolve(preset_id, scale, overrides=["device=cpu"])
    assert cfg.preset == preset_id and cfg.scale == scale
    data = build_task(cfg.task, cfg.seed)
    objective = Objective(cfg)
    model = build_model_for(cfg, data, objective)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.optim.lr)
    batch = min(cfg.train.batch_size or 256, 32)  # a canonical 60M-parameter model steps in a second
    losses = []
    for _ in range(2):
        loss = objective.loss(model(data.train_x[:batch]), data.train_y[:batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(torch.isfinite(torch.tensor(losses)))


def test_alias_resolves_to_the_same_config():
    assert api.resolve("03") == api.resolve("nanda2023")
    assert api.resolve("01", "canonical") == api.resolve("power2022", "canonical")


STUDIES = [(p.id, name) for p in PRESETS for name in p.studies]


@pytest.mark.parametrize("preset_id,study", STUDIES)
def test_every_point_of_every_preset_study_validates(preset_id, study):
    """`groklab suite` runs these grids: a point that fails validation would stop the suite's study."""
    from groklab.studies.sweeps import resolve_points

    chosen = api.get_preset(preset_id).studies[study]
    spec = api.sweep_spec(preset_id, api.study_arguments(chosen), chosen.scale, chosen.seeds)
    points = resolve_points(spec, lambda preset, scale, overrides, seed: api.resolve(
        preset, scale, overrides=overrides, seed=seed))
    assert len(points) == len(spec.points()) >= 2
