"""Issue 17, outputs: nothing a user had is replaced by mistake (--overwrite), destinations that
cannot be written are said before any work or stop the run at once, a killed --output run keeps its
finished rows, and every result carries its id. Model-free runs (-e lead) unless a model is the point."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import BIN, SHORT, clean_env, invoke, parse_jsonl, slow_config, unwritable_folder, write_jsonl

from summarize import cli
from summarize.outputs.dataset import journal_path
from summarize.outputs.tables import result_schema

LEAD = ["-e", "lead", "--no-translate"]
ONE_LINE_ERROR = "summarize: error: "


def run(*args, input=None):
    return invoke(cli.app, *args, input=input)


def one_line(result) -> str:
    """The refusal's one line, checked to be the whole of stderr and that nothing went to stdout."""
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(ONE_LINE_ERROR) and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""
    return result.stderr


def records(path: Path, n: int) -> Path:
    return write_jsonl(path, [{"id": f"r{i}", "text": f"{SHORT} Новость номер {i}."} for i in range(n)])


# High 1: --errors that cannot be written


def test_errors_file_in_a_read_only_folder_is_one_line_before_any_work(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(SHORT, encoding="utf-8")
    errors = unwritable_folder() / "errors.jsonl"
    message = one_line(run(article, "--errors", errors, *LEAD))
    assert f"--errors {errors}: cannot write there" in message and not errors.exists()


def test_errors_file_that_cannot_be_written_at_the_end_is_one_line(tmp_path, monkeypatch):
    """The disk may fill up after the check: the end of the run says so in one line, no traceback."""
    from summarize.outputs import failures

    article = tmp_path / "a.txt"
    article.write_text("   ", encoding="utf-8")  # fails: the errors file has a line to write

    def full_disk(path, text):
        raise OSError(28, os.strerror(28))

    monkeypatch.setattr(failures, "write_atomically", full_disk)
    result = run(article, "--errors", tmp_path / "errors.jsonl", *LEAD)
    assert result.exit_code == 2
    assert (
        result.stderr.splitlines()[-1]
        == f"summarize: error: --errors {tmp_path / 'errors.jsonl'}: cannot write it (No space left on device); the failed inputs are on stderr above"
    )


# High 2: --output that exists


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_an_existing_output_is_refused_without_skip_existing_or_overwrite(tmp_path, suffix):
    data = records(tmp_path / "news.jsonl", 3)
    out = tmp_path / f"out{suffix}"
    assert run(data, "--output", out, *LEAD).exit_code == 0
    before = out.read_bytes()
    one = records(tmp_path / "one.jsonl", 1)
    message = one_line(run(one, "--output", out, *LEAD))
    assert message == f"summarize: error: --output {out}: already exists; add --skip-existing to resume it, or --overwrite to replace it\n"
    assert out.read_bytes() == before
    replaced = run(one, "--output", out, "--overwrite", *LEAD)
    assert replaced.exit_code == 0, replaced.stderr
    assert out.read_bytes() != before and sorted(p.name for p in tmp_path.iterdir()) == sorted(["news.jsonl", "one.jsonl", out.name])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--skip-existing", "--overwrite"], "--skip-existing and --overwrite: choose one"),
        (["--overwrite", "--ray"], "--overwrite is not for --ray"),
    ],
)
def test_overwrite_with_what_it_cannot_go_with_is_one_line(tmp_path, extra, message):
    data = records(tmp_path / "news.jsonl", 1)
    result = run(data, "--output", tmp_path / "out", *extra, *LEAD)
    assert message in one_line(result) and not (tmp_path / "out").exists()


def test_overwrite_is_for_output_only(tmp_path):
    data = records(tmp_path / "news.jsonl", 1)
    assert "--overwrite is for --output FILE" in one_line(run(data, "-o", tmp_path / "dir", "--overwrite", *LEAD))
    assert not (tmp_path / "dir").exists()


# Medium 7: --output-dir on a disk that takes nothing


