"""The session store: records, watchlist order, views, children and rollups (no event loop)."""

from __future__ import annotations

from agp_tui.api.models import ModelUsage, SessionStatus
from agp_tui.monitor.settings import EngineSettings
from agp_tui.monitor.store import SessionStore


def status(state: str = "running", *, kids: tuple[str, ...] = (), tokens: int = 0) -> SessionStatus:
    usage = (ModelUsage("m", tokens, 0, 0),) if tokens else ()
    return SessionStatus(status=state, steps=1, usage_per_model=usage, subagent_session_ids=kids)


def test_tracking_keeps_watchlist_order_and_one_record_per_id() -> None:
    store = SessionStore(EngineSettings())
    a = store.track("a", watched=True)
    store.track("kid", watched=False, parent="a")
    assert store.track("a", watched=True) is a
    store.track("b", watched=True)
    assert store.order == ["a", "b"] and "kid" in store
    kid = store.track("kid", watched=True, parent="other")  # watched later: first parent kept
    assert store.order == ["a", "b", "kid"] and kid.parent_id == "a" and kid.watched
    assert store.unwatch("a") is a and not a.watched and store.order == ["b", "kid"]
    assert "a" in store  # the record stays until the engine drops it
    store.drop("a")
    assert store.get("a") is None and store.unwatch("a") is None


def test_children_are_capped_and_the_rest_counted() -> None:
    store = SessionStore(EngineSettings(max_children=2))
    store.track("root", watched=True).status = status(kids=("k1", "k2", "k3"))
    assert store.children_of("root") == ("k1", "k2")
    assert store.more_children("root") == 1
    assert store.children_of("nobody") == () and store.more_children("nobody") == 0


def test_rollup_counts_known_costs_and_unknown_children() -> None:
    store = SessionStore(EngineSettings())
    root = store.track("root", watched=True)
    root.status, root.cost = status(kids=("k1", "k2"), tokens=100), 0.5
    k1 = store.track("k1", watched=False, parent="root")
    k1.status = status("completed", tokens=50)
    r = store.rollup("root")
    assert (r.sessions, r.total_tokens, r.unknown) == (3, 150, 1)
    assert (r.cost, r.cost_sessions) == (0.5, 1)


def test_a_row_never_loaded_says_why_while_the_key_is_refused() -> None:
    store = SessionStore(EngineSettings())
    store.track("a", watched=True)
    loaded = store.track("b", watched=True)
    loaded.status = status()
    plain = store.view("a")
    assert plain is not None and plain.error_kind is None
    refused = store.view("a", auth_error="key revoked")
    assert refused is not None and (refused.error_kind, refused.error_message) == ("AuthError", "key revoked")
    view_b = store.view("b", auth_error="key revoked")
    assert view_b is not None and view_b.error_kind is None  # its data stays as it was
    assert store.view("missing") is None


def test_stale_count_is_of_watched_rows_only() -> None:
    store = SessionStore(EngineSettings())
    store.track("a", watched=True).stale = True
    store.track("kid", watched=False, parent="a").stale = True
    assert store.stale_count() == 1
