#!/usr/bin/python3
"""Operating placid on PostgreSQL (issue 13), on a throwaway PostgreSQL 15:

1. --tree-cache-mb bounds each node's tree cache on PostgreSQL as on
   SQLite: over 4,000 providers (more than 1 MiB of trees), a node with 1 MB
   keeps at most 1 MiB and reuses it, a node with 0 keeps nothing, a node
   with the default keeps them all; and a cached tree is never stale: a
   claim through another node, and an inventory changed by another
   connection (psql), are seen by the caching node's next candidates query.

2. The PostgreSQL figures on the metrics endpoint (promtool check metrics
   clean) move when their event happens: the pool's size, open and in-use
   gauges; a wait for the one connection (count and seconds); unit retries
   after an injected 40001, 40P01 and a backend terminated mid-unit (a
   trigger on providers); a reconnect after PostgreSQL restarted; 503s
   while it is stopped (with connection failures), and service again
   after it is back, without restarting placid.

argv[1] is the placid binary. Exit 77 (skipped) when PostgreSQL cannot be
installed here, except under CI=true."""
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid

from helpers.placid_e2e import check, failures, free_port, http_call, launch, stop
from helpers.placid_e2e import stopped_cleanly, wait_ready
from helpers.placid_pg import node_env, throwaway_for_test

H = {"x-auth-token": "admin", "openstack-api-version": "placement 1.39"}
PROVIDERS = 4000  # about 26 KB of trees per 64 providers: some 1.6 MB
MIB = 1 << 20


class Node:
    """A placid on uri with a metrics listener; stop() ends it by PID."""

    def __init__(self, binary, tmp, uri, name, args=()):
        self.name = name
        self.port, self.mport = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.err = open(os.path.join(tmp, name + ".log"), "w+")
        self.proc = launch(binary, self.port, uri,
                           ["--threads", "4", "--log-level", "warn",
                            "--metrics-listen", f"127.0.0.1:{self.mport}", *args],
                           stderr=self.err, env=node_env())
        self.ready = wait_ready(self.port, self.proc, 60)
        self.rc, self.log = None, ""

    def call(self, path, method="GET", body=None):
        st, _, raw = http_call(self.url + path, method, H, body, timeout=120)
        return st, json.loads(raw or b"{}")

    def metrics(self):
        """{name{labels}: value} of GET /metrics."""
        _, _, raw = http_call(f"http://127.0.0.1:{self.mport}/metrics", timeout=30)
        out = {}
        for line in raw.decode().splitlines():
            m = re.match(r"^([a-zA-Z_:][^ ]*) ([^ ]+)$", line)
            if m:
                out[m.group(1)] = float(m.group(2))
        return out

    def candidates(self, resources):
        st, doc = self.call(f"/allocation_candidates?resources={resources}")
        if st != 200:
            return None
        return sorted(doc["provider_summaries"])

    def stop(self):
        if self.err.closed:
            return
        self.rc, self.log = stop(self.proc, self.err)
        self.err.close()


def bulk_providers(pg, db, n):
    """n root providers bulk0.. with VCPU=1 each, written straight into the
    database (an HTTP request per provider would take minutes under ASan);
    {name: uuid}."""
    rc, out = pg.sql(db,
                     "INSERT INTO providers (uuid, name, root_id, created_at) "
                     f"SELECT gen_random_uuid()::text, 'bulk' || g, 0, 0 "
                     f"FROM generate_series(0, {n - 1}) g; "
                     "UPDATE providers SET root_id = id WHERE root_id = 0; "
                     "INSERT INTO inventories (provider_id, resource_class_id, total, created_at) "
                     "SELECT p.id, c.id, 1, 0 FROM providers p, resource_classes c "
                     "WHERE c.name = 'VCPU' AND p.name LIKE 'bulk%'; "
                     "SELECT string_agg(name || '=' || uuid, ' ') FROM providers")
    if rc != 0:
        raise SystemExit(f"FAIL cannot insert the providers: {out}")
    return dict(kv.split("=", 1) for kv in out.splitlines()[-1].split(" "))


