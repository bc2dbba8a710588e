"""What a browser reads: the page (index.html and its /static files) and the API docs, all served from
here, nothing from a CDN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

from summarize.runs.serve.error_shape import error

PAGE = Path(__file__).parent / "page"  # the browser page (index.html and its /static files)


def add_pages(app: FastAPI) -> None:
    """The browser page, its static files, and the API docs: all served from here, nothing from a CDN."""

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def index() -> Response:
        page = PAGE / "index.html"
        return FileResponse(page) if page.is_file() else error(404, "this install has no page; the API is POST /v1/summarize (see /docs)")

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        files = {p.name: p for p in PAGE.iterdir() if p.is_file()} if PAGE.is_dir() else {}
        if name not in files:  # a name of the page's own files: no paths, nothing else on disk
            return error(404, f"no such file: /static/{name}")
        return FileResponse(files[name])

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)  # no icon: what a browser asks for first gets an answer, not a 404

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
