"""Numbers and dates compared as values: what a summary or its translation changed is flagged,
what it copied or respelled is not. Sentences here are written for these tests in the style of
Russian news; the shared RIA and WMT files, when present, are read at test time, never copied."""

import html
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from summarize.checks.flags import Flag
from summarize.checks.numbers import changed_in_translation, number_support, unsupported_numbers
from summarize.text import split_sentences

ARTICLE = (
    "МОСКВА, 31 окт — РИА Новости. Около 1 500 000 жителей Подмосковья остались без горячей воды после аварии на ТЭЦ-22, "
    "сообщили в четверг, 31 октября 2024 года, в пресс-службе правительства области.\n"
    "По данным ведомства, на место направлены 15 бригад, а ремонт обойдется в 2,3 млрд рублей. "
    "Подачу воды обещают восстановить в течение двух суток. "
    "В 2023 году на станции уже была похожая авария: тогда без воды остались 12% домов района, "
    "а ущерб оценили в 400 млн рублей. Станцию построили в XX веке и модернизировали в 2010–2015 годах."
)
SUMMARY = (
    "Полтора миллиона жителей Подмосковья остались без горячей воды 31 октября из-за аварии на ТЭЦ-22. "
    "Ремонт обойдется в 2,3 млрд рублей, воду вернут через двое суток; годом ранее, в 2023 году, "
    "без воды оставались 12 процентов домов."
)
SUMMARY_EN = (
    "1.5 million residents of the Moscow region were left without hot water on October 31 after an accident at CHP-22. "
    "Repairs will cost 2.3 billion rubles and water will be back in two days; a year earlier, in 2023, 12% of homes lost water."
)
SHARED = Path("/work/shared/eval")


def number(text: str) -> Flag:
    return Flag(text, "number", "summary_ru")


def test_a_faithful_summary_in_other_spellings_passes():
    assert unsupported_numbers(SUMMARY, ARTICLE) == []
    assert number_support(SUMMARY, ARTICLE) == (7, 7)


def test_a_changed_number_is_flagged_as_written():
    summary = "На место аварии на ТЭЦ-22 направлены 17 бригад, ремонт обойдется в 2,3 млрд рублей."
    assert unsupported_numbers(summary, ARTICLE) == [number("17")]
    assert number_support(summary, ARTICLE) == (2, 3)


@pytest.mark.parametrize("spelling", ["1 500 000", "1\u00a0500\u00a0000", "1,5 млн", "1.5 млн", "1,5 миллиона", "полтора миллиона", "1500 тыс."])
def test_one_value_in_any_spelling_is_supported(spelling):
    assert unsupported_numbers(f"Без воды остались {spelling} жителей.", ARTICLE) == []


def test_a_sentence_end_after_a_scale_word_is_not_part_of_the_span():
    assert unsupported_numbers("Без воды остались 150 тысяч.", ARTICLE) == [number("150 тысяч")]


@pytest.mark.parametrize("changed", ["1,5 млрд", "15 млн", "1,6 млн", "150 тыс."])
def test_a_changed_scale_or_digit_is_flagged_with_its_scale_word(changed):
    assert unsupported_numbers(f"Без воды остались {changed} жителей.", ARTICLE) == [number(changed)]


def test_a_changed_day_is_flagged_as_a_date_and_a_changed_year_as_a_number():
    assert unsupported_numbers("Авария на ТЭЦ-22 произошла 30 октября.", ARTICLE) == [Flag("30 октября", "date", "summary_ru")]
    assert unsupported_numbers("Авария произошла 31.10.2024.", ARTICLE) == []
    assert unsupported_numbers("Авария произошла 31 октября 2022 года.", ARTICLE) == [Flag("31 октября 2022 года", "date", "summary_ru")]
    assert unsupported_numbers("Похожая авария была в 2021 году.", ARTICLE) == [number("2021")]
    assert unsupported_numbers("Похожая авария была в октябре 2023 года.", ARTICLE) == []


