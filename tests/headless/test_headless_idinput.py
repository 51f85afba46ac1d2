"""Reading ids in every format the commands print."""

from __future__ import annotations

import json

from agp_tui.headless.idinput import parse_text, parse_tokens

A = "6f1c2a9e-3b7d-4e21-9c55-0a8d7e4b1f20"
B = "0b9a3c1d-1111-4222-8333-444455556666"
C = "c0ffee00-0000-4000-8000-000000000001"


def test_tokens_accept_urls_commas_and_upper_case() -> None:
    parsed = parse_tokens([f"https://platform.eu.hcompany.ai/agent-view/{A}", f"{B},{A}", C.upper()])
    assert parsed.ids == [A, B, C]
    assert parsed.rejected == []


def test_tokens_report_every_bad_one() -> None:
    parsed = parse_tokens([A, "nope", "1234"])
    assert parsed.ids == [A]
    assert parsed.rejected == ["nope", "1234"]


def test_plain_lines_and_table_rows() -> None:
    text = f"# a comment\n{A}\n\n{B} {C}\n{C}\trunning\tagent name\tmessage\nbogus line\n"
    parsed = parse_text(text)
    assert parsed.ids == [A, B, C]
    assert parsed.rejected == ["bogus"]


def test_export_json_keeps_labels_and_pins() -> None:
    doc = [{"id": A, "label": "mine", "pinned": True, "added_at": 1.0}, {"id": B, "label": None}]
    parsed = parse_text(json.dumps(doc))
    assert [(e.id, e.label, e.pinned) for e in parsed.entries] == [(A, "mine", True), (B, None, False)]


def test_status_json_does_not_import_children() -> None:
    doc = [{"id": A, "status": "running", "children": [B]}]
    assert parse_text(json.dumps(doc)).ids == [A]


def test_tree_json_imports_the_whole_tree() -> None:
    doc = {"root": {"id": A, "children": [{"id": B, "children": [{"id": C, "children": []}]}]},
           "rollup": {"sessions": 3}}
    assert parse_text(json.dumps(doc)).ids == [A, B, C]


def test_watchlist_file_and_json_lines() -> None:
    assert parse_text(json.dumps({"version": 1, "sessions": [{"id": A}]})).ids == [A]
    lines = "\n".join(json.dumps(o) for o in [
        {"event": "status", "id": A}, {"event": "progress", "id": A}, {"event": "done", "id": None}])
    assert parse_text(lines).ids == [A]


def test_bad_json_entries_are_reported() -> None:
    parsed = parse_text(json.dumps([{"id": "nope"}, 42, {"id": 7}, A]))
    assert parsed.ids == [A]
    assert parsed.rejected == ["nope", "42", "7"]


def test_empty_input() -> None:
    assert parse_text("").ids == []
    assert parse_text("[]").ids == []
