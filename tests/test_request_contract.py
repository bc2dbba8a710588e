"""What a request may change is one mark on each option's declaration (per_request=True, or False:
the server's own), and everything else follows from it: the server's request model, what the
--server client sends and refuses, and the words a conflict between options is said in. Every
per-request option gives the same result run here and through a real `summarize serve`."""

from __future__ import annotations

import enum
import json
import typing
from dataclasses import fields
from pathlib import Path

import pytest
from helpers import SHORT
from serving import serving

from summarize.config import MAX_BEAMS, load_config
from summarize.errors import SummarizeError
from summarize.flags import contract_fields, request_fields
from summarize.options import Choices, OptionConflict, flag_of, make_options, per_request
from summarize.runs.remote import request_options
from summarize.runs.serve.error_shape import http_spelling
from summarize.runs.serve.requests import RequestOptions

PER_REQUEST = {"engine", "length", "max_words", "beams", "check", "translate", "to", "source_lang"}
# Articles of different lengths whose first sentences differ: a result can only come from its own input.
ARTICLES = {
    "a.txt": SHORT + " Подрядчиков выберут на открытом конкурсе в феврале. Итоги подведут в апреле, а первые участки откроют летом.",
    "b.txt": "Казань, 5 мая. В городе открылась новая станция метро на западной линии. Она соединит два жилых района с центром. "
    "Строители работали над ней четыре года. Первые поезда пошли утром, пассажиров встретил оркестр. Стоимость проезда не изменится.",
    "c.txt": "Новосибирск, 1 июня. Учёные из академгородка представили прибор для анализа воды за несколько минут.",
}


def _other(spec, hint) -> typing.Any:
    """A value of the option that is not its default."""
    kinds = [t for t in (typing.get_args(hint) or (hint,)) if t is not type(None)]
    kind = kinds[0]
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return next(member for member in kind if member != spec.default)
    if kind is bool:
        return not spec.default
    return 2 if kind is int else "other"


def test_every_model_option_is_marked_per_request_or_the_servers():
    unmarked = [spec.name for spec in fields(Choices) if per_request(spec) not in (True, False)]
    assert unmarked == [], f"mark these options per_request=True (a request may change them) or per_request=False (the server's own): {unmarked}"


def test_every_per_request_option_defaults_to_not_given():
    """The client sends what differs from the default: a default that is a value (check=True) could
    not be told from the same value given by name, which the server's own setting may contradict."""
    valued = [name for name, (spec, _) in request_fields().items() if spec.default is not None]
    assert valued == [], f"give these options the default None (resolved in make_options): {valued}"


def test_the_request_model_is_the_per_request_options():
    assert set(request_fields()) == PER_REQUEST
    assert set(RequestOptions.model_fields) == PER_REQUEST
    schema = RequestOptions.model_json_schema()
    beams = next(kind for kind in schema["properties"]["beams"]["anyOf"] if kind.get("type") == "integer")
    assert (beams["minimum"], beams["maximum"]) == (1, MAX_BEAMS)
    assert "--" not in schema["properties"]["max_words"]["description"]  # a request's words: "options.engine", not "--engine"
    with pytest.raises(ValueError):
        RequestOptions(model="tiny-mbart")  # a server-side option is an unknown field


