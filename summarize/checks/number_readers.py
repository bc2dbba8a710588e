"""A match of number_patterns' expression → the quantities it holds, with the values they may be read as."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from summarize.checks.flags import Kind
from summarize.checks.number_words import EN_MONTH_BEFORE, EN_MONTH_WORDS, HUNDRED, ROMAN, RU_COMPOUND_STEMS

if TYPE_CHECKING:
    from summarize.checks.number_patterns import Language

SPACE = r"[ \u00a0\u202f\u2009]"
CURRENCY = "$€£"
GLUED_MONEY = frozenset({"m", "b"})  # "$425m": millions after a currency sign only ("100m sprint" is metres)


@dataclass(frozen=True)
class Quantity:
    """One number or date as the text writes it, and the values it may be read as."""

    text: str  # the span as written: "1,5 млн", "31 октября 2024", "Су-57"
    kind: Kind  # "number" or "date"
    values: frozenset[Decimal] = frozenset()  # a number's readings (any one found is enough); a date's year
    day: tuple[int, int] | None = None  # dates: (day, month); day 0 for a month alone or with a year only
    designator: str = ""  # "су57" for "Су-57": matched whole within one language
    checked: bool = True  # False for vague words that only support
    weekday: int | None = None  # 0 for Monday … 6 for Sunday


def quantities(text: str, lang: Language) -> list[Quantity]:
    """Every number, date, weekday, designator and number word of `text`, in order."""
    found: list[Quantity] = []
    for m in lang.pattern.finditer(text):
        found.extend(READERS[m.lastgroup or ""](m, lang))
    return found


def _parse(digits: str, lang: Language) -> Decimal:
    """ "1 500 000" → 1500000, "1,5" → 1.5, "1.500.000" → 1500000; English "1,500" → 1500."""
    if re.fullmatch(r"\d{1,3}(?:\.\d{3}){2,}", digits):
        digits = digits.replace(".", "")
    if lang.thousands_comma and re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", digits):
        digits = digits.replace(",", "")
    return Decimal(re.sub(SPACE, "", digits).replace(",", "."))


def _scale(m: re.Match[str], group: str, lang: Language, number_at: int) -> Decimal:
    """The scale word's value; a glued "m" or "b" counts only after a currency sign ("$425m")."""
    text = m[group]
    if text and text.lower() in GLUED_MONEY and (number_at == 0 or m.string[number_at - 1] not in CURRENCY):
        return Decimal(1)
    return lang.scale_of(text)


def _value(m: re.Match[str], i: int, lang: Language) -> Decimal:
    """The number with its scale, and a smaller amount after it: "3 млн 200 тыс." = 3 200 000."""
    scale = _scale(m, f"s{i}", lang, m.start(f"n{i}"))
    value = _parse(m[f"n{i}"], lang) * scale
    if m[f"m{i}"] and (smaller := lang.scale_of(m[f"t{i}"])) < scale:
        value += Decimal(m[f"m{i}"]) * smaller
    return value


def _number(m: re.Match[str], lang: Language) -> list[Quantity]:
    return [Quantity(m["v0"], "number", frozenset({_value(m, 0, lang)}))]


def _range(m: re.Match[str], lang: Language) -> list[Quantity]:
    """Each end a number; the first, with no scale of its own, may share the second's ("10–15 млн")."""
    first, second = _value(m, 1, lang), _value(m, 2, lang)
    readings = {first, first * _scale(m, "s2", lang, m.start("n2"))} if not m["s1"] else {first}
    return [Quantity(m["v1"], "number", frozenset(readings)), Quantity(m["v2"], "number", frozenset({second}))]


