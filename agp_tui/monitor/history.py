"""Token rates of one session, per model, in fixed wall-clock buckets.

The API only gives CUMULATIVE counters per model. Each observation's growth since the
previous one is spread uniformly over the time between them, in proportion to how much of
that interval each bucket covers. So the rates do not depend on the poll cadence: a 15 s gap
lands across the two or three buckets it touched instead of as a spike in one, and a
session polled every 2 s draws the same sparkline as one polled every 30 s.

Buckets are aligned to wall-clock multiples of `bucket_seconds` (bucket k covers
[k * bucket_seconds, (k + 1) * bucket_seconds)), so two sessions' sparklines line up
column for column.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from typing import Literal

from agp_tui.api.models import ModelUsage

Kind = Literal["input", "output", "reasoning", "cached", "total"]

OTHER = "other"  # where models beyond the per-session cap are folded
DEFAULT_MAX_MODELS = 16

# Slot layout inside a ring: 4 floats per bucket, one per stored kind. "total" is derived
# (input + output + reasoning); cached is a subset of input, so it is never added to it.
_KIND_OFFSET: dict[str, int] = {"input": 0, "output": 1, "reasoning": 2, "cached": 3}
_TOTAL_OFFSETS = (0, 1, 2)
_STRIDE = 4
_ZERO_SLOT = array("d", bytes(8 * _STRIDE))
_NO_DELTA = (0, 0, 0, 0)

_Counts = tuple[int, int, int, int]


def _kind_offsets(kind: str) -> tuple[int, ...]:
    if kind == "total":
        return _TOTAL_OFFSETS
    try:
        return (_KIND_OFFSET[kind],)
    except KeyError:
        raise ValueError(f"unknown token kind {kind!r}") from None


class _Track:
    """One model's state: last counters, when they were seen, and its ring of buckets."""

    __slots__ = ("counts", "last_at", "last_delta", "last_span", "ring", "span_start", "usage")

    def __init__(self, usage: ModelUsage, counts: _Counts, at: float, size: int) -> None:
        self.usage = usage
        self.counts = counts
        self.last_at = at
        # Start of the interval the last growth was spread over; None when the last
        # observation only set a baseline. An equal-timestamp observation merges into it.
        self.span_start: float | None = None
        self.last_delta: _Counts = _NO_DELTA
        self.last_span = 0.0
        self.ring = array("d", bytes(8 * size))


