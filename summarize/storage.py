"""Storage: local paths and object-store URIs (s3://, gs://, hdfs://, abfs://) behind one interface,
and the kinds of file that inputs and outputs both know (datasets, our own results).

A corpus on a cluster lives where every node can read it, usually an object store, and --ray's
shards go where every node can write. pyarrow's filesystems (the ones Ray Data itself uses) reach
them all; credentials come from each one's usual places (AWS_* and ~/.aws, AWS_ENDPOINT_URL for
MinIO and other S3-compatible stores, GOOGLE_APPLICATION_CREDENTIALS, …). pyarrow is imported only
when a URI is used, so plain local runs never pay for it.
"""

from __future__ import annotations

import fnmatch
import io
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import quote

from summarize.errors import SummarizeError, first_line

URL_SCHEMES = ("http://", "https://")  # web pages, fetched by inputs.web rather than read as storage
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
GLOB_MAGIC = re.compile(r"[*?[]")
GCS_RETRY_S = 15  # how long a gs:// call retries before it is an error


def is_uri(given: str | Path) -> bool:
    """An object-store URI such as s3://bucket/key: not a local path, not a web page."""
    return isinstance(given, str) and bool(_SCHEME.match(given)) and not given.lower().startswith(URL_SCHEMES)


def suffix(location: str | Path) -> str:
    return PurePosixPath(str(location).split("?", 1)[0]).suffix.lower()


def exists(location: str) -> bool:
    """Whether a path or URI names something (a storage error counts as no: reading it says why)."""
    if not is_uri(location):
        return Path(location).exists()
    try:
        return Folder.at(location).kind() != "absent"
    except SummarizeError:
        return False


def split_glob(given: str) -> tuple[str, str] | None:
    """'s3://b/news/*.jsonl' → ('s3://b/news', '*.jsonl'): a wildcard in the last part of a path is
    a folder and a --glob. None when there is no wildcard; an error when one is higher up."""
    head, _, last = given.rstrip("/").rpartition("/")
    if not GLOB_MAGIC.search(given):
        return None
    head = head or ("" if is_uri(given) else ".")  # a bare '*.txt': this folder
    if GLOB_MAGIC.search(head) or not head:
        raise SummarizeError(
            f"{given}: a wildcard may only be in the last part of the path; give the folder with --glob PATTERN (and --recursive for subfolders)"
        )
    return head, last


def _filesystem(uri: str) -> tuple[Any, str]:
    try:
        import pyarrow.fs as pafs
    except ImportError:
        raise SummarizeError(f"{uri}: storage URIs are read with pyarrow; install it with pip install 'summarize[corpus]'") from None
    scheme, _, rest = uri.partition("://")
    authority, slash, key = rest.partition("/")
    key, mark, query = key.partition("?")
    if scheme.lower() in ("gs", "gcs") and "retry_limit_seconds=" not in query:
        # pyarrow's default retries go on for many minutes, e.g. on a machine with no Google credentials.
        query, mark = "&".join(filter(None, [query, f"retry_limit_seconds={GCS_RETRY_S}"])), "?"
    # A key is taken as written (as `aws s3` does): spaces, Cyrillic, brackets and '%' are escaped for
    # pyarrow's URI parser, which refuses them raw and decodes them back.
    try:
        return pafs.FileSystem.from_uri(f"{scheme}://{authority}{slash}{quote(key, safe='/')}{mark}{query}")
    except Exception as e:  # noqa: BLE001 - pyarrow raises ArrowInvalid, OSError or ImportError by scheme
        raise SummarizeError(
            f"{uri}: cannot open this storage ({first_line(e)}); check the URI (s3://, gs://, hdfs:// and abfs:// are known) and its credentials"
        ) from None


def list_files(uri: str, pattern: str, recursive: bool) -> list[tuple[str, PurePosixPath]]:
    """The files under a URI that match the pattern, as (URI, path inside it); a file URI is itself.

    Matching follows Path.glob (the name) without --recursive and Path.rglob (any depth) with it;
    hidden files and folders are left out, as for local folders."""
    import pyarrow.fs as pafs

    fs, base = _filesystem(uri)
    info = _checked(uri, lambda: fs.get_file_info(base))
    if info.type == pafs.FileType.File:
        return [(uri, PurePosixPath(PurePosixPath(base).name))]
    if info.type != pafs.FileType.Directory:
        raise SummarizeError(f"{uri}: no such file or folder; check the URI (and that your credentials can list it)")
    selector = pafs.FileSelector(base, recursive=recursive)
    root = uri.rstrip("/")
    found = []
    for entry in _checked(uri, lambda: fs.get_file_info(selector)):
        rel = PurePosixPath(entry.path).relative_to(base.rstrip("/") or "/")
        if entry.type != pafs.FileType.File or any(part.startswith(".") for part in rel.parts):
            continue
        if rel.match(pattern) if recursive else (len(rel.parts) == 1 and fnmatch.fnmatchcase(rel.name, pattern)):
            found.append((f"{root}/{rel.as_posix()}", rel))
    return found


def read_bytes(location: str, limit: int) -> bytes:
    """At most `limit` bytes of a file at a URI."""
    with open_input(location) as f:
        return f.read(limit)


