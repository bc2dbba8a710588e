"""The private-address guard (FetchLimits.allow_private=False, what `summarize serve` fetches with):
which addresses count as private, and real fetches from servers on loopback refused or let through,
redirects and DNS that changes its answer included. All traffic stays on 127.0.0.0/8."""

from __future__ import annotations

import ipaddress
import socket
from contextlib import closing
from dataclasses import replace

import pytest
from helpers import NewsServer, Route
from hypothesis import given
from hypothesis import strategies as st

from summarize.errors import SummarizeError
from summarize.inputs import addresses
from summarize.inputs.addresses import private_kind
from summarize.inputs.web import Fetched, FetchLimits, fetch_all

GUARDED = FetchLimits(connect_timeout=2, read_timeout=2, deadline=5, allow_private=False)
OPEN = FetchLimits(connect_timeout=2, read_timeout=2, deadline=5)
PAGE = "<html><head><title>Паводок</title></head><body><p>Вода поднялась.</p></body></html>"
# 127.0.0.2 plays a public site: the tests below make the guard judge it public, keeping traffic on loopback.
PUBLIC_STAND_IN = "127.0.0.2"


def fetch_one(url: str, limits: FetchLimits) -> Fetched | SummarizeError:
    with closing(fetch_all([url], limits=limits)) as fetched:
        ((asked, got),) = list(fetched)
    assert asked == url
    return got


@pytest.fixture
def site():
    server = NewsServer()
    yield server
    server.stop()


@pytest.fixture
def stand_in(monkeypatch):
    """A server on 127.0.0.2 that the guard takes for a public one; every other address is judged as usual."""
    real = addresses.private_kind
    monkeypatch.setattr(addresses, "private_kind", lambda address: None if address == PUBLIC_STAND_IN else real(address))
    server = NewsServer(PUBLIC_STAND_IN)
    yield server
    server.stop()


# Which addresses are private

PRIVATE = {
    "127.0.0.1": "loopback",
    "127.255.255.254": "loopback",
    "10.0.0.5": "private",
    "172.16.0.1": "private",
    "172.31.255.255": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "cloud metadata",
    "169.254.1.1": "link-local",
    "100.64.0.1": "shared (carrier-grade NAT)",
    "100.127.255.255": "shared (carrier-grade NAT)",
    "0.0.0.0": "unspecified",
    "0.1.2.3": "unspecified",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "reserved",
    "192.0.2.1": "reserved (documentation)",
    "198.18.0.1": "reserved (benchmarking)",
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fe80::1%lo": "link-local",
    "fc00::1": "private (unique local)",
    "fd12:3456::1": "private (unique local)",
    "fd00:ec2::254": "cloud metadata",
    "ff02::1": "multicast",
    "::ffff:127.0.0.1": "loopback",
    "::ffff:10.0.0.5": "private",
    "::ffff:169.254.169.254": "cloud metadata",
    "64:ff9b::a9fe:a9fe": "cloud metadata",  # NAT64 of 169.254.169.254
    "2002:7f00:1::": "loopback",  # 6to4 of 127.0.0.1
    "::127.0.0.1": "reserved",  # the old IPv4-compatible form
    "2001:db8::1": "reserved (documentation)",
    "4000::1": "reserved",  # outside 2000::/3, the only IPv6 routed today
}
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0", "192.167.255.255", "126.0.0.1"]
PUBLIC += ["2606:4700:4700::1111", "2a00:1450:4010:c05::64", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"]


@pytest.mark.parametrize("address,kind", PRIVATE.items())
def test_private_addresses_are_named_by_kind(address, kind):
    assert private_kind(address) == kind


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert private_kind(address) is None


@given(st.ip_addresses(v=4))
def test_an_ipv6_address_carrying_an_ipv4_one_is_judged_as_that_one(ip):
    mapped = ipaddress.IPv6Address(f"::ffff:{ip}")
    nat64 = ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(ip))
    sixtofour = ipaddress.IPv6Address((0x2002 << 112) | (int(ip) << 80) | 1)
    assert private_kind(mapped) == private_kind(nat64) == private_kind(sixtofour) == private_kind(ip)


