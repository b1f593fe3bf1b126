"""The address guard: outgoing requests reach public addresses only, checked when the socket opens.

A URL taken from a remote document must not make us talk to our own loopback, the LAN, the cloud
metadata service or anything else that is not the public internet (DESIGN.md "Contract with the
outside world": `--allow-private-network` is off by default). The check runs inside the httpcore
network backend, on the very addresses the socket then connects to, so a name that resolves to a
public address for a first lookup and to 127.0.0.1 for a second (DNS rebinding) gains nothing:
there is only one lookup. TLS still verifies the certificate and sends SNI for the host *name*,
because httpcore takes `server_hostname` from the request's origin, not from the address we dial
(httpcore 1.0 `_async/connection.py`, `_connect`).
"""
from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Final

import anyio
import httpcore
import httpx

logger = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[Address]]]
ALLOWED_SCHEMES: Final = frozenset({"http", "https"})
_DEFAULT_LIMITS: Final = httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's own

# IANA IPv4 and IPv6 Special-Purpose Address Registries, plus what Mastodon refuses in
# app/lib/private_address_check.rb (CIDR_LIST). The stdlib's is_private & co. run as well (below),
# but their lists changed between Python releases, so the ranges we rely on are spelled out here.
_FORBIDDEN_V4: Final = tuple(ipaddress.IPv4Network(net) for net in (
    "0.0.0.0/8",           # "this network" (RFC 791); 0.0.0.0 reaches the local host on Linux
    "10.0.0.0/8",          # private (RFC 1918)
    "100.64.0.0/10",       # shared address space, carrier-grade NAT (RFC 6598)
    "127.0.0.0/8",         # loopback (RFC 1122)
    "169.254.0.0/16",      # link-local (RFC 3927), home of cloud metadata at 169.254.169.254
    "172.16.0.0/12",       # private (RFC 1918)
    "192.0.0.0/24",        # IETF protocol assignments (RFC 6890)
    "192.0.2.0/24",        # documentation TEST-NET-1 (RFC 5737)
    "192.88.99.0/24",      # deprecated 6to4 relay anycast (RFC 7526)
    "192.168.0.0/16",      # private (RFC 1918)
    "198.18.0.0/15",       # benchmarking (RFC 2544)
    "198.51.100.0/24",     # documentation TEST-NET-2 (RFC 5737)
    "203.0.113.0/24",      # documentation TEST-NET-3 (RFC 5737)
    "224.0.0.0/4",         # multicast (RFC 5771)
    "240.0.0.0/4",         # reserved (RFC 1112), including the broadcast 255.255.255.255 (RFC 919)
))
_FORBIDDEN_V6: Final = tuple(ipaddress.IPv6Network(net) for net in (
    "::/128",              # unspecified (RFC 4291)
    "::1/128",             # loopback (RFC 4291)
    "64:ff9b:1::/48",      # local-use IPv4/IPv6 translation (RFC 8215), not globally reachable
    "100::/64",            # discard-only (RFC 6666)
    "2001::/23",           # IETF protocol assignments (RFC 2928): ORCHID, benchmarking, ...
    "2001:db8::/32",       # documentation (RFC 3849)
    "3fff::/20",           # documentation (RFC 9637)
    "5f00::/16",           # SRv6 SIDs (RFC 9602)
    "fc00::/7",            # unique local addresses (RFC 4193)
    "fe80::/10",           # link-local (RFC 4291)
    "fec0::/10",           # site-local, deprecated (RFC 3879)
    "ff00::/8",            # multicast (RFC 4291)
))
# IPv6 forms that carry an IPv4 address in their low 32 bits. The embedded address decides:
# a DNS64 resolver answers 64:ff9b::a.b.c.d for every IPv4-only peer, so refusing the whole
# prefix (as Mastodon does) would cut an IPv6-only server off from half the fediverse.
_NAT64_WELL_KNOWN: Final = ipaddress.IPv6Network("64:ff9b::/96")     # RFC 6052
_IPV4_TRANSLATED: Final = ipaddress.IPv6Network("::ffff:0:0:0/96")   # SIIT (RFC 2765)
_IPV4_COMPATIBLE: Final = ipaddress.IPv6Network("::/96")             # deprecated (RFC 4291 2.5.5.1)


