"""Storage URIs (s3://… on moto's real S3 API, on 127.0.0.1) and globs, as inputs and as --ray's OUT/."""

from __future__ import annotations

import uuid

import pytest
from helpers import SHORT, parse_jsonl, write_jsonl

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture
def bucket(s3) -> str:
    name = f"news-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    return name


def put(s3, bucket: str, key: str, body: bytes | str) -> str:
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode("utf-8") if isinstance(body, str) else body)
    return f"s3://{bucket}/{key}"


def jsonl(rows: list[dict]) -> str:
    import json

    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def test_a_dataset_in_s3_is_read_like_a_local_one(run, s3, bucket, tmp_path):
    rows = [{"id": f"r{i}", "text": f"{SHORT} Новость {i}.", "title": f"Заголовок {i}"} for i in range(1, 4)]
    local = write_jsonl(tmp_path / "corpus.jsonl", rows)
    uri = put(s3, bucket, "2026/corpus.jsonl", local.read_text(encoding="utf-8"))

    from_s3 = run(uri, "-e", "lead", "--output", tmp_path / "s3.jsonl")
    from_disk = run(local, "-e", "lead", "--output", tmp_path / "disk.jsonl")
    assert from_s3.exit_code == 0 and from_disk.exit_code == 0, from_s3.stderr
    got = parse_jsonl((tmp_path / "s3.jsonl").read_text(encoding="utf-8"))
    want = parse_jsonl((tmp_path / "disk.jsonl").read_text(encoding="utf-8"))
    assert [row["source"] for row in got] == [f"{uri}#r{i}" for i in range(1, 4)]
    assert [(r["id"], r["title"], r["summary_ru"]) for r in got] == [(r["id"], r["title"], r["summary_ru"]) for r in want]


def test_a_parquet_and_a_csv_in_s3_are_streamed(run, s3, bucket, tmp_path):
    table = pa.table({"id": ["a", "b"], "text": [SHORT, SHORT + " Ещё."]})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    parquet = put(s3, bucket, "c.parquet", sink.getvalue().to_pybytes())
    csv = put(s3, bucket, "c.csv", f'id,text\nx,"{SHORT}"\n')
    result = run(parquet, csv, "-e", "lead", "--output", tmp_path / "out.jsonl")
    assert result.exit_code == 0, result.stderr
    assert [row["id"] for row in parse_jsonl((tmp_path / "out.jsonl").read_text(encoding="utf-8"))] == ["a", "b", "x"]


def test_a_folder_and_a_glob_in_s3_list_their_files_in_natural_order(run, s3, bucket):
    for name in ("a10.txt", "a2.txt", ".hidden.txt", "notes.md", "sub/a1.txt", ".cache/a3.txt", "sub/.old/a4.txt"):
        put(s3, bucket, f"news/{name}", SHORT)
    folder = run(f"s3://{bucket}/news", "-e", "lead", "-f", "jsonl")
    glob = run(f"s3://{bucket}/news/a*.txt", "-e", "lead", "-f", "jsonl")
    deep = run(f"s3://{bucket}/news/", "--recursive", "-e", "lead", "-f", "jsonl")
    assert folder.exit_code == glob.exit_code == deep.exit_code == 0, folder.stderr + glob.stderr + deep.stderr
    sources = [row["source"] for row in parse_jsonl(folder.stdout)]
    assert sources == [f"s3://{bucket}/news/a2.txt", f"s3://{bucket}/news/a10.txt"]
    assert [row["source"] for row in parse_jsonl(glob.stdout)] == sources
    assert [row["source"] for row in parse_jsonl(deep.stdout)] == [*sources, f"s3://{bucket}/news/sub/a1.txt"]