@given(st.ip_addresses())
def test_what_passes_is_global_by_pythons_own_tables_too(ip):
    """Ours are at least as strict as ipaddress's flags, which also differ between Python versions."""
    if private_kind(ip) is None:
        assert ip.is_global and not ip.is_multicast


@pytest.mark.parametrize(
    "network", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10", "fc00::/7", "fe80::/10"]
)
@given(offset=st.integers(min_value=0))
def test_every_address_of_a_private_network_is_private(network, offset):
    net = ipaddress.ip_network(network)
    assert private_kind(net[offset % net.num_addresses]) is not None


def test_metadata_host_names_are_known_whatever_their_case():
    assert addresses.is_metadata_host("metadata.google.internal")
    assert addresses.is_metadata_host("Metadata.Google.Internal.")
    assert not addresses.is_metadata_host("metadata.example.com")


# Real fetches


def test_a_server_on_loopback_is_refused_without_ever_being_asked(site):
    url = site.add("/news", PAGE)
    got = fetch_one(url, GUARDED)
    assert isinstance(got, SummarizeError)
    assert str(got) == (
        f"{url}: refused: 127.0.0.1 is a loopback address; the server fetches public pages only (start it with --allow-private-urls to allow private addresses)"
    )
    assert site.hits["/news"] == 0


def test_the_cli_default_still_fetches_it(site):
    url = site.add("/news", PAGE)
    assert FetchLimits().allow_private
    got = fetch_one(url, OPEN)
    assert isinstance(got, Fetched) and got.status == 200 and got.data == PAGE.encode()


@pytest.mark.parametrize(
    "host",
    ["localhost", "2130706433", "0x7f000001", "0x7f.1", "127.1", "0x7f.0.0.1", "[::ffff:127.0.0.1]", "example.com@127.0.0.1", "user:pw@127.0.0.1", "LocalHost"],
)
def test_every_spelling_of_loopback_is_judged_by_the_address_connected_to(site, host):
    """The same forms reach the server when private addresses are allowed: they do lead to 127.0.0.1."""
    site.add("/news", PAGE)
    url = f"http://{host}:{site.port}/news"
    refused = fetch_one(url, GUARDED)
    assert isinstance(refused, SummarizeError) and ": refused: " in str(refused) and "a loopback address" in str(refused)
    assert site.hits["/news"] == 0
    assert "pw" not in str(refused)
    fetched = fetch_one(url, OPEN)
    assert isinstance(fetched, Fetched) and fetched.data == PAGE.encode()
    assert site.hits["/news"] == 1


@pytest.mark.parametrize("host", ["0177.0.0.1", "127.000.000.001"])
def test_dotted_octal_which_httpx_rejects_reaches_nothing_either(site, host):
    site.add("/news", PAGE)
    got = fetch_one(f"http://{host}:{site.port}/news", GUARDED)
    assert isinstance(got, SummarizeError) and "not a valid URL" in str(got)
    assert site.hits["/news"] == 0


