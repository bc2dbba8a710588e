"""`summarize CORPUS --ray --output OUT/`: the pipeline on a local Ray Data, the tiny models in actors.

One local Ray serves the whole session (starting one costs seconds); the CLI finds it already
running and uses it, as it would in a notebook.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import SHORT, clean_env, make_folder, parse_jsonl, slow_config, write_dataset, write_jsonl

pytest.importorskip("ray")
pytestmark = pytest.mark.ray

BAD = {"not json": 7, "no text": 13, "empty text": 21}  # line number → what is wrong with it


def corpus(path: Path, count: int = 40) -> Path:
    """`count` JSONL records with ids r1…, three of them bad (see BAD)."""
    rows: list[dict | str] = []
    for number in range(1, count + 1):
        record = {"id": f"r{number}", "text": f"{SHORT} Новость номер {number}.", "title": f"Заголовок {number}"}
        if number == BAD["not json"]:
            rows.append('{"id": "r7", "text": ')
            continue
        if number == BAD["no text"]:
            del record["text"]
        if number == BAD["empty text"]:
            record["text"] = "  "
        rows.append(record)
    return write_jsonl(path, rows)


def shard_rows(out: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return [row for shard in sorted(out.glob("*.parquet")) for row in pq.read_table(shard).to_pylist()]


def test_a_bad_record_is_a_row_and_summaries_match_the_single_process_run(run, local_ray, tmp_path):
    data = corpus(tmp_path / "corpus.jsonl")
    local = run(data, "--output", tmp_path / "local.jsonl")
    assert local.exit_code == 1, local.stderr
    ray_run = run(data, "--ray", "--output", tmp_path / "out")
    assert ray_run.exit_code == 1, ray_run.stderr
    assert "37 done, 3 failed" in ray_run.stderr

    rows = {row["id"]: row for row in shard_rows(tmp_path / "out")}
    expected = {row["id"]: row for row in parse_jsonl((tmp_path / "local.jsonl").read_text(encoding="utf-8"))}
    assert sorted(rows) == sorted(expected) and len(shard_rows(tmp_path / "out")) == 40
    failed = {rid for rid, row in rows.items() if row["error"]}
    assert failed == {rid for rid, row in expected.items() if row["error"]}
    assert len(failed) == 3
    for rid, row in expected.items():
        got = rows[rid]
        for column in ("source", "title", "summary_ru", "summary_en", "engine", "backend", "error", "warnings", "unsupported", "truncated"):
            assert got[column] == row[column], (rid, column)


def test_resume_redoes_only_what_is_missing_or_failed(run, local_ray, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    monkeypatch.setattr("summarize.runs.ray_plan.BATCH_RECORDS", 4)  # blocks of 4 rows…
    monkeypatch.setattr("summarize.outputs.shards.SHARD_ROWS", 4)  # …and a shard for every 4: several shards from 40 records
    data = corpus(tmp_path / "corpus.jsonl")
    out = tmp_path / "out"
    assert run(data, "--ray", "-e", "lead", "--output", out).exit_code == 1
    every = sorted(out.glob("*.parquet"))
    # A failure in a shard left whole is redone too (its old error row dropped): that shard is spared.
    intact = next(shard for shard in every if any(row["error"] for row in pq.read_table(shard).to_pylist()))
    failed_there = {row["id"] for row in pq.read_table(intact).to_pylist() if row["error"]}
    shards = [shard for shard in every if shard != intact]
    assert len(shards) > 2
    # An interrupted run: one shard never written, another cut to its first row.
    kept = pq.read_table(shards[0])
    gone = {row["id"] for row in kept.slice(1).to_pylist()}
    pq.write_table(kept.slice(0, 1), shards[0])
    gone |= {row["id"] for row in pq.read_table(shards[-1]).to_pylist()}
    shards[-1].unlink()
    # And one damaged after it was written: moved aside, its records redone.
    gone |= {row["id"] for row in pq.read_table(shards[1]).to_pylist()}
    shards[1].write_bytes(b"PAR1 not a shard")
    # And a write that a kill cut off: a hidden temporary file, removed by the resume.
    (out / f".{shards[0].name}.0123abcd.part").write_bytes(b"PAR1 half")
    assert failed_there - gone  # else the spared shard's failure proves nothing

    again = run(data, "--ray", "-e", "lead", "--output", out, "--skip-existing")
    assert again.exit_code == 1, again.stderr
    rows = shard_rows(out)
    assert len(rows) == 40 and len({row["id"] for row in rows}) == 40  # every record once
    assert sum(1 for row in rows if row["error"]) == 3  # the bad ones redone, their old rows gone
    redone = gone | {row["id"] for row in rows if row["error"]}
    assert f"{len(redone) - 3} done, 3 failed, {40 - len(redone)} skipped" in again.stderr
    assert f"{shards[1]}: cannot be read (damaged?); moved to {shards[1].name}.broken" in again.stderr
    assert (out / f"{shards[1].name}.broken").exists()
    assert not list(out.glob(".*.part"))
    assert not {row["id"] for row in pq.read_table(intact).to_pylist() if row["error"]} & failed_there  # redone: a new row elsewhere


def test_without_skip_existing_a_folder_of_shards_is_refused(run, local_ray, tmp_path):
    data = write_jsonl(tmp_path / "c.jsonl", [{"id": "a", "text": SHORT}])
    assert run(data, "--ray", "-e", "lead", "--output", tmp_path / "out").exit_code == 0
    again = run(data, "--ray", "-e", "lead", "--output", tmp_path / "out")
    assert again.exit_code == 2
    # Ray streams its workers' log lines to the driver when they come, so an earlier run's can land
    # here; the program's own lines are exactly the one error.
    assert [line for line in again.stderr.splitlines() if line.startswith("summarize:")] == [
        f"summarize: error: --output {tmp_path / 'out'}: already holds 1 shards of an earlier run; add --skip-existing to resume it, or give a new folder"
    ]


def map_worker_pids() -> list[int]:
    """Ray names an actor's process after its class (setproctitle): `ray::MapWorker(...)`."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(b"ray::MapWorker"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="finds the actor's process in /proc")
