"""News structure (title, dateline, language) and checks of a model's output, on real-looking text."""

import pytest
from helpers import ARTICLE
from hypothesis import given
from hypothesis import strategies as st

from summarize.engines.extractive import extract_lead
from summarize.text import (
    ends_sentence,
    is_dateline,
    join_sentences,
    other_cyrillic_language,
    repeated_phrase,
    split_dateline,
    split_sentences,
    split_title,
    untranslated_cyrillic,
    untranslated_share,
)

TEXT = ARTICLE.read_text(encoding="utf-8")
HEADLINE = TEXT.splitlines()[0]


def visible(text):
    return "".join(text.split())


# --- title -----------------------------------------------------------------------------------------


def test_the_example_article_has_its_headline_as_title_and_the_rest_as_body():
    title, body = split_title(TEXT)
    assert title == HEADLINE
    assert body.startswith("НОВОСИБИРСК, 24 ноября.") and TEXT.endswith(body)


def test_leading_blank_lines_and_a_headline_right_above_the_body():
    title, body = split_title("\n\n  Трамвай на водороде испытали  \nВ Новосибирске прошли испытания.\n")
    assert (title, body) == ("Трамвай на водороде испытали", "В Новосибирске прошли испытания.\n")


@pytest.mark.parametrize(
    "text",
    [
        "В Новосибирске прошли испытания трамвая.\n\nВагон рассчитан на 180 пассажиров.",  # a sentence
        "Что будет с ценами на бензин?\n\nЦены выросли.",  # punctuated: cannot be told from a sentence
        "Он сказал: «Мы готовы».\nДальше текст.",
        "В Новосибирске прошли первые испытания трамвая, который\nработает на водороде.",  # wrapped
        "По словам разработчиков,\nзаправка занимает 15 минут.",
        "слово " * 60 + "\n\nТекст.",  # too long for a headline
        "12345\n\nТекст.",
        "",
        "\n \n",
    ],
)
def test_no_title_leaves_the_text_as_it_is(text):
    title, body = split_title(text)
    assert title is None and body is text


@pytest.mark.parametrize("end", [",", ";", ":", " —", " –", " -"])
def test_a_first_line_that_goes_on_is_never_a_headline_even_above_a_capital(end):
    # The next line starts in upper case after a blank line, so only the ending tells it goes on.
    text = f"По словам главы города Андрея Петрова{end}\n\nЗаправка вагона водородом занимает 15 минут."
    assert split_title(text) == (None, text)


def test_a_file_that_is_only_a_headline_has_an_empty_body():
    assert split_title(HEADLINE + "\n") == (HEADLINE, "")
    assert split_title("Только заголовок") == ("Только заголовок", "")


def test_a_single_punctuated_line_is_an_article_not_a_headline():
    assert split_title("Путин провёл встречу с Макроном.") == (None, "Путин провёл встречу с Макроном.")


@given(st.text(alphabet=st.sampled_from(list("абвгдеЖЗИКЛМ .,!?«»—\n")), max_size=200))
def test_split_title_loses_nothing(text):
    title, body = split_title(text)
    if title is None:
        assert body == text
    else:
        assert title and "\n" not in title
        assert visible(title + body) == visible(text)


# --- dateline --------------------------------------------------------------------------------------

DATELINES = [
    "МОСКВА, 24 ноя — РИА Новости.",
    "НОВОСИБИРСК, 24 ноября.",
    "Москва, 3 марта.",
    "САНКТ-ПЕТЕРБУРГ, 1 дек - РИА Новости.",
    "КИЕВ, 5 января /ТАСС/.",
    "МОСКВА, 24 ноя — РИА Новости, Иван Иванов.",
    "МОСКВА, 24 ноя. — РИА Новости.",
    "РОСТОВ-НА-ДОНУ, 12 мая. /ТАСС/.",
    "Нижний Новгород, 3 сентября 2023 г.",
    "СИМФЕРОПОЛЬ, 2 фев — РИА Новости Крым.",
    "самара, 1 дек\u00a0— риа новости.",  # lower-cased corpora, no-break space
    "омск, 30 ноя- р-спорт.",
]


