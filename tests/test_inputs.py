"""The command's inputs beyond text files (issue 10), through the real CLI: saved and fetched web
pages, lists of inputs, and datasets in and out (--output, -o, stdout).

A local HTTP server on 127.0.0.1 stands in for the web. The lead engine stands in for the model
where the model is not the point (it is fast and its summary is the article's first sentences, so
what reached the summariser can be read off the summary); the tiny models run where it is.
"""

from __future__ import annotations

import json
import socket

import pytest
from helpers import SHORT, NewsServer, parse_jsonl, read_output, write_dataset, write_jsonl

from summarize.documents import Result, row_fields

LEAD = ("-e", "lead", "--no-translate")
RESULT_KEYS = {f.name for f in row_fields(Result)}  # the columns: not the hidden translations/targets

# --- a news site's pages ---------------------------------------------------------------------

TRAM_TITLE = "В Новосибирске запустили первый трамвай на водороде"
TRAM = [
    "НОВОСИБИРСК, 12 ноя — Сибирский курьер. Первый в регионе трамвай на водородных топливных элементах "
    "вышел на маршрут № 13 между площадью Калинина и Заельцовским парком.",
    "Вагон проедет в тестовом режиме до конца декабря, перевозя пассажиров бесплатно, сообщили в мэрии. "
    "За это время инженеры проверят, как батареи переносят сибирские морозы.",
    "По словам директора &laquo;Горэлектротранса&raquo; Олега Седова, водородный трамвай не зависит от "
    "контактной сети и&nbsp;может ходить там, где провода тянуть дорого.",
    "Если испытания пройдут успешно, весной город закажет ещё шесть таких вагонов.",
]
TRAM_LEAD = "Первый в регионе трамвай на водородных топливных элементах вышел на маршрут № 13"
METRO_TITLE = "Станцию метро «Спортивная» откроют через год"
METRO = [
    "Строители завершили проходку тоннеля к станции «Спортивная», сообщили в департаменте транспорта. Теперь начнётся отделка вестибюля и монтаж эскалаторов.",
    "Открыть станцию для пассажиров обещают в конце следующего года. Она разгрузит соседнюю «Площадь Маркса».",
]
# What a site puts around an article: none of it may reach a summary.
JUNK = [
    "cookie", "Принять", "Город", "Культура", "Курс доллара", "Ещё по теме", "Автобус № 36", "Комментарии",
    "sibiryak54", "Станиславского", "минус сорок", "Перепечатка", "Реклама", "ym(", "metrika",
    "getElementById", "position:", "<", ">", "&laquo;", "&nbsp;", "\xa0",
]  # fmt: skip


def news_page(title: str = TRAM_TITLE, paragraphs: list[str] = TRAM, charset: str = "utf-8", dated: bool = True) -> str:
    """A news page as sites make them: analytics scripts, a cookie banner, a menu, the article,
    related links, readers' comments and a footer."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    published = '<meta property="article:published_time" content="2024-11-12T10:40:00+07:00">' if dated else ""
    shown = '<time datetime="2024-11-12T10:40">12 ноября 2024, 10:40</time> · ' if dated else ""
    return f"""<!DOCTYPE html>
<html lang="ru">
<head>
<meta charset="{charset}">
<title>{title} — Сибирский курьер</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="Сибирский курьер">
{published}
<script async src="https://metrika.example/tag.js"></script>
<script>window.ym = window.ym || function(){{ (ym.a = ym.a || []).push(arguments) }}; ym(99, "init", {{clickmap: true}});</script>
<style>.cookie-bar {{ position: fixed; bottom: 0; }} nav a {{ margin: 0 8px; }}</style>
</head>
<body>
<div class="cookie-bar" id="cookies">Сайт использует cookie-файлы и сервис веб-аналитики. Продолжая работу с сайтом, вы соглашаетесь на обработку данных. <button>Принять</button></div>
<header class="site-header">
  <a class="logo" href="/">Сибирский курьер</a>
  <nav><a href="/city/">Город</a> <a href="/transport/">Транспорт</a> <a href="/culture/">Культура</a> <a href="/weather/">Погода</a></nav>
  <div class="rates">Курс доллара 97,5 ₽ · Курс евро 103,2 ₽</div>
