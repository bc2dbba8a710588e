"""What a person sees on stderr: one line per notice, each starting with the program's name, and a
progress bar for batches at a terminal. Results never go here (stdout is theirs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

from summarize.outputs.printable import one_line, printable


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def say(line: str) -> None:
    """One line on stderr (a usage error's), with nothing raw in it: a line break in a name or an id is
    shown as \\n, so that it cannot start a line that looks like the program's own."""
    stderr().print(one_line(line), markup=False)


def notifier(err: Console) -> Callable[[str], None]:
    """Lines on stderr, each starting with the program's name (no rich markup, no raw control characters)."""

    def notify(message: str) -> None:
        err.print(printable(f"summarize: {message}"), markup=False)

    return notify


@contextmanager
def progress(err: Console, total: int) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr for batch runs at a terminal; yields the step function."""
    if total < 2 or not err.is_terminal:
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("summarising"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("summarising", total=total)
        yield lambda: bar.advance(task)
