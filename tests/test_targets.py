"""--to: one Russian summary, one translation per target, each through the first route that makes it
(tiny random-weight models laid out under the real ids: Marian big with >>xxx<< tokens, M2M100, NLLB)."""

from __future__ import annotations

import csv
import json

import pytest

from summarize.config import Backend, Device, load_config
from summarize.errors import SummarizeError
from summarize.options import Choices, make_options
from summarize.routes import parse_targets


def _one(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_to_de_kk_gives_a_russian_summary_and_two_translations_in_order(run, short_file):
    row = _one(run(short_file, "--to", "de,kk", "--format", "json"))
    keys = list(row)
    assert keys.index("summary_ru") < keys.index("summary_en") < keys.index("summary_de") < keys.index("summary_kk") < keys.index("engine")
    assert row["summary_en"] is None  # not asked for: as with --no-translate
    assert row["summary_de"] and row["summary_kk"]
    assert "__kk__" not in row["summary_kk"]  # the forced language token is not part of the text
    assert row["translator"] == "opus-mt-tc-big-zle-de"
    assert row["translators"] == ["opus-mt-tc-big-zle-de", "m2m100-418m"]
    assert any("Kazakh" in w for w in row["warnings"])  # no permissive model has a published score for it
    assert any(w.startswith("names are checked in the Russian summary only") for w in row["warnings"])


def test_to_en_keeps_the_output_of_one_translator(run, short_file):
    row = _one(run(short_file, "--format", "json"))
    assert row["translator"] == "tiny-marian" and row["translators"] is None
    assert not any(key.startswith("summary_") and key not in ("summary_ru", "summary_en") for key in row)
    assert not any("names are checked" in w for w in row["warnings"])


def test_a_target_without_its_model_is_a_warning_and_a_null_field(run, short_file, tmp_path, fast_config):
    config = tmp_path / "missing.toml"
    config.write_text(
        fast_config.read_text(encoding="utf-8") + '\n[translators.opus-mt-tc-big-zle-gmq]\nmodel = "Helsinki-NLP/not-downloaded"\n', encoding="utf-8"
    )
    result = run(short_file, "--to", "de,sv", "--format", "json", config=config)
    row = _one(result)
    assert row["summary_de"] and row["summary_sv"] is None and row["error"] is None
    assert any("the translation into sv is skipped" in w for w in row["warnings"])
    assert "the translation into sv is skipped" in result.stderr


def test_a_language_without_a_route_is_exit_2_listing_the_targets(run, short_file):
    result = run(short_file, "--to", "xx")
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line and "--to xx: no route" in line and "de, " in line and "Traceback" not in result.stderr


def test_translator_for_one_target_must_be_one_its_routes_pair_with_it(run, short_file):
    """An English model named for --to de would fill summary_de with English; the quality presets get their tokens."""
    refused = run(short_file, "--to", "de", "--translator", "opus-mt-ru-en")
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert "--translator opus-mt-ru-en: no [[routes]] entry" in refused.stderr and "opus-mt-tc-big-zle-de" in refused.stderr
    config = load_config()
    leg = make_options(config, Choices(to="kk", translator="m2m100-1.2b")).targets[0].leg
    assert (leg.translator, leg.forced, leg.source_token) == ("m2m100-1.2b", "__kk__", "__ru__")
    leg = make_options(config, Choices(to="kk", translator="nllb-200-1.3b", allow_noncommercial=True)).targets[0].leg
    assert (leg.translator, leg.forced, leg.source_token) == ("nllb-200-1.3b", "kaz_Cyrl", "rus_Cyrl")
    assert make_options(config, Choices(to="kk")).targets[0].preset.name == "m2m100-418m"  # the quality preset is never the default


def test_an_empty_to_is_refused_not_taken_for_the_default(run, short_file, models):
    from helpers import invoke

    from summarize import cli

    for refused in (run(short_file, "--to", ""), invoke(cli.models_app, "download", "--to", "")):
        assert refused.exit_code == 2 and refused.stderr.count("\n") == 1 and "give two-letter ISO 639-1 codes" in refused.stderr


@pytest.mark.parametrize("given", ["d", "en,,", "EN;DE", ",".join(["de", "fr", "es", "fi", "he", "ar", "vi", "eo", "lt"])])
def test_bad_to_lists_are_one_line(given):
    if given == "en,,":
        assert parse_targets(given) == ("en",)
        return
    with pytest.raises(SummarizeError, match="--to"):
        parse_targets(given)


def test_noncommercial_routes_need_the_opt_in(run, short_file):
    refused = run(short_file, "--to", "ky")
    assert refused.exit_code == 2 and "--allow-noncommercial" in refused.stderr
    row = _one(run(short_file, "--to", "ky", "--allow-noncommercial", "--format", "json"))
    assert row["translator"] == "nllb-200-600m" and "summary_ky" in row


def test_routes_in_order_with_their_tokens():
    config = load_config()
    options = make_options(config, Choices(to="sv,kk,uk"))
    legs = {t.code: t.leg for t in options.targets}
    assert (legs["sv"].translator, legs["sv"].prefix) == ("opus-mt-tc-big-zle-gmq", ">>swe<<")
    assert (legs["kk"].translator, legs["kk"].forced, legs["kk"].source_token) == ("m2m100-418m", "__kk__", "__ru__")
    assert (legs["uk"].translator, legs["uk"].prefix) == ("opus-mt-tc-big-zle-zle", ">>ukr<<")
    opted = make_options(config, Choices(to="kk", allow_noncommercial=True)).targets[0].leg
    assert (opted.translator, opted.forced, opted.source_token) == ("nllb-200-600m", "kaz_Cyrl", "rus_Cyrl")


def test_csv_output_has_a_column_per_target(run, short_file, tmp_path):
    out = tmp_path / "out.csv"
    result = run(short_file, "--to", "de,sv", "--output", out)
    assert result.exit_code == 0, result.stderr
    with open(out, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    header = list(rows[0])
    assert header.index("summary_en") + 1 == header.index("summary_de") and header.index("summary_sv") == header.index("summary_de") + 1
    assert rows[0]["summary_de"] and rows[0]["summary_sv"]


@pytest.mark.parametrize("backend", [Backend.torch, Backend.ctranslate2])
def test_engines_put_the_target_token_in(models, backend):
    """Marian's >>swe<< goes before the input on both backends; a token the vocabulary lacks is an error."""
    from summarize.config import Preset
    from summarize.engines.loader import load_engine
    from summarize.routes import Leg

    preset = Preset(name="tiny-multi", model=str(models["marian-multi"]), max_input_tokens=64, generate={"num_beams": 1, "max_new_tokens": 6})
    engine = load_engine(preset, models["marian-multi"], Device.cpu, backend, None)
    out = engine.generate(["Москва, 3 марта."], preset.generate, leg=Leg("ru", "sv", "tiny-multi", prefix=">>swe<<"))
    assert len(out) == 1 and ">>" not in out[0]
    with pytest.raises(SummarizeError, match="no token '>>xyz<<'"):
        engine.generate(["Москва."], preset.generate, leg=Leg("ru", "sv", "tiny-multi", prefix=">>xyz<<"))


UKRAINIAN = "Київ, 3 березня. Уряд затвердив програму ремонту доріг у дванадцяти областях. Роботи почнуться навесні й завершаться до кінця року."
KAZAKH = "Астана, 3 наурыз. Үкімет он екі облыста жолдарды жөндеу бағдарламасын бекітті. Жұмыс көктемде басталып, жыл соңына дейін аяқталады."
ENGLISH = "London, 3 March. The government approved a programme to repair roads in twelve regions. Work will start in spring and end by the close of the year."


@pytest.mark.parametrize(
    ("text", "code", "preset"), [(UKRAINIAN, "uk", "opus-mt-tc-big-zle-zle"), (KAZAKH, "kk", "m2m100-418m"), (ENGLISH, "en", "opus-mt-en-ru")]
)
def test_a_non_russian_article_is_translated_into_russian_first(run, tmp_path, text, code, preset):
    path = tmp_path / f"{code}.txt"
    path.write_text(text, encoding="utf-8")
    result = run(path, "--format", "json")
    row = _one(result)
    assert (row["language"], row["source_translator"]) == (code, preset)
    assert "expect a poor summary" not in result.stderr and not any("expect a poor summary" in w for w in row["warnings"])  # it was read in Russian
    assert row["summary_ru"] and row["summary_en"] is not None
    assert any(w.startswith(f"the article is in {code}: translated into Russian with {preset} first") for w in row["warnings"])
    if code == "kk":  # the tiny M2M100 does not convert for CTranslate2: the reader's fallback to torch is said, not lost
        fallback = "(preset m2m100-418m) could not be converted for the ctranslate2 backend"
        assert fallback in result.stderr and any(fallback in w for w in row["warnings"])


def test_a_russian_article_is_read_as_it_is(run, short_file):
    row = _one(run(short_file, "--format", "json"))
    assert (row["language"], row["source_translator"]) == ("ru", None) and row["language_confidence"] > 0.5
    assert not any("translated into Russian" in w for w in row["warnings"])


def test_source_lang_overrides_detection_and_one_without_a_route_is_exit_2(run, tmp_path, short_file):
    path = tmp_path / "uk.txt"
    path.write_text(UKRAINIAN, encoding="utf-8")
    row = _one(run(path, "--source-lang", "ru", "--format", "json"))
    assert (row["language"], row["language_confidence"], row["source_translator"]) == ("ru", 1.0, None)
    assert any("looks Ukrainian" in w and "expect a poor summary" in w for w in row["warnings"])  # read as Russian: the warning stands
    for given in ("fr", "xx", "ukrainian", "uk\x1b[2J"):  # a language no route reads is the run's usage error, said once
        refused = run(path, short_file, "--source-lang", given, "--format", "json")
        assert refused.exit_code == 2 and refused.stdout == "" and refused.stderr.count("\n") == 1, refused.stderr
        assert "--source-lang" in refused.stderr and "summarize reads ru, be, en, kk, uk" in refused.stderr and "\x1b" not in refused.stderr
    assert _one(run(short_file, "--source-lang", " RU ", "--format", "json"))["language"] == "ru"


def test_an_article_no_route_reads_fails_alone_with_its_language(run, tmp_path, short_file):
    french = tmp_path / "fr.txt"
    french.write_text(
        "Le gouvernement a approuvé mardi un programme de réparation des routes. Les travaux commenceront au printemps "
        "et dureront trois ans, selon le ministère des Transports.",
        encoding="utf-8",
    )
    both = run(french, short_file, "--format", "json")
    assert both.exit_code == 1
    failed, done = json.loads(both.stdout)
    assert (failed["language"], failed["error"] is not None, failed["summary_ru"]) == ("fr", True, None)
    assert failed["language_confidence"] > 0.5 and "summarize reads ru" in failed["error"]
    assert (done["language"], done["error"]) == ("ru", None) and done["summary_ru"]


@pytest.mark.parametrize("fmt", ["plain", "markdown", "rich"])
def test_every_text_writer_shows_each_target_labelled_in_to_order(run, short_file, fmt):
    result = run(short_file, "--to", "kk,en,de", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    at = [out.index(label) for label in ("Kazakh", "English", "German")]
    assert at == sorted(at), out  # --to order, English where --to put it
    row = _one(run(short_file, "--to", "kk,en,de", "--format", "json"))
    for code in ("kk", "en", "de"):
        assert row[f"summary_{code}"][:8] in out.replace("\\", ""), (code, out)  # the translation itself, not only its label


def test_a_missing_target_is_shown_as_missing_by_the_text_writers(run, short_file, tmp_path, fast_config):
    config = tmp_path / "missing.toml"
    config.write_text(
        fast_config.read_text(encoding="utf-8") + '\n[translators.opus-mt-tc-big-zle-gmq]\nmodel = "Helsinki-NLP/not-downloaded"\n', encoding="utf-8"
    )
    for fmt in ("plain", "markdown", "rich"):
        result = run(short_file, "--to", "de,sv", "--format", fmt, config=config)
        assert result.exit_code == 0, result.stderr
        assert "Swedish" in result.stdout and "(no translation: see the warnings)" in result.stdout


def test_a_server_loads_a_translator_into_russian_once_and_keeps_it(fast_config):
    from summarize.documents import Document
    from summarize.flags import ServeFlags
    from summarize.runs.serve.service import Service

    notices: list[str] = []
    service = Service(load_config(fast_config), Choices(), ServeFlags(), notify=notices.append)
    service.load()
    try:
        first = service._run_group(service.options, [Document("a", UKRAINIAN)])
        loaded = dict(service.readers)
        second = service._run_group(service.options, [Document("b", UKRAINIAN), Document("c", UKRAINIAN)])
    finally:
        service.close()
    assert list(loaded) == ["opus-mt-tc-big-zle-zle"] and service.readers == loaded  # the same engine object, not a reload
    assert all(r.source_translator == "opus-mt-tc-big-zle-zle" and r.summary_ru for r in [*first, *second])


def test_models_download_to_fetches_what_the_routes_pick_from_the_tiny_hub_cache(models):
    from helpers import invoke

    from summarize import cli

    result = invoke(cli.models_app, "download", "--to", "de,kk")
    assert result.exit_code == 0, result.stderr
    said = result.stderr
    assert "opus-mt-tc-big-zle-de: ready in" in said and "m2m100-418m: ready in" in said
    assert "rut5" not in said and "opus-mt-tc-big-zle-en" not in said  # --to alone: only what those targets need


def test_models_download_refuses_nllb_without_the_opt_in(models):
    from helpers import invoke

    from summarize import cli

    refused = invoke(cli.models_app, "download", "--to", "ky")
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1
    assert "only nllb-200-600m (CC-BY-NC, no commercial use)" in refused.stderr and "--allow-noncommercial" in refused.stderr
    named = invoke(cli.models_app, "download", "nllb-200-600m")
    assert named.exit_code == 2 and "no commercial use" in named.stderr and "--allow-noncommercial" in named.stderr


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_resumed_output_with_other_targets_is_redone_or_refused_never_silently_short(run, short_file, tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    assert run(short_file, "--to", "de", "--output", out).exit_code == 0
    dropped = run(short_file, "--to", "sv", "--output", out, "--skip-existing")
    assert dropped.exit_code == 2 and dropped.stderr.count("\n") == 1 and "was written with --to de too (summary_de)" in dropped.stderr
    added = run(short_file, "--to", "de,sv", "--output", out, "--skip-existing")
    assert added.exit_code == 0, added.stderr  # the old row has no summary_sv: redone, not skipped
    if suffix == ".csv":
        with open(out, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    else:
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 1 and rows[0]["summary_de"] and rows[0].get("summary_sv")


def test_a_failed_row_has_every_target_key_as_a_done_one(run, tmp_path, short_file):
    """JSON rows of one run share their keys: a failed input's summary_<code> are null, as its summary_en."""
    german = tmp_path / "de.txt"
    german.write_text("Die Regierung hat am Dienstag ein Programm zur Reparatur der Straßen genehmigt. Die Arbeiten beginnen im Frühjahr.", encoding="utf-8")
    result = run(german, short_file, "--to", "de,sv", "--format", "json")
    assert result.exit_code == 1
    failed, done = json.loads(result.stdout)
    assert failed["error"] and done["error"] is None
    assert list(failed) == list(done) and (failed["summary_de"], failed["summary_sv"]) == (None, None)


def test_the_footer_names_every_translator_that_ran(run, tmp_path, short_file):
    """With several targets, and an article read into Russian first: the footer names each model, not the first alone."""
    shown = run(short_file, "--to", "de,sv", "--format", "markdown")
    assert shown.exit_code == 0, shown.stderr
    assert "tiny-t5 (ctranslate2 int8) → opus-mt-tc-big-zle-de, opus-mt-tc-big-zle-gmq ·" in shown.stdout
    path = tmp_path / "uk.txt"
    path.write_text(UKRAINIAN, encoding="utf-8")
    shown = run(path, "--format", "markdown")
    assert shown.exit_code == 0, shown.stderr
    assert "opus-mt-tc-big-zle-zle (into Russian) → tiny-t5" in shown.stdout


def test_an_article_read_into_russian_is_said_checked_only_when_it_is(run, tmp_path):
    path = tmp_path / "uk.txt"
    path.write_text(UKRAINIAN, encoding="utf-8")
    for args, said in ((["--engine", "extractive"], "summarised (unchecked)"), (["--no-check"], "summarised (unchecked)"), ([], "summarised and checked")):
        row = _one(run(path, *args, "--format", "json"))
        assert f"the article is in uk: translated into Russian with opus-mt-tc-big-zle-zle first, then {said} in Russian" in row["warnings"], args


def test_a_request_s_bad_to_or_source_lang_is_422_in_the_request_s_words(fast_config):
    from summarize.flags import ServeFlags
    from summarize.runs.serve.service import Rejected, Service

    service = Service(load_config(fast_config), Choices(to="de"), ServeFlags(), notify=lambda _: None)
    for asked, said in (({"to": ""}, "options.to ''"), ({"source_lang": "xx"}, "options.source_lang 'xx': summarize reads ru, be, en, kk, uk")):
        with pytest.raises(Rejected) as refused:
            service.options_for(asked)
        assert refused.value.status == 422 and said in str(refused.value) and "--" not in str(refused.value)


def test_to_is_never_dropped_silently_by_no_translate(run, short_file, tmp_path, fast_config):
    refused = run(short_file, "--to", "de", "--no-translate")
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1 and "--to asks for translations and --no-translate for none" in refused.stderr
    off = tmp_path / "off.toml"
    off.write_text(fast_config.read_text(encoding="utf-8").replace("[defaults]", "[defaults]\ntranslate = false", 1), encoding="utf-8")
    assert _one(run(short_file, "--format", "json", config=off))["summary_en"] is None  # models.toml: off
    assert _one(run(short_file, "--to", "de", "--format", "json", config=off))["summary_de"]  # an explicit --to asks for it


def test_a_request_s_to_with_translation_off_is_422(fast_config):
    from summarize.flags import ServeFlags
    from summarize.runs.serve.service import Rejected, Service

    service = Service(load_config(fast_config), Choices(to="de"), ServeFlags(), notify=lambda _: None)
    with pytest.raises(Rejected) as refused:
        service.options_for({"to": "de", "translate": False})
    assert refused.value.status == 422 and "options.to asks for translations, which options.translate false does not make" in str(refused.value)


def test_models_download_read_fetches_the_translators_into_russian_and_refuses_what_no_route_reads(models):
    """An offline newsroom prepares for Ukrainian and Kazakh articles: --read fetches what reads them into Russian."""
    from helpers import invoke

    from summarize import cli

    result = invoke(cli.models_app, "download", "--read", "uk,kk")
    assert result.exit_code == 0, result.stderr
    assert "opus-mt-tc-big-zle-zle: ready in" in result.stderr and "m2m100-418m: ready in" in result.stderr
    assert "rut5" not in result.stderr and "opus-mt-tc-big-zle-en" not in result.stderr  # --read alone: only the readers
    refused = invoke(cli.models_app, "download", "--read", "fr")
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1 and "summarize reads ru, " in refused.stderr
