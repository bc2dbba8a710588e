"""The HTTP app: routes, the one error shape ({"error": one line}), the token, the body limit, CORS.

Everything that must hold before a request reaches a route (the token, the content type, the body
limit, the catch-all for errors, the request count) is one pure ASGI middleware, Guard: it sees the
body arrive, so a body past the limit is refused as soon as it is (Content-Length, else counted as
it streams), never read whole.
"""

from __future__ import annotations

import asyncio
import hmac
import time
import traceback
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from summarize.documents import Document, Failure
from summarize.errors import SummarizeError, first_line, version
from summarize.flags import ServeFlags
from summarize.outputs.render import one_line
from summarize.runs.serve.batching import DeadlinePassed, QueueFull
from summarize.runs.serve.metrics import ServeMetrics
from summarize.runs.serve.requests import (
    BAD_REQUEST,
    TIMED_OUT,
    TOO_LARGE,
    UNAVAILABLE,
    UNPROCESSABLE,
    Rejected,
    RequestOptions,
    SummarizeRequest,
)
from summarize.runs.serve.service import Service

PAGE = Path(__file__).parent / "page"  # the browser page (index.html and its /static files)
PROTECTED = ("/v1/", "/metrics")  # what needs the token; /healthz, the page and the API docs stay open
ENDPOINTS = ("/v1/summarize", "/v1/summarize/batch", "/healthz", "/metrics", "/", "/docs", "/openapi.json")
RETRY_AFTER = "1"  # seconds: a full queue drains in about a group's time
CLIENT_GONE = 499  # as nginx counts a request whose client hung up before its answer
REASONS = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method", 413: "too_large", 415: "media_type", 422: "invalid"}
REASONS |= {500: "internal", 503: "unavailable", 504: "deadline", CLIENT_GONE: "client_gone"}


class ClientGone(Exception):
    """The client hung up before its answer: nothing is sent."""


def make_app(service: Service, flags: ServeFlags, metrics: ServeMetrics, notify: Callable[[str], None], debug: bool = False) -> FastAPI:
    """The app over a Service (loaded or still loading: /healthz says which)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        service.close()  # after uvicorn's grace period: what still waits is given up

    app = FastAPI(title="summarize", version=version(), summary="Russian news → summary and English translation", docs_url=None, redoc_url=None)
    app.router.lifespan_context = lifespan
    _errors(app)
    _api(app, service, flags, metrics)
    _pages(app)
    app.add_middleware(Guard, token=flags.token, max_body=flags.max_body, metrics=metrics, notify=notify, debug=debug)
    if flags.cors:  # outermost: preflights are answered, and errors carry the CORS headers too
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=flags.cors, allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])
    return app


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": one_line(message)}, status, headers=headers)


def _errors(app: FastAPI) -> None:
    """Every error as {"error": one line}: no HTML page, no list of details, no traceback."""

    @app.exception_handler(Rejected)
    async def rejected(request: Request, e: Rejected) -> JSONResponse:
        return error(e.status, e.message, e.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        return error(*validation_line(e.errors()))

    @app.exception_handler(HTTPException)
    async def http(request: Request, e: HTTPException) -> JSONResponse:
        what = {404: "no such page", 405: "method not allowed"}.get(e.status_code, str(e.detail).lower())
        return error(e.status_code, f"{what}: {request.method} {request.url.path}; the API is POST /v1/summarize (see /docs)", e.headers)


def validation_line(errors: list[dict[str, Any]]) -> tuple[int, str]:
    """pydantic's list of problems as a status and one line: the first problem, and how many more."""
    first = errors[0]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"][1:]).lstrip(".")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if first["type"] == "json_invalid":
        return BAD_REQUEST, f'the body is not valid JSON ({first.get("ctx", {}).get("error", first["msg"])}); send a JSON object such as {{"text": "…"}}'
    if first["type"] == "missing" and not where:
        return BAD_REQUEST, 'the body is empty; send a JSON object such as {"text": "…"}'
    if first["type"] == "extra_forbidden":
        known = RequestOptions.model_fields if "options" in first["loc"][:-1] else SummarizeRequest.model_fields
        return UNPROCESSABLE, f"unknown field {where!r}; the fields are: {', '.join(known)}{more}"
    message = first["msg"].removeprefix("Value error, ")
    return UNPROCESSABLE, f"{where}: {message}{more}" if where else f"{message}{more}"


