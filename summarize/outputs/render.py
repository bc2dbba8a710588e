"""Pure formatters: a Result becomes text in each output format. Nothing here writes anywhere
(outputs.py does), so the same text goes to a terminal, a pipe or a file."""

from __future__ import annotations

import html
import io
import json
import re
from dataclasses import replace

from summarize.config import Format
from summarize.documents import Checked, CheckedSummaries, Result, Unsupported
from summarize.language_names import language_name
from summarize.outputs.printable import one_line, printable
from summarize.text import group_digits

EXTENSIONS = {Format.rich: ".txt", Format.plain: ".txt", Format.markdown: ".md", Format.json: ".json", Format.jsonl: ".jsonl"}
# Text formats leave failed inputs to stderr; the machine formats record them beside the results.
SHOWS_ERRORS = {Format.json, Format.jsonl}
FILE_WIDTH = 100  # rich panels written to files
# The summary check's flags (Result.unsupported) in words, by the summary they are in.
UNSUPPORTED_LABELS = {"summary_ru": "Not in the article", "summary_en": "Changed in the translation"}
MISSING = "(no translation: see the warnings)"  # a target whose model was not available
FLAG_STYLE = "reverse yellow"  # a flagged span in a rich panel's summary


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


def format_row(
    fmt: Format, row: Result | CheckedSummaries, many: bool = False, width: int = FILE_WIDTH, color_system: str | None = None, warnings: bool = True
) -> str:
    """What a sink writes of a row as `fmt` text: a summarize Result, or a summarize check record
    (with the summaries its rich panel marks)."""
    if isinstance(row, Result):
        return format_result(fmt, row, many, width, color_system, warnings)
    return format_checked(fmt, row, row.summary_ru, row.summary_en, width, color_system)


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
    summariser = result.model or {"extractive": "extractive (LexRank × position)", "lead": "lead sentences"}.get(result.engine or "")
    if result.model and result.backend:
        summariser += f" ({result.backend})"
    translators = ", ".join(dict.fromkeys(result.translators)) if result.translators else result.translator  # each --to target's
    reader = f"{result.source_translator} (into Russian)" if result.source_translator else None
    parts.append(" → ".join(m for m in (reader, summariser, translators) if m))
    parts.append(f"{result.seconds:.1f} s")
    return " · ".join(p for p in parts if p)


def unsupported_lines(unsupported: list[Unsupported] | None) -> list[str]:
    """The check's flags in words, one line per summary: `Not in the article: "Москва" (name), "15%" (number)`."""
    return [f"{label}: {spans}" for label, spans in _flag_groups(unsupported)]


def _flag_groups(unsupported: list[Unsupported] | None) -> list[tuple[str, str]]:
    groups = []
    others = dict.fromkeys(flag["field"] for flag in unsupported or [] if flag["field"] not in UNSUPPORTED_LABELS)
    labels = UNSUPPORTED_LABELS | {field: f"Changed in the translation into {language_name(field.removeprefix('summary_'))}" for field in others}
    for field, label in labels.items():
        spans = [f'"{one_line(flag["text"])}" ({one_line(flag["kind"])})' for flag in unsupported or [] if flag["field"] == field]
        if spans:
            groups.append((label, ", ".join(spans)))
    return groups


def shown_translations(result: Result) -> list[tuple[str, str, str | None]]:
    """(field, label, text) of each translation the text writers show, in --to order: a missing one
    too (None), except the lone English of --to en, which stays out as it always has."""
    translated = result.translated()
    lone = [code for code, _ in translated] == ["en"]
    return [(f"summary_{code}", language_name(code), text) for code, text in translated if text is not None or not lone]


def _plain(result: Result, many: bool) -> str:
    head = f"==> {one_line(result.source)} <==\n" if many else ""
    body = result.summary_ru or ""
    labelled = [code for code, _ in result.translated()] != ["en"]
    for _, label, text in shown_translations(result):
        body += "\n\n" + (f"{label}:\n" if labelled else "") + (MISSING if text is None else text)
    if flagged := unsupported_lines(result.unsupported):
        body += "\n\n" + "\n".join(flagged)
    return printable(f"{head}{body}\n" + ("\n" if many else ""))