def test_the_client_sends_every_per_request_option_given_and_refuses_every_server_side_one():
    given = {name: _other(spec, hint) for name, (spec, hint) in contract_fields().items()}
    choices = Choices(**{name: value for name, value in given.items() if name in PER_REQUEST and name != "translate"})
    sent = request_options(choices, translate=given["translate"], strict=False)
    assert set(sent) == PER_REQUEST
    assert json.loads(json.dumps(sent)) == sent and RequestOptions(**sent)  # as JSON, and valid as the server reads it
    assert request_options(Choices(), None, False) == {}  # nothing given, nothing sent: the server's own settings
    # Given by name, a value that is this side's default is still sent: the server's may differ (serve --no-check).
    assert request_options(Choices(check=True), True, False) == {"check": True, "translate": True}
    server_side = [name for name, (spec, _) in contract_fields().items() if not per_request(spec) and "envvar" not in spec.metadata]
    assert set(server_side) == {
        "model",
        "translator",
        "backend",
        "quantize",
        "device",
        "dtype",
        "long_mode",
        "strict",
        "llm_url",
        "llm_model",
        "llm_concurrency",
        "allow_noncommercial",
    }
    for name in server_side:
        spec, _ = contract_fields()[name]
        with pytest.raises(SummarizeError, match=f"^{flag_of(spec)} is the server's choice"):
            request_options(Choices(**{name: given[name]} if name != "strict" else {}), None, strict=name == "strict")
    assert request_options(Choices(offline=True), None, False) == {}  # HF_HUB_OFFLINE may be set for the whole shell: neither sent nor refused


def test_a_conflict_is_named_in_each_callers_words(run, fast_config):
    with pytest.raises(OptionConflict) as raised:
        make_options(load_config(fast_config), Choices(max_words=5))
    assert raised.value.names == ["max_words", "engine", "length"]
    assert raised.value.said(http_spelling) == "options.max_words is for options.engine extractive or lead; for a model, use options.length"
    done = run("-", "--max-words", "5", input=SHORT)
    assert done.exit_code == 2 and "summarize: error: --max-words is for --engine extractive or lead; for a model, use --length" in done.stderr


@pytest.mark.slow
def test_a_conflict_over_http_names_the_request_field(server):
    answer = server.post("/v1/summarize", {"text": SHORT, "options": {"max_words": 5}})
    assert answer.status_code == 422
    assert answer.json()["error"] == "options.max_words is for options.engine extractive or lead; for a model, use options.length"
    chunked = server.post("/v1/summarize", {"text": SHORT, "options": {"beams": 2, "engine": "lead"}})
    assert chunked.status_code == 422 and chunked.json()["error"].startswith("options.beams is for a model; the lead engine picks whole sentences")


@pytest.fixture(scope="module")
def server(fast_config):
    """The tiny models as `summarize` runs them here by default: a model, the translators (into en and sv), the check."""
    with serving(fast_config, "--to", "en,sv") as served:
        yield served


@pytest.fixture(scope="module")
def news(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("news")
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _results(done) -> list[dict]:
    assert done.exit_code == 0, done.stderr
    return [{key: value for key, value in result.items() if key != "seconds"} for result in json.loads(done.stdout)]


# Each per-request option as the command line gives it, with what it needs to apply (max_words and
# length count sentences of a model-free engine) and a value that changes the result on these articles.
CASES = {
    "engine": ([], ["--engine", "lead"]),
    "length": (["--engine", "lead"], ["--length", "short"]),
    "max_words": (["--engine", "lead"], ["--max-words", "5"]),
    "beams": ([], ["--beams", "1"]),
    "check": ([], ["--no-check"]),
    "translate": ([], ["--no-translate"]),
    "to": ([], ["--to", "sv"]),  # the server offers en and sv; the other cases ask for en
    "source_lang": ([], ["--source-lang", "ru"]),  # a confidence of 1.0: said, not detected
}


def test_each_per_request_option_has_a_case():
    assert set(CASES) == PER_REQUEST


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_each_per_request_option_gives_the_same_results_here_and_through_the_server(name, run, server, news):
    needs, given = CASES[name]
    needs = needs if name in ("to", "translate") else [*needs, "--to", "en"]  # --to with --no-translate is refused
    without = _results(run(news, "--format", "json", *needs))
    local = _results(run(news, "--format", "json", *needs, *given))
    remote = _results(run(news, "--format", "json", *needs, *given, "--server", server.base, config=None))
    assert [r["source"] for r in local] == [str(news / n) for n in sorted(ARTICLES)] and all(r["summary_ru"] for r in local)
    assert local != without, f"{given} changes nothing on these articles: the case would not see it dropped"
    assert remote == local
