"""models.toml: shipped presets, user files that add or replace, and one-line errors."""

import pytest

from summarize.config import load_config
from summarize.errors import SummarizeError


def test_shipped_presets_carry_the_model_card_values():
    config = load_config()
    rut5 = config.summarizer(None)
    assert (rut5.name, rut5.model, rut5.max_input_tokens) == ("rut5-gazeta", "IlyaGusev/rut5_base_sum_gazeta", 600)
    assert rut5.generate == {"num_beams": 5, "no_repeat_ngram_size": 4, "max_new_tokens": 200}
    assert config.summarizer("mbart-gazeta").model == "IlyaGusev/mbart_ru_sum_gazeta"
    assert config.translator(None).model == "Helsinki-NLP/opus-mt-tc-big-zle-en"
    assert config.translator(None).max_input_tokens == 512
    assert config.translator("wmt19-ru-en").model == "facebook/wmt19-ru-en"
    assert config.translate is True


def test_user_file_extends_and_replaces_single_keys(tmp_path):
    (tmp_path / "local-model").mkdir()
    user = tmp_path / "my.toml"
    user.write_text(
        """
[defaults]
summarizer = "mine"
translate = false

[summarizers.rut5-gazeta]
max_input_tokens = 512
generate = { num_beams = 2 }

[summarizers.mine]
model = "local-model"
max_input_tokens = 100
""",
        encoding="utf-8",
    )
    config = load_config(user)
    rut5 = config.summarizer("rut5-gazeta")
    assert rut5.max_input_tokens == 512
    assert rut5.model == "IlyaGusev/rut5_base_sum_gazeta"
    assert rut5.generate == {"num_beams": 2, "no_repeat_ngram_size": 4, "max_new_tokens": 200}
    mine = config.summarizer(None)
    assert mine.model == str(tmp_path / "local-model") and mine.is_local  # relative to the file, not cwd
    assert config.translate is False
    assert "opus-mt-ru-en" in config.translators


def test_environment_variable_names_the_user_file(tmp_path, monkeypatch):
    user = tmp_path / "env.toml"
    user.write_text('[defaults]\nsummarizer = "mbart-gazeta"\n', encoding="utf-8")
    monkeypatch.setenv("SUMMARIZE_CONFIG", str(user))
    assert load_config().summarizer(None).name == "mbart-gazeta"


@pytest.mark.parametrize(
    "body, message",
    [
        ("[summarizers.x\nmodel=1", r"broken\.toml: not valid TOML"),
        (
            "[summarizers.x]\nmodel = 'a/b'\nmax_input_tokens = 100\nbeams = 3",
            r"unknown key 'summarizers\.x\.beams'; valid keys: backend, engine, generate, licence, max_input_tokens, model, quantize, revision",
        ),
        ("[summarizers.x]\nmax_input_tokens = 100", r"summarizers\.x\.model is missing"),
        ("[summarizers.x]\nmodel = 'a/b'\nmax_input_tokens = 'long'", r"summarizers\.x\.max_input_tokens must be an integer"),
        (
            "[defaults]\nsummarizer = 'nope'",
            r"defaults\.summarizer: --model 'nope': no such summariser preset; choose one of: lead, lexrank, mbart-gazeta, rut5-gazeta",
        ),
        ("[colours]\nred = 1", r"unknown key 'colours'"),
        (
            "[summarizers.x]\nmodel = 'a/b'\nmax_input_tokens = 100\ngenerate = { custom_generate = 'evil/code' }",
            r"unknown key 'summarizers\.x\.generate\.custom_generate'",
        ),
        (
            "[summarizers.x]\nmodel = 'a/b'\nmax_input_tokens = 100\ngenerate = { trust_remote_code = true }",
            r"unknown key 'summarizers\.x\.generate\.trust_remote_code'",
        ),
        ("[lengths]\nshort = { num_beams = 'many' }", r"lengths\.short\.num_beams must be a number"),
        ("[summarizers.x]\nmodel = 'a/b'\nmax_input_tokens = 100\ngenerate = { num_beams = 33 }", r"summarizers\.x\.generate\.num_beams must be at most 32"),
    ],
)
def test_broken_file_gets_one_line_naming_file_and_key(tmp_path, body, message):
    path = tmp_path / "broken.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(SummarizeError, match=message) as caught:
        load_config(path)
    assert "broken.toml" in str(caught.value) and "\n" not in str(caught.value)


def test_missing_user_file_is_named(tmp_path):
    with pytest.raises(SummarizeError, match=r"absent\.toml: no such file"):
        load_config(tmp_path / "absent.toml")


def test_unknown_preset_lists_the_choices():
    with pytest.raises(SummarizeError, match=r"--translator 'deepl': no such translator preset; choose one of: m2m100-1.2b, .*opus-mt-ru-en, .*wmt19-ru-en"):
        load_config().translator("deepl")


USER_FILE = "# Мои модели\n[defaults]\nsummarizer = 'mbart-gazeta'\n"


def test_utf8_file_with_a_bom_is_read(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + USER_FILE.encode("utf-8"))
    assert load_config(path).summarizer(None).name == "mbart-gazeta"


@pytest.mark.parametrize("encoding", ["cp1251", "utf-16"])
def test_file_in_another_encoding_gets_one_line_saying_save_it_as_utf8(tmp_path, encoding):
    path = tmp_path / "windows.toml"
    path.write_bytes(USER_FILE.encode(encoding))
    with pytest.raises(SummarizeError, match=r"windows\.toml: not UTF-8 text; save it as UTF-8") as caught:
        load_config(path)
    assert "\n" not in str(caught.value)