class TokenHistory:
    """Per-model token rates over the last `buckets` * `bucket_seconds` of wall-clock time.

    Memory is fixed: each model holds one `array('d')` ring of 4 kinds * `buckets` floats
    (8 bytes each; 60 buckets = 1,920 bytes per model), and at most `max_models` named
    models are tracked per session; further ones are folded into one "other" model. So a
    history never exceeds (max_models + 1) * 4 * buckets floats (~33 KB at the defaults;
    ~4 KB for the usual two models), however long it runs.

    Semantics of `observe`:
    - The very first observation only sets the baseline of every model in it: tokens used
      before we started watching are not a burst of activity. With `grew_since` (a session
      first seen while it runs), its counters are instead spread over [grew_since, at] and
      that span is an *estimate* (`estimated_until`, `estimated_buckets`): we never saw when
      those tokens were used, so renderers draw it apart from measured activity.
    - A model first seen on a LATER observation did its work since the previous one, so its
      whole value counts as growth from zero over that interval.
    - A counter that goes down (the server reset the session) re-baselines that model.
    - Observations older than the last one are ignored; one at the same instant merges
      with it (its extra growth is spread over the interval that just ended).
    - A gap longer than the window keeps only the part of its growth that falls inside it.
    """

    def __init__(
        self, buckets: int = 60, bucket_seconds: float = 10.0, *, max_models: int = DEFAULT_MAX_MODELS
    ) -> None:
        if buckets < 1:
            raise ValueError(f"buckets must be at least 1, got {buckets}")
        if not (bucket_seconds > 0 and math.isfinite(bucket_seconds)):
            raise ValueError(f"bucket_seconds must be a positive number, got {bucket_seconds}")
        if max_models < 1:
            raise ValueError(f"max_models must be at least 1, got {max_models}")
        self._buckets = buckets
        self._bucket_seconds = float(bucket_seconds)
        self._max_models = max_models
        self._size = _STRIDE * buckets
        self._zeros = array("d", bytes(8 * self._size))
        self._tracks: dict[str, _Track] = {}
        self._named = 0
        self._last_at: float | None = None
        # The previous distinct observation time: the start of the interval that ended at
        # `_last_at`. None until a second distinct observation (the first is a baseline).
        self._span_start: float | None = None
        self._head: int | None = None  # absolute index of the newest bucket in the rings
        # The spreading plan depends only on (t0, t1) and all models usually share it.
        self._plan_key: tuple[float, float] = (math.nan, math.nan)
        self._plan: list[tuple[int, float]] = []
        # Growth placed at or before this time was estimated, not measured (see `observe`).
        self._estimated_until: float | None = None

    @property
    def buckets(self) -> int:
        return self._buckets

    @property
    def bucket_seconds(self) -> float:
        return self._bucket_seconds

    @property
    def last_observed_at(self) -> float | None:
        return self._last_at

    @property
    def estimated_until(self) -> float | None:
        """End of the estimated span of a first observation made with `grew_since`, if any."""
        return self._estimated_until

    # ---------------------------------------------------------------- observing

    def observe(self, at: float, usage: Sequence[ModelUsage], *, grew_since: float | None = None) -> bool:
        """Record cumulative counters seen at wall-clock `at` (epoch seconds).

        `grew_since` matters on the first observation only: the counters grew from zero
        since then (a session first seen mid-run), so they are spread over [grew_since, at]
        as an estimate rather than taken as a flat baseline. Ignored unless it is finite
        and earlier than `at` (a server clock ahead of ours gives a start in our future).

        Returns True if any model's counters differ from the last ones seen (a newly seen
        model counts as a change); False for an ignored out-of-order observation.
        """
        if (
            grew_since is not None and self._last_at is None and math.isfinite(at)
            and math.isfinite(grew_since) and grew_since < at
        ):
            self.observe(grew_since, ())  # an empty baseline: every model then counts from zero
            self._estimated_until = at
        last_at = self._last_at
        if (last_at is not None and at < last_at) or not math.isfinite(at):
            return False
        if at != last_at:
            self._span_start = last_at
            self._last_at = at
            self._advance(int(at // self._bucket_seconds))
        if len(usage) > 1 and len({u.name for u in usage}) != len(usage):
            usage = _merge_duplicates(usage)

        tracks = self._tracks
        moved = False
        folded: list[ModelUsage] | None = None
        for u in usage:
            name = u.name
            track = tracks.get(name)
            if track is None:
                if name == OTHER or self._named >= self._max_models:
                    if folded is None:
                        folded = []
                    folded.append(u)
                    continue
                self._named += 1
            counts = (u.input_tokens, u.output_tokens, u.reasoning_tokens, u.cached_tokens or 0)
            if self._update(track, name, u, counts, at):
                moved = True
        if folded is not None:
            other = _sum_usage(folded)
            counts = (
                other.input_tokens,
                other.output_tokens,
                other.reasoning_tokens,
                other.cached_tokens or 0,
            )
            if self._update(tracks.get(OTHER), OTHER, other, counts, at):
                moved = True
        return moved

    def _update(self, track: _Track | None, name: str, usage: ModelUsage, counts: _Counts, at: float) -> bool:
        if track is None:
            if self._span_start is None:
                # Part of the history's first observation: baseline only.
                self._tracks[name] = _Track(usage, counts, at, self._size)
                return True
            # New on a later observation: it was used since the previous one.
            track = _Track(usage, _NO_DELTA, self._span_start, self._size)
            self._tracks[name] = track
        track.usage = usage
        if at != track.last_at:
            t0: float | None = track.last_at
            track.span_start = t0
            track.last_delta = _NO_DELTA
            track.last_span = at - track.last_at
            track.last_at = at
        else:
            t0 = track.span_start  # merging into the interval that just ended, if any
        old = track.counts
        if counts == old:
            return False
        track.counts = counts
        di = counts[0] - old[0]
        do = counts[1] - old[1]
        dr = counts[2] - old[2]
        dc = counts[3] - old[3]
        if di < 0 or do < 0 or dr < 0 or dc < 0:
            # Reset on the server: the new values are a baseline, not a negative rate.
            track.span_start = None
            track.last_delta = _NO_DELTA
            return True
        if t0 is None:
            return True  # merging into a baseline observation: still a baseline
        if (t0, at) != self._plan_key:
            self._plan = self._make_plan(t0, at)
            self._plan_key = (t0, at)
        ring = track.ring
        for base, frac in self._plan:
            ring[base] += di * frac
            ring[base + 1] += do * frac
            ring[base + 2] += dr * frac
            ring[base + 3] += dc * frac
        ld = track.last_delta
        track.last_delta = (ld[0] + di, ld[1] + do, ld[2] + dr, ld[3] + dc)
        return True

    def _make_plan(self, t0: float, t1: float) -> list[tuple[int, float]]:
        """(ring offset, share of the growth) for each window bucket overlapping [t0, t1]."""
        bs = self._bucket_seconds
        n = self._buckets
        head = int(t1 // bs)  # == self._head: t1 is always the newest observation time
        first = int(t0 // bs)
        if first == head:
            return [((head % n) * _STRIDE, 1.0)]
        span = t1 - t0
        plan: list[tuple[int, float]] = []
        # Buckets that already rolled off the window are skipped, so a long gap keeps just
        # its in-window share instead of piling everything into the oldest bucket.
        for k in range(max(first, head - n + 1), head + 1):
            overlap = min(t1, (k + 1) * bs) - max(t0, k * bs)
            if overlap > 0:
                plan.append(((k % n) * _STRIDE, overlap / span))
        return plan

    def _advance(self, newest: int) -> None:
        """Make bucket `newest` the head of every ring, zeroing the buckets that roll in."""
        head = self._head
        self._head = newest
        if head is None or newest <= head:
            return
        n = self._buckets
        if newest - head >= n:
            for track in self._tracks.values():
                track.ring[:] = self._zeros
            return
        for k in range(head + 1, newest + 1):
            base = (k % n) * _STRIDE
            for track in self._tracks.values():
                track.ring[base : base + _STRIDE] = _ZERO_SLOT

    # ------------------------------------------------------------------ reading

    def models(self) -> list[str]:
        """Model names in first-seen order ("other" where the cap first folded one)."""
        return list(self._tracks)

    def series(self, model: str, kind: Kind = "total", *, now: float | None = None) -> list[float]:
        """Exactly `buckets` rates in tokens/s, oldest first; the last is the bucket holding
        `now` (default: the last observation time). Unknown models give all zeros."""
        track = self._tracks.get(model)
        return self._series([] if track is None else [track], kind, now)

    def combined(self, kind: Kind = "total", *, now: float | None = None) -> list[float]:
        """`series` summed over every model of the session."""
        return self._series(list(self._tracks.values()), kind, now)

    def _series(self, tracks: list[_Track], kind: str, now: float | None) -> list[float]:
        offsets = _kind_offsets(kind)
        n = self._buckets
        out = [0.0] * n
        head = self._head
        at = self._last_at if now is None else now
        if head is None or at is None or not tracks:
            return out
        newest = int(at // self._bucket_seconds)
        oldest = newest - n + 1
        inv = 1.0 / self._bucket_seconds
        # Only buckets both in the requested window and still held by the rings.
        for k in range(max(oldest, head - n + 1), min(newest, head) + 1):
            base = (k % n) * _STRIDE
            total = 0.0
            for track in tracks:
                ring = track.ring
                for off in offsets:
                    total += ring[base + off]
            out[k - oldest] = total * inv
        return out

    def estimated_buckets(self, now: float | None = None) -> int:
        """How many of the oldest values of `series(..., now=now)` hold estimated growth.

        Estimates always precede measurements, so they are a prefix of the window; the
        bucket holding the first real observation is counted (it holds both).
        """
        until = self._estimated_until
        at = self._last_at if now is None else now
        if until is None or at is None:
            return 0
        newest = int(at // self._bucket_seconds)
        oldest = newest - self._buckets + 1
        return max(0, min(int(until // self._bucket_seconds) - oldest + 1, self._buckets))

    def rate_is_estimate(self) -> bool:
        """True while `latest_rate` still covers the estimated first span."""
        return self._estimated_until is not None and self._last_at == self._estimated_until

    def latest_rate(self, model: str, kind: Kind = "total") -> float:
        """Tokens/s over the model's most recent observed interval.

        0.0 for an unknown model, after a baseline or reset, or when the model was missing
        from the latest observation (its last rate would be stale).
        """
        offsets = _kind_offsets(kind)
        track = self._tracks.get(model)
        if track is None or track.last_at != self._last_at or track.last_span <= 0:
            return 0.0
        return sum(track.last_delta[o] for o in offsets) / track.last_span

    def totals(self, model: str) -> ModelUsage | None:
        """The last cumulative counters seen for `model` (summed ones for "other")."""
        track = self._tracks.get(model)
        return None if track is None else track.usage


def _sum_usage(items: Sequence[ModelUsage], name: str = OTHER) -> ModelUsage:
    cached = [u.cached_tokens for u in items if u.cached_tokens is not None]
    return ModelUsage(
        name=name,
        input_tokens=sum(u.input_tokens for u in items),
        output_tokens=sum(u.output_tokens for u in items),
        reasoning_tokens=sum(u.reasoning_tokens for u in items),
        cached_tokens=sum(cached) if cached else None,
    )


def _merge_duplicates(usage: Sequence[ModelUsage]) -> list[ModelUsage]:
    # A name listed twice would otherwise look like a counter reset on its second entry.
    groups: dict[str, list[ModelUsage]] = {}
    for u in usage:
        groups.setdefault(u.name, []).append(u)
    return [g[0] if len(g) == 1 else _sum_usage(g, name) for name, g in groups.items()]
