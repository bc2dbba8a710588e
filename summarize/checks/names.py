"""Names (people, places, organisations) by natasha's news NER, matched by lemma.

A name of the summary is supported when every one of its words is a word of the article in some
form: "Москве" and "Москва", "Путина" and "Путин" match. The article is lemmatised word by word, not
through its NER spans, so a name its NER missed (or tagged otherwise) still counts. Abbreviations
match the expansion the article spells out ("МИД" and "Министерство иностранных дел"), both ways.

A first name the article never gives is flagged: "Владимир Путин" against an article that says only
"Путин" is not supported. Models invent first names and patronymics, and a wrong one ("Андрей
Собянин") reads exactly like a right one, so only the article's own words count.

What it cannot see: a name that changed its word ("России" for the article's "российские", "РФ" for
"Россия", "Минобороны" for "Министерство обороны") is flagged; a lowercased text has no names for
the NER (the RIA corpus is lowercased).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from summarize.checks.flags import Flag

WORD = re.compile(r"\w+(?:-\w+)*")
TOKEN = re.compile(r"\w+(?:-\w+)*|[^\w\s]")  # words, and the punctuation an expansion never crosses
# Words an expansion's initials leave out ("Организация по безопасности и сотрудничеству в Европе":
# ОБСЕ), and that a name need not find in the article: pymorphy3's parts of speech.
FUNCTION_POS = frozenset({"PREP", "CONJ", "PRCL", "INTJ"})
MIN_ABBREVIATION = 2  # letters: "ЦБ", "ЕС"
# All capitals, perhaps with a case ending: "МИД", "ФСБ", "МИДа", "ООНом", "NATO".
ABBREVIATION = re.compile(rf"([A-ZА-ЯЁ]{{{MIN_ABBREVIATION},}})[a-zа-яё]{{0,2}}")
LEMMA_CACHE = 2**16  # distinct words whose lemmas stay cached: news vocabulary, bounded for long runs
NAME_TYPES = frozenset({"PER", "LOC", "ORG"})  # natasha's news NER tags exactly these


@dataclass(frozen=True)
class Source:
    """What an article offers to match names against, read once per article."""

    where: dict[str, list[int]]  # each normal form of each word (and of a hyphenated word's parts): the words' positions
    abbreviations: frozenset[str]  # its all-capital words, lowercased and lemmatised ("МИДа": "мид")
    initials: tuple[tuple[str, str], ...]  # per stretch between punctuation: content words' first letters, and "C"/"c" for their case


class Names:
    """natasha's NER and pymorphy3's lemmas, loaded once (about half a second) on construction.

    natasha's own MorphVocab wraps pymorphy2, which no longer imports on Python 3.11+, so lemmas
    come from pymorphy3 directly (the same dictionaries and the same normal forms).
    """

    def __init__(self) -> None:
        import pymorphy3
        from natasha import NewsEmbedding, NewsNERTagger, Segmenter

        self._segmenter = Segmenter()
        self._tagger = NewsNERTagger(NewsEmbedding())
        self._morph = pymorphy3.MorphAnalyzer()
        self._lemmas = functools.lru_cache(maxsize=LEMMA_CACHE)(self._parse_lemmas)
        self._function = functools.lru_cache(maxsize=LEMMA_CACHE)(self._parse_function)

    def unsupported(self, summary: str, article: str) -> list[Flag]:
        """The names of a Russian summary whose lemmatised words the article lacks (field summary_ru)."""
        return [Flag(name, "name", "summary_ru") for name, found in self.judge(summary, article) if not found]

    def support(self, summary: str, article: str) -> tuple[int, int]:
        """(found, total): how many of the summary's names the article has, for eval."""
        verdicts = self.judge(summary, article)
        return sum(found for _, found in verdicts), len(verdicts)

    def judge(self, summary: str, article: str) -> list[tuple[str, bool]]:
        """Each distinct name of the summary (as written, in order) and whether the article has it."""
        names: dict[str, str] = {}
        for name, kind in self.names(summary):
            names.setdefault(name, kind)
        if not names:
            return []
        source = self.read(article)
        return [(name, self.supported(name, kind, source)) for name, kind in names.items()]

    def names(self, text: str) -> list[tuple[str, str]]:
        """The PER, LOC and ORG spans natasha's NER finds, as written, with their types."""
        from natasha import Doc

        doc = Doc(text)
        doc.segment(self._segmenter)
        doc.tag_ner(self._tagger)
        return [(text[span.start : span.stop], span.type) for span in doc.spans if span.type in NAME_TYPES]

    def read(self, article: str) -> Source:
        """The article's lemmas (with where they stand), abbreviations and initials."""
        where: dict[str, list[int]] = {}
        abbreviations: set[str] = set()
        for position, word in enumerate(WORD.findall(article)):
            lemmas = self._lemmas(word).union(*(self._lemmas(part) for part in word.split("-"))) if "-" in word else self._lemmas(word)
            for lemma in lemmas:
                where.setdefault(lemma, []).append(position)
            if abbreviation := _abbreviation(word):
                abbreviations |= self._lemmas(abbreviation)
        return Source(where, frozenset(abbreviations), self._initials(article))

    def supported(self, name: str, kind: str, source: Source) -> bool:
        """Every content word of the name is in the article, as a lemma, as an abbreviation the
        article spells out, or inside a run of words the article abbreviates; a person's words
        also stand together there, so that one person's first name does not pass for another's."""
        words = [w for w in WORD.findall(name) if not self._function(w)]
        covered = [self._has_word(w, source) for w in words]
        for start in range(len(words)):
            for stop in range(start + MIN_ABBREVIATION, len(words) + 1):
                if "".join(w[0] for w in words[start:stop]).lower() in source.abbreviations:
                    covered[start:stop] = [True] * (stop - start)
        return all(covered) and (kind != "PER" or self._together(words, source))

    def _has_word(self, word: str, source: Source) -> bool:
        if not self._lemmas(word).isdisjoint(source.where):
            return True
        if "-" in word and all(not self._lemmas(part).isdisjoint(source.where) for part in word.split("-") if not self._function(part)):
            return True
        abbreviation = _abbreviation(word)
        return bool(abbreviation) and _spelled_out(abbreviation.lower(), source.initials)

    def _together(self, words: list[str], source: Source) -> bool:
        """Some place in the article has all the words within as many words of each other as
        the name has ("Владимир Путин" in "Владимира Владимировича Путина", or "Путин Владимир")."""
        first, *others = [{p for lemma in self._lemmas(w) for p in source.where.get(lemma, ())} for w in words] or [{0}]
        reach = len(words)
        return any(all(any(abs(q - p) <= reach for q in other) for other in others) for p in first)

    def _initials(self, article: str) -> tuple[tuple[str, str], ...]:
        stretches: list[tuple[str, str]] = []
        letters, cases = [], []
        for token in TOKEN.findall(article) + ["."]:
            if not WORD.fullmatch(token):
                if letters:
                    stretches.append(("".join(letters), "".join(cases)))
                letters, cases = [], []
            elif not self._function(token):
                letters.append(token[0].lower())
                cases.append("C" if token[0].isupper() else "c")
        return tuple(stretches)

    def _parse_lemmas(self, word: str) -> frozenset[str]:
        """Every parse's normal form (a surname is often also a common word: "Путина"), and the
        word itself, lowercased, with ё read as е (texts write either)."""
        forms = {parse.normal_form for parse in self._morph.parse(word)} | {word.lower()}
        return frozenset(form.replace("ё", "е") for form in forms)

    def _parse_function(self, word: str) -> bool:
        return word.islower() and self._morph.parse(word)[0].tag.POS in FUNCTION_POS


def _abbreviation(word: str) -> str | None:
    """The capitals of an abbreviation ("МИД" of "МИДа"); None for other words."""
    match = ABBREVIATION.fullmatch(word)
    return match.group(1) if match else None


def _spelled_out(abbreviation: str, initials: tuple[tuple[str, str], ...]) -> bool:
    """Whether consecutive content words of the article, the first capitalised, have these initials."""
    for letters, cases in initials:
        start = letters.find(abbreviation)
        while start >= 0:
            if cases[start] == "C":
                return True
            start = letters.find(abbreviation, start + 1)
    return False
