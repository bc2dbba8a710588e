"""Pure formatters: a Result becomes text in each output format. Nothing here writes anywhere
(outputs.py does), so the same text goes to a terminal, a pipe or a file."""

from __future__ import annotations

import html
import io
import json
import re
import unicodedata
from dataclasses import replace

from summarize.config import Choice
from summarize.documents import Result
from summarize.text import group_digits


class Format(Choice):
    rich = "rich"  # a panel per input, for people
    plain = "plain"  # the summaries alone, for pipes
    markdown = "markdown"
    md = "markdown"  # an alias (`-f md`): the same member
    json = "json"  # one object, or an array for several inputs
    jsonl = "jsonl"  # one object per line, as each input finishes


EXTENSIONS = {Format.rich: ".txt", Format.plain: ".txt", Format.markdown: ".md", Format.json: ".json", Format.jsonl: ".jsonl"}
# Text formats leave failed inputs to stderr; the machine formats record them beside the results.
SHOWS_ERRORS = {Format.json, Format.jsonl}
FILE_WIDTH = 100  # rich panels written to files


def format_result(fmt: Format, result: Result, many: bool = False, width: int = FILE_WIDTH, color_system: str | None = None, warnings: bool = True) -> str:
    """One result as `fmt` text. `many`: one of several inputs (plain adds headers); `width` and
    `color_system` are for rich panels (a terminal's, or a file's: no colour); `warnings=False`
    leaves them out of rich and markdown, where the same terminal shows them on stderr already."""
    shown = result if warnings else replace(result, warnings=[])
    if fmt is Format.plain:
        return _plain(result, many)
    if fmt is Format.markdown:
        return _markdown(shown)
    if fmt is Format.rich:
        return _rich(shown, width, color_system)
    if fmt is Format.json:
        return json_document(result.to_dict())
    return json.dumps(result.to_dict(), ensure_ascii=False) + "\n"


def printable(text: str) -> str:
    """Text safe for a terminal: control characters (an escape sequence in a file name, say) are
    shown as \\x1b-style escapes instead of acting; new lines and tabs stay."""
    return "".join(c if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf") else repr(c)[1:-1] for c in text)


def one_line(text: str) -> str:
    """A name for a header, which is one line: printable, with line breaks and tabs shown as \\n, \\t."""
    return printable(text).replace("\n", "\\n").replace("\t", "\\t")


def _markdown_text(text: str) -> str:
    """Text as Markdown shows it literally: no raw HTML, no markup (emphasis, strike-through, code,
    links, headings, tables) from a name or a summary."""
    return re.sub(r"([\\`*_~\[\]#|])", r"\\\1", html.escape(printable(text), quote=False))


def json_document(data: dict | list) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def footer(result: Result) -> str:
    """Input tokens, truncation or chunking, models and time, in one line."""
    parts = []
    if result.input_tokens is not None:
        if result.truncated:
            parts.append(f"summarised {group_digits(result.used_tokens or 0)} of {group_digits(result.input_tokens)} tokens (truncated)")
        else:
            parts.append(f"{group_digits(result.input_tokens)} tokens")
    if result.chunks > 1:
        parts.append(f"{result.chunks} chunks, map-reduce")
    summariser = result.model or {"extractive": "extractive (LexRank)", "lead": "lead sentences"}.get(result.engine or "")
    if result.model and result.backend:
        summariser += f" ({result.backend})"
    parts.append(" → ".join(m for m in (summariser, result.translator) if m))
    parts.append(f"{result.seconds:.1f} s")
    return " · ".join(p for p in parts if p)


def _plain(result: Result, many: bool) -> str:
    head = f"==> {one_line(result.source)} <==\n" if many else ""
    body = result.summary_ru or ""
    if result.summary_en is not None:
        body += "\n\n" + result.summary_en
    return printable(f"{head}{body}\n" + ("\n" if many else ""))


def _markdown(result: Result) -> str:
    lines = [f"## {_markdown_text(one_line(result.source))}", ""]
    if result.title:
        lines += [f"### {_markdown_text(one_line(result.title))}", ""]
    lines += ["**Русский**", "", _markdown_text(result.summary_ru or ""), ""]
    if result.summary_en is not None:
        lines += ["**English**", "", _markdown_text(result.summary_en), ""]
    lines += [f"<sub>{_markdown_text(footer(result))}</sub>", ""]
    lines += [f"> ⚠ {_markdown_text(one_line(w))}" for w in result.warnings] + ([""] if result.warnings else [])
    return "\n".join(lines) + "\n"


def _rich(result: Result, width: int, color_system: str | None) -> str:
    from rich.console import Console, Group
    from rich.panel import Panel
    from rich.text import Text

    parts = [Text(one_line(result.title), style="bold"), Text("")] if result.title else []
    parts += [Text("Русский", style="bold cyan"), Text(printable(result.summary_ru or ""))]
    if result.summary_en is not None:
        parts += [Text(""), Text("English", style="bold green"), Text(printable(result.summary_en))]
    parts += [Text(""), Text(printable(footer(result)), style="dim")]
    parts += [Text(printable(f"⚠ {w}"), style="yellow") for w in result.warnings]
    panel = Panel(Group(*parts), title=Text(one_line(result.source), style="bold"), title_align="left")
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system=color_system,
        force_terminal=color_system is not None,
        soft_wrap=False,
        highlight=False,
    )
    console.print(panel)
    return buffer.getvalue()
