"""Suite-wide setup shared by every test folder."""

from __future__ import annotations

import signal

# A job that a non-interactive shell starts in the background (`pytest &`, nohup, some CI
# wrappers) inherits SIGINT ignored, and so would every `agp-tui` the tests start: the
# tests that press Ctrl-C and expect exit 130 would wait out their timeouts and fail.
# A Python handler is reset to the default on exec, so children get a working Ctrl-C.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
