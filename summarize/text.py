"""Sentences and token budgets: razdel splitting, lead truncation and sentence-aligned chunks.

Everything here is model-agnostic: token counts come in as plain lists from the engine's tokenizer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Counter = Callable[[list[str]], list[int]]


def split_sentences(text: str) -> list[str]:
    """Sentences in order. Lines are split first: a headline or dateline without a full stop
    must not be glued to the next paragraph, which razdel would do across a bare newline."""
    from razdel import sentenize

    return [s.text for line in text.splitlines() if line.strip() for s in sentenize(line)]


def join_sentences(sentences: Sequence[str]) -> str:
    return " ".join(sentences)


def fit_to_budget(counts: Sequence[int], budget: int) -> int:
    """How many leading sentences fit in `budget` tokens (0 when even the first does not)."""
    total = 0
    for n, count in enumerate(counts):
        total += count
        if total > budget:
            return n
    return len(counts)


def split_long_sentence(sentence: str, count_tokens: Counter, budget: int) -> list[str]:
    """Cut a sentence longer than the budget at word boundaries into pieces that fit.

    A single 'word' longer than the budget (a URL, a run of digits) is cut into character slices.
    """
    words = sentence.split()
    counts = count_tokens(words)
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for word, count in zip(words, counts):
        if count > budget:
            pieces.extend(_flush(current))
            current, used = [], 0
            pieces.extend(_slice_word(word, count, budget))
            continue
        if current and used + count > budget:
            pieces.append(" ".join(current))
            current, used = [], 0
        current.append(word)
        used += count
    pieces.extend(_flush(current))
    return pieces


def _flush(words: list[str]) -> list[str]:
    return [" ".join(words)] if words else []


def _slice_word(word: str, count: int, budget: int) -> list[str]:
    # Tokens per character is roughly even inside one word; leave a margin of a quarter.
    size = max(1, int(len(word) * budget * 0.75 / count))
    return [word[i : i + size] for i in range(0, len(word), size)]


def chunk_sentences(sentences: Sequence[str], count_tokens: Counter, budget: int) -> list[str]:
    """Group sentences, in order, into chunks of at most `budget` tokens each; nothing is dropped."""
    units: list[tuple[str, int]] = []
    for sentence, count in zip(sentences, count_tokens(list(sentences))):
        if count > budget:
            pieces = split_long_sentence(sentence, count_tokens, budget)
            units.extend(zip(pieces, count_tokens(pieces)))
        else:
            units.append((sentence, count))
    chunks: list[list[str]] = []
    used = 0
    for unit, count in units:
        if not chunks or used + count > budget:
            chunks.append([])
            used = 0
        chunks[-1].append(unit)
        used += count
    return [join_sentences(c) for c in chunks]


def group_digits(n: int) -> str:
    """1040 → '1 040', the way Russian and most European style guides write numbers."""
    return f"{n:,}".replace(",", " ")
