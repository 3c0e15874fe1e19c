"""Progress display for seeding: a rich bar per unit on a terminal, nothing
otherwise (pipes, CI logs, tests)."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.progress import TaskID

__all__ = ["NoProgress", "SeedProgress", "TerminalProgress", "progress_for"]


class SeedProgress(Protocol):
    """What the seeder reports while it runs: one task per unit."""

    def __enter__(self) -> SeedProgress: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    def start(self, name: str, owners: int) -> None:
        """A unit begins; it will yield ``owners`` groups of records."""

    def advance(self, owners: int, documents: int) -> None:
        """``owners`` more groups, holding ``documents`` records, were handled."""

    def finish(self) -> None:
        """The current unit is done."""


class NoProgress:
    """Shows nothing."""

    def __enter__(self) -> NoProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None

    def start(self, name: str, owners: int) -> None:
        """Nothing to show."""

    def advance(self, owners: int, documents: int) -> None:
        """Nothing to show."""

    def finish(self) -> None:
        """Nothing to show."""


class TerminalProgress:
    """A rich progress bar per unit, counting owners done and records written."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[documents]:>9,} records"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task: TaskID | None = None
        self._documents = 0

    def __enter__(self) -> TerminalProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def start(self, name: str, owners: int) -> None:
        """Add a bar for the unit."""
        self._documents = 0
        self._task = self._progress.add_task(name, total=owners, documents=0)

    def advance(self, owners: int, documents: int) -> None:
        """Move the unit's bar."""
        self._documents += documents
        if self._task is not None:
            self._progress.update(self._task, advance=owners, documents=self._documents)

    def finish(self) -> None:
        """Fill the unit's bar."""
        if self._task is not None:
            total = self._progress.tasks[-1].total
            self._progress.update(self._task, completed=total)


def progress_for(show: bool | None = None) -> SeedProgress:
    """Bars when ``show`` is true, or (``None``) when stderr is a terminal."""
    if show is None:
        show = sys.stderr.isatty()
    return TerminalProgress() if show else NoProgress()