@pytest.mark.parametrize("dateline", DATELINES)
def test_agency_datelines_are_recognised_and_split_off(dateline):
    assert is_dateline(dateline)
    body = "Около 60 тысяч литров нефти вытекли из нефтепровода."
    assert split_dateline(f"{dateline} {body}") == (dateline, body)
    assert split_dateline(f"\n{dateline}\n\n{body}") == (dateline, body)


@pytest.mark.parametrize(
    "sentence",
    [
        "Москва, 3 марта состоялось заседание.",
        "Пройдёт в Москве, 24 ноября.",
        "МОСКВА, 24 ноя — Президент России Владимир Путин заявил о новых мерах.",
        "в москве, 24 ноября.",  # lower case without an agency: the end of a sentence
        "В 2023 году, 24 ноября, прошли испытания.",
        "Москва, Санкт-Петербург и Казань вошли в список.",
        "КИЕВ, 5 января",  # no stop: not a finished dateline
    ],
)
def test_ordinary_sentences_are_not_datelines(sentence):
    assert not is_dateline(sentence)
    assert split_dateline(sentence) == (None, sentence)


def test_in_the_example_only_the_dateline_sentence_is_one():
    sentences = split_sentences(TEXT)
    assert [s for s in sentences if is_dateline(s)] == ["НОВОСИБИРСК, 24 ноября."]


def test_a_dateline_later_in_the_text_is_left_alone():
    text = "Вагон вышел на линию. МОСКВА, 24 ноя — РИА Новости."
    assert split_dateline(text) == (None, text)


# --- joining ---------------------------------------------------------------------------------------


def test_a_sentence_without_final_punctuation_gets_a_full_stop_before_the_next():
    assert join_sentences([HEADLINE, "НОВОСИБИРСК, 24 ноября."]) == f"{HEADLINE}. НОВОСИБИРСК, 24 ноября."
    assert join_sentences(["Он сказал «да»", "Потом ушёл"]) == "Он сказал «да». Потом ушёл"
    assert join_sentences(["Первое  ", "второе."]) == "Первое. второе."


@pytest.mark.parametrize("ending", [".", "!", "?", "…", "?!", "...", ".»", "!»", '."', ".)", "?”"])
def test_punctuated_sentences_are_joined_byte_for_byte(ending):
    sentences = [f"Первое{ending}", f"Второе{ending}", "Третье без точки"]
    assert join_sentences(sentences) == " ".join(sentences)


@given(st.lists(st.text(max_size=30).map(lambda s: s.strip() + "."), max_size=8))
def test_join_changes_nothing_when_every_sentence_ends_with_a_stop(sentences):
    assert join_sentences(sentences) == " ".join(sentences)


@given(st.text(max_size=30), st.text(max_size=30))
def test_joined_sentences_never_run_into_each_other(first, second):
    joined = join_sentences([first, second])
    assert joined.endswith(" " + second)
    head = joined[: len(joined) - len(second) - 1]
    assert head in (first, first.rstrip() + ".")
    assert not first.strip() or ends_sentence(head)


# --- language --------------------------------------------------------------------------------------

UKRAINIAN = (
    "У Новосибірську випробували перший у Сибіру трамвай на водневих паливних елементах. "
    "Вагон розрахований на 180 пасажирів, його зібрали на заводі. Випробування триватимуть до березня, "
    "повідомили у мерії міста. Це єдиний такий проєкт у країні, і він ще не завершений."
)
BELARUSIAN = (
    "У Новасібірску выпрабавалі першы ў Сібіры трамвай на вадародных паліўных элементах. "
    "Вагон разлічаны на 180 пасажыраў, яго сабралі на заводзе. Выпрабаванні працягнуцца да сакавіка."
)
KAZAKH = (
    "Новосібірда Сібірдегі алғашқы сутегі отын элементтеріндегі трамвай сынақтан өтті. "
    "Вагон 180 жолаушыға арналған, оны зауытта құрастырды. Сынақтар наурызға дейін жалғасады."
)


