"""--ray --output OUT/: a folder of Parquet shards, each whole or absent, and what resume and the tally
read back from it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from summarize.documents import Input, Result
from summarize.errors import SummarizeError, first_line
from summarize.outputs.tables import result_schema
from summarize.storage import DATASET_SUFFIXES, Folder

SHARD_ROWS = 1024  # rows per shard: not a file per small batch; a run cut off redoes at most this many per writer


class ShardsSink:
    """--ray --output OUT/ as a Sink. Checked and read for resume when opened; Ray's write tasks
    write the shards (write_shard, each whole or absent: storage.Folder.write_tables); `write`
    gathers rows into shards of SHARD_ROWS for a caller outside Ray; `close` drops the old error
    rows of records this run redid, so each id keeps one row."""

    def __init__(self, out: Folder, old: list[str], done: set[str], row: type = Result):
        self.out, self.old, self.done_ids, self.row = out, old, frozenset(done), row  # row: the columns (result_row)
        self.run = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"  # a rerun's shards never take an earlier one's name
        self.pending: list[dict[str, Any]] = []
        self.written = 0
        self._rows: list[dict[str, Any]] | None = None

    @classmethod
    def open(cls, location: str, resume: bool, notify: Callable[[str], None], row: type = Result) -> ShardsSink:
        out = Folder.at(location)
        if str(location).lower().endswith(DATASET_SUFFIXES) and out.kind() == "absent":  # OUT.parquet/ (a slash) is a folder as asked
            raise SummarizeError(
                f"--output {location}: with --ray, the output is a folder of Parquet shards and this name looks like a file; "
                "give a folder name (OUT/), or leave out --ray for one dataset file"
            )
        old = _check_output(out, resume)
        done = _done_ids(out, old, notify) if resume else set()
        return cls(out, _shards(out), done, row)  # less any shard moved aside as broken

    @property
    def rows_per_shard(self) -> int:
        return SHARD_ROWS  # read when asked: a test (or a caller) may set it smaller

    def done(self, item: Input) -> bool:
        return item.key in self.done_ids

    def write(self, item: Input, result: Result) -> None:
        self.pending.append({**result.to_dict(), "id": item.key})
        if len(self.pending) >= self.rows_per_shard:
            self._flush()

    def write_shard(self, task: int, tables: Iterator[Any]) -> int:
        """One Ray write task's rows as one shard; what cannot be written is the run's one-line error."""
        import pyarrow as pa

        schema, name = result_schema(pa, self.row), f"{self.run}-{task:06d}.parquet"
        try:
            return self.out.write_tables(name, (table.select(schema.names).cast(schema) for table in tables), schema)
        except OSError as e:  # a full disk, lost permissions
            raise SummarizeError(
                f"--output {self.out.shown(name)}: cannot write this shard ({first_line(e)}); "
                "the shards written so far are kept: free space or fix access, then rerun with --skip-existing"
            ) from None

    def new_rows(self) -> list[dict[str, Any]]:
        """The id, source and error of every row this run wrote, read back once from its shards."""
        if self._rows is None:
            new = sorted(set(_shards(self.out)) - set(self.old))
            self._rows = [row for name in new for row in _read_shard(self.out, name, ["id", "source", "error"]) or []]
        return self._rows

    def refuse_repeats(self, order: dict[str, int]) -> None:
        """Records of different files with one id (Ray's read tasks check ids within a file only):
        the first, in input order (`order`: a file's place among the inputs), keeps its row; each
        later one's row becomes its error naming the first, as a local run has it."""
        by_id: dict[str, list[dict[str, Any]]] = {}
        for row in self.new_rows():
            by_id.setdefault(row["id"], []).append(row)
        place = lambda row: (order.get(row["source"].rpartition("#")[0], len(order)), row["source"])  # noqa: E731
        later: dict[tuple[str, str], str] = {}
        for rid, rows in by_id.items():
            first, *rest = sorted(rows, key=place) if len(rows) > 1 else rows
            for row in rest:
                if row["source"] == first["source"]:
                    continue  # a repeat within one file: its read task made it an error row already
                later[(rid, row["source"])] = (
                    f"{row['source']}: id {rid!r} again (first at {first['source']}); ids must be unique — pick a column of unique ids with --id-field"
                )
        if later:
            _replace_rows(self.out, sorted(set(_shards(self.out)) - set(self.old)), later)
            self._rows = None

    def close(self, ok: bool) -> None:
        if not ok:
            return
        self._flush()
        _drop_redone_errors(self.out, self.old, {row["id"] for row in self.new_rows()})

    def _flush(self) -> None:
        if not self.pending:
            return
        import pyarrow as pa

        table = pa.Table.from_pylist(self.pending, schema=result_schema(pa, self.row))
        self.write_shard(10**6 + self.written, iter([table]))  # past any Ray task's number
        self.written += 1
        self.pending, self._rows = [], None


def _check_output(out: Folder, resume: bool) -> list[str]:
    """OUT/ must be a folder of our shards (or new); shards there without --skip-existing would be doubled."""
    if out.kind() == "file":
        raise SummarizeError(f"--output {out.location}: with --ray, the output is a folder of Parquet shards; give a folder")
    names = out.names()
    others = [name for name in names if not name.endswith((".parquet", ".broken")) and not name.startswith(".")]
    if others:
        raise SummarizeError(f"--output {out.location}: holds files that are not Parquet shards ({others[0]}…); give an empty or new folder")
    shards = _shards(out, names)
    if shards and not resume:
        raise SummarizeError(
            f"--output {out.location}: already holds {len(shards)} shards of an earlier run; add --skip-existing to resume it, or give a new folder"
        )
    for name in names:
        if resume and name.startswith(".") and name.endswith(".part"):
            out.delete(name)  # a write a kill cut off (storage.Folder.write_tables): its records are redone
    out.check_writable("--output")
    return shards


def _shards(out: Folder, names: list[str] | None = None) -> list[str]:
    return [name for name in (out.names() if names is None else names) if name.endswith(".parquet") and not name.startswith(".")]


def _read_shard(out: Folder, name: str, columns: list[str]) -> list[dict[str, Any]] | None:
    """A shard's rows (only `columns`); None when it cannot be read (damaged, or not ours)."""
    import pyarrow as pa

    try:
        return out.read_table(name, columns).to_pylist()
    except (pa.ArrowException, OSError):
        return None


def _done_ids(out: Folder, shards: list[str], notify: Callable[[str], None]) -> set[str]:
    """Ids OUT/ holds without an error; a shard that cannot be read is moved aside, and said so."""
    done: set[str] = set()
    for name in shards:
        rows = _read_shard(out, name, ["id", "error"])
        if rows is None:
            out.move(name, f"{name}.broken")
            notify(f"warning: {out.shown(name)}: cannot be read (damaged?); moved to {name}.broken, its records are redone")
            continue
        done.update(row["id"] for row in rows if row["error"] is None)
    return done


def _drop_redone_errors(out: Folder, old: list[str], redone: set[str]) -> None:
    """A failed record redone by this run (its id in `redone`) keeps only its new row: its old error row goes."""
    import pyarrow.compute as pc

    for name in old if redone else ():
        rows = _read_shard(out, name, ["id", "error"])
        if not rows or not any(row["error"] is not None and row["id"] in redone for row in rows):
            continue
        table = out.read_table(name)
        keep = pc.invert(pc.and_(pc.is_valid(table["error"]), pc.is_in(table["id"], value_set=_array(redone))))
        out.replace_table(name, table.filter(keep))


def _replace_rows(out: Folder, shards: list[str], errors: dict[tuple[str, str], str]) -> None:
    """The rows keyed (id, source) in `errors` become error rows with those messages, in whichever shard holds them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for name in shards:
        table = out.read_table(name)
        keys = list(zip(table["id"].to_pylist(), table["source"].to_pylist(), strict=True))
        hit = [key in errors for key in keys]
        if not any(hit):
            continue
        failed = [{**Result(source, error=errors[(rid, source)]).to_dict(), "id": rid} for (rid, source), h in zip(keys, hit, strict=True) if h]
        kept = table.filter(pc.invert(pa.array(hit)))
        out.replace_table(name, pa.concat_tables([kept, pa.Table.from_pylist(failed, schema=kept.schema)]))  # the shard's own columns


def _array(values: set[str]) -> Any:
    import pyarrow as pa

    return pa.array(sorted(values), pa.string())
