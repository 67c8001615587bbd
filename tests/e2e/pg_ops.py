#!/usr/bin/python3
"""Operating placid on PostgreSQL (issue 13), on a throwaway PostgreSQL 15:

1. --tree-cache-mb bounds each node's tree cache on PostgreSQL as on
   SQLite: over 4,000 providers (more than 1 MiB of trees), a node with 1 MB
   keeps at most 1 MiB and reuses it, a node with 0 keeps nothing, a node
   with the default keeps them all; and a cached tree is never stale: a
   claim through another node, and an inventory changed by another
   connection (psql), are seen by the caching node's next candidates query.

argv[1] is the placid binary. Exit 77 (skipped) when PostgreSQL cannot be
installed here, except under CI=true."""
import json
import os
import re
import subprocess
import sys
import uuid

from helpers.placid_e2e import check, failures, free_port, http_call, launch, stop
from helpers.placid_e2e import stopped_cleanly, wait_ready
from helpers.placid_pg import Throwaway, node_env

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


def main():
    binary = sys.argv[1]
    pg = Throwaway()
    if not pg.installable and os.environ.get("CI") != "true":
        print("skip PostgreSQL 15 cannot be installed here: " + pg.error)
        pg.down()
        return 77
    if not check(pg.ok, f"pg up starts a server ({pg.error[-300:]})"):
        pg.down()
        return 1
    try:
        tree_cache(binary, pg.top, pg)
    finally:
        pg.down()
    print(f"{'FAIL' if failures else 'ok'}: pg_ops, {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
