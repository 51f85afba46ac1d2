"""How soon the next `/changes` long-poll of a session may start, whatever the last one met.

A long-poll costs one request per `wait_for_seconds` only if the server holds it that long.
One that answers "nothing new" at once (a proxy that does not hold requests, a server that
ignores `wait_for_seconds`) would be asked again at once, twenty times a second: so an
early empty answer waits out the rest of the wait it asked for (with jitter, so many
sessions do not move in step), and a session whose long-polls keep coming back early goes
back to plain `/status` polls at its usual cadence. Answers with news are never held back
by more than `MIN_GAP`, which bounds any server to one long-poll a second per session.
"""

from __future__ import annotations

import random

from agp_tui.monitor.tracked import Tracked

# Seconds between the starts of two long-polls of one session, whatever came back.
MIN_GAP = 1.0
# An empty answer within this share of the wait asked for did not hold the request.
EARLY_SHARE = 0.5
# Early empty answers in a row after which the session polls /status instead.
EARLY_MAX = 3
JITTER = 0.1


def after_answer(t: Tracked, *, started: float, now: float, wait: float, empty: bool,
                 rng: random.Random) -> None:
    """Record a long-poll answer (`empty`: a 204, or a 200 without events) that took
    `now - started` seconds, and set when the next one may start (`t.long_poll_resume_at`)."""
    resume = started + MIN_GAP
    if empty and now - started < wait * EARLY_SHARE:
        t.long_poll_early += 1
        if t.long_poll_early >= EARLY_MAX:
            # This server does not hold long-polls: /status polls at the normal cadence
            # cost far less than asking again every `wait` seconds for nothing.
            t.long_poll_failed = True
        resume = max(resume, started + wait * (1 + rng.uniform(-JITTER, JITTER)))
    else:
        t.long_poll_early = 0
    t.long_poll_resume_at = resume


def pause_before(t: Tracked, now: float) -> float:
    """Seconds to wait before this session's next long-poll (0: go now)."""
    return max(t.long_poll_resume_at - now, 0.0)
