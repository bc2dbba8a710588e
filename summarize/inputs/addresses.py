"""Which network addresses a server must not fetch from on a user's behalf: its own machine, the private
networks behind it and the cloud's metadata service (server-side request forgery).

Tables of networks rather than ipaddress's is_private/is_global: those flags differ between Python
versions and call multicast global. An IPv6 address that carries an IPv4 one (mapped, NAT64, 6to4)
is judged by the IPv4 address it leads to. Pure functions over ipaddress: nothing here touches the network.
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

LOOPBACK_NAMES = ("localhost",)  # besides the loopback addresses themselves (127.0.0.0/8, ::1)
# Names that lead to a cloud's metadata service whatever they resolve to here.
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"})

_V4 = [
    (IPv4Network("0.0.0.0/8"), "unspecified"),  # "this network": 0.0.0.0 reaches the local machine on Linux
    (IPv4Network("10.0.0.0/8"), "private"),
    (IPv4Network("100.64.0.0/10"), "shared (carrier-grade NAT)"),
    (IPv4Network("127.0.0.0/8"), "loopback"),
    (IPv4Network("169.254.169.254/32"), "cloud metadata"),  # before its /16: the more telling name wins
    (IPv4Network("169.254.0.0/16"), "link-local"),
    (IPv4Network("172.16.0.0/12"), "private"),
    (IPv4Network("192.0.0.0/24"), "reserved"),
    (IPv4Network("192.0.2.0/24"), "reserved (documentation)"),
    (IPv4Network("192.88.99.0/24"), "reserved (6to4 relay)"),
    (IPv4Network("192.168.0.0/16"), "private"),
    (IPv4Network("198.18.0.0/15"), "reserved (benchmarking)"),
    (IPv4Network("198.51.100.0/24"), "reserved (documentation)"),
    (IPv4Network("203.0.113.0/24"), "reserved (documentation)"),
    (IPv4Network("224.0.0.0/4"), "multicast"),
    (IPv4Network("240.0.0.0/4"), "reserved"),  # 255.255.255.255, broadcast, included
]
_V6 = [
    (IPv6Network("::/128"), "unspecified"),
    (IPv6Network("::1/128"), "loopback"),
    (IPv6Network("64:ff9b:1::/48"), "private (local NAT64)"),
    (IPv6Network("100::/64"), "reserved (discard)"),
    (IPv6Network("2001::/23"), "reserved (IETF protocols, Teredo)"),
    (IPv6Network("2001:db8::/32"), "reserved (documentation)"),
    (IPv6Network("fd00:ec2::254/128"), "cloud metadata"),  # AWS's, over IPv6
    (IPv6Network("fc00::/7"), "private (unique local)"),
    (IPv6Network("fe80::/10"), "link-local"),
    (IPv6Network("fec0::/10"), "private (site-local)"),
    (IPv6Network("ff00::/8"), "multicast"),
]
_GLOBAL_UNICAST = IPv6Network("2000::/3")  # all of IPv6 the Internet routes today; the rest is reserved
_NAT64 = IPv6Network("64:ff9b::/96")  # the last 32 bits are the IPv4 address a NAT64 gateway connects to


def private_kind(address: str | IPv4Address | IPv6Address) -> str | None:
    """What kind of non-public address this is ("loopback", "private", "link-local"…), or None when public.

    Takes what getaddrinfo gives (a string, maybe with an IPv6 %scope) or an ipaddress object.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
    if isinstance(ip, IPv6Address):
        carried = _carried_ipv4(ip)
        if carried is not None:
            return private_kind(carried)
        kinds = _V6
        if not any(ip in network for network, _ in kinds) and ip not in _GLOBAL_UNICAST:
            return "reserved"
    else:
        kinds = _V4
    return next((kind for network, kind in kinds if ip in network), None)


def is_loopback(host: str) -> bool:
    """True for a loopback address (127.0.0.0/8, ::1, bracketed or not) or a loopback name: where a
    server may go without a token, and where a client goes without a proxy."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower().rstrip(".") in LOOPBACK_NAMES


def is_metadata_host(host: str) -> bool:
    """True for a name that leads to a cloud metadata service (compared without case or a final dot)."""
    return host.lower().rstrip(".") in METADATA_HOSTS


def _carried_ipv4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one leads to: ::ffff:a.b.c.d, 64:ff9b::a.b.c.d, 2002:aabb:ccdd::/48."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour
