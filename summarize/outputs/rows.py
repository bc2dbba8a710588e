"""A dataset file of rows of one dataclass (summarize eval's --save-predictions) as a sink: checked
before any work, never replacing a file without --overwrite, written whole at close (tables.TableFile:
a temporary file beside it, renamed over it) or not at all.

The rows wait in memory until close(), so a run that fails or is killed half-way leaves no file,
and no temporary file either."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from summarize.errors import SummarizeError
from summarize.outputs.files import check_output_file, check_writable
from summarize.outputs.tables import FORMATS, TableFile
from summarize.storage import DATASET_SUFFIXES


class RowsSink:
    """Rows of `row_type` (a dataclass) to `path`, in the format its extension names."""

    def __init__(self, path: Path, row_type: type) -> None:
        self.path, self.row_type = path, row_type
        # A symlinked file: its target is replaced, the link stays (as --output's, outputs.dataset).
        self.target = Path(os.path.realpath(path))
        self.rows: list[dict[str, Any]] = []

    @classmethod
    def open(cls, path: Path, option: str, row_type: type, reserved: Iterable[Path] = (), overwrite: bool = False) -> RowsSink:
        """Every check on `path` (named as `option` in messages) before any work: a dataset name,
        not an input of the run, not there unless `overwrite`, in a folder that takes new files."""
        if path.suffix.lower() not in FORMATS:
            raise SummarizeError(f"{option} {path}: a dataset must end in {', '.join(DATASET_SUFFIXES)}")
        check_output_file(path, option, list(reserved))
        if path.exists() and not overwrite:
            raise SummarizeError(f"{option} {path}: already exists; add --overwrite to replace it, or give another file")
        sink = cls(path, row_type)
        check_writable(sink.target, option)
        return sink

    def write(self, row: Any) -> None:
        """Keep one row (an instance of row_type) for the commit."""
        self.rows.append(dataclasses.asdict(row))

    def close(self, ok: bool) -> None:
        """ok: write every row, whole or not at all; not ok (the work failed): leave everything as it was."""
        rows, self.rows = self.rows, []
        if not ok:
            return
        try:
            table = TableFile(self.target, self.row_type, self.path.suffix)
        except OSError as e:
            raise SummarizeError(f"cannot write {self.path} ({e.strerror or e}); check the folder's permissions and free space") from None
        try:
            for row in rows:
                table.write(row)
        except BaseException:
            table.abandon()
            raise
        table.commit()

    def __enter__(self) -> RowsSink:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.close(ok=kind is None)
