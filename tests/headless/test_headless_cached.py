"""Cached input tokens: read from the server when it sends them, carried into every JSON.

The v2 schema has no `cached_tokens`; a server that sends it per model (the simulator
with a patch here)
must see it in `status`, `tree` and `watch --json`, and a server that does not (the
simulator) gets `null`, never a 0 that would claim nothing was cached.
"""

from __future__ import annotations

import json
from typing import Any

from headless_helpers import KEY, Cli, Env, pick, sid, tokens

from agp_tui.sim import SimHandle
from agp_tui.sim.fake_backend import FakeBackend, Patch, status_of


def with_cached(fake: FakeBackend, session: str, cached: int) -> None:
    """The server reports `cached` cached tokens for the session's model."""

    def patch(data: dict[str, Any]) -> None:
        for usage in status_of(data)["usage_per_model"]:
            usage["cached_tokens"] = cached

    for kind in ("status", "session"):
        fake.fail(Patch(patch), kind=kind, session=session)


def test_cached_tokens_reach_status_tree_and_watch_json(fake: FakeBackend, env: Env, cli: Cli) -> None:
    env.point_at(fake.base_url, KEY)
    boss, quick, plain = sid(31), sid(32), sid(33)
    fake.pin(boss, agent="boss", status="completed", steps=4, usage=tokens(1000))
    fake.pin(quick, agent="quick", parent=boss, status="completed", steps=2, usage=tokens(400))
    fake.pin(plain, agent="plain", parent=boss, status="completed", steps=1, usage=tokens(200))
    with_cached(fake, boss, 300)
    with_cached(fake, quick, 50)

    rows = cli(["status"], boss, plain, "--json").json()
    assert rows[0]["tokens"] == {"input": 1000, "output": 100, "reasoning": 0, "cached": 300,
                                 "total": 1100}  # cached is part of input, not added again
    assert rows[0]["usage_per_model"][0]["cached_tokens"] == 300
    assert rows[1]["tokens"]["cached"] is None  # not reported is not "none cached"
    assert rows[1]["usage_per_model"][0]["cached_tokens"] is None

    doc = cli(["tree"], boss, "--json").json()
    assert doc["root"]["tokens"]["cached"] == 300
    assert [c["tokens"]["cached"] for c in doc["root"]["children"]] == [50, None]
    assert doc["rollup"]["tokens"]["cached"] == 350
    (model,) = doc["rollup"]["per_model"]
    assert (model["input_tokens"], model["cached_tokens"]) == (1600, 350)

    r = cli(["watch"], boss, "--json", "--interval", "0.1")
    assert r.code == 0
    first = json.loads(r.lines()[0])
    assert first["event"] == "status" and first["tokens"]["cached"] == 300


def test_a_server_without_cached_tokens_gives_null(sim: SimHandle, sim_env: Env, cli: Cli) -> None:
    done = pick(sim, "completed")[0]
    (row,) = cli(["status"], done, "--json").json()
    assert row["tokens"]["input"] > 0 and row["tokens"]["cached"] is None
    assert all(m["cached_tokens"] is None for m in row["usage_per_model"])
    doc = cli(["tree"], done, "--json").json()
    assert doc["rollup"]["tokens"]["cached"] is None
    assert all(m["cached_tokens"] is None for m in doc["rollup"]["per_model"])
