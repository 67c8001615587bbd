"""Pieces every e2e test needs, written once: ok/FAIL reporting, a free
127.0.0.1 port, the sanitizer marks to scan a log for, stopping a server by
PID, and a placid started on a free port (Server). A test imports it as `from helpers.placid_e2e import ...`
(tests/run runs only tests/e2e/*.py, so this module is not run as a test).
"""
import os
import signal
import socket
import subprocess
import time
import urllib.request

# The report of every check that failed, in order; a test exits non-zero
# when it is not empty.
failures = []

# Lines an ASan/UBSan build writes to stderr when it finds a fault.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "LeakSanitizer", "runtime error:")


def check(cond, what, extra=None):
    """Print an ok/FAIL line for `what` and remember a failure; on a failure
    `extra` (a response, a log), when given, is printed below it, shortened
    to its first and last 1000 characters."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
        if extra is not None:
            text = str(extra)
            if len(text) > 2000:
                text = text[:1000] + " ... " + text[-1000:]
            print("     " + text, flush=True)
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


class Server:
    """A placid (`binary`, a test's argv[1]) on a free 127.0.0.1 port with
    the database tmp/placid.db and `args` (by default two HTTP workers); its
    stdout and stderr go to tmp/placid.log (`log_path`). The constructor
    returns once GET / answers 200 (SystemExit after 20 s); stop() ends it by
    PID."""

    def __init__(self, binary, tmp, args=("--threads", "2")):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(tmp, "placid.log")
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(
            [binary, "--listen", f"127.0.0.1:{self.port}", "--db",
             os.path.join(tmp, "placid.db"), *args],
            stdout=self.log, stderr=subprocess.STDOUT)
        end = time.time() + 20
        while time.time() < end and self.proc.poll() is None:
            try:
                with urllib.request.urlopen(self.url + "/", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise SystemExit("placid did not start")

    def stop(self):
        """SIGTERM (SIGKILL after 30 s); returns the exit code (-9 when
        killed) and the log. A second call returns (None, "")."""
        if self.log.closed:
            return None, ""
        rc, text = stop(self.proc, self.log)
        self.log.close()
        return rc, text
