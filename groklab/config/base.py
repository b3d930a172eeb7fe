"""What every config group shares: unknown keys are errors, values are immutable, unions choose by `name`."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Discriminator


class Strict(BaseModel):
    """Base for all config groups: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, math.isqrt(n) + 1))


def named_union(default: str):
    """Union discriminator reading `name`, with a default variant when a group leaves it out."""

    def kind(value: Any) -> str:
        return value.get("name", default) if isinstance(value, dict) else getattr(value, "name", default)

    return Discriminator(kind)
