"""Sentence splitting, lead budgets and chunks: nothing lost, nothing over budget."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from summarize.text import chunk_sentences, fit_to_budget, group_digits, split_front_matter, split_long_sentence, split_sentences


def count_words(texts):
    return [len(t.split()) for t in texts]


def test_headline_without_full_stop_stays_its_own_sentence():
    text = "Трамвай на водороде испытали в Новосибирске\n\nНОВОСИБИРСК, 24 ноября. Первый вагон вышел на линию. Т. е. всё идёт по плану."
    assert split_sentences(text) == [
        "Трамвай на водороде испытали в Новосибирске",
        "НОВОСИБИРСК, 24 ноября.",
        "Первый вагон вышел на линию.",
        "Т. е. всё идёт по плану.",
    ]


def test_fit_to_budget_keeps_the_leading_sentences_that_fit():
    assert fit_to_budget([3, 4, 5], 7) == 2
    assert fit_to_budget([3, 4, 5], 12) == 3
    assert fit_to_budget([8, 1], 7) == 0


def test_chunks_keep_every_word_in_order_and_fit_the_budget():
    sentences = [f"Предложение номер {i} " + "слово " * (i % 5) for i in range(30)]
    chunks = chunk_sentences(sentences, count_words, 12)
    assert " ".join(chunks).split() == " ".join(sentences).split()
    assert all(len(c.split()) <= 12 for c in chunks)
    assert len(chunks) > 1


def test_a_sentence_longer_than_the_budget_is_split_at_words():
    sentence = " ".join(f"слово{i}" for i in range(25))
    pieces = split_long_sentence(sentence, count_words, 10)
    assert [len(p.split()) for p in pieces] == [10, 10, 5]
    assert " ".join(pieces) == sentence


def test_a_word_longer_than_the_budget_is_sliced_not_dropped():
    def count_chars(texts):
        return [len(t) for t in texts]

    word = "а" * 100
    pieces = split_long_sentence(f"начало {word} конец", count_chars, 30)
    assert "".join(pieces).replace(" ", "") == f"начало{word}конец"
    assert all(len(p) <= 30 for p in pieces)


def test_digits_are_grouped_with_spaces():
    assert group_digits(1040) == "1 040"
    assert group_digits(600) == "600"


def test_markdown_is_reduced_to_its_words_a_block_a_line():
    from summarize.text import strip_markdown

    text = (
        "# Дороги отремонтируют\n\nПравительство [утвердило](https://example.org/x) программу *ремонта* дорог.\n"
        "Работы начнутся `весной`.\n\n- Первый пункт.\n- Второй пункт.\n\n![фото](a.png)\n\n```\nкод()\n```\n\n<script>alert(1)</script>\n"
    )
    assert strip_markdown(text) == (
        "Дороги отремонтируют\nПравительство утвердило программу ремонта дорог. Работы начнутся весной.\nПервый пункт.\nВторой пункт."
    )


BODY = "Правительство утвердило программу ремонта дорог.\n"


@pytest.mark.parametrize(
    "front, fields",
    [
        ('---\ntitle: "Дороги: к зиме"\ndate: 2024-03-03\ntags: [дороги]\n---\n', {"title": "Дороги: к зиме", "date": "2024-03-03"}),
        ("---\ntitle: 'It''s here' # a comment\nauthor:\n  name: Иван\n...\n", {"title": "It's here"}),
        ("---\ntitle: Дороги # a comment\nsummary: >-\n  long\n  text\n---\n", {"title": "Дороги"}),
        ("---\ntitle: >-\n  Дороги\n  к зиме\ndate: 2024-03-03T10:00:00+03:00\n---\n", {"title": "Дороги к зиме", "date": "2024-03-03T10:00:00+03:00"}),
        (
            '+++\ntitle = "Дороги"\ndate = 2024-03-03T10:00:00+03:00\n[params]\ntitle = "не этот"\n+++\n',
            {"title": "Дороги", "date": "2024-03-03T10:00:00+03:00"},
        ),
        ("+++\ndate = 2024-03-03\n+++\n", {"date": "2024-03-03"}),
        ("---\n---\n", {}),
    ],
)
def test_front_matter_gives_its_title_and_date_and_never_reaches_the_text(front, fields):
    assert split_front_matter(front + BODY) == (fields, BODY, [])


def test_broken_toml_front_matter_is_dropped_from_the_text_with_a_warning():
    fields, rest, warnings = split_front_matter('+++\ntitle = "Дороги\n+++\n' + BODY)
    assert (fields, rest) == ({}, BODY) and len(warnings) == 1 and warnings[0].startswith("its TOML front matter is not valid (")


@pytest.mark.parametrize("text", ["---\n\nТекст после черты.\n", "Текст.\n---\ntitle: x\n---\n", "---\ntitle: без конца\n" + BODY])
def test_no_front_matter_leaves_the_text_as_it_is(text):
    assert split_front_matter(text) == ({}, text, [])


# razdel ends a sentence only before a capital, so lowercased text (the RIA corpus) came back a
# paragraph at a time: a "2-sentence lead" of it was 3 to 6 sentences.
def test_lowercased_text_is_split_where_razdel_sees_no_sentence_end():
    text = (
        "москва, 1 дек — риа новости. межвидовой учебный центр российских вооруженных сил в мулино нижегородской области "
        'в 2015 году начнет готовить военных для службы в арктике. он добавил: "все готово!" это так? да.'
    )
    assert split_sentences(text) == [
        "москва, 1 дек — риа новости.",
        "межвидовой учебный центр российских вооруженных сил в мулино нижегородской области в 2015 году начнет готовить военных для службы в арктике.",
        'он добавил: "все готово!"',
        "это так?",
        "да.",
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        "по словам в. путина, цены т.е. тарифы вырастут в 2015 г. на 15 млн. рублей.",
        "музей им. а. с. пушкина на ул. ленина открылся и т. д. и т. п. вчера.",
        "он помолчал... потом ушел.",
        "«кто там?» — спросил он.",
    ],
)
def test_abbreviations_initials_and_ellipses_in_lowercased_text_are_not_sentence_ends(sentence):
    assert split_sentences(sentence) == [sentence]


def test_cased_text_is_split_as_razdel_splits_it():
    from razdel import sentenize

    text = "Цены выросли на 5 млн. руб. в месяц, сообщил г. Иванов. по словам т. Петрова, это мало. Т. е. всё в порядке."
    assert split_sentences(text) == [s.text for s in sentenize(text)]
    # A lowercase letter after a stop in cased text is razdel's call (here it keeps one sentence).
    assert split_sentences(text)[0].endswith("сообщил г. Иванов. по словам т. Петрова, это мало.")


RUSSIAN_TEXT = st.text(alphabet=st.sampled_from(list('абвгдеёжзийклмнопрстуфхцчшщъыьэюя0123456789 .,!?—«»"()-')), max_size=300)


@given(RUSSIAN_TEXT)
def test_lowercased_sentences_are_cut_only_between_words(text):
    from razdel import sentenize

    whole = [s.text for s in sentenize(text)] if text.strip() else []
    pieces = split_sentences(text)
    assert " ".join(pieces).split() == " ".join(whole).split()
    assert all(piece == piece.strip() and piece for piece in pieces)


@given(RUSSIAN_TEXT)
def test_cased_text_is_never_cut_where_razdel_did_not(text):
    from razdel import sentenize

    cased = text.upper()
    assert split_sentences(cased) == ([s.text for s in sentenize(cased)] if cased.strip() else [])


# --- lowercased text: abbreviations and references (issue 25) ----------------------------------------


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "на склад привезли 500 шт. деталей, выступил засл. арт. россии. в янв. было холодно.",
            ["на склад привезли 500 шт. деталей, выступил засл. арт. россии.", "в янв. было холодно."],
        ),
        (
            "с 1 февр. до 5 авг. работы шли. с сент. по дек. их нет. с окт. по нояб. тоже.",
            ["с 1 февр. до 5 авг. работы шли.", "с сент. по дек. их нет.", "с окт. по нояб. тоже."],
        ),
        ("рост составил 8,6 %. далее цены упали.", ["рост составил 8,6 %.", "далее цены упали."]),
        ("данные приведены ниже (см. табл. 2). цены упали.", ["данные приведены ниже (см. табл. 2).", "цены упали."]),
        ("Данные приведены ниже (см. табл. 2). Цены упали.", ["Данные приведены ниже (см. табл. 2).", "Цены упали."]),
    ],
)
def test_lowercased_text_is_cut_at_sentence_ends_not_at_abbreviations(text, sentences):
    assert split_sentences(text) == sentences
