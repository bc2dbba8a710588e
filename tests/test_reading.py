"""Inputs: decoding of real encodings, folder listing, and one-line errors for bad input."""

import codecs
from pathlib import PurePath

import pytest

from summarize.documents import Input
from summarize.errors import SummarizeError
from summarize.inputs import reading as sources
from summarize.inputs.decode import decode
from summarize.inputs.listing import list_inputs
from summarize.inputs.reading import read_article

TEXT = "Москва, 3 марта. Правительство утвердило программу ремонта дорог.\nМинистр сообщил, что работы начнутся весной."


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
        TEXT.encode("cp1251"),
        TEXT.encode("koi8_r"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "cp1251", "koi8-r"],
)
def test_decodes_each_encoding_to_the_same_text(data):
    text, _ = decode(data, "a.txt")
    assert text == TEXT


def test_short_koi8r_is_not_mistaken_for_a_cjk_codepage():
    text, encoding = decode("Курс рубля снизился".encode("koi8_r"), "a.txt")
    assert text == "Курс рубля снизился"
    assert encoding.replace("-", "_").lower() == "koi8_r"


@pytest.mark.parametrize("encoding", ["cp1251", "koi8_r"])
def test_capitals_survive_code_pages_that_differ_only_there(encoding):
    # Mac Cyrillic shares CP1251's small letters but not its capitals (П would become ѕ).
    text = "Правительство утвердило программу. Работы начнутся весной. " * 3
    assert decode(text.encode(encoding), "a.txt")[0] == text


def test_crlf_and_cr_are_normalised():
    text, _ = decode("Первая строка.\r\nВторая строка.\rТретья.".encode("cp1251"), "a.txt")
    assert text == "Первая строка.\nВторая строка.\nТретья."


@pytest.mark.parametrize("data", [b"", b"   \n\t \r\n", codecs.BOM_UTF8 + b"  \n", "\u200b \u200d\n\u2060\u200e".encode()])
def test_empty_or_whitespace_input_is_refused(data):
    with pytest.raises(SummarizeError, match=r"^empty\.txt: is empty"):
        decode(data, "empty.txt")


@pytest.mark.parametrize("data", [bytes(range(256)) * 8, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)])
def test_binary_data_is_refused(data):
    with pytest.raises(SummarizeError, match=r"^blob\.bin: .*binary"):
        decode(data, "blob.bin")


def test_missing_path_is_an_input_error(tmp_path):
    [item] = list_inputs([str(tmp_path / "nope.txt")])
    with pytest.raises(SummarizeError, match=r"nope\.txt: no such file or folder"):
        read_article(item)


def test_unreadable_file_names_the_path(tmp_path, monkeypatch):
    path = tmp_path / "secret.txt"
    path.write_text(TEXT, encoding="utf-8")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(sources, "open", denied, raising=False)  # tests run as root, where chmod 000 still reads
    with pytest.raises(SummarizeError, match=r"secret\.txt: cannot read it \(Permission denied\)"):
        read_article(Input(str(path), path, PurePath("secret.txt")))


def test_file_deleted_after_listing_is_reported(tmp_path):
    path = tmp_path / "gone.txt"
    path.write_text(TEXT, encoding="utf-8")
    [item] = list_inputs([str(path)])
    path.unlink()
    with pytest.raises(SummarizeError, match=r"gone\.txt: no such file"):
        read_article(item)


def test_folder_is_listed_sorted_without_hidden_files(tmp_path):
    for name in ["b.txt", "a.txt", ".hidden.txt", "c.md"]:
        (tmp_path / name).write_text(TEXT, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "e.txt").write_text(TEXT, encoding="utf-8")

    assert [i.name.as_posix() for i in list_inputs([str(tmp_path)])] == ["a.txt", "b.txt"]
    assert [i.name.as_posix() for i in list_inputs([str(tmp_path)], recursive=True)] == ["a.txt", "b.txt", "sub/d.txt"]
    assert [i.name.as_posix() for i in list_inputs([str(tmp_path)], pattern="*.md")] == ["c.md"]


def test_folder_without_matches_is_an_error_that_says_what_to_do(tmp_path):
    [item] = list_inputs([str(tmp_path)])
    assert item.error and "--glob" in item.error


def test_mixed_paths_and_stdin_keep_their_order(tmp_path):
    (tmp_path / "x.txt").write_text(TEXT, encoding="utf-8")
    items = list_inputs([str(tmp_path / "x.txt"), "-", str(tmp_path)])
    assert [i.source for i in items] == [str(tmp_path / "x.txt"), "stdin", str(tmp_path / "x.txt")]
    assert items[1].path is None


def test_mostly_latin_text_gets_a_warning_not_a_refusal(tmp_path):
    path = tmp_path / "en.txt"
    path.write_text("The government approved a road repair programme in twelve regions.", encoding="utf-8")
    doc = read_article(list_inputs([str(path)])[0])
    assert doc.text.startswith("The government")
    assert len(doc.warnings) == 1 and "Cyrillic" in doc.warnings[0]


def test_russian_text_has_no_warning(tmp_path):
    path = tmp_path / "ru.txt"
    path.write_text(TEXT, encoding="utf-8")
    assert read_article(list_inputs([str(path)])[0]).warnings == ()
