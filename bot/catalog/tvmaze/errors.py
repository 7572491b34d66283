"""What can go wrong in an import: every failure is one line for the person running it."""

from __future__ import annotations

from pathlib import Path


class ImportFailure(Exception):
    """An import that cannot go on; the message is one line for the person running it."""


class NoMatch(ImportFailure):
    def __init__(self, query: str, suggestions: list[str]) -> None:
        self.query = query
        self.suggestions = suggestions
        if suggestions:
            closest = "; ".join(suggestions)
            message = f"no TVmaze show matches {query!r}. Closest search results: {closest}"
        else:
            message = f"no TVmaze show matches {query!r}, and TVmaze's search found nothing close"
        super().__init__(message)


class Ambiguous(ImportFailure):
    """TVmaze's best match is not the title asked for: never import it silently."""

    def __init__(self, query: str, best: str, choices: list[str]) -> None:
        self.query = query
        self.best = best
        self.choices = choices
        listed = "; ".join(choices) if choices else best
        super().__init__(
            f"TVmaze's best match for {query!r} is {best!r}, a different title; nothing was imported. "
            f"Run again with --id ID for the show you mean: {listed}"
        )


class NetworkFailure(ImportFailure):
    pass


class UnexpectedData(ImportFailure):
    def __init__(self, where: str, what: str) -> None:
        self.where = where
        super().__init__(f"TVmaze's answer is not in the expected shape: {where}: {what}")


class InvalidPack(ImportFailure):
    def __init__(self, path: Path, problems: list[str]) -> None:
        self.problems = problems
        first = problems[0] if problems else "unknown problem"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"the imported pack for {path} would not validate, so nothing was written: {first}{more}")
