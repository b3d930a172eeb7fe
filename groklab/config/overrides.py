"""Dotted `key=value` overrides and validation with errors a person can act on."""

from __future__ import annotations

import copy
import difflib
import types
import typing
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from groklab.config.errors import ConfigError
from groklab.config.schema import RunConfig


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split 'optim.lr=1e-3' into (['optim', 'lr'], 0.001). Values are read as YAML."""
    key, sep, raw = text.partition("=")
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError([f"override {text!r} is not of the form key=value (e.g. optim.lr=1e-3)"])
    # YAML reads 1e-3 as a string; pydantic then coerces it to the field's type.
    return key.split("."), yaml.safe_load(raw) if raw.strip() else None


def apply_overrides(base: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of `base` with each dotted override ('optim.lr=1e-3') set (nested dicts are created)."""
    changes, problems = {}, []
    for text in overrides:
        try:
            path, value = parse_override(text)
        except ConfigError as err:
            problems.extend(err.problems)
            continue
        changes[".".join(path)] = value
    if problems:
        raise ConfigError(problems)
    return set_values(base, changes)


def set_values(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of `base` with each dotted key of `changes` set to its (typed) value."""
    data = copy.deepcopy(base)
    for key, value in changes.items():
        path = key.split(".")
        node = data
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[path[-1]] = value
    return data


def _model_classes(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic model classes inside an annotation (unwrapping Annotated and unions)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_classes(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [cls for arg in typing.get_args(annotation) for cls in _model_classes(arg)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def _tag(cls: type[BaseModel]) -> Any:
    field = cls.model_fields.get("name")
    return field.default if field is not None else None


def _walk(loc: tuple[Any, ...]) -> tuple[list[str], type[BaseModel] | None]:
    """Turn a pydantic error location into a dotted path (union tags dropped) and the model at its end."""
    cls: type[BaseModel] | None = RunConfig
    path: list[str] = []
    pending: list[type[BaseModel]] = []
    for item in loc:
        if pending:  # item is a discriminator tag choosing one variant
            chosen = [c for c in pending if _tag(c) == item]
            pending = []
            if chosen:
                cls = chosen[0]
                continue
        path.append(str(item))
        if cls is None or str(item) not in cls.model_fields:
            cls = None
            continue
        classes = _model_classes(cls.model_fields[str(item)].annotation)
        if len(classes) == 1:
            cls = classes[0]
        elif classes:
            pending, cls = classes, None
        else:
            cls = None
    return path, cls


def _describe(error: dict[str, Any]) -> str:
    path, _ = _walk(error["loc"])
    where = ".".join(path) or "config"
    if error["type"] == "extra_forbidden":
        parent_path, parent = _walk(error["loc"][:-1])
        prefix = ".".join(parent_path)
        valid = sorted(parent.model_fields) if parent else []
        close = difflib.get_close_matches(path[-1], valid, n=1, cutoff=0.4)
        hint = f" Did you mean '{prefix + '.' if prefix else ''}{close[0]}'?" if close else ""
        return f"{where}: unknown key.{hint} Valid keys{' in ' + prefix if prefix else ''}: {', '.join(valid)}"
    if error["type"] == "union_tag_invalid":
        ctx = error["ctx"]
        tags = [t.strip(" '") for t in ctx["expected_tags"].split(",")]
        hint = difflib.get_close_matches(str(ctx["tag"]), tags, n=1, cutoff=0.4)
        did = f" Did you mean '{hint[0]}'?" if hint else ""
        return f"{where}.name: unknown {where} '{ctx['tag']}'.{did} Available: {', '.join(tags)}"
    if error["type"] == "union_tag_not_found":
        return f"{where}.name: required to choose the kind of {where}"
    if error["type"] == "missing":
        return f"{where}: required but not given"
    message = error["msg"].removeprefix("Value error, ")
    got = error.get("input")
    shown = "" if isinstance(got, dict) or error["type"].startswith("value_error") else f" (got {got!r})"
    return f"{where}: {message}{shown}"


def validate_config(data: dict[str, Any]) -> RunConfig:
    """Validate a config dict, raising one ConfigError that lists every problem."""
    try:
        return RunConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError([_describe(e) for e in err.errors()]) from None
