"""What the numbers check once misread (issue 25), each class with its changed and faithful
spellings: weekdays and months alone, ranges and compound amounts, numerals ending in "один",
fractions, English spellings in translations, ISO dates, decades. Sentences written for these tests."""

import pytest

from summarize.checks.flags import Flag
from summarize.checks.numbers import changed_in_translation, number_support, unsupported_numbers


def number(text: str) -> Flag:
    return Flag(text, "number", "summary_ru")


def date(text: str) -> Flag:
    return Flag(text, "date", "summary_ru")


WEEK = "Заседание совета директоров прошло в среду, 5 июня 2024 года. Следующее назначено на пятницу."


@pytest.mark.parametrize(("summary", "changed"), [("Совет заседал во вторник.", "вторник"), ("Следующее заседание — в четверг.", "четверг")])
def test_a_changed_weekday_is_flagged_as_a_date(summary, changed):
    assert unsupported_numbers(summary, WEEK) == [date(changed)]


@pytest.mark.parametrize("summary", ["Совет заседал в среду.", "Следующее заседание назначено на пятницу.", "Со среды совет заседает, по средам тоже."])
def test_a_weekday_the_article_names_in_any_case_passes(summary):
    assert unsupported_numbers(summary, WEEK) == []


def test_a_full_date_supports_its_weekday_and_environment_is_no_wednesday():
    # 5 June 2024 was a Wednesday; "среда" as environment is not a day.
    assert unsupported_numbers("Совет заседал в среду.", "Совет заседал 5 июня 2024 года.") == []
    assert unsupported_numbers("Совет заседал в четверг.", "Совет заседал 5 июня 2024 года.") == [date("четверг")]
    assert unsupported_numbers("Защита окружающей среды и споры в среде экспертов.", "Эксперты спорят.") == []


MAY = "В мае цены на бензин выросли на 3%, сообщил Росстат. Форум откроется 5 июля."


def test_a_changed_month_without_a_day_is_flagged_and_a_dated_month_supports_it():
    assert unsupported_numbers("В июне бензин подорожал на 3%.", MAY) == [date("июне")]
    assert unsupported_numbers("В мае бензин подорожал на 3%, форум пройдет в июле.", MAY) == []
    assert unsupported_numbers("Форум пройдет в августе.", MAY) == [date("августе")]
    assert number_support("В июне бензин подорожал на 3%.", MAY) == (1, 2)


def test_a_translation_that_changes_a_weekday_or_a_month_is_flagged():
    assert changed_in_translation("The board met on Wednesday in May.", "Совет заседал в среду в мае.") == []
    assert changed_in_translation("The board met on Tuesday.", "Совет заседал в среду.") == [
        Flag("Tuesday", "date", "summary_en"),
        Flag("среду", "date", "summary_en"),
    ]
    assert changed_in_translation("Prices rose in June.", "Цены выросли в мае.") == [Flag("June", "date", "summary_en"), Flag("мае", "date", "summary_en")]
    # "May" the name and "may" the verb are no month.
    assert changed_in_translation("Theresa May said prices may rise in March.", "Тереза Мэй сказала, что цены вырастут в марте.") == []


MONEY = "Бюджет программы составит от 10 до 15 млн рублей, а расходы на рекламу — от 300 млн до 400 млн."


@pytest.mark.parametrize("summary", ["Бюджет — от 10 млн до 15 млн рублей.", "Бюджет — 10–15 млн рублей.", "На рекламу — 300–400 млн."])
def test_a_range_in_words_or_dashes_with_its_scale_on_either_end_passes(summary):
    assert unsupported_numbers(summary, MONEY) == []


def test_a_changed_end_of_a_range_is_flagged():
    assert unsupported_numbers("Бюджет — от 10 до 25 млн рублей.", MONEY) == [number("25 млн")]
    assert unsupported_numbers("На рекламу — 300–500 млн рублей.", MONEY) == [number("500 млн")]


@pytest.mark.parametrize("english", ["The budget is from 10 to 15 million rubles.", "The budget is 10 million to 15 million rubles."])
def test_a_translated_range_in_words_passes(english):
    assert changed_in_translation(english, "Бюджет составит 10–15 млн рублей.") == []


def test_a_decimal_comma_before_three_digits_is_a_decimal_in_russian():
    article = "Выручка банка составила 1,250 млрд рублей."
    assert unsupported_numbers("Выручка — 1,25 млрд рублей.", article) == []
    assert unsupported_numbers("Выручка — 1,250 млрд рублей.", "Выручка — 1,25 млрд рублей.") == []
    assert unsupported_numbers("Выручка — 1 250 млрд рублей.", article) == [number("1 250 млрд")]
    assert changed_in_translation("Revenue was 1.25 billion rubles.", article) == []


SHARE = "За год цены выросли на 21%, а выручка — на 101 млн рублей; в зале было 991 место."