</header>
<main>
<article class="news">
<h1>{title}</h1>
<div class="meta">{shown}Транспорт</div>
{body}
<aside class="more"><h4>Ещё по теме</h4><ul>
<li><a href="/transport/metro.html">Станцию метро «Спортивная» откроют через год</a></li>
<li><a href="/transport/bus.html">Автобус № 36 изменит маршрут с понедельника</a></li>
</ul></aside>
</article>
<section id="comments"><h3>Комментарии (2)</h3>
<div class="comment"><span class="nick">sibiryak54</span><p>Лучше бы старые рельсы на Станиславского починили.</p></div>
<div class="comment"><span class="nick">Марина К.</span><p>Зимой посмотрим, как он поедет в минус сорок.</p></div>
</section>
</main>
<footer>© Сибирский курьер. Перепечатка материалов только с разрешения редакции. <a href="/ads/">Реклама на сайте</a></footer>
<script>document.getElementById("cookies").addEventListener("click", function(){{ this.remove(); }});</script>
</body>
</html>
"""


FRONT_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Сибирский курьер — главная</title></head>
<body><nav><a href="/city/">Город</a> <a href="/transport/">Транспорт</a> <a href="/culture/">Культура</a></nav>
<ul><li><a href="/news/tram.html">Водородный трамвай вышел на маршрут</a></li>
<li><a href="/transport/metro.html">Метро: новая станция</a></li></ul>
<footer>© Сибирский курьер</footer></body></html>"""

PLAIN_PAGE = "Ледоход на Оби\n\nЛёд на Оби у Новосибирска тронулся на неделю раньше срока. Спасатели просят не выходить на берег."
HTML = "text/html; charset=utf-8"


def assert_clean_tram_summary(summary: str) -> None:
    assert summary.startswith(TRAM_LEAD)  # the dateline is not the news; the title is not the body
    assert TRAM_TITLE not in summary
    for junk in JUNK:
        assert junk not in summary, junk


@pytest.fixture
def site():
    server = NewsServer()
    yield server
    server.stop()


def closed_port() -> int:
    with socket.socket() as s:  # bound, never listening, then closed: connecting is refused
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("summarize: error: ")]


# --- saved pages ------------------------------------------------------------------------------