def test_output_dir_to_be_made_on_a_read_only_disk_is_one_line_before_any_work(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(SHORT, encoding="utf-8")
    out = unwritable_folder() / "summaries" / "news"
    message = one_line(run(article, "-o", out, *LEAD))
    assert message.startswith(f"summarize: error: --output-dir {out}: cannot write in /sys (")


def test_output_file_in_a_read_only_folder_is_one_line_before_any_work(tmp_path):
    data = records(tmp_path / "news.jsonl", 1)
    out = unwritable_folder() / "out.jsonl"
    message = one_line(run(data, "--output", out, *LEAD))
    assert f"cannot write {out} (" in message and not out.exists()


FULL_DISK = """
import resource, signal, sys
from summarize.cli import main
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails (EFBIG), as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (4_000, resource.RLIM_INFINITY))
main(sys.argv[1:])
"""


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"), reason="POSIX")
def test_a_dataset_output_that_fills_the_disk_stops_the_run_and_a_resume_finishes_it(tmp_path):
    data = records(tmp_path / "news.jsonl", 60)
    out = tmp_path / "out.jsonl"
    args = [data, "--output", out, *LEAD]
    env = clean_env(PYTHONDONTWRITEBYTECODE="1")
    full = subprocess.run([sys.executable, "-c", FULL_DISK, *map(str, args)], capture_output=True, text=True, env=env, timeout=120)
    assert full.returncode == 1, full.stderr
    assert "Traceback" not in full.stderr and full.stderr.count("stopped: the output takes nothing more") == 1
    done = journal_path(out).read_text(encoding="utf-8").count("\n")  # the whole rows before the disk filled (the last is cut off)
    assert 0 < done < 60 and re.search(rf"summarize: {done} done, 1 failed(, \d+ left)? in .*; not read: any records of ", full.stderr)
    assert not out.exists()  # never a cut-off file
    resumed = run(*args, "--skip-existing")
    assert resumed.exit_code == 0, resumed.stderr
    assert f"{60 - done} done, 0 failed, {done} skipped (already written)" in resumed.stderr
    assert sorted(row["id"] for row in parse_jsonl(out.read_text(encoding="utf-8"))) == sorted(f"r{i}" for i in range(60))


# Medium 8: a killed --output run


@pytest.mark.slow
def test_a_killed_output_run_keeps_its_rows_and_skip_existing_gives_every_id_once(models, tmp_path):
    count = 48  # six groups of 8: the kill after the first lands with five still to run, however fast the machine
    data = records(tmp_path / "news.jsonl", count)
    out = tmp_path / "out.parquet"
    stale = tmp_path / ".out.parquet.0123abcd.part"  # a commit that a kill cut off
    stale.write_bytes(b"PAR1 half a file")
    slow = slow_config(tmp_path / "slow.toml", models["t5"])
    args = [data, "--output", out, "--model", "slow", "--no-translate", "--config", slow]
    process = subprocess.Popen([str(BIN), *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=clean_env())
    journal = journal_path(out)
    deadline = time.monotonic() + 600  # a bound for a stuck run only; the first row ends the wait
    while process.poll() is None and time.monotonic() < deadline and not (journal.exists() and journal.read_bytes().endswith(b"\n")):
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before the kill"
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    kept = {row["id"] for row in parse_jsonl(journal.read_text(encoding="utf-8").rsplit("\n", 1)[0] + "\n")}
    assert 0 < len(kept) < count and not out.exists()

    refused = run(*args)
    assert "rows of an interrupted run wait beside it" in one_line(refused)
    resumed = run(*args, "--skip-existing")
    assert resumed.exit_code == 0, resumed.stderr
    assert f"{count - len(kept)} done, 0 failed, {len(kept)} skipped (already written)" in resumed.stderr
    ids = pq.read_table(out).column("id").to_pylist()
    assert sorted(ids) == sorted(f"r{i}" for i in range(count))  # every id exactly once
    assert sorted(p.name for p in tmp_path.iterdir()) == ["news.jsonl", "out.parquet", "slow.toml"]  # journal merged, stale part gone


# Medium 17: an empty dataset


@pytest.mark.parametrize(("name", "content"), [("empty.jsonl", ""), ("header.csv", "id,text\n")])
def test_an_empty_dataset_is_nothing_left_and_a_warning(tmp_path, name, content):
    data = tmp_path / name
    data.write_text(content, encoding="utf-8")
    result = run(data, "-f", "jsonl", *LEAD)
    assert result.exit_code == 0 and result.stdout == ""
    assert f"summarize: warning: {data}: has no records; nothing to summarise in it" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("summarize: 0 done, 0 failed in ")


# Low: --ray --output x.parquet


def test_ray_output_named_like_a_dataset_file_is_one_line(tmp_path):
    data = records(tmp_path / "news.jsonl", 1)
    message = one_line(run(data, "--ray", "--output", tmp_path / "x.parquet"))
    assert "looks like a file; give a folder name (OUT/)" in message and not (tmp_path / "x.parquet").exists()


# Low: every result has its id


def test_every_result_carries_its_id_first(tmp_path):
    data = records(tmp_path / "news.jsonl", 2)
    article = tmp_path / "a.txt"
    article.write_text(SHORT, encoding="utf-8")
    lines = run(data, article, "-f", "jsonl", *LEAD).stdout
    rows = parse_jsonl(lines)
    assert [(row["id"], row["source"]) for row in rows] == [("r0", f"{data}#r0"), ("r1", f"{data}#r1"), (str(article), str(article))]
    assert all(list(row)[0] == "id" for row in rows)
    single = json.loads(run("-", "-f", "json", *LEAD, input=SHORT).stdout)
    assert list(single)[:2] == ["id", "source"] and single["id"] == "stdin"


def test_dataset_and_shard_schemas_are_those_of_earlier_versions():
    schema = result_schema(pa)
    assert schema.names[0] == "id" and not schema.field("id").nullable and schema.field("id").type == pa.string()
    assert schema.names.count("id") == 1 and all(schema.field(name).nullable for name in schema.names[1:])