def test_keys_are_taken_as_written_brackets_spaces_cyrillic_and_percent(run, s3, bucket):
    names = ["a[1].txt", "статья 2.txt", "100%.txt"]
    uris = [put(s3, bucket, f"новости/{name}", SHORT) for name in names]
    one = run(uris[0], "-e", "lead", "-f", "jsonl")  # a name with wildcard characters that exists is that name
    folder = run(f"s3://{bucket}/новости/", "-e", "lead", "-f", "jsonl")
    assert one.exit_code == folder.exit_code == 0, one.stderr + folder.stderr
    assert [row["source"] for row in parse_jsonl(one.stdout)] == uris[:1]
    assert sorted(row["source"] for row in parse_jsonl(folder.stdout)) == sorted(uris)


def test_what_is_missing_in_s3_fails_alone_in_one_line(run, s3, bucket):
    good = put(s3, bucket, "a.txt", SHORT)
    result = run(good, f"s3://{bucket}/missing.txt", f"s3://{bucket}/none/*.txt", "s3://no-such-bucket-here/x.txt", "-e", "lead", "-f", "jsonl")
    assert result.exit_code == 1
    rows = parse_jsonl(result.stdout)
    assert [row["error"] is None for row in rows] == [True, False, False, False], result.stdout + result.stderr
    for row in rows[1:]:
        assert row["error"].startswith(row["source"] + ": ") and "\n" not in row["error"]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("given", ["foo://x/a.txt", "s3://b/*/a.txt"])
def test_an_unknown_scheme_or_a_wildcard_folder_is_one_line(run, given):
    result = run(given, "-e", "lead", "-f", "jsonl")
    assert result.exit_code in (1, 2)
    lines = [line for line in result.stderr.splitlines() if "error" in line]
    assert lines and given in lines[0] and "Traceback" not in result.stderr


def test_a_local_glob_is_a_folder_and_a_pattern(run, folder):
    result = run(str(folder / "*.txt"), "-e", "lead", "-f", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert [row["source"] for row in parse_jsonl(result.stdout)] == [str(folder / "a.txt"), str(folder / "b.txt")]


@pytest.mark.parametrize("option", ["--output", "--output-dir", "--errors"])
def test_a_storage_uri_is_refused_where_a_local_run_writes(run, short_file, tmp_path, option):
    target = "s3://bucket/out.jsonl" if option != "--output-dir" else "s3://bucket/out"
    result = run(short_file, "-e", "lead", option, target, *([] if option != "--errors" else ["--output", tmp_path / "o.jsonl"]))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"summarize: error: {option} s3:/") and "give a local path" in result.stderr
    assert not (tmp_path / "s3:").exists()


def test_a_cut_off_write_leaves_no_file(tmp_path):
    from summarize.outputs.tables import result_schema
    from summarize.storage import Folder

    out = Folder.at(tmp_path / "out")
    schema = result_schema(pa)
    row = pa.Table.from_pylist([{"id": "a", "source": "a"}], schema=schema)

    def rows_then_a_kill():
        yield row
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        out.write_tables("s.parquet", rows_then_a_kill(), schema)
    assert list((tmp_path / "out").iterdir()) == []
    assert out.write_tables("s.parquet", iter([row, row]), schema) == 2
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["s.parquet"]


@pytest.mark.ray
def test_ray_output_where_nothing_can_be_written_is_refused_before_the_run(run, s3, bucket, tmp_path):
    pytest.importorskip("ray")
    data = write_jsonl(tmp_path / "c.jsonl", [{"id": "a", "text": SHORT}])
    result = run(data, "--ray", "-e", "lead", "--output", "s3://no-such-bucket-for-out/summaries/")
    assert result.exit_code == 2
    assert result.stderr.startswith("summarize: error: --output s3://no-such-bucket-for-out/summaries: cannot write there (")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bare_pattern_is_this_folder_and_a_missing_name_with_brackets_is_just_missing(run, folder, monkeypatch):
    monkeypatch.chdir(folder)
    here = run("*.txt", "-e", "lead", "-f", "jsonl")
    assert here.exit_code == 0, here.stderr
    assert [row["source"] for row in parse_jsonl(here.stdout)] == ["a.txt", "b.txt"]
    missing = run("report[1].txt", "-e", "lead", "-f", "jsonl")
    assert missing.exit_code == 1
    assert "no files match 'report[1].txt'" in parse_jsonl(missing.stdout)[0]["error"]


