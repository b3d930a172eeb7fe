"""Config validation: every problem named, with the fix, before any work starts."""

import pytest
import yaml

from groklab import api
from groklab.config import ConfigError, apply_overrides, validate_config
from groklab.resolve import validate_run_config
from tests.conftest import groklab_cli


def problems(data, overrides=()):
    with pytest.raises(ConfigError) as info:
        validate_run_config(apply_overrides(data, list(overrides)))
    return info.value.problems


def test_unknown_key_names_the_closest_valid_key(tiny):
    [problem] = problems(tiny, ["optim.lrr=1e-3"])
    assert problem.startswith("optim.lrr: unknown key")
    assert "Did you mean 'optim.lr'?" in problem


def test_unknown_group_names_the_closest_group(tiny):
    [problem] = problems(tiny, ["optimm.lr=1"])
    assert "Did you mean 'optim'?" in problem


def test_unknown_key_inside_a_union_member(tiny):
    [problem] = problems(tiny, ["model.d_modle=64"])
    assert "Did you mean 'model.d_model'?" in problem


def test_bad_type_and_range_name_what_is_allowed(tiny):
    found = problems(tiny, ["optim.lr=-1", "train.steps=many", "optim.name=adamm"])
    text = "\n".join(found)
    assert "optim.lr: Input should be greater than 0" in text
    assert "train.steps: Input should be a valid integer" in text
    assert "'adamw', 'adam' or 'sgd'" in text
    assert len(found) == 3  # all at once


def test_division_by_non_prime_modulus_is_refused(tiny):
    [problem] = problems(tiny, ["task.operation=x/y", "task.p=96"])
    assert "needs a prime modulus" in problem and "p=96" in problem


@pytest.mark.parametrize("frac", ["0", "1", "1.5", "-0.2"])
def test_train_fraction_outside_open_interval(tiny, frac):
    [problem] = problems(tiny, [f"task.train_frac={frac}"])
    assert problem.startswith("task.train_frac")


def test_batch_larger_than_training_set(tiny):
    [problem] = problems(tiny, ["train.batch_size=100000"])
    assert "larger than the training set" in problem and "batch_size<=" in problem


def test_unknown_task_kind_suggests(tiny):
    [problem] = problems(tiny, ["task.name=pair_summ"])
    assert "Did you mean 'pair_sum'?" in problem


def test_a_group_without_name_takes_the_default_kind():
    cfg = validate_config({"task": {"p": 31}, "model": {"d_model": 32, "n_heads": 2}})
    assert cfg.task.name == "modular" and cfg.model.name == "transformer"


@pytest.mark.parametrize("overrides,fragment", [
    (["eval.probes=[rqi]"], "needs model.name=repr_mlp"),
    (["eval.probes=[fourier]"], "needs model.name=mlp"),
    (["optim.embedding_lr=1e-3", "model={name: mlp}"], "need a model with an embedding"),
    (["model={name: linear}"], "needs real-valued inputs"),
    (["task={name: linear_teacher}", "model={name: linear}"], "regression task"),
    (["task.n_terms=3", "task.operation=x*y"], "only defined for operation x+y"),
])
def test_combinations_that_cannot_work_are_refused(tiny, overrides, fragment):
    [problem] = problems(tiny, overrides)
    assert fragment in problem


def test_unknown_model_kind_suggests(tiny):
    [problem] = problems(tiny, ["model.name=transformr"])
    assert "Did you mean 'transformer'?" in problem


def test_malformed_override():
    with pytest.raises(ConfigError, match="key=value"):
        apply_overrides({}, ["optim.lr"])


def test_values_are_coerced_through_the_schema(tiny):
    cfg = validate_config(apply_overrides(tiny, ["optim.lr=1e-3", "train.batch_size=null", "optim.betas=[0.8,0.9]"]))
    assert cfg.optim.lr == 1e-3 and cfg.train.batch_size is None and cfg.optim.betas == (0.8, 0.9)


def test_unknown_preset_suggests():
    with pytest.raises(Exception, match="Did you mean: nanda2023"):
        api.resolve("nanda2032")


def test_cli_typo_fails_fast_naming_the_key(tmp_path):
    proc = groklab_cli("run", "nanda2023", "optim.lrr=1e-3", "--out", str(tmp_path / "r"))
    assert proc.returncode != 0
    assert "optim.lr" in proc.stderr and "Did you mean" in proc.stderr
    assert not (tmp_path / "r").exists()  # nothing was created


def test_cli_dry_run_prints_resolved_config(tmp_path):
    proc = groklab_cli("run", "03", "--dry-run", "optim.lr=2e-3", "--seed", "7", check=True)
    cfg = yaml.safe_load(proc.stdout)
    assert cfg["optim"]["lr"] == 2e-3 and cfg["seed"] == 7 and cfg["preset"] == "nanda2023"


def test_config_file_written_by_a_run_reruns(tmp_path, tiny):
    cfg = validate_config(tiny)
    from groklab.config import dump_config, load_config

    dump_config(cfg, tmp_path / "config.yaml")
    assert load_config(tmp_path / "config.yaml") == cfg
    (tmp_path / "bad.yaml").write_text("task: [1, 2")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")
