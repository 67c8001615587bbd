#!/usr/bin/python3
"""Two placid nodes behind one address (haproxy, docs/haproxy-placid.cfg)
against one node, at concurrency 10: wrk on the limit=10 candidates query
(the query of bench.sh's throughput figure), and the CPU each node spent
per request (utime + stime from /proc/PID/stat over the run).

    nodes.py BINARY DB N [--wrk-seconds S] [--rounds R] [--out DIR]

DB is a libpq URI of an empty database: node 1 starts on it, the perfload
data set of N providers is loaded through it (../shared/bench/load.py),
then node 2 starts on the same database. For checking this harness without
a PostgreSQL backend, DB may be an SQLite path: node 2 then gets a copy of
the loaded file (the figures are then of two independent read-only copies,
and are labelled so). Each configuration (node 1 direct, haproxy over node
1, haproxy over nodes 1+2) runs R times interleaved (default 2); the best
requests/s of each is kept. Prints one NODES_JSON line per configuration
and a small table. Every process it starts is stopped by PID.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from helpers.placid_e2e import free_port, launch, stop, wait_ready  # noqa: E402
from helpers.placid_pg import HAProxy  # noqa: E402

SHARED = os.environ.get("PLACID_SHARED", os.path.join(ROOT, "..", "shared"))
QUERY = ("resources=VCPU:1,DISK_GB:10,MEMORY_MB:256&member_of="
         "14a5c8a3-5a99-4e8f-88be-00d85fcb1c17&required=HW_CPU_X86_AVX2&limit=10")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def wrk(url, seconds, out):
    r = subprocess.run(["timeout", str(seconds + 60), "wrk", "-t2", "-c10", f"-d{seconds}s",
                        "--timeout", "30s", "-H", "x-auth-token: admin",
                        "-H", "openstack-api-version: placement latest",
                        f"{url}/allocation_candidates?{QUERY}"],
                       capture_output=True, text=True)
    with open(out, "a") as f:
        f.write(r.stdout + r.stderr)
    m = re.search(r"(\d+) requests in", r.stdout)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", r.stdout)
    return (int(m.group(1)) if m else 0, float(rps.group(1)) if rps else 0.0,
            int(bad.group(1)) if bad else 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("db")
    ap.add_argument("n", type=int)
    ap.add_argument("--wrk-seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="placid-nodes-")
    out = a.out or tmp
    os.makedirs(out, exist_ok=True)
    shared_db = a.db.startswith(("postgresql://", "postgres://"))
    procs, lbs = [], []
    # The nodes take their settings from argv alone (PLACID_DB would override DB).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLACID_")}

    def node(db):
        port = free_port()
        err = open(os.path.join(out, f"node-{port}.log"), "w+")
        p = launch(a.binary, port, db, ["--log-level", "warn"], stderr=err, env=env)
        procs.append((p, err))
        if not wait_ready(port, p, 60):
            raise SystemExit(f"placid node on {db if not shared_db else 'the database'} "
                             "did not start")
        return p, f"127.0.0.1:{port}"

    try:
        p1, a1 = node(a.db)
        subprocess.run([sys.executable, os.path.join(SHARED, "bench", "load.py"),
                        f"http://{a1}", str(a.n), "-c", "10"],
                       stdout=open(os.path.join(out, "nodes.load.txt"), "w"),
                       stderr=subprocess.STDOUT, check=True)
        db2 = a.db
        if not shared_db:
            db2 = os.path.join(tmp, "copy.db")
            for sfx in ("", "-wal", "-shm"):
                if os.path.exists(a.db + sfx):
                    shutil.copy(a.db + sfx, db2 + sfx)
        p2, a2 = node(db2)
        one = HAProxy(tempfile.mkdtemp(dir=tmp), [a1])
        two = HAProxy(tempfile.mkdtemp(dir=tmp), [a1, a2])
        lbs += [one, two]
        for lb in lbs:
            if not lb.wait_healthy():
                raise SystemExit("haproxy did not become healthy")
        configs = [("one node, direct", f"http://{a1}", [p1]),
                   ("one node behind haproxy", one.url, [p1]),
                   ("two nodes behind haproxy", two.url, [p1, p2])]
        best = {}
        for _ in range(a.rounds):
            for label, url, nodes in configs:
                before = [cpu_seconds(p.pid) for p in nodes]
                reqs, rps, bad = wrk(url, a.wrk_seconds, os.path.join(out, "nodes.wrk.txt"))
                cpu = [cpu_seconds(p.pid) - b for p, b in zip(nodes, before)]
                if label not in best or rps > best[label]["rps"]:
                    best[label] = {
                        "config": label, "n": a.n, "rps": rps, "requests": reqs,
                        "non2xx": bad, "shared_db": shared_db,
                        # CPU per request of each node, over the requests all nodes served.
                        "cpu_ms_per_req_per_node": [round(c * 1000 / reqs, 3) if reqs else None
                                                    for c in cpu],
                        "cpu_ms_per_req_total": round(sum(cpu) * 1000 / reqs, 3) if reqs else None}
        for label, _, _ in configs:
            print("NODES_JSON " + json.dumps(best[label]))
        base = best["one node, direct"]["rps"]
        print(f"| N={a.n}{'' if shared_db else ' (SQLite copies, read-only)'} | req/s c=10 "
              "| vs one node direct | CPU ms per request, each node's share | total | non-2xx |")
        print("|---|---|---|---|---|---|")
        for label, _, _ in configs:
            r = best[label]
            vs = f"{(r['rps'] / base - 1) * 100:+.0f} %" if base else "-"
            print(f"| {label} | {r['rps']:.0f} | {vs} | "
                  f"{', '.join(str(x) for x in r['cpu_ms_per_req_per_node'])} | "
                  f"{r['cpu_ms_per_req_total']} | {r['non2xx']} |")
    finally:
        for lb in lbs:
            lb.stop()
        for p, err in procs:
            stop(p, err)
            err.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
