"""`summarize check` writes through the sinks `summarize` uses: the same refusals before any work,
the same journal and resume by id (--skip-existing), the same signals (tally, 130/143, what is
finished kept), and the bytes its formats always had."""

import csv
import io
import json
import signal
import subprocess
import sys
import threading

import pyarrow.parquet as pq
import pytest
from helpers import BIN, clean_env, invoke, parse_jsonl, unwritable_folder, write_jsonl

from summarize import cli
from summarize.outputs.dataset import journal_path


def check(*args):
    return invoke(cli.app, "check", *args)


def numbered(first: int, count: int) -> list[dict]:
    """Records of different lengths, each summary with a number of its own that its article lacks:
    a verdict can only have come from its own record."""
    return [
        {
            "id": f"r{i}",
            "text": f"Мэрия сообщила, что за год в городе построили {100 + i} домов." + " Работы шли весь год." * (i + 1),
            "summary": f"За год построили {1000 + i} домов.",
        }
        for i in range(first, first + count)
    ]


def own_verdict(row: dict) -> bool:
    number = 1000 + int(row["id"].removeprefix("r"))
    return row["error"] is None and row["unsupported"] == [{"text": str(number), "kind": "number", "field": "summary_ru"}]


def leftovers(folder) -> list[str]:
    """A journal or a temporary file left beside the outputs."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# The bytes of every format: what they were before the check wrote through the sinks

ARTICLE = "Правительство Татарстана выделило деньги на ремонт школ в Казани. Министр образования Ильсур Хадиуллин сообщил, что обновят 37 зданий."
CLEAN = "Татарстан отремонтирует 37 школ в Казани."
CHANGED = "Татарстан отремонтирует 73 школы в Казани."
ROW_1 = '{"id": "r1", "unsupported": [], "error": null}'
ROW_2 = '{"id": "r2", "unsupported": [{"text": "73", "kind": "number", "field": "summary_ru"}], "error": null}'


def three(tmp_path):
    rows = [{"id": "r1", "text": ARTICLE, "summary": CLEAN}, {"id": "r2", "text": ARTICLE, "summary": CHANGED}, {"id": "r3", "text": ARTICLE}]
    data = write_jsonl(tmp_path / "data.jsonl", rows)
    missing = f"{data}#r3: field 'summary' is missing; use --summary-field to pick the summary's field"
    return data, '{"id": "r3", "unsupported": null, "error": ' + json.dumps(missing, ensure_ascii=False) + "}"


def test_stdout_keeps_its_bytes_in_every_format(tmp_path):
    data, row_3 = three(tmp_path)
    shown = {fmt: check(data, "-f", fmt) for fmt in ("plain", "markdown", "jsonl", "json", "rich")}
    assert {fmt: result.exit_code for fmt, result in shown.items()} == dict.fromkeys(shown, 1)
    assert shown["plain"].stdout == 'r1: nothing unsupported\nr2: Not in the article: "73" (number)\n'
    assert shown["markdown"].stdout == '- **r1**: nothing unsupported\n- **r2**: Not in the article: "73" (number)\n'
    assert shown["jsonl"].stdout == f"{ROW_1}\n{ROW_2}\n{row_3}\n"
    assert shown["json"].stdout == json.dumps([json.loads(row) for row in (ROW_1, ROW_2, row_3)], ensure_ascii=False, indent=2) + "\n"
    assert shown["rich"].stdout.startswith("r1: nothing unsupported\n╭─ r2 ─") and "│ Татарстан отремонтирует 73 школы в Казани." in shown["rich"].stdout
    assert shown["plain"].stderr.splitlines()[-1] == "summarize: 3 records: 1 with spans their articles lack, 1 failed"
    one = check(write_jsonl(tmp_path / "one.jsonl", [{"id": "r1", "text": ARTICLE, "summary": CLEAN}]), "-f", "json")
    assert one.stdout == json.dumps([json.loads(ROW_1)], indent=2) + "\n"  # an array, also for one record


def test_output_keeps_its_bytes_in_every_format(tmp_path):
    data, row_3 = three(tmp_path)
    for suffix in (".jsonl", ".csv", ".parquet"):
        assert check(data, "-f", "plain", "--output", tmp_path / f"out{suffix}").exit_code == 1
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == f"{ROW_1}\n{ROW_2}\n{row_3}\n"
    rows = [json.loads(row) for row in (ROW_1, ROW_2, row_3)]
    expected_csv = io.StringIO()
    writer = csv.writer(expected_csv)
    writer.writerow(["id", "unsupported", "error"])
    writer.writerows([row["id"], "" if row["unsupported"] is None else json.dumps(row["unsupported"], ensure_ascii=False), row["error"] or ""] for row in rows)
    assert (tmp_path / "out.csv").read_bytes().decode("utf-8") == expected_csv.getvalue()  # the csv module ends rows in \r\n
    assert pq.read_table(tmp_path / "out.parquet").to_pylist() == rows
    assert leftovers(tmp_path) == []


# Refused before any work, as summarize refuses


def test_an_existing_output_is_refused_and_replaced_with_overwrite(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", numbered(0, 2))
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "old", "unsupported": [], "error": null}\n', encoding="utf-8")
    refused = check(data, "--output", out)
    assert refused.exit_code == 2 and refused.stdout == ""
    assert refused.stderr == f"summarize: error: --output {out}: already exists; add --skip-existing to resume it, or --overwrite to replace it\n"
    assert out.read_text(encoding="utf-8") == '{"id": "old", "unsupported": [], "error": null}\n'
    replaced = check(data, "--output", out, "--overwrite", "-f", "jsonl")
    assert replaced.exit_code == 1 and [row["id"] for row in parse_jsonl(out.read_text(encoding="utf-8"))] == ["r0", "r1"]
    assert all(own_verdict(row) for row in parse_jsonl(out.read_text(encoding="utf-8")))
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--skip-existing"], "--skip-existing is for --output FILE; without --output nothing is written to a file"),
        (["--overwrite"], "--overwrite is for --output FILE; without --output nothing is written to a file"),
        (
            ["--output", "out.jsonl", "--skip-existing", "--overwrite"],
            "--skip-existing and --overwrite: choose one (resume the existing output, or replace it)",
        ),
    ],
)
def test_resume_and_replace_flags_that_do_not_go_together_are_one_line(tmp_path, monkeypatch, flags, message):
    monkeypatch.chdir(tmp_path)
    data = write_jsonl(tmp_path / "data.jsonl", numbered(0, 1))
    result = check(data, *flags)
    assert result.exit_code == 2 and result.stdout == "" and result.stderr == f"summarize: error: {message}\n"


@pytest.mark.slow
def test_an_output_that_cannot_be_written_is_one_line_before_natasha_loads(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", numbered(0, 1))
    out = unwritable_folder() / "out.jsonl"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "summarize", "check", str(data), "--output", str(out)], capture_output=True, text=True, timeout=120
    )
    said = [line for line in done.stderr.splitlines() if "|" not in line]  # -X importtime's lines have a |
    assert done.returncode == 2 and done.stdout == "" and len(said) == 1 and said[0].startswith(f"summarize: error: cannot write {out} (")
    assert not {"natasha", "pymorphy3"} & {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}


def test_rows_an_interrupted_run_left_are_refused_without_a_flag(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", numbered(0, 1))
    out = tmp_path / "out.jsonl"
    journal_path(out).write_text('{"id": "r0", "unsupported": [], "error": null}\n', encoding="utf-8")
    result = check(data, "--output", out)
    assert result.exit_code == 2 and "rows of an interrupted run wait beside it" in result.stderr and not out.exists()


# Resume


def test_skip_existing_checks_only_the_records_not_in_the_output(tmp_path):
    out = tmp_path / "out.jsonl"
    first = numbered(0, 3)
    first[1] = {**first[1], "summary": ""}  # failed: its row is redone
    assert check(write_jsonl(tmp_path / "first.jsonl", first), "--output", out, "-f", "plain").exit_code == 1
    resumed = check(write_jsonl(tmp_path / "data.jsonl", numbered(0, 5)), "--output", out, "--skip-existing", "-f", "jsonl")
    assert resumed.exit_code == 1, resumed.stderr
    assert [row["id"] for row in parse_jsonl(resumed.stdout)] == ["r1", "r3", "r4"]  # only what was missing is checked, and shown
    assert resumed.stderr == "summarize: 3 records: 3 with spans their articles lack, 0 failed, 2 skipped (already written)\n"
    rows = parse_jsonl(out.read_text(encoding="utf-8"))
    assert sorted(row["id"] for row in rows) == ["r0", "r1", "r2", "r3", "r4"] and all(own_verdict(row) for row in rows)
    assert leftovers(tmp_path) == []


def test_an_output_of_summarize_is_not_taken_for_one_of_check(tmp_path):
    out = write_jsonl(tmp_path / "out.jsonl", [{"id": "r0", "source": "a.txt", "summary_ru": "Итог.", "error": None}])
    result = check(write_jsonl(tmp_path / "data.jsonl", numbered(0, 1)), "--output", out, "--skip-existing")
    assert result.exit_code == 2 and "has columns this version does not write (source, summary_ru)" in result.stderr


# Signals


def rest_of_output(process: subprocess.Popen) -> tuple[str, str]:
    """What the process writes until it exits, read through the same text streams as the line read
    before: communicate() reads the pipes' descriptors and would lose what readline() buffered. A
    run stuck past 60 s is killed (a bound for a stuck run only: it stops within a record)."""
    killer = threading.Timer(60, process.kill)
    killer.start()
    try:
        rest, stderr = process.stdout.read(), process.stderr.read()  # stderr is a few lines: its pipe never fills meanwhile
        process.wait()
    finally:
        killer.cancel()
    return rest, stderr


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_check_keeping_what_is_finished_and_skip_existing_resumes(tmp_path, sig, code):
    data = write_jsonl(tmp_path / "data.jsonl", numbered(0, 40))
    out = tmp_path / "out.jsonl"
    args = [str(BIN), "check", str(data), "--output", str(out), "-f", "jsonl"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(), text=True)
    first = process.stdout.readline()  # the first verdict is out: the run is under way
    assert first, process.communicate(timeout=60)[1]
    process.send_signal(sig)
    rest, stderr = rest_of_output(process)
    assert process.returncode == code, stderr
    shown = parse_jsonl(first + rest)
    kept = parse_jsonl(out.read_text(encoding="utf-8"))
    assert 0 < len(kept) < 40 and kept == shown and all(own_verdict(row) for row in kept)
    assert stderr.splitlines()[-1] == (
        f"summarize: stopped by {sig.name}: {len(kept)} record{'s' * (len(kept) != 1)}: {len(kept)} with spans their articles lack, 0 failed; "
        f"not checked: any records of {data} after {kept[-1]['id']}; run the same command with --skip-existing to resume"
    )
    assert leftovers(tmp_path) == []  # the journal merged in, no temporary file

    resumed = subprocess.run([*args, "--skip-existing"], capture_output=True, env=clean_env(), text=True, timeout=300)
    assert resumed.returncode == 1, resumed.stderr
    assert (
        resumed.stderr.splitlines()[-1]
        == f"summarize: {40 - len(kept)} record{'s' * (len(kept) != 39)}: {40 - len(kept)} with spans their articles lack, 0 failed, {len(kept)} skipped (already written)"
    )
    rows = parse_jsonl(out.read_text(encoding="utf-8"))
    assert [row["id"] for row in rows] == [f"r{i}" for i in range(40)] and all(own_verdict(row) for row in rows)
    assert leftovers(tmp_path) == []


def test_a_line_that_is_not_utf8_part_way_keeps_the_verdicts_before_it(tmp_path):
    good = {"id": "a", "text": "Мэр Москвы Сергей Собянин открыл пять станций метро.", "summary": "Сергей Собянин открыл станции."}
    data = tmp_path / "data.jsonl"
    line = json.dumps(good, ensure_ascii=False).encode()
    data.write_bytes(line + b"\n" + '{"id": "b", "text": "Мэр", "summary": "x"}'.encode("cp1251").replace(b"x", "ё".encode("cp1251")) + b"\n" + line + b"\n")
    out = tmp_path / "out.jsonl"
    result = invoke(cli.app, "check", data, "-f", "jsonl", "--output", out)
    assert result.exit_code == 1
    assert parse_jsonl(result.stdout) == parse_jsonl(out.read_text(encoding="utf-8")) == [{"id": "a", "unsupported": [], "error": None}]
    error, tally = result.stderr.splitlines()
    assert error.startswith(f"summarize: error: {data}: line 2 is not UTF-8")
    assert tally == f"summarize: 1 record: 0 with spans their articles lack, 0 failed; not checked: any records of {data} after a, which cannot be read"
