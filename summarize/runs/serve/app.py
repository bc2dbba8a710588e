"""The HTTP app: the routes (/v1/summarize, its batch, /healthz, /metrics) over a Service, put
together with the error shape (error_shape.py), the browser's pages (browser.py), Guard (guard.py:
the token, the body limit) and CORS.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.middleware.cors import CORSMiddleware

from summarize.documents import Document, Failure
from summarize.errors import SummarizeError, version
from summarize.flags import ServeFlags
from summarize.inputs.given import KINDS, NotText, TooLarge, read_given
from summarize.runs.serve.access import Access
from summarize.runs.serve.batching import DeadlinePassed, QueueFull
from summarize.runs.serve.browser import add_pages
from summarize.runs.serve.connections import BEGAN
from summarize.runs.serve.described import describe_api
from summarize.runs.serve.error_shape import BAD_REQUEST, TIMED_OUT, TOO_LARGE, UNAVAILABLE, UNPROCESSABLE, Rejected, add_error_handlers, error
from summarize.runs.serve.fetching import Fetchers, FetchersBusy
from summarize.runs.serve.guard import ClientGone, Guard
from summarize.runs.serve.info import add_info
from summarize.runs.serve.metrics import ServeMetrics
from summarize.runs.serve.requests import SummarizeRequest, validation_line
from summarize.runs.serve.service import Service

RETRY_AFTER = "1"  # seconds: a full queue drains in about a group's time
READ_STATUS = {TooLarge: TOO_LARGE, NotText: BAD_REQUEST}  # of a document that cannot be read; any other reason is 422


def make_app(service: Service, flags: ServeFlags, metrics: ServeMetrics, notify: Callable[[str], None], debug: bool = False) -> FastAPI:
    """The app over a Service (loaded or still loading: /healthz says which)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        service.close()  # after uvicorn's grace period: what still waits is given up

    # a trailing slash is a 404 that names the route, not an empty 307 (httpx follows no redirect by default)
    app = FastAPI(
        title="summarize", version=version(), summary="Russian news → summary and English translation", docs_url=None, redoc_url=None, redirect_slashes=False
    )
    app.router.lifespan_context = lifespan
    add_error_handlers(app, validation_line)
    _api(app, service, flags, metrics)
    add_info(app, service, flags)
    add_pages(app)
    app.add_middleware(
        Guard,
        access=Access(flags, metrics, notify),
        max_body=flags.max_body,
        max_batch=flags.batch_limit,
        host=flags.host,
        metrics=metrics,
        notify=notify,
        debug=debug,
    )
    if flags.cors:  # outermost: preflights are answered, and errors carry the CORS headers too
        app.add_middleware(_Cors, allow_origins=flags.cors, allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])
    describe_api(app)
    return app


class _Cors(CORSMiddleware):
    """Starlette's CORS, whose refused preflight is {"error": one line} as every other answer."""

    def preflight_response(self, request_headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code < 400:
            return answer
        kept = {k: v for k, v in answer.headers.items() if k not in ("content-length", "content-type")}
        said = answer.body.decode("utf-8", "replace").lower()
        return error(answer.status_code, f"{said} for this server's CORS settings (it lets in pages from {', '.join(self.allow_origins)})", kept)


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
        if not body:  # one over the limit never gets here (intake.check_shape)
            raise Rejected(UNPROCESSABLE, "the batch is empty; send a JSON array of request objects")
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
    deadline = request.scope.get("state", {}).get(BEGAN, time.monotonic()) + flags.deadline  # from the request's first byte
    options = [_options(service, one, i, alone) for i, one in enumerate(asked)]
    try:
        room = service.fetchers.admit(sum(one.url is not None for one in asked))  # urls on threads of their own, bounded
    except FetchersBusy as e:
        raise Rejected(UNAVAILABLE, str(e), {"Retry-After": RETRY_AFTER}) from None
    with room:
        read = await asyncio.gather(*(_read(one, deadline, flags, metrics, alone, service.fetchers) for one in asked))
    work = [(opts, doc) for opts, doc in zip(options, read) if isinstance(doc, Document)]
    try:
        futures = service.submit(work, deadline)
    except QueueFull:
        raise Rejected(UNAVAILABLE, f"the server is busy ({flags.queue} documents waiting); try again shortly", {"Retry-After": RETRY_AFTER}) from None
    done = iter(await _wait(futures, deadline, request, flags.deadline, service.batcher.withdraw))
    results = [next(done) if isinstance(doc, Document) else service.failed(opts, doc) for opts, doc in zip(options, read)]
    answers = []
    for one, result in zip(asked, results):
        result.id = one.id if one.id is not None else result.source
        metrics.finished(result.error is not None)
        answers.append(result.to_dict())
    return answers


def _options(service: Service, asked: SummarizeRequest, index: int, alone: bool):
    try:
        return service.options_for(asked.options.model_dump(exclude_none=True))
    except Rejected as e:
        if alone:
            raise
        raise Rejected(e.status, f"[{index}]: {e.message}", e.headers) from None


async def _read(asked: SummarizeRequest, deadline: float, flags: ServeFlags, metrics: ServeMetrics, alone: bool, fetchers: Fetchers) -> Document | Failure:
    """The request object's Document, read in a thread as the CLI reads an input (a url is fetched, a
    long text takes a while to check), or its Failure in a batch; alone, what is wrong is a Rejected
    with the status that says what."""
    kind = next(name for name in KINDS if getattr(asked, name) is not None)
    read = functools.partial(read_given, kind, getattr(asked, kind), asked.title, flags.max_input_chars, deadline, flags.allow_private_urls, metrics.fetched)
    try:
        return await (fetchers.run(read) if kind == "url" else asyncio.to_thread(read))
    except SummarizeError as e:
        if alone:
            raise Rejected(READ_STATUS.get(type(e), UNPROCESSABLE), str(e)) from None
        return Failure(asked.source, str(e), url=asked.url)


async def _wait(futures: list, deadline: float, request: Request, seconds: float, withdraw: Callable[[list, str], None]) -> list:
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
    results.cancel()
    results.add_done_callback(lambda gathered: gathered.cancelled() or gathered.exception())  # seen: no "exception was never retrieved" on stderr
    withdraw(futures, "client_gone" if gone in finished else "deadline")  # those still waiting leave the queue now
    if gone in finished:
        raise ClientGone
    raise Rejected(TIMED_OUT, f"no answer within the server's deadline of {seconds:g} s; try again later, or send fewer documents at once")


async def _hung_up(receive: Callable[[], Awaitable[dict]]) -> None:
    """Returns when the client disconnects (the body is read: nothing else comes)."""
    while (await receive())["type"] != "http.disconnect":
        pass
