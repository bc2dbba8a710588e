"""GET /v1/info: what the server runs (its model, translator, engines, version) and every limit a
request meets, so that a client sizes its requests to them (the --server client does) instead of
learning them from a 413 or a 422. Protected by the token like the rest of the API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from summarize.config import Engine
from summarize.engines.protocol import Extractor
from summarize.errors import version
from summarize.flags import ServeFlags
from summarize.runs.serve.error_shape import UNAVAILABLE, Rejected

if TYPE_CHECKING:
    from summarize.runs.serve.service import Service


def add_info(app: FastAPI, service: Service, flags: ServeFlags) -> None:
    @app.get("/v1/info", summary="What this server runs, and its limits")
    async def info() -> dict[str, Any]:
        """The model and translator (null when none), the engines a request may ask for, the version,
        and the limits: max_body (bytes), max_batch (documents a batch), max_input_chars, max_beams,
        requests_per_minute (null: none), deadline (seconds), queue (documents waiting at most)."""
        if not service.ready:
            raise Rejected(UNAVAILABLE, "the models are still loading; try again in a moment", {"Retry-After": "1"})
        return describe(service, flags)


def describe(service: Service, flags: ServeFlags) -> dict[str, Any]:
    engines = service.engines
    summarizer = engines.summarizer
    model_free = isinstance(summarizer, Extractor)
    return {
        "version": version(),
        "engine": service.options.engine.value,
        "engines": [engine.value for engine in Engine if engine.model_free or (engine is service.options.engine and not model_free)],
        "model": None if model_free else summarizer.preset.name,
        "backend": None if model_free else summarizer.backend,
        "translator": engines.translator.preset.name if engines.translator else None,
        "targets": [t.code for t in service.options.targets],  # what a request's `to` may name (those the server loaded)
        "reads": ["ru", *(t.code for t in service.options.sources)],  # the articles' languages (others go into Russian first)
        "check": service.checker is not None,
        "limits": {
            "max_body": flags.max_body,
            "max_batch": flags.batch_limit,
            "max_input_chars": flags.max_input_chars,
            "max_beams": flags.max_beams,
            "requests_per_minute": flags.requests_per_minute,
            "deadline": flags.deadline,
            "queue": flags.queue,
        },
    }
