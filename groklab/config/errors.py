"""ConfigError: every problem with a config, reported at once."""

from __future__ import annotations


class ConfigError(ValueError):
    """A config that cannot run. Holds all problems found, one line each, and the file it was read from, if any."""

    def __init__(self, problems: list[str], source: object = None) -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(self.__str__())

    def __str__(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the config{'' if self.source is None else f' {self.source}'}:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])
