"""The check run after each model summary (contract; H2 implements)."""

from __future__ import annotations

from summarize.checks.flags import Flag


class Checker:
    """Names and numbers together; natasha loads on the first check, not before."""

    def check(self, article: str, summary_ru: str | None, summary_en: str | None) -> list[Flag]:
        raise NotImplementedError

    def warning(self, flags: list[Flag]) -> str:
        """The one warning line naming the flagged spans."""
        raise NotImplementedError
