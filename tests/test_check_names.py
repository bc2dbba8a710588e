"""Names a summary gives that its article does not, with natasha's real NER on real Russian news
sentences; the Checker that adds numbers and the translation; its warning line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from summarize.checks.checker import Checker
from summarize.checks.flags import Flag
from summarize.checks.names import Names

ARTICLE = (
    "Москва, 12 апреля. Президент России Владимир Путин провёл в Кремле переговоры с премьер-министром Индии Нарендрой Моди. "
    "Министерство иностранных дел сообщило, что глава ведомства Сергей Лавров встретится с коллегами в Нью-Дели. "
    "Стороны обсудили поставки нефти через порт Санкт-Петербурга и работу Организации Объединённых Наций. "
    "Мэр Москвы Сергей Собянин рассказал гостям о строительстве метро."
)
FAITHFUL = "Владимир Путин провёл в Кремле переговоры с Нарендрой Моди. Лавров встретится с коллегами в Нью-Дели, сообщил МИД."


@pytest.fixture(scope="module")
def names() -> Names:
    return Names()  # natasha and pymorphy3, loaded once for the module


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def name_flag(text: str) -> Flag:
    return Flag(text, "name", "summary_ru")


def test_a_faithful_summary_passes(names):
    assert names.unsupported(FAITHFUL, ARTICLE) == []
    # Six names (Владимир Путин, Кремле, Нарендрой Моди, Лавров, Нью-Дели, МИД), all found: the
    # NER did see them (a summary with no names would pass too).
    assert names.support(FAITHFUL, ARTICLE) == (6, 6)


@pytest.mark.parametrize(
    ("summary", "swapped"),
    [
        ("Медведев провёл в Кремле переговоры с Нарендрой Моди.", "Медведев"),  # a person for a person
        ("Владимир Путин провёл переговоры с Нарендрой Моди. Лавров встретится с коллегами в Пекине.", "Пекине"),  # a place
        ("Владимир Путин провёл в Кремле переговоры с Нарендрой Моди. Об этом сообщил Газпром.", "Газпром"),  # an organisation
    ],
)
def test_a_swapped_name_is_flagged_and_only_it(names, summary, swapped):
    assert names.unsupported(summary, ARTICLE) == [name_flag(swapped)]


def test_case_forms_match_their_lemmas(names):
    # The article has "Путин", "Москвы", "Санкт-Петербурга", "Собянин"; the summary other cases of them.
    summary = "Президент Путин похвалил мэра Собянина. В Москве и Санкт-Петербурге построят метро."
    assert names.judge(summary, ARTICLE) == [("Путин", True), ("Собянина", True), ("Москве", True), ("Санкт-Петербурге", True)]
    assert names.judge("В Москве Путина поддержал Нарендра Моди.", ARTICLE) == [("Москве", True), ("Путина", True), ("Нарендра Моди", True)]


def test_yo_and_ye_are_one_letter_and_hyphenated_places_match(names):
    article = "Сотрудники ФСБ задержали в Ростове-на-Дону инженера Королёва."
    assert names.unsupported("Инженера Королева задержали в Ростов-на-Дону.", article) == []


def test_an_abbreviation_matches_the_expansion_the_article_gives(names):
    # The article writes "Министерство иностранных дел" and "Организации Объединённых Наций".
    summary = "МИД рассказал о переговорах в Кремле, в ООН их обсудят."
    assert names.judge(summary, ARTICLE) == [("МИД", True), ("Кремле", True), ("ООН", True)]
    # An abbreviation the article never spells out is not taken for any other organisation.
    assert names.unsupported("Переговоры в Кремле прокомментировала ФСБ.", ARTICLE) == [name_flag("ФСБ")]


def test_an_expansion_matches_the_abbreviation_the_article_uses(names):
    article = "Сотрудники ФСБ задержали инженера. МИД Франции не ответил на запрос."
    assert names.unsupported("Федеральная служба безопасности задержала инженера.", article) == []
    assert names.unsupported("Министерство иностранных дел Франции не ответило.", article) == []
    assert names.unsupported("Федеральная служба охраны задержала инженера.", article) == [name_flag("Федеральная служба охраны")]


def test_a_surname_alone_passes_but_a_first_name_the_article_lacks_is_flagged(names):
    # The article names "Сергей Лавров": the surname alone is his.
    assert names.unsupported("Лавров встретится с коллегами.", ARTICLE) == []
    # A first name the article never gives him may be invented.
    assert names.unsupported("Дмитрий Лавров встретится с коллегами.", ARTICLE) == [name_flag("Дмитрий Лавров")]


def test_one_persons_first_name_does_not_pass_for_anothers(names):
    # "Сергей" is in the article (Сергей Лавров, Сергей Собянин), and so is "Путин", but never together.
    assert names.unsupported("Сергей Путин провёл переговоры.", ARTICLE) == [name_flag("Сергей Путин")]
    assert names.unsupported("Сергей Лавров встретится с коллегами в Нью-Дели.", ARTICLE) == []


def test_every_word_of_the_article_counts_not_only_its_ner_spans(names):
    # Lowercased text (as in the RIA corpus): the NER finds no names in it, its words are still there.
    article = "глава мид россии сергей лавров прибыл в женеву, где встретится с госсекретарем сша."
    assert names.names(article) == []
    assert names.unsupported("Сергей Лавров прибыл в Женеву.", article) == []


def test_a_name_repeated_is_counted_and_flagged_once(names):
    summary = "Медведев провёл переговоры. Медведев рассказал о них в Кремле."
    assert names.unsupported(summary, ARTICLE) == [name_flag("Медведев")]
    assert names.support(summary, ARTICLE) == (1, 2)


def test_a_summary_without_names_has_nothing_to_count(names):
    assert names.support("Стороны обсудили поставки нефти.", ARTICLE) == (0, 0)


# ---------------------------------------------------------------- the Checker


def test_the_checker_loads_natasha_on_the_first_check_not_before():
    code = "import sys; from summarize.checks.checker import Checker; Checker(); print('natasha' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_checker_flags_a_swapped_name_once(checker):
    summary = "Медведев провёл переговоры в Кремле. Медведев обсудил поставки нефти."
    assert checker.check(ARTICLE, summary, None) == [name_flag("Медведев")]
    assert checker.check(ARTICLE, FAITHFUL, None) == []
    assert checker.check(ARTICLE, None, None) == []


def test_the_checker_flags_a_changed_number(checker):
    article = "Москва, 3 марта. Цены на бензин в Москве выросли на 15% за год, сообщил Росстат."
    summary = "Цены на бензин в Москве выросли на 25% за год."
    flags = checker.check(article, summary, None)
    assert [(f.kind, f.field) for f in flags] == [("number", "summary_ru")] and "25" in flags[0].text
    assert checker.check(article, "Цены на бензин в Москве выросли на 15% за год.", None) == []


def test_the_checker_flags_a_number_the_translation_changed(checker):
    article = "Цены на бензин в Москве выросли на 15% за год."
    flags = checker.check(article, article, "Petrol prices in Moscow rose by 51% over the year.")
    assert flags and all(f.field == "summary_en" for f in flags)
    assert any("51" in f.text for f in flags)


def test_the_checker_counts_names_and_numbers_for_eval(checker):
    article = "Цены на бензин в Москве выросли на 15% за год, сообщил Росстат."
    support = checker.support(article, "В Москве и Пекине цены выросли на 15% и 20%.")
    assert support.names == (1, 2) and support.numbers == (1, 2)


def test_the_warning_is_one_line_naming_each_span_by_kind():
    flags = [
        name_flag("Москва"),
        Flag("15%", "number", "summary_ru"),
        name_flag("Сидоров"),
        Flag("1.5", "number", "summary_en"),
        Flag("3 марта", "date", "summary_ru"),
    ]
    assert Checker().warning(flags) == (
        'the summary has what the article does not: names "Москва", "Сидоров"; number "15%"; date "3 марта"; the translation changed: "1.5"'
    )
    assert Checker().warning([Flag("2.5", "number", "summary_en")]) == 'the translation changed: "2.5"'


def test_the_warning_keeps_a_span_on_one_line_with_its_quotes_escaped():
    line = Checker().warning([name_flag('ООО\n"Ромашка"\x1b[31m')])
    assert line == 'the summary has what the article does not: name "ООО \\"Ромашка\\"\\u001b[31m"'
    assert line.isprintable()


# --- What the names check once misread (issue 25) ---------------------------------------------------

LISTED = "На переговорах Россию представляли Сергей Лавров и Михаил Галузин, Турцию — Хакан Фидан."


@pytest.mark.parametrize("wrong", ["Михаил Лавров", "Сергей Галузин", "Михаил Фидан"])
def test_a_first_name_borrowed_from_the_person_named_next_is_flagged(names, wrong):
    assert names.unsupported(f"{wrong} провел переговоры.", LISTED) == [name_flag(wrong)]


def test_each_person_of_a_list_keeps_their_own_first_name(names):
    assert names.unsupported("Сергей Лавров и Михаил Галузин провели переговоры с Хаканом Фиданом.", LISTED) == []


def test_a_first_name_three_words_from_the_surname_is_another_persons(names):
    # "Сергеем" stands three words after "Путин"; the article's Путин is Владимир.
    article = "Владимир Путин поговорил с Сергеем Собяниным о строительстве метро."
    assert names.unsupported("Сергей Путин поговорил с Собяниным.", article) == [name_flag("Сергей Путин")]
    assert names.unsupported("Владимир Путин поговорил с Сергеем Собяниным.", article) == []


def test_a_caption_without_commas_is_not_one_persons_name(names):
    # Capitalised names side by side: a first name five words from the surname is someone else's.
    article = "На фото слева направо Сергей Иванов Олег Петров Михаил Лавров."
    assert names.unsupported("Сергей Лавров на фото.", article) == [name_flag("Сергей Лавров")]
    assert names.unsupported("Михаил Лавров на фото.", article) == []


MAYOR = "Мэр Москвы Сергей Собянин открыл станцию. Глава МИД Украины Дмитрий Кулеба и министр Сергей Лавров не встретились."


@pytest.mark.parametrize("summary", ["С. Собянин открыл станцию.", "Д. Кулеба не встретился с Лавровым.", "С. Лавров не встретился с Кулебой."])
def test_an_initial_that_is_the_first_letter_of_the_first_name_passes(names, summary):
    assert names.unsupported(summary, MAYOR) == []


@pytest.mark.parametrize(
    ("summary", "wrong"), [("К. Кулеба не приехал.", "К. Кулеба"), ("В. Лавров не приехал.", "В. Лавров"), ("А. Собянин открыл станцию.", "А. Собянин")]
)
def test_a_wrong_initial_is_flagged_even_when_a_preposition_has_its_letter(names, summary, wrong):
    # "к" and "в" stand right beside the surnames; an initial is never matched as a word.
    article = "Мэр Москвы Сергей Собянин открыл станцию. Дмитрий Кулеба к переговорам не готов, Сергей Лавров в Женеве ждет."
    assert names.unsupported(summary, article) == [name_flag(wrong)]


PLACES = "В Нижнем Новгороде открыли музей Великой Отечественной войны. Северная Корея усилила южную границу."


def test_a_place_whose_words_stand_apart_in_the_article_is_flagged(names):
    assert names.unsupported("Музей открыли в Великом Новгороде.", PLACES) == [name_flag("Великом Новгороде")]
    assert names.unsupported("Южная Корея усилила границу.", PLACES) == [name_flag("Южная Корея")]
    assert names.unsupported("Музей открыли в Нижнем Новгороде, Северная Корея усилила границу.", PLACES) == []


def test_a_place_named_in_a_coordination_passes(names):
    article = "Обстрелы продолжаются в Курской и Белгородской областях."
    assert names.unsupported("В Белгородской области продолжаются обстрелы.", article) == []


def test_a_generic_source_word_is_no_name_but_an_invented_person_beside_it_is(names):
    article = "Как сообщают СМИ, Министерство иностранных дел США сделало заявление."
    assert names.unsupported("Об этом сообщили СМИ.", "Об этом сообщили журналисты.") == []
    summary = "Глава МИД США Кристофер Кребс сделал заявление, сообщают СМИ."
    assert names.unsupported(summary, article) == [name_flag("Кристофер Кребс")]


def test_numbers_the_ner_took_into_a_name_and_stump_compounds_are_no_new_names(names):
    assert names.names("Банк России 25.10.24 снизил ставку.") == [("Банк России", "ORG")]
    assert names.unsupported("Гумпомощь доставили в Курск.", "Гуманитарную помощь доставили в Курск.") == []
    assert names.unsupported("Минобороны сообщило об учениях.", "Министерство обороны сообщило об учениях.") == []


def test_the_flagged_number_keeps_its_percent_sign(checker):
    article = "Москва, 3 марта. Цены на бензин в Москве выросли на 15% за год, сообщил Росстат."
    assert checker.check(article, "Цены на бензин выросли на 25% за год.", None) == [Flag("25%", "number", "summary_ru")]


@pytest.mark.parametrize(
    "sentence",
    [
        "Советником Джона Ф. Кеннеди был молодой политолог.",
        "Открытие сделал доктор Тони Молл (Tony Moll) из Дурбана.",
        "Кристина Фернандес де Киршнер объявила о выдвижении.",
        "Представитель Луганской Народной Республики (ЛНР) выступил с заявлением.",
    ],
)
def test_a_name_with_a_middle_initial_a_particle_or_a_part_in_brackets_supports_itself(names, sentence):
    # Found on real news with the summary as its own article: each mention is one person or place.
    assert names.unsupported(sentence, sentence) == []
