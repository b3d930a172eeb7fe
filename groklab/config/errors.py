"""ConfigError: every problem with a config, reported at once."""

from __future__ import annotations


class ConfigError(ValueError):
    """A config that cannot run. Holds all problems found, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(self.__str__())

    def __str__(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the config:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])
