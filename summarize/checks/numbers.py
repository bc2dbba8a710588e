"""Numbers and dates in Russian and English text, compared as values, not strings.

Each text is read once, left to right, by one regular expression per language; every number,
date, designator ("Су-57") and number word becomes a `Quantity`. A summary's quantity is supported
when the other text holds the same value in any spelling: "1,5 млн" = "1 500 000" = "полтора
миллиона" = "1.5 million". Values are `Decimal`s, so the match is exact after scaling, with no
floating-point noise and no rounding: "1,46 млн" against "1.5 million" is a change.

Choices where the text is ambiguous, made the same way on both sides so that a sentence copied
from the article always matches itself:
- "1,5" and "1.5" are decimals; "1, 2 и 3" is a list (a comma before a digit with no space is a
  decimal comma). In English "1,500" (a comma before three digits) is 1500.
- A number glued to letters in front ("Су-57", "COVID-19", "G20") is a designator, matched whole
  within one language and by its digits across languages. Letters after a number are a suffix:
  "5-й", "1990-х", "32-year-old", "5G" are 5, 1990, 32, 5.
- A range ("10–15 млн", "от 10 до 15 млн") is two numbers; the first, without a scale of its own,
  may be read with or without the second's. "28–30 сентября" and "с 28 по 30 сентября" are two dates.
- A date is a day and a month (the year too, when written): it needs that day of that month in the
  other text. A month with a year ("в октябре 2024") is a date with day 0; a year alone is a number.
  A date's day also counts as a number ("с 18 по 20 сентября" = "from 18 to 20 September").
- Times "22:08" are the value 22.08 (so "22.08", "10:08 p.m." and "10:08 вечера" match); a score
  "2:1" is two numbers. Units are not compared: "15%" matches "15 человек" (values, not meanings).
- Number words: Russian два…девятьсот, полтора, двое…десятеро, "с половиной"; English two…ninety,
  "hundred", "twenty-five". Vague words never get flagged themselves, they only support: "один",
  "one", "вдвое", "twice", "оба", "both", "a million", "половина", ordinals ("седьмой", "seventh") and
  compounds ("трехлетний"), so "1 человек" is supported by "один человек" and "7-я" by "seventh".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from summarize.checks.flags import Field, Flag, Kind
from summarize.checks.number_words import (
    EN_MONTHS,
    EN_SCALES,
    EN_VAGUE,
    EN_WORDS,
    HUNDRED,
    ROMAN,
    RU_MONTHS,
    RU_SCALES,
    RU_VAGUE,
    RU_WORDS,
)


@dataclass(frozen=True)
class Quantity:
    """One number or date as the text writes it, and the values it may be read as."""

    text: str  # the span as written: "1,5 млн", "31 октября 2024", "Су-57"
    kind: Kind  # "number" or "date"
    values: frozenset[Decimal] = frozenset()  # a number's readings (any one found is enough); a date's year
    day: tuple[int, int] | None = None  # dates: (day, month); day 0 for a month with a year only
    designator: str = ""  # "су57" for "Су-57": matched whole within one language
    checked: bool = True  # False for vague words that only support


@dataclass
class Facts:
    """Everything a text says in numbers, to look a quantity up in."""

    values: set[Decimal]
    days: set[tuple[int, int]]  # (day, month), and (0, month) for every month named
    designators: set[str]


def unsupported_numbers(summary: str, article: str, field: Field = "summary_ru") -> list[Flag]:
    """The numbers and dates of a Russian `summary` whose values the Russian `article` lacks."""
    facts = _facts(quantities(article, RUSSIAN))
    return _flags([q for q in quantities(summary, RUSSIAN) if q.checked and not _found(q, facts)], field)


def changed_in_translation(summary_en: str, summary_ru: str) -> list[Flag]:
    """What the translation changed, all with field "summary_en": its numbers whose values the Russian
    summary lacks (text: the English span), and Russian numbers it dropped (text: the Russian span)."""
    english, russian = quantities(summary_en, ENGLISH), quantities(summary_ru, RUSSIAN)
    in_russian, in_english = _facts(russian), _facts(english)
    added = [q for q in english if q.checked and not _found(q, in_russian, by_value=True)]
    dropped = [q for q in russian if q.checked and not _found(q, in_english, by_value=True)]
    return _flags(added + dropped, "summary_en")


def number_support(summary: str, article: str) -> tuple[int, int]:
    """(found, total): how many of the summary's numbers and dates the article has, for eval.
    Counted over distinct spans, as the flags are, so total - found == len(unsupported_numbers())."""
    facts = _facts(quantities(article, RUSSIAN))
    spans: dict[tuple[str, str], bool] = {}
    for q in quantities(summary, RUSSIAN):
        if q.checked:
            key = (_clean(q.text), q.kind)
            spans[key] = spans.get(key, True) and _found(q, facts)
    return sum(spans.values()), len(spans)


def _found(q: Quantity, facts: Facts, by_value: bool = False) -> bool:
    """Whether `facts` hold `q`; across languages a designator ("Su-57" for "Су-57") is compared by its digits."""
    if q.designator and not by_value:
        return q.designator in facts.designators
    if q.day is not None:
        return q.day in facts.days and (not q.values or bool(q.values & facts.values))
    return bool(q.values & facts.values)


def _facts(found: Iterable[Quantity]) -> Facts:
    facts = Facts(set(), set(), set())
    for q in found:
        facts.values |= q.values
        if q.designator:
            facts.designators.add(q.designator)
        if q.day is not None:
            day, month = q.day
            facts.days |= {q.day, (0, month)}
            if day:
                facts.values.add(Decimal(day))
    return facts


def _flags(found: Iterable[Quantity], field: Field) -> list[Flag]:
    """One flag per distinct span, in the order of the text."""
    return list(dict.fromkeys(Flag(_clean(q.text), q.kind, field) for q in found))


def _clean(text: str) -> str:
    """The span on one line: a summary may wrap inside "31\\nоктября"."""
    return " ".join(text.split()) if "\n" in text else text


# --- The patterns: one regular expression per language, every alternative starting at a word ------

SPACE = r"[ \u00a0\u202f\u2009]"  # inside "1 500 000": a space, no-break space, narrow or thin space
DASH = r"[-‑–—]"
DAY = r"(?:[12]\d|3[01]|0?[1-9])(?!\d)"
START = r"(?<![\w.,])"  # never inside a word or a number


def _alternation(forms: Iterable[str], dotted: bool = False) -> str:
    """Longest first, so "сентября" wins over "сент"; `dotted`: short forms may end in a dot ("дек.")."""
    return "|".join(re.escape(f) + (r"\.?" if dotted and len(f) <= 4 else "") for f in sorted(forms, key=len, reverse=True))


@dataclass(frozen=True)
class Language:
    """What one language writes numbers with; `pattern` is built from the rest once, on first use."""

    number: str  # digits, with the thousands and decimal marks the language uses
    scale: str
    percent: str
    to: str  # the words of a range: "от 10 до 15", "с 28 по 30 сентября"
    half: str  # "с половиной"
    joiner: str  # between number words
    opener: str  # a word that starts number words but alone is vague: "one hundred", "one and a half"
    months: dict[str, Decimal]
    words: dict[str, Decimal]
    vague: dict[Decimal, str]
    scales: dict[tuple[str, ...], Decimal]
    thousands_comma: bool  # English "1,500" is 1500; Russian "1,500" is 1.5
    date_month_first: bool  # "October 31"

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return _pattern(self)

    def month(self, text: str) -> int:
        return int(self.months[text.lower().rstrip(".")])

    def scale_of(self, text: str | None) -> Decimal:
        if not text:
            return Decimal(1)
        return next(value for prefixes, value in self.scales.items() if text.lower().startswith(prefixes))


def _pattern(lang: Language) -> re.Pattern[str]:
    month = rf"(?:{_alternation(lang.months, dotted=True)})(?!\w)"

    def year(p: str) -> str:
        return rf"(?P<{p}year>\d{{4}})(?!\d)(?:\s*(?:года|году|год|гг?\.))?"

    def days(p: str) -> str:
        return rf"(?P<{p}d1>{DAY})(?:st|nd|rd|th|-?го)?(?:(?:\s*{DASH}\s*|\s+(?:{lang.to})\s+)(?P<{p}d2>{DAY})(?:st|nd|rd|th)?)?"

    number = rf"(?>(?:{lang.number})(?!\d))"

    def value(i: int) -> str:
        return rf"(?P<v{i}>(?P<n{i}>{number})(?:\s*(?P<s{i}>{lang.scale}))?(?:\s*(?:{lang.percent}))?(?:-?[^\W\d_]+)*+)"

    word = rf"(?:{_alternation(lang.words)})(?!\w)"
    first = rf"(?:{word}|{lang.opener})" if lang.opener else word
    parts = {
        "numeric_date": rf"(?P<dd>{DAY})\.(?P<dm>0?[1-9]|1[0-2])\.(?P<dy>\d{{4}}|\d{{2}})(?!\d)",
        "date": rf"{days('a')}\s+(?:of\s+)?(?P<amonth>{month})(?:,?\s+{year('a')})?",
        "date_month_first": rf"(?P<bmonth>{month})\s+{days('b')}(?:,?\s+{year('b')})?" if lang.date_month_first else None,
        "month_year": rf"(?P<cmonth>{month}),?\s+{year('c')}",
        "roman": r"(?P<numerals>[ivxlcх]+)(?:-?[а-яё]{1,3})?\s+(?:век|столети|centur)[а-яёa-z]*",
        "time": r"(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)(?!\d)(?:\s?(?P<pm>[ap]\.?\s?m\b\.?|вечера))?",
        "designator": r"(?P<label>[^\W\d_]+)[-‑]?(?P<code>\d+(?:[-‑/]?\d+|[^\W\d_]{1,3}(?![^\W\d_]))*)",
        "range": rf"{value(1)}(?:\s*{DASH}\s*|\s+{lang.to}\s+)(?>{value(2)})(?!\s*(?:{month}))",
        "number": value(0),
        "words": rf"(?P<w>{first}(?:{lang.joiner}(?:{word}|{HUNDRED}\b))*)(?P<half>\s+{lang.half})?(?:\s+(?P<ws>{lang.scale}))?(?:\s+(?:{lang.percent}))?",
        "vague": rf"(?:{'|'.join(lang.vague.values())})(?!\w)",
    }
    return re.compile("|".join(rf"{START}(?P<{name}>{p})" for name, p in parts.items() if p), re.IGNORECASE)


RUSSIAN = Language(
    number=rf"\d{{1,3}}(?:{SPACE}\d{{3}})+(?:,\d+)?|\d+(?:[.,]\d+)?",
    scale=r"(?:тыс\.?|тысяч(?:а|и|у|е|ей|ам|ами|ах)?|(?:млн|млрд|трлн)\.?|(?:миллион|миллиард|триллион)(?:а|у|ом|е|ы|ов|ам|ами|ах)?)(?![а-яё])",
    percent=r"%|процент(?:а|ов|ы|ам|ами|ах|е|у|ом)?(?![а-яё])",
    to="до|по",
    half=r"с\s+половиной",
    joiner=r"\s+",
    opener="",
    months=RU_MONTHS,
    words=RU_WORDS,
    vague=RU_VAGUE,
    scales=RU_SCALES,
    thousands_comma=False,
    date_month_first=False,
)
ENGLISH = Language(
    number=rf"\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d{{1,3}}(?:{SPACE}\d{{3}})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?",
    scale=r"(?:(?:thousand|million|billion|trillion)s?|bn|mln|mn|tn|trn)(?![a-z])",
    percent=r"%|per\s?cent(?![a-z])",
    to="to|through",
    half=r"and\s+a\s+half",
    joiner=r"(?:(?<=hundred)\s+and\s+|\s+|(?<=ty)-)",  # "twenty-five", "hundred and fifty"; "two-three" stays two numbers
    opener=r"one(?=\s+(?:hundred|and\s+a\s+half)\b)",
    months=EN_MONTHS,
    words=EN_WORDS,
    vague=EN_VAGUE,
    scales=EN_SCALES,
    thousands_comma=True,
    date_month_first=True,
)


# --- Reading: a match → the quantities it holds --------------------------------------------------


def quantities(text: str, lang: Language) -> list[Quantity]:
    """Every number, date, designator and number word of `text`, in order."""
    found: list[Quantity] = []
    for m in lang.pattern.finditer(text):
        found.extend(READERS[m.lastgroup](m, lang))
    return found


def _parse(digits: str, lang: Language) -> Decimal:
    """ "1 500 000" → 1500000, "1,5" → 1.5; English "1,500" → 1500."""
    if lang.thousands_comma and re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", digits):
        digits = digits.replace(",", "")
    return Decimal(re.sub(SPACE, "", digits).replace(",", "."))


def _value(m: re.Match[str], i: int, lang: Language) -> Decimal:
    return _parse(m[f"n{i}"], lang) * lang.scale_of(m[f"s{i}"])


def _number(m: re.Match[str], lang: Language) -> list[Quantity]:
    return [Quantity(m["v0"], "number", frozenset({_value(m, 0, lang)}))]


def _range(m: re.Match[str], lang: Language) -> list[Quantity]:
    """Each end a number; the first, with no scale of its own, may share the second's ("10–15 млн")."""
    first, second = _value(m, 1, lang), _value(m, 2, lang)
    readings = {first, first * lang.scale_of(m["s2"])} if not m["s1"] else {first}
    return [Quantity(m["v1"], "number", frozenset(readings)), Quantity(m["v2"], "number", frozenset({second}))]


