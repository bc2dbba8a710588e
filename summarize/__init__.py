"""summarize: a Russian news article in, a Russian summary and its English translation out.

Library use (models load on the first call of a Summarizer and stay loaded):

    from summarize import Summarizer
    summarizer = Summarizer()                 # the presets of models.toml
    result = summarizer("Москва, 3 марта. …")  # a Result: summary_ru, summary_en, warnings, …

Nothing heavy is imported here: torch and transformers load only when a model runs.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from summarize.errors import SummarizeError

if TYPE_CHECKING:
    from summarize.documents import Result

__all__ = ["Summarizer", "SummarizeError", "summarize_text"]


class Summarizer:
    """Loaded models plus settings; call it on texts. Keyword arguments are those of the CLI."""

    def __init__(self, config: str | None = None, translate: bool | None = None, strict: bool = False, **choices: Any):
        from summarize.config import load_config
        from summarize.options import choices_from, make_options
        from summarize.pipeline import Pipeline

        _check_arguments(config=(config, (str, os.PathLike, type(None))), translate=(translate, (bool, type(None))), strict=(strict, bool))
        self.pipeline = Pipeline(make_options(load_config(config), choices_from(choices), translate, strict))

    def __call__(self, text: str, source: str = "text") -> Result:
        """The text checked as the CLI checks a file's (empty, binary, too long: a SummarizeError), then summarised."""
        from dataclasses import replace

        from summarize.config import MAX_INPUT_CHARS
        from summarize.inputs.given import text_document

        _check_arguments(text=(text, str), source=(source, str))
        result = self.pipeline.run(replace(text_document(text, None, MAX_INPUT_CHARS), source=source))
        result.id = source  # as every sink keys a text that is no dataset record
        return result


def _check_arguments(**given: tuple[Any, type | tuple[type, ...]]) -> None:
    """Each argument of its type, or one SummarizeError naming it: `translate="no"` is not True."""
    for name, (value, kinds) in given.items():
        if not isinstance(value, kinds) or (kinds is bool and type(value) is not bool):
            raise SummarizeError(f"{name}={value!r}: must be {_kind_names(kinds)}")


def _kind_names(kinds: type | tuple[type, ...]) -> str:
    names = {bool: "True or False", str: "text", os.PathLike: "a path", type(None): "None"}
    return " or ".join(names.get(kind, kind.__name__) for kind in (kinds if isinstance(kinds, tuple) else (kinds,)))


def summarize_text(text: str, **options: Any) -> Result:
    """One-off summary; for many texts keep a Summarizer so that the models load once."""
    return Summarizer(**options)(text)