@pytest.mark.parametrize("text, language", [(UKRAINIAN, "Ukrainian"), (BELARUSIAN, "Belarusian"), (KAZAKH, "Kazakh")])
def test_other_cyrillic_languages_are_named(text, language):
    assert other_cyrillic_language(text) == language


def test_russian_with_a_ukrainian_name_or_quote_is_russian():
    assert other_cyrillic_language(TEXT) is None
    assert other_cyrillic_language(TEXT + " Об этом сообщил Віталій Кличко.") is None
    assert other_cyrillic_language(TEXT.replace("Вагон", "Вагон «Київ»")) is None


def test_a_russian_article_quoting_a_ukrainian_place_and_name_is_russian():
    # "Києва Віталій": 4 letters Russian lacks (ї є і і), over the floor of 3 but far under 1 % of the article.
    quoted = TEXT.replace("Вагон", "Мэр Києва Віталій Кличко осмотрел вагон. Вагон", 1)
    assert quoted != TEXT and other_cyrillic_language(quoted) is None


def test_a_short_ukrainian_line_is_still_ukrainian():
    assert other_cyrillic_language("Привіт, як справи? Все добре, дякую і тобі.") == "Ukrainian"


# --- output checks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, phrase",
    [
        ("pre-pre-pre-pre-pre-election campaign", "pre"),
        ("Выборы прошли в Москве в Москве в Москве в Москве.", "в Москве"),
        ("The mayor said that the tram the tram the tram is ready", "the tram"),
        ("Трамвай испытали. Трамвай испытали. Трамвай испытали.", "Трамвай испытали"),
        ("Трамвай испытали. Вагон новый. Трамвай испытали. Зима. Трамвай испытали.", "Трамвай испытали."),
    ],
)
def test_a_decoding_loop_is_found_with_its_phrase(text, phrase):
    assert repeated_phrase(text) == phrase


@pytest.mark.parametrize(
    "text",
    [
        TEXT,
        *split_sentences(TEXT),
        "Ха-ха-ха, сказал он.",  # three times one word is something people write
        "Нет, нет и нет.",
        "Счёт 1:1:1:1 не изменился, 10.10.10.10 — адрес.",
        "Шаг за шагом, день за днём, год за годом.",
        "Трамвай испытали. Трамвай испытали.",
    ],
)
def test_normal_news_text_has_no_loop(text):
    assert repeated_phrase(text) is None


def test_a_russian_name_in_quotes_is_allowed_in_english():
    assert untranslated_cyrillic("The tram was built at the «Уралтрансмаш» plant in Ust-Katav.") is None
    assert untranslated_cyrillic("«Газпром» and «Роснефть» reported profits.") is None
    assert untranslated_cyrillic("The tram was tested in Novosibirsk.") is None


@pytest.mark.parametrize(
    "english, left",
    [
        ("The mayor said испытания продлятся до марта, and the tram is ready.", "испытания продлятся до марта"),
        ("More than 100 prisoners escaped ы в индонезийской тюрьме after the quake.", "ы в индонезийской тюрьме"),
        ("Один tram, два wagons, три depots, четыре lines.", "Один … два … три … четыре"),
    ],
)
def test_untranslated_russian_is_found(english, left):
    assert untranslated_cyrillic(english) == left


def test_untranslated_share_counts_letters():
    assert untranslated_share("") == 0.0
    assert untranslated_share("abc") == 0.0
    assert untranslated_share("ab вг") == 0.5


# --- datelines razdel cuts in two (issue 25) ---------------------------------------------------------


@pytest.mark.parametrize(
    "dateline", ["Москва, 14 авг. — РИА Новости.", "МОСКВА, 14 августа. /ТАСС/.", "Казань, 3 сент. — РИА Новости.", "москва, 14 авг. — риа новости."]
)
def test_a_dateline_razdel_would_cut_is_one_sentence_and_never_the_lead(dateline):
    body = "Власти открыли новый мост через реку. Он стал самым длинным."
    assert split_sentences(f"{dateline} {body}")[0] == dateline
    assert extract_lead(f"{dateline} {body}", 1).text == "Власти открыли новый мост через реку."
