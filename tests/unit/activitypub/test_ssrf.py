"""ssrf: the address table, the URL check, and the guard at connect time against real loopback servers.

Traffic goes to 127.0.0.1 only. Names that must look public (`public.example`) resolve through an
injected resolver; where such a name "resolves" to a public address, the test's network backend
records the dial and connects to loopback instead, so nothing ever leaves the machine.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpcore
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from fedserver.activitypub.errors import NotAllowed
from fedserver.activitypub.fetch import Fetcher
from fedserver.activitypub.ssrf import (
    Address,
    AddressGuard,
    ForbiddenAddress,
    GuardedNetworkBackend,
    guarded_transport,
    is_forbidden_address,
)

KEYS = Path(__file__).resolve().parents[2] / "fixtures" / "keys"
OK_RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\nContent-Length: 38\r\n"
               b"Connection: close\r\n\r\n" b'{"id":"http://127.0.0.1/x","ok":true} ')

FORBIDDEN = [
    # IPv4: loopback, RFC 1918, link-local (cloud metadata), CGNAT, "this network", multicast,
    # reserved and broadcast, documentation, benchmarking, IETF assignments.
    "127.0.0.1", "127.255.255.254", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255",
    "192.168.1.1", "169.254.169.254", "100.64.0.1", "100.127.255.255", "0.0.0.0", "0.1.2.3",
    "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.1", "198.51.100.7",
    "203.0.113.9", "198.18.0.1", "198.19.255.255", "192.0.0.8", "192.88.99.1",
    # IPv6: unspecified, loopback, link-local with a zone, ULA, site-local, multicast,
    # documentation (old and new), discard, ORCHIDv2, local-use NAT64, SRv6.
    "::", "::1", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456:789a::1", "fec0::1", "ff02::1",
    "ff0e::1", "2001:db8::1", "3fff::1", "100::1", "2001:20::1", "64:ff9b:1::1", "5f00::1",
    # IPv4 inside IPv6: mapped, compatible, SIIT, 6to4, Teredo (client 127.0.0.1), NAT64 well-known.
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1", "::ffff:0:7f00:1",
    "2002:7f00:1::1", "2002:a9fe:a9fe::1", "2002:c0a8:101::1",
    "2001:0:4136:e378:8000:63bf:80ff:fffe", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::c0a8:101",
]
ALLOWED = [
    "93.184.216.34", "8.8.8.8", "1.1.1.1", "11.0.0.1", "172.15.255.255", "172.32.0.0", "100.63.255.255",
    "100.128.0.0", "192.169.0.1", "223.255.255.255",
    "2606:4700:4700::1111", "2a00:1450:4001:82b::200e", "2001:4860:4860::8888",
    # The same public address inside IPv6: mapped, 6to4, NAT64 (what DNS64 answers), Teredo.
    "::ffff:93.184.216.34", "2002:5db8:d822::1", "64:ff9b::5db8:d822",
    "2001:0:4136:e378:8000:63bf:a247:27dd",
]


@pytest.mark.parametrize("address", FORBIDDEN)
def test_is_forbidden_address_refuses_non_public(address: str) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_is_forbidden_address_allows_public(address: str) -> None:
    assert not is_forbidden_address(ipaddress.ip_address(address))


def test_teredo_fixture_really_embeds_loopback() -> None:
    # The Teredo row above: server 65.54.227.120, client 127.0.0.1 stored XOR 0xffffffff (RFC 4380).
    teredo = ipaddress.IPv6Address("2001:0:4136:e378:8000:63bf:80ff:fffe").teredo
    assert teredo == (ipaddress.IPv4Address("65.54.227.120"), ipaddress.IPv4Address("127.0.0.1"))


def _fixed(table: dict[str, Sequence[str]]) -> Callable[[str, int], Awaitable[list[Address]]]:
    async def resolve(host: str, port: int) -> list[Address]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, f"test resolver: unknown {host}")
        return [ipaddress.ip_address(address) for address in table[host]]
    return resolve


async def _no_dns(host: str, port: int) -> list[Address]:
    raise AssertionError(f"the guard resolved {host} although it must not")


@pytest.mark.parametrize("url", ["ftp://moers.test/x", "file:///etc/passwd", "gopher://moers.test/"])
def test_check_url_refuses_other_schemes_even_when_private_is_allowed(url: str) -> None:
    for allow in (False, True):
        with pytest.raises(ForbiddenAddress, match="is not http or https"):
            AddressGuard(allow, resolve=_no_dns).check_url(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "https://169.254.169.254/latest/meta-data/",
                                 "http://[::1]:8000/", "http://[::ffff:127.0.0.1]/", "http://10.1.2.3:8080/x",
                                 "http://[fd00::1]/", "http://0.0.0.0:8001/"])
def test_check_url_refuses_forbidden_ip_literals_without_dns(url: str) -> None:
    with pytest.raises(ForbiddenAddress, match="not a public address") as caught:
        AddressGuard(False, resolve=_no_dns).check_url(url)
    assert caught.value.address is not None
    AddressGuard(True, resolve=_no_dns).check_url(url)  # allowed for development cities


def test_check_url_leaves_names_to_connect_time() -> None:
    AddressGuard(False, resolve=_no_dns).check_url("https://localhost/")  # no lookup here
    AddressGuard(False, resolve=_no_dns).check_url("https://93.184.216.34/")


async def test_vet_passes_a_name_resolving_to_a_public_address() -> None:
    guard = AddressGuard(False, resolve=_fixed({"public.example": ["93.184.216.34", "2606:2800:220:1::"]}))
    assert await guard.vet("public.example", 443) == [ipaddress.ip_address("93.184.216.34"),
                                                      ipaddress.ip_address("2606:2800:220:1::")]


@pytest.mark.parametrize("answers", [["127.0.0.1"], ["10.0.0.7"], ["93.184.216.34", "127.0.0.1"],
                                     ["::1", "93.184.216.34"], ["169.254.169.254"]])
async def test_vet_refuses_a_name_with_any_forbidden_address(answers: list[str]) -> None:
    guard = AddressGuard(False, resolve=_fixed({"public.example": answers}))
    with pytest.raises(ForbiddenAddress) as caught:
        await guard.vet("public.example", 443)
    assert caught.value.host == "public.example"
    assert caught.value.address in answers and is_forbidden_address(ipaddress.ip_address(caught.value.address))
    assert "public.example" in str(caught.value) and caught.value.address in str(caught.value)
    assert isinstance(caught.value, httpx.ConnectError)


# ---------------------------------------------------------------------------------------------
# Real sockets on 127.0.0.1.
# ---------------------------------------------------------------------------------------------
class Loopback:
    """A tiny HTTP/1.1 server on 127.0.0.1 answering every request with one fixed response."""

    def __init__(self, response: bytes) -> None:
        self.response = response
        self.connections = 0
        self.port = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(self.response)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @asynccontextmanager
    async def running(self, ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[Loopback]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=ssl_context)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()
            await server.wait_closed()


@pytest.fixture
async def loopback() -> AsyncIterator[Loopback]:
    async with Loopback(OK_RESPONSE).running() as server:
        yield server


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.1", "2130706433"])
async def test_guarded_client_refuses_loopback(loopback: Loopback, host: str) -> None:
    # localhost, 127.1 and 2130706433 are names to httpx; only the resolver turns them into 127.0.0.1.
    async with httpx.AsyncClient(transport=guarded_transport(False)) as client:
        with anyio.fail_after(5), pytest.raises(ForbiddenAddress) as caught:
            await client.get(f"http://{host}:{loopback.port}/")
    assert caught.value.host == host
    assert ipaddress.ip_address(caught.value.address or "").is_loopback
    assert caught.value.request.url.port == loopback.port
    assert loopback.connections == 0


async def test_guarded_client_with_private_network_allowed_fetches_loopback(loopback: Loopback) -> None:
    # resolve=_no_dns: with the network allowed the guard does not even look the name up.
    async with httpx.AsyncClient(transport=guarded_transport(True, resolve=_no_dns)) as client:
        with anyio.fail_after(5):
            literal = await client.get(f"http://127.0.0.1:{loopback.port}/")
            named = await client.get(f"http://localhost:{loopback.port}/")
    assert literal.status_code == named.status_code == 200
    assert literal.json()["ok"] is True
    assert loopback.connections == 2


async def test_public_looking_name_resolving_to_loopback_is_refused(loopback: Loopback) -> None:
    transport = guarded_transport(False, resolve=_fixed({"public.example": ["127.0.0.1"]}))
    async with httpx.AsyncClient(transport=transport) as client:
        with anyio.fail_after(5), pytest.raises(ForbiddenAddress, match=r"public\.example \(127\.0\.0\.1\)"):
            await client.get(f"http://public.example:{loopback.port}/")
    assert loopback.connections == 0


async def test_redirect_from_a_public_peer_into_loopback_is_refused(loopback: Loopback) -> None:
    async def redirect(request: Request) -> RedirectResponse:
        return RedirectResponse(f"http://localhost:{loopback.port}/admin", status_code=302)

    public_peer = httpx.ASGITransport(app=Starlette(routes=[Route("/users/mallory", redirect)]))
    guarded = guarded_transport(False)
    # The in-process peer stands in for a public server; every other host goes through the guard.
    mounts = {"all://public.example": public_peer}
    async with httpx.AsyncClient(transport=guarded, mounts=mounts) as client:
        fetcher = Fetcher(client, key_id="http://moers.test/actor#main-key",
                          private_pem=(KEYS / "alice_private.pem").read_text(), user_agent="fedserver-test")
        with anyio.fail_after(5), pytest.raises(NotAllowed, match="localhost") as caught:
            await fetcher.fetch_json("http://public.example/users/mallory")
    assert isinstance(caught.value.__cause__, ForbiddenAddress)
    assert loopback.connections == 0


async def test_resolution_is_bounded_by_the_connect_timeout() -> None:
    async def hanging(host: str, port: int) -> list[Address]:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    transport = guarded_transport(False, resolve=hanging)
    async with httpx.AsyncClient(transport=transport, timeout=0.2) as client:
        with anyio.fail_after(5), pytest.raises(httpx.ConnectTimeout, match="resolving slow.example"):
            await client.get("http://slow.example/")


async def test_unknown_name_is_a_plain_connect_error() -> None:
    async with httpx.AsyncClient(transport=guarded_transport(False, resolve=_fixed({}))) as client:
        with anyio.fail_after(5), pytest.raises(httpx.ConnectError, match="cannot resolve nowhere.example") as caught:
            await client.get("http://nowhere.example/")
    assert not isinstance(caught.value, ForbiddenAddress)


async def test_unix_sockets_are_refused() -> None:
    backend = GuardedNetworkBackend(AddressGuard(False))
    with pytest.raises(ForbiddenAddress, match="unix sockets"):
        await backend.connect_unix_socket("/run/docker.sock")


# ---------------------------------------------------------------------------------------------
# The dial goes to the vetted literal, while TLS checks the certificate for the host *name*.
# ---------------------------------------------------------------------------------------------
class DialRecorder(httpcore.AsyncNetworkBackend):
    """Records where the guard dials and connects to the loopback server instead (no outside traffic)."""

    def __init__(self, loopback_port: int) -> None:
        self.dialled: list[tuple[str, int]] = []
        self._port = loopback_port
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        self.dialled.append((host, port))
        return await self._real.connect_tcp("127.0.0.1", self._port, timeout=timeout)

    async def sleep(self, seconds: float) -> None:
        await self._real.sleep(seconds)


def _certificate_for(name: str, directory: Path) -> tuple[Path, Path, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    (directory / "cert.pem").write_text(cert_pem)
    (directory / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return directory / "cert.pem", directory / "key.pem", cert_pem


async def test_dial_uses_the_vetted_address_and_tls_the_host_name(tmp_path: Path) -> None:
    cert_file, key_file, cert_pem = _certificate_for("public.example", tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    sni_seen: list[str | None] = []
    server_context.sni_callback = lambda sock, name, context: sni_seen.append(name)
    lookups: list[str] = []

    async def resolve(host: str, port: int) -> list[Address]:
        lookups.append(host)
        return [ipaddress.ip_address("93.184.216.34")]

    async with Loopback(OK_RESPONSE).running(server_context) as server:
        recorder = DialRecorder(server.port)
        transport = guarded_transport(False, resolve=resolve, network_backend=recorder,
                                      verify=ssl.create_default_context(cadata=cert_pem))
        async with httpx.AsyncClient(transport=transport) as client:
            with anyio.fail_after(5):
                response = await client.get("https://public.example/")
    assert response.status_code == 200
    assert lookups == ["public.example"]                 # one lookup: nothing to rebind between two
    assert recorder.dialled == [("93.184.216.34", 443)]  # the literal that was vetted, not the name
    assert sni_seen == ["public.example"]                # and the certificate was checked for the name
