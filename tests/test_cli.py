"""The real CLI, in process (Typer's runner), on the tiny models: inputs, formats, limits and errors."""

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from helpers import SHORT, invoke, parse_jsonl

from summarize import cli
from summarize.config import Length, load_config
from summarize.options import Choices, make_options
from summarize.text import split_sentences

RESULT_KEYS = {
    "id",
    "source",
    "title",
    "url",
    "date",
    "summary_ru",
    "summary_en",
    "translators",
    "language",
    "language_confidence",
    "source_translator",
    "engine",
    "model",
    "translator",
    "backend",
    "input_tokens",
    "used_tokens",
    "truncated",
    "chunks",
    "seconds",
    "usage",
    "warnings",
    "unsupported",
    "error",
}


def test_one_file_gives_russian_and_english_summaries(run, short_file):
    result = run(short_file, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == RESULT_KEYS
    assert data["source"] == data["id"] == str(short_file)
    assert data["summary_ru"] and data["summary_en"]
    assert (data["engine"], data["model"], data["translator"]) == ("abstractive", "tiny-t5", "tiny-marian")
    assert data["backend"] == "ctranslate2 int8"  # auto: CTranslate2 on a CPU, as it is installed here
    assert data["truncated"] is False and data["chunks"] == 1
    assert data["used_tokens"] == data["input_tokens"] <= 64
    # Nothing else to report for one short, clean article; random weights rarely pick the end
    # token, so an output that used all of max_new_tokens is said to be possibly cut off.
    assert data["error"] is None and all("stopped at the length limit" in w for w in data["warnings"])
    assert result.stderr.splitlines() == [f"summarize: warning: {short_file}: {w}" for w in data["warnings"]]


@pytest.mark.parametrize("args", [[], ["-"]], ids=["implicit", "dash"])
def test_stdin(run, args):
    result = run(*args, "--format", "json", input=SHORT.encode("cp1251"))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["source"] == "stdin" and data["summary_ru"]


def test_folder_takes_txt_files_sorted_and_ends_with_a_tally(run, folder):
    result = run(folder, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [Path(d["source"]).name for d in data] == ["a.txt", "b.txt"]
    assert "2 done, 0 failed" in result.stderr


def test_mixed_paths_in_order_as_jsonl(run, folder, tmp_path):
    single = tmp_path / "single.txt"
    single.write_text(SHORT, encoding="utf-8")
    result = run(single, folder, "-", "--format", "jsonl", "--recursive", input=SHORT)
    assert result.exit_code == 0, result.stderr
    sources = [d["source"] for d in parse_jsonl(result.stdout)]
    assert sources == [str(single), str(folder / "a.txt"), str(folder / "b.txt"), str(folder / "sub" / "c.txt"), "stdin"]


def test_plain_is_the_default_off_a_terminal(run, short_file):
    result = run(short_file, "--no-translate")
    ru = json.loads(run(short_file, "--no-translate", "--format", "json").stdout)["summary_ru"]
    assert result.stdout == ru + "\n"  # one input, no header: easy to pipe


def test_plain_with_several_inputs_has_headers(run, folder):
    result = run(folder, "--format", "plain")
    assert result.stdout.count("==> ") == 2 and f"==> {folder / 'a.txt'} <==" in result.stdout


def test_rich_panel_has_title_both_summaries_and_footer(run, short_file):
    result = run(short_file, "--format", "rich")
    assert result.exit_code == 0
    out = result.stdout
    assert "short.txt" in out and "Русский" in out and "English" in out
    assert "tiny-t5 (ctranslate2 int8) → tiny-marian" in out and " tokens" in out


def markdown_name(path) -> str:
    """A path as a markdown header shows it: `_` escaped (pytest's folders have them), no emphasis."""
    return str(path).replace("_", "\\_")


def test_markdown(run, short_file):
    out = run(short_file, "--format", "markdown").stdout
    assert out.startswith(f"## {markdown_name(short_file)}\n") and "**Русский**" in out and "**English**" in out and "<sub>" in out


def test_json_array_records_failures_next_to_results(run, folder, tmp_path):
    result = run(folder, tmp_path / "missing.txt", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [d["error"] is None for d in data] == [True, True, False]
    failed = data[2]
    assert failed["summary_ru"] is None and failed["summary_en"] is None
    assert "missing.txt: no such file or folder" in failed["error"]


def test_output_dir_writes_one_file_per_input_keeping_relative_paths(run, folder, tmp_path):
    out = tmp_path / "out"
    result = run(folder, "--recursive", "--output-dir", out, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["a.json", "b.json", "sub/c.json"]
    assert json.loads((out / "sub" / "c.json").read_text(encoding="utf-8"))["source"] == str(folder / "sub" / "c.txt")


@pytest.mark.parametrize("fmt, ext", [("plain", ".txt"), ("markdown", ".md"), ("jsonl", ".jsonl"), ("rich", ".txt")])
def test_output_dir_extension_follows_format(run, folder, tmp_path, fmt, ext):
    out = tmp_path / "out"
    assert run(folder, "--output-dir", out, "--format", fmt).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [f"a{ext}", f"b{ext}"]


def test_output_dir_never_writes_two_inputs_into_one_file(run, tmp_path):
    for part in ("x", "y"):
        (tmp_path / part).mkdir()
        (tmp_path / part / "same.txt").write_text(SHORT, encoding="utf-8")
    out = tmp_path / "out"
    result = run(tmp_path / "x", tmp_path / "y", "--output-dir", out, "--format", "json")
    assert result.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["same-2.json", "same.json"]
    second = json.loads((out / "same-2.json").read_text(encoding="utf-8"))
    assert second["source"].endswith("y/same.txt") and any("is an input or another output of this run" in w for w in second["warnings"])
    assert "is an input or another output of this run" in result.stderr


def test_long_article_is_truncated_to_the_lead_and_says_so(run, article):
    result = run("-", "--format", "json", input=article)
    data = json.loads(result.stdout)
    assert data["truncated"] is True and data["chunks"] == 1
    assert data["input_tokens"] > 64 >= data["used_tokens"] > 0
    notice = next(w for w in data["warnings"] if w.startswith("summarised the first"))
    assert notice.startswith(f"summarised the first {data['used_tokens']} of {data['input_tokens']:,} tokens (".replace(",", " "))
    assert " sentences)" in notice and "--long chunk" in notice
    assert f"summarize: warning: stdin: {notice}" in result.stderr


def test_long_chunk_summarises_everything_in_chunks(run, article):
    result = run("-", "--format", "json", "--long", "chunk", input=article)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["truncated"] is False and data["chunks"] > 1
    assert data["used_tokens"] == data["input_tokens"] > 64
    assert not any("summarised the first" in w for w in data["warnings"])
    assert data["summary_ru"]


def test_long_chunk_puts_every_word_of_the_article_through_the_model(run, article, generate_calls):
    result = run("-", "--format", "json", "--long", "chunk", "--no-translate", input=article)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["chunks"] > 1
    # Chunks may cut long sentences at word boundaries, but no chunk may be left out.
    reached = Counter(word for call in generate_calls for text in call.texts for word in text.split())
    from summarize.text import split_title

    title, body = split_title(article)  # the headline is the title, not text to summarise
    assert title and Counter(body.split()) - reached == Counter()


@pytest.mark.parametrize("backend", ["torch", "ctranslate2"])
def test_every_sentence_of_the_summary_reaches_the_translator(run, article, generate_calls, backend):
    result = run("-", "--format", "json", "--engine", "lead", "--length", "long", "--backend", backend, input=article)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(split_sentences(data["summary_ru"])) > 1 and data["summary_en"]
    # The lead engine needs no model, so every generate() call is the translator's. Sentences over
    # its input limit go in parts, so words are compared: each of the summary's, once, no others.
    assert {call.backend for call in generate_calls} == {backend}
    translated = Counter(word for call in generate_calls for text in call.texts for word in text.split())
    assert translated == Counter(data["summary_ru"].split())


def test_a_first_sentence_longer_than_the_limit_is_cut_and_reported(run):
    sentence = " ".join(["правительство утвердило программу ремонта дорог"] * 20) + "."
    data = json.loads(run("-", "--format", "json", input=sentence).stdout)
    assert data["truncated"] is True and data["used_tokens"] == 64
    assert "the first sentence alone is" in data["warnings"][0]


def test_no_translate_and_other_presets(run, short_file):
    data = json.loads(run(short_file, "--format", "json", "--no-translate", "--model", "tiny-mbart").stdout)
    assert data["summary_en"] is None and data["translator"] is None
    assert data["model"] == "tiny-mbart" and data["summary_ru"]


def test_beams_and_length_override_the_preset():
    config = load_config()
    options = make_options(config, Choices(beams=1, length=Length.short))
    assert options.summary_settings == {"num_beams": 1, "no_repeat_ngram_size": 4, "max_new_tokens": 60}
    assert options.sentences == 2 and make_options(config).sentences == 3
    assert options.translator.name == "opus-mt-tc-big-zle-en" and options.long_mode == "truncate"


def test_models_load_once_per_run(run, folder, monkeypatch):
    from summarize.engines import seq2seq

    loads = []
    real_init = seq2seq.Seq2Seq.__init__

    def counting_init(self, spec, *args):
        loads.append(spec.name)
        real_init(self, spec, *args)

    monkeypatch.setattr(seq2seq.Seq2Seq, "__init__", counting_init)
    assert run(folder, "--recursive", "--format", "jsonl", "--backend", "torch").exit_code == 0
    assert loads == ["tiny-t5", "tiny-marian"]


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("empty.txt", b"  \n ", "is empty; nothing to summarise"),
        ("blob.txt", bytes(range(256)) * 4, "looks like binary data, not text; give a plain-text file"),
        ("missing.txt", None, "no such file or folder; check the path"),
    ],
)
def test_bad_input_is_one_line_and_the_others_still_done(run, short_file, tmp_path, name, data, message):
    bad = tmp_path / name
    if data is not None:
        bad.write_bytes(data)
    out = tmp_path / "out"
    result = run(bad, short_file, "--output-dir", out, "--format", "json")
    assert result.exit_code == 1
    error, *capped, tally = result.stderr.splitlines()
    assert error == f"summarize: error: {bad}: {message}"
    assert all(line.startswith(f"summarize: warning: {short_file}: ") and "stopped at the length limit" in line for line in capped)
    assert tally.startswith("summarize: 1 done, 1 failed in ")
    assert [p.name for p in out.iterdir()] == ["short.json"]


def test_a_model_failure_on_one_input_does_not_stop_the_batch(run, folder, monkeypatch):
    from summarize.pipeline import Pipeline

    real = Pipeline._model_input

    def flaky(self, text, result, *rest):
        if result.source.endswith("a.txt"):
            raise RuntimeError("CUDA out of memory")
        return real(self, text, result, *rest)

    monkeypatch.setattr(Pipeline, "_model_input", flaky)
    result = run(folder, "--format", "jsonl")
    assert result.exit_code == 1
    first, second = parse_jsonl(result.stdout)
    assert "the model failed on it (RuntimeError: CUDA out of memory)" in first["error"]
    assert second["error"] is None and second["summary_ru"]


def test_broken_config_is_a_usage_error(run, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[summarizers.x", encoding="utf-8")
    result = run("-", input=SHORT, config=broken)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"summarize: error: config {broken}: not valid TOML")
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_preset_is_a_usage_error_listing_choices(run):
    result = run("-", "--model", "gpt", input=SHORT)
    assert result.exit_code == 2
    assert "--model 'gpt': no such summariser preset; choose one of: lead, lexrank, mbart-gazeta, rut5-gazeta, tiny-mbart, tiny-t5" in result.stderr


@pytest.fixture
def ghost_config(tmp_path):
    config = tmp_path / "missing.toml"
    config.write_text(
        '[defaults]\nsummarizer = "ghost"\ntranslator = "ghost-mt"\n'
        '[summarizers.ghost]\nmodel = "nobody/ghost-model"\nmax_input_tokens = 100\n'
        '[translators.ghost-mt]\nmodel = "nobody/ghost-mt"\nmax_input_tokens = 100\n',
        encoding="utf-8",
    )
    return config


def test_strict_model_missing_offline_names_it_and_how_to_get_it(run, ghost_config):
    result = run("-", "--offline", "--strict", input=SHORT, config=ghost_config)
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "model nobody/ghost-model (preset ghost) is not in the local cache" in line
    assert "summarize models download ghost" in line and "\n" not in line
    assert result.stdout == ""


def test_model_missing_offline_falls_back_to_extractive_and_says_so(run, ghost_config, tmp_path, article):
    (tmp_path / "a.txt").write_text(article, encoding="utf-8")
    (tmp_path / "b.txt").write_text(SHORT, encoding="utf-8")
    result = run(tmp_path, "--format", "jsonl", input=SHORT, config=ghost_config)
    assert result.exit_code == 0, result.stderr
    first, second = parse_jsonl(result.stdout)
    for data in (first, second):
        assert (data["engine"], data["model"], data["translator"], data["summary_en"]) == ("extractive", None, None, None)
        assert any("summarised with the extractive engine instead" in w for w in data["warnings"])
        assert any("ghost-mt" in w and "the translation is skipped" in w for w in data["warnings"])
    chosen = [s for s in split_sentences(article) if s in first["summary_ru"]]
    assert len(chosen) == 3 and " ".join(chosen) == first["summary_ru"]  # lengths.medium.sentences, verbatim
    assert result.stderr.count("extractive engine instead") == 1  # said once per run, not per input


def test_extractive_and_lead_engines_need_no_model(run, article, tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(article, encoding="utf-8")
    lead = json.loads(run(path, "-f", "json", "--engine", "lead", "--length", "short", "--no-translate", config=None).stdout)
    from summarize.text import is_dateline, join_sentences, split_title

    title, body = split_title(article)
    assert lead["title"] == title and title not in lead["summary_ru"]  # the headline is not summarised
    assert lead["summary_ru"] == join_sentences([s for s in split_sentences(body) if not is_dateline(s)][:2])
    assert (lead["engine"], lead["model"], lead["input_tokens"], lead["chunks"]) == ("lead", None, None, 0)
    central = json.loads(run(path, "-f", "json", "-e", "extractive", "--max-words", "30", "--no-translate", config=None).stdout)
    assert central["engine"] == "extractive" and 0 < len(central["summary_ru"].split()) <= 30
    preset = json.loads(run(path, "-f", "json", "--model", "lexrank", "--max-words", "30", "--no-translate", config=None).stdout)
    assert preset["summary_ru"] == central["summary_ru"]


def test_extractive_summary_is_translated_when_the_translator_is_there(run, tmp_path, article):
    path = tmp_path / "a.txt"
    path.write_text(article, encoding="utf-8")
    data = json.loads(run(path, "-f", "json", "-e", "lead").stdout)
    assert data["engine"] == "lead" and data["translator"] == "tiny-marian" and data["summary_en"]


def test_max_words_with_a_model_is_a_usage_error(run):
    result = run("-", "--max-words", "20", input=SHORT)
    assert result.exit_code == 2 and "--max-words is for --engine extractive or lead" in result.stderr


def test_local_model_directory_without_weights_is_named(run, tmp_path, models):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text((models["t5"] / "config.json").read_text())
    config = tmp_path / "c.toml"
    config.write_text(f'[summarizers.half]\nmodel = "{broken}"\nmax_input_tokens = 64\n', encoding="utf-8")
    result = run("-", "--model", "half", input=SHORT, config=config)
    assert result.exit_code == 2 and "has no weights" in result.stderr


def test_weights_of_another_architecture_are_refused(run, tmp_path, models):
    import shutil

    mixed = tmp_path / "mixed"
    shutil.copytree(models["t5"], mixed)
    shutil.copy(models["marian"] / "model.safetensors", mixed / "model.safetensors")
    config = tmp_path / "c.toml"
    config.write_text(f'[summarizers.mixed]\nmodel = "{mixed}"\nmax_input_tokens = 64\n', encoding="utf-8")
    result = run("-", "--model", "mixed", input=SHORT, config=config)
    assert result.exit_code == 2
    *conversion, error = result.stderr.splitlines()  # the auto backend tries CTranslate2 first
    assert error.startswith(f"summarize: error: model {mixed} (preset mixed): the weights in {mixed} do not fit its config.json (")
    assert all(line.startswith("summarize: converting ") for line in conversion)


@pytest.mark.parametrize("revision, ok", [("0123456789abcdef0123456789abcdef01234567", True), ("feedfacefeedfacefeedfacefeedfacefeedface", False)])
def test_a_revision_pin_is_honoured(run, models, tmp_path, revision, ok):
    config = tmp_path / "pinned.toml"
    config.write_text(f'[summarizers.rut5-gazeta]\nrevision = "{revision}"\n', encoding="utf-8")
    result = run("-", "--no-translate", "--beams", "1", "--offline", "--strict", input=SHORT, config=config)
    assert result.exit_code == (0 if ok else 2), result.stderr
    assert ok or "rut5_base_sum_gazeta (preset rut5-gazeta) is not in the local cache" in result.stderr


def test_default_presets_load_by_hub_id_from_the_cache(run, models, short_file):
    result = run(short_file, "--format", "json", "--beams", "1", "--length", "short", config=None)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["model"], data["translator"]) == ("rut5-gazeta", "opus-mt-tc-big-zle-en")
    assert data["summary_ru"] and data["summary_en"]


def test_models_list_shows_what_is_cached(models):
    result = invoke(cli.models_app, "list")
    assert result.exit_code == 0
    rows = {line.split("\t")[0]: line.split("\t") for line in result.stdout.splitlines()[1:]}
    assert rows["rut5-gazeta"][2:5] == ["yes", "IlyaGusev/rut5_base_sum_gazeta", "yes"]
    assert rows["wmt19-ru-en"][4:6] == ["no", "~1.1 GB to fetch"]  # the size the preset declares, until it is here
    assert rows["mbart-gazeta"][-1] == "Apache-2.0"
    assert rows["nllb-200-600m"][-1] == "CC-BY-NC-4.0 (no commercial use: --allow-noncommercial)"


def test_models_download_offline_fails_per_model_with_advice(models):
    result = invoke(cli.models_app, "download", "rut5-gazeta", "wmt19-ru-en")
    assert result.exit_code == 1
    assert "rut5-gazeta: ready in" in result.stderr
    assert "model facebook/wmt19-ru-en (preset wmt19-ru-en) is not in the local cache" in result.stderr


def test_models_download_unknown_preset_is_a_usage_error():
    result = invoke(cli.models_app, "download", "nope")
    assert result.exit_code == 2 and "no preset named 'nope'" in result.stderr


def test_the_headline_is_shown_in_rich_and_markdown_headers_and_not_summarised(run, tmp_path):
    path = tmp_path / "news.txt"
    path.write_text("Дороги отремонтируют к зиме\n" + SHORT, encoding="utf-8")
    markdown = run(path, "-f", "markdown", "-e", "lead", "--no-translate").stdout
    assert markdown.startswith(f"## {markdown_name(path)}\n\n### Дороги отремонтируют к зиме\n\n**Русский**\n\n")
    assert "Дороги отремонтируют" not in markdown.split("**Русский**")[1]
    rich = run(path, "-f", "rich", "-e", "lead", "--no-translate").stdout
    assert rich.index("Дороги отремонтируют к зиме") < rich.index("Русский")


def test_the_errors_file_cannot_be_the_output_dataset(run, short_file, tmp_path):
    out = tmp_path / "out.jsonl"
    result = run(short_file, "--output", out, "--errors", out, "-e", "lead", "--no-translate")
    assert result.exit_code == 2 and result.stderr == f"summarize: error: --errors {out}: is the --output file too; give each its own file\n"
    assert not out.exists()


def test_a_markdown_article_is_summarised_without_its_markup(run, tmp_path):
    path = tmp_path / "news.md"
    path.write_text(
        "# Дороги отремонтируют\n\n" + SHORT.replace("Правительство", "**Правительство**") + " [Подробнее](https://example.org)\n", encoding="utf-8"
    )
    data = json.loads(run(path, "-f", "json", "-e", "lead", "--length", "long", "--no-translate").stdout)
    assert data["title"] == "Дороги отремонтируют"
    assert data["summary_ru"] == "Правительство утвердило программу ремонта дорог. Работы начнутся весной. Подробнее"


def test_a_null_record_is_called_null_not_nonetype(run, tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"id": "1", "text": "Текст статьи."}\nnull\n', encoding="utf-8")
    result = run(path, "-e", "lead", "--no-translate", "-f", "jsonl")
    assert result.exit_code == 1
    assert f"summarize: error: {path}#line 2: null, not a JSON object\n" in result.stderr and "NoneType" not in result.stdout + result.stderr


def test_beams_are_bounded_with_one_line(short_file, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main([str(short_file), "--beams", "33"])  # the program's entry point: usage errors as one line
    captured = capsys.readouterr()
    assert (exited.value.code, captured.out) == (2, "")
    assert captured.err == "summarize: error: Invalid value for '--beams': Input should be less than or equal to 32; see 'summarize --help'\n"
    assert make_options(load_config(), Choices(beams=32)).summary_settings["num_beams"] == 32  # the bound itself is allowed


def test_md_means_markdown_and_every_choice_takes_any_case(run, short_file, tmp_path):
    markdown = run(short_file, "-f", "markdown", "-e", "lead", "--no-translate")
    for spelling in ("md", "MD", "Markdown"):
        result = run(short_file, "-f", spelling, "-e", "LEAD", "--device", "CPU", "--no-translate")
        assert (result.exit_code, result.stdout) == (0, markdown.stdout), result.stderr
    data = json.loads(run(short_file, "-f", "JSON", "--engine", "Extractive", "--length", "SHORT", "--no-translate").stdout)
    same = json.loads(run(short_file, "-f", "json", "--engine", "extractive", "--length", "short", "--no-translate").stdout)
    assert data["engine"] == "extractive" and data["summary_ru"] == same["summary_ru"]
    written = run(short_file, "-f", "md", "-e", "lead", "--no-translate", "-o", tmp_path / "out")
    assert written.exit_code == 0 and [p.name for p in (tmp_path / "out").iterdir()] == ["short.md"]


def test_an_unknown_choice_lists_every_spelling(short_file, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main([str(short_file), "-f", "xml"])
    assert exited.value.code == 2
    assert "'xml' is not one of 'rich', 'plain', 'markdown', 'json', 'jsonl', 'md'" in capsys.readouterr().err


def test_markdown_escapes_emphasis_strike_through_and_code():
    from summarize.documents import Result
    from summarize.outputs.render import Format, format_result

    result = Result(source="a_b*c~d.txt", summary_ru="_курсив_ и *жирный* и ~~зачёркнутый~~ и `код`")
    out = format_result(Format.markdown, result)
    assert out.startswith("## a\\_b\\*c\\~d.txt\n")
    assert "\\_курсив\\_ и \\*жирный\\* и \\~\\~зачёркнутый\\~\\~ и \\`код\\`" in out


@pytest.mark.parametrize("fmt", ["plain", "markdown", "rich"])
def test_a_line_break_in_a_name_is_shown_escaped_in_its_one_line_header(fmt):
    from summarize.documents import Result
    from summarize.outputs.render import Format, format_result

    result = Result(source="news/a\nb\tc.txt", title="Заголовок\nв две строки", summary_ru="Итог.")
    out = format_result(Format(fmt), result, many=True)
    header = {"plain": "==> news/a\\nb\\tc.txt <==", "markdown": "## news/a\\\\nb\\\\tc.txt", "rich": "news/a\\nb\\tc.txt"}[fmt]
    [line] = [line for line in out.splitlines() if "news/a" in line]
    assert header in line
    if fmt != "plain":
        assert (
            [line for line in out.splitlines() if "Заголовок" in line][0]
            .rstrip(" │")
            .endswith("Заголовок\\\\nв две строки" if fmt == "markdown" else "Заголовок\\nв две строки")
        )


@pytest.mark.parametrize(
    "front",
    ['---\ntitle: "Дороги отремонтируют к зиме"\ndate: 2024-03-03\n---\n', '+++\ntitle = "Дороги отремонтируют к зиме"\ndate = 2024-03-03\n+++\n'],
    ids=["yaml", "toml"],
)
def test_markdown_front_matter_gives_title_and_date_and_stays_out_of_the_text(run, tmp_path, front):
    path = tmp_path / "news.md"
    path.write_text(front + "\n" + SHORT + "\n", encoding="utf-8")
    data = json.loads(run(path, "-f", "json", "-e", "lead", "--length", "long", "--no-translate").stdout)
    assert (data["title"], data["date"]) == ("Дороги отремонтируют к зиме", "2024-03-03")
    assert data["summary_ru"] == "Правительство утвердило программу ремонта дорог. Работы начнутся весной." and data["warnings"] == []


def test_without_front_matter_the_first_heading_is_the_title(run, tmp_path):
    path = tmp_path / "news.md"
    path.write_text("# Дороги отремонтируют\n\n" + SHORT + "\n", encoding="utf-8")
    data = json.loads(run(path, "-f", "json", "-e", "lead", "--no-translate").stdout)
    assert (data["title"], data["date"]) == ("Дороги отремонтируют", None)


@pytest.mark.parametrize("command", ["summarize", "eval", "check", "serve"])
def test_every_flag_an_options_help_names_is_an_option_of_that_command(command):
    """A help shared by several commands (--overwrite, --skip-existing) must not send the reader of
    one command to a flag that only another has (eval has --save-predictions, no --output)."""
    import typer

    params = typer.main.get_command(cli.app).commands[command].params
    flags = {flag for param in params for flag in (*param.opts, *param.secondary_opts)}
    named = {(param.name, flag) for param in params for flag in re.findall(r"--[a-z][a-z-]*", getattr(param, "help", None) or "")}
    assert [(name, flag) for name, flag in sorted(named) if flag not in flags] == []
