"""HTML pages → Documents: the page decoded by its declared or detected charset, the article taken out
with trafilatura (imported where used, so sniffing every text input for HTML costs nothing)."""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass

from summarize.documents import Document
from summarize.errors import SummarizeError

# Per the HTML spec a <meta charset> must sit in the first 1024 bytes; real pages put scripts first.
META_SCAN_BYTES = 16 * 1024


META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


# The WHATWG MIME-sniffing list of tags that make a resource HTML, plus <meta> and <?xml … <html.
HTML_START = re.compile(
    rb"<(!doctype\s+html|html|head|body|script|iframe|h1|div|font|table|a|style|title|b|br|p|meta|!--)[\s>/]",
    re.IGNORECASE,
)


TAG = re.compile(rb"<[^>]*>")


SITE_SEPARATORS = "—–-|·•:"


TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


MIN_ARTICLE_WORDS = 8


SENTENCE_END = re.compile(r"[.!?…]")


ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


@dataclass(frozen=True)
class Article:
    """What trafilatura found in a page (its site name only cleans the title: results have no field for it)."""

    text: str  # body paragraphs, one a line, without the title
    title: str | None
    date: str | None  # ISO 8601 (YYYY-MM-DD)
    sitename: str | None


def looks_like_html(data: bytes) -> bool:
    """Content sniffing: an input whose first bytes open an HTML document is a page, whatever its name."""
    head = data[:1024]
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            head = head[len(bom) :].decode(codec, "ignore").encode("utf-8")
    head = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if XML_ENCODING.match(head) or head.lower().startswith(b"<?xml"):
        return b"<html" in head.lower()
    return HTML_START.match(head) is not None


def decode_page(data: bytes, content_type: str | None = None) -> str:
    """Bytes → text as a browser would: BOM, then the header's charset, then <meta>, then detection.

    Old stacks ignored <meta charset> and guessed, reading windows-1251 as MacCyrillic.
    """
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, "replace")
    for label in (_header_charset(content_type), _declared_charset(data)):
        codec = _codec(label)
        if codec:
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                continue  # a wrong declaration: the next source of truth decides
    return data.decode(_detect_charset(data), "replace")


def _header_charset(content_type: str | None) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type or "", re.IGNORECASE)
    return match.group(1) if match else None


def _declared_charset(data: bytes) -> str | None:
    head = data[:META_SCAN_BYTES]
    match = XML_ENCODING.match(head) or META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # A page that reached us as bytes in an ASCII-compatible form can't really be UTF-16 (HTML spec).
    return "utf-8" if name.startswith("utf-16") else name


def _detect_charset(data: bytes) -> str:
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    # Detect on the text between the tags: markup is ASCII and only dilutes the evidence.
    best = from_bytes(TAG.sub(b" ", data)).best()
    if best is None:
        return "utf-8"
    # CP1251 and Mac Cyrillic share most lowercase letters; Mac Cyrillic pages barely exist.
    return "cp1251" if best.encoding == "mac_cyrillic" else best.encoding


def extract_page(data: bytes, *, source: str, url: str | None = None, content_type: str | None = None) -> Document:
    """A web page's bytes → a Document with its article text, title, url and date."""
    article = extract_article(decode_page(data, content_type), url=url)
    if article is None:
        raise SummarizeError(
            f"{source}: no article text found in the page; it may be a front page or need JavaScript "
            "— open it in a browser and save the article's text as a .txt file"
        )
    return Document(source=source, text=article.text, title=article.title, url=url, date=article.date)


def extract_article(page: str, *, url: str | None = None) -> Article | None:
    """trafilatura's article and metadata, without comments, tables or links; None when it finds no text."""
    from trafilatura import bare_extraction

    found = bare_extraction(
        page,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,  # on news pages tables are mostly lists of links and scores
        include_images=False,
        include_links=False,
        favor_precision=True,  # rather lose a caption than keep a "read also" block
        date_extraction_params={"original_date": True, "extensive_search": False},
    )
    if found is None or not found.text:
        return None
    title = _title(found.title, found.sitename, page)
    lines = [" ".join(line.split()) for line in found.text.splitlines()]
    lines = [line for line in lines if line]
    if lines and title and lines[0] == title:
        lines = lines[1:]
    text = "\n".join(lines)
    if ENTITY.search(text):
        text = html.unescape(text)  # double-escaped by the site's CMS: the reader would see «, not &laquo;
    # On a page without an article trafilatura may still return a menu ("Политика Экономика Спорт").
    if len(text.split()) < MIN_ARTICLE_WORDS or not SENTENCE_END.search(text):
        return None
    return Article(text=text, title=title, date=found.date, sitename=found.sitename)


def _title(found: str | None, sitename: str | None, page: str) -> str | None:
    """The headline: trafilatura's, unless that is the site's name; without the " — Site" suffix."""
    title = " ".join((found or "").split())
    if not title or (sitename and title.casefold() == sitename.casefold()):
        # trafilatura splits "Headline. More — Site" at the dash and skips the half with a dot in it
        tag = TITLE_TAG.search(page)
        title = " ".join(html.unescape(tag.group(1)).split()) if tag else title
    return _strip_site_suffix(title, sitename) or None


def _strip_site_suffix(title: str, sitename: str | None) -> str:
    """ "Headline — РИА Новости" → "Headline"."""
    if sitename:
        for separator in SITE_SEPARATORS:
            suffix = f" {separator} {sitename}"
            if title.endswith(suffix) and len(title) > len(suffix):
                return title[: -len(suffix)].rstrip()
    return title


def strip_html(text: str) -> str:
    """Text content of HTML-marked dataset fields (RIA's `<p>…&nbsp;…`: eval and check --strip-html),
    paragraphs kept as lines; a field is no page, so no article extraction."""
    from html.parser import HTMLParser

    class _Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag in ("p", "br", "div", "li", "h1", "h2", "h3", "tr"):
                self.parts.append("\n")

        def handle_data(self, data):
            self.parts.append(data)

    parser = _Text()
    parser.feed(text)
    parser.close()
    lines = ("".join(parser.parts).replace("\xa0", " ")).splitlines()
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())