def test_percent_ranges_centuries_and_small_number_words_are_values():
    assert unsupported_numbers("Без воды остались 12 процентов домов.", ARTICLE) == []
    assert unsupported_numbers("Станцию модернизировали в 2010-2015 годах, а построили в 20 веке.", ARTICLE) == []
    assert unsupported_numbers("Станцию модернизировали с 2010 по 2016 год.", ARTICLE) == [number("2016")]
    assert unsupported_numbers("Ущерб составил от 300 до 400 млн рублей.", ARTICLE) == [number("300")]
    assert unsupported_numbers("Воду вернут через 2 суток, работают пятнадцать бригад.", ARTICLE) == []
    assert unsupported_numbers("Воду вернут через три дня.", ARTICLE) == [number("три")]


def test_vague_words_support_but_are_never_flagged():
    article = "Выручка компании выросла вдвое, сообщил один из директоров."
    assert unsupported_numbers("Выручка выросла в 2 раза.", article) == []
    assert unsupported_numbers("Один из директоров сообщил, что выручка выросла вдвое.", "Выручка выросла.") == []


def test_designators_match_whole_and_inflected_but_not_another_number():
    article = "Первый серийный Су-57 передан ВКС, сообщил пилот «Формулы-1». Число заболевших COVID-19 растет."
    assert unsupported_numbers("Су-57 передан ВКС; пилот «Формулы-1» и рост COVID-19.", article) == []
    assert unsupported_numbers("В «Формуле-1» обсуждают истребитель.", article) == []
    assert unsupported_numbers("ВКС передан Су-35.", article) == [number("Су-35")]


def test_a_comma_before_a_digit_is_decimal_and_a_list_is_not():
    article = "Индекс вырос на 1,5 пункта, а в списке остались пункты 1, 2 и 3."
    assert unsupported_numbers("Индекс вырос на 1,5 пункта.", article) == []
    assert unsupported_numbers("Остались пункты 1, 2 и 3.", article) == []
    assert unsupported_numbers("Индекс вырос на 2,3 пункта.", article) == [number("2,3")]


def test_the_field_is_the_one_asked_for():
    assert unsupported_numbers("17 бригад", ARTICLE, field="summary_en") == [Flag("17", "number", "summary_en")]


def test_a_faithful_translation_passes():
    assert changed_in_translation(SUMMARY_EN, SUMMARY) == []
    assert (
        changed_in_translation(
            "About 1,500,000 people, 15 percent of them children, left on 31 October.", "Около 1,5 млн человек, 15% из них дети, уехали 31 октября."
        )
        == []
    )
    assert changed_in_translation("Two people were injured.", "Пострадали 2 человека.") == []
    assert changed_in_translation("2 people were injured.", "Пострадали двое.") == []


@pytest.mark.parametrize(
    ("english", "russian"),
    [
        ("One and a half million people voted.", "Проголосовали полтора миллиона человек."),
        ("One hundred and fifty schools closed.", "Закрылись 150 школ."),
        ("Half a million children were vaccinated.", "Привиты 500 тыс. детей."),
        ("The 38-year-old finished seventh in the 20th century.", "38-летний финишировал седьмым в XX веке."),
        ("They drew three times and made a two-day stop.", "Они трижды сыграли вничью и сделали двухдневную остановку."),
        ("The fire was out by 11:35 p.m.", "Пожар потушили к 23:35."),
        ("The game ended 2-1 in the 90th minute.", "Матч завершился со счетом 2:1 на 90-й минуте."),
        ("The Su-57 and the MS-21 flew on September 28-30.", "Су-57 и МС-21 летали с 28 по 30 сентября."),
    ],
)
def test_a_translation_may_respell_numbers_in_words_and_other_formats(english, russian):
    assert changed_in_translation(english, russian) == []


def test_a_translation_that_drops_the_scale_is_flagged_on_both_sides():
    flags = changed_in_translation("Repairs will cost 2.3 rubles.", "Ремонт обойдется в 2,3 млрд рублей.")
    assert flags == [Flag("2.3", "number", "summary_en"), Flag("2,3 млрд", "number", "summary_en")]