@pytest.mark.parametrize(
    "url,shown",
    [
        ("http://[::1]:9/", "::1 is a loopback address"),
        ("http://0.0.0.0:9/", "0.0.0.0 is an unspecified address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
        ("http://[fd00:ec2::254]/latest/", "fd00:ec2::254 is a cloud metadata address"),
        ("http://metadata.google.internal/computeMetadata/v1/", "metadata.google.internal is a cloud metadata host"),
        ("http://10.0.0.5/", "10.0.0.5 is a private address"),
        ("https://192.168.0.1/", "192.168.0.1 is a private address"),
    ],
)
def test_private_and_metadata_addresses_are_refused_before_connecting(url, shown):
    """Refused before a packet leaves: none of these is contacted (the test sends nothing off loopback)."""
    got = fetch_one(url, GUARDED)
    assert isinstance(got, SummarizeError)
    assert str(got).startswith(f"{url}: refused: {shown}; ")


def test_a_redirect_from_a_public_site_to_loopback_is_refused(site, stand_in):
    site.add("/secret", "internal")
    stand_in.routes["/moved"] = Route(status=302, headers={"Location": site.url("/secret")})
    stand_in.routes["/hop"] = Route(status=301, headers={"Location": "/moved"})
    got = fetch_one(stand_in.url("/hop"), GUARDED)
    assert isinstance(got, SummarizeError)
    assert str(got).startswith(f"{stand_in.url('/hop')}: refused: redirected to 127.0.0.1, which is a loopback address; ")
    assert stand_in.hits["/hop"] == stand_in.hits["/moved"] == 1
    assert site.hits["/secret"] == 0


def test_a_redirect_to_a_name_for_loopback_is_refused(site, stand_in):
    site.add("/secret", "internal")
    stand_in.routes["/moved"] = Route(status=307, headers={"Location": f"http://localhost:{site.port}/secret"})
    got = fetch_one(stand_in.url("/moved"), GUARDED)
    assert isinstance(got, SummarizeError)
    assert "refused: redirected to localhost, which resolves to a loopback address; " in str(got)
    assert site.hits["/secret"] == 0


def test_public_pages_and_redirects_between_them_are_fetched(stand_in):
    stand_in.add("/news", PAGE)
    stand_in.routes["/old"] = Route(status=301, headers={"Location": "/news"})
    got = fetch_one(stand_in.url("/old"), GUARDED)
    assert isinstance(got, Fetched) and got.final_url == stand_in.url("/news") and got.data == PAGE.encode()


def test_dns_that_changes_its_answer_cannot_switch_the_connection_to_loopback(monkeypatch, stand_in):
    """DNS rebinding: the name is public when checked, loopback when asked again. The guard connects to
    the address it checked, so the loopback server on the same port never hears from it."""
    try:
        inside = NewsServer("127.0.0.1", stand_in.port)
    except OSError:
        pytest.skip(f"port {stand_in.port} is taken on 127.0.0.1")
    try:
        stand_in.add("/news", PAGE)
        inside.add("/news", "internal")
        answers = iter([PUBLIC_STAND_IN])
        real = socket.getaddrinfo

        def rebinding(host, port, *args, **kwargs):
            if host == "news.rebind.test":
                host = next(answers, "127.0.0.1")
            return real(host, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        got = fetch_one(f"http://news.rebind.test:{stand_in.port}/news", GUARDED)
        assert isinstance(got, Fetched) and got.data == PAGE.encode()
        assert inside.hits["/news"] == 0
        assert stand_in.seen_headers[-1]["Host"] == f"news.rebind.test:{stand_in.port}"
    finally:
        inside.stop()


def test_a_name_with_any_private_address_is_refused(monkeypatch, stand_in):
    """Every address DNS gives is judged, not only the first: a client may fall back to any of them."""
    real = socket.getaddrinfo

    def two_addresses(host, port, *args, **kwargs):
        if host == "mixed.test":
            return real(PUBLIC_STAND_IN, port, *args, **kwargs) + real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
    stand_in.add("/news", PAGE)
    got = fetch_one(f"http://mixed.test:{stand_in.port}/news", GUARDED)
    assert isinstance(got, SummarizeError) and "refused: mixed.test resolves to a loopback address" in str(got)
    assert stand_in.hits["/news"] == 0


def test_one_refused_url_does_not_stop_the_others(site, stand_in):
    stand_in.add("/news", PAGE)
    inside = site.add("/news", PAGE)
    got = dict(fetch_all([inside, stand_in.url("/news")], limits=GUARDED))
    assert isinstance(got[inside], SummarizeError)
    assert isinstance(got[stand_in.url("/news")], Fetched)


@pytest.mark.parametrize("allow_private", [False, True])
def test_a_proxy_from_the_environment_is_not_used_by_the_guard(monkeypatch, site, stand_in, allow_private):
    """Through a proxy the address connected to would be the proxy's, and the proxy would fetch the
    private page: guarded, the fetcher connects itself; the CLI (allow_private) still uses the proxy."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", site.base)  # a "proxy": it records the request line it is sent
    url = stand_in.add("/news", PAGE)
    got = fetch_one(url, replace(GUARDED, allow_private=allow_private))
    if allow_private:
        assert site.hits[url] == 1  # the proxy was asked for the absolute URL
    else:
        assert isinstance(got, Fetched) and got.data == PAGE.encode()
        assert not site.hits and stand_in.hits["/news"] == 1
