"""Where a server listens, for uvicorn and Ray Serve alike: the host, the token and the CORS origins checked, and
the port taken here so that one in use is one line."""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
import urllib.parse
from collections.abc import Callable
from dataclasses import replace

from summarize.errors import SummarizeError
from summarize.flags import TOKEN_ENV, ServeFlags
from summarize.inputs.addresses import is_loopback

MIN_TOKEN = 16  # characters of a token on a server other machines reach: `--token a` would be guessed at once
TOKEN_CHARACTERS = "letters, digits and -._~+/="  # RFC 6750's token68, what a client can put after 'Bearer '


def check_listening(flags: ServeFlags, notify: Callable[[str], None]) -> ServeFlags:
    """The flags as the server uses them (the host and the CORS origins in one spelling, a token's
    trailing newline left out and said), or a SummarizeError naming what to change. Only this
    machine may call a server without a token: any other address needs one, of MIN_TOKEN characters."""
    host, token = _host(flags.host), flags.token
    if token is not None and token != token.rstrip("\r\n"):
        token = token.rstrip("\r\n")
        notify("warning: the token ends in a newline (as a file's last line does); the newline is left out, as clients cannot send it")
    if token is not None and not token.strip():
        raise SummarizeError(f"the token is empty; give a real one with --token or {TOKEN_ENV}")
    if token is not None and not all("!" <= c <= "~" for c in token):
        raise SummarizeError(f"the token holds a space, a control or a non-ASCII character, which no client can send; use {TOKEN_CHARACTERS}")
    if not is_loopback(host) and not (token or flags.tokens_file):  # a tokens file's own checks are keys.check_access_flags
        raise SummarizeError(
            f"--host {host} lets other machines in: set a token with --token or {TOKEN_ENV} (clients send 'Authorization: Bearer TOKEN'), "
            "or keep the default --host 127.0.0.1"
        )
    if not is_loopback(host) and token and len(token) < MIN_TOKEN:
        raise SummarizeError(
            f"the token has {len(token)} characters; --host {host} lets other machines in, which needs at least {MIN_TOKEN} "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))' makes one)"
        )
    return replace(flags, host=host, token=token, cors=[_origin(given) for given in flags.cors] if flags.cors else flags.cors)


def _host(given: str) -> str:
    """An address or a host name as getaddrinfo takes it: [::1] is ::1, localhost. is localhost."""
    host = given.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(host))
    host = host[:-1] if host.endswith(".") else host
    labels = host.split(".")
    if not host or len(host) > 253 or not all(re.fullmatch(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?", label) for label in labels):
        raise SummarizeError(f"--host {given!r} is neither an IP address nor a host name; give one (127.0.0.1, ::1, 0.0.0.0, a name), without a scheme or port")
    return host.lower()


def _origin(given: str) -> str:
    """A --cors origin as browsers send it in Origin (scheme://host[:port], lowercase, no slash), or * for any."""
    if given.strip() == "*":
        return "*"
    parts = urllib.parse.urlsplit(given.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or port == -1 or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SummarizeError(f"--cors {given!r} is not an origin; give a page's scheme, host and port only (https://news.example, http://localhost:3000), or *")
    if parts.username or parts.password:
        raise SummarizeError(f"--cors {given!r} is not an origin: it holds a user name; give a page's scheme, host and port only")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, taken here so that a port in use is one line and exit 2, and --port 0
    tells the ready line which port it got."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        listening = socket.socket(family, kind, proto)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(address)
        listening.listen(2048)
    except OSError as e:
        raise SummarizeError(f"cannot listen on {host} port {port}: {e.strerror or e}; pick another --port, or stop what uses it") from None
    listening.set_inheritable(True)
    return listening