def tree_cache(binary, tmp, pg):
    uri = pg.create_db("cache")
    first = Node(binary, tmp, uri, "cache-default")
    if not check(first.ready, "a node with the default --tree-cache-mb starts on PostgreSQL"):
        first.stop()
        print(first.log[-2000:])
        return
    rps = bulk_providers(pg, "cache", PROVIDERS)
    small = Node(binary, tmp, uri, "cache-1mb", ["--tree-cache-mb", "1"])
    none = Node(binary, tmp, uri, "cache-0", ["--tree-cache-mb", "0"])
    nodes = (first, small, none)
    try:
        if not check(small.ready and none.ready, "nodes with --tree-cache-mb 1 and 0 start"):
            return
        for node in nodes:
            cands = node.candidates("VCPU:1")
            check(cands is not None and len(cands) == PROVIDERS,
                  f"{node.name}: all {PROVIDERS} providers are candidates "
                  f"({None if cands is None else len(cands)})")
        held = {node.name: node.metrics().get("placid_tree_cache_bytes", -1) for node in nodes}
        check(held["cache-default"] > MIB,
              f"the default budget holds every tree: more than 1 MiB ({held['cache-default']:.0f})")
        check(0 < held["cache-1mb"] <= MIB,
              f"--tree-cache-mb 1 holds at most 1 MiB on PostgreSQL ({held['cache-1mb']:.0f})")
        check(held["cache-0"] == 0,
              f"--tree-cache-mb 0 holds nothing on PostgreSQL ({held['cache-0']:.0f})")
        before = {node.name: node.metrics() for node in nodes}
        for node in nodes:
            node.candidates("VCPU:1")
        after = {node.name: node.metrics() for node in nodes}

        def hits(name, m):
            return m[name].get("placid_tree_cache_hits_total", 0)
        check(hits("cache-1mb", after) - hits("cache-1mb", before) > 0,
              "the 1 MB node reuses its cached trees")
        check(hits("cache-0", after) == 0, "the node with no budget never hits")

        # Stale-proof: node `small` has bulk7's block cached; a claim through
        # another node and a change by another connection show at once.
        consumer = str(uuid.uuid4())
        st, doc = first.call(f"/allocations/{consumer}", "PUT", {
            "allocations": {rps["bulk7"]: {"resources": {"VCPU": 1}}},
            "project_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()),
            "consumer_generation": None, "consumer_type": "INSTANCE"})
        check(st == 204, f"a claim on bulk7 through another node ({st} {doc})")
        cands = small.candidates("VCPU:1")
        check(cands is not None and len(cands) == PROVIDERS - 1 and rps["bulk7"] not in cands,
              "the caching node's next query no longer offers bulk7")
        check(small.candidates("VCPU:2") == [], "no provider offers VCPU:2 yet")
        rc, out = pg.sql("cache", "UPDATE inventories SET total = 2 WHERE provider_id = "
                                  "(SELECT id FROM providers WHERE name = 'bulk9')")
        check(rc == 0, f"another connection raises bulk9 to VCPU=2 ({out})")
        check(small.candidates("VCPU:2") == [rps["bulk9"]],
              "the caching node's next query offers exactly bulk9 for VCPU:2")
    finally:
        for node in nodes:
            node.stop()
            check(stopped_cleanly(node.rc, node.log),
                  f"{node.name} stops cleanly (exit {node.rc})", node.log[-1500:])


# Failures on demand, by provider name: nextval() is not rolled back, so
# each sequence lets the first attempts fail and the retry succeed.
INJECT = """
CREATE SEQUENCE inject_40001; CREATE SEQUENCE inject_40p01; CREATE SEQUENCE inject_lost;
CREATE FUNCTION inject() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  IF NEW.name = 'serialization' AND nextval('inject_40001') <= 2 THEN
    RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = '40001';
  END IF;
  IF NEW.name = 'deadlock' AND nextval('inject_40p01') <= 1 THEN
    RAISE EXCEPTION 'injected deadlock' USING ERRCODE = '40P01';
  END IF;
  IF NEW.name = 'lost' AND nextval('inject_lost') <= 1 THEN
    PERFORM pg_terminate_backend(pg_backend_pid());
    PERFORM pg_sleep(5);
  END IF;
  IF NEW.name = 'slow' THEN
    PERFORM pg_sleep(3);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER inject BEFORE INSERT ON providers FOR EACH ROW EXECUTE FUNCTION inject();
"""


