"""Storage: local paths and object-store URIs (s3://, gs://, hdfs://, abfs://) behind one interface,
and the kinds of file that inputs and outputs both know (datasets, our own results).

A corpus on a cluster lives where every node can read it, usually an object store, and --ray's
shards go where every node can write. pyarrow's filesystems (the ones Ray Data itself uses) reach
them all; credentials come from each one's usual places (AWS_* and ~/.aws, AWS_ENDPOINT_URL for
MinIO and other S3-compatible stores, GOOGLE_APPLICATION_CREDENTIALS, …). pyarrow is imported only
when a URI is used, so plain local runs never pay for it.
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import os
import re
import sys
import tempfile
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
# The options pyarrow's filesystems read from a URI's query (s3, gs, abfs, hdfs): after a '?', anything
# else is part of the key ('what?.txt' is a name, '?region=eu-west-1' an option).
URI_OPTIONS = frozenset(
    "region scheme endpoint_override allow_bucket_creation allow_bucket_deletion tls_ca_file_path tls_verify_certificates "
    "retry_limit_seconds project_id default_bucket_location blob_storage_authority dfs_storage_authority blob_storage_scheme "
    "dfs_storage_scheme enable_tls credential_kind tenant_id client_id client_secret account_name account_key sas_token "
    "background_writes replication buffer_size default_block_size kerb_ticket user".split()
)
# Query parameters whose values are secrets (access tokens, signed-URL signatures, passwords): never shown.
SECRET_PARAM = re.compile(r"token|key|sig|pass|pwd|secret|auth|credential|session", re.IGNORECASE)
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)([^/?#@\s]*)@")
_PARAM = re.compile(r"([?&#;])([^=&#;?\s]+)=([^&#;\s]*)")


def redact(text: str) -> str:
    """A URL or URI (or a message holding some) as it may be shown or stored: 'user:password@' and the
    values of secret query parameters (token=, key=, sig=, password=…) become '***'. Text with no
    '://' in it (a local path) is left as it is. A web address's lone user name is hidden too (often
    a token), a storage URI's is not (abfs://CONTAINER@account…)."""
    if "://" not in text:
        return text
    text = _USERINFO.sub(lambda m: f"{m[1]}***@" if ":" in m[2] or m[1].lower().startswith(URL_SCHEMES) else m[0], text)
    return _PARAM.sub(lambda m: f"{m[1]}{m[2]}=***" if SECRET_PARAM.search(m[2]) and m[3] else m[0], text)


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
        raise SummarizeError(f"{redact(uri)}: storage URIs are read with pyarrow; install it with pip install 'summarize[corpus]'") from None
    scheme, _, rest = uri.partition("://")
    scheme = scheme.lower()  # S3:// is s3://
    authority, slash, key = rest.partition("/")
    key, query = _split_options(key)
    if scheme in ("gs", "gcs") and "retry_limit_seconds=" not in query:
        # pyarrow's default retries go on for many minutes, e.g. on a machine with no Google credentials.
        query = "&".join(filter(None, [query, f"retry_limit_seconds={GCS_RETRY_S}"]))
    # A key is taken as written (as `aws s3` does): spaces, Cyrillic, brackets, '%', '?' and '#' are
    # escaped for pyarrow's URI parser, which refuses them raw (or takes them as a query) and decodes them back.
    try:
        return pafs.FileSystem.from_uri(f"{scheme}://{authority}{slash}{quote(key, safe='/')}{'?' if query else ''}{query}")
    except Exception as e:  # noqa: BLE001 - pyarrow raises ArrowInvalid, OSError or ImportError by scheme
        raise SummarizeError(
            f"{redact(uri)}: cannot open this storage ({first_line(e)}); check the URI (s3://, gs://, hdfs:// and abfs:// are known) and its credentials"
        ) from None


def _split_options(key: str) -> tuple[str, str]:
    """'news/a.txt?region=x' → ('news/a.txt', 'region=x'); 'news/what?.txt' is all key."""
    head, mark, tail = key.rpartition("?")
    if mark and tail and all(part.partition("=")[0] in URI_OPTIONS and "=" in part for part in tail.split("&")):
        return head, tail
    return key, ""


def list_files(uri: str, pattern: str, recursive: bool) -> list[tuple[str, PurePosixPath]]:
    """The files under a URI that match the pattern, as (URI, path inside it); a file URI is itself.

    Matching follows Path.glob (the name) without --recursive and Path.rglob (any depth) with it;
    hidden files and folders are left out, as for local folders."""
    import pyarrow.fs as pafs

    fs, base = _filesystem(uri)
    if base == "":  # s3:// alone (a file system's root, hdfs://host/, is '/')
        scheme = uri.partition("://")[0].lower()
        raise SummarizeError(f"{redact(uri)}: names no bucket; give a bucket and a folder or file in it, such as {scheme}://BUCKET/news/")
    info = _checked(uri, lambda: fs.get_file_info(base))
    if info.type == pafs.FileType.File:
        return [(uri, PurePosixPath(PurePosixPath(base).name))]
    if info.type != pafs.FileType.Directory:
        raise SummarizeError(f"{redact(uri)}: no such file or folder; check the URI (and that your credentials can list it)")
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
    fs, path = _filesystem(location)

    def read() -> bytes:
        with fs.open_input_stream(path, compression=None) as f:
            return f.read(limit)

    return _checked(location, read)


