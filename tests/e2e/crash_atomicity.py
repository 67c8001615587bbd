#!/usr/bin/python3
"""A multi-consumer write lands whole or not at all, even when the server is
killed (SIGKILL) in the middle of a stream of POST /allocations. argv[1] is
the placid binary. Three rounds of: write concurrently, kill, restart, check
that every batch of consumers is all there or all absent (and there when
it was answered 204), that usages equal
the allocations, that in the database every consumer row has all its
allocation rows, and that SQLite's integrity check passes.

On SQLite this is SQLite's atomic commit (its WAL): the killed process's
last transaction is rolled back when the file is next opened. With
PLACID_E2E_DB=postgresql (helpers/placid_e2e.py) placid restarts on the
same PostgreSQL database, and what is tested is PostgreSQL's own
atomicity: the server rolls back the transaction of a connection whose
client died before COMMIT, and a COMMIT that was sent lands whole. Only
placid is killed there, not PostgreSQL (the multi-node test restarts the
database under load); SQLite's integrity check is skipped, with a line
saying so."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

from helpers.placid_e2e import (check, db_value, failures, free_port, launch,
                                skip_on_postgresql, wait_ready)

PLACID = sys.argv[1]
HEADERS = {"x-auth-token": "admin", "openstack-api-version": "placement 1.38",
           "content-type": "application/json", "accept": "application/json"}
PROVIDERS = 12
PER_CONSUMER = 6      # providers each consumer allocates from
CONSUMERS_PER_POST = 5


def call(base, method, path, body=None, timeout=5):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers=HEADERS)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        return e.code, None


def start(db, port):
    proc = launch(PLACID, port, db, stderr=subprocess.DEVNULL)
    if not wait_ready(port, proc):
        proc.kill()
        sys.exit("placid did not start")
    return proc, f"http://127.0.0.1:{port}"


def make_providers(base):
    uuids = []
    for i in range(PROVIDERS):
        u = str(uuid.uuid4())
        call(base, "POST", "/resource_providers", {"name": f"rp{i}", "uuid": u})
        st, _ = call(base, "PUT", f"/resource_providers/{u}/inventories",
                     {"resource_provider_generation": 0,
                      "inventories": {"VCPU": {"total": 100000}}})
        assert st == 200, st
        uuids.append(u)
    return uuids


def writer(base, rps, batches, acked, stop, seed):
    n = 0
    while not stop.is_set():
        consumers = [str(uuid.uuid4()) for _ in range(CONSUMERS_PER_POST)]
        body = {}
        for k, c in enumerate(consumers):
            first = (seed + n + k) % PROVIDERS
            allocs = {rps[(first + j) % PROVIDERS]: {"resources": {"VCPU": 1}}
                      for j in range(PER_CONSUMER)}
            body[c] = {"allocations": allocs, "project_id": "p", "user_id": "u",
                       "consumer_generation": None, "consumer_type": "TEST"}
        batches.append(consumers)
        n += 1
        try:
            if call(base, "POST", "/allocations", body, timeout=2)[0] == 204:
                acked.add(consumers[0])
        except OSError:
            pass  # the server was killed under us


def verify(base, db, rps, batches, acked, round_no):
    whole = partial = lost = 0
    present = set()
    for consumers in batches:
        counts = []
        for c in consumers:
            st, body = call(base, "GET", f"/allocations/{c}")
            n = len(body["allocations"]) if st == 200 else -1
            counts.append(n)
            if n:
                present.add(c)
        if all(n == PER_CONSUMER for n in counts) or all(n == 0 for n in counts):
            whole += 1
        else:
            partial += 1
        if consumers[0] in acked and not all(n == PER_CONSUMER for n in counts):
            lost += 1
    check(partial == 0, f"round {round_no}: {whole} batches whole or absent, {partial} partial")
    check(lost == 0, f"round {round_no}: every batch answered 204 is there "
                     f"({len(acked)} answered so far, {lost} missing)")
    total_used = 0
    for u in rps:
        _, usage = call(base, "GET", f"/resource_providers/{u}/usages")
        total_used += usage["usages"].get("VCPU", 0)
    check(total_used == len(present) * PER_CONSUMER,
          f"round {round_no}: usages ({total_used}) equal the allocations written")
    # In the database itself (a consumer row left without its allocations
    # would read as absent through the API): every consumer has all of its.
    odd = db_value(db, "SELECT count(*) FROM consumers c WHERE (SELECT count(*) FROM"
                       f" allocations a WHERE a.consumer_id = c.id) <> {PER_CONSUMER}")
    check(odd == "0", f"round {round_no}: in the database every consumer has its "
                      f"{PER_CONSUMER} allocations ({odd} has not)")
    if skip_on_postgresql(f"round {round_no}: SQLite integrity check",
                          "no SQLite file; the server's own recovery is PostgreSQL's"):
        return
    con = sqlite3.connect(db)
    check(con.execute("PRAGMA integrity_check").fetchone()[0] == "ok",
          f"round {round_no}: SQLite integrity check")
    con.close()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "crash.db")
        port = free_port()
        proc, base = start(db, port)
        rps = make_providers(base)
        batches = []  # every round's batches: usages add up over the rounds
        acked = set()  # the first consumer of each batch answered 204
        for round_no in range(1, 4):
            stop = threading.Event()
            threads = [threading.Thread(target=writer, args=(base, rps, batches, acked, stop, i * 3))
                       for i in range(4)]
            for t in threads:
                t.start()
            time.sleep(0.6 + 0.2 * round_no)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            stop.set()
            for t in threads:
                t.join()
            proc, base = start(db, port)
            verify(base, db, rps, batches, acked, round_no)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    print(f"crash_atomicity: {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
