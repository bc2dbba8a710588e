"""An article's language (--source-lang, else detected) and what follows from it: a Russian one is
summarised as it is; another is translated into Russian first, by the route the models.toml
[[routes]] give for it, then summarised and checked in Russian; one no route reads is that input's
failure; one the detector is unsure of is read as Russian, with a warning."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from summarize.config import Preset
from summarize.documents import Document, Result
from summarize.errors import SummarizeError
from summarize.inputs.decode import language_warnings
from summarize.inputs.language import Detected, detect
from summarize.options import Options, Target
from summarize.routes import SOURCE


def in_russian(doc: Document, result: Result, options: Options, readers: dict, notify: Callable[[str], None]) -> Document:
    """The article as the summariser reads it: itself, or (another language) its translation into Russian,
    by a reader loaded with the first article that needs it and kept in `readers` (name → engine, notices). A language no route
    reads, or a reader that cannot load, is this article's failure (its language recorded), not its group's."""
    from summarize.engines.loader import load_reader

    try:
        route = language_of(doc, result, options)
        if route is None:
            return doc
        if route.preset.name not in readers:  # its notices said once, and kept in each result it reads
            readers[route.preset.name] = load_reader(route.preset, options, notify)
            for notice in readers[route.preset.name][1]:
                notify(f"warning: {notice}")
        result.warnings.extend(readers[route.preset.name][1])
        return into_russian(doc, result, route, lambda preset: readers[preset.name][0], options.check and not options.engine.model_free)
    except SummarizeError as e:
        result.error, result.translator, result.translators = str(e), None, None
        return doc


def language_of(doc: Document, result: Result, options: Options) -> Target | None:
    """Records the article's language in its result; returns the route into Russian for a non-Russian
    one (None: it is read as Russian). SummarizeError for a language no route reads."""
    given = (options.source_lang or "auto").strip().lower()
    found = detect(doc.text, doc.title) if given == "auto" else Detected(given, 1.0, "--source-lang")
    result.language, result.language_confidence = found.code, found.confidence
    if found.note:
        result.warnings.append(found.note)
    if found.code == SOURCE:
        return None
    if not found.confident:
        result.warnings.append(
            f"the article's language is unclear ({found.code}, confidence {found.confidence:.2f} by {found.how}): summarised as Russian; "
            "give --source-lang to say which it is"
        )
        return None
    route = next((t for t in options.sources if t.code == found.code), None)
    if route is None and found.how != "--source-lang" and _russian_letters(doc.text):
        result.warnings.append(
            f"the detector took the article for {found.code!r} ({found.how}, confidence {found.confidence:.2f}), which no route reads, but its "
            "letters are Russian ones: summarised as Russian; give --source-lang to say which it is"
        )
        return None
    if route is None:
        readable = ", ".join([SOURCE, *(t.code for t in options.sources)])
        raise SummarizeError(
            f"{doc.source}: the article is in {found.code!r} ({found.how}); summarize reads {readable}; give --source-lang ru to summarise it as Russian"
        )
    return route


def into_russian(doc: Document, result: Result, route: Target, engine_for: Callable[[Preset], object], checked: bool = True) -> Document:
    """The article translated into Russian by its route (sentence by sentence, as summaries are), said in
    the result's warnings and source_translator."""
    from summarize.engines.translate import translate_many

    [(russian, notes)] = translate_many(engine_for(route.preset), [doc.text], route.preset.generate, route.leg)  # type: ignore[arg-type]
    result.source_translator = route.preset.name
    then = "summarised and checked" if checked else "summarised (unchecked)"  # extractive, lead and --no-check check nothing
    said = f"the article is in {route.code}: translated into Russian with {route.preset.name} first, then {then} in Russian"
    # in its place: the warning its reading gave ("expect a poor summary") was said before its language was known
    stale = [i for i, warning in enumerate(result.warnings) if warning in language_warnings(doc.text)]
    if stale:
        result.warnings[stale[0]] = said
    else:
        result.warnings.append(said)
    result.warnings.extend(f"{note} (the article's translation into Russian)" for note in notes)
    return replace(doc, text=russian)


RUSSIAN_LETTERS = set("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")


def _russian_letters(text: str) -> bool:
    """Whether the text is mostly Cyrillic and every Cyrillic letter in it is one of Russian's (fastText
    takes short Russian texts for Serbian or Bulgarian, whose own letters they lack)."""
    letters = [c for c in text.lower() if c.isalpha()]
    cyrillic = [c for c in letters if "\u0400" <= c <= "\u04ff"]
    return len(cyrillic) > len(letters) / 2 and all(c in RUSSIAN_LETTERS for c in cyrillic)
