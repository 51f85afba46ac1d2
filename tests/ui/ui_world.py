"""The standard fake world of the dashboard tests (a module of its own: test modules must
not import `conftest`, whose name every test folder shares)."""

from __future__ import annotations

from helpers import iso

from agp_tui.sim.fake_backend import FakeBackend

HOSTILE_AGENT = "[bold red]x[/]"
HOSTILE_ERROR = "\x1b[31mred\x1b[0m alert\x07 on\nline two"


def standard_world(fake: FakeBackend) -> list[str]:
    """Six top-level sessions covering the statuses the table must tell apart (of a quota of 10)."""
    fake.world.quota_limit = 10
    made = [
        fake.pin(1, agent="h/web-surfer-flash", status="running", steps=7,
                 usage=[("holo3-122b-a10b", 12_400, 890, 0), ("holo3-1-35b-a3b", 3_000, 120, 40)],
                 created=iso(12), started=iso(11.5)),
        fake.pin(2, agent=HOSTILE_AGENT, status="failed", error=HOSTILE_ERROR,
                 error_code="environment_error", created=iso(65), started=iso(64), finished=iso(60)),
        fake.pin(3, agent="acme/researcher", status="idle", steps=40,
                 usage=[("holo3-122b-a10b", 1_240_000, 52_000, 8_000)], created=iso(200),
                 started=iso(199)),
        fake.pin(4, agent="acme/mystery", status="exploded", steps=1, created=iso(3)),
        fake.pin(5, agent="h/web-surfer-flash", status="completed", steps=12, outcome="success",
                 usage=[("holo3-1-35b-a3b", 24_800, 1_420, 0)], created=iso(30), started=iso(29),
                 finished=iso(28)),
        fake.pin(6, agent="acme/shopper", status="paused", steps=3,
                 usage=[("holo3-1-35b-a3b", 5_100, 300, 0)], created=iso(8), started=iso(7)),
    ]
    return [s.id for s in made]
