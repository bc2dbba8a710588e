"""Extractive engines: central sentences near the top win over off-topic ones, a sentence that points
back never comes alone, budgets hold, nothing is lost silently."""

import json
from unittest import mock

import pytest
from helpers import invoke

from summarize import cli
from summarize.engines import extractive
from summarize.engines.extractive import (
    MAX_CANDIDATES,
    Extract,
    extract_central,
    extract_lead,
    normalise_words,
    pagerank,
    similarity_graph,
)
from summarize.text import split_sentences

# Oil prices, with an off-topic first sentence (so the lead cannot pass for centrality), an
# off-topic sentence in the middle and a dateline too short to be a sentence. OIL_PRICES is the
# first on-topic sentence, OPEC the most central one.
ARTICLE = """Вчера вечером в столице прошёл сильный дождь с градом.
Цены на нефть на мировых рынках выросли до максимума за полгода. Аналитики связывают рост цен на нефть с сокращением добычи нефти странами ОПЕК. В городском парке открылся новый каток для детей и взрослых. Экспорт нефти из России в марте увеличился, сообщило министерство энергетики. Высокие цены на нефть поддержали курс рубля на бирже.
Москва, 3 марта."""
RAIN, OIL_PRICES, OPEC, SKATING, DATELINE = 0, 1, 2, 3, 6

# Two factory sentences share exact word forms; three oil sentences share only inflected ones
# (нефти, нефтью, нефть; компания, компании), so only stemming lets the larger topic win.
INFLECTED = """Завод в Перми получил новые станки для цеха.
Новые станки завод установит в цехе весной.
Танкер доставил партию нефти в порт.
Компания торгует нефтью уже двадцать лет.
Нефть подорожала после заявления компании."""
FACTORY, OIL = {0, 1}, {2, 3, 4}


def assert_exact_sentences_in_order(result: Extract, text: str) -> None:
    sentences = split_sentences(text)
    assert list(result.sentences) == sorted(set(result.sentences))
    assert result.text == " ".join(sentences[i] for i in result.sentences)
    assert result.total_sentences == len(sentences)


def test_an_off_topic_first_sentence_loses_to_the_first_on_topic_one():
    result = extract_central(ARTICLE, max_sentences=1)
    assert result.sentences == (OIL_PRICES,)
    assert result.warnings == ()
    assert extract_central(ARTICLE, max_sentences=2).sentences == (OIL_PRICES, OPEC)


def test_central_leaves_off_topic_sentences_out():
    result = extract_central(ARTICLE, max_sentences=3)
    assert len(result.sentences) == 3
    assert not {RAIN, SKATING} & set(result.sentences)
    assert OPEC in result.sentences
    assert_exact_sentences_in_order(result, ARTICLE)


def test_central_never_picks_a_sentence_too_short_to_be_one_while_others_exist():
    result = extract_central(ARTICLE, max_sentences=10)
    assert result.sentences == (0, 1, 2, 3, 4, 5)
    assert DATELINE not in result.sentences


def test_short_sentences_are_picked_when_there_is_nothing_else():
    result = extract_central("Москва, 3 марта.\nСрочно.", max_sentences=1)
    assert result.sentences == (1,)  # a dateline is where and when, never the pick while another sentence exists
    assert result.text == "Срочно."


def test_stemming_joins_the_forms_of_a_word():
    stems = normalise_words("Нефть, нефти и нефтью!")
    assert len(stems) == 3
    assert len(set(stems)) == 1


def test_normalise_words_drops_stop_words_punctuation_and_case():
    assert normalise_words("И она, и её брат — в Москве.") == normalise_words("брат Москве")
    assert normalise_words("Брат МОСКВЕ") == normalise_words("брат москве")


def most_central(text: str) -> int:
    scores = pagerank(similarity_graph([normalise_words(sentence) for sentence in split_sentences(text)]))
    return scores.index(max(scores))


def test_stemming_decides_which_topic_is_central():
    assert most_central(INFLECTED) in OIL
    # The same text without stemming: the factory pair is the only connected part.
    with mock.patch.object(extractive, "_stem", lambda word: word):
        assert most_central(INFLECTED) in FACTORY


# The second sentence is a little more central than the first (it shares words with both others),
# not enough to outweigh its place: news puts its main fact first.
BRIDGES = """Мэрия утвердила план ремонта мостов через реку.
Ремонт мостов через реку начнётся в апреле, сообщила мэрия.
Подрядчик начнёт ремонт мостов с центрального."""


def test_the_lead_sentence_wins_over_a_later_one_about_as_central():
    scores = pagerank(similarity_graph([normalise_words(sentence) for sentence in split_sentences(BRIDGES)]))
    assert scores[0] < scores[1] < 1.5 * scores[0]
    assert extract_central(BRIDGES, max_sentences=1).sentences == (0,)


