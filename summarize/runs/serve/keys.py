"""Named keys: the tokens a server lets in, each with a name that the access log and the metrics show
in its place (the token itself is never written anywhere). They come from --token (the key named
"token") and --tokens-file (one 'NAME TOKEN' a line), the file re-read on SIGHUP, as an operator
rotates keys without a restart; a re-read that finds the file bad keeps the keys in use and says why."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import signal
import threading
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

from summarize.errors import SummarizeError

if TYPE_CHECKING:
    from summarize.flags import ServeFlags

TOKEN_KEY = "token"  # --token's name, as the log and the metrics show it
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # what a log line and a Prometheus label carry as they are
KEY: ContextVar[str | None] = ContextVar("summarize_key", default=None)  # the key of the request being answered


def read_tokens_file(path: Path) -> dict[str, str]:
    """The file's keys, token → name; SummarizeError (one line, never a token in it) when the file
    cannot be read, a line is not 'NAME TOKEN', or a name or a token is there twice."""
    where = f"--tokens-file {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = "not UTF-8 text" if isinstance(e, UnicodeDecodeError) else (e.strerror or type(e).__name__).lower()
        raise SummarizeError(f"{where}: cannot be read ({reason}); give a readable file of 'NAME TOKEN' lines") from None
    keys: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        words = line.split()
        if len(words) != 2:
            raise SummarizeError(f"{where}: line {number} is not 'NAME TOKEN' (a name, a space, a token; '#' starts a comment line)")
        name, token = words
        if not NAME.fullmatch(name):
            raise SummarizeError(f"{where}: line {number}: a key's name is letters, digits, '.', '_' and '-' (at most 64), starting with a letter or digit")
        if not (token.isascii() and token.isprintable()):
            raise SummarizeError(f"{where}: line {number}: the token of {name} holds characters an HTTP header cannot carry; use printable ASCII")
        if name in keys.values():
            raise SummarizeError(f"{where}: line {number}: the name {name} is there twice; give every key its own name")
        if token in keys:
            raise SummarizeError(f"{where}: line {number}: {name} has the token of {keys[token]}; give every key its own token")
        keys[token] = name
    if not keys:
        raise SummarizeError(f"{where}: has no keys; write one 'NAME TOKEN' a line")
    return keys


def check_access_flags(flags: ServeFlags) -> None:
    """Before anything starts: the keys file read (one line if it is bad), and what keys and the rate
    limit cannot do yet: under Ray Serve each replica would keep a limit of its own (N replicas, N
    times the rate) and no replica can hear a SIGHUP."""
    if flags.ray and (flags.tokens_file or flags.requests_per_minute):
        flag = "--tokens-file" if flags.tokens_file else "--requests-per-minute"
        raise SummarizeError(f"{flag} is not for --ray yet (each replica would keep its own); serve without --ray, or leave {flag} out")
    if flags.tokens_file:
        Keys(flags.token, flags.tokens_file, lambda line: None)


class Keys:
    """Who a token is: its key's name, or None. Every known token is compared, each in constant time
    (as digests, so that neither the length nor the place of a match shows in how long it takes)."""

    def __init__(self, token: str | None, path: Path | None, notify: Callable[[str], None]):
        self.token, self.path, self.notify = token, path, notify
        self.known = self._read()

    def _read(self) -> dict[bytes, str]:
        named = read_tokens_file(self.path) if self.path else {}
        if self.token is not None:
            if self.token in named:
                raise SummarizeError(f"--tokens-file {self.path}: {named[self.token]} has the token given by --token; give every key its own token")
            if TOKEN_KEY in named.values():
                raise SummarizeError(f"--tokens-file {self.path}: the name {TOKEN_KEY} is --token's; name that key otherwise")
            named[self.token] = TOKEN_KEY
        return {_digest(token): name for token, name in named.items()}

    def who(self, credentials: str) -> str | None:
        given, found = _digest(credentials), None
        for digest, name in self.known.items():
            if hmac.compare_digest(digest, given):
                found = name
        return found

    def reload(self) -> None:
        """The file again (on SIGHUP): its keys from now on, or, when it is bad, the keys in use."""
        try:
            known = self._read()
        except SummarizeError as e:
            self.notify(f"warning: SIGHUP: {e}; the {len(self.known)} keys in use are kept")
            return
        self.known = known
        self.notify(f"SIGHUP: {len(known)} keys now ({', '.join(sorted(known.values()))}), read from {self.path}")

    def reload_on_sighup(self) -> None:
        """SIGHUP re-reads the file, in a thread of its own (a signal handler must not write to stderr
        while the main thread may be writing). Only a server's main thread can set it: elsewhere (a
        Ray replica, an app in a test's thread) the file is read once."""
        if self.path is None or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGHUP"):
            return
        signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=self.reload, name="summarize-keys", daemon=True).start())


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


class KeyInAccessLog(logging.Filter):
    """uvicorn's access line with the request's key at its end (` key=NAME`). uvicorn writes the line
    while the app sends its answer, in the request's own task, so the request's KEY is seen here."""

    def filter(self, record: logging.LogRecord) -> bool:
        name = KEY.get()
        if name is not None and isinstance(record.args, tuple):
            record.msg, record.args = f"{record.msg} key=%s", (*record.args, name)
        return True


ACCESS_LOG_FILTER = KeyInAccessLog()  # one, so that adding it again (an app per test) is a no-op
