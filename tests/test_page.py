"""The page at `/` in a real headless Chromium (Playwright driving Debian's chromium) against a real
`summarize serve` with the tiny models: typed and dropped articles summarised, errors in the alert
region as one line, the token field, the keyboard, and a phone-width layout without sideways
scrolling. Screenshots go to the temporary folder for a person to look at."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from helpers import ARTICLE, SHORT
from serving import serving

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TOKEN = "test-token-0123456789"
MAX_CHARS = 400  # the server's --max-input-chars: the example article is over it
ARTICLE_TEXT = f"{SHORT} Подрядчиков выберут на конкурсе. Итоги подведут в апреле."
SHOTS = Path(tempfile.gettempdir())
if CHROMIUM is None:
    pytest.skip("chromium is not installed (scripts/setup.sh installs it with apt)", allow_module_level=True)


@pytest.fixture(scope="module")
def server(fast_config):
    with serving(fast_config, "--max-input-chars", str(MAX_CHARS)) as served:
        yield served.base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def open_page(browser):
    """A fresh tab (its own sessionStorage) at a viewport size, on a page of the server."""
    contexts = []

    def opening(url: str, width: int = 1280, height: int = 900, phone: bool = False):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="ru-RU", is_mobile=phone, has_touch=phone)
        contexts.append(context)
        page = context.new_page()
        page.goto(url)
        return page

    yield opening
    for context in contexts:
        context.close()


def wait_for_answer(page) -> None:
    """Playwright's own waits: a wait_for_function predicate is evaluated as a string, which the page's
    Content-Security-Policy (no 'unsafe-eval') refuses, as it should."""
    from playwright.sync_api import expect

    expect(page.locator("#go")).to_be_enabled(timeout=120_000)
    expect(page.locator("#status")).to_have_text("", timeout=120_000)


def alert_line(page) -> str:
    alert = page.locator("#alert")
    assert alert.is_visible() and alert.get_attribute("role") == "alert"
    text = alert.inner_text()
    assert text.strip() and "\n" not in text.strip(), text
    return text


def test_a_typed_article_gives_both_summaries_the_model_and_no_error(server, open_page):
    page = open_page(server)
    assert page.title().startswith("summarize") and page.locator("#article").get_attribute("lang") == "ru"
    page.fill("#article", ARTICLE_TEXT)
    page.press("#article", "Control+Enter")
    page.wait_for_selector("#result:not([hidden])", timeout=120_000)
    assert page.locator("#summary-ru").inner_text().strip()
    assert page.locator("#summary-ru").get_attribute("lang") == "ru"
    assert page.locator("#summary-en").inner_text().strip()
    assert page.locator("#meta-model").inner_text() == "tiny-t5"
    assert page.locator("#meta-backend").inner_text().startswith(("ctranslate2", "torch"))
    assert float(page.locator("#meta-seconds").inner_text()) >= 0
    assert page.locator("#alert").is_hidden()
    page.screenshot(path=str(SHOTS / "summarize-page-desktop.png"), full_page=True)


def test_the_options_chosen_are_sent(server, open_page):
    page = open_page(server)
    page.fill("#article", ARTICLE_TEXT)
    page.select_option("#length", "short")
    page.uncheck("#translate")
    with page.expect_request("**/v1/summarize") as sent:
        page.click("#go")
    assert json.loads(sent.value.post_data) == {"text": ARTICLE_TEXT, "options": {"translate": False, "length": "short"}}
    wait_for_answer(page)
    assert page.locator("#summary-ru").inner_text().strip() and page.locator("#en-block").is_hidden()
    assert page.locator("#meta-translator").inner_text() == "none"


@pytest.fixture(scope="module")
def two_targets(fast_config):
    with serving(fast_config, "--to", "de,en") as served:
        yield served.base


def test_the_page_offers_the_servers_targets_sends_to_and_shows_each_summary(two_targets, open_page):
    from playwright.sync_api import expect

    page = open_page(two_targets)
    expect(page.locator("#to-de")).to_be_checked(timeout=60_000)
    assert page.locator("label[for=to-de]").inner_text() == "German (de)" and page.locator("label[for=to-en]").inner_text() == "English (en)"
    page.fill("#article", ARTICLE_TEXT)
    with page.expect_request("**/v1/summarize") as sent:
        page.click("#go")
    assert json.loads(sent.value.post_data)["options"] == {"translate": True, "to": "de,en"}
    wait_for_answer(page)
    assert page.locator("#summary-de").inner_text().strip() and page.locator("#summary-de").get_attribute("lang") == "de"
    assert page.locator("#summary-en").inner_text().strip()
    assert page.locator("#de-heading").inner_text() == "German summary"
    assert page.locator("#translations h3").all_inner_texts() == ["German summary", "English summary"]  # the order sent
    page.screenshot(path=str(SHOTS / "summarize-page-targets.png"), full_page=True)
    page.uncheck("#to-de")
    with page.expect_request("**/v1/summarize") as sent:
        page.click("#go")
    assert json.loads(sent.value.post_data)["options"] == {"translate": True, "to": "en"}
    wait_for_answer(page)
    assert page.locator("#summary-en").inner_text().strip() and page.locator("#de-block").count() == 0


def test_an_empty_article_and_a_server_refusal_are_one_line_in_the_alert(server, open_page):
    page = open_page(server)
    page.click("#go")
    assert alert_line(page).startswith("Nothing to summarise")
    page.fill("#article", ARTICLE.read_text(encoding="utf-8"))  # over the server's --max-input-chars
    page.click("#go")
    wait_for_answer(page)
    line = alert_line(page)
    assert f"over the limit of {MAX_CHARS} characters" in line and page.locator("#result").is_hidden()


def test_a_new_error_clears_the_last_summary(server, open_page):
    page = open_page(server)
    page.fill("#article", ARTICLE_TEXT)
    page.click("#go")
    page.wait_for_selector("#result:not([hidden])", timeout=120_000)
    page.fill("#article", ARTICLE.read_text(encoding="utf-8"))  # over the server's --max-input-chars
    page.click("#go")
    wait_for_answer(page)
    assert "over the limit" in alert_line(page) and page.locator("#result").is_hidden()


def test_a_server_that_went_away_is_said_in_the_alert(fast_config, open_page):
    with serving(fast_config) as served:
        page = open_page(served.base)
    page.fill("#article", ARTICLE_TEXT)  # the server is stopped now
    page.click("#go")
    wait_for_answer(page)
    assert alert_line(page).startswith("The server did not answer")


def test_an_html_file_is_read_in_the_browser_and_sent_as_html(server, open_page, tmp_path):
    page_file = tmp_path / "news.html"
    page_file.write_bytes(
        f"<html><head><meta charset='windows-1251'><title>Ремонт дорог</title></head><body><article><h1>Ремонт дорог</h1>"
        f"<p>{ARTICLE_TEXT}</p></article></body></html>".encode("cp1251")
    )
    page = open_page(server)
    page.set_input_files("#file", str(page_file))
    page.wait_for_selector("#file-note:not([hidden])")
    assert "page HTML (windows-1251)" in page.locator("#file-note").inner_text()
    with page.expect_request("**/v1/summarize") as sent:
        page.click("#go")
    assert "Подрядчиков выберут" in json.loads(sent.value.post_data)["html"]
    wait_for_answer(page)
    assert page.locator("#alert").is_hidden(), page.locator("#alert").inner_text()
    assert page.locator("#summary-ru").inner_text().strip()


def test_flagged_spans_are_highlighted_and_server_text_is_never_markup(server, open_page):
    """The check's `unsupported` spans (which the tiny models cannot be made to produce) come from a
    recorded answer; a summary holding markup must show as text."""
    page = open_page(server)
    answer = {
        "id": "text", "source": "text", "title": "<img src=x onerror=alert(1)>", "url": None, "date": None,
        "summary_ru": "Иванов сказал, что <b>5</b> дорог отремонтируют к 2030 году. Иванов доволен.",
        "summary_en": "Ivanov said 5 roads will be repaired by 2030.", "engine": "abstractive", "model": "tiny-t5",
        "translator": "tiny-marian", "backend": "ctranslate2 int8", "input_tokens": 20, "used_tokens": 20, "truncated": False,
        "chunks": 1, "seconds": 0.5, "warnings": ["the summary stopped at the length limit"], "error": None,
        "unsupported": [{"text": "Иванов", "kind": "name", "field": "summary_ru"}, {"text": "2030", "kind": "number", "field": "summary_en"}],
    }  # fmt: skip
    page.route("**/v1/summarize", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(answer, ensure_ascii=False)))
    page.fill("#article", ARTICLE_TEXT)
    page.click("#go")
    page.wait_for_selector("#result:not([hidden])")
    assert page.locator("#summary-ru mark.flag-name").all_inner_texts() == ["Иванов", "Иванов"]
    assert page.locator("#summary-en mark.flag-number").all_inner_texts() == ["2030"]
    assert page.locator("#summary-ru").inner_text() == answer["summary_ru"]  # markup shown as text, the whole summary kept
    assert page.locator("#result b, #result img").count() == 0
    assert page.locator("#result-title").inner_text() == answer["title"]
    assert page.locator("#flags li").count() == 2 and page.locator("#warnings li").all_inner_texts() == answer["warnings"]


def test_a_token_is_asked_for_kept_for_the_tab_and_sent(fast_config, open_page):
    with serving(fast_config, token=TOKEN) as served:
        page = open_page(served.base)
        page.fill("#article", ARTICLE_TEXT)
        page.click("#go")
        wait_for_answer(page)
        assert "Access token" in alert_line(page) and page.locator("#token-box").get_attribute("open") is not None
        page.fill("#token", "токен")  # a header carries no Cyrillic: said, not sent
        page.click("#go")
        assert "cannot carry" in alert_line(page)
        page.fill("#token", TOKEN)
        page.reload()  # kept in sessionStorage for this tab
        assert page.locator("#token").input_value() == TOKEN
        page.fill("#article", ARTICLE_TEXT)
        with page.expect_request("**/v1/summarize") as sent:
            page.click("#go")
        assert sent.value.headers["authorization"] == f"Bearer {TOKEN}"
        wait_for_answer(page)
        assert page.locator("#alert").is_hidden() and page.locator("#summary-ru").inner_text().strip()


def test_the_keyboard_reaches_every_control_in_order_with_a_visible_focus(server, open_page):
    page = open_page(server)
    page.wait_for_selector("#to-en", timeout=60_000)  # the server's targets, ticks after the translate one
    order = []
    for _ in range(8):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.tagName.toLowerCase()"))
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none", order
    assert order[:7] == ["article", "file", "length", "translate", "to-en", "summary", "go"], order
    for control in ("article", "file", "length", "translate", "token"):
        assert page.locator(f"label[for={control}]").count() == 1, control


def test_at_phone_width_nothing_scrolls_sideways(server, open_page):
    page = open_page(server, width=375, height=740, phone=True)  # a phone's browser lays out at 980 px unless the page says otherwise
    page.fill("#article", ARTICLE_TEXT + " " + "https://example.org/" + "очень-длинный-адрес-" * 10)
    page.press("#article", "Control+Enter")
    page.wait_for_selector("#result:not([hidden])", timeout=120_000)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    assert page.evaluate("document.getElementById('go').getBoundingClientRect().right") <= 375
    page.screenshot(path=str(SHOTS / "summarize-page-phone.png"), full_page=True)
