"""Property tests of the text layer: any Unicode in, nothing lost or duplicated, no budget exceeded."""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from summarize.errors import SummarizeError
from summarize.inputs.decode import decode
from summarize.text import chunk_sentences, fit_to_budget, split_sentences

RUSSIANISH = st.text(
    alphabet=st.sampled_from(list("абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЕЖЗКМНПРСТ0123456789 .,!?—«»-\n")),
    max_size=400,
)


def count_subwords(texts):
    """Additive over whitespace, like a subword tokenizer: about one token per three characters."""
    return [sum(math.ceil(len(w) / 3) for w in t.split()) for t in texts]


def visible(text):
    return "".join(text.split())


@given(st.text())
def test_split_sentences_never_crashes_and_keeps_every_character(text):
    sentences = split_sentences(text)
    assert visible("".join(sentences)) == visible(text)
    assert all(s.strip() for s in sentences)


@given(st.lists(st.text(min_size=1), max_size=30), st.integers(min_value=3, max_value=60))
def test_chunks_lose_and_duplicate_nothing_and_fit(sentences, budget):
    chunks = chunk_sentences(sentences, count_subwords, budget)
    assert visible("".join(chunks)) == visible("".join(sentences))
    assert all(c <= budget for c in count_subwords(chunks))


@given(st.lists(st.integers(min_value=0, max_value=50), max_size=40), st.integers(min_value=0, max_value=300))
def test_fit_to_budget_keeps_the_longest_lead_that_fits(counts, budget):
    n = fit_to_budget(counts, budget)
    assert sum(counts[:n]) <= budget
    assert n == len(counts) or sum(counts[: n + 1]) > budget


@given(st.binary(max_size=300))
def test_decode_never_crashes_on_bytes(data):
    try:
        text, _ = decode(data, "x")
    except SummarizeError as e:
        assert str(e).startswith("x: ")
    else:
        assert text.strip() and "\r" not in text


@pytest.fixture(scope="module")
def t5(models):
    from summarize.config import Preset
    from summarize.engines.seq2seq import Seq2Seq

    preset = Preset(name="tiny", model=str(models["t5"]), max_input_tokens=40, generate={"max_new_tokens": 2})
    return Seq2Seq(preset, models["t5"], "cpu")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(RUSSIANISH.filter(lambda t: t.strip()))
def test_real_tokenizer_chunks_never_exceed_the_model_input(t5, text):
    from summarize.fitting import fitting_chunks

    chunks = fitting_chunks(t5, split_sentences(text))
    assert all(t5.input_length(c) <= 40 for c in chunks)
    assert visible("".join(chunks)) == visible(text)