def open_input(location: str | Path) -> BinaryIO:
    """A local path or a URI, opened for buffered, streamed reading (readline included)."""
    if not is_uri(location):
        return open(location, "rb")
    fs, path = _filesystem(str(location))
    return io.BufferedReader(_checked(str(location), lambda: fs.open_input_stream(path, compression=None)))


def arrow_location(location: str | Path) -> tuple[Any, str]:
    """(filesystem, path) for pyarrow's readers: None and the path itself for a local file."""
    return _filesystem(str(location)) if is_uri(location) else (None, str(location))


def _checked(uri: str, call: Any) -> Any:
    try:
        return call()
    except FileNotFoundError:
        raise SummarizeError(f"{uri}: no such file or folder; check the URI") from None
    except OSError as e:
        raise SummarizeError(f"{uri}: cannot read it ({first_line(e)}); check the URI and your credentials") from None


@dataclass(frozen=True)
class Folder:
    """A folder of files on a local disk or in an object store, by name; picklable, so Ray's write
    tasks get it. What it writes is whole or absent (see write_tables)."""

    location: str  # as the user gave it, for messages
    fs: Any
    path: str

    @classmethod
    def at(cls, location: str | Path) -> Folder:
        if is_uri(location):
            fs, path = _filesystem(str(location))
            return cls(str(location).rstrip("/"), fs, path.rstrip("/"))
        import pyarrow.fs as pafs

        return cls(str(location), pafs.LocalFileSystem(), os.path.abspath(location))

    def shown(self, name: str) -> str:
        return f"{self.location.rstrip('/')}/{name}"

    def kind(self) -> str:
        """'folder', 'file' or 'absent'."""
        import pyarrow.fs as pafs

        kind = _checked(self.location, lambda: self.fs.get_file_info(self.path)).type
        return {pafs.FileType.Directory: "folder", pafs.FileType.NotFound: "absent"}.get(kind, "file")

    def names(self) -> list[str]:
        """The names of the files directly inside, sorted; none when the folder is absent."""
        import pyarrow.fs as pafs

        if self.kind() != "folder":
            return []
        entries = _checked(self.location, lambda: self.fs.get_file_info(pafs.FileSelector(self.path)))
        return sorted(PurePosixPath(e.path).name for e in entries if e.type == pafs.FileType.File)

    def check_writable(self, option: str) -> None:
        """Before any work: the folder exists or can be made, and a file can be written in it."""
        probe = self._at(f".summarize-probe-{uuid.uuid4().hex[:8]}")
        try:
            self.fs.create_dir(self.path, recursive=True)
            with self.fs.open_output_stream(probe) as f:
                f.write(b"")
            self.fs.delete_file(probe)
        except OSError as e:
            raise SummarizeError(
                f"{option} {self.location}: cannot write there ({first_line(e)}); check that the folder or bucket exists and that you may write to it"
            ) from None

    def read_table(self, name: str, columns: list[str] | None = None) -> Any:
        """A Parquet file's table; raises pyarrow's error when it cannot be read."""
        import pyarrow.parquet as pq

        return pq.read_table(self._at(name), columns=columns, filesystem=self.fs)

    def write_tables(self, name: str, tables: Iterator[Any], schema: Any) -> int:
        """Stream tables into one Parquet file, whole or not at all; the rows written (none: no file).

        The rows go to a hidden temporary file first, renamed (an object store: copied) into place once
        complete, so a write cut off by a kill leaves only a hidden .part file, never a damaged shard."""
        import pyarrow.parquet as pq

        temp = self._at(f".{name}.{uuid.uuid4().hex[:8]}.part")
        self.fs.create_dir(self.path, recursive=True)
        rows, writer = 0, None
        try:
            for table in tables:
                if table.num_rows:
                    writer = writer or pq.ParquetWriter(temp, schema, filesystem=self.fs)
                    writer.write_table(table)
                    rows += table.num_rows
        except BaseException:
            if writer is not None:
                writer.close()
                self.fs.delete_file(temp)
            raise
        if writer is not None:
            writer.close()
            self.fs.move(temp, self._at(name))
        return rows

    def replace_table(self, name: str, table: Any) -> None:
        """Rewrite one file with a table (none left when it has no rows), never half-written."""
        if not self.write_tables(name, iter([table]), table.schema):
            self.delete(name)

    def delete(self, name: str) -> None:
        self.fs.delete_file(self._at(name))

    def move(self, name: str, new_name: str) -> None:
        self.fs.move(self._at(name), self._at(new_name))

    def _at(self, name: str) -> str:
        return f"{self.path}/{name}"


INSTALL_PYARROW = "pip install 'summarize[corpus]'"


def import_pyarrow(path: Path | str) -> tuple[Any, Any]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise SummarizeError(f"{path}: Parquet needs pyarrow; install it with {INSTALL_PYARROW}") from None
    return pyarrow, pyarrow.parquet


DATASET_SUFFIXES = (".jsonl", ".csv", ".parquet")


BATCH_ROWS = 256  # Parquet rows read at once: a few MB of articles, whatever the row groups' size


RESULT_MARK = ".summary"  # before the extension of results written into an input folder


def is_dataset(path: Path | str) -> bool:
    return suffix(path) in DATASET_SUFFIXES