class ForbiddenAddress(httpx.ConnectError):
    """The guard refused to connect: the host, the address it chose and why (an httpx.ConnectError)."""

    def __init__(self, host: str, address: str | None, reason: str, *,
                 request: httpx.Request | None = None) -> None:
        target = host if address is None or address == host else f"{host} ({address})"
        super().__init__(f"refusing to connect to {target}: {reason}", request=request)
        self.host = host
        self.address = address
        self.reason = reason


def is_forbidden_address(ip: Address) -> bool:
    """Whether `ip` is anything but a public unicast address (loopback, private, link-local, ...)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:  # "fe80::1%eth0": the zone only narrows the interface, the range decides
            ip = ipaddress.IPv6Address(int(ip))
        if ip.is_unspecified or ip.is_loopback:  # both also lie inside ::/96 below
            return True
        embedded = _embedded_ipv4(ip)
        if embedded:
            return any(is_forbidden_address(inner) for inner in embedded)
        if any(ip in network for network in _FORBIDDEN_V6) or ip.is_site_local:
            return True
    elif any(ip in network for network in _FORBIDDEN_V4):
        return True
    # Belt and braces: whatever this Python's ipaddress also calls non-public stays refused.
    # (is_reserved covers every IPv6 block outside 2000::/3 that IANA has not allocated.)
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    if ip.ipv4_mapped is not None:    # ::ffff:a.b.c.d: the kernel dials a.b.c.d
        return (ip.ipv4_mapped,)
    if ip.sixtofour is not None:      # 2002:AABB:CCDD::/48 (RFC 3056)
        return (ip.sixtofour,)
    if ip.teredo is not None:         # 2001:0::/32 (RFC 4380): server and (de-obfuscated) client
        return ip.teredo
    if ip in _NAT64_WELL_KNOWN or ip in _IPV4_TRANSLATED or ip in _IPV4_COMPATIBLE:
        return (ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF),)
    return ()


def _ip_literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve_system(host: str, port: int) -> list[Address]:
    """Every TCP address the system resolver gives for `host` (what the socket would try)."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[Address] = []
    for family, _type, _proto, _canonname, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            address = ipaddress.ip_address(sockaddr[0])
            if address not in addresses:
                addresses.append(address)
    return addresses


class AddressGuard:
    """Decides which URLs and addresses outgoing requests may reach (`--allow-private-network`)."""

    def __init__(self, allow_private_network: bool, *, resolve: Resolver | None = None) -> None:
        self.allow_private_network = allow_private_network
        # Tests inject `resolve` to map made-up names to fixed addresses; nobody else needs to.
        self._resolve: Resolver = resolve or resolve_system

    def check_url(self, url: str | httpx.URL) -> None:
        """Refuse, before any connection, a non-http(s) URL or one whose host is a forbidden IP literal."""
        parsed = httpx.URL(url)
        host = parsed.host
        if parsed.scheme not in ALLOWED_SCHEMES:
            raise ForbiddenAddress(host or str(url)[:80], None, f"scheme {parsed.scheme!r} is not http or https")
        if not host:
            raise ForbiddenAddress(str(url)[:80], None, "the URL has no host")
        literal = _ip_literal(host)
        if literal is not None and not self.allow_private_network and is_forbidden_address(literal):
            raise ForbiddenAddress(host, str(literal), _FORBIDDEN_REASON)

    async def vet(self, host: str, port: int) -> list[Address]:
        """The addresses to dial for `host`; raises ForbiddenAddress if any of them is forbidden."""
        literal = _ip_literal(host)
        addresses = [literal] if literal is not None else list(await self._resolve(host, port))
        if not addresses:
            raise OSError(f"{host} resolved to no address")
        if self.allow_private_network:
            return addresses
        # Any, not just the first: a name that mixes public and private answers is a rebinding
        # attempt, and Mastodon's Request::Socket.open also checks every address it would try.
        for address in addresses:
            if is_forbidden_address(address):
                logger.warning("SSRF guard refused %s: it resolves to %s", host, address)
                raise ForbiddenAddress(host, str(address), _FORBIDDEN_REASON)
        return addresses


