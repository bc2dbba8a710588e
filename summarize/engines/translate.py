"""Sentence-level machine translation of a summary.

opus-mt and other sentence-level MT models silently drop the later sentences of a paragraph, so the
summary is split with razdel and its sentences go through the model as one padded batch.
"""

from __future__ import annotations

from typing import Any

from summarize.engines.seq2seq import Seq2Seq
from summarize.text import join_sentences, split_long_sentence, split_sentences


def translate(engine: Seq2Seq, text: str, settings: dict[str, Any]) -> tuple[str, list[str]]:
    """The translation and any warnings (a sentence too long for the model is cut at word boundaries)."""
    sentences = split_sentences(text)
    budget = engine.spec.max_input_tokens - engine.special_tokens
    pieces: list[str] = []
    warnings: list[str] = []
    for sentence, count in zip(sentences, engine.count_tokens(sentences)):
        if count <= budget:
            pieces.append(sentence)
            continue
        parts = split_long_sentence(sentence, engine.count_tokens, budget)
        warnings.append(
            f"a summary sentence of {count} tokens is longer than the translator's {budget}; "
            f"it was translated in {len(parts)} parts"
        )
        pieces.extend(parts)
    if not pieces:
        return "", warnings
    return join_sentences(engine.generate(pieces, settings, batch_size=16)), warnings
