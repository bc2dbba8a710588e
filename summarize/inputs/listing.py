"""Where the articles of a run are: paths, folders (globbed, in natural order), stdin, web addresses and
storage URIs, found but not read yet, so that big batches stream."""

from __future__ import annotations

import re
import sys
from pathlib import Path, PurePath, PurePosixPath

from summarize.documents import Input
from summarize.errors import SummarizeError
from summarize.storage import (
    GLOB_MAGIC,
    RESULT_MARK,
    URL_SCHEMES,
    exists,
    is_uri,
    list_files,
    redact,
    split_glob,
)

STDIN = "-"


DEFAULT_GLOB = "*.txt"  # the files of a folder that are taken when no --glob says otherwise


def list_inputs(paths: list[str], pattern: str | None = None, recursive: bool = False, skip: Path | None = None, notes: list[str] | None = None) -> list[Input]:
    """Expand files, folders and storage URIs ('-' is stdin). Folders are listed in natural order (a2
    before a10), hidden files, our own results (*.summary.*) and anything under `skip` (the run's
    output folder) left out; what was left out that a user might miss is said in `notes`. A
    wildcard in the last part of a path ('news/*.jsonl', quoted) is its folder with that pattern;
    `pattern` (--glob, else DEFAULT_GLOB) is for the folders given without one."""
    if pattern is not None:
        _check_pattern(pattern)
    inputs: list[Input] = []
    for given in paths:
        if given == STDIN:
            inputs.append(Input("stdin", None, PurePath("stdin")))
            continue
        if given.lower().startswith(URL_SCHEMES):  # HTTP:// is http://
            inputs.append(Input(shown(redact(given)), None, _url_name(given), url=given))
            continue
        # A name with wildcard characters that exists as it is (a file 'a[1].txt') is that name.
        globbed = split_glob(given) if GLOB_MAGIC.search(given) and not exists(given) else None
        if globbed and pattern is not None:
            raise SummarizeError(f"{given}: has a wildcard, and --glob {pattern!r} is given too; give the pattern once")
        folder, wanted = globbed or (given, pattern or DEFAULT_GLOB)
        _check_pattern(wanted)
        if is_uri(given):
            inputs.extend(_list_uri(given, folder, wanted, recursive))
            continue
        path = Path(folder)
        if path.is_dir():
            inputs.extend(_list_folder(folder, path, wanted, recursive, skip, [] if notes is None else notes))
        elif path.exists():
            inputs.append(Input(shown(given), path, PurePath(path.name)))
        else:
            inputs.append(Input(shown(given), path, PurePath(path.name), f"no such file or folder; {_missing_hint(given)}"))
    return inputs


def read_path_list(path: Path) -> list[str]:
    """--input-file: a path or URL a line; blank lines and '#' comments skipped; '-' is stdin."""
    try:
        lines = (sys.stdin.read() if str(path) == STDIN else path.read_text(encoding="utf-8-sig")).splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise SummarizeError(
            f"--input-file {path}: cannot read it ({getattr(e, 'strerror', None) or e}); give a UTF-8 text file, one path or URL a line"
        ) from None
    return [entry for entry in (INLINE_COMMENT.sub("", line).strip() for line in lines) if entry and not entry.startswith("#")]


INLINE_COMMENT = re.compile(r"\s#.*$")  # 'URL  # note'; a '#' with no space before it (a URL's #fragment) stays


# A path whose first part looks like a web host ('www.example.com/news', 'lenta.ru/news/1'): a URL without its scheme.
HOST_LIKE = re.compile(r"^(www\.[^/\s]+|[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,24}/.*)$", re.IGNORECASE)
FILE_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".xhtml", ".jsonl", ".json", ".csv", ".parquet")


def _missing_hint(given: str) -> str:
    """What to do about a path that is not there: a URL given without https:// is said to be one."""
    first = given.split("/", 1)[0]
    if HOST_LIKE.match(given) and not first.lower().endswith(FILE_SUFFIXES):
        return f"check the path (did you mean https://{given}?)"
    return "check the path"


