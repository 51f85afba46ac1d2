"""The status vocabulary and its three questions, exactly as agp-api.md §4 states them."""

from __future__ import annotations

import pytest

from agp_tui.api import status as st

DOCUMENTED = {"queued", "pending", "running", "paused", "idle", "awaiting_tool_results",
              "completed", "failed", "timed_out", "interrupted"}
TERMINAL = {"completed", "failed", "timed_out", "interrupted"}
SETTLED = TERMINAL | {"idle"}
WAITING_ON_USER = {"idle", "awaiting_tool_results"}


def test_sets_match_the_docs() -> None:
    assert set(st.KNOWN) == DOCUMENTED
    assert set(st.TERMINAL) == TERMINAL
    assert set(st.SETTLED) == SETTLED
    assert set(st.WAITING_ON_USER) == WAITING_ON_USER
    for s in (st.KNOWN, st.TERMINAL, st.SETTLED, st.WAITING_ON_USER):
        assert isinstance(s, frozenset)


@pytest.mark.parametrize("status", sorted(DOCUMENTED))
def test_helpers_for_every_documented_status(status: str) -> None:
    assert st.is_known(status)
    assert st.is_terminal(status) is (status in TERMINAL)
    assert st.is_settled(status) is (status in SETTLED)
    assert st.is_waiting_on_user(status) is (status in WAITING_ON_USER)


@pytest.mark.parametrize("status", ["", "RUNNING", "Completed", "cancelled", "done", " idle", "hibernating"])
def test_unknown_statuses_answer_no_to_everything(status: str) -> None:
    assert not st.is_known(status)
    assert not st.is_terminal(status)
    assert not st.is_settled(status)
    assert not st.is_waiting_on_user(status)


def test_constants_spell_the_wire_values() -> None:
    assert (st.QUEUED, st.PENDING, st.RUNNING, st.PAUSED, st.IDLE) == (
        "queued", "pending", "running", "paused", "idle")
    assert (st.AWAITING_TOOL_RESULTS, st.COMPLETED, st.FAILED, st.TIMED_OUT, st.INTERRUPTED) == (
        "awaiting_tool_results", "completed", "failed", "timed_out", "interrupted")
