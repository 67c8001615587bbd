#!/usr/bin/python3
"""Three placid nodes on one throwaway PostgreSQL 15, behind haproxy
(docs/haproxy-placid.cfg), as the README's "Scaling out" lays them out:

1. three nodes started at once on an empty database all come up (one
   migrates under the advisory lock, the others wait);
2. racing claims spread over all three nodes grant exactly the capacity,
   no more (and every node then reports the same usage);
3. a write through one node is seen by GET /allocation_candidates on the
   other two at once (a new provider; a freed allocation);
4. one node SIGKILLed while it writes multi-consumer POST /allocations
   leaves no half-written request (each request's consumers all or none);
5. PostgreSQL restarted under load: requests during the outage get 503
   with Retry-After, nothing else; no multi-consumer write is half there;
   afterwards every surviving node serves reads and writes again, without
   being restarted.

argv[1]: placid (the ASan build under tests/run). Exit 77 when PostgreSQL
or haproxy cannot be had outside CI. `--harness-check-on-sqlite` (by hand only) runs steps 1-4 on one SQLite
file shared by the three nodes, to check this test's own code.
"""
import concurrent.futures
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid

from helpers.placid_e2e import (SANITIZER_MARKS, check, failures, free_port, http_call,
                                launch, stop, wait_ready)
from helpers.placid_pg import HAProxy, Throwaway, node_env, support

H = {"x-auth-token": "admin", "openstack-api-version": "placement 1.39"}
CAPACITY = 24
RACERS = 60
PROJECT = "6e2f1b0f-6bb1-4c4c-8b8b-7a6e0b7c1a11"
USER = "0c9bd7e1-3c1a-4f5e-9a55-1d2f3c4b5a69"


class Node:
    def __init__(self, binary, db, tmp, name):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.addr = f"127.0.0.1:{self.port}"
        self.err = open(os.path.join(tmp, name + ".log"), "w+")
        env = node_env()
        self.proc = launch(binary, self.port, db, ["--threads", "8", "--log-level", "warn"],
                           stderr=self.err, env=env)
        self.rc, self.log = None, ""

    def stop(self):
        if self.err.closed:
            return
        self.rc, self.log = stop(self.proc, self.err)
        self.err.close()


def call(url, method="GET", body=None, timeout=30):
    try:
        st, hdrs, raw = http_call(url, method, H, body, timeout=timeout)
        return st, hdrs, raw
    except OSError as e:  # connection refused/reset: the node is gone
        return None, {}, str(e).encode()


def make_provider(url, name, vcpu):
    rp = str(uuid.uuid4())
    st, _, body = call(url + "/resource_providers", "POST", {"name": name, "uuid": rp})
    if st != 200:
        raise SystemExit(f"FAIL cannot create provider {name}: {st} {body[:300]}")
    st, _, body = call(url + f"/resource_providers/{rp}/inventories", "PUT",
                       {"resource_provider_generation": 0,
                        "inventories": {"VCPU": {"total": vcpu}}})
    if st != 200:
        raise SystemExit(f"FAIL cannot set inventory of {name}: {st} {body[:300]}")
    return rp


def claim(url, rp, consumer, vcpu=1):
    return call(url + f"/allocations/{consumer}", "PUT",
                {"allocations": {rp: {"resources": {"VCPU": vcpu}}}, "project_id": PROJECT,
                 "user_id": USER, "consumer_generation": None, "consumer_type": "INSTANCE"})


def multi_claim(url, rp, consumers):
    """One POST /allocations for all `consumers` (one VCPU each): all or none."""
    body = {c: {"allocations": {rp: {"resources": {"VCPU": 1}}}, "project_id": PROJECT,
                "user_id": USER, "consumer_generation": None, "consumer_type": "INSTANCE"}
            for c in consumers}
    return call(url + "/allocations", "POST", body, timeout=60)


def used(url, rp):
    st, _, body = call(url + f"/resource_providers/{rp}/usages")
    return json.loads(body)["usages"].get("VCPU", 0) if st == 200 else None


def consumers_present(url, consumers):
    n = 0
    for c in consumers:
        st, _, body = call(url + f"/allocations/{c}")
        if st == 200 and json.loads(body)["allocations"]:
            n += 1
    return n


