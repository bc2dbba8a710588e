"""The options of `summarize serve`, each declared once; the model options are options.Choices."""

from __future__ import annotations

from dataclasses import dataclass

from summarize.options import option
from summarize.runs import shared_flags as shared

LOOPBACK_NAMES = ("localhost",)  # besides the loopback addresses themselves (127.0.0.0/8, ::1)
TOKEN_ENV = "SUMMARIZE_TOKEN"


@dataclass(frozen=True)
class ServeFlags:
    """How the server listens, what it lets in, and how it batches."""

    host: str = option("127.0.0.1", "--host", help="Address to listen on; any but a loopback address needs --token.")
    port: int = option(8000, "--port", min=0, max=65535, help="Port to listen on (0: any free port, said when ready).")
    token: str | None = option(
        None,
        "--token",
        envvar=TOKEN_ENV,
        show_default=False,
        help="Every request but /healthz must carry 'Authorization: Bearer TOKEN' (prefer the environment variable: a flag shows in ps).",
    )
    cors: list[str] | None = option(None, "--cors", show_default=False, help="Let web pages from this origin call the API (repeatable) \\[default: none].")
    allow_private_urls: bool = option(
        False, "--allow-private-urls", help="Let url requests fetch loopback, private and link-local addresses (never for a server others can reach)."
    )
    translate: bool | None = shared.translate()
    strict: bool = shared.strict()
    max_input_chars: int = shared.max_input_chars()
    max_body: int = option(4 * 1024 * 1024, "--max-body", min=1, help="Refuse request bodies larger than this many bytes.")
    max_batch: int = option(64, "--max-batch", min=1, help="Most documents in one /v1/summarize/batch request.")
    max_beams: int = option(8, "--max-beams", min=1, help="Most beams a request may ask for.")
    queue: int = option(256, "--queue", min=1, help="Documents waiting for the models; past this, requests get 503 and Retry-After.")
    max_group: int | None = option(
        None, "--max-group", min=1, show_default=False, help="Most documents summarised together \\[default: what the device batches well]."
    )
    wait_ms: float = option(5.0, "--wait-ms", min=0, help="How long a group waits for more requests before it runs, in milliseconds.")
    deadline: float = option(120.0, "--deadline", min=0.001, help="Seconds a request may take, waiting included; past it, 504.")
    grace: float = option(30.0, "--grace", min=0, help="On SIGTERM or Ctrl-C, seconds to finish the requests in progress before stopping.")
    access_log: bool = option(True, "--access-log/--no-access-log", help="One line on stderr per request (never its headers or body).")
    ray: bool = option(False, "--ray", help="Serve with Ray Serve (pip install 'summarize\\[ray]'): --replicas copies of the models.")
    ray_address: str | None = option(
        None, "--ray-address", show_default=False, help="With --ray: join this cluster (auto, or ray://HOST:10001) \\[default: a local Ray]."
    )
    replicas: int = option(1, "--replicas", min=1, help="With --ray: how many replicas, each with its own models.")