def test_the_position_prior_falls_with_position():
    prior = [extractive.position_prior(k) for k in range(5)]
    assert prior[0] == 1.0
    assert prior == sorted(prior, reverse=True) and len(set(prior)) == 5


# The most central sentence opens with "Он добавил": alone it would say "he" of nobody.
HE_ADDED = """Губернатор области провёл совещание с главами районов в понедельник.
Он добавил, что ремонт школ, больниц и дорог в районах завершат к осени.
Ремонт школ в районах оплатит областной бюджет.
Ремонт больниц начнётся в районах весной.
Ремонт дорог в районах подрядчики ведут уже месяц."""


def test_a_sentence_that_points_back_is_never_picked_without_the_one_before_it():
    assert most_central(HE_ADDED) == 1
    assert 1 not in extract_central(HE_ADDED, max_sentences=1).sentences
    assert extract_central(HE_ADDED, max_sentences=2).sentences == (0, 1)


def test_a_sentence_that_points_back_is_picked_when_it_is_all_there_is():
    text = "Он добавил, что ремонт школ завершат к осени."
    assert extract_central(text, max_sentences=1) == Extract(text, (0,), 1, ())


@pytest.mark.parametrize(
    "sentence",
    [
        "Он добавил, что работы завершат к осени.",
        "«Это большой успех», — сказал министр.",
        "Кроме того, в городе откроют две школы.",
        "При этом цены не изменятся.",
        "Также планируется ремонт дорог.",
        "Однако сроки пока не названы.",
        "Тем не менее работы продолжатся.",
        "Об этом сообщила пресс-служба.",
        "По её словам, решение уже принято.",
        "она отметила, что всё готово.",
    ],
)
def test_sentences_that_point_back_are_recognised(sentence):
    assert extractive.leans_back(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Онлайн-торговля выросла на треть.",
        "Этнографический музей открылся после ремонта.",
        "И.о. губернатора подписал указ.",
        "Кроме России, в саммите участвуют Китай и Индия.",
        "Ранее сообщалось о переносе сроков.",
        "По словам министра, решение уже принято.",
    ],
)
def test_sentences_that_stand_alone_are_not_taken_for_ones_that_point_back(sentence):
    assert not extractive.leans_back(sentence)


def test_ties_go_to_the_earlier_sentence():
    unrelated = (
        "Шахматный турнир завершился победой гроссмейстера из Казани.\n"
        "Синоптики обещают метель на всей территории области.\n"
        "Библиотека продлила часы работы читального зала.\n"
        "Футбольный клуб подписал контракт с молодым вратарём."
    )
    assert extract_central(unrelated, max_sentences=2).sentences == (0, 1)


def test_lead_returns_the_first_sentences():
    result = extract_lead(ARTICLE, max_sentences=2)
    assert result.sentences == (0, 1)
    assert result.warnings == ()
    assert_exact_sentences_in_order(result, ARTICLE)


@pytest.mark.parametrize("engine", [extract_central, extract_lead])
def test_max_sentences_is_respected(engine):
    for limit in (1, 2, 4):
        assert len(engine(ARTICLE, max_sentences=limit).sentences) == limit


@pytest.mark.parametrize("engine", [extract_central, extract_lead])
def test_max_words_is_respected_without_cutting(engine):
    unbounded = engine(ARTICLE, max_sentences=3)
    budget = len(unbounded.text.split()) - 1
    result = engine(ARTICLE, max_sentences=3, max_words=budget)
    assert 1 <= len(result.sentences) < 3
    assert len(result.text.split()) <= budget
    assert set(result.sentences) < set(unbounded.sentences)
    assert result.warnings == ()
    assert_exact_sentences_in_order(result, ARTICLE)


def test_word_budget_stops_instead_of_skipping_to_a_shorter_sentence():
    text = (
        "Мэрия утвердила план ремонта мостов.\n"  # 5 words
        "Работы на восьми мостах через реку начнутся в апреле и завершатся к осени.\n"  # 13
        "Движение перекроют только ночью."  # 4: would fit after the first, but comes later
    )
    assert extract_lead(text, max_sentences=3, max_words=10).sentences == (0,)


@pytest.mark.parametrize("engine, first", [(extract_central, OIL_PRICES), (extract_lead, RAIN)])
def test_a_first_sentence_over_the_word_budget_is_cut_and_reported(engine, first):
    sentence = split_sentences(ARTICLE)[first]
    result = engine(ARTICLE, max_sentences=3, max_words=5)
    assert result.sentences == (first,)
    assert result.text == " ".join(sentence.split()[:5])
    assert len(result.warnings) == 1
    assert "max_words=5" in result.warnings[0] and "5 words" in result.warnings[0]


