"""What a steering action does and how its answer reads: pure functions, no textual.

The API answers 202 (pause, resume, force_answer, messages) or 204 (cancel) when it took
the request; anything else becomes one short sentence a user understands, with the HTTP
status in brackets for whoever has to look it up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agp_tui.api import status as st
from agp_tui.api.errors import (
    AgpError,
    AuthError,
    BadResponse,
    NotFound,
    RateLimited,
    RequestRejected,
    ServerError,
    Unreachable,
)
from agp_tui.ui.format import short_id
from agp_tui.ui.text import safe_text

PAUSE, RESUME, FORCE, CANCEL, MESSAGE = "pause", "resume", "force answer", "cancel", "message"
# Nouns for "nothing to ..." when the session is not in a state the verb applies to.
_NOTHING_TO = {PAUSE: "nothing to pause", RESUME: "nothing to resume",
               FORCE: "nothing to answer", CANCEL: "nothing to cancel", MESSAGE: "it cannot take a message"}
_PAST = {PAUSE: "paused", RESUME: "resumed", FORCE: "asked to answer now", CANCEL: "cancelled",
         MESSAGE: "message sent"}


def pause_or_resume(status: str | None) -> str:
    """`p` toggles: a paused session resumes; anything else is asked to pause (and the API
    says so if it is not running)."""
    return RESUME if status == st.PAUSED else PAUSE


def plain_error(verb: str, exc: BaseException) -> str:
    """One line for the user; the server's own words (sanitised) only where they add detail."""
    detail = safe_text(getattr(exc, "message", str(exc)), 120)
    status = getattr(exc, "status", None)
    if isinstance(exc, NotFound):
        return "session not found (404)"
    if isinstance(exc, RateLimited):
        after = exc.retry_after
        return f"rate limited, retry in {after:.0f}s (429)" if after else "rate limited, retry shortly (429)"
    if isinstance(exc, AuthError):
        return "API key refused (401)" if status != 403 else "this API key may not do that (403)"
    if isinstance(exc, RequestRejected):
        if status == 409:
            return f"session is not running — {_NOTHING_TO.get(verb, 'nothing to do')} (409)"
        if status == 400:
            return f"the session cannot take this now: {detail} (400)"
        return f"request refused: {detail} ({status})" if status else f"request refused: {detail}"
    if isinstance(exc, ServerError):
        again = f", retry in {exc.retry_after:.0f}s" if exc.retry_after else ", try again"
        return f"server error{again} ({status})"
    if isinstance(exc, Unreachable):
        return f"server unreachable: {detail}"
    if isinstance(exc, BadResponse):
        return "the server's answer made no sense; the action may or may not have happened"
    if isinstance(exc, AgpError):
        return detail
    return f"{type(exc).__name__}: {detail}"


@dataclass(frozen=True, slots=True)
class Outcome:
    verb: str
    session_id: str
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def summarize(outcomes: Sequence[Outcome], limit: int = 6) -> tuple[str, str, str]:
    """(title, message, severity) of a batch of answers."""
    ok = [o for o in outcomes if o.ok]
    bad = [o for o in outcomes if not o.ok]
    verbs = sorted({o.verb for o in outcomes})
    title = " / ".join(verbs) if verbs else "action"
    lines: list[str] = []
    if len(outcomes) == 1:
        o = outcomes[0]
        if o.ok:
            lines.append(f"{short_id(o.session_id)}: accepted — {_PAST.get(o.verb, o.verb)}")
        else:
            assert o.error is not None
            lines.append(f"{short_id(o.session_id)}: {plain_error(o.verb, o.error)}")
    else:
        if ok:
            lines.append(f"{len(ok)} of {len(outcomes)} accepted")
        for o in bad[:limit]:
            assert o.error is not None
            lines.append(f"{short_id(o.session_id)}: {plain_error(o.verb, o.error)}")
        if len(bad) > limit:
            lines.append(f"… and {len(bad) - limit} more refused")
    severity = "information" if not bad else ("warning" if ok else "error")
    return title, "\n".join(lines), severity
