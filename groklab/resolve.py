"""From a preset's name (or a config file) to a validated RunConfig."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from groklab.config import ConfigError, RunConfig, apply_overrides, config_to_dict, load_config_dict, validate_config
from groklab.config.overrides import set_values
from groklab.presets import Preset, discover
from groklab.probes import check_probes


def get_preset(name: str) -> Preset:
    """A preset by id or alias (with a did-you-mean error)."""
    return discover().get(name)


def resolve(
    preset: str | None = None,
    scale: str = "quick",
    overrides: list[str] | None = None,
    config_file: Path | None = None,
    seed: int | None = None,
    device: str | None = None,
) -> RunConfig:
    """Build and validate a RunConfig from a preset scale or a config file, plus overrides.

    Every problem is collected into one ConfigError before anything runs.
    """
    if config_file is not None:
        base = load_config_dict(config_file)
    elif preset is not None:
        try:
            chosen = get_preset(preset)
            base = chosen.config_dict(scale)
        except KeyError as err:
            raise ConfigError([str(err).strip("'\"")]) from None
    else:
        raise ConfigError(["name a preset (see `groklab papers`) or pass --config FILE"])
    extra = list(overrides or [])
    extra += [f"seed={seed}"] if seed is not None else []
    extra += [f"device={device}"] if device is not None else []
    return validate_run_config(apply_overrides(base, extra))


def validate_run_config(data: dict) -> RunConfig:
    """A RunConfig from a config dict, or one ConfigError naming every problem: the schema's, then those of
    the probes it lists."""
    return check_probes(validate_config(data))


def derive(cfg: RunConfig, changes: dict[str, Any]) -> RunConfig:
    """`cfg` with the dotted keys of `changes` set to typed values (e.g. {"train.steps": 500}), validated again
    as a whole: how studies build their runs' configs from a resolved one."""
    return validate_run_config(set_values(config_to_dict(cfg), changes))
