"""Reading and writing configs as YAML."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from groklab.common.files import write_atomic
from groklab.config.errors import ConfigError
from groklab.config.overrides import validate_config
from groklab.config.schema import RunConfig


def config_to_dict(cfg: RunConfig) -> dict[str, Any]:
    """Plain JSON-compatible dict of a config (tuples become lists)."""
    return cfg.model_dump(mode="json")


def dump_config(cfg: RunConfig, path: Path) -> None:
    """Write the resolved config as YAML."""
    write_atomic(path, yaml.safe_dump(config_to_dict(cfg), sort_keys=False))


def load_config_dict(path: Path) -> dict[str, Any]:
    """Read a YAML config file into a dict, with a clear error for a missing or malformed file."""
    if not path.is_file():
        raise ConfigError([f"config file {path} does not exist"])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise ConfigError([f"config file {path} is not UTF-8 text (byte {err.start}): it is damaged or not a "
                           "config; restore it (config.yaml of a run is written once, before training)"]) from None
    except yaml.YAMLError as err:
        raise ConfigError([f"config file {path} is not valid YAML: {err}"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"config file {path} must hold a mapping of config groups, found {type(data).__name__}"])
    return data


def load_config(path: Path) -> RunConfig:
    """The config in a YAML file, validated; a config that does not validate names the file it came from."""
    data = load_config_dict(path)
    try:
        return validate_config(data)
    except ConfigError as err:
        raise ConfigError(err.problems, source=path) from None


def config_hash(cfg: RunConfig) -> str:
    """Short stable hash of the resolved config (seed and device included)."""
    blob = json.dumps(config_to_dict(cfg), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:10]


def config_changes(saved: RunConfig, wanted: RunConfig, ignored: tuple[str, ...] = ("device",)) -> list[str]:
    """'key: saved -> wanted' for every dotted key whose value differs between two configs, `ignored` aside."""
    before, after = flat_config(config_to_dict(saved)), flat_config(config_to_dict(wanted))
    return [f"{key}: {before.get(key)} -> {after.get(key)}" for key in sorted(before.keys() | after.keys())
            if key not in ignored and before.get(key) != after.get(key)]


def flat_config(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'model.d_model': 128, ...} from a nested config dict."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out |= flat_config(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out