def test_a_killed_actor_is_restarted_and_every_record_written_once(run, local_ray, models, tmp_path, monkeypatch):
    # Batches of 2 records and a shard for every 2 rows: the first shard says the actor is past its
    # model load and has 18 or more slow batches still to do, so the kill certainly lands mid-run.
    monkeypatch.setattr("summarize.runs.ray_plan.BATCH_RECORDS", 2)
    monkeypatch.setattr("summarize.outputs.shards.SHARD_ROWS", 2)
    data = corpus(tmp_path / "corpus.jsonl", 40)
    out = tmp_path / "out"
    killed: list[int] = []
    restarted: list[int] = []
    earlier = set(map_worker_pids())  # actors of an earlier test, still on their way out
    run_over = threading.Event()

    def kill_the_worker_once_a_shard_exists() -> None:
        # No clock: it watches until the run is over (the events it waits for either come or the run ends).
        while not run_over.is_set():
            pids = [pid for pid in map_worker_pids() if pid not in earlier]
            if not killed:
                if pids and list(out.glob("*.parquet")):  # past its model load, mid-run
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
            else:
                restarted.extend(pid for pid in pids if pid not in killed and pid not in restarted)
            run_over.wait(0.02)

    killer = threading.Thread(target=kill_the_worker_once_a_shard_exists, daemon=True)
    killer.start()
    slow = slow_config(tmp_path / "slow.toml", models["t5"])  # long decodes: the kill lands mid-run
    try:
        result = run(data, "--ray", "--workers", "1", "--model", "slow", "--no-translate", "--output", out, config=slow)
    finally:
        run_over.set()
        killer.join(timeout=60)
    assert killed, "no shard appeared while the run's actor was seen"
    assert restarted, "the killed actor was not replaced"
    assert result.exit_code == 1, result.stderr
    rows = shard_rows(out)
    assert len(rows) == 40 and len({row["id"] for row in rows}) == 40
    assert sum(1 for row in rows if row["error"]) == 3


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="finds the actor's process in /proc")
def test_an_actor_killed_as_it_starts_is_replaced(run, local_ray, tmp_path):
    data = corpus(tmp_path / "corpus.jsonl", 20)
    earlier = set(map_worker_pids())
    killed: list[int] = []

    run_over = threading.Event()

    def kill_it_at_once() -> None:
        while not run_over.is_set() and not killed:
            for pid in map_worker_pids():
                if pid not in earlier:
                    os.kill(pid, signal.SIGKILL)  # as soon as its process exists
                    killed.append(pid)
                    break
            run_over.wait(0.01)

    killer = threading.Thread(target=kill_it_at_once, daemon=True)
    killer.start()
    try:
        result = run(data, "--ray", "--workers", "1", "-e", "abstractive", "--output", tmp_path / "out")
    finally:
        run_over.set()
        killer.join(timeout=60)
    assert killed
    assert result.exit_code == 1, result.stderr  # the corpus's own 3 bad records
    assert len({row["id"] for row in shard_rows(tmp_path / "out")}) == 20


