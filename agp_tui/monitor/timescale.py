"""Engine settings for a server whose clock runs faster than ours (a sped-up simulator).

Against `agp-tui sim --speed X`, a session that takes ten minutes takes ten minutes / X:
dividing every duration the engine uses by X (and multiplying its request rate by X) gives
the schedule a user gets at speed 1, compressed. Benchmarks and soak tests use this, and
`agp-tui watch --time-scale X` exposes it for running the headless watch against one.
"""

from __future__ import annotations

from dataclasses import replace

from agp_tui.monitor.engine import EngineSettings


def time_scaled(settings: EngineSettings, speed: float) -> EngineSettings:
    """`settings` with every duration divided by `speed` and the request rate multiplied.

    `long_poll_wait` stays as it is: it is a whole number of seconds the *server* may hold a
    request, and a sped-up simulator holds it that long in real time anyway (a change cuts
    it short). Jitter is a fraction, so it needs no scaling.
    """
    if not speed > 0:
        raise ValueError(f"speed must be > 0, got {speed}")
    if speed == 1:
        return settings
    c = settings.cadence
    cadence = replace(
        c, pending=c.pending / speed, running=c.running / speed, running_slow=c.running_slow / speed,
        slow_after=c.slow_after / speed, waiting=c.waiting / speed, final_fetch=c.final_fetch / speed,
        background_max=c.background_max / speed, error_base=c.error_base / speed,
        error_max=c.error_max / speed,
    )
    s = settings
    return replace(
        s, cadence=cadence, max_rps=s.max_rps * speed, bucket_seconds=s.bucket_seconds / speed,
        sweep_interval=s.sweep_interval / speed, stale_after=s.stale_after / speed,
        quota_interval=s.quota_interval / speed, auth_probe_interval=s.auth_probe_interval / speed,
        watchlist_sync_interval=s.watchlist_sync_interval / speed,
        housekeeping_interval=max(s.housekeeping_interval / speed, 0.02),
        long_poll_status_every=s.long_poll_status_every / speed,
        long_poll_min_gap=s.long_poll_min_gap / speed,
        stale_check_interval=s.stale_check_interval / speed, group_interval=s.group_interval / speed,
        group_detail_rps=s.group_detail_rps * speed, group_focus_rps=s.group_focus_rps * speed,
    )
