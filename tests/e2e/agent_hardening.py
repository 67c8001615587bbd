#!/usr/bin/python3
"""placid-agent on a real network (issue 14, item 12).

usage: agent_hardening.py PLACID_BINARY PLACID_AGENT_BINARY

Against a real placid (free 127.0.0.1 port, temporary database) and small
fake Placement servers (threads of this process, also on 127.0.0.1):
  - --token-file: the token comes from the file; a missing or empty file,
    or --token with --token-file, is a one-line error and exit 2;
  - no token and a non-loopback --url: refused (exit 2), no request made;
  - a 2,000-character token arrives whole (it was cut at ~585 characters);
    a token with a line break is refused;
  - a 20 MiB answer is dropped at the 8 MiB cap with a clear log line;
  - the state file's directory is fsynced after the rename (strace, when
    ptrace is allowed; otherwise that check is skipped);
  - a fake libvirtd and qemu-system-ARCH that print their version, close
    stdout and exit 1 s later still yield COMPUTE_NET_VIRTIO_PACKED;
  - without --once a rejected token is logged loudly and retried with
    backoff; the token file is re-read, and once it holds a good token the
    host is reported. With --once a rejection still exits 3.
Python 3 and python3-requests only; prints ok/FAIL lines, exits 1 on any
failure."""
import http.server
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import requests

from helpers.placid_e2e import Server, check, failures, free_port

PLACID, AGENT = sys.argv[1], sys.argv[2]
TRAIT = "COMPUTE_NET_VIRTIO_PACKED"
ENV = {k: v for k, v in os.environ.items() if k not in ("OS_TOKEN", "PLACID_URL")}


class Placid(Server):
    def __init__(self, tmp):
        super().__init__(PLACID, tmp)

    def traits_of(self, name):
        h = {"X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.39"}
        rps = requests.get(f"{self.url}/resource_providers?name={name}", headers=h,
                           timeout=30).json()["resource_providers"]
        if not rps:
            return None
        doc = requests.get(f"{self.url}/resource_providers/{rps[0]['uuid']}/traits", headers=h,
                           timeout=30).json()
        return set(doc["traits"])


class Fake:
    """A Placement stand-in: records X-Auth-Token, answers with reply()."""

    def __init__(self, reply):
        self.tokens = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_one(self):
                fake.tokens.append(self.headers.get("X-Auth-Token"))
                status, body = reply(self)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_PUT = do_POST = do_DELETE = handle_one

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def unauthorized(_):
    return 401, json.dumps({"errors": [{"status": 401, "title": "Unauthorized",
                                        "detail": "bad token"}]}).encode()


def agent_args(tmp, name, url, *extra):
    return [AGENT, "--url", url, "--name", name, "--state-file",
            os.path.join(tmp, name + ".state"), "--disk-path", tmp, "--vcpus", "8",
            "--memory-mb", "4096", "--disk-gb", "100", "--reserved-host-memory-mb", "0",
            "--retry-timeout", "0", *extra]


def run_agent(tmp, name, url, *extra, env=None):
    return subprocess.run(agent_args(tmp, name, url, "--once", *extra), capture_output=True,
                          text=True, timeout=60, env=env or ENV)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def check_token_sources(tmp, placid):
    tf = write(os.path.join(tmp, "token"), "admin\n")
    res = run_agent(tmp, "tf", placid.url, "--token-file", tf, "--libvirt-version", "6.3.0",
                    "--qemu-version", "4.2.0")
    check(res.returncode == 0 and placid.traits_of("tf") == {"COMPUTE_NODE", TRAIT},
          "--token-file: the token is read from the file", res.stderr)
    for what, args, needle in [
        ("a missing token file", ["--token-file", os.path.join(tmp, "nope")],
         "cannot read token file"),
        ("an empty token file", ["--token-file", write(os.path.join(tmp, "empty"), "\n")],
         "the token is empty"),
        ("--token with --token-file", ["--token", "admin", "--token-file", tf],
         "either --token or --token-file"),
        ("a token with a line break", ["--token", "abc\r\nX-Injected: 1"],
         "control or non-ASCII character"),
    ]:
        res = run_agent(tmp, "bad", placid.url, *args)
        lines = res.stderr.strip().splitlines()
        check(res.returncode == 2 and needle in res.stderr and len(lines) <= 2,
              f"{what}: a one-line error, exit 2", res.stderr)

    fake = Fake(unauthorized)
    try:
        remote = fake.url.replace("127.0.0.1", "localhost.invalid")
        res = run_agent(tmp, "remote", remote)
        check(res.returncode == 2 and "no token for" in res.stderr and "--token-file" in res.stderr,
              "no token and a non-loopback --url: refused, exit 2", res.stderr)
        res = run_agent(tmp, "local", fake.url)
        check(res.returncode == 3 and fake.tokens[-1:] == ["admin"],
              "no token and a loopback --url: the built-in 'admin' (rejected here: exit 3)",
              (res.returncode, fake.tokens[-1:], res.stderr))
        long_token = "gAAAAA" + "x" * 1994
        res = run_agent(tmp, "long", fake.url, "--token", long_token)
        check(res.returncode == 3 and fake.tokens[-1:] == [long_token],
              "a 2,000-character token arrives whole",
              (res.returncode, len(fake.tokens[-1] or "")))
    finally:
        fake.stop()