def candidates(url, query):
    st, _, body = call(url + "/allocation_candidates?" + query)
    if st != 200:
        return None
    return sorted(json.loads(body)["provider_summaries"])


def racing_claims(nodes):
    rp = make_provider(nodes[0].url, "race", CAPACITY)
    barrier = threading.Barrier(RACERS)

    def one(i):
        barrier.wait()
        return claim(nodes[i % len(nodes)].url, rp, str(uuid.uuid4()))[0]

    with concurrent.futures.ThreadPoolExecutor(RACERS) as ex:
        codes = list(ex.map(one, range(RACERS)))
    granted = codes.count(204)
    check(granted == CAPACITY and codes.count(409) == RACERS - CAPACITY,
          f"{RACERS} racing claims over {len(nodes)} nodes: exactly {CAPACITY} granted, "
          f"the rest 409 ({granted} granted; codes {sorted(set(map(str, codes)))})")
    usages = [used(n.url, rp) for n in nodes]
    check(usages == [CAPACITY] * len(nodes),
          f"every node reports usage {CAPACITY} of {CAPACITY} ({usages})")
    return rp


def visible_at_once(nodes, race_rp):
    query = "resources=VCPU:1&limit=50"
    # Warm every node's tree cache first, so a stale cache would show.
    before = [candidates(n.url, query) for n in nodes]
    check(all(b is not None and race_rp not in b for b in before),
          "the full provider is no candidate on any node", before)
    new = make_provider(nodes[0].url, "late", 4)
    after = [candidates(n.url, query) for n in nodes[1:]]
    check(all(a is not None and new in a for a in after),
          "a provider made through node 1 is a candidate on nodes 2 and 3 at once", after)
    # Free one VCPU of the full provider through node 2: node 3 and node 1 see it.
    st, _, body = call(nodes[0].url + f"/resource_providers/{race_rp}/allocations")
    consumer = sorted(json.loads(body)["allocations"])[0]
    st, _, _ = call(nodes[1].url + f"/allocations/{consumer}", "DELETE")
    check(st == 204, f"an allocation deleted through node 2 ({st})")
    after = [candidates(n.url, query) for n in (nodes[2], nodes[0])]
    check(all(a is not None and race_rp in a for a in after),
          "the freed provider is a candidate on nodes 3 and 1 at once", after)


def killed_mid_write(nodes):
    rp = make_provider(nodes[0].url, "kill", 100000)
    victim = nodes[2]
    batches, lock, stop_ = [], threading.Lock(), threading.Event()

    def writer():
        while not stop_.is_set():
            batch = [str(uuid.uuid4()) for _ in range(40)]
            with lock:
                batches.append(batch)
            if multi_claim(victim.url, rp, batch)[0] is None:
                return

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait()
    stop_.set()
    for t in threads:
        t.join(60)
    victim.stop()
    counts = [consumers_present(nodes[0].url, b) for b in batches]
    half = [c for c in counts if c not in (0, 40)]
    check(not half and len(batches) > 4,
          f"node 3 SIGKILLed amid {len(batches)} POST /allocations of 40 consumers each: "
          f"each all or none ({counts.count(40)} whole, {counts.count(0)} absent, "
          f"{len(half)} half)")
    total = used(nodes[0].url, rp)
    check(total == 40 * counts.count(40),
          f"the provider's usage is the sum of the whole requests ({total})")


