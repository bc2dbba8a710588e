"""A request body's shape, bounded before anything validates it. pydantic validates every item of a
list and makes an error of every unknown key: a 4 MB batch of 1.3 million `{}`, or an object of
300,000 keys, held the event loop for a minute and took gigabytes. This walk reads the body's
containers (the scalars with json's own C scanner, building nothing) and stops at the first
count past a request's shape: more documents than the batch limit, more keys than a request object
has, deeper than a request nests. What passes is small enough for FastAPI to parse and validate."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

BATCH = "/v1/summarize/batch"
BODIES = ("/v1/summarize", BATCH)  # the routes that take a body; any other answers without reading one
MAX_KEYS = 16  # a request object has 6 fields and its options 6: room to name a few unknown ones
MAX_ITEMS = 16  # of a list anywhere but a batch's top level (no request field is a list)
MAX_DEPTH = 4  # a batch's array, its objects, their options, one value: nothing a request sends is deeper
_SPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = json.JSONDecoder().scan_once  # one JSON value from an index; StopIteration where none is


class Refused(Exception):
    """A body no request can be: `too_large` (a batch over the limit: 413), else a wrong shape (422)."""

    def __init__(self, message: str, too_large: bool = False):
        super().__init__(message)
        self.message, self.too_large = message, too_large


class _Malformed(Exception):
    """Not JSON: not this walk's to say (FastAPI's parser names the place and the problem)."""


def check_shape(path: str, text: str, max_batch: int) -> Refused | None:
    """Why the body at `path` cannot be a request, if its size of structure says so; None when it
    may be (or is not JSON at all: FastAPI's parser says so as it always does)."""
    walk = _Walk(text, max_batch if path == BATCH else None)
    try:
        walk.value(_SPACE.match(text).end(), 1, "")
    except (_Malformed, ValueError):  # ValueError: json's scanner on a key cut off ('{"tex'), a JSONDecodeError
        return None
    except Refused as e:
        return e
    return None


@dataclass
class _Walk:
    text: str
    batch: int | None  # most items of the list at the top: a batch's limit (None: not a batch)

    def value(self, at: int, depth: int, where: str) -> int:
        """Where the value at `at` ends; Refused past a bound, _Malformed where it is not JSON."""
        opening = self.text[at : at + 1]
        if opening in ("[", "{") and depth > MAX_DEPTH:
            raise Refused(f"{_shown(where)} nests deeper than any request does (at most {MAX_DEPTH} levels of lists and objects)")
        if opening == "{":
            return self._object(at + 1, depth, where)
        if opening == "[":
            return self._list(at + 1, depth, where)
        try:
            return _SCALAR(self.text, at)[1]
        except (StopIteration, ValueError):  # ValueError: a number of more digits than Python converts
            raise _Malformed from None

    def _object(self, at: int, depth: int, where: str) -> int:
        at, keys = self._space(at), set()
        if self.text[at : at + 1] == "}":
            return at + 1
        while True:
            if self.text[at : at + 1] != '"':
                raise _Malformed
            key, at = _SCALAR(self.text, at)
            if key in keys:  # JSON parsers differ on which one wins: a proxy could read another request than ours
                raise Refused(f"{_shown(f'{where}.{key}'.lstrip('.'))} is given twice; give each field once")
            keys.add(key)
            if len(keys) > MAX_KEYS:
                raise Refused(f"{_shown(where)} has more than {MAX_KEYS} fields; a request object has text, url, html, title, id and options")
            at = self._space(at)
            if self.text[at : at + 1] != ":":
                raise _Malformed
            at = self._space(self.value(self._space(at + 1), depth + 1, f"{where}.{key}".lstrip(".")))
            if self.text[at : at + 1] == "}":
                return at + 1
            if self.text[at : at + 1] != ",":
                raise _Malformed
            at = self._space(at + 1)

    def _list(self, at: int, depth: int, where: str) -> int:
        at, items = self._space(at), 0
        if self.text[at : at + 1] == "]":
            return at + 1
        batch = depth == 1 and self.batch is not None
        limit = self.batch if batch else MAX_ITEMS
        while True:
            items += 1
            if items > limit and batch:
                raise Refused(f"the batch has more than {limit} documents, this server's limit; split it", too_large=True)
            if items > limit:
                raise Refused(f"{_shown(where)} is a list of more than {limit} items; no field of a request is a list")
            at = self._space(self.value(at, depth + 1, f"{where}[{items - 1}]"))
            if self.text[at : at + 1] == "]":
                return at + 1
            if self.text[at : at + 1] != ",":
                raise _Malformed
            at = self._space(at + 1)

    def _space(self, at: int) -> int:
        return _SPACE.match(self.text, at).end()


def _shown(where: str) -> str:
    """Where in the body, as a message names it (a key can be as long as the body)."""
    return "the body" if not where else where if len(where) <= 80 else where[:80] + "…"
