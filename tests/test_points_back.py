"""The rule that keeps a sentence pointing back ("Это…", "На это…") out of an extract alone matches
whole words and phrases only: "На этой неделе…" opens a sentence, it points at nothing."""

import pytest

from summarize.engines.extractive import leans_back


@pytest.mark.parametrize("sentence", ["На это ответили в Кремле.", "Он добавил, что цены вырастут.", "При этом цены выросли.", "«Это важно», — сказал он."])
def test_a_sentence_opening_with_a_pointing_word_or_phrase_leans_back(sentence):
    assert leans_back(sentence)


@pytest.mark.parametrize("sentence", ["На этой неделе цены выросли.", "Оная комиссия заседала.", "Этнографы открыли музей.", "Приэтом — опечатка."])
def test_a_word_that_only_begins_like_one_does_not(sentence):
    assert not leans_back(sentence)