def _date(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "31 октября 2024", "October 31"; "28–30 сентября" and "с 28 по 30 сентября" are two dates."""
    p = "a" if m["date"] else "b"
    year = frozenset({Decimal(m[f"{p}year"])}) if m[f"{p}year"] else frozenset()
    month = lang.month(m[f"{p}month"])
    return [Quantity(m[0], "date", year, day=(int(d), month)) for d in (m[f"{p}d1"], m[f"{p}d2"]) if d]


def _day_month_year(m: re.Match[str], day: int, month: int, year: str) -> list[Quantity]:
    """A date written in digits; a two-digit year may be either century."""
    y = int(year)
    years = {y} if len(year) == 4 else {1900 + y, 2000 + y}
    if not 1 <= month <= 12:
        return [Quantity(m[0], "number", frozenset(map(Decimal, (day, month, y))))]
    return [Quantity(m[0], "date", frozenset(map(Decimal, years)), day=(day, month))]


def _numeric_date(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "31.10.2024", "31.10.24"."""
    return _day_month_year(m, int(m["dd"]), int(m["dm"]), m["dy"])


def _iso_date(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "2024-06-05" is 5 June 2024, not 2024, 6 and 5."""
    return _day_month_year(m, int(m["id"]), int(m["im"]), m["iy"])


def _slash_date(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "10/25/2024": month first in English unless the first number cannot be a month; day first in Russian."""
    a, b = int(m["sa"]), int(m["sb"])
    month_first = lang.english and a <= 12 or b > 12
    return _day_month_year(m, b, a, m["sy"]) if month_first else _day_month_year(m, a, b, m["sy"])


def _month_year(m: re.Match[str], lang: Language) -> list[Quantity]:
    return [Quantity(m[0], "date", frozenset({Decimal(m["cyear"])}), day=(0, lang.month(m["cmonth"])))]


def _month_alone(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "в мае", "in May": day 0 of the month. An English month is capitalised, and "May" and "March"
    follow a word such as "in" or "since" ("Theresa May", "March on")."""
    if lang.english and not m[0][0].isupper():
        return []
    before = m.string[: m.start()].split()[-1:]
    if lang.english and m[0].lower() in EN_MONTH_WORDS and not (before and re.fullmatch(EN_MONTH_BEFORE, before[0], re.IGNORECASE)):
        return []
    return [Quantity(m[0], "date", day=(0, lang.month(m[0])))]


def _weekday(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "во вторник", "субботний", "on Tuesday": the day of the week; not in a title such as "The
    Sunday Times" (after "the", before a capitalised word)."""
    before, after = m.string[: m.start()].split()[-1:], m.string[m.end() :].split()[:1]
    if lang.english and before and before[0].lower() == "the" and after and after[0][:1].isupper():
        return []
    day = next(day for day, words in lang.weekdays.items() if re.compile(words, re.IGNORECASE).fullmatch(m.string, m.start(), m.end()))
    return [Quantity(m[0], "date", weekday=day)]


def _time(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "22:08" is 22.08, so "в 22.08", "10:08 p.m." and "10:08 вечера" match it; "3 p.m." is 15."""
    pm = (m["pm"] or m["clock"] or "").lower()
    hour = int(m["hour"])
    if m["clock"] and not 1 <= hour <= 12:
        return [Quantity(m[0], "number", frozenset({Decimal(hour)}))]
    hour += 12 if pm.startswith(("p", "в")) and hour < 12 else 0
    hour -= 12 if pm.startswith("a") and hour == 12 else 0
    return [Quantity(m[0], "number", frozenset({Decimal(hour) + Decimal(m["minute"] or 0) / 100}))]


def _decade(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "90-х", "'90s": the 1990s, or the number 90 as it is written."""
    decade = int(m["tens"])
    return [Quantity(m[0], "number", frozenset(map(Decimal, (decade, 1900 + decade, 2000 + decade))))]


def _roman(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "XX век" (Latin or Cyrillic Х) is 20, as "20th century" is."""
    digits = [ROMAN[c] for c in m["numerals"].lower().replace("х", "x")]
    value = sum(-d if d < after else d for d, after in zip(digits, digits[1:] + [0]))
    return [Quantity(m[0], "number", frozenset({Decimal(value)}))]


def _designator(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "Су-57", "COVID-19": the label's first three letters ("Формулы-1" = "Формуле-1") and the code."""
    key = (m["label"][:3] + m["code"]).casefold().replace("-", "").replace("‑", "")
    return [Quantity(m[0], "number", frozenset(Decimal(d) for d in re.findall(r"\d+", m["code"])), designator=key)]


def _fraction(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "две трети", "2/3", "two thirds": the share, as the percentages it is written as (66, 67, 66.7)."""
    if m["fa"]:
        top, bottom = Decimal(m["fa"]), Decimal(m["fb"])
    else:
        top = lang.words.get(m["fw"].lower(), Decimal(1))
        bottom = Decimal(next(value for value, words in lang.denominators.items() if re.fullmatch(words, m["fd"], re.IGNORECASE)))
    if not bottom:
        return [Quantity(m[0], "number", frozenset({top}))]
    share = top / bottom * 100
    readings = {share.quantize(Decimal(step), rounding=r) for step in ("1", "0.1") for r in ("ROUND_FLOOR", "ROUND_HALF_UP")}
    return [Quantity(m[0], "number", frozenset(readings | {(top / bottom).quantize(Decimal("0.0001"))}))]


def _words(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "двадцать пять тысяч", "тысяча пятьсот", "two hundred fifty": each scale word multiplying what
    is before it, "hundred" too; "один", "one" and "a" count 1."""
    total = current = Decimal(0)
    for word in re.split(r"[\s-]+(?:and\s+)?", m["w"]):
        if word.lower() == HUNDRED:
            current = max(current, Decimal(1)) * 100
        elif re.fullmatch(lang.scale, word, re.IGNORECASE):
            total, current = total + max(current, Decimal(1)) * lang.scale_of(word), Decimal(0)
        else:
            current += lang.words.get(word.lower(), Decimal(1))
    value = (total + current + (Decimal("0.5") if m["half"] else 0)) * lang.scale_of(m["ws"])
    return [Quantity(m[0], "number", frozenset({value}))]


def _compound(m: re.Match[str], lang: Language) -> list[Quantity]:
    """ "пятнадцатилетний", "двадцатипятиэтажный": the number the word is made of; it only supports."""
    stems = re.findall("|".join(sorted(RU_COMPOUND_STEMS, key=len, reverse=True)), m["stems"].lower())
    return [Quantity(m[0], "number", frozenset({sum((RU_COMPOUND_STEMS[s] for s in stems), Decimal(0))}), checked=False)]


def _vague(m: re.Match[str], lang: Language) -> list[Quantity]:
    value = next(value for value, words in lang.vague.items() if re.fullmatch(words, m[0], re.IGNORECASE))
    return [Quantity(m[0], "number", frozenset({value}), checked=False)]


READERS: dict[str, Callable[[re.Match[str], Language], list[Quantity]]] = {
    "iso_date": _iso_date,
    "slash_date": _slash_date,
    "numeric_date": _numeric_date,
    "date": _date,
    "date_month_first": _date,
    "month_year": _month_year,
    "roman": _roman,
    "time": _time,
    "decade": _decade,
    "designator": _designator,
    "fraction": _fraction,
    "range": _range,
    "number": _number,
    "weekday": _weekday,
    "month_alone": _month_alone,
    "words": _words,
    "compound": _compound,
    "vague": _vague,
}