def test_an_address_that_does_not_answer_is_one_line_and_exit_2(run, tmp_path):
    data = write_jsonl(tmp_path / "c.jsonl", [{"id": "a", "text": SHORT}])
    result = run(data, "--ray", "--ray-address", "127.0.0.1:9", "--output", tmp_path / "out")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("summarize: error: --ray-address 127.0.0.1:9: no Ray cluster answers there")


def test_ray_options_without_ray_or_output_are_usage_errors(run, tmp_path):
    data = write_jsonl(tmp_path / "c.jsonl", [{"id": "a", "text": SHORT}])
    no_ray = run(data, "--workers", "2", "--output", tmp_path / "out")
    assert no_ray.exit_code == 2 and "--workers is for --ray" in no_ray.stderr
    no_output = run(data, "--ray")
    assert no_output.exit_code == 2 and "give --output OUT/" in no_output.stderr


def test_actors_times_threads_is_the_cpus_asked_for():
    from summarize.errors import SummarizeError
    from summarize.runs.ray_plan import plan_actors

    def shape(actors):
        return actors.count, actors.threads, actors.gpus

    assert shape(plan_actors({"CPU": 8}, None, 2)) == (4, 2, 0)
    assert shape(plan_actors({"CPU": 8}, 2, 1)) == (2, 1, 0)
    assert shape(plan_actors({"CPU": 8}, 3, 2)) == (3, 1, 0)
    assert shape(plan_actors({"CPU": 8, "GPU": 2}, None, 1)) == (2, 1, 1)
    with pytest.raises(SummarizeError, match="--workers 16: the Ray cluster has 8 CPUs"):
        plan_actors({"CPU": 8}, 16, 1)


def test_ray_actors_honour_the_device_asked_for():
    from summarize.config import Device
    from summarize.errors import SummarizeError
    from summarize.runs.ray_plan import plan_actors

    gpus = {"CPU": 8, "GPU": 2}
    assert plan_actors(gpus, None, 2, Device.cpu).gpus == 0  # --device cpu on a GPU cluster takes no GPU
    assert plan_actors(gpus, None, 2, Device.cuda).gpus == 1 and plan_actors(gpus, None, 2, Device.auto).gpus == 1
    with pytest.raises(SummarizeError, match="--device cuda: the Ray cluster has no GPUs"):
        plan_actors({"CPU": 8}, None, 2, Device.cuda)
    with pytest.raises(SummarizeError, match="--device mps"):
        plan_actors(gpus, None, 2, Device.mps)


