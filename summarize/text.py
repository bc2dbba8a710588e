"""Sentences and token budgets: razdel splitting, lead truncation and sentence-aligned chunks;
the parts of a news text that are not its body (title, dateline); checks of a model's output.

Everything here is model-agnostic: token counts come in as plain lists from the engine's tokenizer.
"""

from __future__ import annotations

import datetime
import itertools
import re
import tomllib
from collections.abc import Callable, Sequence

TokenCounter = Callable[[list[str]], list[int]]


def split_sentences(text: str) -> list[str]:
    """Sentences in order. Lines are split first: a headline or dateline without a full stop
    must not be glued to the next paragraph, which razdel would do across a bare newline."""
    return [piece for line in text.splitlines() if line.strip() for s in _line_sentences(line) for piece in split_lowercased(s)]


def _line_sentences(line: str) -> list[str]:
    """razdel's sentences of one line, but an opening dateline whole ("Москва, 14 авг. — РИА
    Новости.", razdel cuts it after "авг.") and a reference whole ("(см. табл. 2)", cut before "2")."""
    from razdel import sentenize

    dateline, rest = split_dateline(line)
    body = rest if dateline else line
    masked = REFERENCE_STOP.sub("\u2024", body)  # one character for one: razdel's offsets hold for the body
    return ([dateline] if dateline else []) + ([body[s.start : s.stop] for s in sentenize(masked)] if body.strip() else [])


# razdel ends a sentence only where the next one starts with a capital (or a digit), so in lowercased
# text (the RIA corpus, chat, transcripts) a whole paragraph comes back as one "sentence". There a
# sentence end is . ! or ? (closing quotes or brackets may follow), a space, then a lowercase letter,
# possibly after an opening quote. Not a dash: «…?» — спросил он is one sentence.
SENTENCE_GAP = re.compile(r"[.!?][\"'»”’)\]]*\s+")
OPENING_QUOTES = "«\"„“'"
# Words that a full stop shortens inside a sentence (lowercased, without the stop). One letter
# (initials "в. путин", "т. е.", "xx в.") and a word with a stop inside ("т.е.", "и.о.") are never ends.
ABBREVIATIONS = frozenset(
    """
    г гг вв им ул пл пр просп пер наб ш б-р д корп стр кв обл р-н р-на пос дер ст мкр тт шт засл арт нар
    янв фев февр мар апр июн июл авг сен сент окт ноя нояб дек
    тыс млн млрд трлн руб коп долл ок др проч напр см ср рис табл гл разд пп ч
    акад проф доц зам ген г-н г-жа св тов гр англ нем франц фр лат греч рус укр
    мин сек км кг га чел ед мес нач кон тел зав корр ред изд
    """.split()
)
# The stop of an abbreviation that points at a numbered part ("(см. табл. 2)"): never a sentence end.
REFERENCE_STOP = re.compile(r"(?:(?<=\bсм)|(?<=\bгл)|(?<=\bрис)|(?<=\bстр)|(?<=\bилл)|(?<=\bтабл)|(?<=\bприл)|(?<=\bразд))\.(?=\s*\d)", re.IGNORECASE)


def split_lowercased(sentence: str) -> list[str]:
    """A razdel sentence cut at the sentence ends razdel misses in lowercased text. One with any
    capital letter is cased text, where razdel's own rules hold, and comes back whole. The pieces
    are the sentence's own text: only the spaces between them are left out."""
    if any(ch.isupper() for ch in sentence):
        return [sentence]
    pieces, start = [], 0
    for gap in SENTENCE_GAP.finditer(sentence):
        if not sentence[gap.end() :].lstrip(OPENING_QUOTES)[:1].islower():
            continue  # a digit (razdel splits there itself), a dash, a letter without case
        if sentence[gap.start()] == "." and _shortened(sentence[start : gap.start()]):
            continue
        pieces.append(sentence[start : gap.end()].rstrip())
        start = gap.end()
    return [*pieces, sentence[start:]]


def _shortened(before: str) -> bool:
    """Whether a full stop after `before` marks an abbreviation or an ellipsis, not a sentence end."""
    words = before.split()
    word = words[-1].strip("\"'«»„“”’()[]") if words else ""
    return not word or len(word) == 1 and word.isalpha() or "." in word or word in ABBREVIATIONS


def join_sentences(sentences: Sequence[str]) -> str:
    """One text; a sentence without final punctuation (a headline, a model's cut-off output) gets
    a full stop before the next one instead of running into it. Punctuated sentences are joined as
    they are, byte for byte."""
    last = len(sentences) - 1
    return " ".join(s.rstrip() + "." if i < last and s.strip() and not ends_sentence(s) else s for i, s in enumerate(sentences))


