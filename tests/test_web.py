"""summarize.inputs.web against a real HTTP server on 127.0.0.1 serving realistic Russian news pages."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from helpers import NewsServer, Route

from summarize.errors import SummarizeError
from summarize.inputs.pages import decode_page, extract_page, looks_like_html
from summarize.inputs.web import Fetched, FetchLimits, fetch_all, user_agent

PAGES = Path(__file__).parent / "pages"
FAST = FetchLimits(connect_timeout=1, read_timeout=2, deadline=3)

NEWS = [
    "САМАРА, 3 апр — Вестник Поволжья. Паводок на Волге в этом году пройдёт на две недели раньше обычного, сообщили в региональном управлении МЧС.",
    "Уровень воды у Самары уже поднялся на полтора метра, а к середине апреля может вырасти ещё на метр. "
    "Спасатели перевели восемь прибрежных посёлков на режим повышенной готовности.",
    "Жителям низин рекомендуют заранее вывезти ценные вещи и следить за сообщениями о сбросе воды с Жигулёвской ГЭС, отметили в ведомстве.",
]
BOILERPLATE = [
    "Мы используем файлы cookie",
    "Политика",
    "Происшествия",
    "Читайте также",
    "Автобусы пойдут по новому расписанию",
    "Комментарии",
    "Опять паника на пустом месте",
    "Все права защищены",
    "dataLayer",
    "display:",
    "<",
    "&laquo;",
    "&nbsp;",
]


def news_page(
    paragraphs: list[str] = NEWS,
    *,
    title: str = "Паводок на Волге начнётся раньше обычного",
    head_title: str | None = None,
    og_title: bool = True,
    charset: str | None = "utf-8",
    http_equiv: bool = False,
) -> str:
    """A news page as sites make them: banner, menu, article, related links, comments, footer, scripts."""
    if charset is None:
        meta = ""
    elif http_equiv:
        meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    else:
        meta = f'<meta charset="{charset}">'
    og = f'<meta property="og:title" content="{title}">' if og_title else ""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="ru"><head>{meta}
<title>{head_title or title + " — Вестник Поволжья"}</title>{og}
<meta property="og:site_name" content="Вестник Поволжья">
<meta property="article:published_time" content="2024-04-03T09:15:00+04:00">
<style>.menu li {{ display: inline; }} .cookie {{ position: fixed; }}</style>
<script>window.dataLayer = window.dataLayer || []; dataLayer.push({{"page": "news"}});</script>
</head><body>
<div class="cookie"><p>Мы используем файлы cookie, чтобы сайт работал лучше. Оставаясь на сайте, вы соглашаетесь с этим.</p>
<button>Хорошо</button></div>
<header><a href="/">Вестник Поволжья</a><nav class="menu"><ul>
<li><a href="/politics/">Политика</a></li><li><a href="/economy/">Экономика</a></li>
<li><a href="/incidents/">Происшествия</a></li><li><a href="/sport/">Спорт</a></li></ul></nav></header>
<main><article>
<h1>{title}</h1><time datetime="2024-04-03T09:15">3 апреля 2024, 09:15</time>
{body}
<div class="related"><h3>Читайте также</h3><ul>
<li><a href="/a1.html">Автобусы пойдут по новому расписанию с понедельника</a></li>
<li><a href="/a2.html">В Тольятти открыли новую поликлинику</a></li></ul></div>
</article>
<section class="comments"><h2>Комментарии (2)</h2>
<div class="comment"><b>volga_63</b><p>Опять паника на пустом месте, каждый год одно и то же.</p></div>
<div class="comment"><b>Ирина</b><p>А дачи в пойме снова затопит, и никто не поможет.</p></div>
</section></main>
<footer><p>© 2024 Вестник Поволжья. Все права защищены.</p><a href="/about/">О редакции</a></footer>
<script>document.querySelector('.cookie').remove();</script>
</body></html>"""


