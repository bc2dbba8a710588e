"""Bytes → text: the encoding detected (charset-normalizer, with the Cyrillic code pages first for
Russian), binary data refused, and a warning when the text is not Russian."""

from __future__ import annotations

import codecs
import re
import unicodedata

from summarize.errors import SummarizeError
from summarize.text import other_cyrillic_language

# Code pages Russian text is found in; used when the general detector's guess is not Cyrillic.
CYRILLIC_CODEPAGES = ["cp1251", "koi8_r", "koi8_u", "mac_cyrillic", "cp866", "iso8859_5"]


BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


MIN_CYRILLIC_SHARE = 0.5


NON_RUSSIAN_CYRILLIC = re.compile("[^\u0410-\u044f\u0401\u0451\\W\\d_a-zA-Z]")  # a letter that is not А-я, Ёё or Latin


def language_warnings(text: str) -> list[str]:
    """The models are trained on Russian: say when a text is not (mostly Latin, or another Cyrillic language)."""
    share = cyrillic_share(text)
    if share < MIN_CYRILLIC_SHARE:
        return [f"only {share:.0%} of the letters are Cyrillic; the models are trained on Russian, expect a poor summary"]
    other = other_cyrillic_language(text)
    if other:
        return [f"the text looks {other}, not Russian; the models are trained on Russian, expect a poor summary"]
    return []


def decode(data: bytes, source: str) -> tuple[str, str]:
    """Bytes → normalised text and the encoding used; rejects empty and binary data."""
    if not data.strip():
        raise SummarizeError(f"{source}: is empty; nothing to summarise")
    has_bom = data.startswith(BOMS)
    if b"\x00" in data and not has_bom:
        raise SummarizeError(f"{source}: looks like binary data, not text; give a plain-text file")
    text, encoding = _detect(data)
    if text is None:
        raise SummarizeError(f"{source}: cannot tell its text encoding (binary data?); save it as UTF-8 text and try again")
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\n\t\f\v")
    if controls > max(2, len(text) // 100):
        raise SummarizeError(f"{source}: looks like binary data, not text; give a plain-text file")
    if not visible(text):  # spaces and invisible characters only (a zero-width space is not text)
        raise SummarizeError(f"{source}: is empty; nothing to summarise")
    return text, encoding


def visible(text: str) -> bool:
    """Whether the text has a character that shows: not a space, nor an invisible format character
    (zero-width space and joiners, BOM, direction marks: Unicode category Cf)."""
    return any(not char.isspace() and unicodedata.category(char) != "Cf" for char in text)


def _detect(data: bytes) -> tuple[str | None, str]:
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    general = from_bytes(data)
    best = general.best()
    if best is not None and best.bom:
        return str(best), best.encoding
    # charset-normalizer ranks by how coherent each decoding looks; short KOI8-R text can lose to a
    # CJK page, and CP1251 to Mac Cyrillic (capitals become Ѕ, Ј…). Russian input makes the first
    # candidate whose Cyrillic is all Russian the likeliest; otherwise trust the detector's best.
    for match in [*from_bytes(data, cp_isolation=CYRILLIC_CODEPAGES), *general]:
        text = str(match)
        if cyrillic_share(text) >= MIN_CYRILLIC_SHARE and not NON_RUSSIAN_CYRILLIC.search(text):
            return text, match.encoding
    return (str(best), best.encoding) if best is not None else (None, "")


def cyrillic_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if "\u0400" <= c <= "\u04ff") / len(letters)
