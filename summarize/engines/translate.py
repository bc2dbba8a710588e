"""Sentence-level machine translation of a summary.

opus-mt and other sentence-level MT models silently drop the later sentences of a paragraph, so the
summary is split with razdel and its sentences go through the model as one padded batch. An LLM
keeps a paragraph whole, and the sentences around one help it, so it gets each summary in one request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from summarize.config import Engine
from summarize.text import (
    group_digits,
    join_sentences,
    split_long_sentence,
    split_sentences,
)

if TYPE_CHECKING:
    from summarize.engines.protocol import ModelEngine
    from summarize.routes import Leg


def translate_many(engine: ModelEngine, texts: Sequence[str], settings: dict[str, Any], leg: Leg | None = None) -> list[tuple[str, list[str]]]:
    """Translate several texts with all their sentences in one padded, length-sorted batch (an LLM:
    each text whole; `leg`: the language pair, and the tokens a seq2seq model needs for it)."""
    if engine.preset.engine is Engine.llm:
        return _translate_whole(engine, texts, settings, leg)
    budget = engine.preset.max_input_tokens - engine.special_tokens - (1 if leg is not None and leg.prefix else 0)
    pieces: list[str] = []
    spans: list[tuple[list[tuple[int, int]], list[str]]] = []  # per text: each sentence's pieces
    for text in texts:
        sentences = split_sentences(text)
        parts_of, warnings = [], []
        for sentence, count in zip(sentences, engine.count_tokens(sentences)):
            start = len(pieces)
            if count <= budget:
                pieces.append(sentence)
                parts_of.append((start, len(pieces)))
                continue
            parts = split_long_sentence(sentence, engine.count_tokens, budget)
            warnings.append(
                f"a summary sentence of {group_digits(count)} tokens is longer than the translator's {group_digits(budget)}; "
                f"it was translated in {len(parts)} parts"
            )
            pieces.extend(parts)
            parts_of.append((start, len(pieces)))
        spans.append((parts_of, warnings))
    translated = engine.generate(pieces, settings, batch_size=16, leg=leg) if pieces else []
    for parts_of, warnings in spans:
        cut = sum(getattr(translated[i], "capped", False) for a, b in parts_of for i in range(a, b))
        if cut:
            limit = settings.get("max_new_tokens", "the model's maximum")
            warnings.append(f"the translation of {cut} sentence(s) stopped at the length limit ({limit} tokens), not at its end: it may be cut off")
    # The parts of one cut sentence go back together with spaces; sentences with join_sentences.
    return [(join_sentences([" ".join(translated[a:b]) for a, b in parts_of]), warnings) for parts_of, warnings in spans]


def _translate_whole(engine: ModelEngine, texts: Sequence[str], settings: dict[str, Any], leg: Leg | None) -> list[tuple[str, list[str]]]:
    """Each text in one request; a failed request is a warning on that summary (kept untranslated)."""
    from summarize.engines.llm import max_tokens

    done = []
    for translated in engine.generate(list(texts), settings, batch_size=max(1, len(texts)), leg=leg):
        remote = translated.remote
        warnings = [note.replace("reply", "translation", 1) for note in remote.notes] if remote is not None else []
        if remote is not None and remote.failed:
            warnings.append(f"the translation failed, the summary is left untranslated: {remote.failed}")
        elif translated.capped:
            limit = max_tokens(engine.preset.llm, settings, translation=True)
            warnings.append(f"the translation stopped at the length limit (the LLM's max_tokens = {limit}), not at its end: it may be cut off")
        done.append((translated, warnings))
    return done
