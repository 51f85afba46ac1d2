"""The key never shows itself, and never crosses the network in clear text by accident."""

from __future__ import annotations

import logging
import pickle

import pytest
from api_payloads import KEY, SID, STATUS_RUNNING, reply

from agp_tui.api import AgpClient, AgpError, InsecureTransport, RetryPolicy, Secret, is_loopback_host
from agp_tui.sim.fake_backend import FakeBackend

PIECES = [KEY[i:i + 8] for i in range(3, len(KEY) - 7)]  # every 8-char run past "hk-"


def assert_hidden(text: str) -> None:
    assert KEY not in text
    leaked = [p for p in PIECES if p in text]
    assert not leaked, f"key fragment {leaked[0]!r} in {text!r}"


# -- Secret -------------------------------------------------------------------------------


def test_secret_never_renders_its_value(caplog: pytest.LogCaptureFixture) -> None:
    s = Secret(KEY)
    # Every formatting path on purpose, the old ones included.
    renderings = [repr(s), str(s), f"{s}", f"{s!r}", f"{s!s}", format(s), repr([s]), repr({"key": s}),
                  "{}".format(s), "%s" % s, "%r" % (s,)]  # noqa: UP031, UP032
    for text in renderings:
        assert_hidden(text)
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("key is %s / %r", s, s)
    assert_hidden(caplog.text)
    assert "key is" in caplog.text


def test_secret_redacted_hint() -> None:
    s = Secret(KEY)
    assert str(s) == "hk-…0a9d"
    assert repr(s) == "Secret('hk-…0a9d')"
    assert str(Secret("hk-short")) == "****"


def test_secret_reveal_and_value_semantics() -> None:
    s = Secret(KEY)
    assert s.reveal() == KEY
    assert s == Secret(KEY) and s != Secret(KEY + "x") and s != KEY
    assert hash(s) == hash(Secret(KEY))
    assert bool(s) and not bool(Secret(""))


def test_secret_refuses_pickling() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret(KEY))


def test_secret_has_no_instance_dict() -> None:
    assert not hasattr(Secret(KEY), "__dict__")


# -- the client ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", [KEY, Secret(KEY)])
async def test_client_repr_hides_the_key(make_client, server: FakeBackend, key: object) -> None:
    server.queue(reply(200, STATUS_RUNNING))
    client: AgpClient = make_client(key=key)
    for text in (repr(client), str(client), f"{client}"):
        assert_hidden(text)
        assert server.base_url in text
    await client.get_status(SID)
    assert server.last.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("url", [
    "http://agp.eu.hcompany.ai/api/v2",
    "http://agp.example.com:8080",
    "http://10.0.0.5:8000/api/v2",
    "http://192.168.1.20",
    "http://[2001:db8::1]:8000",
    "http://localhost.evil.example",
    "http://127.0.0.1.nip.io",
    "http://0.0.0.0:8000",
])
@pytest.mark.parametrize("key", [KEY, Secret(KEY)])
def test_key_over_plain_http_to_a_remote_host_is_refused(url: str, key: object) -> None:
    with pytest.raises(InsecureTransport) as info:
        AgpClient(url, key)  # type: ignore[arg-type]
    err = info.value
    assert isinstance(err, AgpError)
    assert "--allow-insecure-http" in str(err)
    assert_hidden(str(err))
    assert_hidden(repr(err))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/api/v2",
    "http://127.3.4.5",
    "http://[::1]:8000/api/v2",
    "http://localhost:8000",
    "http://LOCALHOST:8000",
    "http://sim.localhost:9000",
])
async def test_loopback_http_is_allowed(
    server: FakeBackend, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve_localhost_names(monkeypatch, {"sim.localhost": ["127.0.0.1"]})
    server.queue(reply(200, STATUS_RUNNING))
    client: AgpClient = server.client(url, KEY)  # in-process: nothing listens on these ports
    await client.get_status(SID)
    assert server.last.url.scheme == "http"
    assert server.last.headers["authorization"] == f"Bearer {KEY}"


async def test_allow_insecure_http_allows(server: FakeBackend) -> None:
    server.queue(reply(200, STATUS_RUNNING))
    client: AgpClient = server.client("http://agp.example.com/api/v2", KEY, allow_insecure_http=True)
    await client.get_status(SID)
    assert str(server.last.url) == f"http://agp.example.com/api/v2/sessions/{SID}/status"
    assert server.last.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("key", [None, "", Secret("")])
async def test_plain_http_without_a_key_is_allowed(server: FakeBackend, key: object) -> None:
    server.queue(reply(200, STATUS_RUNNING))
    client = AgpClient("http://agp.example.com/api/v2", key, backend=server)  # type: ignore[arg-type]
    await client.get_status(SID)
    assert "authorization" not in server.last.headers


def test_https_to_a_remote_host_is_fine() -> None:
    client = AgpClient("https://agp.eu.hcompany.ai/api/v2", KEY, retry=RetryPolicy.off())
    assert client.base_url == "https://agp.eu.hcompany.ai/api/v2"


@pytest.mark.parametrize("url", ["agp.eu.hcompany.ai/api/v2", "ftp://agp.test", "https://", "", "file:///etc"])
def test_non_http_base_url_is_rejected(url: str) -> None:
    with pytest.raises(AgpError) as info:
        AgpClient(url, KEY)
    assert "not an http(s) URL" in str(info.value)
    assert_hidden(str(info.value))


def resolve_localhost_names(monkeypatch: pytest.MonkeyPatch, table: dict[str, list[str]]) -> list[str]:
    """Make `socket.getaddrinfo` answer from `table` (a name's addresses) for these names;
    returns the names looked up."""
    import socket

    real = socket.getaddrinfo
    asked: list[str] = []

    def fake(host: str, *args: object, **kwargs: object) -> object:
        asked.append(host)
        if host in table:
            return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                     (a, 0)) for a in table[host]]
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return asked


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.255.255.254", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("LocalHost", True), ("a.b.localhost", True),
    ("0.0.0.0", False), ("10.0.0.1", False), ("::", False), ("example.com", False),
    ("localhost.example.com", False), ("notlocalhost", False), ("", False),
    # Decided by the resolved address, not the name (issue 18, item 9).
    ("evil.localhost", False), ("mixed.localhost", False), ("nowhere.localhost", False),
])
def test_is_loopback_host(host: str, loopback: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = resolve_localhost_names(monkeypatch, {
        "localhost": ["127.0.0.1", "::1"], "a.b.localhost": ["127.0.0.1"],
        "evil.localhost": ["10.0.0.7"], "mixed.localhost": ["127.0.0.1", "203.0.113.9"],
    })
    assert is_loopback_host(host) is loopback
    if "localhost" not in host.lower() or host.lower().endswith(".example.com"):
        assert asked == []  # names that do not claim to be local are never looked up


async def test_key_only_travels_in_the_authorization_header(make_client, server: FakeBackend) -> None:
    server.queue(reply(202))
    client: AgpClient = make_client()
    await client.send_message(SID, "hello")
    req = server.last
    assert KEY not in str(req.url)
    assert KEY.encode() not in req.content
    holders = [name.lower() for name, value in req.headers.items() if KEY in value]
    assert holders == ["authorization"]
