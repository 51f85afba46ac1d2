"""The engine fed fuzzed answers after good ones: it never crashes a poll task, refuses a
wrong shape as BadResponse, keeps the last good status/steps/tokens, marks the session
stale after `stale_after`, and recovers on the next good answer."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from fakes import Clock, FakeAgp, make_engine
from fuzz_payloads import (
    any_payload,
    dumps,
    fuzz_settings,
    raw_bodies,
    session_payload,
    status_payload,
    wrong_status_shape,
)
from hypothesis import given
from hypothesis import strategies as st

from agp_tui.api.errors import BadResponse
from agp_tui.api.models import Session, SessionStatus
from agp_tui.monitor.engine import Engine
from agp_tui.monitor.view import SessionView


class JunkAgp(FakeAgp):
    """The dashboard tests' fake AGP, answering GETs about chosen sessions with given bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.junk: dict[str, bytes] = {}
        self.served: list[str] = []  # which endpoint each junk answer went to

    def __call__(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.removeprefix("/api/v2").strip("/").split("/")
        if request.method == "GET" and len(parts) >= 2 and parts[1] in self.junk:
            self.requests.append(request)
            self.served.append(parts[2] if len(parts) > 2 else "session")
            return httpx.Response(200, content=self.junk[parts[1]])
        return super().__call__(request)


def expected(body: bytes, endpoint: str) -> SessionStatus | None:
    """What the engine should now show, parsing the body as the client would (None: refused)."""
    try:
        data = json.loads(body)
        if endpoint == "status":
            return SessionStatus.from_json(data)
        return Session.from_json(data).status
    except (ValueError, UnicodeDecodeError, RecursionError, BadResponse):
        return None


async def until(cond: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout}s: {what}")
        await asyncio.sleep(0.002)


def view_of(engine: Engine, sid: str) -> SessionView:
    view = engine.view(sid)
    assert view is not None
    return view


async def scenario(bodies: list[bytes], *, all_wrong: bool) -> None:
    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    fake, clock = JunkAgp(), Clock()
    s = fake.session(1, agent="h/web-surfer-flash", status="running", steps=7,
                     usage=[("holo3-1-35b-a3b", 1200, 90, 5)])
    engine = make_engine(fake, clock, stale_after=30.0)
    try:
        await engine.start([s.id])
        await until(lambda: view_of(engine, s.id).status is not None, "first good poll")
        good = view_of(engine, s.id)
        assert good.status is not None and good.steps == 7
        shown = good.status
        for body in bodies:
            fake.junk[s.id] = body
            before = len(fake.served)
            engine.refresh([s.id])
            await until(lambda: len(fake.served) > before, "a poll of the junk")  # noqa: B023
            want = expected(body, fake.served[-1])
            if all_wrong:
                assert want is None, body[:200]
            if want is None:
                # Refused: the error is recorded, the last good data stays.
                await until(lambda: view_of(engine, s.id).error_kind == "BadResponse",
                            f"BadResponse recorded for {body[:80]!r}")
                view = view_of(engine, s.id)
                assert view.status == shown and view.agent == good.agent
                assert view.error_message is not None
            else:
                await until(lambda: view_of(engine, s.id).status == want,  # noqa: B023
                            f"accepted payload shown: {body[:80]!r}")
                shown = want
        if all_wrong and bodies:
            clock.advance(31)  # past stale_after with nothing but refusals
            await until(lambda: view_of(engine, s.id).stale, "stale mark")
            view = view_of(engine, s.id)
            assert view.status == good.status and view.steps == 7 and view.usage == good.usage
        # The poll task is alive and the session recovers with the next good answer.
        fake.junk.pop(s.id, None)
        fake.sessions[s.id].steps = 8
        fake.sessions[s.id].status = "running"
        engine.refresh([s.id])
        await until(lambda: view_of(engine, s.id).steps == 8
                    and view_of(engine, s.id).status_text == "running", "recovery")
        view = view_of(engine, s.id)
        assert not view.stale and view.error_kind is None
    finally:
        await engine.aclose()
    assert not unhandled, unhandled


wrong_bodies = st.one_of(wrong_status_shape.map(dumps), raw_bodies.filter(
    lambda b: expected(b, "status") is None and expected(b, "session") is None))


@fuzz_settings(20)
@given(st.lists(wrong_bodies, min_size=1, max_size=6))
def test_wrong_shapes_keep_the_last_good_data_and_go_stale(bodies: list[bytes]) -> None:
    asyncio.run(scenario(bodies, all_wrong=True))


@fuzz_settings(20)
@given(st.lists(st.one_of(status_payload, session_payload, any_payload).map(dumps), min_size=1, max_size=6))
def test_any_payload_is_shown_or_refused_never_fatal(bodies: list[bytes]) -> None:
    asyncio.run(scenario(bodies, all_wrong=False))