def ends_sentence(text: str) -> bool:
    """Whether text ends with . ! ? or …, also inside closing quotes or brackets: `«Да!»`, `(см. выше.)`."""
    return SENTENCE_END.search(text) is not None


SENTENCE_END = re.compile(r"[.!?…][\"'»”’)\]]*\s*$")


def strip_markdown(text: str) -> str:
    """The words of a Markdown article, a block (heading, paragraph, list item, quote) a line:
    no #, *, links' targets, images, code fences or HTML. Parsed by markdown-it (CommonMark),
    which rich already brings, rather than by regular expressions."""
    from markdown_it import MarkdownIt

    lines: list[str] = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type == "inline" and token.children is not None:
            words = "".join(
                child.content if child.type in ("text", "code_inline") else " " if child.type in ("softbreak", "hardbreak") else "" for child in token.children
            )
            if words.strip():
                lines.append(" ".join(words.split()))
    return "\n".join(lines)


FRONT_MATTER = re.compile(r"\A\ufeff?(?P<fence>---|\+\+\+)[ \t]*\n(?:(?P<body>.*?)\n)?(?:(?P=fence)|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_YAML_QUOTED = re.compile(r"'(?P<single>(?:[^']|'')*)'|\"(?P<double>(?:[^\"\\]|\\.)*)\"")
_YAML_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(?P<value>.*?))?[ \t]*$")


def split_front_matter(text: str) -> tuple[dict[str, str], str, list[str]]:
    """(fields, rest, warnings) of a Markdown file that opens with front matter (Hugo, Jekyll):
    `---` YAML or `+++` TOML. Only its top-level `title` and `date` are read, as text; the front
    matter itself never reaches the article. No front matter: ({}, text, [])."""
    match = FRONT_MATTER.match(text)
    if match is None:
        return {}, text, []
    rest, body = text[match.end() :], match.group("body") or ""
    if match.group("fence") == "+++":
        try:
            raw = tomllib.loads(body)
        except tomllib.TOMLDecodeError as e:
            return {}, rest, [f"its TOML front matter is not valid ({e}); its title and date are not used"]
    else:
        raw = _yaml_top_level(body)
    fields = {key: _front_matter_text(raw.get(key)) for key in ("title", "date")}
    return {key: value for key, value in fields.items() if value}, rest, []


def _yaml_top_level(body: str) -> dict[str, str]:
    """The top-level `key: value` pairs of simple YAML: quoted or plain scalars, `>`/`|` blocks."""
    lines, fields = body.split("\n"), {}
    for i, line in enumerate(lines):
        match = _YAML_KEY.match(line)
        if match is None:
            continue
        value = match.group("value") or ""
        if value[:1] in (">", "|"):  # a block: the indented lines below it
            block = [b.strip() for b in itertools.takewhile(lambda b: not b.strip() or b[:1] in " \t", lines[i + 1 :])]
            value = (" " if value[0] == ">" else "\n").join(b for b in block if b)
        elif quoted := _YAML_QUOTED.match(value):
            single = quoted.group("single")
            value = single.replace("''", "'") if single is not None else quoted.group("double").replace('\\"', '"')
        else:
            value = value.split(" #")[0].strip()  # a plain scalar's comment
        fields.setdefault(match.group("key"), value)
    return fields


def _front_matter_text(value: object) -> str | None:
    """A title or date as text: TOML gives dates as date/datetime objects; lists and tables are not used."""
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return (value.strip() or None) if isinstance(value, str) else None


def fit_to_budget(counts: Sequence[int], budget: int) -> int:
    """How many leading sentences fit in `budget` tokens (0 when even the first does not)."""
    total = 0
    for n, count in enumerate(counts):
        total += count
        if total > budget:
            return n
    return len(counts)


def split_long_sentence(sentence: str, count_tokens: TokenCounter, budget: int) -> list[str]:
    """Cut a sentence longer than the budget at word boundaries into pieces that fit.

    A single 'word' longer than the budget (a URL, a run of digits) is cut into character slices.
    """
    words = sentence.split()
    counts = count_tokens(words)
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for word, count in zip(words, counts):
        if count > budget:
            pieces.extend(_flush(current))
            current, used = [], 0
            pieces.extend(_slice_word(word, count, budget))
            continue
        if current and used + count > budget:
            pieces.append(" ".join(current))
            current, used = [], 0
        current.append(word)
        used += count
    pieces.extend(_flush(current))
    return pieces


def _flush(words: list[str]) -> list[str]:
    return [" ".join(words)] if words else []


def _slice_word(word: str, count: int, budget: int) -> list[str]:
    # Tokens per character is roughly even inside one word; leave a margin of a quarter.
    size = max(1, int(len(word) * budget * 0.75 / count))
    return [word[i : i + size] for i in range(0, len(word), size)]


