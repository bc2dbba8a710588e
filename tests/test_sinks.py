"""The one Sink seam: every destination checked before any work, resume decided by `done`, and a
destination that cannot keep a result turning it into that input's failure."""

from __future__ import annotations

import json
from pathlib import Path, PurePath

import pytest

from summarize.documents import Input, Result
from summarize.errors import SummarizeError
from summarize.outputs.failures import FailuresFile
from summarize.outputs.render import Format
from summarize.outputs.sink import Destinations, Sinks, open_sink


def item(key: str) -> Input:
    return Input(f"corpus.jsonl#{key}", None, PurePath("corpus") / key, id=key)


def test_output_and_output_dir_together_are_refused_before_anything_is_made(tmp_path):
    to = Destinations(Format.jsonl, True, output_dir=tmp_path / "dir", output=str(tmp_path / "out.jsonl"), errors_file=tmp_path / "errors.jsonl")
    with pytest.raises(SummarizeError, match="--output and --output-dir: choose one"):
        open_sink(to, print)
    assert list(tmp_path.iterdir()) == []


def test_errors_file_inside_the_shard_folder_is_refused(tmp_path):
    to = Destinations(Format.jsonl, True, output=str(tmp_path / "out"), errors_file=tmp_path / "out" / "errors.jsonl", shards=True)
    (tmp_path / "out").mkdir()
    with pytest.raises(SummarizeError, match="inside the --output folder, which holds only shards"):
        open_sink(to, print)


def test_shards_written_outside_ray_are_resumed_by_id(tmp_path):
    pytest.importorskip("pyarrow")
    to = Destinations(Format.jsonl, True, output=str(tmp_path / "out"), shards=True)
    with open_sink(to, print) as sinks:
        sinks.write(item("a"), Result("corpus.jsonl#a", summary_ru="Итог."))
        sinks.write(item("b"), Result("corpus.jsonl#b", error="corpus.jsonl#b: field 'text' is empty"))
    assert len(list((tmp_path / "out").glob("*.parquet"))) == 1
    resumed = open_sink(Destinations(Format.jsonl, True, output=str(tmp_path / "out"), resume=True, shards=True), print)
    assert resumed.done(item("a")) and not resumed.done(item("b"))  # a failed record is redone
    with pytest.raises(SummarizeError, match="already holds 1 shards of an earlier run; add --skip-existing"):
        open_sink(to, print)


class Refusing:
    """A destination that cannot keep anything (a full disk, say)."""

    def done(self, item: Input) -> bool:
        return False

    def write(self, item: Input, result: Result) -> None:
        raise SummarizeError(f"{item.source}: not written (no space left on device)")

    def close(self, ok: bool) -> None:
        pass


def test_a_result_a_destination_cannot_keep_becomes_that_inputs_failure(tmp_path):
    errors = tmp_path / "errors.jsonl"
    with Sinks(Refusing(), FailuresFile(errors)) as sinks:
        result = Result("corpus.jsonl#a", summary_ru="Итог.")
        sinks.write(item("a"), result)
    assert result.error == "corpus.jsonl#a: not written (no space left on device)"
    assert [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()] == [{"source": "corpus.jsonl#a", "error": result.error}]


def test_a_run_that_could_not_start_commits_nothing(tmp_path):
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    out.write_text('{"id": "old"}\n', encoding="utf-8")
    to = Destinations(Format.jsonl, True, output=str(out), errors_file=errors, resume=True)
    with pytest.raises(SummarizeError, match="the model cannot load"), open_sink(to, print):
        raise SummarizeError("the model cannot load")
    assert out.read_text(encoding="utf-8") == '{"id": "old"}\n' and not errors.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]  # no temporary file left behind


def test_folder_paths_are_reserved_in_input_order_whatever_finishes_first(tmp_path):
    to = Destinations(Format.json, True, output_dir=tmp_path / "out")
    first, second = Input("a/x.txt", Path("a/x.txt"), PurePath("x.txt")), Input("b/x.txt", Path("b/x.txt"), PurePath("x.txt"))
    with open_sink(to, print) as sinks:
        assert not sinks.done(first) and not sinks.done(second)
        sinks.write(second, Result("b/x.txt", summary_ru="Второй."))
        sinks.write(first, Result("a/x.txt", summary_ru="Первый."))
    assert json.loads((tmp_path / "out" / "x.json").read_text(encoding="utf-8"))["summary_ru"] == "Первый."
    assert json.loads((tmp_path / "out" / "x-2.json").read_text(encoding="utf-8"))["summary_ru"] == "Второй."