def _api(app: FastAPI, service: Service, flags: ServeFlags, metrics: ServeMetrics) -> None:
    @app.post("/v1/summarize", summary="Summarise one article")
    async def summarize_one(body: SummarizeRequest, request: Request) -> dict[str, Any]:
        """One result object, with exactly the keys of `summarize --format json`. A request that
        cannot run (bad options, an empty text, a url that cannot be fetched) is a 4xx."""
        (answer,) = await _summarize(service, flags, metrics, [body], request, alone=True)
        if answer.get("error"):
            raise Rejected(500, answer["error"])
        return answer

    @app.post("/v1/summarize/batch", summary="Summarise several articles")
    async def summarize_many(body: list[SummarizeRequest], request: Request) -> list[dict[str, Any]]:
        """A result per request object, in order; one that fails is a result with `error` set, as
        `summarize --format json` gives a failed input. Problems of the whole request are a 4xx."""
        if not body:
            raise Rejected(UNPROCESSABLE, "the batch is empty; send a JSON array of request objects")
        limit = min(flags.max_batch, flags.queue)  # more than the queue holds could never be let in
        if len(body) > limit:
            raise Rejected(TOO_LARGE, f"the batch has {len(body)} documents, over this server's limit of {limit}; split it")
        return await _summarize(service, flags, metrics, body, request, alone=False)

    @app.get("/healthz", summary="200 once the models are loaded, 503 before")
    async def healthz() -> JSONResponse:
        if not service.ready:
            return error(UNAVAILABLE, "the models are still loading", {"Retry-After": RETRY_AFTER})
        return JSONResponse({"status": "ok", "serving": service.describe()})

    @app.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def prometheus() -> Response:
        body, kind = metrics.exposition()
        return Response(body, media_type=kind)


async def _summarize(service: Service, flags: ServeFlags, metrics: ServeMetrics, asked: list[SummarizeRequest], request: Request, alone: bool) -> list[dict]:
    """Read, queue, wait: each request object's result, in order. `alone`: a single request, whose
    unreadable document is the request's 4xx rather than a failed result."""
    if not service.ready:
        raise Rejected(UNAVAILABLE, "the models are still loading; try again in a moment", {"Retry-After": RETRY_AFTER})
    deadline = time.monotonic() + flags.deadline
    options = [_options(service, one, i, alone) for i, one in enumerate(asked)]
    read = await asyncio.gather(*(_read(service, one, deadline, alone) for one in asked))
    work = [(opts, doc) for opts, doc in zip(options, read) if isinstance(doc, Document)]
    try:
        futures = service.submit(work, deadline)
    except QueueFull:
        raise Rejected(UNAVAILABLE, f"the server is busy ({flags.queue} documents waiting); try again shortly", {"Retry-After": RETRY_AFTER}) from None
    done = iter(await _wait(futures, deadline, request, flags.deadline, service.batcher.poke))
    results = [next(done) if isinstance(doc, Document) else service.failed(opts, doc) for opts, doc in zip(options, read)]
    answers = []
    for one, result in zip(asked, results):
        result.id = one.id if one.id is not None else result.source
        metrics.finished(result.error is not None)
        answers.append(result.to_dict())
    return answers


def _options(service: Service, asked: SummarizeRequest, index: int, alone: bool):
    try:
        return service.options_for(asked.options)
    except Rejected as e:
        if alone:
            raise
        raise Rejected(e.status, f"[{index}]: {e.message}", e.headers) from None


async def _read(service: Service, asked: SummarizeRequest, deadline: float, alone: bool) -> Document | Failure:
    """The request object's Document, read in a thread (a url is fetched, a long text takes a
    while to check), or its Failure in a batch."""
    try:
        return await asyncio.to_thread(service.read, asked, deadline)
    except (Rejected, SummarizeError) as e:
        if alone:
            raise e if isinstance(e, Rejected) else Rejected(UNPROCESSABLE, str(e)) from None
        return Failure(asked.source, str(e), url=asked.url)


