"""Numbers and dates in Russian and English text, compared as values (contract; H1 implements)."""

from __future__ import annotations

from summarize.checks.flags import Field, Flag


def unsupported_numbers(summary: str, article: str, field: Field = "summary_ru") -> list[Flag]:
    """The numbers and dates of a Russian `summary` whose values the Russian `article` lacks."""
    raise NotImplementedError


def changed_in_translation(summary_en: str, summary_ru: str) -> list[Flag]:
    """What the translation changed, all with field "summary_en": its numbers whose values the Russian
    summary lacks (text: the English span), and Russian numbers it dropped (text: the Russian span)."""
    raise NotImplementedError


def number_support(summary: str, article: str) -> tuple[int, int]:
    """(found, total): how many of the summary's numbers and dates the article has, for eval."""
    raise NotImplementedError
