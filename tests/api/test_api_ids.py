"""Session ids are checked before they reach a URL path; pasted lists are split and vetted."""

from __future__ import annotations

import pytest
from api_payloads import SID, SID2

from agp_tui.api import AgpClient, AgpError, InvalidSessionId, normalize_session_id, parse_session_ids
from agp_tui.sim.fake_backend import FakeBackend

EXAMPLE = "6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20"


@pytest.mark.parametrize("raw", [
    SID,
    SID.upper(),
    "6F1C2A9E-3b7d-4E21-9c55-0A8D7E4B1F20",
    "{" + SID + "}",
    "{" + SID.upper() + "}",
    SID.replace("-", ""),
    SID.replace("-", "").upper(),
    f"  {SID}\n",
    f"\t{{{SID}}} ",
])
def test_normalize_accepts_uuid_spellings(raw: str) -> None:
    assert normalize_session_id(raw) == SID


@pytest.mark.parametrize("raw", [
    "",
    "   ",
    "not-a-uuid",
    "12345",
    SID[:-1],
    SID + "0",
    SID.replace("6", "g", 1),
    "../quota",
    "../../sessions/quota",
    f"{SID}/../quota",
    f"../{SID}",
    f"{SID}/status",
    f"{SID}?from_index=0",
    f"{SID}#frag",
    "%2e%2e%2fquota",
    f"{SID} {SID2}",
    # uuid.UUID() alone would take these and silently turn them into *another* id:
    "+" + SID.replace("-", "")[1:],
    SID.replace("-", "")[:30] + "_0",
    SID.replace("-", "")[:4] + "-" + SID.replace("-", "")[4:],
    " ".join(SID.replace("-", "")),
])
def test_normalize_rejects_garbage(raw: str) -> None:
    with pytest.raises(InvalidSessionId) as info:
        normalize_session_id(raw)
    err = info.value
    assert isinstance(err, AgpError) and isinstance(err, ValueError)
    assert "is not a session id" in err.message
    assert EXAMPLE in err.message  # shows what a good one looks like
    assert str(err).startswith("Invalid session id: ")


def test_rejection_message_quotes_the_input_and_truncates_long_ones() -> None:
    with pytest.raises(InvalidSessionId) as info:
        normalize_session_id("../quota")
    assert "'../quota'" in info.value.message
    with pytest.raises(InvalidSessionId) as info:
        normalize_session_id("x" * 500)
    assert "x" * 57 + "..." in info.value.message
    assert "x" * 58 not in info.value.message
    assert len(info.value.message) < 200


@pytest.mark.parametrize("call", ["get_status", "get_session", "get_changes", "pause", "resume",
                                  "force_answer", "cancel", "send_message", "list_children"])
@pytest.mark.parametrize("bad", ["../quota", f"{SID}/../../quota", "", "quota", "..", "%2e%2e"])
async def test_bad_ids_never_reach_the_network(
    client: AgpClient, server: FakeBackend, call: str, bad: str
) -> None:
    args = (bad, "hi") if call == "send_message" else (bad,)
    with pytest.raises(InvalidSessionId):
        await getattr(client, call)(*args)
    assert server.requests == []


def test_parse_mixed_separators() -> None:
    text = f"{SID}, {SID2}\n\n  {SID.upper()};\t{{{SID2}}}\r\n"
    assert parse_session_ids(text) == ([SID, SID2], [])


def test_parse_agent_view_urls() -> None:
    text = "\n".join([
        f"https://platform.eu.hcompany.ai/agent-view/{SID}",
        f"https://platform.hcompany.ai/agents/sessions/{SID2}/",
        f"https://platform.eu.hcompany.ai/agent-view/{SID}?event=3&expanded=true&screenshot=2",
    ])
    assert parse_session_ids(text) == ([SID, SID2], [])


def test_parse_keeps_order_and_drops_duplicates() -> None:
    text = f"{SID2} {SID} {SID2.upper()} {SID} {SID.replace('-', '')}"
    assert parse_session_ids(text) == ([SID2, SID], [])


def test_parse_reports_bad_tokens_as_typed() -> None:
    text = f"hello {SID} ../quota,https://platform.hcompany.ai/agent-view/nope  12345\n{SID2}"
    ids, bad = parse_session_ids(text)
    assert ids == [SID, SID2]
    assert bad == ["hello", "../quota", "https://platform.hcompany.ai/agent-view/nope", "12345"]


@pytest.mark.parametrize("text", ["", "   ", "\n,\n;;", ", ,"])
def test_parse_nothing(text: str) -> None:
    assert parse_session_ids(text) == ([], [])