@pytest.mark.parametrize(
    "summary",
    [
        "Цены выросли на двадцать один процент.",
        "Доля выросла до двадцати одного процента.",
        "Выручка выросла на сто один миллион.",
        "Мест — девятьсот девяносто одно.",
    ],
)
def test_a_compound_numeral_ending_in_one_is_its_whole_value(summary):
    assert unsupported_numbers(summary, SHARE) == []


def test_a_changed_compound_numeral_ending_in_one_is_flagged_whole():
    assert unsupported_numbers("Цены выросли на тридцать один процент.", SHARE) == [number("тридцать один процент")]
    assert changed_in_translation("Prices rose by twenty-one percent.", "Цены выросли на 21%.") == []
    assert changed_in_translation("Prices rose by thirty-one percent.", "Цены выросли на 21%.") != []


AMOUNT = "Компания получила 3,2 млн рублей субсидий, а регион — 2,17 млрд рублей. На стадион пришли 1500 зрителей."


@pytest.mark.parametrize("summary", ["Компания получила 3 млн 200 тыс. рублей.", "Регион получил 2 млрд 170 млн рублей.", "Пришли тысяча пятьсот зрителей."])
def test_a_compound_amount_is_one_value(summary):
    assert unsupported_numbers(summary, AMOUNT) == []


@pytest.mark.parametrize(
    ("summary", "changed"), [("Компания получила 3 млн 400 тыс. рублей.", "3 млн 400 тыс."), ("Пришли тысяча шестьсот зрителей.", "тысяча шестьсот")]
)
def test_a_changed_compound_amount_is_flagged_whole(summary, changed):
    assert unsupported_numbers(summary, AMOUNT) == [number(changed)]


def test_a_fraction_is_its_share_not_its_numerator():
    article = "Две трети жителей поддержали проект, а три четверти депутатов проголосовали за."
    assert unsupported_numbers("Проект поддержали 2/3 жителей и три четверти депутатов.", article) == []
    assert unsupported_numbers("Проект поддержали две трети жителей и 75% депутатов.", "Проект поддержали 66% жителей и 75% депутатов.") == []
    assert unsupported_numbers("Проект поддержали три пятых депутатов.", article) == [number("три пятых")]
    assert changed_in_translation("Two thirds of residents agreed.", "Две трети жителей согласились.") == []


@pytest.mark.parametrize(
    ("english", "russian"),
    [
        ("The deal cost $425m.", "Сделка стоила 425 млн долларов."),
        ("The deal cost $2.17 bln.", "Сделка стоила 2,17 млрд долларов."),
        ("45k people came.", "Пришли 45 тыс. человек."),
        ("The meeting began at 3 p.m.", "Встреча началась в 15:00."),
        ("A hundred thousand people came.", "Пришли 100 тыс. человек."),
        ("The election is on 10/25/2024.", "Выборы пройдут 25.10.2024."),
        ("The 2023-2024 season ended.", "Сезон 2023-2024 закончился."),
        ("He ran the 100m sprint.", "Он пробежал 100 метров."),  # metres: a glued "m" is millions after a currency sign only
    ],
)
def test_common_english_spellings_read_right(english, russian):
    assert changed_in_translation(english, russian) == []


@pytest.mark.parametrize(
    ("english", "russian"),
    [
        ("The deal cost $452m.", "Сделка стоила 425 млн долларов."),
        ("54k people came.", "Пришли 45 тыс. человек."),
        ("The meeting began at 5 p.m.", "Встреча началась в 15:00."),
        ("The election is on 10/26/2024.", "Выборы пройдут 25.10.2024."),
    ],
)
def test_changed_english_spellings_are_flagged(english, russian):
    assert changed_in_translation(english, russian) != []


def test_iso_dates_decades_compound_adjectives_and_dotted_thousands_are_values():
    assert unsupported_numbers("Отчет вышел 2024-06-05.", "Отчет опубликовали 5 июня 2024 года.") == []
    assert unsupported_numbers("Отчет вышел 2024-07-05.", "Отчет опубликовали 5 июня 2024 года.") == [date("2024-07-05")]
    article = "Дом построили в 1990-х годах, пятнадцатилетний ремонт закончился. На счете было 1.500.000 рублей."
    assert unsupported_numbers("Дом построен в 90-х, ремонт был 15-летним, на счете — 1 500 000 рублей.", article) == []
    assert unsupported_numbers("Дом построен в 80-х, на счете — 1.600.000 рублей.", article) == [number("80-х"), number("1.600.000")]


def test_a_weekday_adjective_is_its_day_and_a_newspaper_title_is_no_weekday():
    assert changed_in_translation("Putin spent Saturday in the taiga.", "Путин провел субботний день в тайге.") == []
    assert changed_in_translation("The claim was published by The Sunday Times.", "Заявление опубликовала The Sunday Times.") == []
    assert unsupported_numbers("Путин провел воскресный день в тайге.", "Путин провел субботний день в тайге.") == [date("воскресный")]
