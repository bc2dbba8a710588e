"""The reports that commands print on stdout besides results: `summarize eval`'s scores and
`summarize models list`'s presets. The format_* functions are pure (a table or text, nothing
written); the print_* functions write them to stdout."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from summarize.config import ScoreFormat
from summarize.outputs.printable import one_line

if TYPE_CHECKING:
    from rich.table import Table


def format_scores_json(report: dict[str, Any]) -> str:
    """One JSON object, for scripts."""
    return json.dumps(report, ensure_ascii=False)


def format_scores_table(report: dict[str, Any]) -> Table:
    """Each score on a row of its own; a score with nothing to measure (None) as '-'. The data's and the
    predictions' names are the user's (a file may be named `[red]x.jsonl`, or hold an escape): cells are
    text, never rich markup, and nothing raw reaches the terminal."""
    from rich.table import Table

    table = Table("", "", title="summarize eval", show_header=False)
    for key, value in report.items():
        table.add_row(_cell(key), _cell("-" if value is None else str(value)))
    return table


def format_presets_tsv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Tab-separated lines, the header first: nothing cut to a terminal's width."""
    return "".join("\t".join(row) + "\n" for row in (header, *rows))


def format_presets_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    from rich.table import Table

    table = Table()
    for name in header:
        table.add_column(name, overflow="fold")  # long names wrap in their cell, never cut
    for row in rows:
        table.add_row(*(_cell(value) for value in row))  # preset names come from the user's models.toml
    return table


def _cell(value: str) -> Any:
    """A table cell shown as it is: literal text, one line, control characters escaped."""
    from rich.text import Text

    return Text(one_line(value))


def print_scores(report: dict[str, Any], fmt: ScoreFormat) -> None:
    if fmt is ScoreFormat.json:
        print(format_scores_json(report))
    else:
        _console().print(format_scores_table(report))


def print_presets(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table at a terminal; scripts get tab-separated lines."""
    out = _console()
    if out.is_terminal:
        out.print(format_presets_table(header, rows))
    else:
        print(format_presets_tsv(header, rows), end="")


def _console():
    from rich.console import Console

    return Console(highlight=False)