def chunk_sentences(sentences: Sequence[str], count_tokens: TokenCounter, budget: int) -> list[str]:
    """Group sentences, in order, into chunks of at most `budget` tokens each; nothing is dropped."""
    units: list[tuple[str, int]] = []
    for sentence, count in zip(sentences, count_tokens(list(sentences))):
        if count > budget:
            pieces = split_long_sentence(sentence, count_tokens, budget)
            units.extend(zip(pieces, count_tokens(pieces)))
        else:
            units.append((sentence, count))
    chunks: list[list[str]] = []
    used = 0
    for unit, count in units:
        if not chunks or used + count > budget:
            chunks.append([])
            used = 0
        chunks[-1].append(unit)
        used += count
    # Plain spaces: a unit may be one piece of a cut sentence, and the budgets were counted on the
    # units as they are.
    return [" ".join(c) for c in chunks]


def group_digits(n: int) -> str:
    """1040 → '1 040', the way Russian and most European style guides write numbers."""
    return f"{n:,}".replace(",", " ")


# --- What of a news text is not its body ---------------------------------------------------------

# A headline is one line; past this length an unpunctuated first line is more likely a paragraph
# that lost its full stop. (RIA and TASS headlines run to about 120 characters.)
TITLE_MAX_CHARS = 200
CONTINUES = re.compile(r"[,;:—–-]\s*$")  # a line ending so goes on in the next one: not a headline

_LETTERS = r"[^\W\d_]"
_PLACE = rf"{_LETTERS}+(?:-{_LETTERS}+)*(?: {_LETTERS}+(?:-{_LETTERS}+)*){{0,2}}"  # up to 3 words
_MONTH = (
    r"(?:январ[ья]|феврал[ья]|марта|апрел[ья]|ма[йя]|июн[ья]|июл[ья]|августа|сентябр[ья]|октябр[ья]"
    r"|ноябр[ья]|декабр[ья]|янв|фев|мар|апр|июн|июл|авг|сент|сен|окт|нояб|ноя|дек)"
)
_YEAR = r"(?:\s+\d{4}(?:\s*(?:года|г))?)?"
# "— РИА Новости.", "— РИА Новости, Иван Иванов.", "- Р-Спорт.", "/ТАСС/", ". /ИТАР-ТАСС/."
_NAME = r"[^\s.,/]+(?:[ \xa0][^\s.,/]+){0,3}"  # up to 4 words: "РИА Новости", "Р-Спорт", "Иван Иванов"
_AGENCY = rf"(?:\s*\.?\s*[—–-]\s*(?P<agency>{_NAME}(?:,\s*{_NAME})?)|\s*\.?\s*/(?P<slash>[^/\n]{{1,30}})/)"
DATELINE = re.compile(
    rf"(?P<place>{_PLACE})[,.]\s+\d{{1,2}}\s+{_MONTH}\.?{_YEAR}{_AGENCY}?\s*(?:\.|(?<=/)(?:\s*[—–-])?)(?=\s|$)",
    re.IGNORECASE,
)


def split_title(text: str) -> tuple[str | None, str]:
    """(title, body): a first line without a sentence end, followed by the body, is the headline.

    A text that is only such a line gives (title, "") so that the caller can say so. No title:
    (None, text) unchanged. A first line that goes on in the next one (it ends in a comma or a
    dash, or the next line starts in lower case right below it) is a wrapped paragraph, not a title.
    """
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return None, text
    head = lines[first].strip()
    if len(head) > TITLE_MAX_CHARS or ends_sentence(head) or CONTINUES.search(head) or is_dateline(head):
        return None, text
    if not re.search(_LETTERS, head):
        return None, text
    rest = lines[first + 1 :]
    following = next((i for i, line in enumerate(rest) if line.strip()), None)
    if following is None:
        return head, ""
    if following == 0 and rest[0].lstrip()[:1].islower():
        return None, text
    return head, "\n".join(rest[following:])


def split_dateline(text: str) -> tuple[str | None, str]:
    """(dateline, rest): an agency dateline that opens the text ("МОСКВА, 24 ноя — РИА Новости.")
    is where and when, not a sentence of the news. (None, text) when there is none."""
    stripped = text.lstrip()
    match = DATELINE.match(stripped)
    if match is None or not _plausible_dateline(match):
        return None, text
    return match.group(0).strip(), stripped[match.end() :].lstrip()


def is_dateline(sentence: str) -> bool:
    """Whether a whole sentence is an agency dateline."""
    dateline, rest = split_dateline(sentence)
    return dateline is not None and not rest


