"""Typed configs: schema, overrides, YAML I/O and errors."""

from groklab.config.errors import ConfigError
from groklab.config.io import (
    config_changes,
    config_hash,
    config_to_dict,
    dump_config,
    flat_config,
    load_config,
    load_config_dict,
)
from groklab.config.overrides import apply_overrides, validate_config
from groklab.config.schema import RunConfig

__all__ = [
    "ConfigError", "RunConfig", "apply_overrides", "validate_config",
    "config_changes", "config_hash", "config_to_dict", "dump_config", "flat_config", "load_config", "load_config_dict",
]