def test_a_model_that_cannot_load_is_one_line_and_exit_2(run, local_ray, tmp_path):
    config = tmp_path / "missing.toml"
    config.write_text(f'[summarizers.gone]\nmodel = "{tmp_path / "no-such-model"}"\nmax_input_tokens = 64\n', encoding="utf-8")
    data = write_jsonl(tmp_path / "c.jsonl", [{"id": "a", "text": SHORT}])
    result = run(data, "--ray", "--model", "gone", "--no-translate", "--strict", "--output", tmp_path / "out", config=config)
    assert result.exit_code == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("summarize: error:")]
    assert len(errors) == 1 and "no-such-model" in errors[0], result.stderr
    # Ray Data's dump of the failure is logged by the driver, so it would land here. (Ray's streamed
    # reports may come after the run: the subprocess test below sees all of them. The shared Ray
    # can also stream an earlier test's reports here, hence no `stdout == ""`.)
    assert not [dump for dump in RAY_DUMPS if dump in result.stderr], result.stderr
    assert "no-such-model" not in result.stdout


RAY_DUMPS = ("Traceback", "Exception raised in creation task", "Exception occurred in Ray Data", "SummarizeError")  # Ray reporting our error


# ------------------------------------------- as a real process: its own local Ray, signals, all it prints


def summarize(*args, shard_rows: int | None = None, batch_records: int | None = None, **popen) -> subprocess.Popen:
    """`python -m summarize ARGS` on the tiny models; without an address it starts its own local Ray.
    `shard_rows` sets outputs.shards.SHARD_ROWS in that process (small: shards appear during the run),
    `batch_records` runs.ray_plan.BATCH_RECORDS (small: many batches, so work is left after a shard)."""
    env = clean_env()
    setting = f"import summarize.outputs.shards as d; d.SHARD_ROWS = {shard_rows}; " if shard_rows else ""
    setting += f"import summarize.runs.ray_plan as p; p.BATCH_RECORDS = {batch_records}; " if batch_records else ""
    program = ["-c", f"{setting}import sys; from summarize.cli import main; sys.argv[0] = 'summarize'; main()"]
    command = [sys.executable, *program, *map(str, args)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **popen)


