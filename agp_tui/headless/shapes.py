"""The JSON objects the headless commands print; the README documents each field.

Keys are stable: every key is always present (null when unknown), new keys may be added,
none is renamed or removed without a major version. Server strings are passed through
exactly (no cleaning), times are UTC ISO 8601 with a `Z`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agp_tui.api.errors import AgpError
from agp_tui.api.models import ModelUsage, Session, SessionStatus, SessionSummary
from agp_tui.headless.output import iso, tokens_json

if TYPE_CHECKING:  # only annotated here; `tree` imports the monitor's rollup itself
    from agp_tui.monitor.view import Rollup

Json = dict[str, Any]


def usage_totals(usage: Sequence[ModelUsage]) -> tuple[int, int, int]:
    return (
        sum(u.input_tokens for u in usage),
        sum(u.output_tokens for u in usage),
        sum(u.reasoning_tokens for u in usage),
    )


def cached_total(usage: Sequence[ModelUsage]) -> int | None:
    """Cached input tokens over the models that report them; None when none does (the v2
    schema does not have the field: a server may or may not send it)."""
    reported = [u.cached_tokens for u in usage if u.cached_tokens is not None]
    return sum(reported) if reported else None


def tokens_of(status: SessionStatus | None) -> dict[str, int | None] | None:
    if status is None:
        return None
    usage = status.usage_per_model
    return tokens_json(*usage_totals(usage), cached_total(usage))


def models_json(usage: Sequence[ModelUsage]) -> list[Json]:
    return [
        {"name": u.name, "input_tokens": u.input_tokens, "output_tokens": u.output_tokens,
         "reasoning_tokens": u.reasoning_tokens, "cached_tokens": u.cached_tokens}
        for u in usage
    ]


def lookup_error_json(exc: AgpError | None) -> Json | None:
    if exc is None:
        return None
    return {"kind": type(exc).__name__, "message": exc.message, "http_status": exc.status}


def session_json(sid: str, session: Session | None, exc: AgpError | None = None) -> Json:
    """One element of `status --json`."""
    st = session.status if session else None
    return {
        "id": session.id if session else sid,
        "agent": session.agent if session else None,
        "status": st.status if st else None,
        "outcome": st.outcome if st else None,
        "steps": st.steps if st else None,
        "tokens": tokens_of(st),
        "usage_per_model": models_json(st.usage_per_model) if st else [],
        "children": list(st.subagent_session_ids) if st else [],
        "error": st.error if st else None,
        "error_code": st.error_code if st else None,
        "parent_id": session.parent_session_id if session else None,
        "group_id": session.group_id if session else None,
        "agent_view_url": session.agent_view_url if session else None,
        "created_at": iso(session.created_at) if session else None,
        "started_at": iso(session.started_at) if session else None,
        "finished_at": iso(session.finished_at) if session else None,
        "answer": session.latest_answer if session else None,
        "lookup_error": lookup_error_json(exc),
    }


def summary_json(s: SessionSummary) -> Json:
    """One element of `ls --json`."""
    return {
        "id": s.id,
        "agent": s.agent,
        "status": s.status,
        "created_at": iso(s.created_at),
        "started_at": iso(s.started_at),
        "finished_at": iso(s.finished_at),
        "agent_view_url": s.agent_view_url,
        "first_message": s.first_message.message if s.first_message else None,
    }


def rollup_json(r: Rollup) -> Json:
    return {
        "sessions": r.sessions,
        "unknown": r.unknown,
        "steps": r.steps,
        "tokens": tokens_json(r.input_tokens, r.output_tokens, r.reasoning_tokens,
                              cached_total(r.per_model)),
        "per_model": models_json(r.per_model),
        "statuses": dict(sorted(r.statuses.items())),
    }
