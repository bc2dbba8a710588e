"""The options that more than one command takes (`summarize`, `summarize serve`, `summarize check`),
each declared here once: the commands' dataclasses call these for a field, so a flag, its default
and its help cannot drift apart between commands."""

from __future__ import annotations

from typing import Any

from summarize.inputs.reading import MAX_INPUT_CHARS
from summarize.options import option


def output_format() -> Any:
    return option(None, "--format", "-f", show_default=False, help="Output format \\[default: rich on a terminal, plain otherwise].")


def translate() -> Any:
    return option(
        None,
        "--translate/--no-translate",
        show_default=False,
        help="Translate the summaries to English (a server's requests may still ask translate=false) \\[default: from models.toml, on].",
    )


def strict() -> Any:
    return option(
        False,
        "--strict",
        help="A model that is not on this machine is an error (a server does not start), instead of falling back to the extractive engine "
        "and skipping translation.",
    )


def max_input_chars() -> Any:
    return option(MAX_INPUT_CHARS, "--max-input-chars", min=1, help="Refuse articles longer than this many characters.")


def text_field() -> Any:
    return option("text", "--text-field", help="Datasets: the field holding the article.")


def id_field() -> Any:
    return option("id", "--id-field", help="Datasets: the field holding each record's unique id (the record number when absent).")


def overwrite() -> Any:
    return option(False, "--overwrite", help="Replace an existing --output file (without it, an existing one is refused: nothing is replaced by mistake).")
