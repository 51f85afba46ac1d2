"""`agp-tui --follow FILTER`: a bad filter is one clear line and exit 2, before any screen."""

from __future__ import annotations

import pytest

from agp_tui import cli


@pytest.mark.parametrize(("argv", "says"), [
    (["--demo", "--follow", "grup:nightly"],
     "--follow: 'grup:nightly' is not a filter; did you mean group:?"),
    (["--demo", "--follow", "status:runing"], "did you mean running?"),
    (["--base-url", "http://127.0.0.1:9/api/v2", "--follow", "nightly"], "is not a filter"),
    (["--demo", "--batch", "size=many"], "--batch: bad number in batch 'size=many'"),
    (["--demo", "--batch", "colour=red"], "unknown batch key 'colour'"),
])
def test_a_bad_follow_filter_is_refused_in_one_line(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: object,
) -> None:
    monkeypatch.setenv("H_API_KEY", "k")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err


def test_batch_is_a_demo_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--batch", "100"])
    assert exit_.value.code == 2
    assert "--batch is for the built-in simulator: use it with --demo" in capsys.readouterr().err
