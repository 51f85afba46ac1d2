"""The `/` filter language and the "problems only" predicate.

    running              any field (id, label, agent, status, error) contains "running"
    status:failed        the status contains "failed"      (also agent:, error:, id:, label:)
    -status:completed    negation: leave completed sessions out
    "two words"          quotes keep spaces inside one term

Matching is case-insensitive substring matching; all terms must hold.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from agp_tui.api.status import FAILED, TIMED_OUT, WAITING_ON_USER
from agp_tui.monitor.view import SessionView

FIELDS = ("id", "label", "agent", "status", "error")


@dataclass(frozen=True, slots=True)
class Term:
    field: str | None  # None: any field
    value: str
    negate: bool = False


@dataclass(frozen=True, slots=True)
class Filter:
    text: str = ""
    terms: tuple[Term, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.terms)

    def matches(self, view: SessionView) -> bool:
        fields = searchable(view)
        for term in self.terms:
            if term.field is None:
                hit = any(term.value in v for v in fields.values())
            else:
                hit = term.value in fields.get(term.field, "")
            if hit == term.negate:
                return False
        return True


def parse_filter(text: str) -> Filter:
    try:
        tokens = shlex.split(text)
    except ValueError:  # an unbalanced quote: treat the text as plain words
        tokens = text.split()
    terms: list[Term] = []
    for token in tokens:
        negate = token.startswith("-") and len(token) > 1
        body = token[1:] if negate else token
        name, sep, value = body.partition(":")
        if sep and name.lower() in FIELDS:
            if value:
                terms.append(Term(name.lower(), value.lower(), negate))
        else:
            terms.append(Term(None, body.lower(), negate))
    return Filter(text, tuple(terms))


def searchable(view: SessionView) -> dict[str, str]:
    st = view.status
    errors = [view.error_kind, view.error_message]
    if st is not None:
        errors += [st.error, st.error_code]
    if view.not_found:
        errors.append("not found")
    if view.stale:
        errors.append("stale")
    return {
        "id": view.id.lower(),
        "label": (view.label or "").lower(),
        "agent": (view.agent or "").lower(),
        "status": view.status_text.lower(),
        "error": " ".join(e for e in errors if e).lower(),
    }


PROBLEM_STATUSES = frozenset({FAILED, TIMED_OUT}) | WAITING_ON_USER


def is_problem(view: SessionView) -> bool:
    """Failed, timed out, waiting on you, stale, not found, or its polls are failing."""
    if view.status is not None and view.status.status in PROBLEM_STATUSES:
        return True
    return view.stale or view.not_found or view.error_kind is not None
