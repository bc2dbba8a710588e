"""Names (people, places, organisations) by natasha's news NER, matched by lemma.

A name of the summary is supported when every one of its words is a word of the article in some
form: "Москве" and "Москва", "Путина" and "Путин" match. The article is lemmatised word by word, not
through its NER spans, so a name its NER missed (or tagged otherwise) still counts. Abbreviations
match the expansion the article spells out ("МИД" and "Министерство иностранных дел"), both ways.

A first name the article never gives is flagged: "Владимир Путин" against an article that says only
"Путин" is not supported. Models invent first names and patronymics, and a wrong one ("Андрей
Собянин") reads exactly like a right one, so only the article's own words count. A person's words
must name one person there: stand in one mention, side by side or with a patronymic between, no
punctuation nor other words ("Михаил Лавров" is not in "Сергей Лавров и Михаил Галузин"). An
initial ("С. Собянин") is a first name's first letter in that mention, never a word of its own. A
place's words stand together too, coordination allowed ("Курской и Белгородской областях"), so
"Великом Новгороде" is not in "Нижнем Новгороде … Великой Отечественной".

A generic source word ("СМИ" in "сообщают СМИ", "соцсети") names no one in particular, so it is never
flagged; names with any other word are checked as usual.

What it cannot see: a name that changed its word ("России" for the article's "российские", "РФ" for
"Россия", "Минобороны" for "Министерство обороны") is flagged; a lowercased text has no names for
the NER (the RIA corpus is lowercased).
"""

from __future__ import annotations

import functools
import itertools
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
# Words that name a kind of source, not one source: a name made only of these is not checked.
GENERIC_SOURCES = frozenset({"сми", "госсми", "соцсеть", "соцсети", "пресса", "интернет", "мессенджер", "telegram-канал"})
INITIAL = re.compile(r"[A-ZА-ЯЁ]")  # one capital of a name: "С" of "С. Собянин"
NAME_PARTICLES = frozenset("де да ди дель ван фон дер ла ле аль эль бен бин ибн оглы кызы".split())  # "Фернандес де Киршнер"
FIRST_NAME_TAGS = frozenset({"Name", "Patr"})  # pymorphy3's grammemes for first names and patronymics
STUMP = (2, 4)  # letters of the head of a stump compound: "Гум" of "Гумпомощь", "Мин" of "Минобороны"
MIN_STUMP_TAIL = 4  # letters of its tail, a word of its own: "помощь", "обороны"
LOC_EXTRA = 4  # words a place's mention may hold beyond its own: "Курской и Белгородской областях"
MAX_TRIES = 256  # placings of a name's words tried around each place its first word stands