def promtool_clean(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    return r.returncode == 0, (r.stdout + r.stderr)[:500]


def moved(before, after, name):
    return after.get(name, 0) - before.get(name, 0)


def pg_metrics(binary, tmp, pg):
    uri = pg.create_db("ops")
    node = Node(binary, tmp, uri, "ops", ["--db-connections", "1"])
    if not check(node.ready, "a node with --db-connections 1 starts"):
        node.stop()
        print(node.log[-2000:])
        return
    try:
        pg_metrics_steps(node, pg)
    finally:
        node.stop()
        check(stopped_cleanly(node.rc, node.log), f"ops node stops cleanly (exit {node.rc})",
              node.log[-1500:])


def create(node, name):
    return node.call("/resource_providers", "POST", {"name": name, "uuid": str(uuid.uuid4())})


def pg_metrics_steps(node, pg):
    _, _, raw = http_call(f"http://127.0.0.1:{node.mport}/metrics", timeout=30)
    ok, why = promtool_clean(raw.decode())
    check(ok, "promtool check metrics accepts the PostgreSQL node's metrics " + why)
    m0 = node.metrics()
    retries = 'placid_db_retries_total{reason="%s"}'
    check(m0.get("placid_db_pool_size") == 1 and m0.get("placid_db_pool_open") == 1
          and m0.get("placid_db_pool_in_use") == 0,
          "pool gauges: size 1, open 1, in use 0 " + str(
              [m0.get("placid_db_pool_" + k) for k in ("size", "open", "in_use")]))
    check(all(m0.get(retries % r) == 0
              for r in ("serialization_failure", "deadlock_detected", "connection_lost")),
          "retries by reason start at 0")
    rc, out = pg.sql("ops", INJECT)
    if not check(rc == 0, f"the failure-injecting trigger is installed ({out})"):
        return

    for name, reason, n in (("serialization", "serialization_failure", 2),
                            ("deadlock", "deadlock_detected", 1),
                            ("lost", "connection_lost", 1)):
        before = node.metrics()
        st, doc = create(node, name)
        after = node.metrics()
        check(st == 200, f"POST provider '{name}' succeeds after its retries ({st})", doc)
        check(moved(before, after, retries % reason) == n,
              f"placid_db_retries_total{{reason=\"{reason}\"}} moved by {n} "
              f"({moved(before, after, retries % reason)})")
    check(moved(m0, after, "placid_db_reconnects_total") >= 1,
          "the terminated backend's connection was re-established: reconnects moved")
    st, doc = node.call("/resource_providers?name=lost")
    check(st == 200 and len(doc.get("resource_providers", [])) == 1,
          "the provider whose first attempt lost its connection exists once")

    # The one connection held 3 s by a slow insert: a read waits for it.
    before = node.metrics()
    slow = threading.Thread(target=create, args=(node, "slow"))
    slow.start()
    end = time.time() + 10
    while time.time() < end:
        during = node.metrics()
        if during.get("placid_db_pool_in_use") == 1:
            break
        time.sleep(0.05)
    check(during.get("placid_db_pool_in_use") == 1, "in use: 1 while the slow write runs")
    st, _ = node.call("/resource_providers")
    slow.join()
    after = node.metrics()
    check(st == 200, "a read while the one connection is busy waits, then succeeds")
    check(moved(before, after, "placid_db_pool_waits_total") >= 1 and
          moved(before, after, "placid_db_pool_wait_seconds_total") >= 0.5,
          "pool waits and wait seconds moved (%s, %.2f s)" % (
              moved(before, after, "placid_db_pool_waits_total"),
              moved(before, after, "placid_db_pool_wait_seconds_total")))
    check(after.get("placid_db_pool_in_use") == 0, "in use: 0 afterwards")

    # Restarted while idle: the next request reconnects and succeeds.
    before = node.metrics()
    r = pg.pg("restart", pg.dir)
    check(r.returncode == 0, f"PostgreSQL restarted ({r.stderr.strip()[-200:]})")
    st, _ = node.call("/resource_providers")
    after = node.metrics()
    check(st == 200, f"the first request after the restart succeeds ({st})")
    check(moved(before, after, "placid_db_reconnects_total") >= 1,
          "placid_db_reconnects_total moved after the restart")

    # Stopped: 503 with Retry-After, counted; back: served again.
    before = node.metrics()
    r = pg.pg("stop", pg.dir)
    check(r.returncode == 0, "PostgreSQL stopped")
    answers = []
    for _ in range(3):
        st, hdrs, _ = http_call(node.url + "/resource_providers", "GET", H, timeout=60)
        answers.append((st, hdrs.get("Retry-After")))
    during = node.metrics()
    check(all(st == 503 and ra for st, ra in answers),
          f"requests while PostgreSQL is down: 503 with Retry-After ({answers})")
    check(moved(before, during, "placid_db_unavailable_total") == len(answers),
          "placid_db_unavailable_total counts each of them (%s)" %
          moved(before, during, "placid_db_unavailable_total"))
    check(moved(before, during, "placid_db_connect_failures_total") >= 1,
          "placid_db_connect_failures_total moved")
    r = pg.pg("start", pg.dir)
    check(r.returncode == 0, "PostgreSQL started again")
    end, st = time.time() + 30, None
    while time.time() < end:
        st, _ = node.call("/resource_providers")
        if st == 200:
            break
        time.sleep(0.3)
    after = node.metrics()
    check(st == 200, "placid serves again without a restart")
    check(moved(during, after, "placid_db_reconnects_total") >= 1,
          "placid_db_reconnects_total moved when the database came back")
    _, _, raw = http_call(f"http://127.0.0.1:{node.mport}/metrics", timeout=30)
    ok, why = promtool_clean(raw.decode())
    check(ok, "promtool check metrics still accepts them " + why)


def main():
    binary = sys.argv[1]
    pg, rc = throwaway_for_test(check)
    if not pg:
        return rc
    try:
        tree_cache(binary, pg.top, pg)
        pg_metrics(binary, pg.top, pg)
    finally:
        pg.down()
    print(f"{'FAIL' if failures else 'ok'}: pg_ops, {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
