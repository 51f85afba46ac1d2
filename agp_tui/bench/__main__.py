"""Dispatch `python -m agp_tui.bench NAME ...` to `agp_tui.bench.NAME.main(argv)`."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import agp_tui.bench as _pkg


def _available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(_pkg.__path__) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = _available()
    if not argv or argv[0] in {"-h", "--help"}:
        print(f"usage: python -m agp_tui.bench {{{','.join(names)}}} [options]")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in names:
        print(f"unknown benchmark {name!r}; choose one of: {', '.join(names)}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"agp_tui.bench.{name}")
    return int(module.main(rest))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