def test_a_translation_that_changes_or_drops_a_date_is_flagged():
    assert changed_in_translation("The accident happened on October 30.", "Авария произошла 31 октября.") == [
        Flag("October 30", "date", "summary_en"),
        Flag("31 октября", "date", "summary_en"),
    ]
    assert changed_in_translation("The accident happened in October.", "Авария произошла 31 октября.") == [Flag("31 октября", "date", "summary_en")]
    assert changed_in_translation("It lasted from September 28 to September 30.", "Это длилось с 28 по 30 сентября.") == []


def test_a_translation_that_adds_a_number_is_flagged():
    assert changed_in_translation("Three brigades arrived.", "Прибыли бригады.") == [Flag("Three", "number", "summary_en")]


# --- Text a summary copies from its article is never flagged, and a changed value always is ------


def _plain(text: str) -> str:
    """The RIA file keeps its HTML: paragraphs to lines, entities (&nbsp;) to characters."""
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"</p>|<br\s*/?>", "\n", text)))


def _articles() -> list[str]:
    """RIA articles, and the Russian side of the WMT news file in runs of 20 lines."""
    ria, wmt = SHARED / "summarization_ria20_headlines.jsonl", SHARED / "translation_newstest2019_ruen.jsonl"
    if not ria.exists() or not wmt.exists():
        pytest.skip(f"the shared eval files are not in {SHARED}")
    lines = [json.loads(line)["ru"] for line in wmt.read_text(encoding="utf-8").splitlines()]
    articles = [_plain(json.loads(line)["text"]) for line in ria.read_text(encoding="utf-8").splitlines()]
    return articles + ["\n".join(lines[i : i + 20]) for i in range(0, len(lines), 20)]


def test_sentences_copied_from_real_articles_are_never_flagged():
    copied = [(s, article) for article in _articles() for s in split_sentences(article)]
    with_numbers = [s for s, article in copied if number_support(s, article)[1]]
    assert len(with_numbers) > 100  # the check has something to check
    assert [s for s, article in copied if unsupported_numbers(s, article)] == []


def test_a_changed_number_in_a_real_sentence_is_flagged():
    """Each digit run in turn moved to a nearby value whose digits the article never writes (above ten,
    so that no number word of the article can hold it either)."""
    changed = 0
    for article in _articles():
        runs = set(re.findall(r"\d+", article))
        for sentence in split_sentences(article):
            for run in re.finditer(r"\d+", sentence):
                value = int(run[0])
                new = next(
                    (str(n).zfill(len(run[0])) for n in (value + 1, value + 2, value - 1, value + 7) if n > 10 and str(n).zfill(len(run[0])) not in runs), None
                )
                if new is not None:
                    changed += 1
                    other = sentence[: run.start()] + new + sentence[run.end() :]
                    assert unsupported_numbers(other, article), other
    assert changed > 200


TOKENS = st.sampled_from(
    ["1", "15", "2024", "1,5", "1.5", "1 500", "000", " ", "\u00a0", ",", ".", "-", "–", ":", "%", "млн", "тыс.", "миллиона", "октября", "October", "31"]
    + [
        "XX",
        "век",
        "Су",
        "COVID",
        "двух",
        "two",
        "twenty",
        "-five",
        "hundred",
        "один",
        "вдвое",
        "до",
        "по",
        "to",
        "г.",
        "года",
        "p.m.",
        "с половиной",
        "й",
        "\n",
        "среду",
        "мае",
        "May",
        "двадцать",
        "одна",
        "трети",
        "/",
        "$",
        "m",
        "k",
        "тысяча",
        "-летний",
        "-х",
    ]
)
TEXT = st.lists(TOKENS, max_size=30).map("".join)


@settings(suppress_health_check=list(HealthCheck))
@given(TEXT, TEXT, TEXT)
def test_any_text_supports_itself_inside_an_article_and_the_counts_agree(before, copied, after):
    assert unsupported_numbers(copied, f"{before}. {copied}. {after}") == []
    found, total = number_support(copied, before)
    assert total - found == len(unsupported_numbers(copied, before))
    changed_in_translation(before, copied)  # never raises on odd text
