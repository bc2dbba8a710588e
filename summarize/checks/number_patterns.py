"""One regular expression per language that finds every number, date, weekday, fraction and number
word of a text, each alternative starting at a word; number_readers.py turns its matches into values.

The alternatives are tried in order at each place, so the longer readings come first: an ISO or
numeric date before its numbers, "3 млн 200 тыс." before "3 млн", "двадцать один" before "один".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from summarize.checks.number_words import (
    COMPOUND_ENDS,
    EN_DENOMINATORS,
    EN_MONTHS,
    EN_ONES,
    EN_ONES_AFTER,
    EN_SCALES,
    EN_VAGUE,
    EN_WEEKDAYS,
    EN_WORDS,
    HUNDRED,
    MONTH_ABBREVIATIONS,
    RU_COMPOUND_STEMS,
    RU_DENOMINATORS,
    RU_LEADING_SCALES,
    RU_MONTHS,
    RU_ONES,
    RU_ONES_AFTER,
    RU_SCALES,
    RU_VAGUE,
    RU_WEEKDAYS,
    RU_WORDS,
)

SPACE = r"[ \u00a0\u202f\u2009]"  # inside "1 500 000": a space, no-break space, narrow or thin space
DASH = r"[-‑–—]"
DAY = r"(?:[12]\d|3[01]|0?[1-9])(?!\d)"
START = r"(?<![\w.,])"  # never inside a word or a number
CURRENCY = "$€£"  # before "$425m": the glued "m" is millions, not metres


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
    ones: str  # "один" closing a compound numeral, and what it must follow
    ones_after: str
    leading_scale: str  # a scale word that may open number words: "тысяча пятьсот"
    months: dict[str, Decimal]
    weekdays: dict[int, str]
    denominators: dict[int, str]
    words: dict[str, Decimal]
    vague: dict[Decimal, str]
    scales: dict[tuple[str, ...], Decimal]
    thousands_comma: bool  # English "1,500" is 1500; Russian "1,500" is 1.5
    english: bool  # "October 31", "10/25/2024" month first; months alone capitalised

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("|".join(rf"{START}(?P<{name}>{p})" for name, p in _parts(self).items() if p), re.IGNORECASE)

    def month(self, text: str) -> int:
        return int(self.months[text.lower().rstrip(".")])

    def scale_of(self, text: str | None) -> Decimal:
        if not text:
            return Decimal(1)
        return next(value for prefixes, value in self.scales.items() if text.lower().startswith(prefixes))


def _dates(lang: Language) -> dict[str, str | None]:
    month = rf"(?:{_alternation(lang.months, dotted=True)})(?!\w)"

    def year(p: str) -> str:
        return rf"(?P<{p}year>\d{{4}})(?!\d)(?:\s*(?:года|году|год|гг?\.))?"

    def days(p: str) -> str:
        return rf"(?P<{p}d1>{DAY})(?:st|nd|rd|th|-?го)?(?:(?:\s*{DASH}\s*|\s+(?:{lang.to})\s+)(?P<{p}d2>{DAY})(?:st|nd|rd|th)?)?"

    ampm = r"[ap]\.?\s?m(?![a-z])\.?"
    return {
        "iso_date": r"(?P<iy>\d{4})-(?P<im>0[1-9]|1[0-2])-(?P<id>0[1-9]|[12]\d|3[01])(?!\d)",
        "slash_date": r"(?P<sa>\d{1,2})/(?P<sb>\d{1,2})/(?P<sy>\d{4}|\d{2})(?![\d/])",
        "numeric_date": rf"(?P<dd>{DAY})\.(?P<dm>0?[1-9]|1[0-2])\.(?P<dy>\d{{4}}|\d{{2}})(?!\d)",
        "date": rf"{days('a')}\s+(?:of\s+)?(?P<amonth>{month})(?:,?\s+{year('a')})?",
        "date_month_first": rf"(?P<bmonth>{month})\s+{days('b')}(?:,?\s+{year('b')})?" if lang.english else None,
        "month_year": rf"(?P<cmonth>{month}),?\s+{year('c')}",
        "roman": r"(?P<numerals>[ivxlcх]+)(?:-?[а-яё]{1,3})?\s+(?:век|столети|centur)[а-яёa-z]*",
        "time": rf"(?P<hour>[01]?\d|2[0-3])(?::(?P<minute>[0-5]\d)(?!\d)(?:\s?(?P<pm>{ampm}|вечера))?|\s?(?P<clock>{ampm}))",
        "decade": r"'?(?P<tens>[1-9]0)-?(?:х|е|ых|ые|ми|s)(?!\w)",
    }


def _parts(lang: Language) -> dict[str, str | None]:
    number = rf"(?>(?:{lang.number})(?!\d))"

    def value(i: int) -> str:
        scale = rf"(?:\s*(?P<s{i}>{lang.scale})(?:\s+(?P<m{i}>\d{{1,3}})\s*(?P<t{i}>{lang.scale}))?)?"
        return rf"(?P<v{i}>(?P<n{i}>{number}){scale}(?:\s*(?:{lang.percent}))?(?:-?[^\W\d_]+)*+)"

    word = rf"(?:{_alternation(lang.words)})(?!\w)"
    openers = "".join(f"|{p}" for p in (lang.opener, rf"(?:{lang.leading_scale})(?={lang.joiner}{word})") if p)
    first = rf"(?:{word}{openers})"
    unit = rf"(?:{lang.joiner}(?:{word}|{HUNDRED}\b|(?:{lang.scale}))|{lang.ones_after}{lang.joiner}(?:{lang.ones})(?!\w))"
    months_alone = [f for f in lang.months if f not in MONTH_ABBREVIATIONS]
    stems = _alternation(RU_COMPOUND_STEMS)
    return _dates(lang) | {
        "designator": r"(?P<label>[^\W\d_]+)[-‑]?(?P<code>\d+(?:[-‑/]?\d+|[^\W\d_]{1,3}(?![^\W\d_]))*)",
        "fraction": rf"(?P<fa>\d{{1,2}})/(?P<fb>\d{{1,2}})(?![\d/])|(?P<fw>{word}|(?:{lang.ones})(?!\w))[\s-]+(?P<fd>{'|'.join(lang.denominators.values())})(?!\w)",
        "range": rf"{value(1)}(?:\s*{DASH}\s*|\s+(?:{lang.to})\s+)(?>{value(2)})(?!\s*(?:{_alternation(lang.months, dotted=True)})(?!\w))",
        "number": value(0),
        "weekday": rf"(?:{'|'.join(lang.weekdays.values())})(?!\w)",
        "month_alone": rf"(?:{_alternation(months_alone)})(?!\w)",
        "words": rf"(?P<w>{first}{unit}*)(?:(?P<half>\s+{lang.half})(?:\s+(?P<ws>{lang.scale}))?)?(?:\s+(?:{lang.percent}))?",
        "compound": None if lang.english else rf"(?P<stems>(?:{stems})+)(?:{COMPOUND_ENDS})[а-яё]*",
        "vague": rf"(?:{'|'.join(lang.vague.values())})(?!\w)",
    }


RUSSIAN = Language(
    number=rf"\d{{1,3}}(?:\.\d{{3}}){{2,}}(?![\d.])|\d{{1,3}}(?:{SPACE}\d{{3}})+(?:,\d+)?|\d+(?:[.,]\d+)?",
    scale=r"(?:тыс\.?|тысяч(?:а|и|у|е|ей|ам|ами|ах)?|(?:млн|млрд|трлн)\.?|(?:миллион|миллиард|триллион)(?:а|у|ом|е|ы|ов|ам|ами|ах)?)(?![а-яё])",
    percent=r"%|процент(?:а|ов|ы|ам|ами|ах|е|у|ом)?(?![а-яё])",
    to="до|по",
    half=r"с\s+половиной",
    joiner=r"\s+",
    opener="",
    ones=RU_ONES,
    ones_after=RU_ONES_AFTER,
    leading_scale=RU_LEADING_SCALES,
    months=RU_MONTHS,
    weekdays=RU_WEEKDAYS,
    denominators=RU_DENOMINATORS,
    words=RU_WORDS,
    vague=RU_VAGUE,
    scales=RU_SCALES,
    thousands_comma=False,
    english=False,
)
ENGLISH = Language(
    number=rf"\d{{1,3}}(?:\.\d{{3}}){{2,}}(?![\d.])|\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d{{1,3}}(?:{SPACE}\d{{3}})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?",
    scale=r"(?:(?:thousand|million|billion|trillion)s?|bn|bln|mln|mn|tn|trn)(?![a-z])|(?<=\d)(?:k|m|b)(?![a-z])",
    percent=r"%|per\s?cent(?![a-z])",
    to="to|through",
    half=r"and\s+a\s+half",
    joiner=r"(?:(?<=hundred)\s+and\s+|\s+|(?<=ty)-)",  # "twenty-five", "hundred and fifty"; "two-three" stays two numbers
    opener=r"(?:one|a)(?=\s+hundred\b)|one(?=\s+and\s+a\s+half\b)",
    ones=EN_ONES,
    ones_after=EN_ONES_AFTER,
    leading_scale="(?!)",
    months=EN_MONTHS,
    weekdays=EN_WEEKDAYS,
    denominators=EN_DENOMINATORS,
    words=EN_WORDS,
    vague=EN_VAGUE,
    scales=EN_SCALES,
    thousands_comma=True,
    english=True,
)
