"""Tree rollups count each session once, whatever the shape of the id graph."""

from agp_tui.api.models import ModelUsage, SessionStatus
from agp_tui.monitor.rollup import rollup, walk_tree


def st(steps: int, kids: tuple[str, ...] = (), tokens: int = 100, status: str = "running") -> SessionStatus:
    return SessionStatus(
        status=status, steps=steps, subagent_session_ids=kids,
        usage_per_model=(ModelUsage("m", tokens, tokens // 10, 0),),
    )


def test_tree_sums_each_session_once() -> None:
    tree = {"a": st(1, ("b", "c")), "b": st(2, ("d",)), "c": st(3), "d": st(4, status="failed")}
    r = rollup("a", tree.get)
    assert (r.sessions, r.steps, r.input_tokens, r.output_tokens) == (4, 10, 400, 40)
    assert r.statuses == {"running": 3, "failed": 1}
    assert r.per_model == (ModelUsage("m", 400, 40, 0),)


def test_cycles_and_repeated_ids_are_counted_once() -> None:
    tree = {"a": st(1, ("b", "b", "a")), "b": st(2, ("a", "c")), "c": st(3, ("b",))}
    r = rollup("a", tree.get)
    assert (r.sessions, r.steps) == (3, 6)
    assert list(walk_tree("a", lambda s: tree[s].subagent_session_ids)) == ["a", "b", "c"]


def test_unknown_children_counted_as_unknown() -> None:
    tree = {"a": st(5, ("x", "y"))}
    r = rollup("a", tree.get)
    assert (r.sessions, r.unknown, r.steps) == (3, 2, 5)


def test_models_merged_by_name() -> None:
    a = SessionStatus("running", steps=1, subagent_session_ids=("b",),
                      usage_per_model=(ModelUsage("p", 10, 1, 5), ModelUsage("q", 1, 1, 0)))
    b = SessionStatus("running", steps=1, usage_per_model=(ModelUsage("p", 5, 5, 5),))
    r = rollup("a", {"a": a, "b": b}.get)
    assert r.per_model == (ModelUsage("p", 15, 6, 10), ModelUsage("q", 1, 1, 0))
    assert r.total_tokens == 15 + 6 + 10 + 2


def test_cached_tokens_summed_only_where_reported() -> None:
    a = SessionStatus("running", steps=1, subagent_session_ids=("b", "c"),
                      usage_per_model=(ModelUsage("p", 10, 1, 0, cached_tokens=4), ModelUsage("q", 3, 1, 0)))
    b = SessionStatus("running", steps=1, usage_per_model=(ModelUsage("p", 5, 5, 0),))
    c = SessionStatus("running", steps=1, usage_per_model=(ModelUsage("p", 5, 5, 0, cached_tokens=2),))
    r = rollup("a", {"a": a, "b": b, "c": c}.get)
    assert r.per_model == (ModelUsage("p", 20, 11, 0, cached_tokens=6), ModelUsage("q", 3, 1, 0))
    assert r.total_tokens == 20 + 11 + 3 + 1  # cached is part of input: never added on top