async def _wait(futures: list, deadline: float, request: Request, seconds: float, poke: Callable[[], None]) -> list:
    """The futures' results; on the deadline, or when the client hangs up, those not started are
    given up (the batcher skips them)."""
    if not futures:
        return []
    results = asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
    gone = asyncio.ensure_future(_hung_up(request.receive))
    try:
        finished, _ = await asyncio.wait({results, gone}, timeout=max(0.0, deadline - time.monotonic()), return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if results in finished and not isinstance(results.exception(), DeadlinePassed):
        return results.result()
    if not results.done():
        results.cancel()
    for future in futures:
        future.cancel()  # those of its documents still waiting (the others run, or ran, to no use)
    poke()
    if gone in finished:
        raise ClientGone
    raise Rejected(TIMED_OUT, f"no answer within the server's deadline of {seconds:g} s; try again later, or send fewer documents at once")


async def _hung_up(receive: Callable[[], Awaitable[dict]]) -> None:
    """Returns when the client disconnects (the body is read: nothing else comes)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _pages(app: FastAPI) -> None:
    """The browser page, its static files, and the API docs: all served from here, nothing from a CDN."""

    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        page = PAGE / "index.html"
        return FileResponse(page) if page.is_file() else error(404, "this install has no page; the API is POST /v1/summarize (see /docs)")

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        files = {p.name: p for p in PAGE.iterdir() if p.is_file()} if PAGE.is_dir() else {}
        if name not in files:  # a name of the page's own files: no paths, nothing else on disk
            return error(404, f"no such file: /static/{name}")
        return FileResponse(files[name])

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(docs_page(app.openapi()))


def docs_page(spec: dict) -> str:
    """The API's routes as a plain page (FastAPI's Swagger UI loads its scripts from a CDN, which an
    offline server cannot reach); the machine-readable spec is /openapi.json."""
    from html import escape

    rows = []
    for path, methods in spec.get("paths", {}).items():
        for method, operation in methods.items():
            rows.append(f"<h2><code>{method.upper()} {escape(path)}</code> {escape(operation.get('summary', ''))}</h2>")
            rows.append(f"<p>{escape(operation.get('description', ''))}</p>")
    schemas = escape(_json(spec.get("components", {}).get("schemas", {})))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(spec['info']['title'])} API</title></head><body>"
        f"<h1>{escape(spec['info']['title'])} {escape(spec['info']['version'])}</h1><p>The full specification: <a href='/openapi.json'>/openapi.json</a>."
        f' Errors are <code>{{"error": "one line"}}</code>.</p>{"".join(rows)}<h2>Schemas</h2><pre>{schemas}</pre></body></html>'
    )


def _json(value: Any) -> str:
    import json

    return json.dumps(value, indent=2, ensure_ascii=False)


class Guard:
    """Pure ASGI, around the app: the request count, the token, the content type, the body limit,
    and the last word on errors (one line in the log, {"error": "internal error"} to the client)."""

    def __init__(self, app, *, token: str | None, max_body: int, metrics: ServeMetrics, notify: Callable[[str], None], debug: bool):
        self.app, self.token, self.max_body, self.metrics, self.notify, self.debug = app, token, max_body, metrics, notify, debug

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status: list[int] = []

        async def sending(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            refused = self._refuse(scope)
            body = b""
            if refused is None and scope["method"] == "POST":
                body, refused = await self._body(scope, receive)
            if refused is not None:
                await refused(scope, receive, sending)
            else:
                await self.app(scope, _replay(body, receive), sending)
        except ClientGone:
            status.append(CLIENT_GONE)
        except Exception as e:  # noqa: BLE001 - the last word: one line in the log, none of it to the client
            self._log(scope, e)
            if not status:
                await error(500, "internal error")(scope, receive, sending)
        finally:
            code = status[0] if status else CLIENT_GONE
            self.metrics.answered(scope["path"] if scope["path"] in ENDPOINTS else "other", code, REASONS.get(code) if code >= 400 else None)

    def _refuse(self, scope) -> Response | None:
        """The answer to a request refused on its headers alone, or None."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.token and scope["path"].startswith(PROTECTED):
            given = headers.get("authorization", "")
            scheme, _, credentials = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.strip().encode(), self.token.encode()):
                what = "a wrong token" if given else "no token"
                return error(401, f"{what}: send 'Authorization: Bearer TOKEN' with the server's token", {"WWW-Authenticate": "Bearer"})
        if scope["method"] != "POST":
            return None
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            return error(415, f"the body must be JSON sent as 'Content-Type: application/json', not {kind or 'no type'!r}")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return error(TOO_LARGE, self._too_large()) if length.isdigit() else error(BAD_REQUEST, "the Content-Length header is not a number")
        return None

    async def _body(self, scope, receive) -> tuple[bytes, Response | None]:
        """The whole body, counted as it arrives: past the limit, the answer is 413 there and then."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return b"", error(TOO_LARGE, self._too_large())
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            body.decode("utf-8")  # JSON is UTF-8 (RFC 8259); anything else is binary data or a wrong encoding
        except UnicodeDecodeError as e:
            return b"", error(BAD_REQUEST, f"the body is not UTF-8 (byte {e.start}); send JSON text in UTF-8")
        return body, None

    def _too_large(self) -> str:
        return f"the body is over this server's limit of {self.max_body} bytes; send less at once (a batch in parts), or raise --max-body"

    def _log(self, scope, e: Exception) -> None:
        where = f"{scope['method']} {scope['path']}"
        if self.debug:
            self.notify(f"error: {where}: internal error\n{''.join(traceback.format_exception(e)).rstrip()}")
        else:
            self.notify(f"error: {where}: internal error ({type(e).__name__}: {first_line(e, 200)}); run with --debug for the traceback")


def _replay(body: bytes, receive):
    """The body already read, handed to the app as one message; then the connection's own messages."""
    given = False

    async def receiving() -> dict:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receiving