def test_a_wildcard_path_and_a_glob_together_is_one_line(run, folder):
    result = run(str(folder / "*.md"), "--glob", "*.txt", "-e", "lead")
    assert result.exit_code == 2
    assert result.stderr == f"summarize: error: {folder / '*.md'}: has a wildcard, and --glob '*.txt' is given too; give the pattern once\n"


def test_keys_with_a_question_mark_or_a_hash_are_read_alone_and_in_a_folder(run, s3, bucket):
    uris = [put(s3, bucket, f"q/{name}", SHORT) for name in ("what?.txt", "a#1.txt", "why?x=1.txt")]
    alone = run(*uris, "-e", "lead", "-f", "jsonl")
    folder = run(f"s3://{bucket}/q/", "-e", "lead", "-f", "jsonl")
    assert alone.exit_code == folder.exit_code == 0, alone.stdout + alone.stderr + folder.stdout + folder.stderr
    assert [row["source"] for row in parse_jsonl(alone.stdout)] == uris
    assert sorted(row["source"] for row in parse_jsonl(folder.stdout)) == sorted(uris)


def test_the_root_of_a_store_is_one_line(run, s3):
    result = run("s3://", "-e", "lead", "-f", "jsonl")
    assert "Traceback" not in result.stderr
    assert result.exit_code in (1, 2)
    assert "s3://: names no bucket" in result.stderr, result.stderr


class CountingFileSystem:
    """pyarrow's real filesystem, with its calls to the store counted."""

    calls = 0

    def __init__(self, real):
        self.real = real

    def __getattr__(self, name):
        def counted(*args, **kwargs):
            CountingFileSystem.calls += 1
            return getattr(self.real, name)(*args, **kwargs)

        return counted


@pytest.fixture
def counted_stores(monkeypatch):
    import pyarrow.fs as pafs

    real = pafs.FileSystem

    class Counting:
        @staticmethod
        def from_uri(uri):
            fs, path = real.from_uri(uri)
            return CountingFileSystem(fs), path

    CountingFileSystem.calls = 0
    monkeypatch.setattr(pafs, "FileSystem", Counting)
    monkeypatch.setattr("summarize.storage.GCS_RETRY_S", 1)
    return CountingFileSystem


def test_a_store_without_credentials_is_asked_once_and_answers_every_input_of_it(run, counted_stores):
    bucket = f"gs://news-{uuid.uuid4().hex[:8]}"  # no Google credentials here, and no network
    result = run(f"{bucket}/a.txt", f"{bucket}/b.txt", f"{bucket}/2026/", "-e", "lead", "-f", "jsonl")
    assert result.exit_code == 1
    assert counted_stores.calls == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("summarize: error: ")]
    assert [line.split(": ")[2] for line in errors] == [f"{bucket}/a.txt", f"{bucket}/b.txt", f"{bucket}/2026/"]
    assert all("GOOGLE_APPLICATION_CREDENTIALS" in line and len(line) < 400 for line in errors), errors
    assert "in 0.0 s" not in result.stderr  # the tally counts the time listing took


def test_azure_without_credentials_is_one_line_and_no_helper_noise(run, capfd):
    uris = [f"abfs://news@nosuchaccount{uuid.uuid4().hex[:6]}.dfs.core.windows.net/{name}" for name in ("a.txt", "b/")]
    result = run(*uris, "-e", "lead", "-f", "jsonl")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    rows = parse_jsonl(result.stdout)
    assert [row["source"] for row in rows] == uris
    assert all(row["error"].startswith(row["source"] + ": ") and "az login" in row["error"] for row in rows), rows
    assert "az: not found" not in capfd.readouterr().err
