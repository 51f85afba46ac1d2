"""`agp_tui.sim` loads its parts on first use: a World (for a fake backend or a benchmark in
virtual time) comes without aiohttp, the HTTP server or the CLI (issue 16)."""

from __future__ import annotations

import subprocess
import sys


def _loaded(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_importing_the_world_loads_no_server() -> None:
    for code in ("import agp_tui.sim", "from agp_tui.sim import World, ManualClock",
                 "from agp_tui.sim.world import World"):
        mods = _loaded(code)
        assert not {"aiohttp", "agp_tui.sim.server", "agp_tui.sim.cli", "agp_tui.sim.routes"} & mods, code
        assert "asyncio" not in mods, code


def test_the_package_names_still_resolve() -> None:
    import agp_tui.sim as sim

    for name in sim.__all__:
        assert getattr(sim, name) is not None
    assert "SimServer" in dir(sim)
    mods = _loaded("from agp_tui.sim import SimServer")
    assert "aiohttp" in mods and "agp_tui.sim.cli" not in mods
