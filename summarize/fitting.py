"""An article fitted to a model's input: the lead that fits (--long truncate), or sentence-aligned
chunks that each fit (--long chunk, whose map-reduce the pipeline runs). Counting only: nothing here
generates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from summarize.documents import Result
from summarize.text import chunk_sentences, fit_to_budget, group_digits, join_sentences, split_sentences

if TYPE_CHECKING:
    from summarize.engines.protocol import ModelEngine


def truncate_to_lead(engine: ModelEngine, text: str, result: Result) -> str:
    """Keep the leading sentences that fit: news is lead-heavy and the Gazeta models trained so."""
    limit = engine.preset.max_input_tokens
    sentences = split_sentences(text)
    counts = engine.count_tokens(sentences)
    kept = fit_to_budget(counts, limit - engine.special_tokens)
    # Counts of separate sentences can differ by a token from the joined text's; check the real one.
    while kept > 0 and engine.input_length(join_sentences(sentences[:kept])) > limit:
        kept -= 1
    if kept == 0:
        lead = sentences[0]
        used = limit
        how = f"the first sentence alone is {group_digits(counts[0])} tokens long and was cut"
    else:
        lead = join_sentences(sentences[:kept])
        used = engine.input_length(lead)
        how = f"{kept} of {len(sentences)} sentences"
    result.truncated = True
    result.used_tokens = used
    result.chunks = 1
    result.warnings.append(
        f"summarised the first {group_digits(used)} of {group_digits(result.input_tokens)} tokens ({how}); use --long chunk to summarise all of it"
    )
    return lead


def fitting_chunks(engine: ModelEngine, sentences: list[str]) -> list[str]:
    """Sentence-aligned chunks of which each fits the engine's input, special tokens included."""
    limit = engine.preset.max_input_tokens
    budget = limit - engine.special_tokens
    while True:
        chunks = chunk_sentences(sentences, engine.count_tokens, budget)
        worst = max(engine.input_length(c) for c in chunks)
        if worst <= limit or budget <= 1:
            return chunks
        budget -= worst - limit  # joined text took a few more tokens than its sentences did
