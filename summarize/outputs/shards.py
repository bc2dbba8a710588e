"""--ray --output OUT/: a folder of Parquet shards, each whole or absent, and what resume and the tally
read back from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from summarize.documents import Tally
from summarize.errors import SummarizeError
from summarize.storage import Folder

SHARD_ROWS = 1024  # rows per shard: not a file per small batch; a run cut off redoes at most this many per writer


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


def _tally(rows: list[dict[str, Any]]) -> Tally:
    """The tally of this run's rows (their source and error)."""
    tally = Tally()
    for row in rows:
        if row["error"] is None:
            tally.done += 1
        else:
            tally.failures.append((row["source"], row["error"]))
    return tally


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


def _array(values: set[str]) -> Any:
    import pyarrow as pa

    return pa.array(sorted(values), pa.string())
