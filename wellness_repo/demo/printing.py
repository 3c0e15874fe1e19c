"""How the demo prints: numbered sections, short facts and small tables, drawn
with rich on a terminal and as plain text anywhere else (a pipe, a test).

Only what the pathway chose to show is printed; no record is printed whole, so no
note, journal text or contact detail reaches the screen by accident.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table

__all__ = ["PathwayPrinter"]


class PathwayPrinter:
    """Prints the care pathway as the demo walks it."""

    def __init__(self, out: TextIO) -> None:
        self._console = Console(
            file=out, highlight=False, soft_wrap=True, emoji=False, width=100
        )
        self._sections = 0

    def section(self, title: str) -> None:
        """Start the next numbered step of the pathway."""
        self._sections += 1
        self._console.print()
        self._console.rule(f"[bold]{self._sections}. {title}", align="left")

    def fact(self, text: str) -> None:
        """One line of what just happened."""
        self._console.print(f"   {text}", markup=False)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """A small table of values the pathway chose to show."""
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1))
        for header in headers:
            table.add_column(header)
        for row in rows:
            table.add_row(*(str(value) for value in row))
        self._console.print(table)