def _date(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "31 октября 2024", "October 31"; "28–30 сентября" and "с 28 по 30 сентября" are two dates."""
    p = "a" if m["date"] else "b"
    year = frozenset({Decimal(m[f"{p}year"])}) if m[f"{p}year"] else frozenset()
    month = lang.month(m[f"{p}month"])
    return [Quantity(m[0], "date", year, day=(int(d), month)) for d in (m[f"{p}d1"], m[f"{p}d2"]) if d]


def _numeric_date(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "31.10.2024"; a two-digit year may be either century."""
    y = int(m["dy"])
    years = {y} if len(m["dy"]) == 4 else {1900 + y, 2000 + y}
    return [Quantity(m[0], "date", frozenset(map(Decimal, years)), day=(int(m["dd"]), int(m["dm"])))]


def _month_year(m: re.Match[str], lang: Language) -> list[Quantity]:
    return [Quantity(m[0], "date", frozenset({Decimal(m["cyear"])}), day=(0, lang.month(m["cmonth"])))]


def _time(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "22:08" is 22.08, so "в 22.08", "10:08 p.m." and "10:08 вечера" match it."""
    hour = int(m["hour"]) + (12 if (m["pm"] or "").lower().startswith(("p", "в")) and int(m["hour"]) < 12 else 0)
    return [Quantity(m[0], "number", frozenset({Decimal(hour) + Decimal(m["minute"]) / 100}))]


def _roman(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "XX век" (Latin or Cyrillic Х) is 20, as "20th century" is."""
    digits = [ROMAN[c] for c in m["numerals"].lower().replace("х", "x")]
    value = sum(-d if d < after else d for d, after in zip(digits, digits[1:] + [0]))
    return [Quantity(m[0], "number", frozenset({Decimal(value)}))]


def _designator(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "Су-57", "COVID-19": the label's first three letters ("Формулы-1" = "Формуле-1") and the code."""
    key = (m["label"][:3] + m["code"]).casefold().replace("-", "").replace("‑", "")
    return [Quantity(m[0], "number", frozenset(Decimal(d) for d in re.findall(r"\d+", m["code"])), designator=key)]


def _words(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "двадцать пять тысяч", "two hundred fifty": summed, "hundred" multiplying what is before it."""
    total = Decimal(0)
    for word in re.split(r"[\s-]+(?:and\s+)?", m["w"].lower()):
        total = max(total, Decimal(1)) * 100 if word == HUNDRED else total + lang.words.get(word, Decimal(1))  # or the opener, "one"
    total = (total + (Decimal("0.5") if m["half"] else 0)) * lang.scale_of(m["ws"])
    return [Quantity(m[0], "number", frozenset({total}))]


def _vague(m: re.Match[str], lang: Language) -> list[Quantity]:
    value = next(value for value, words in lang.vague.items() if re.fullmatch(words, m[0], re.IGNORECASE))
    return [Quantity(m[0], "number", frozenset({value}), checked=False)]


READERS = {
    "numeric_date": _numeric_date,
    "date": _date,
    "date_month_first": _date,
    "month_year": _month_year,
    "roman": _roman,
    "time": _time,
    "designator": _designator,
    "range": _range,
    "number": _number,
    "words": _words,
    "vague": _vague,
}