def check_response_cap(tmp):
    huge = b"[" + b"0," * (10 << 20) + b"0]"  # 20 MiB of JSON

    fake = Fake(lambda _: (200, huge))
    try:
        res = run_agent(tmp, "huge", fake.url, "--token", "admin")
        check(res.returncode == 1 and "response larger than 8 MiB" in res.stderr,
              "a 20 MiB answer is dropped at the 8 MiB cap", res.stderr)
    finally:
        fake.stop()


def check_state_dir_fsync(tmp, placid):
    if not shutil.which("strace"):
        print("skip state directory fsync: strace not installed")
        return
    probe = subprocess.run(["strace", "-o", "/dev/null", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        print("skip state directory fsync: ptrace not permitted here")
        return
    sdir = os.path.join(tmp, "statedir")
    trace = os.path.join(tmp, "strace.txt")
    args = agent_args(tmp, "durable", placid.url, "--once", "--libvirt-version", "6.3.0",
                      "--qemu-version", "4.2.0")
    args[args.index("--state-file") + 1] = os.path.join(sdir, "state")
    res = subprocess.run(["strace", "-f", "-y", "-e", "trace=rename,renameat,renameat2,fsync",
                          "-o", trace] + args, capture_output=True, text=True, timeout=120,
                         env=dict(ENV, ASAN_OPTIONS="detect_leaks=0"))  # LSan cannot run under ptrace
    with open(trace) as f:
        lines = f.read().splitlines()
    renamed = [i for i, l in enumerate(lines) if "rename" in l and "state.tmp" in l]
    synced = [i for i, l in enumerate(lines) if "fsync(" in l and f"<{sdir}>" in l]
    check(res.returncode == 0 and renamed and synced and synced[-1] > renamed[0],
          "the state file's directory is fsynced after the rename",
          (res.stderr, [l for l in lines if "state" in l]))


def check_slow_version_probe(tmp, placid):
    bindir = os.path.join(tmp, "bin")
    os.makedirs(bindir)
    for name, text in [("libvirtd", "libvirtd (libvirt) 8.0.0"),
                       (f"qemu-system-{platform.machine()}",
                        "QEMU emulator version 6.2.0 (Debian 1:6.2+dfsg-2)")]:
        path = write(os.path.join(bindir, name),
                     f"#!/bin/sh\necho '{text}'\nexec >&-\nsleep 1\nexit 0\n")
        os.chmod(path, 0o755)
    env = dict(ENV, PATH=bindir + ":" + ENV.get("PATH", "/usr/bin:/bin"))
    res = run_agent(tmp, "slowprobe", placid.url, "--token", "admin", env=env)
    check(res.returncode == 0 and placid.traits_of("slowprobe") == {"COMPUTE_NODE", TRAIT},
          "a libvirtd/qemu that exit 1 s after their output still yield the trait",
          (res.stderr, placid.traits_of("slowprobe")))


def check_rejection_in_the_loop(tmp, placid):
    tf = write(os.path.join(tmp, "rotating"), "not-the-admin\n")
    log = open(os.path.join(tmp, "looper.log"), "w+")
    loop = subprocess.Popen(
        agent_args(tmp, "rotated", placid.url, "--interval", "2", "--token-file", tf,
                   "--libvirt-version", "6.3.0", "--qemu-version", "4.2.0"),
        stdout=subprocess.DEVNULL, stderr=log, env=ENV)
    try:
        time.sleep(4)
        alive = loop.poll() is None
        log.seek(0)
        text = log.read()
        check(alive and text.count("REJECTED THE TOKEN") >= 2,
              "periodic mode: a rejected token is logged loudly and retried (still running)",
              text)
        write(tf, "admin\n")
        end, seen = time.time() + 20, None
        while time.time() < end and not seen:
            seen = placid.traits_of("rotated")
            time.sleep(0.2)
        check(seen == {"COMPUTE_NODE", TRAIT},
              "the token file is re-read: the host is reported once it holds a good token")
    finally:
        if loop.poll() is None:
            os.kill(loop.pid, signal.SIGTERM)
        try:
            loop.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(loop.pid, signal.SIGKILL)
            loop.wait()
    check(loop.returncode == 0, "and it stops on SIGTERM with exit 0")
    res = run_agent(tmp, "once", placid.url, "--token", "not-the-admin")
    check(res.returncode == 3, "with --once a rejected token still exits 3", res.stderr)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        placid = Placid(tmp)
        try:
            check_token_sources(tmp, placid)
            check_response_cap(tmp)
            check_state_dir_fsync(tmp, placid)
            check_slow_version_probe(tmp, placid)
            check_rejection_in_the_loop(tmp, placid)
        finally:
            placid.stop()
    print(f"agent_hardening: {'FAIL' if failures else 'ok'} ({len(failures)} failures)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
