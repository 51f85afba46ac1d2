"""Hypothesis strategies for AGP payloads: documented shapes, then mutated.

Every field is either of the right type or junk (wrong type, huge or negative number,
NaN, hostile text, nested lists and objects); every key may be missing; unknown keys and
unknown statuses appear. `wrong_status_shape` only draws payloads that must be refused.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

S = st.SearchStrategy


def fuzz_settings(max_examples: int) -> settings:
    return settings(settings.get_profile("agp-fuzz"), max_examples=max_examples)


# Pieces a hostile or broken server might put in any string.
HOSTILE_PIECES = (
    "[bold]x[/bold]", "[link=https://evil.example]click[/link]", "[/]", "[@click=app.quit]q[/]",
    "\x1b[31m", "\x1b[2J", "\x1b]52;c;aGVsbG8=\x07", "\x1b]8;;http://x\x1b\\", "\x1b]0;t",
    "\x9b31m", "\x9d0;title\x9c", "\x1bP+q\x1b\\", "\x00", "\x07", "\x7f", "\n", "\r\n", "\t",
    "\u202e", "\u2066", "\u2069", "\u200b", "\u200d", "\ufeff", "\U000e0041", "\ud800",
    "\u2028", "e" + "\u0301" * 12, "界", "🙂", "%s", "{0}", "\\", '"', ";", "9;4;1",
)
STATUSES = ("queued", "pending", "running", "paused", "idle", "awaiting_tool_results",
            "completed", "failed", "timed_out", "interrupted", "exploded", "", "RUNNING")
EDGE_TIMES = ("2026-06-11T09:00:00Z", "2026-06-11T09:00:00.123456+02:00", "2026-06-11T09:00:00",
              "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "1969-12-31T23:59:59Z",
              "Z", "yesterday", "2026-13-45T99:99:99Z", "")
BIG_INTS = (10**30, -(10**30), 2**63, 2**64 + 1, -1, 0, 2**53, 2**53 + 1, 10**300, 10**400, -(10**400))

texts: S[str] = st.one_of(
    st.text(max_size=30),
    st.lists(st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=4)), max_size=8).map("".join),
    st.sampled_from(STATUSES),
)
ints: S[int] = st.one_of(st.integers(-(10**6), 10**9), st.sampled_from(BIG_INTS))
floats: S[float] = st.floats(allow_nan=True, allow_infinity=True)
leaves: S[Any] = st.one_of(st.none(), st.booleans(), ints, floats, texts)
junk: S[Any] = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=10,
)


def field(good: S[Any]) -> S[Any]:
    """A value of the right shape, or junk."""
    return st.one_of(good, junk)


def obj(**fields: S[Any]) -> S[dict[str, Any]]:
    """An object whose keys may each be missing, plus unknown keys."""
    return st.tuples(
        st.fixed_dictionaries({}, optional=fields),
        st.dictionaries(st.text(min_size=1, max_size=8).map(lambda k: "x-" + k), junk, max_size=2),
    ).map(lambda pair: {**pair[1], **pair[0]})


times: S[Any] = field(st.one_of(
    st.sampled_from(EDGE_TIMES),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-23, minutes=-59)),
                                            timezone(timedelta(hours=14))])).map(datetime.isoformat),
))
statuses: S[Any] = field(st.sampled_from(STATUSES) | texts)
# Counts as a careless server writes them: ints, and floats that are whole (1e300 is).
counts: S[Any] = field(st.one_of(ints, st.sampled_from([1e300, -1e300, 1e20, 2.0, 2.5, -0.0])))
usage_item = obj(name=field(texts), input_tokens=counts, output_tokens=counts,
                 reasoning_tokens=counts, cached_tokens=counts)
status_payload = obj(
    status=statuses, error=field(texts), error_code=field(texts), outcome=field(texts), steps=counts,
    usage_per_model=field(st.lists(field(usage_item), max_size=4)),
    subagent_session_ids=field(st.lists(field(texts), max_size=4)),
)
message = obj(type=field(st.just("user_message")), message=field(texts), caller_id=field(texts),
              images=field(st.lists(field(texts), max_size=2)))
request = obj(
    agent=st.one_of(texts, obj(name=field(texts), instructions=field(texts)), junk),
    messages=st.one_of(st.lists(field(message), max_size=3), message, texts, junk),
    parent_session_id=field(texts), group_id=field(texts),
)
session_payload = obj(
    id=field(texts), status=st.one_of(status_payload, statuses), request=field(request),
    agent_view_url=field(texts), latest_answer=junk, created_at=times, started_at=times,
    finished_at=times,
)
summary_payload = obj(
    id=field(texts), status=st.one_of(statuses, status_payload), agent=field(texts),
    agent_view_url=field(texts), first_message=field(message), created_at=times,
    started_at=times, finished_at=times,
)
cost_item = obj(name=field(texts), input_tokens=counts, output_tokens=counts, reasoning_tokens=counts,
                total_cost=field(floats))
metrics = obj(steps=counts, cost_per_model=field(st.lists(field(cost_item), max_size=3)),
              input_cost=field(floats), output_cost=field(floats), reasoning_cost=field(floats),
              total_cost=field(floats))
event = obj(type=field(texts), data=field(obj(kind=field(texts), event=field(obj(kind=field(texts))))),
            timestamp=times)
changes_payload = obj(
    status=statuses, new_events=field(st.lists(field(event), max_size=4)), started_at=times,
    finished_at=times, error=field(texts), error_code=field(texts), answer=junk,
    outcome=field(texts), metrics=field(metrics),
)
quota_payload = obj(scope=field(texts), limit=counts, active=counts, available=counts)
list_payload = obj(items=field(st.lists(field(summary_payload), max_size=4)), page=counts,
                   total=counts, size=counts)
events_payload = obj(items=field(st.lists(junk, max_size=2)), page=counts, total=counts)
error_payload = obj(
    detail=field(st.one_of(texts, st.lists(field(obj(loc=field(st.lists(field(texts), max_size=3)),
                                                      msg=field(texts))), max_size=3))),
    message=field(texts),
)
any_payload: S[Any] = st.one_of(status_payload, session_payload, summary_payload, changes_payload,
                                quota_payload, list_payload, events_payload, error_payload, junk)

# Payloads no status endpoint may accept: not an object, or `status` absent or not a string
# (an object `status` is a full Session's nested status, so that is refused as well unless
# it is itself well-formed: it carries a non-string `status` here).
_not_a_status = st.one_of(st.none(), st.booleans(), ints, floats, st.lists(junk, max_size=3))
wrong_status_shape: S[Any] = st.one_of(
    st.one_of(st.lists(junk, max_size=3), texts, ints, floats, st.none()),
    status_payload.map(lambda d: {k: v for k, v in d.items() if k != "status"}),
    st.tuples(status_payload, _not_a_status).map(lambda p: {**p[0], "status": p[1]}),
    st.tuples(status_payload, _not_a_status).map(lambda p: {**p[0], "status": {"status": p[1]}}),
)


def dumps(payload: Any) -> bytes:
    """JSON as a careless server writes it: NaN and Infinity literals allowed, surrogates kept."""
    return json.dumps(payload, allow_nan=True, ensure_ascii=True).encode()


def deep(n: int, kind: str = "list") -> bytes:
    return (b"[" * n + b"]" * n) if kind == "list" else (b'{"a":' * n + b"1" + b"}" * n)


# Bodies that are not the JSON of any payload: the client must refuse them as BadResponse.
raw_bodies: S[bytes] = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([
        b"", b"null", b"NaN", b"-Infinity", b"\xff\xfe\x00", b'{"status": "running"', b"<html>502</html>",
        b'{"status": "running", "steps": ' + b"9" * 5000 + b"}",  # past int's 4300-digit limit
        deep(100_000), deep(50_000, "object"), deep(900), deep(3000),
        b'"\\ud800"', b'{"status": "\\udfff"}',
    ]),
)
# Error bodies whose `detail` a FastAPI-style reader could trip on.
ODD_ERROR_BODIES = (
    b'{"detail": [{"loc": 5, "msg": "x"}]}', b'{"detail": [{"loc": "body", "msg": null}]}',
    b'{"detail": [{"loc": [null, {"a": 1}], "msg": [1]}, 7, null]}', b'{"detail": {"nested": []}}',
    b'{"message": 12}', b'{"detail": NaN}',
)
