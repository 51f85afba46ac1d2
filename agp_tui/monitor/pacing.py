"""How soon the next `/changes` long-poll of a session may start, whatever the last one met.

A long-poll costs one request per `wait_for_seconds` only if the server holds it that long.
One that answers "nothing new" at once (a proxy that does not hold requests, a server that
ignores `wait_for_seconds`) would be asked again at once, twenty times a second. So:
- an early empty answer (a 204, or a 200 without events, well before the wait) ends
  long-polling for the rest of that wait, with jitter so sessions do not move in step;
  meanwhile the session is followed by `/status` polls at its usual cadence;
- `EARLY_MAX` early answers in a row end long-polling for the session for good: plain
  `/status` polls cost less than asking every `wait` seconds for nothing;
- any answer, news included, is followed by at least `gap` (the engine's
  `long_poll_min_gap`, 2 s) before the next long-poll starts: whatever a server answers,
  a session it follows costs less than one request a second (a busy session's events
  wait at most that long, batched).
"""

from __future__ import annotations

import random

from agp_tui.monitor.tracked import Tracked

EARLY_SHARE = 0.5  # an empty answer within this share of the wait did not hold the request
EARLY_MAX = 3
JITTER = 0.1


def after_answer(t: Tracked, *, started: float, now: float, wait: float, gap: float, empty: bool,
                 rng: random.Random) -> None:
    """Record a long-poll answer that took `now - started` seconds (`empty`: nothing new);
    the next long-poll starts `gap` seconds after this one started, at the earliest."""
    # Never more than the wait itself: an answer held that long was paced by the server.
    t.long_poll_gap_until = started + min(gap, wait)
    if empty and now - started < wait * EARLY_SHARE:
        t.long_poll_early += 1
        if t.long_poll_early >= EARLY_MAX:
            t.long_poll_failed = True
        t.long_poll_resume_at = started + wait * (1 + rng.uniform(-JITTER, JITTER))
    else:
        t.long_poll_early = 0


def may_long_poll(t: Tracked, now: float) -> bool:
    """False while an early answer's wait is being waited out (polls go to /status)."""
    return now >= t.long_poll_resume_at


def pause_before(t: Tracked, now: float) -> float:
    """Seconds to wait before this session's next long-poll (0: go now)."""
    return max(t.long_poll_gap_until - now, 0.0)