_FORBIDDEN_REASON: Final = ("not a public address (loopback, private, link-local, multicast, "
                            "reserved or documentation range); --allow-private-network permits it")


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """An httpcore backend that dials only the addresses the guard vetted, by IP literal."""

    def __init__(self, guard: AddressGuard, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._guard = guard
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        """Resolve once, vet every address, then connect to a vetted literal within `timeout`."""
        if self._guard.allow_private_network:  # development and test cities: no lookup of our own
            return await self._inner.connect_tcp(host, port, timeout=timeout, local_address=local_address,
                                                 socket_options=socket_options)
        deadline = None if timeout is None else anyio.current_time() + timeout
        try:
            with anyio.fail_after(timeout):
                addresses = await self._guard.vet(host, port)
        except TimeoutError:  # before OSError: TimeoutError is one
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout} s") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        failure: Exception | None = None
        for address in addresses:  # in resolver order; all attempts share one deadline
            remaining = None if deadline is None else max(deadline - anyio.current_time(), 0.001)
            try:
                return await self._inner.connect_tcp(str(address), port, timeout=remaining,
                                                     local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # vet() never returns an empty list
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        """Unix sockets are local by definition: only with allow_private_network."""
        if not self._guard.allow_private_network:
            raise ForbiddenAddress(path, None, "unix sockets are local")
        return await self._inner.connect_unix_socket(path, timeout=timeout, socket_options=socket_options)

    async def sleep(self, seconds: float) -> None:
        """Delegate httpcore's retry back-off to the wrapped backend."""
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's HTTP transport over a pool whose sockets go through the guard; proxies are not offered."""

    # No `proxy` or `uds`: through a proxy we would vet the proxy's address, not the target's.
    def __init__(self, guard: AddressGuard, *, network_backend: httpcore.AsyncNetworkBackend | None = None,
                 verify: ssl.SSLContext | bool = True, trust_env: bool = True, http1: bool = True,
                 http2: bool = False, limits: httpx.Limits = _DEFAULT_LIMITS, local_address: str | None = None,
                 retries: int = 0, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None) -> None:
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=trust_env)  # load the CAs once
        super().__init__(verify=ssl_context, trust_env=trust_env, http1=http1, http2=http2, limits=limits,
                         local_address=local_address, retries=retries, socket_options=socket_options)
        self._guard = guard
        # httpx 0.28 (_transports/default.py) keeps its httpcore pool in `_pool` and has no
        # network_backend option, so the pool is rebuilt with the same settings and our backend.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, http1=http1, http2=http2,
            local_address=local_address, retries=retries, socket_options=socket_options,
            network_backend=GuardedNetworkBackend(guard, network_backend),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Check the URL (scheme, IP literal) first, then send through the guarded pool."""
        try:
            self._guard.check_url(request.url)
            return await super().handle_async_request(request)
        except ForbiddenAddress as exc:
            exc.request = request
            raise


def guarded_transport(allow_private_network: bool, *, resolve: Resolver | None = None,
                      **transport_kwargs: Any) -> httpx.AsyncHTTPTransport:
    """An httpx transport that refuses non-public addresses unless allow_private_network is set."""
    return GuardedTransport(AddressGuard(allow_private_network, resolve=resolve), **transport_kwargs)