def finished(*args) -> subprocess.CompletedProcess:
    process = summarize(*args)
    stdout, stderr = process.communicate(timeout=600)  # a bound for a stuck run only
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def process_table() -> dict[int, tuple[int, str, str]]:
    """pid → (parent pid, state, name) of every process, from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        try:
            raw = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        if raw:
            name, rest = raw[raw.index("(") + 1 : raw.rindex(")")], raw[raw.rindex(")") + 2 :].split()
            table[int(entry.name)] = (int(rest[1]), rest[0], name)
    return table


def descendants(pid: int) -> dict[int, str]:
    """The processes under `pid` (for a driver: Ray's GCS, raylet, agents and workers) → their names."""
    table, found, parents = process_table(), {}, [pid]
    while parents:
        parent = parents.pop()
        for child, (ppid, _, name) in table.items():
            if ppid == parent and child not in found:
                found[child] = name
                parents.append(child)
    return found


def left_running(processes: dict[int, str], within: float) -> dict[int, str]:
    """Those of `processes` still running (not zombies) after up to `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        table = process_table()
        left = {pid: name for pid, name in processes.items() if pid in table and table[pid][2] == name and table[pid][1] != "Z"}
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds Ray's processes in /proc")
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_run_and_its_ray_and_skip_existing_resumes(models, fast_config, tmp_path, sig, code):
    data = write_jsonl(tmp_path / "corpus.jsonl", [{"id": f"r{n}", "text": f"{SHORT} Новость номер {n}."} for n in range(40)])
    slow = slow_config(tmp_path / "slow.toml", models["t5"])
    out = tmp_path / "out"
    args = [data, "--ray", "--model", "slow", "--no-translate", "--config", slow, "--output", out]
    # Batches of 2 and a shard for every 2 rows: the first shard comes early (its own Ray, a model
    # load and one slow batch), and 38 records are still to do when the signal is sent.
    process = summarize(*args, shard_rows=2, batch_records=2)
    deadline = time.monotonic() + 600  # a bound for a stuck run only; the shard ends the wait
    while not list(out.glob("*.parquet")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before the signal"
    assert list(out.glob("*.parquet")), "no shard in 600 s"
    ray = descendants(process.pid)
    assert {"raylet", "gcs_server"} <= set(ray.values()), ray  # else the check below proves nothing
    process.send_signal(sig)
    try:
        stdout, stderr = process.communicate(timeout=120)  # stops in seconds; this bounds a stuck one
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("not stopped by the signal") from None
    assert process.returncode == code, stderr
    assert left_running(ray, within=60) == {}
    assert not [dump for dump in (*RAY_DUMPS, "execution failed") if dump in stderr], stderr
    assert stdout == ""
    ours = [
        line for line in stderr.splitlines() if line.startswith("summarize:") and not line.startswith("summarize: warning:")
    ]  # the actors warn of truncation
    first = {row["id"] for row in shard_rows(out)}
    assert 0 < len(first) < 40
    assert len(ours) == 2 and ours[-1].startswith(f"summarize: stopped by {sig.name}: {len(first)} done, 0 failed in "), stderr
    assert ours[-1].endswith(f"the shards written stay in {out}; run the same command with --skip-existing to resume")

    resumed = finished(*args, "--skip-existing")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{40 - len(first)} done, 0 failed, {len(first)} skipped" in resumed.stderr
    ids = [row["id"] for row in shard_rows(out)]
    assert sorted(ids) == sorted(f"r{n}" for n in range(40))  # every record exactly once


@pytest.mark.slow
def test_a_model_that_cannot_load_is_only_our_line_and_the_actors_notices_still_come(models, fast_config, tmp_path):
    config = tmp_path / "models.toml"
    config.write_text(
        f'[summarizers.gone]\nmodel = "{tmp_path / "no-such-model"}"\nmax_input_tokens = 64\n'
        '[summarizers.absent]\nmodel = "nobody/absent-model"\nmax_input_tokens = 64\n',
        encoding="utf-8",
    )
    data = write_jsonl(tmp_path / "c.jsonl", [{"id": f"r{n}", "text": SHORT} for n in range(16)])
    gone = finished(data, "--ray", "--model", "gone", "--no-translate", "--strict", "--output", tmp_path / "gone", "--config", config)
    assert gone.returncode == 2, gone.stderr
    assert not [dump for dump in RAY_DUMPS if dump in gone.stderr], gone.stderr
    assert gone.stdout == ""
    assert [line for line in gone.stderr.splitlines() if "summarize:" in line][-1] == (
        f"summarize: error: model {tmp_path / 'no-such-model'} (preset gone): no such directory; fix `model` in models.toml"
    )
    # An actor's own notice (here: the model is missing, so the extractive engine summarises) still comes.
    absent = finished(data, "--ray", "--model", "absent", "--no-translate", "--output", tmp_path / "absent", "--config", config)
    assert absent.returncode == 0, absent.stderr
    assert re.search(r"^summarize: warning: model nobody/absent-model \(preset absent\) is not in the local cache", absent.stderr, re.M), absent.stderr


def test_a_corpus_in_s3_goes_to_shards_in_s3_and_resumes_there(run, local_ray, s3, tmp_path):
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    s3.create_bucket(Bucket="archive")
    s3.put_object(Bucket="archive", Key="2026/corpus.jsonl", Body=corpus(tmp_path / "corpus.jsonl").read_bytes())
    args = ("s3://archive/2026/*.jsonl", "--ray", "-e", "lead", "--output", "s3://archive/summaries/")
    first = run(*args)
    assert first.exit_code == 1 and "37 done, 3 failed" in first.stderr, first.stderr

    def rows() -> list[dict]:
        fs, _ = pafs.FileSystem.from_uri("s3://archive")
        names = [info.path for info in fs.get_file_info(pafs.FileSelector("archive/summaries"))]
        assert names and all(name.endswith(".parquet") for name in names), names  # no temporary files left
        return [row for name in names for row in pq.read_table(name, filesystem=fs).to_pylist()]

    assert len(rows()) == 40 and {row["source"] for row in rows()} >= {"s3://archive/2026/corpus.jsonl#r1"}
    again = run(*args, "--skip-existing")
    assert again.exit_code == 1 and "0 done, 3 failed, 37 skipped" in again.stderr, again.stderr
    assert len(rows()) == 40 and len({row["id"] for row in rows()}) == 40


def test_a_folder_of_articles_and_csv_and_parquet_datasets_match_the_local_run(run, local_ray, tmp_path):
    news = make_folder(tmp_path / "news", 3)
    table = write_dataset(tmp_path / "more.parquet", [{"id": "p1", "text": SHORT}, {"id": "p2", "text": SHORT + " Ещё."}])
    sheet = write_dataset(tmp_path / "more.csv", [{"id": "c1", "text": SHORT}, {"id": "c2", "text": ""}])
    local = run(news, table, sheet, "-e", "lead", "--output", tmp_path / "local.jsonl")
    (tmp_path / "out").mkdir()
    inside = run(news, "-e", "lead", "--ray", "--output", tmp_path / "out", "--errors", tmp_path / "out" / "errors.jsonl")
    assert inside.exit_code == 2 and "is inside the --output folder" in inside.stderr
    ray_run = run(news, table, sheet, "-e", "lead", "--ray", "--output", tmp_path / "out", "--errors", tmp_path / "errors.jsonl")
    assert local.exit_code == ray_run.exit_code == 1, ray_run.stderr  # c2 has no text
    assert "6 done, 1 failed" in ray_run.stderr
    [failed] = parse_jsonl((tmp_path / "errors.jsonl").read_text(encoding="utf-8"))
    assert failed["source"] == f"{sheet}#c2" and failed["error"].startswith(f"{sheet}#c2: ")
    expected = {row["id"]: row for row in parse_jsonl((tmp_path / "local.jsonl").read_text(encoding="utf-8"))}
    got = {row["id"]: row for row in shard_rows(tmp_path / "out")}
    assert sorted(got) == sorted(expected) and str(news / "000.txt") in got
    for rid, row in expected.items():
        assert (got[rid]["source"], got[rid]["summary_ru"], got[rid]["error"]) == (row["source"], row["summary_ru"], row["error"])


def test_a_repeated_id_in_a_dataset_is_the_later_records_error_row(run, local_ray, tmp_path):
    data = write_jsonl(tmp_path / "c.jsonl", [{"id": "x", "text": SHORT}, {"id": "y", "text": SHORT + " Второе."}, {"id": "x", "text": SHORT + " Дубль."}])
    result = run(data, "--ray", "-e", "lead", "--output", tmp_path / "out", "--errors", tmp_path / "errors.jsonl")
    assert result.exit_code == 1, result.stderr
    assert "2 done, 1 failed" in result.stderr
    error = f"{data}#x: id 'x' again (first at record 1 of {data}); ids must be unique — pick a column of unique ids with --id-field"
    assert f"summarize: error: {error}\n" in result.stderr
    assert sorted((row["id"], row["error"] or "") for row in shard_rows(tmp_path / "out")) == [("x", ""), ("x", error), ("y", "")]
    assert [row["error"] for row in parse_jsonl((tmp_path / "errors.jsonl").read_text(encoding="utf-8"))] == [error]


def test_an_id_repeated_in_another_file_is_the_later_files_error_row_as_in_a_local_run(run, local_ray, tmp_path):
    first = write_jsonl(tmp_path / "a.jsonl", [{"id": "x", "text": SHORT}, {"id": "y", "text": SHORT + " Второе."}])
    second = write_jsonl(tmp_path / "b.jsonl", [{"id": "x", "text": SHORT + " Дубль."}])
    result = run(first, second, "--ray", "-e", "lead", "--output", tmp_path / "out")
    assert result.exit_code == 1 and "2 done, 1 failed" in result.stderr, result.stderr
    error = f"{second}#x: id 'x' again (first at {first}#x); ids must be unique — pick a column of unique ids with --id-field"
    assert f"summarize: error: {error}\n" in result.stderr
    rows = sorted((row["id"], row["source"], row["error"] or "") for row in shard_rows(tmp_path / "out"))
    assert rows == [("x", f"{first}#x", ""), ("x", f"{second}#x", error), ("y", f"{first}#y", "")]
    local = run(first, second, "-e", "lead", "-f", "jsonl")  # the same rule, said the local run's way
    assert [row["source"] for row in parse_jsonl(local.stdout) if row["error"]] == [f"{second}#x"]


# Ray Data's progress bars, which stay on stderr: "Running Dataset…", "- MapBatches(…): … row/s"…
RAY_PROGRESS = re.compile(r"(Running Dataset|Dataset \\S+ execution|row/s|it/s\\]|^- |^\\s*\\d+%)")


@pytest.mark.slow
def test_stderr_holds_only_our_lines_and_a_resume_with_nothing_left_starts_no_ray(models, fast_config, tmp_path):
    rows = [{"id": f"r{n}", "text": f"{SHORT} Новость номер {n}."} for n in range(6)]
    data = write_jsonl(tmp_path / "corpus.jsonl", [*rows, {"id": "r0", "text": SHORT}])  # r0 again: an error row
    args = [data, "--ray", "--no-translate", "--config", fast_config, "--output", tmp_path / "out"]
    first = finished(*args)  # its own local Ray: token authentication, actors with restarts, a failed record
    assert first.returncode == 1, first.stderr
    assert "\x1b" not in first.stderr  # stderr is a pipe: no colours
    assert [line for line in first.stderr.splitlines() if not (line.startswith("summarize:") or RAY_PROGRESS.search(line))] == []
    assert "summarize: 6 done, 1 failed in " in first.stderr
    # Everything is done (the repeated r0 has its error row, which a resume writes again):
    rows_only = write_jsonl(tmp_path / "done.jsonl", rows)
    again = finished(rows_only, *args[1:], "--skip-existing")
    assert again.returncode == 0, again.stderr
    [line] = again.stderr.splitlines()  # no "ray: 1 actor × 2 CPU threads": no Ray was started
    assert line.startswith("summarize: 0 done, 0 failed, 6 skipped (already written) in ")


def test_each_record_gets_its_own_summary_from_an_actor(run, local_ray, tmp_path):
    from test_local_run import distinct_articles, summaries_alone

    paths = distinct_articles(tmp_path / "news")
    result = run(tmp_path / "news", "--ray", "--no-translate", "--output", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert {row["source"]: row["summary_ru"] for row in shard_rows(tmp_path / "out")} == summaries_alone(run, paths)


def test_to_targets_are_columns_of_the_shards_as_in_the_local_run(run, local_ray, tmp_path):
    data = corpus(tmp_path / "corpus.jsonl", count=6)
    local = run(data, "--to", "de,en", "--output", tmp_path / "local.jsonl")
    ray_run = run(data, "--ray", "--to", "de,en", "--output", tmp_path / "out")
    assert (local.exit_code, ray_run.exit_code) == (0, 0), ray_run.stderr
    rows = {row["id"]: row for row in shard_rows(tmp_path / "out")}
    expected = {row["id"]: row for row in parse_jsonl((tmp_path / "local.jsonl").read_text(encoding="utf-8"))}
    assert sorted(rows) == sorted(expected)
    for rid, row in expected.items():
        assert list(rows[rid]) == list(row)  # summary_de after summary_en, as a local --output writes it
        for column in ("summary_ru", "summary_en", "summary_de", "translators"):
            assert rows[rid][column] == row[column], (rid, column)
        assert row["summary_de"]
