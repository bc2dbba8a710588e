"""Where a server listens, for uvicorn and Ray Serve alike: the host checked against the token, and
the port taken here so that one in use is one line."""

from __future__ import annotations

import ipaddress
import socket

from summarize.errors import SummarizeError
from summarize.flags import LOOPBACK_NAMES, TOKEN_ENV, ServeFlags
from summarize.runs.serve.keys import check_access_flags


def check_host(flags: ServeFlags) -> None:
    """Only this machine may call a server without a token: any other address needs one."""
    check_access_flags(flags)
    if flags.token is not None and not flags.token.strip():
        raise SummarizeError(f"the token is empty; give a real one with --token or {TOKEN_ENV}")
    if flags.token or flags.tokens_file or is_loopback(flags.host):
        return
    raise SummarizeError(
        f"--host {flags.host} lets other machines in: set a token with --token or {TOKEN_ENV} (clients send 'Authorization: Bearer TOKEN'), "
        "or keep the default --host 127.0.0.1"
    )


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower() in LOOPBACK_NAMES


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
