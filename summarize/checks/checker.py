"""The check run after each model summary: its names and numbers against the article, and the
numbers its English translation changed; and the same counts as eval's precision."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from summarize.checks.flags import Flag, Kind
from summarize.checks.names import Names
from summarize.checks.numbers import changed_digits, changed_in_translation, number_support, unsupported_numbers
from summarize.errors import first_line


class CheckUnavailable(Exception):
    """natasha, pymorphy3 or their data could not load: missing, or damaged (a truncated embedding
    file, a package that raises on import). Raised again, without retrying, on every later check:
    a load that failed once fails the same way for every article. Its __cause__ is the first error."""


# What a Checker raises when the check cannot load: no summary can be checked.
LOAD_ERRORS = (CheckUnavailable, ImportError, OSError)

# How a warning names each kind of span: (one, more than one).
KIND_WORDS: dict[Kind, tuple[str, str]] = {"name": ("name", "names"), "number": ("number", "numbers"), "date": ("date", "dates")}


@dataclass(frozen=True)
class Support:
    """(found, total) of a summary's names and of its numbers and dates, against its article."""

    names: tuple[int, int]
    numbers: tuple[int, int]


class Checker:
    """Names and numbers together; natasha loads on the first check, not before."""

    def __init__(self) -> None:
        self._names: Names | None = None
        self._failed: BaseException | None = None
        self._loading = threading.Lock()

    @property
    def names(self) -> Names:
        """natasha and pymorphy3, loaded once by whichever thread asks first; whatever the load
        raises (a damaged install raises anything) is CheckUnavailable, then and on every later call."""
        with self._loading:
            if self._names is None:
                if self._failed is None:
                    try:
                        self._names = Names()
                    except Exception as e:  # noqa: BLE001 - any error while loading means the check cannot load
                        self._failed = e
                if self._failed is not None:
                    raise CheckUnavailable(f"{type(self._failed).__name__}: {first_line(self._failed, 200)}") from self._failed
            return self._names

    def check(self, article: str, summary_ru: str | None, summary_en: str | None) -> list[Flag]:
        """Each span of the Russian summary the article lacks, then each number the translation
        changed; a span flagged twice is listed once."""
        flags: list[Flag] = []
        if summary_ru:
            flags += self.names.unsupported(summary_ru, article)
            flags += unsupported_numbers(summary_ru, article)
            if summary_en:
                flags += changed_in_translation(summary_en, summary_ru)
        return list(dict.fromkeys(flags))

    def check_translations(self, summary_ru: str | None, translations: dict[str, str | None]) -> list[Flag]:
        """The digits each translation other than English changed (no number tables for them; names are
        checked in the Russian summary alone)."""
        if not summary_ru:
            return []
        return [flag for code, text in translations.items() if text for flag in changed_digits(text, summary_ru, f"summary_{code}")]

    def support(self, article: str, summary: str) -> Support:
        """How many of the summary's names and numbers the article has: eval's precision."""
        return Support(self.names.support(summary, article), number_support(summary, article))

    def warning(self, flags: list[Flag]) -> str:
        """The one warning line naming the flagged spans, e.g. `the summary has what the article
        does not: names "Москва", "Сидоров"; number "15%"; the translation changed: "1.5"`."""
        parts = []
        russian = [flag for flag in flags if flag.field == "summary_ru"]
        if russian:
            by_kind = [(words, [f.text for f in russian if f.kind == kind]) for kind, words in KIND_WORDS.items()]
            listed = [f"{words[len(texts) > 1]} {_quoted(texts)}" for words, texts in by_kind if texts]
            parts.append("the summary has what the article does not: " + "; ".join(listed))
        english = [flag.text for flag in flags if flag.field == "summary_en"]
        if english:
            parts.append(f"the translation changed: {_quoted(english)}")
        for other in dict.fromkeys(flag.field for flag in flags if flag.field not in ("summary_ru", "summary_en")):
            parts.append(f"the translation into {other.removeprefix('summary_')} changed: {_quoted([f.text for f in flags if f.field == other])}")
        return "; ".join(parts)


def unchecked_notice(error: BaseException) -> str:
    """The one line a run (or a server) says once, and records in its results, when the check cannot load."""
    return (
        "the summaries are not checked for names and numbers their articles lack: the check cannot load "
        f"({load_error(error)}); install natasha and pymorphy3, or add --no-check"
    )


def load_error(error: BaseException) -> str:
    """What failed to load, in words: `RuntimeError: …` of the first error, however often it was raised again."""
    return str(error) if isinstance(error, CheckUnavailable) else f"{type(error).__name__}: {first_line(error, 200)}"


def _quoted(texts: list[str]) -> str:
    """Spans in double quotes on one line: whitespace runs as one space, quotes and control
    characters escaped (a summary may hold either)."""
    return ", ".join(json.dumps(" ".join(text.split()), ensure_ascii=False) for text in texts)