def _markdown(result: Result) -> str:
    lines = [f"## {_markdown_text(one_line(result.source))}", ""]
    if result.title:
        lines += [f"### {_markdown_text(one_line(result.title))}", ""]
    lines += ["**Русский**", "", _markdown_text(result.summary_ru or ""), ""]
    for _, label, text in shown_translations(result):
        lines += [f"**{label}**", "", _markdown_text(MISSING if text is None else text), ""]
    for label, spans in _flag_groups(result.unsupported):
        lines += [f"**{_markdown_text(label)}:** {_markdown_text(spans)}", ""]
    lines += [f"<sub>{_markdown_text(footer(result))}</sub>", ""]
    lines += [f"> ⚠ {_markdown_text(one_line(w))}" for w in result.warnings] + ([""] if result.warnings else [])
    return "\n".join(lines) + "\n"


def _rich(result: Result, width: int, color_system: str | None) -> str:
    from rich.text import Text

    parts = [Text(one_line(result.title), style="bold"), Text("")] if result.title else []
    parts += _rich_summaries(result.summary_ru, shown_translations(result), result.unsupported)
    parts += [Text(""), Text(printable(footer(result)), style="dim")]
    parts += [Text(printable(f"⚠ {w}"), style="yellow") for w in result.warnings]
    return _panel(parts, result.source, width, color_system)


def _rich_summaries(summary_ru: str | None, translations: list[tuple[str, str, str | None]], unsupported: list[Unsupported] | None) -> list:
    """The summaries with the check's flagged spans marked where they stand, then the flags in words
    (which also name a span its summary does not hold as such: a number the translation dropped)."""
    from rich.text import Text

    parts = [Text("Русский", style="bold cyan"), _marked(summary_ru or "", "summary_ru", unsupported)]
    for field, label, text in translations:
        parts += [Text(""), Text(label, style="bold green"), _marked(text, field, unsupported) if text is not None else Text(MISSING, style="dim")]
    if flagged := unsupported_lines(unsupported):
        parts += [Text(""), *(Text(printable(line), style="yellow") for line in flagged)]
    return parts


def _marked(text: str, field: str, unsupported: list[Unsupported] | None):
    from rich.text import Text

    shown = Text(printable(text))
    for flag in unsupported or []:
        if flag["field"] == field and flag["text"]:  # where it stands as a whole word: a flagged "5" is not the 5 of "15"
            shown.highlight_regex(rf"(?<!\w){re.escape(printable(flag['text']))}(?!\w)", FLAG_STYLE)
    return shown


def format_checked(
    fmt: Format, checked: Checked, summary_ru: str | None, summary_en: str | None, width: int = FILE_WIDTH, color_system: str | None = None
) -> str:
    """One record of `summarize check` as `fmt` text: the machine formats give its row; plain and
    markdown a line naming what the check flagged; rich the summaries with the flagged spans marked
    (a record with nothing flagged: one line). Failed records are the caller's to leave to stderr."""
    if fmt in SHOWS_ERRORS:
        return json_document(checked.to_dict()) if fmt is Format.json else json.dumps(checked.to_dict(), ensure_ascii=False) + "\n"
    verdict = "; ".join(unsupported_lines(checked.unsupported)) or "nothing unsupported"
    if fmt is Format.plain:
        return f"{one_line(checked.id)}: {printable(verdict)}\n"
    if fmt is Format.markdown:
        return f"- **{_markdown_text(one_line(checked.id))}**: {_markdown_text(verdict)}\n"
    from rich.text import Text

    if not checked.unsupported:
        return _rendered(Text(f"{one_line(checked.id)}: {verdict}", style="green"), width, color_system)
    translations = [("summary_en", "English", summary_en)] if summary_en is not None else []
    return _panel(_rich_summaries(summary_ru, translations, checked.unsupported), checked.id, width, color_system)


def _panel(parts: list, title: str, width: int, color_system: str | None) -> str:
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    return _rendered(Panel(Group(*parts), title=Text(one_line(title), style="bold"), title_align="left"), width, color_system)


def _rendered(renderable: object, width: int, color_system: str | None) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system=color_system,
        force_terminal=color_system is not None,
        soft_wrap=False,
        highlight=False,
    )
    console.print(renderable)
    return buffer.getvalue()
