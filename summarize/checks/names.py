"""Names (people, places, organisations) by natasha's news NER, matched by lemma (contract; H2 implements)."""

from __future__ import annotations

from summarize.checks.flags import Flag


class Names:
    """natasha's NER and pymorphy3's lemmas, loaded once (about half a second) on construction."""

    def unsupported(self, summary: str, article: str) -> list[Flag]:
        """The names of a Russian summary whose lemmatised words the article lacks (field summary_ru)."""
        raise NotImplementedError

    def support(self, summary: str, article: str) -> tuple[int, int]:
        """(found, total): how many of the summary's names the article has, for eval."""
        raise NotImplementedError