def restart_under_load(pg, nodes, lb):
    rp = make_provider(nodes[0].url, "outage", 100000)
    results, lock, stop_ = [], threading.Lock(), threading.Event()
    urls = [n.url for n in nodes] + [lb.url]

    def worker(i):
        k = 0
        while not stop_.is_set():
            url = urls[(i + k) % len(urls)]
            k += 1
            if k % 2:
                batch = [str(uuid.uuid4()) for _ in range(5)]
                st, hdrs, _ = multi_claim(url, rp, batch)
            else:
                batch = None
                st, hdrs, _ = call(url + f"/resource_providers/{rp}", timeout=30)
            with lock:
                results.append((time.time(), st, hdrs.get("Retry-After"), batch))
            time.sleep(0.02)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    r = pg.pg("stop", pg.dir)
    # A request answered this long after the server is gone cannot have
    # committed before it went (the slack covers a slow answer of a commit).
    down_at = time.time() + 0.5
    check(r.returncode == 0, "PostgreSQL stopped under load")
    time.sleep(3)
    up_at = time.time()
    r = pg.pg("start", pg.dir)
    check(r.returncode == 0, "PostgreSQL started again")
    time.sleep(4)
    stop_.set()
    for t in threads:
        t.join(60)
    during = [x for x in results if down_at < x[0] < up_at]
    odd = [x[1] for x in results if x[1] not in (200, 204, 503)]
    no_retry = [x for x in results if x[1] == 503 and not x[2]]
    check(not odd, f"{len(results)} requests around the restart: each 200/204 or 503 "
          f"(others: {sorted(set(map(str, odd)))})")
    check(during and all(x[1] == 503 for x in during),
          f"the {len(during)} requests answered while PostgreSQL was down all got 503")
    check(not no_retry, f"every 503 carries Retry-After ({len(no_retry)} without)")
    writes = [x for x in results if x[3] is not None]
    counts = [consumers_present(nodes[0].url, x[3]) for x in writes]
    check(all(c in (0, 5) for c in counts),
          f"no write is half there ({counts.count(5)} whole, {counts.count(0)} absent)")
    ok_but_absent = [1 for x, c in zip(writes, counts) if x[1] == 204 and c != 5]
    check(not ok_but_absent, "every write answered 204 is there")
    # Service resumes: every node (same PIDs) serves a read and a write.
    end = time.time() + 20
    while time.time() < end:
        codes = [claim(n.url, rp, str(uuid.uuid4()))[0] for n in nodes]
        if codes == [204] * len(nodes):
            break
        time.sleep(0.5)
    check(codes == [204] * len(nodes) and all(n.proc.poll() is None for n in nodes),
          f"after the restart every node, not restarted, takes writes again ({codes})")
    check(lb.wait_healthy(20), "haproxy sees healthy nodes again")


def start_nodes(binary, db, tmp, names):
    nodes = [Node(binary, db, tmp, name) for name in names]
    up = [wait_ready(n.port, n.proc, 60) for n in nodes]
    return nodes, up


def main():
    binary = sys.argv[1]
    on_sqlite = "--harness-check-on-sqlite" in sys.argv
    ci = os.environ.get("CI") == "true"
    if not shutil.which("haproxy"):
        print(("FAIL" if ci else "skip:") + " haproxy is not installed (tests/run installs it)")
        return 1 if ci else 77
    tmp = tempfile.mkdtemp(prefix="placid-multinode-")
    pg = None
    if on_sqlite:
        db = os.path.join(tmp, "shared.db")
    else:
        pg = Throwaway()
        if not pg.installable and not ci:
            print("skip: PostgreSQL 15 cannot be installed here: " + pg.error)
            pg.down()
            return 77
        if not check(pg.ok, f"a throwaway PostgreSQL starts ({pg.error})"):
            pg.down()
            return 1
    nodes, lb = [], None
    try:
        if pg:
            has, why = support(binary, pg.create_db("probe"))
            if not check(has, "placid starts on a PostgreSQL URI", why):
                return 1
            db = pg.create_db("multinode")
        nodes, up = start_nodes(binary, db, tmp, ["node1", "node2", "node3"])
        if not check(all(up), f"three nodes started at once on an empty database answer ({up})"):
            return 1
        lb = HAProxy(tmp, [n.addr for n in nodes])
        check(lb.wait_healthy(), "haproxy finds all nodes healthy")
        race_rp = racing_claims(nodes)
        visible_at_once(nodes, race_rp)
        killed_mid_write(nodes)
        survivors = nodes[:2]
        if pg:
            restart_under_load(pg, survivors, lb)
    finally:
        if lb:
            lb.stop()
        for n in nodes:
            n.stop()
        if pg:
            pg.down()
    for n in nodes[:2]:
        marks = [m for m in SANITIZER_MARKS if m in n.log]
        check(n.rc == 0 and not marks,
              f"{n.name} stopped by SIGTERM: exit {n.rc}, no sanitizer report", n.log[-1500:])
    shutil.rmtree(tmp, ignore_errors=True)
    print(("FAIL: " if failures else "ok: ") + f"multinode, {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