def open_input(location: str | Path) -> BinaryIO:
    """A local path or a URI, opened for buffered, streamed reading (readline included)."""
    if not is_uri(location):
        return open(location, "rb")
    fs, path = _filesystem(str(location))
    return io.BufferedReader(_checked(str(location), lambda: fs.open_input_stream(path, compression=None)))


def arrow_location(location: str | Path) -> tuple[Any, str]:
    """(filesystem, path) for pyarrow's readers: None and the path itself for a local file."""
    return _filesystem(str(location)) if is_uri(location) else (None, str(location))


def storage_errors() -> tuple[type[BaseException], ...]:
    """What a storage call can raise: OSError, and once pyarrow is loaded its own base error (an Azure
    credential failure is an ArrowException that is neither OSError nor ValueError)."""
    lib = sys.modules.get("pyarrow.lib")
    return (OSError, lib.ArrowException) if lib is not None else (OSError,)


# Stores that failed before they ever answered (no credentials, unreachable), with the reason: every
# later input of that store gets the same answer at once instead of another round of retries.
_UNREACHABLE: dict[tuple, str] = {}
_ANSWERED: set[tuple] = set()
_CREDENTIAL_ERROR = re.compile(r"credential|access token|authenticat|access ?denied|forbidden|InvalidAccessKeyId|SignatureDoesNotMatch", re.IGNORECASE)
MANGLED_NAME = re.compile(r"\bN\d\w*E:\s*")  # a C++ type name as typeid prints it
CREDENTIALS_HINT = {
    "s3": "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or ~/.aws (and AWS_ENDPOINT_URL for MinIO)",
    "gs": "set GOOGLE_APPLICATION_CREDENTIALS or run gcloud auth application-default login",
    "gcs": "set GOOGLE_APPLICATION_CREDENTIALS or run gcloud auth application-default login",
    "abfs": "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or run az login",
    "abfss": "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or run az login",
}


def _store(uri: str) -> tuple:
    """A store (scheme and bucket) with the settings that reach it: credentials come from the environment."""
    scheme, _, rest = uri.partition("://")
    settings = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(("AWS_", "GOOGLE_", "AZURE_", "HADOOP_"))))
    return scheme.lower(), rest.partition("/")[0].partition("?")[0], settings


def _checked(uri: str, call: Any) -> Any:
    """A storage call, its failures as one line; a store that failed before it ever answered is not asked again."""
    if not is_uri(uri):
        return _as_error(uri, call)
    store = _store(uri)
    if store in _UNREACHABLE:
        raise SummarizeError(f"{redact(uri)}: {_UNREACHABLE[store]}")
    try:
        with _quiet_children() if store not in _ANSWERED else contextlib.nullcontext():  # credentials are sought on first contact
            got = _as_error(uri, call)
    except _StoreError as e:
        if store not in _ANSWERED:
            _UNREACHABLE[store] = e.reason
        raise SummarizeError(f"{redact(uri)}: {e.reason}") from None
    _ANSWERED.add(store)
    return got


class _StoreError(SummarizeError):
    def __init__(self, uri: str, reason: str) -> None:
        super().__init__(f"{redact(uri)}: {reason}")
        self.reason = reason


def _as_error(uri: str, call: Any) -> Any:
    try:
        return call()
    except FileNotFoundError:
        raise SummarizeError(f"{redact(uri)}: no such file or folder; check the URI") from None
    except storage_errors() as e:
        # google-cloud-cpp's status wraps the cause: "…Retry policy exhausted, with a last message of CAUSE. More…"
        # and the Azure SDK's names its C++ exception type (N5Azure4Core…E:): neither helps a reader.
        cause = MANGLED_NAME.sub("", str(e).split("last message of ")[-1].split(". ")[0]).removeprefix("Unknown error: ")
        detail = first_line(RuntimeError(cause), 160)
        scheme = uri.partition("://")[0].lower()
        if _CREDENTIAL_ERROR.search(str(e)) and scheme in CREDENTIALS_HINT:
            raise _StoreError(uri, f"cannot read it: no usable credentials ({detail}); {CREDENTIALS_HINT[scheme]}") from None
        raise _StoreError(uri, f"cannot read it ({detail}); check the URI and your credentials") from None


@contextlib.contextmanager
def _quiet_children() -> Iterator[None]:
    """Keeps what helper programs write to stderr off the terminal: an Azure credential chain runs
    the az CLI ('/bin/sh: az: not found'), a JVM for HDFS logs; their failure is our one line."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to keep quiet
        yield
        return
    sys.stderr.flush()
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


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
        except storage_errors() as e:
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
