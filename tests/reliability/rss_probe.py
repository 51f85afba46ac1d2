"""`python rss_probe.py REPORT AS_LIMIT UMASK -- COMMAND...`: run COMMAND, then write its peak
RSS (KB, from `wait4`) to REPORT and exit with its exit code.

Why a probe process: Linux keeps a process's RSS high-water mark across `exec`, and a child
forked (or vforked) from the test process starts with the test process's own RSS, which in
a full test run is well over 100 MB. Forked from this small probe instead, the command's
peak is its own. Ctrl-C (SIGINT) is passed on to the command; the address-space limit and
the umask are set in the command only.
"""

from __future__ import annotations

import os
import resource
import signal
import sys


def main() -> int:
    report, limit, umask = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    command = sys.argv[sys.argv.index("--") + 1:]
    pid = os.fork()
    if pid == 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if umask != "-":
            os.umask(int(umask, 8))
        os.execvp(command[0], command)
    signal.signal(signal.SIGINT, lambda *_: os.kill(pid, signal.SIGINT))
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
    _, status, usage = os.wait4(pid, 0)
    with open(report, "w") as f:
        f.write(str(usage.ru_maxrss))
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
