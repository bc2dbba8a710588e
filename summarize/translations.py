"""What an engine's output adds to its Result: a translation kept in summary_en, or summary_<code> for
another --to target, with the warnings about it; a remote engine's token usage."""

from __future__ import annotations

from summarize.documents import Result
from summarize.routes import CYRILLIC
from summarize.text import repeated_phrase, untranslated_cyrillic


def keep_translation(result: Result, code: str, text: str | None, notes: list[str], several: bool) -> None:
    """One translation in its field, with what went wrong in it (which target, when there are several)."""
    if code == "en":
        result.summary_en = text
    else:
        result.translations[code] = text
    into = f" into {code}" if several or code != "en" else ""
    result.warnings.extend(f"{note} (the translation{into})" if into else note for note in notes)
    if text and code not in CYRILLIC and (left := untranslated_cyrillic(text)):
        result.warnings.append(f"the translation{into} left Russian text untranslated ({left!r})")
    elif text and (loop := repeated_phrase(text)):
        result.warnings.append(f"the translation{into} repeats {loop!r}: the model fell into a loop")


def add_usage(result: Result, output: str) -> None:
    """What a remote engine's server counted for this output, added to the result's usage."""
    usage = getattr(output, "remote", None) and output.remote.usage
    if usage:
        total = result.usage or {"prompt_tokens": 0, "completion_tokens": 0, "requests": 0}
        result.usage = {key: total[key] + usage[key] for key in total}  # type: ignore[literal-required]
