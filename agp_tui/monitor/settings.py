"""Every knob of the monitor engine, in one frozen record (config keys and tests set them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from agp_tui.monitor.cadence import Cadence


@dataclass(frozen=True, slots=True)
class EngineSettings:
    cadence: Cadence = field(default_factory=Cadence)
    max_in_flight: int = 8
    max_rps: float = 20.0
    history_buckets: int = 60
    bucket_seconds: float = 10.0
    sweep: bool = True
    sweep_interval: float = 3.0
    sweep_min_sessions: int = 2  # one session alone: its own poll costs what a sweep would
    bootstrap_min_sessions: int = 20  # from this many, start with list pages (see sweeper.py)
    stale_after: float = 30.0  # a failing session is stale this long after its last good poll
    # A session whose polls succeed but lag is stale once its last good answer is older than
    # this many of its own intervals (and `stale_after`): the request budget starved it, or
    # its task stalled. The `upd` column and the header then say so instead of "live".
    overdue_factor: float = 3.0
    stale_check_interval: float = 2.0
    offline_after: int = 3  # consecutive transport failures before the link is offline
    quota_interval: float = 60.0
    auth_probe_interval: float = 30.0
    watchlist_sync_interval: float = 2.0
    housekeeping_interval: float = 1.0
    follow_children: bool = False
    # Sessions on screen are followed by long-polling `/changes` (the docs' live feed):
    # an update arrives the moment a step lands, with fewer requests than 3 s polls,
    # and its metrics carry the API's cost figure.
    long_poll: bool = True
    long_poll_wait: int = 20  # seconds the server may hold each request (cap 25)
    long_poll_min_gap: float = 2.0  # seconds at least between two long-polls of a session (pacing.py)
    long_poll_max: int = 24  # sessions long-polled at once; the rest poll /status
    long_poll_status_every: float = 30.0  # a /status now and then still finds new children
    # Subagents of one session tracked and polled (the rest are only counted), and levels
    # below an open tree's root that are discovered: a server naming 100,000 children, or
    # a chain of 2,000 levels, must not become as many poll tasks.
    max_children: int = 1000
    max_tree_depth: int = 50
    group_interval: float = 3.0  # seconds between a followed query's list ticks (groups.py)
    group_detail_rps: float = 0.5  # /status reads a second per followed query (followed.py)
    group_focus_rps: float = 2.0  # ... while its members are on screen
    group_max_members: int = 50_000
    seed: int | None = None  # jitter randomness, fixed in tests
