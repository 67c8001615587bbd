"""Pieces every e2e test needs, written once: ok/FAIL reporting, a free
127.0.0.1 port, the sanitizer marks to scan a log for, and stopping a
server by PID. A test imports it as `from helpers.placid_e2e import ...`
(tests/run runs only tests/e2e/*.py, so this module is not run as a test).
"""
import signal
import socket
import subprocess

# The report of every check that failed, in order; a test exits non-zero
# when it is not empty.
failures = []

# Lines an ASan/UBSan build writes to stderr when it finds a fault.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "LeakSanitizer", "runtime error:")


def check(cond, what):
    """Print an ok/FAIL line for `what` and remember a failure."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc, err):
    """SIGTERM `proc` (SIGKILL after 30 s); return its exit code (-9 when
    killed) and all it wrote to `err`, a file opened w+."""
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = -9
    err.seek(0)
    return rc, err.read()