def _plausible_dateline(match: re.Match) -> bool:
    # Every word of a place name is capitalised ("Нижний Новгород"); "Пройдёт в Москве, 24 ноября."
    # ends an ordinary sentence. A lower-cased corpus ("москва, 1 дек — риа новости.") has no
    # capitals at all, and there the agency after the date is what shows a dateline.
    words = match.group("place").split()
    if all(w[0].isupper() for w in words):
        return True
    return match.group("place").islower() and bool(match.group("agency") or match.group("slash"))


# --- Which language ------------------------------------------------------------------------------

# Letters of other Cyrillic alphabets that Russian lacks. і is Ukrainian, Belarusian and Kazakh.
OTHER_CYRILLIC = {"Ukrainian": "їєґ", "Belarusian": "ў", "Kazakh": "әғқңөұүһ"}
SHARED_I = "і"
# Ukrainian text has 5–8 % of its letters from these; one Ukrainian name in a Russian article is far
# under 1 % of a news text's letters.
OTHER_CYRILLIC_SHARE = 0.01
OTHER_CYRILLIC_MIN = 3  # letters: below this, a short text tells nothing


def other_cyrillic_language(text: str) -> str | None:
    """The name of the Cyrillic language other than Russian a text is written in, if any."""
    lower = text.lower()
    cyrillic = sum(1 for c in lower if "\u0400" <= c <= "\u04ff")
    counts = {language: sum(lower.count(c) for c in letters) for language, letters in OTHER_CYRILLIC.items()}
    total = sum(counts.values()) + lower.count(SHARED_I)
    if total < max(OTHER_CYRILLIC_MIN, OTHER_CYRILLIC_SHARE * cyrillic):
        return None
    best = max(counts, key=lambda language: counts[language])
    return best if counts[best] else "Ukrainian"  # і alone: Ukrainian is by far the commonest


# --- Checks of a model's output -------------------------------------------------------------------

_WORD = re.compile(r"\w+")
LOOP_MAX_PHRASE = 40  # words: a loop of longer units is a repeated sentence, found by counting them
LOOP_REPEATS = 3  # times in a row for a phrase of several words
LOOP_REPEATS_ONE_WORD = 4  # "ха-ха-ха" and "да-да-да" are words people write; four is a loop


def repeated_phrase(text: str) -> str | None:
    """The phrase a decoding loop repeats ("pre-pre-pre-pre", "в Москве в Москве в Москве"), or
    None. A sentence said three times anywhere in the text counts too."""
    words = list(_WORD.finditer(text))
    tokens = [w.group(0).lower() for w in words]
    for size in range(1, min(LOOP_MAX_PHRASE, len(tokens) // LOOP_REPEATS) + 1):
        needed = (LOOP_REPEATS_ONE_WORD if size == 1 else LOOP_REPEATS) - 1
        run = 0
        for i in range(len(tokens) - size):
            run = run + 1 if tokens[i] == tokens[i + size] else 0
            start = i - run + 1
            if run >= needed * size and any(not t.isdigit() for t in tokens[start : start + size]):
                return text[words[start].start() : words[start + size - 1].end()]
    return _repeated_sentence(text)


def _repeated_sentence(text: str) -> str | None:
    seen: dict[tuple[str, ...], int] = {}
    for sentence in split_sentences(text):
        key = tuple(w.lower() for w in _WORD.findall(sentence))
        if len(key) < 2:
            continue
        seen[key] = seen.get(key, 0) + 1
        if seen[key] >= LOOP_REPEATS:
            return sentence
    return None


_CYRILLIC_WORD = r"[\u0400-\u04ff]+(?:[-'’][\u0400-\u04ff]+)*"
CYRILLIC_RUN = re.compile(rf"{_CYRILLIC_WORD}(?:[\s«»\"“”„',:;—–-]+{_CYRILLIC_WORD}){{2,}}")
CYRILLIC_WORD = re.compile(_CYRILLIC_WORD)
# A Russian proper name in quotes (one or two words) is fine in English; more is text left untranslated.
UNTRANSLATED_WORDS = 4


def untranslated_share(english: str) -> float:
    """The share of an English text's letters that are Cyrillic."""
    letters = [c for c in english if c.isalpha()]
    return sum(1 for c in letters if "\u0400" <= c <= "\u04ff") / len(letters) if letters else 0.0


def untranslated_cyrillic(english: str) -> str | None:
    """Russian left in a translation: three Cyrillic words in a row, or four anywhere; None when
    there is at most a name or two."""
    run = CYRILLIC_RUN.search(english)
    if run is not None:
        return run.group(0)
    words = CYRILLIC_WORD.findall(english)
    return " … ".join(words) if len(words) >= UNTRANSLATED_WORDS else None
