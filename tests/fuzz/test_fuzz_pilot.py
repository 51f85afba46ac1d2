"""The dashboard shows good data, then the server answers with wrong shapes: the row keeps
its last good values, the detail pane says so, and the stale mark appears."""

from __future__ import annotations

from helpers import Clock, cell_text, frame, running, sid, wait_for

from agp_tui.api.backend import RawResponse
from agp_tui.sim.fake_backend import Call, FakeBackend

WRONG_SHAPES = (
    b'["not", "an", "object"]',
    b'{"status": 7, "steps": "many"}',
    b'{"steps": 99, "usage_per_model": {"name": 1}}',
    b'{"status": {"status": null}}',
    b"[" * 50_000 + b"]" * 50_000,
    b"\xff\xfe not json",
)


class ShapeShifter:
    """Answers every GET about session 1 with the current wrong shape once `broken` is set."""

    def __init__(self, fake: FakeBackend) -> None:
        self.broken: bytes | None = None
        self.requests: list[Call] = []
        fake.fail(self.answer, session=sid(1))

    def answer(self, call: Call) -> RawResponse | None:
        if self.broken is None or call.method != "GET":
            return None  # the World answers
        self.requests.append(call)
        return RawResponse(200, {"Content-Type": "application/json"}, self.broken)


async def test_wrong_shapes_keep_the_row_and_mark_it_stale() -> None:
    fake, clock = FakeBackend(), Clock()
    shifter = ShapeShifter(fake)
    fake.pin(1, agent="h/web-surfer-flash", status="running", steps=7,
             usage=[("holo3-1-35b-a3b", 12_400, 890, 0)])
    fake.pin(2, agent="acme/other", status="running", steps=2)
    async with running(fake, clock, [sid(1), sid(2)], (120, 30)) as (app, pilot):
        before = {c: cell_text(app, sid(1), c) for c in ("status", "steps", "input", "output", "agent")}
        assert before["steps"].strip() == "7" and before["input"].strip() == "12k"
        for body in WRONG_SHAPES:
            shifter.broken = body
            asked = len(shifter.requests)
            app.engine.refresh([sid(1)])
            await wait_for(pilot, lambda: len(shifter.requests) > asked)  # noqa: B023
            await wait_for(pilot, lambda: app.engine.view(sid(1)).error_kind == "BadResponse")  # type: ignore[union-attr]
            await frame(pilot)
            assert app.is_running
            assert {c: cell_text(app, sid(1), c) for c in before} == before  # last good values stay
        assert "BadResponse" in cell_text(app, sid(1), "error")
        clock.advance(31)  # past stale_after (30 s) with nothing but wrong shapes
        # Session 2 is past it too until its next poll, due at once: wait for that good answer
        # (under load the frame could come first and show session 2 stale for a moment).
        await wait_for(pilot, lambda: app.engine.view(sid(1)).stale  # type: ignore[union-attr]
                       and not app.engine.view(sid(2)).stale)  # type: ignore[union-attr]
        await frame(pilot)
        assert cell_text(app, sid(1), "updated").strip().startswith("!")
        assert not cell_text(app, sid(2), "updated").strip().startswith("!")
        assert {c: cell_text(app, sid(1), c) for c in before} == before
        await pilot.press("i")  # the detail pane of the highlighted (first) row
        await frame(pilot)
        info = str(app.screen.query_one("#detail-info").render())
        assert "(STALE)" in info and "BadResponse" in info and "running" in info
        # And the next good answer clears it.
        shifter.broken = None
        fake.set(sid(1), steps=8)
        app.engine.refresh([sid(1)])
        await wait_for(pilot, lambda: not app.engine.view(sid(1)).stale)  # type: ignore[union-attr]
        await frame(pilot)
        assert cell_text(app, sid(1), "steps").strip() == "8"
        assert not cell_text(app, sid(1), "updated").strip().startswith("!")
