"""The engine fed fuzzed answers after good ones: it never crashes a poll task, refuses a
wrong shape as BadResponse, keeps the last good status/steps/tokens, marks the session
stale after `stale_after`, and recovers on the next good answer."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from fuzz_payloads import (
    any_payload,
    dumps,
    fuzz_settings,
    raw_bodies,
    session_payload,
    status_payload,
    wrong_status_shape,
)
from helpers import Clock, make_engine
from hypothesis import given
from hypothesis import strategies as st

from agp_tui.api.backend import RawResponse
from agp_tui.api.errors import BadResponse
from agp_tui.api.models import Session, SessionStatus
from agp_tui.monitor.engine import Engine
from agp_tui.monitor.view import SessionView
from agp_tui.sim.fake_backend import Call, FakeBackend


class Junk:
    """Answers GETs about chosen sessions with given bytes (the World answers the rest)."""

    def __init__(self, fake: FakeBackend) -> None:
        self.junk: dict[str, bytes] = {}
        self.served: list[str] = []  # which endpoint each junk answer went to
        fake.fail(self.answer)

    def answer(self, call: Call) -> RawResponse | None:
        if call.method != "GET" or call.session not in self.junk:
            return None
        self.served.append(call.kind)
        return RawResponse(200, {"Content-Type": "application/json"}, self.junk[call.session])


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
    fake, clock = FakeBackend(), Clock()
    junk = Junk(fake)
    s = fake.pin(1, agent="h/web-surfer-flash", status="running", steps=7,
                 usage=[("holo3-1-35b-a3b", 1200, 90, 5)])
    engine = make_engine(fake, clock, stale_after=30.0)
    try:
        await engine.start([s.id])
        await until(lambda: view_of(engine, s.id).status is not None, "first good poll")
        good = view_of(engine, s.id)
        assert good.status is not None and good.steps == 7
        shown = good.status
        for body in bodies:
            junk.junk[s.id] = body
            before = len(junk.served)
            engine.refresh([s.id])
            await until(lambda: len(junk.served) > before, "a poll of the junk")  # noqa: B023
            want = expected(body, junk.served[-1])
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
        junk.junk.pop(s.id, None)
        fake.set(s.id, steps=8, status="running")
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