NO_ARTICLE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Вестник Поволжья — главная</title></head>
<body><nav><a href="/politics/">Политика</a> <a href="/economy/">Экономика</a> <a href="/sport/">Спорт</a></nav>
<ul><li><a href="/1.html">Паводок на Волге</a></li><li><a href="/2.html">Новая поликлиника</a></li></ul>
<footer>© 2024 Вестник Поволжья</footer></body></html>"""


@pytest.fixture
def site():
    server = NewsServer()
    yield server
    server.stop()


def fetch_one(url: str, **kwargs) -> Fetched | SummarizeError:
    ((asked, got),) = list(fetch_all([url], **kwargs))
    assert asked == url
    return got


def assert_clean_news(text: str) -> None:
    for sentence in NEWS:
        assert sentence in text
    for junk in BOILERPLATE:
        assert junk not in text, junk


# --- extracting -------------------------------------------------------------------------------


def test_saved_ria_style_page_gives_the_article_only():
    doc = extract_page((PAGES / "ria_style.html").read_bytes(), source="saved.html")
    assert doc.source == "saved.html"
    assert doc.title == "В Казани открыли новый мост через Казанку"
    assert doc.date == "2024-03-14"
    assert doc.text.startswith("КАЗАНЬ, 14 мар — РИА Новости. Движение по новому автомобильному мосту")
    assert "три автобусных маршрута." in doc.text
    assert "Рустема Галиева" in doc.text
    assert doc.title not in doc.text
    for junk in ["cookie", "Политика", "Читайте также", "линию метро", "Комментарии", "Наконец-то", "откаты",
                 "Главное", "Сборная", "Реклама", "Кредит", "Все права", "Поделиться", "Курс ЦБ",
                 "dataLayer", "gtag", "<", "&nbsp;", "Анна Петрова"]:  # fmt: skip
        assert junk not in doc.text, junk
    assert len(doc.text.splitlines()) == 5


def test_page_body_has_no_boilerplate_and_title_is_not_in_it():
    doc = extract_page(news_page().encode(), source="page.html", url="https://vestnik.example/a.html")
    assert_clean_news(doc.text)
    assert doc.text.splitlines() == NEWS
    assert doc.title == "Паводок на Волге начнётся раньше обычного"
    assert doc.url == "https://vestnik.example/a.html"
    assert doc.date == "2024-04-03"


def test_title_drops_the_site_suffix_of_title_tag_when_there_is_no_og_title():
    page = news_page(og_title=False, head_title="Паводок на Волге начнётся раньше. Что известно — Вестник Поволжья")
    page = page.replace("<h1>Паводок на Волге начнётся раньше обычного</h1>", "")
    doc = extract_page(page.encode(), source="p.html")
    assert doc.title == "Паводок на Волге начнётся раньше. Что известно"
    # with og:title present, it wins over the suffixed <title>
    doc = extract_page(news_page(head_title="Другое — Вестник Поволжья").encode(), source="p.html")
    assert doc.title == "Паводок на Волге начнётся раньше обычного"


@pytest.mark.parametrize("codec", ["cp1251", "koi8-r"])
@pytest.mark.parametrize("http_equiv", [False, True])
def test_cyrillic_page_declared_only_in_meta_reads_right(codec, http_equiv):
    # characters KOI8-R lacks (the dash) go as &#8212;, as browsers and editors write them
    data = news_page(charset=codec, http_equiv=http_equiv).encode(codec, "xmlcharrefreplace")
    doc = extract_page(data, source="old.html")
    assert_clean_news(doc.text)
    assert doc.title == "Паводок на Волге начнётся раньше обычного"


@pytest.mark.parametrize("codec", ["cp1251", "koi8-r"])
def test_undeclared_cyrillic_page_is_detected(codec):
    doc = extract_page(news_page(charset=None).encode(codec, "xmlcharrefreplace"), source="old.html")
    assert_clean_news(doc.text)


def test_header_charset_wins_over_meta():
    data = news_page(charset="koi8-r").encode("cp1251")  # a wrong <meta>, a right header
    assert "Паводок" in decode_page(data, "text/html; charset=windows-1251")
    assert "Паводок" not in decode_page(data)


def test_double_escaped_entities_are_unescaped():
    page = news_page([NEWS[0], "Глава МЧС назвал паводок &amp;laquo;управляемым&amp;raquo; и пообещал помощь."])
    doc = extract_page(page.encode(), source="p.html")
    assert "«управляемым»" in doc.text and "&" not in doc.text


def test_page_without_article_is_a_clear_error():
    with pytest.raises(SummarizeError, match=r"^front\.html: no article text found in the page; "):
        extract_page(NO_ARTICLE.encode(), source="front.html")
    with pytest.raises(SummarizeError, match="no article text found"):
        extract_page(b"", source="empty.html")


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"<!DOCTYPE html><html><body>x</body></html>", True),
        (b"\xef\xbb\xbf\n  <html lang=ru>", True),
        (b"<!-- saved from url=(0042)https://example.com -->\n<html>", True),
        (b"<?xml version='1.0' encoding='utf-8'?>\n<html xmlns='http://www.w3.org/1999/xhtml'>", True),
        ("<html>".encode("utf-16"), True),
        (b"<meta charset=windows-1251><title>x</title>", True),
        (b"<p>\xcf\xe0\xe2\xee\xe4\xee\xea</p>", True),
        ("Паводок на Волге начнётся раньше. <p> в тексте".encode(), False),
        (b"<?xml version='1.0'?><rss></rss>", False),
        (b"%PDF-1.7", False),
        (b"", False),
    ],
)
def test_looks_like_html(data, expected):
    assert looks_like_html(data) is expected


# --- fetching ---------------------------------------------------------------------------------


def test_fetches_and_extracts_a_news_page(site):
    site.routes["/news/1.html"] = Route(news_page().encode())
    got = fetch_one(site.url("/news/1.html"))
    assert isinstance(got, Fetched)
    assert (got.status, got.final_url, got.content_type) == (200, site.url("/news/1.html"), "text/html; charset=utf-8")
    doc = extract_page(got.data, source=got.url, url=got.final_url, content_type=got.content_type)
    assert_clean_news(doc.text)
    assert doc.url == site.url("/news/1.html")
    agent = site.seen_headers[0]["User-Agent"]
    assert agent == user_agent() and agent.startswith("summarize/0.") and "dev" not in agent


def test_cp1251_page_over_http_with_charset_only_in_meta(site):
    site.routes["/old.html"] = Route(news_page(charset="windows-1251").encode("cp1251"), content_type="text/html")
    got = fetch_one(site.url("/old.html"))
    assert_clean_news(extract_page(got.data, source=got.url, content_type=got.content_type).text)


def test_gzip_is_asked_for_and_unpacked(site):
    page = news_page().encode()
    site.routes["/gz.html"] = Route(gzip.compress(page), headers={"Content-Encoding": "gzip"})
    got = fetch_one(site.url("/gz.html"))
    assert "gzip" in site.seen_headers[0]["Accept-Encoding"]
    assert got.data == page


def test_redirect_chain_is_followed_up_to_five(site):
    for i in range(5):
        site.routes[f"/r{i}"] = Route(status=302, headers={"Location": f"/r{i + 1}"})
    site.routes["/r5"] = Route(news_page().encode())
    got = fetch_one(site.url("/r0"))
    assert isinstance(got, Fetched)
    assert (got.url, got.final_url) == (site.url("/r0"), site.url("/r5"))


@pytest.mark.parametrize("hops", [6, 7])
def test_too_many_redirects(site, hops):
    for i in range(hops):
        site.routes[f"/r{i}"] = Route(status=301, headers={"Location": f"/r{i + 1}"})
    got = fetch_one(site.url("/r0"))
    assert isinstance(got, SummarizeError)
    assert str(got) == f"{site.url('/r0')}: more than 5 redirects; open it in a browser and give the address it ends at"


@pytest.mark.parametrize(
    "status, says",
    [(404, "answered 404 Not Found; check the address"), (500, "answered 500 Internal Server Error; the site is busy")],
)
def test_http_errors(site, status, says):
    site.routes["/x"] = Route(b"<html>oops</html>", status=status)
    got = fetch_one(site.url("/x"))
    assert isinstance(got, SummarizeError)
    assert str(got).startswith(f"{site.url('/x')}: the server {says}")
    assert "\n" not in str(got)


def test_not_a_web_page(site):
    site.routes["/doc.pdf"] = Route(b"%PDF-1.7 " * 100, content_type="application/pdf")
    got = fetch_one(site.url("/doc.pdf"))
    assert isinstance(got, SummarizeError)
    assert "sent application/pdf, not a web page" in str(got)


def test_a_content_length_over_the_limit_is_refused_before_the_body_is_downloaded(site):
    # The server waits after its headers for the client to hang up: a client that reads on gets the body.
    site.routes["/big.html"] = Route(b"<html>" + b"x" * 50_000, hold=10)
    got = fetch_one(site.url("/big.html"), limits=FetchLimits(max_bytes=10_000))
    assert isinstance(got, SummarizeError) and "past the download limit" in str(got)
    assert site.body_sent["/big.html"] == 0


def test_a_page_without_a_content_type_is_passed_on_to_be_sniffed(site):
    site.routes["/bare"] = Route(news_page().encode(), content_type=None)
    got = fetch_one(site.url("/bare"))
    assert isinstance(got, Fetched) and got.content_type is None
    assert looks_like_html(got.data)
    assert_clean_news(extract_page(got.data, source=got.url, content_type=got.content_type).text)


def test_octet_stream_is_passed_on_to_be_sniffed(site):
    site.routes["/a.txt"] = Route("Паводок на Волге.".encode(), content_type="application/octet-stream")
    got = fetch_one(site.url("/a.txt"))
    assert isinstance(got, Fetched) and got.data.decode() == "Паводок на Волге."


@pytest.mark.parametrize("scheme", ["HTTP", "Http"])
def test_a_scheme_in_any_case_is_fetched(site, scheme):
    site.routes["/a.html"] = Route(news_page().encode())
    got = fetch_one(site.url("/a.html").replace("http", scheme, 1))
    assert isinstance(got, Fetched), got


def test_passwords_and_tokens_never_appear_in_messages(site):
    url = site.url("/x?token=s3cr3t&page=2").replace("http://", "http://reader:hunter2@")
    got = fetch_one(url)
    assert isinstance(got, SummarizeError)
    assert str(got).startswith(site.url("/x?token=***&page=2").replace("http://", "http://***@") + ": the server answered 404")
    assert "s3cr3t" not in str(got) and "hunter2" not in str(got)


@pytest.mark.parametrize("length", [True, False])
def test_oversized_body_is_refused(site, length):
    site.routes["/big.html"] = Route(b"<html>" + b"x" * 50_000, length=length)
    limits = FetchLimits(max_bytes=10_000)
    got = fetch_one(site.url("/big.html"), limits=limits)
    assert isinstance(got, SummarizeError)
    assert str(got).startswith(f"{site.url('/big.html')}: the page is larger than 10000 bytes, past the download limit; ")
    assert isinstance(fetch_one(site.url("/big.html"), limits=FetchLimits(max_bytes=60_000)), Fetched)


def test_slow_server_hits_the_read_timeout(site):
    site.routes["/slow.html"] = Route(news_page().encode(), delay=30)
    got = fetch_one(site.url("/slow.html"), limits=FetchLimits(read_timeout=0.5, deadline=20))
    assert isinstance(got, SummarizeError)  # the message says which limit stopped it: the read timeout
    assert "sent nothing for 0.5 s; try again later" in str(got)


def test_slow_drip_is_cut_by_the_deadline(site):
    # a byte every 0.1 s never trips the read timeout; only a whole-download deadline stops it (trafilatura #621)
    site.routes["/drip.html"] = Route(news_page().encode(), drip=0.1)
    got = fetch_one(site.url("/drip.html"), limits=FetchLimits(read_timeout=1, deadline=0.8))
    assert isinstance(got, SummarizeError)  # the message says which limit stopped it: the deadline
    assert "took over 0.8 s" in str(got)


def test_refused_connection_and_bad_urls_fail_fast_one_line_each():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    urls = [f"http://127.0.0.1:{port}/a.html", "ftp://example.com/a.html", "news.html", "http://127.0.0.1:99999/"]
    results = list(fetch_all(urls))
    assert [url for url, _ in results] == urls
    messages = [str(got) for _, got in results]
    assert all(isinstance(got, SummarizeError) for _, got in results)
    assert messages[0] == (f"{urls[0]}: cannot connect to 127.0.0.1 (Connection refused); check the address and that this machine is online")
    assert messages[1] == "ftp://example.com/a.html: not an http(s) URL; give an address starting with http:// or https://"
    assert messages[2].startswith("news.html: not an http(s) URL")
    assert messages[3].startswith("http://127.0.0.1:99999/: not a valid URL")
    assert all("\n" not in m for m in messages)


def test_results_follow_input_order_while_fetches_overlap(site):
    delays = [0.6, 0.1, 0.4, 0.0, 0.3, 0.2]
    for i, delay in enumerate(delays):
        site.routes[f"/{i}.html"] = Route(news_page().encode(), delay=delay)
    urls = [site.url(f"/{i}.html") for i in range(len(delays))] + ["mailto:x"]
    results = list(fetch_all(urls, per_host=6))
    assert [url for url, _ in results] == urls
    assert all(isinstance(got, Fetched) for _, got in results[:-1])
    assert site.most_at_once > 1  # the fetches overlapped


def test_at_most_per_host_requests_at_once_and_hosts_overlap():
    servers = [NewsServer() for _ in range(3)]
    try:
        urls = []
        for i in range(6):
            for server in servers:
                server.routes[f"/{i}.html"] = Route(news_page().encode(), delay=0.5)  # long enough under load for two to meet
                urls.append(server.url(f"/{i}.html"))
        results = list(fetch_all(urls, ahead=8, per_host=2))
        assert all(isinstance(got, Fetched) for _, got in results)
        assert [s.most_at_once for s in servers] == [2, 2, 2]
        a, b, c = (s.spans for s in servers)  # a request on one host while one on another was open
        assert any(x[0] < y[1] and y[0] < x[1] for one, other in ((a, b), (a, c), (b, c)) for x in one for y in other)
    finally:
        for server in servers:
            server.stop()


def test_urls_are_read_lazily(site):
    site.routes["/a.html"] = Route(news_page().encode())
    taken = []

    def endless():
        while True:
            taken.append(1)
            yield site.url("/a.html")

    with closing(fetch_all(endless(), ahead=3)) as results:
        url, got = next(results)
        assert isinstance(got, Fetched)
        assert len(taken) == 4  # the one handed over and three fetching ahead


def fetch_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "summarize-fetch"}


def test_closing_early_stops_downloads_in_flight_at_once(site):
    before = fetch_threads()  # an earlier test's fetcher may still be winding down: not this test's
    site.routes["/fast.html"] = Route(news_page().encode())
    site.routes["/hang.html"] = Route(news_page().encode(), delay=30)
    results = fetch_all([site.url("/fast.html")] + [site.url("/hang.html")] * 4, limits=FetchLimits(deadline=60))
    assert isinstance(next(results)[1], Fetched)
    deadline = time.monotonic() + 30  # a bound for a stuck fetcher only
    while site.active < 2 and time.monotonic() < deadline:  # the hanging requests reach the server
        time.sleep(0.05)
    assert site.active == 2
    results.close()
    assert site.served["/hang.html"] == 0  # it returned without waiting for the 30 s answers
    assert fetch_threads() <= before  # this test's fetcher is gone
    deadline = time.monotonic() + 2
    while site.active and time.monotonic() < deadline:  # the server sees the connections go
        time.sleep(0.05)
    assert site.active == 0


def test_keyboard_interrupt_in_the_consumer_stops_the_fetcher(site):
    before = fetch_threads()  # an earlier test's fetcher may still be winding down: not this test's
    site.routes["/fast.html"] = Route(news_page().encode())
    site.routes["/hang.html"] = Route(news_page().encode(), delay=30)
    with pytest.raises(KeyboardInterrupt):
        with closing(fetch_all([site.url("/fast.html"), site.url("/hang.html")])) as results:
            for _ in results:
                raise KeyboardInterrupt
    assert site.served["/hang.html"] == 0  # stopped without waiting for the 30 s answer
    assert fetch_threads() <= before  # this test's fetcher is gone


def test_ctrl_c_while_waiting_for_a_page_stops_the_fetcher(site):
    before = fetch_threads()  # an earlier test's fetcher may still be winding down: not this test's
    site.routes["/hang.html"] = Route(news_page().encode(), delay=30)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            list(fetch_all([site.url("/hang.html")] * 3))
    finally:
        timer.cancel()
    assert site.served["/hang.html"] == 0  # stopped without waiting for the 30 s answers
    assert fetch_threads() <= before  # this test's fetcher is gone


def test_plain_text_and_xhtml_are_accepted(site):
    site.routes["/a.txt"] = Route("Паводок на Волге.".encode(), content_type="text/plain; charset=utf-8")
    site.routes["/a.xhtml"] = Route(news_page().encode(), content_type="application/xhtml+xml")
    got = [got for _, got in fetch_all([site.url("/a.txt"), site.url("/a.xhtml")])]
    assert [type(g) for g in got] == [Fetched, Fetched]
    assert got[0].data.decode() == "Паводок на Волге."


def test_importing_the_module_loads_neither_httpx_nor_trafilatura():
    code = "import sys, summarize.inputs.web; print(sorted({'httpx', 'trafilatura'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_bad_settings_fail_at_the_call():
    with pytest.raises(ValueError, match="at least 1"):
        fetch_all(["http://127.0.0.1/"], per_host=0)