def test_saved_page_gives_the_article_with_its_title_and_date(run, tmp_path):
    page = tmp_path / "tram.html"
    page.write_text(news_page(), encoding="utf-8")
    result = run(page, *LEAD, "--length", "long", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert set(data) == RESULT_KEYS
    assert (data["source"], data["title"], data["date"], data["url"]) == (str(page), TRAM_TITLE, "2024-11-12", None)
    summary = data["summary_ru"]
    assert_clean_tram_summary(summary)
    assert "директора «Горэлектротранса» Олега Седова" in summary  # entities decoded
    assert "контактной сети и может ходить" in summary  # &nbsp; is a plain space


def test_a_page_that_declares_no_date_has_none(run, tmp_path):
    page = tmp_path / "tram.html"
    page.write_text(news_page(dated=False), encoding="utf-8")
    result = run(page, *LEAD, "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["title"], data["date"]) == (TRAM_TITLE, None)
    assert_clean_tram_summary(data["summary_ru"])


def test_a_page_is_a_page_by_its_content_whatever_its_name_and_on_stdin(run, tmp_path):
    data = news_page().encode()
    (tmp_path / "tram.html").write_bytes(data)
    (tmp_path / "tram.txt").write_bytes(data)
    results = [
        run(tmp_path / "tram.html", *LEAD, "-f", "json"),
        run(tmp_path / "tram.txt", *LEAD, "-f", "json"),
        run(*LEAD, "-f", "json", input=data),
    ]
    assert [r.exit_code for r in results] == [0, 0, 0], [r.stderr for r in results]
    html, txt, piped = (json.loads(r.stdout) for r in results)
    assert [d["source"] for d in (html, txt, piped)] == [str(tmp_path / "tram.html"), str(tmp_path / "tram.txt"), "stdin"]
    assert_clean_tram_summary(html["summary_ru"])
    for other in (txt, piped):
        for key in ("title", "date", "url", "summary_ru", "warnings", "error"):
            assert other[key] == html[key], key


def test_a_page_without_an_article_fails_with_one_line_naming_the_file(run, tmp_path, short_file):
    page = tmp_path / "front.html"
    page.write_text(FRONT_PAGE, encoding="utf-8")
    result = run(page, *LEAD)
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"summarize: error: {page}: no article text found in the page; ")
    both = run(page, short_file, *LEAD, "-f", "jsonl")  # and the other inputs still get done
    assert both.exit_code == 1
    assert [row["error"] is None for row in parse_jsonl(both.stdout)] == [False, True]


# --- URLs -------------------------------------------------------------------------------------


def test_urls_come_out_in_input_order_and_a_bad_one_fails_alone(run, site):
    urls = [
        site.add("/news/tram.html", news_page()),
        site.url("/news/gone.html"),  # 404
        site.add("/transport/metro.html", news_page(METRO_TITLE, METRO)),
        site.add("/files/report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
    ]
    result = run(*urls, *LEAD, "-f", "jsonl")
    assert result.exit_code == 1
    rows = parse_jsonl(result.stdout)
    assert [row["source"] for row in rows] == urls
    assert all(set(row) == RESULT_KEYS for row in rows)
    tram, gone, metro, pdf = rows
    assert (tram["url"], tram["title"], tram["date"], tram["error"]) == (urls[0], TRAM_TITLE, "2024-11-12", None)
    assert_clean_tram_summary(tram["summary_ru"])
    assert (metro["url"], metro["title"], metro["error"]) == (urls[2], METRO_TITLE, None)
    assert metro["summary_ru"].startswith("Строители завершили проходку тоннеля")
    assert gone["error"] == f"{urls[1]}: the server answered 404 Not Found; check the address"
    assert pdf["error"].startswith(f"{urls[3]}: the server sent application/pdf, not a web page; ")
    assert gone["summary_ru"] is None and pdf["summary_ru"] is None
    assert error_lines(result.stderr) == [f"summarize: error: {gone['error']}", f"summarize: error: {pdf['error']}"]
    assert "summarize: 2 done, 2 failed" in result.stderr


def test_a_plain_text_page_is_read_as_text_with_its_title(run, site):
    url = site.add("/ice.txt", PLAIN_PAGE, "text/plain; charset=utf-8")
    result = run(url, *LEAD, "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["url"], data["title"], data["date"]) == (url, "Ледоход на Оби", None)
    assert data["summary_ru"] == PLAIN_PAGE.split("\n\n")[1]


def test_a_cp1251_page_that_declares_it_only_in_meta(run, site):
    data = news_page(charset="windows-1251").encode("cp1251", "xmlcharrefreplace")  # ₽ is not in CP1251
    url = site.add("/old/tram.html", data, "text/html")  # no charset in the header
    result = run(url, *LEAD, "-f", "json")
    assert result.exit_code == 0, result.stderr
    page = json.loads(result.stdout)
    assert page["title"] == TRAM_TITLE
    assert_clean_tram_summary(page["summary_ru"])


def test_urls_files_and_stdin_keep_the_order_they_were_given_in(run, site, short_file):
    tram = site.add("/news/tram.html", news_page())
    metro = site.add("/transport/metro.html", news_page(METRO_TITLE, METRO))
    result = run(tram, short_file, "-", metro, *LEAD, "-f", "jsonl", input=SHORT)
    assert result.exit_code == 0, result.stderr
    rows = parse_jsonl(result.stdout)
    assert [row["source"] for row in rows] == [tram, str(short_file), "stdin", metro]
    assert [row["url"] for row in rows] == [tram, None, None, metro]
    assert all(row["summary_ru"] for row in rows)


def input_list(first: str, second: str) -> str:
    """A list as people write them: comments (one naming an input), blank lines, stray spaces."""
    return f"# what to read today\n\n{first}\n   \n  # not this one: {first}\n  {second}  \n"


def test_input_file_lists_paths_and_urls_with_comments_and_blank_lines(run, site, short_file, tmp_path):
    tram = site.add("/news/tram.html", news_page())
    listed = tmp_path / "today.txt"
    listed.write_text(input_list(tram, str(short_file)), encoding="utf-8")
    given = tmp_path / "given.txt"
    given.write_text(SHORT, encoding="utf-8")
    result = run(given, "--input-file", listed, *LEAD, "-f", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert [row["source"] for row in parse_jsonl(result.stdout)] == [str(given), tram, str(short_file)]
    piped = run("-i", "-", *LEAD, "-f", "jsonl", input=input_list(tram, str(short_file)))
    assert piped.exit_code == 0, piped.stderr
    assert [row["source"] for row in parse_jsonl(piped.stdout)] == [tram, str(short_file)]
    assert site.hits["/news/tram.html"] == 2  # once a run; the comment naming it again was no input


def test_a_refused_connection_fails_fast_with_one_line(run):
    url = f"http://127.0.0.1:{closed_port()}/news/tram.html"
    result = run(url, *LEAD)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"summarize: error: {url}: cannot connect to 127.0.0.1 (Connection refused); check the address and that this machine is online"
    ]


def test_the_same_url_twice_is_fetched_and_summarised_once(run, site):
    url = site.add("/news/tram.html", news_page())
    result = run(url, url, *LEAD, "-f", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert [row["source"] for row in parse_jsonl(result.stdout)] == [url]
    assert site.hits["/news/tram.html"] == 1
    assert f"summarize: warning: {url}: given more than once; summarised once" in result.stderr.splitlines()


def test_output_dir_names_pages_after_their_host_and_path(run, site, tmp_path):
    urls = [
        site.add("/news/2024/tram.html", news_page()),
        site.add("/", news_page(METRO_TITLE, METRO)),
        site.add("/ice", PLAIN_PAGE, "text/plain; charset=utf-8"),
    ]
    out = tmp_path / "out"
    result = run(*urls, *LEAD, "-o", out, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    host = site.base.removeprefix("http://")  # 127.0.0.1:PORT, a folder name
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == sorted([f"{host}/news/2024/tram.json", f"{host}/index.json", f"{host}/ice.json"])
    assert json.loads((out / host / "news" / "2024" / "tram.json").read_text(encoding="utf-8"))["url"] == urls[0]


# --- datasets in ------------------------------------------------------------------------------

ROADS = "Правительство утвердило программу ремонта дорог. Работы начнутся весной и закончатся к осени."
PARK = "Мэрия открыла новый парк на левом берегу. Там посадили тысячу деревьев."
FERRY = "Паром через Обь снова ходит по расписанию. Первый рейс отправится в семь утра."


def records(number_text: bool) -> list[dict]:
    """Five records: two good (one with title, url and date), then missing, blank and (JSONL only,
    which alone can hold one) non-string text."""
    return [
        {"id": "n1", "title": "Дороги отремонтируют к осени", "text": ROADS, "url": "https://kurier.example/n1", "date": "2024-03-01"},
        {"id": "n2", "text": PARK},
        {"id": "n3", "title": "Без текста"},
        {"id": "n4", "text": "  \n "},
        {"id": "n5", "text": 42 if number_text else FERRY},
    ]


# What each format makes of records n3, n4 and n5: CSV has no missing cells, Parquet has nulls.
BAD = {
    ".jsonl": {"n3": "is missing", "n4": "is empty", "n5": "is a number, not text"},
    ".csv": {"n3": "is empty", "n4": "is empty"},
    ".parquet": {"n3": "is null", "n4": "is empty"},
}


@pytest.mark.parametrize("suffix", BAD)
def test_a_dataset_gives_a_result_per_record_and_bad_records_fail_by_id(run, tmp_path, suffix):
    data = write_dataset(tmp_path / f"corpus{suffix}", records(number_text=suffix == ".jsonl"))
    result = run(data, *LEAD, "-f", "jsonl")
    assert result.exit_code == 1
    parsed = parse_jsonl(result.stdout)
    assert [row["source"] for row in parsed] == [f"{data}#n{i}" for i in range(1, 6)]
    assert all(set(row) == RESULT_KEYS for row in parsed)
    rows = dict(zip(["n1", "n2", "n3", "n4", "n5"], parsed))
    n1, n2 = rows["n1"], rows["n2"]
    assert (n1["title"], n1["url"], n1["date"]) == ("Дороги отремонтируют к осени", "https://kurier.example/n1", "2024-03-01")
    assert (n2["title"], n2["url"], n2["date"]) == (None, None, None)
    assert (n1["summary_ru"], n2["summary_ru"]) == (ROADS, PARK)
    bad = BAD[suffix]
    for rid, row in rows.items():
        if rid in bad:
            assert row["error"].startswith(f"{data}#{rid}: field 'text' {bad[rid]}"), row["error"]
            assert row["summary_ru"] is None
        else:
            assert row["error"] is None and row["summary_ru"]
    assert error_lines(result.stderr) == [f"summarize: error: {rows[rid]['error']}" for rid in bad]
    assert f"summarize: {5 - len(bad)} done, {len(bad)} failed" in result.stderr


@pytest.mark.parametrize("suffix", BAD)
def test_text_id_and_title_fields_are_honoured(run, tmp_path, suffix):
    rows = [
        {"doc": "x-1", "headline": "Дороги отремонтируют к осени", "title": "не этот", "text": "Не этот текст. Совсем не этот.", "body": ROADS},
        {"doc": "x-2", "headline": "Новый парк", "title": "и не этот", "text": "Тоже не он. Никак.", "body": PARK},
    ]
    data = write_dataset(tmp_path / f"corpus{suffix}", rows)
    result = run(data, *LEAD, "--text-field", "body", "--id-field", "doc", "--title-field", "headline", "-f", "jsonl")
    assert result.exit_code == 0, result.stderr
    got = [(r["source"], r["title"], r["summary_ru"]) for r in parse_jsonl(result.stdout)]
    assert got == [(f"{data}#x-1", "Дороги отремонтируют к осени", ROADS), (f"{data}#x-2", "Новый парк", PARK)]


# --- datasets out -----------------------------------------------------------------------------


@pytest.mark.parametrize("source, target", [(".jsonl", ".parquet"), (".csv", ".csv"), (".parquet", ".jsonl")])
def test_output_holds_a_row_per_record_with_the_id_first(run, tmp_path, source, target):
    data = write_dataset(tmp_path / f"corpus{source}", records(number_text=source == ".jsonl"))
    out = tmp_path / f"summaries{target}"
    result = run(data, *LEAD, "--output", out)
    assert result.exit_code == 1
    assert result.stdout == ""
    columns, rows = read_output(out)
    assert columns[0] == "id" and set(columns) == {"id"} | RESULT_KEYS
    assert [row["id"] for row in rows] == ["n1", "n2", "n3", "n4", "n5"]
    assert [row["source"] for row in rows] == [f"{data}#n{i}" for i in range(1, 6)]
    failed = {row["id"] for row in rows if row["error"]}  # CSV has "" for null
    assert failed == set(BAD[source])
    assert rows[0]["summary_ru"] == ROADS and rows[0]["title"] == "Дороги отремонтируют к осени"
    assert rows[0]["url"] == "https://kurier.example/n1" and rows[0]["date"] == "2024-03-01"


@pytest.mark.parametrize("target", [".jsonl", ".parquet"])
def test_skip_existing_skips_done_ids_and_redoes_failed_ones(run, tmp_path, target):
    data = write_dataset(tmp_path / "corpus.jsonl", records(number_text=True))
    out = tmp_path / f"summaries{target}"
    assert run(data, *LEAD, "--output", out).exit_code == 1
    fixed = records(number_text=True)
    fixed[0]["text"] = PARK  # a done record: if it were redone, its summary would change
    fixed[2]["text"], fixed[3]["text"], fixed[4]["text"] = FERRY, ROADS, PARK
    write_dataset(data, fixed)
    result = run(data, *LEAD, "--output", out, "--skip-existing")
    assert result.exit_code == 0, result.stderr
    assert "summarize: 3 done, 0 failed, 2 skipped (already written)" in result.stderr
    _, rows = read_output(out)
    by_id = {row["id"]: row for row in rows}
    assert sorted(by_id) == ["n1", "n2", "n3", "n4", "n5"] and len(rows) == 5
    assert by_id["n1"]["summary_ru"] == ROADS  # kept from the first run
    assert [by_id[i]["summary_ru"] for i in ("n3", "n4", "n5")] == [FERRY, ROADS, PARK]
    assert not any(row["error"] for row in rows)


def test_skip_existing_with_output_skips_a_url_already_written(run, site, tmp_path):
    url = site.add("/news/tram.html", news_page())
    out = tmp_path / "pages.jsonl"
    assert run(url, *LEAD, "--output", out).exit_code == 0
    result = run(url, *LEAD, "--output", out, "--skip-existing")
    assert error_lines(result.stderr) == []
    assert result.exit_code == 0
    assert "1 skipped (already written)" in result.stderr
    assert site.hits["/news/tram.html"] == 1
    assert [row["id"] for row in read_output(out)[1]] == [url]


def test_skip_existing_with_output_and_stdin_is_no_error(run, tmp_path):
    out = tmp_path / "piped.jsonl"
    assert run(*LEAD, "--output", out, input=SHORT).exit_code == 0
    result = run(*LEAD, "--output", out, "--skip-existing", input=SHORT)
    assert error_lines(result.stderr) == []
    assert result.exit_code == 0
    assert [row["id"] for row in read_output(out)[1]] == ["stdin"]


@pytest.mark.parametrize("through_a_link", [False, True], ids=["same-path", "symlink"])
def test_output_that_names_an_input_is_refused_before_any_work(run, site, tmp_path, through_a_link):
    data = write_dataset(tmp_path / "corpus.jsonl", records(number_text=True))
    before = data.read_bytes()
    out = data
    if through_a_link:
        out = tmp_path / "summaries.jsonl"
        out.symlink_to(data.name)
    url = site.add("/news/tram.html", news_page())
    result = run(url, data, *LEAD, "--output", out)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"summarize: error: --output {out}: is an input of this run and would be overwritten; choose another file"]
    assert data.read_bytes() == before
    assert site.hits == {}  # not even the page was fetched
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({data.name, out.name})  # no temporary file left


@pytest.mark.parametrize("option, name", [("--output", "todo.jsonl"), ("--errors", "todo.txt")])
def test_an_output_that_names_the_input_list_is_refused(run, short_file, tmp_path, option, name):
    listed = tmp_path / name
    listed.write_text(f"{short_file}\n", encoding="utf-8")
    result = run("-i", listed, *LEAD, option, listed)
    assert listed.read_text(encoding="utf-8") == f"{short_file}\n"
    assert result.exit_code == 2
    assert result.stderr.startswith(f"summarize: error: {option} {listed}: ")


def test_output_with_output_dir_is_refused(run, tmp_path, short_file):
    result = run(short_file, *LEAD, "--output", tmp_path / "out.jsonl", "--output-dir", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["summarize: error: --output and --output-dir: choose one (a dataset file, or a file per input)"]
    assert not (tmp_path / "out.jsonl").exists() and not (tmp_path / "out").exists()


def test_output_with_an_extension_that_is_no_dataset_is_refused(run, tmp_path, short_file):
    bad = tmp_path / "summaries.txt"
    result = run(short_file, *LEAD, "--output", bad)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"summarize: error: {bad}: an output dataset must end in .jsonl, .csv, .parquet"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [short_file.name]


def test_a_text_file_in_an_output_dataset_has_its_path_as_id(run, tmp_path, short_file, site):
    url = site.add("/news/tram.html", news_page())
    out = tmp_path / "out.jsonl"
    result = run(short_file, url, *LEAD, "--output", out)
    assert result.exit_code == 0, result.stderr
    _, rows = read_output(out)
    assert [(row["id"], row["source"], row["url"]) for row in rows] == [(str(short_file), str(short_file), None), (url, url, url)]
    assert rows[1]["title"] == TRAM_TITLE and rows[1]["date"] == "2024-11-12"


def test_a_dataset_into_an_output_dir_gives_a_file_per_good_record(run, tmp_path):
    data = write_jsonl(tmp_path / "corpus.jsonl", [{"id": "n1", "text": ROADS}, {"id": "2024/05", "text": PARK}, {"id": "n3"}])
    out = tmp_path / "out"
    result = run(data, *LEAD, "-o", out, "-f", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == ["corpus/2024_05.json", "corpus/n1.json"]
    written = json.loads((out / "corpus" / "2024_05.json").read_text(encoding="utf-8"))
    assert (written["source"], written["summary_ru"]) == (f"{data}#2024/05", PARK)
    assert f"summarize: error: {data}#n3: field 'text' is missing" in result.stderr


def test_plain_text_with_several_inputs_heads_each_result(run, site, tmp_path):
    data = write_jsonl(tmp_path / "corpus.jsonl", [{"id": "n1", "text": ROADS}, {"id": "n2"}])
    url = site.add("/news/tram.html", news_page())
    result = run(data, url, *LEAD, "-f", "plain")
    assert result.exit_code == 1
    heads = [line for line in result.stdout.splitlines() if line.startswith("==> ")]
    assert heads == [f"==> {data}#n1 <==", f"==> {url} <=="]  # the failed record is on stderr only
    assert ROADS in result.stdout and TRAM_LEAD in result.stdout
    assert TRAM_TITLE not in result.stdout  # plain shows summaries, not titles


# --- through the models -----------------------------------------------------------------------


def test_pages_and_records_reach_the_model_without_title_or_boilerplate(run, site, tmp_path, generate_calls):
    url = site.add("/news/tram.html", news_page())
    data = write_jsonl(tmp_path / "corpus.jsonl", [{"id": "n1", "title": "Дороги отремонтируют к осени", "text": ROADS}])
    out = tmp_path / "out.parquet"
    result = run(url, data, "--output", out, "--long", "chunk")  # chunks: all of the body goes in
    assert result.exit_code == 0, result.stderr
    _, rows = read_output(out)
    assert [row["id"] for row in rows] == [url, "n1"]
    for row in rows:
        assert row["summary_ru"] and row["summary_en"] and row["model"] == "tiny-t5" and row["input_tokens"] > 0
    assert (rows[0]["title"], rows[0]["url"], rows[0]["date"]) == (TRAM_TITLE, url, "2024-11-12")
    assert rows[1]["title"] == "Дороги отремонтируют к осени"
    # What the summariser read of the articles (the other calls are the tiny models' own gibberish).
    words = ("НОВОСИБИРСК", "трамвай", "Вагон", "инженеры", "Седова", "испытания", "Правительство", "Работы")
    read = [text for call in generate_calls for text in call.texts if any(word in text for word in words)]
    for fragment in ("НОВОСИБИРСК, 12 ноя", TRAM_LEAD, "сибирские морозы", "директора «Горэлектротранса»", "шесть таких вагонов", "ремонта дорог"):
        assert any(fragment in text for text in read), fragment
    for text in read:
        for unwanted in [TRAM_TITLE, "Дороги отремонтируют к осени", *JUNK]:
            assert unwanted not in text, (unwanted, text)


def test_a_page_that_fails_still_names_its_url(run, site):
    missing = site.url("/gone.html")
    [row] = parse_jsonl(run(missing, *LEAD, "-f", "jsonl").stdout)
    assert row["error"] and row["url"] == missing and row["summary_ru"] is None


def test_passwords_and_tokens_in_urls_are_never_shown_or_stored(run, site):
    good = site.add("/news/tram.html?token=s3cr3t&page=1", news_page()).replace("http://", "http://reader:hunter2@")
    bad = site.url("/gone.html?sig=abc123&key=k3y").replace("http://", "http://reader:hunter2@")
    result = run(good, bad, *LEAD, "-f", "jsonl")
    assert result.exit_code == 1
    tram, gone = parse_jsonl(result.stdout)
    assert tram["source"] == tram["url"] == good.replace("reader:hunter2@", "***@").replace("s3cr3t", "***")
    assert gone["source"] == bad.replace("reader:hunter2@", "***@").replace("abc123", "***").replace("k3y", "***")
    assert tram["error"] is None and gone["error"].startswith(gone["source"] + ": the server answered 404")
    for secret in ("hunter2", "s3cr3t", "abc123", "k3y"):
        assert secret not in result.stdout + result.stderr


def test_an_upper_case_scheme_is_a_url(run, site):
    url = site.add("/news/tram.html", news_page())
    result = run(url.replace("http://", "HTTP://"), *LEAD, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["title"] == TRAM_TITLE


def test_text_sent_as_octet_stream_is_sniffed_like_a_file(run, site):
    page = site.add("/news/tram", news_page(), "application/octet-stream")
    text = site.add("/ice", PLAIN_PAGE, "application/octet-stream")
    result = run(page, text, *LEAD, "-f", "jsonl")
    assert result.exit_code == 0, result.stderr
    tram, ice = parse_jsonl(result.stdout)
    assert tram["title"] == TRAM_TITLE and ice["title"] == "Ледоход на Оби"


def test_a_big_page_is_limited_by_its_article_not_its_scripts(run, site):
    # Inline scripts, JSON state and base64 images make pages megabytes long around a short article.
    bloat = "<script>window.__STATE__ = " + json.dumps({"x": "a" * 80_000}) + ";</script>"
    url = site.add("/news/tram.html", news_page().replace("</body>", bloat + "</body>"))
    result = run(url, *LEAD, "-f", "json", "--max-input-chars", "5000")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["title"] == TRAM_TITLE
    too_long = run(url, *LEAD, "-f", "json", "--max-input-chars", "100")
    assert too_long.exit_code == 1
    assert "is over the limit of 100 characters: it has" in too_long.stderr and "characters;" in too_long.stderr


def test_input_file_takes_inline_comments_after_a_space_and_keeps_url_fragments(run, site, tmp_path):
    tram = site.add("/news/tram.html", news_page())
    listed = tmp_path / "today.txt"
    listed.write_text(f"{tram}   # the tram story\n{tram}#comments\t# same page, a fragment\n", encoding="utf-8")
    result = run("-i", listed, *LEAD, "-f", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert [row["source"] for row in parse_jsonl(result.stdout)] == [tram, f"{tram}#comments"]
    assert site.hits["/news/tram.html"] == 2 and not any("%20" in path for path in site.hits)


@pytest.mark.parametrize("given", ["www.example.com/news", "lenta.ru/news/2026/01/tram/"])
def test_a_missing_path_that_looks_like_a_web_address_gets_a_hint(run, tmp_path, monkeypatch, given):
    monkeypatch.chdir(tmp_path)
    result = run(given, *LEAD)
    assert result.exit_code == 1
    assert error_lines(result.stderr) == [f"summarize: error: {given}: no such file or folder; check the path (did you mean https://{given}?)"]


@pytest.mark.parametrize("given", ["news.txt", "notes/today.md", "corpus.jsonl"])
def test_a_missing_file_gets_no_web_hint(run, tmp_path, monkeypatch, given):
    monkeypatch.chdir(tmp_path)
    result = run(given, *LEAD)
    assert error_lines(result.stderr) == [f"summarize: error: {given}: no such file or folder; check the path"]


def test_ray_refuses_a_web_page_in_any_case(run, tmp_path):
    result = run("HTTPS://example.com/news/1.html", "--ray", *LEAD, "--output", tmp_path / "out")
    assert result.exit_code == 2
    assert "not stdin or web pages" in result.stderr
