"""What every command prints with: the exit codes and a message in zh then en."""

from __future__ import annotations

import sys

EXIT_OK, EXIT_ISSUES, EXIT_USAGE, EXIT_WRITE = 0, 1, 2, 3


class UsageError(Exception):
    """A problem the user can fix; printed as a message, exit 2."""


def say(zh: str, en: str, *, err: bool = False) -> None:
    """Print ``zh`` and, indented below it, ``en`` (to stderr when ``err``)."""
    print(f"{zh}\n  {en}", file=sys.stderr if err else sys.stdout)
