"""Extractive summaries without a model: the most central sentences near the top, or the lead.

Both work on the sentences of `summarize.text.split_sentences`, keep the chosen ones in article
order and exactly as written, and honour a sentence budget and an optional word budget. Pure
Python with razdel and snowballstemmer only, so it imports fast and runs where torch is absent.

Similarity is cosine over TF-IDF vectors (continuous LexRank, Erkan & Radev 2004) rather than
TextRank's overlap |Si ∩ Sj| / (log|Si| + log|Sj|): IDF lets the words that carry an article's
topic count for more than words every sentence shares, cosine does not reward a sentence just for
being long, and the overlap formula divides by zero for one-word sentences.

LexRank is blind to order, and news is not: its facts come first, and on news LexRank alone scores
below the first sentences (docs/evaluation.md). So centrality is weighted by a prior that falls with
position (`position_prior`), as position-aware centrality does (Zheng & Lapata 2019, PacSum), and a
sentence that points back ("Он добавил…", "Кроме того…") is taken only after the one it points to.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from summarize.config import Engine
from summarize.engines.protocol import Extract
from summarize.text import group_digits, is_dateline, join_sentences, split_sentences

# The similarity graph is quadratic in sentences; the first ones hold the news (lead-heavy genre).
MAX_CANDIDATES = 400
# Fewer words than this is a dateline, a byline or a caption, not a sentence worth extracting.
MIN_WORDS = 4
# A text with no sentence ends is one "sentence": the extract keeps this many words per sentence asked
# for (about a news sentence's length), not the whole input.
WORDS_PER_UNENDED_SENTENCE = 25
SENTENCE_ENDS = frozenset(".!?…")
DAMPING = 0.85
TOLERANCE = 1e-6  # L1 change of the score vector between two iterations
MAX_ITERATIONS = 100  # damping alone bounds the error by 0.85**100 ≈ 1e-7, so rarely reached

# The Snowball project's Russian stop-word list (snowballstem.org/algorithms/russian/stop.txt,
# BSD licence; Sphinx's Russian search uses it too); it has no ё, and normalise_words reads ё as е.
# snowballstemmer has the stemmer only, and the `stop-words` package's list has typos and news
# words ("процентов", "миллионов", "мира") that would erase an article's topic.
RUSSIAN_STOP_WORDS = frozenset(
    """
    и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне
    было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него
    до вас нибудь опять уж вам сказал ведь там потом себя ничего ей может они тут где есть надо ней
    для мы тебя их чем была сам чтоб без будто человек чего раз тоже себе под жизнь будет ж тогда
    кто этот говорил того потому этого какой совсем ним здесь этом один почти мой тем чтобы нее
    кажется сейчас были куда зачем сказать всех никогда сегодня можно при наконец два об другой
    хоть после над больше тот через эти нас про всего них какая много разве сказала три эту моя
    впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю
    между
    """.split()
)


def extract_central(text: str, max_sentences: int = 3, max_words: int | None = None) -> Extract:
    """The `max_sentences` best sentences by LexRank centrality × `position_prior`, ties going to
    the earlier one; a sentence that `leans_back` only together with the one before it."""
    _check_budgets(max_sentences, max_words)
    sentences = split_sentences(text)
    if not sentences:
        return _empty()
    if unended := _unended(sentences, max_sentences, max_words):
        return unended
    warnings: list[str] = []
    considered = sentences[:MAX_CANDIDATES]
    if len(sentences) > MAX_CANDIDATES:
        warnings.append(f"the article has {group_digits(len(sentences))} sentences; only the first {group_digits(MAX_CANDIDATES)} were ranked for the extract")
    tokens = [_words(sentence) for sentence in considered]
    candidates = [i for i in _long_enough(tokens) if not is_dateline(considered[i])] or _long_enough(tokens)
    centrality = pagerank(similarity_graph([_content_stems(tokens[i]) for i in candidates]))
    scores = [score * position_prior(k) for k, score in enumerate(centrality)]
    ranked = [candidates[k] for k in _rank(scores)]
    leaning = {i for i in candidates if leans_back(considered[i])}
    return _select(sentences, ranked, max_sentences, max_words, warnings, leaning)


def extract_lead(text: str, max_sentences: int = 3, max_words: int | None = None) -> Extract:
    """The first sentences: the standard news baseline, hard to beat on lead-heavy articles."""
    _check_budgets(max_sentences, max_words)
    sentences = split_sentences(text)
    if not sentences:
        return _empty()
    if unended := _unended(sentences, max_sentences, max_words):
        return unended
    news = [i for i, sentence in enumerate(sentences) if not (i == 0 and is_dateline(sentence))]  # where and when, not news
    return _select(sentences, news or [0], max_sentences, max_words, [])


@dataclass(frozen=True)
class SentencePicker:
    """An engines.Extractor: one of the functions above, named for results."""

    engine: Engine
    pick: Callable[[str, int, int | None], Extract]

    def extract(self, text: str, sentences: int, max_words: int | None) -> Extract:
        return self.pick(text, sentences, max_words)


EXTRACTORS = {
    Engine.extractive: SentencePicker(Engine.extractive, extract_central),
    Engine.lead: SentencePicker(Engine.lead, extract_lead),
}


def position_prior(position: int) -> float:
    """The weight of the candidate at `position` (0 for the first sentence after the dateline): 1, 1/2, 1/3…

    Fixed, not fitted: reciprocal position is the parameter-free weight of PositionRank (Florescu &
    Caragea 2017). PacSum's directed edges need three weights tuned on a validation set, and there
    is no Russian news with summaries here to tune on without tuning on the data we report. With it
    a later sentence wins only when it is k+1 times as central as the first: the lead, unless the
    article's centre of gravity is clearly elsewhere.
    """
    return 1.0 / (position + 1)


# Words and phrases that open a sentence by pointing back at the one before ("Он добавил, что…",
# "Это…", "Кроме того…"): alone in a summary they point at nothing. ё is read as е.
BACK_POINTING_WORDS = frozenset(
    """
    он она оно они его ее их ему ей им него нее них ней ним ними нем
    этот эта это эти этого этой этому этим этих эту этом такой такая такое такие такого таких таким такую
    также тоже однако но зато поэтому причем впрочем например следовательно там тогда туда оттуда здесь сюда
    """.split()
)
BACK_POINTING_PHRASES = (
    "кроме того", "кроме этого", "помимо этого", "помимо того", "при этом", "об этом", "о нем", "о ней", "о них",
    "тем не менее", "тем самым", "в то же время", "вместе с тем", "в свою очередь", "в связи с этим", "в этой связи",
    "к тому же", "более того", "между тем", "на этом фоне", "на это", "в ответ на это", "после этого", "до этого",
    "для этого", "из за этого", "в результате этого", "в этом случае", "в таком случае", "в том числе", "в частности",
    "по его словам", "по ее словам", "по их словам", "по его мнению", "по ее мнению", "по их мнению", "по его данным",
    "по их данным", "с его слов",
)  # fmt: skip
_OPENING_MARKS = " \t\"'«„“([—–-"
_FIRST_WORD = re.compile(r"[^\W\d_]+(?![\w.-])")  # not "и.о." nor "кто-то"
_WORD = re.compile(r"[^\W\d_]+")


def leans_back(sentence: str) -> bool:
    """Whether a sentence opens with a word or phrase that points back at the sentence before it."""
    head = sentence.lstrip(_OPENING_MARKS).lower().replace("ё", "е")
    first = _FIRST_WORD.match(head)
    if first is None:
        return False
    if first.group(0) in BACK_POINTING_WORDS:
        return True
    words = " ".join(_WORD.findall(head[:80])[:5]) + " "
    return any(words.startswith(phrase + " ") for phrase in BACK_POINTING_PHRASES)


def normalise_words(sentence: str) -> list[str]:
    """Content words as Snowball stems, so that нефть, нефти and нефтью are one word."""
    return _content_stems(_words(sentence))


def similarity_graph(sentence_words: Sequence[Sequence[str]]) -> list[dict[int, float]]:
    """Cosine similarity of TF-IDF vectors for every pair that shares a word (no self-loops).

    IDF is smoothed, log((1+N)/(1+df)) + 1, so a word found in every sentence of a short article
    still links them; the article itself is the only corpus we have.
    """
    vectors = _tfidf_vectors(sentence_words)
    postings: dict[str, list[tuple[int, float]]] = {}
    for i, vector in enumerate(vectors):
        for word, weight in vector.items():
            postings.setdefault(word, []).append((i, weight))
    graph: list[dict[int, float]] = [{} for _ in vectors]
    for pairs in postings.values():
        for a, (i, weight_i) in enumerate(pairs):
            for j, weight_j in pairs[a + 1 :]:
                product = weight_i * weight_j
                graph[i][j] = graph[i].get(j, 0.0) + product
                graph[j][i] = graph[j].get(i, 0.0) + product
    return graph


def pagerank(graph: Sequence[dict[int, float]]) -> list[float]:
    """Stationary scores of a random walk on the weighted graph, by power iteration.

    Each node passes its score along its edges in proportion to their weight; a node with no
    edges spreads it evenly, as does the teleport term (1 - damping), so scores sum to 1.
    """
    n = len(graph)
    if n == 0:
        return []
    transitions = [_normalised(edges) for edges in graph]
    scores = [1.0 / n] * n
    for _ in range(MAX_ITERATIONS):
        updated = _step(transitions, scores)
        change = sum(abs(new - old) for new, old in zip(updated, scores))
        scores = updated
        if change < TOLERANCE:
            break
    return scores


def _step(transitions: Sequence[list[tuple[int, float]]], scores: Sequence[float]) -> list[float]:
    n = len(scores)
    spread = sum(score for score, edges in zip(scores, transitions) if not edges)
    base = (1.0 - DAMPING) / n + DAMPING * spread / n
    updated = [base] * n
    for score, edges in zip(scores, transitions):
        share = DAMPING * score
        for j, probability in edges:
            updated[j] += share * probability
    return updated


def _normalised(edges: dict[int, float]) -> list[tuple[int, float]]:
    total = sum(edges.values())
    return [(j, weight / total) for j, weight in edges.items() if weight > 0] if total > 0 else []


def _tfidf_vectors(sentence_words: Sequence[Sequence[str]]) -> list[dict[str, float]]:
    """Unit-length TF-IDF vectors, so that a dot product is the cosine."""
    n = len(sentence_words)
    counts = [Counter(words) for words in sentence_words]
    document_frequency = Counter(word for count in counts for word in count)
    idf = {word: math.log((1 + n) / (1 + df)) + 1.0 for word, df in document_frequency.items()}
    vectors = []
    for count in counts:
        vector = {word: tf * idf[word] for word, tf in count.items()}
        norm = math.sqrt(sum(weight * weight for weight in vector.values()))
        vectors.append({word: weight / norm for word, weight in vector.items()} if norm else {})
    return vectors


def _rank(scores: Sequence[float]) -> list[int]:
    """Positions by score, highest first; scores equal up to rounding go to the earlier sentence.

    Scores are compared relative to the uniform 1/n, so float noise between sentences with equal
    centrality (e.g. a graph with no edges) cannot beat the lead.
    """
    n = len(scores)
    return sorted(range(n), key=lambda k: (-round(scores[k] * n, 9), k))


def _long_enough(sentence_words: Sequence[Sequence[str]]) -> list[int]:
    """Indices of sentences with at least MIN_WORDS words; all of them when none has."""
    long = [i for i, words in enumerate(sentence_words) if len(words) >= MIN_WORDS]
    return long or list(range(len(sentence_words)))


def _select(
    sentences: Sequence[str],
    ranked: Sequence[int],
    max_sentences: int,
    max_words: int | None,
    warnings: list[str],
    leaning: frozenset[int] | set[int] = frozenset(),
) -> Extract:
    """Take sentences in `ranked` order until either budget is met; return them in article order.

    A sentence in `leaning` waits until the one before it is taken, and is left out if that never
    happens. The word budget stops the walk at the first sentence that would exceed it rather than
    skipping to a shorter, less important one. If even the first does not fit, it is cut and that is said.
    """
    waiting = _takeable(ranked, leaning)
    if not waiting:
        waiting, leaning = list(ranked), frozenset()
    chosen: list[int] = []
    used = 0
    while len(chosen) < max_sentences:
        index = next((i for i in waiting if i not in leaning or i - 1 in chosen), None)
        if index is None:
            break
        length = _word_count(sentences[index])
        if max_words is not None and used + length > max_words:
            if not chosen:
                return _cut(sentences, index, max_words, warnings)
            break
        chosen.append(index)
        waiting.remove(index)
        used += length
    chosen.sort()
    text = join_sentences([sentences[i] for i in chosen])
    return Extract(text, tuple(chosen), len(sentences), tuple(warnings))


def _takeable(ranked: Sequence[int], leaning: frozenset[int] | set[int]) -> list[int]:
    """The ranked sentences that can ever be taken: a leaning one only if the one before it can.
    Empty when none can (an article of one sentence that opens with "Он…"): then the rule is off."""
    can: set[int] = set()
    for i in sorted(ranked):
        if i not in leaning or i - 1 in can:
            can.add(i)
    return [i for i in ranked if i in can]


def _unended(sentences: Sequence[str], max_sentences: int, max_words: int | None) -> Extract | None:
    """A text with no sentence ends at all (a transcript, a caption dump) is one long "sentence":
    picking it would make the whole input the summary. Its first words are kept instead, and said."""
    if len(sentences) != 1 or SENTENCE_ENDS & set(sentences[0]):
        return None
    words = sentences[0].split()
    limit = max_words or max_sentences * WORDS_PER_UNENDED_SENTENCE
    if len(words) <= limit:
        return None
    warning = (
        f"the text has no sentence ends (. ! ?), so no sentences to pick; the summary is its first {group_digits(limit)} of {group_digits(len(words))} words"
    )
    return Extract(" ".join(words[:limit]), (0,), 1, (warning,))


def _cut(sentences: Sequence[str], index: int, max_words: int, warnings: list[str]) -> Extract:
    words = sentences[index].split()
    warnings.append(
        f"sentence {index + 1} has {group_digits(len(words))} words, more than max_words={max_words}; only its first {group_digits(max_words)} words were kept"
    )
    return Extract(" ".join(words[:max_words]), (index,), len(sentences), tuple(warnings))


def _word_count(sentence: str) -> int:
    """Words as the budget counts them: whitespace-separated, the way the cut splits them."""
    return len(sentence.split())


def _words(sentence: str) -> list[str]:
    """razdel tokens with a letter or digit, lowercased, ё as е (the stemmer and stop list use е)."""
    from razdel import tokenize

    return [token.text.lower().replace("ё", "е") for token in tokenize(sentence) if any(ch.isalnum() for ch in token.text)]


def _content_stems(words: Sequence[str]) -> list[str]:
    return [_stem(word) for word in words if word not in RUSSIAN_STOP_WORDS]


@lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """Stemming is most of the run time and news repeats its words; a bounded cache pays off."""
    return _russian_stemmer().stemWord(word)


@cache
def _russian_stemmer():
    """One stemmer per process instead of one per sentence.

    Not thread-safe: snowballstemmer keeps the word being stemmed on the instance. The CLI is one
    thread; a threaded caller would need a stemmer per thread.
    """
    import snowballstemmer

    return snowballstemmer.stemmer("russian")


def _check_budgets(max_sentences: int, max_words: int | None) -> None:
    if max_sentences < 1:
        raise ValueError(f"max_sentences must be at least 1, got {max_sentences}")
    if max_words is not None and max_words < 1:
        raise ValueError(f"max_words must be at least 1, got {max_words}")


def _empty() -> Extract:
    return Extract("", (), 0, ("the input has no sentences to extract",))