@pytest.mark.parametrize("engine", [extract_central, extract_lead])
@pytest.mark.parametrize("text", ["", "  \n\n "])
def test_empty_input_gives_an_empty_extract_and_says_so(engine, text):
    result = engine(text)
    assert (result.text, result.sentences, result.total_sentences) == ("", (), 0)
    assert result.warnings


@pytest.mark.parametrize("engine", [extract_central, extract_lead])
def test_one_sentence_input_is_returned_whole(engine):
    text = "Правительство утвердило программу ремонта дорог в двенадцати регионах."
    assert engine(text) == Extract(text, (0,), 1, ())


@pytest.mark.parametrize("engine", [extract_central, extract_lead])
def test_budgets_below_one_are_refused(engine):
    with pytest.raises(ValueError):
        engine(ARTICLE, max_sentences=0)
    with pytest.raises(ValueError):
        engine(ARTICLE, max_words=0)


def test_long_input_ranks_only_the_first_candidates_and_reports_it():
    # Past the cap, one sentence repeated 2 600 times would be the most central by far if ranked
    # (it shares "отчёт" with the rest, so the graph is one component and the clique dominates).
    varied = [f"Отчёт номер {i} касается отрасли {i % 7} и региона {i % 11} в этом квартале." for i in range(400)]
    repeated = ["Отчёт: цены на нефть и газ снова выросли, нефть и газ дорожают."] * 2600
    text = "\n".join(varied + repeated)
    assert MAX_CANDIDATES == 400
    result = extract_central(text, max_sentences=3)
    assert result.total_sentences == 3000
    assert len(result.sentences) == 3
    assert max(result.sentences) < MAX_CANDIDATES
    assert len(result.warnings) == 1
    assert "3 000" in result.warnings[0] and str(MAX_CANDIDATES) in result.warnings[0]


def test_input_within_the_cap_has_no_cap_warning():
    text = "\n".join(f"Отчёт номер {i} касается отрасли {i % 7} и региона {i % 11}." for i in range(MAX_CANDIDATES))
    assert extract_central(text).warnings == ()


def test_a_shared_rare_word_links_more_than_a_shared_common_one():
    # "рубл" is in three sentences, "бирж" in two: IDF makes the rarer link the stronger.
    graph = similarity_graph([["рубл", "бирж"], ["рубл", "курс"], ["рубл", "банк"], ["бирж", "торг"]])
    assert graph[0][3] > graph[0][1]
    assert graph[0][1] == pytest.approx(graph[0][2])
    assert 2 not in graph[3] and 3 not in graph[3]


def test_pagerank_sums_to_one_and_favours_the_hub():
    hub_and_spokes = [{1: 1.0, 2: 1.0, 3: 1.0}, {0: 1.0}, {0: 1.0}, {0: 1.0}, {}]
    scores = pagerank(hub_and_spokes)
    assert sum(scores) == pytest.approx(1.0)
    assert scores[0] == max(scores)
    assert scores[4] == min(scores)
    assert pagerank([{}, {}]) == pytest.approx([0.5, 0.5])


@pytest.mark.parametrize("way", ["--engine", "preset", "fallback"])
def test_every_way_to_the_extractive_engine_runs_lexrank_not_the_lead(tmp_path, way):
    ghost = tmp_path / "ghost.toml"  # a summariser whose model is nowhere: the run falls back to extractive
    ghost.write_text('[summarizers.ghost]\nmodel = "nobody/ghost-model"\nmax_input_tokens = 100\n', encoding="utf-8")
    flags = {"--engine": ["--engine", "extractive"], "preset": ["--model", "lexrank"], "fallback": ["--model", "ghost", "--config", ghost]}
    result = invoke(cli.app, "-", *flags[way], "--length", "short", "--no-translate", "-f", "json", input=ARTICLE)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["engine"] == "extractive"
    assert data["summary_ru"] == extract_central(ARTICLE, max_sentences=2).text  # --length short: 2 sentences
    assert data["summary_ru"] != extract_lead(ARTICLE, max_sentences=2).text


UNENDED = " ".join(f"слово{i}" for i in range(200))  # a transcript with no punctuation at all


@pytest.mark.parametrize("extract", [extract_lead, extract_central])
@pytest.mark.parametrize("max_words, kept", [(None, 3 * 25), (10, 10)])
def test_a_text_without_sentence_ends_is_cut_by_words_and_says_so(extract, max_words, kept):
    result = extract(UNENDED, 3, max_words)
    assert result.text == " ".join(UNENDED.split()[:kept])
    assert result.warnings == (f"the text has no sentence ends (. ! ?), so no sentences to pick; the summary is its first {kept} of 200 words",)


@pytest.mark.parametrize("extract", [extract_lead, extract_central])
def test_a_short_text_without_sentence_ends_is_kept_whole_without_a_warning(extract):
    result = extract("Москва без точек и запятых", 3, None)
    assert (result.text, result.warnings) == ("Москва без точек и запятых", ())
