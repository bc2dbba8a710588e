"""Numbers and dates in Russian and English text, compared as values, not strings.

Each text is read once, left to right, by one regular expression per language (number_patterns.py,
read by number_readers.py); every number, date, weekday, designator ("Су-57"), fraction and number
word becomes a `Quantity`. A summary's quantity is supported
when the other text holds the same value in any spelling: "1,5 млн" = "1 500 000" = "полтора
миллиона" = "1.5 million". Values are `Decimal`s, so the match is exact after scaling, with no
floating-point noise and no rounding: "1,46 млн" against "1.5 million" is a change.

Choices where the text is ambiguous, made the same way on both sides so that a sentence copied
from the article always matches itself:
- "1,5" and "1.5" are decimals; "1, 2 и 3" is a list (a comma before a digit with no space is a
  decimal comma). In English "1,500" (a comma before three digits) is 1500; in Russian "1,250 млрд"
  is 1.25 billion. "1.500.000" (two dotted groups or more) is 1500000 in both.
- A number glued to letters in front ("Су-57", "COVID-19", "G20") is a designator, matched whole
  within one language and by its digits across languages. Letters after a number are a suffix:
  "5-й", "1990-х", "32-year-old", "5G" are 5, 1990, 32, 5.
- A range ("10–15 млн", "от 10 до 15 млн", "from 10 to 15 million") is two numbers; the first,
  without a scale of its own, may be read with or without the second's. "28–30 сентября" and "с 28
  по 30 сентября" are two dates. "3 млн 200 тыс." and "2 млрд 170 млн" are one amount.
- A date is a day and a month (the year too, when written): it needs that day of that month in the
  other text. A month with a year ("в октябре 2024") is a date with day 0; a year alone is a number.
  A date's day also counts as a number ("с 18 по 20 сентября" = "from 18 to 20 September").
  "2024-06-05" is a date, "10/25/2024" too (month first in English unless the first number is
  above 12, day first in Russian). A month alone ("в мае", "in May") is day 0 of it, supported by
  any date of that month; English months alone count capitalised, and "May"/"March" only after
  "in", "since", "by"… ("Theresa May"). A weekday ("во вторник", "on Tuesday") needs that weekday
  named, or a full date with a year falling on it; "среда" counts as "среду", "средам" and after
  "со", "до", "к" only ("окружающая среда").
- Times "22:08" are the value 22.08 (so "22.08", "10:08 p.m." and "10:08 вечера" match), "3 p.m."
  is 15; a score "2:1" is two numbers. "90-х", "'90s" are 90 or 1990 or 2090. Units are not compared: "15%" matches "15 человек" (values, not meanings).
- Number words: Russian два…девятьсот, полтора, двое…десятеро, "с половиной", the scale words
  ("двадцать пять тысяч", "тысяча пятьсот") and "один" closing a compound ("двадцать один", "сто
  одна"); English two…ninety, "hundred", "twenty-five", "twenty-one", "a hundred thousand"; "$425m",
  "$2.17 bln" (a glued "m"/"b" after a currency sign only), "45k". Fractions ("две трети", "2/3",
  "three quarters") are their share as a percentage, rounded down or half up, to 1 or 0.1
  ("две трети" = 66%, 67%, 66.7%); a fraction's numerator is not a number of its own. Vague words never get flagged themselves, they only support: "один",
  "one", "вдвое", "twice", "оба", "both", "a million", "половина", ordinals ("седьмой", "seventh") and
  compounds ("трехлетний", "пятнадцатилетний"), so "1 человек" is supported by "один человек" and "7-я" by "seventh".
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from summarize.checks.flags import Field, Flag
from summarize.checks.number_patterns import ENGLISH, RUSSIAN
from summarize.checks.number_readers import Quantity, quantities


@dataclass
class Facts:
    """Everything a text says in numbers, to look a quantity up in."""

    values: set[Decimal]
    days: set[tuple[int, int]]  # (day, month), and (0, month) for every month named
    designators: set[str]
    weekdays: set[int]  # named, or of a full date ("5 июня 2024 года" is a Wednesday)


DIGITS = re.compile(r"\d+")


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


def changed_digits(translation: str, summary_ru: str, field: str) -> list[Flag]:
    """A translation into a language without number tables (not English): its runs of digits ("1,5"
    is 1 and 5, "10 000" and "10.000" are 10 and 000) against the Russian summary's, as values, so a
    digit the translation added or dropped is flagged; number words are not read."""
    added = _missing(translation, summary_ru)
    dropped = _missing(summary_ru, translation)
    return list(dict.fromkeys(Flag(text, "number", field) for text in added + dropped))  # type: ignore[arg-type]


def _missing(text: str, other: str) -> list[str]:
    """Digit runs of `text` whose values `other` lacks (as many times as they occur)."""
    left = Counter(int(run) for run in DIGITS.findall(other))
    missing = []
    for run in DIGITS.findall(text):
        if left[int(run)] > 0:
            left[int(run)] -= 1
        else:
            missing.append(run)
    return missing


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
    if q.weekday is not None:
        return q.weekday in facts.weekdays
    if q.day is not None:
        return q.day in facts.days and (not q.values or bool(q.values & facts.values))
    return bool(q.values & facts.values)


def _facts(found: Iterable[Quantity]) -> Facts:
    facts = Facts(set(), set(), set(), set())
    for q in found:
        facts.values |= q.values
        if q.designator:
            facts.designators.add(q.designator)
        if q.weekday is not None:
            facts.weekdays.add(q.weekday)
        if q.day is not None:
            day, month = q.day
            facts.days |= {q.day, (0, month)}
            if day:
                facts.values.add(Decimal(day))
                facts.weekdays |= {weekday for year in q.values if (weekday := _weekday(int(year), month, day)) is not None}
    return facts


def _weekday(year: int, month: int, day: int) -> int | None:
    """The day of the week of a full date; None for a date that does not exist ("31 июня")."""
    try:
        return datetime.date(year, month, day).weekday()
    except ValueError:
        return None


def _flags(found: Iterable[Quantity], field: Field) -> list[Flag]:
    """One flag per distinct span, in the order of the text."""
    return list(dict.fromkeys(Flag(_clean(q.text), q.kind, field) for q in found))


def _clean(text: str) -> str:
    """The span on one line: a summary may wrap inside "31\\nоктября"."""
    return " ".join(text.split()) if "\n" in text else text
