"""summarize: a Russian news article in, a Russian summary and its English translation out.

Library use (models load on the first call of a Summarizer and stay loaded):

    from summarize import Summarizer
    summarizer = Summarizer()                 # the presets of models.toml
    result = summarizer("Москва, 3 марта. …")  # a Result: summary_ru, summary_en, warnings, …

Nothing heavy is imported here: torch and transformers load only when a model runs.
"""

from __future__ import annotations

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

        self.pipeline = Pipeline(make_options(load_config(config), choices_from(choices), translate, strict))

    def __call__(self, text: str, source: str = "text") -> Result:
        from summarize.documents import Document

        result = self.pipeline.run(Document(source=source, text=text))
        result.id = source  # as every sink keys a text that is no dataset record
        return result


def summarize_text(text: str, **options: Any) -> Result:
    """One-off summary; for many texts keep a Summarizer so that the models load once."""
    return Summarizer(**options)(text)
