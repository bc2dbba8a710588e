"""What the serving tests of connections, scheduling and stopping share: texts whose results can
only come from their own input, and a slow site on 127.0.0.1 that answers only when let."""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGE = Path(__file__).parent / "pages" / "ria_style.html"
WAIT_S = 60  # a bounded wait for what must happen (never a threshold on how fast)

NAMES = ("Алексей Петров", "Борис Смирнов", "Виктор Орлов", "Григорий Волков")
FILLER = " Работы продолжатся в течение всего года, и власти следят за ними каждый день."


def distinct_texts() -> list[str]:
    """Texts of different lengths whose first sentence (what `lead` keeps) names only its own person."""
    return [f"{name} открыл новую школу в городе номер {i}.{FILLER * (1 + 3 * i)}" for i, name in enumerate(NAMES)]


def own_results(results: list[dict]) -> None:
    """Each result's summary names its own input's person and no other one."""
    for name, result in zip(NAMES, results, strict=True):
        assert result["error"] is None and name in result["summary_ru"], result
        assert not [other for other in NAMES if other != name and other in result["summary_ru"]], result


class SlowSite:
    """A site on 127.0.0.1 whose pages are answered only once `release` is set (bounded by WAIT_S)."""

    def __init__(self) -> None:
        self.release, self.arrived, self.count, self.lock = threading.Event(), threading.Condition(), 0, threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with site.arrived:
                    site.count += 1
                    site.arrived.notify_all()
                site.release.wait(WAIT_S * 2)
                body = PAGE.read_bytes()
                with contextlib.suppress(OSError):  # the server may have given up on it
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/page-{i}"

    def wait_for(self, count: int) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: self.count >= count, WAIT_S), f"{self.count} of {count} fetches arrived"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