@dataclass(frozen=True)
class Source:
    """What an article offers to match names against, read once per article."""

    where: dict[str, list[int]]  # each normal form of each word (and of a hyphenated word's parts): the words' positions
    words: tuple[str, ...]  # the words as written
    joined: tuple[str, ...]  # what stands between each word and the one before it, spaces removed ("" for a space)
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
        spans = [(_without_numbers(text[span.start : span.stop]), span.type) for span in doc.spans if span.type in NAME_TYPES]
        return [(name, kind) for name, kind in spans if name]

    def read(self, article: str) -> Source:
        """The article's lemmas (with where they stand), abbreviations and initials."""
        where: dict[str, list[int]] = {}
        abbreviations: set[str] = set()
        found = list(WORD.finditer(article))
        joined = ("",) + tuple("".join(article[a.end() : b.start()].split()) for a, b in zip(found, found[1:]))
        for position, word in enumerate(m[0] for m in found):
            lemmas = self._lemmas(word).union(*(self._lemmas(part) for part in word.split("-"))) if "-" in word else self._lemmas(word)
            for lemma in lemmas:
                where.setdefault(lemma, []).append(position)
            if abbreviation := _abbreviation(word):
                abbreviations |= self._lemmas(abbreviation)
        return Source(where, tuple(m[0] for m in found), joined, frozenset(abbreviations), self._initials(article))

    def supported(self, name: str, kind: str, source: Source) -> bool:
        """Every content word of the name is in the article, as a lemma, as an abbreviation the
        article spells out, or inside a run of words the article abbreviates; a person's or a
        place's words also stand in one mention there (see `_together`). A name of generic source
        words ("СМИ") is always supported."""
        words = [w for w in WORD.findall(name) if not self._function(w) and not (kind == "PER" and INITIAL.fullmatch(w))]
        if words and all(not self._lemmas(w).isdisjoint(GENERIC_SOURCES) for w in words):
            return True
        covered = [self._has_word(w, source) for w in words]
        for start in range(len(words)):
            for stop in range(start + MIN_ABBREVIATION, len(words) + 1):
                if "".join(w[0] for w in words[start:stop]).lower() in source.abbreviations:
                    covered[start:stop] = [True] * (stop - start)
        # A part in brackets is a name of its own: "Тони Молл (Tony Moll)", "Луганской Народной Республики (ЛНР)".
        parts = [[w for w in WORD.findall(part) if not self._function(w)] for part in re.split(r"[()\[\]]", name)]
        return all(covered) and all(self._together(kind, *_initials_apart(part, kind), source) for part in parts if part)

    def _has_word(self, word: str, source: Source) -> bool:
        if not self._lemmas(word).isdisjoint(source.where):
            return True
        if "-" in word and all(not self._lemmas(part).isdisjoint(source.where) for part in word.split("-") if not self._function(part)):
            return True
        abbreviation = _abbreviation(word)
        return bool(abbreviation) and _spelled_out(abbreviation.lower(), source.initials) or self._stump(word, source)

    def _together(self, kind: str, words: list[str], initials: list[str], source: Source) -> bool:
        """A person's words stand in one mention of the article ("Владимир Путин" in "Владимира
        Владимировича Путина", or "Путин Владимир"), each initial the first letter of a first name
        or patronymic there; a place's words too, with adjectives, "и" and commas between
        ("Курской и Белгородской областях"). Organisations reorder their words, so any order passes."""
        if kind not in ("PER", "LOC"):
            return True
        spots = [sorted({p for lemma in self._lemmas(w) for p in source.where.get(lemma, ())}) for w in words]
        if kind == "LOC":  # an abbreviation stands apart ("Луганской Народной Республики (ЛНР)"), and one matched by one stands nowhere
            spots = [s for s, w in zip(spots, words) if s and not _abbreviation(w)]
            if len(spots) < 2:
                return True
        elif not words or not all(spots):
            return False
        reach = len(words) + len(initials) + (LOC_EXTRA if kind == "LOC" else 0)
        for anchor in spots[0]:
            near = [[q for q in s if abs(q - anchor) <= reach] for s in spots[1:]]
            for combo in itertools.islice(itertools.product(*near), MAX_TRIES):
                chosen = {anchor, *combo}
                if len(chosen) == len(spots) and self._one_mention(kind, chosen, source) and self._initials_fit(initials, chosen, source):
                    return True
        return False

    def _one_mention(self, kind: str, chosen: set[int], source: Source) -> bool:
        """Whether the words at `chosen` make one mention: a space between each two (a comma too
        for a place), and only patronymics or capitalised words (a person) or adjectives and
        function words (a place) in between."""
        lo, hi = min(chosen), max(chosen)
        separators = ("",) if kind == "PER" else ("", ",")
        if any(source.joined[j] not in separators and not (source.joined[j] == "." and INITIAL.fullmatch(source.words[j - 1])) for j in range(lo + 1, hi + 1)):
            return False  # nothing between but spaces (and commas for a place), and the stop of an initial ("Джон Ф. Кеннеди")
        return all(self._may_stand_between(kind, source.words[j]) for j in range(lo, hi + 1) if j not in chosen)

    def _initials_fit(self, initials: list[str], chosen: set[int], source: Source) -> bool:
        """Each initial is the first letter of its own first name or patronymic, in the mention."""
        used = set(chosen)
        for letter in initials:
            lo, hi = min(used), max(used)
            spots = range(max(0, lo - len(initials)), min(len(source.words), hi + len(initials) + 1))
            fits = (
                j for j in spots if j not in used and source.words[j][0].upper() == letter and (self._first_name(source.words[j]) or source.words[j] == letter)
            )
            spot = next((j for j in fits if self._one_mention("PER", used | {j}, source)), None)
            if spot is None:
                return False
            used.add(spot)
        return True

    def _may_stand_between(self, kind: str, word: str) -> bool:
        if kind == "PER":
            return word[0].isupper() or self._first_name(word) or word in NAME_PARTICLES
        return self._function(word.lower()) or any(parse.tag.POS == "ADJF" for parse in self._morph.parse(word))

    def _first_name(self, word: str) -> bool:
        return any(not FIRST_NAME_TAGS.isdisjoint(parse.tag.grammemes) for parse in self._morph.parse(word))

    def _stump(self, word: str, source: Source) -> bool:
        """A stump compound of two words the article writes in full: "Гумпомощь" of "гуманитарная
        помощь", "Минобороны" of "Министерство обороны", "Госдума" of "Государственная дума"."""
        for cut in range(STUMP[0], STUMP[1] + 1):
            head, tail = word[:cut].lower(), word[cut:]
            if len(tail) < MIN_STUMP_TAIL:
                break
            after = (p for lemma in self._lemmas(tail) for p in source.where.get(lemma, ()))
            if any(p and source.joined[p] == "" and source.words[p - 1].lower().startswith(head) for p in after):
                return True
        return False

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


def _without_numbers(name: str) -> str:
    """A name without the numbers the NER took in at its ends ("Банк России 25.10.24")."""
    return re.sub(r"^(?:\S*\d\S*\s+)+|(?:\s+\S*\d\S*)+$", "", name) if re.search(r"\d", name) else name


def _initials_apart(words: list[str], kind: str) -> tuple[list[str], list[str]]:
    """(words, initials): a person's one-capital words are initials ("С" of "С. Собянин")."""
    initials = [w for w in words if kind == "PER" and INITIAL.fullmatch(w)]
    return [w for w in words if w not in initials], initials