def drop_repeats(inputs: list[Input]) -> tuple[list[Input], list[str]]:
    """Each file (or stdin) once, however often it was given; a note for each repeat."""
    seen: set[object] = set()
    kept, notes = [], []
    for item in inputs:
        key = _identity(item)
        if key is not None and key in seen:
            notes.append(f"{item.source}: given more than once; summarised once")
            continue
        seen.add(key)
        kept.append(item)
    return kept, notes


def _identity(item: Input) -> object:
    if item.url is not None or item.uri is not None:
        return item.url or item.uri
    if item.path is None:
        return "stdin"
    try:
        status = item.path.stat()  # the same file through a symlink or a hard link is one file
    except OSError:
        return None
    return (status.st_dev, status.st_ino)


def _check_pattern(pattern: str) -> None:
    if not pattern or Path(pattern).is_absolute() or ".." in Path(pattern).parts:
        raise SummarizeError(f"--glob {pattern!r}: give a pattern for names inside the folder, such as '*.txt' or 'news-*.txt'")


def _list_folder(given: str, folder: Path, pattern: str, recursive: bool, skip: Path | None, notes: list[str]) -> list[Input]:
    found = folder.rglob(pattern) if recursive else folder.glob(pattern)
    # An output folder inside an input folder is never walked: its files are results, not news.
    # Results written into an input folder are named *.summary.*: never articles, whatever this run's output.
    same = skip is not None and skip.resolve() == folder.resolve()
    skipped = skip.resolve() if skip and not same else None
    candidates = [
        p.relative_to(folder)
        for p in found
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts) and not (skipped and p.resolve().is_relative_to(skipped))
    ]
    results = [rel for rel in candidates if rel.stem.endswith(RESULT_MARK)]
    if results and not same:
        notes.append(
            f"{shown(given)}: left out {len(results)} file(s) named *{RESULT_MARK}.* ({shown(str(results[0]))}…): results of an earlier run; name a file to summarise it"
        )
    files = sorted((rel for rel in candidates if not rel.stem.endswith(RESULT_MARK)), key=_natural)
    if not files:
        where = "in it or its subfolders" if recursive else "in it (add --recursive for subfolders)"
        return [Input(shown(given), folder, PurePath(folder.name), f"no files match {pattern!r} {where}; use --glob to pick others")]
    return [Input(shown(str(folder / rel)), folder / rel, rel) for rel in files]


def _list_uri(given: str, folder: str, pattern: str, recursive: bool) -> list[Input]:
    """A storage URI's files (itself, or those under it that match), in natural order."""
    try:
        found = sorted(list_files(folder, pattern, recursive), key=lambda pair: _natural(pair[1]))
    except SummarizeError as e:
        return [Input(shown(redact(given)), None, PurePath(PurePosixPath(folder).name), str(e).removeprefix(f"{redact(folder)}: "), uri=given)]
    if not found:
        where = "under it" if recursive else "in it (add --recursive for subfolders)"
        return [
            Input(shown(redact(given)), None, PurePath(PurePosixPath(folder).name), f"no files match {pattern!r} {where}; use --glob to pick others", uri=given)
        ]
    return [Input(redact(uri), None, PurePath(rel), uri=uri) for uri, rel in found]


def _natural(path: PurePath) -> list[tuple[int, object]]:
    """a2 before a10: runs of digits compare as numbers."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", path.as_posix())]


def shown(path: str) -> str:
    """A path as it can be printed and stored as UTF-8: bytes of a non-UTF-8 file name (which
    Python keeps as lone surrogates) become \\xNN escapes."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _url_name(url: str) -> PurePath:
    """A page's name for --output-dir: host and path, as folders and a file (never a user:password@)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    *folders, last = [p for p in parts.path.split("/") if p] or ["index"]
    return PurePath(parts.netloc.rpartition("@")[2], *folders, last.rsplit(".", 1)[0] or "index")
