#!/usr/bin/python3
"""A mixed concurrent read/write load stays correct (and, under the
ThreadSanitizer build of tests/run, race-free).

usage: mixed_load.py PLACID_BINARY [PLACID_AGENT_BINARY]
Environment: MIXED_LOAD_SECONDS (default 6).

Starts placid (4 workers) on a free 127.0.0.1 port with a fresh database:
12 compute nodes (VCPU, MEMORY_MB, DISK_GB; every third with a NUMA child
holding the VCPU), a trait and an aggregate on some. Then 8 client threads
run for MIXED_LOAD_SECONDS: allocation-candidate queries of several forms
(the shared tree cache), provider lists, usages, claims and releases of
consumers, inventory updates and trait and aggregate changes (generation
conflicts are expected: 409). Every answer must be 2xx, 404/409 where a
race makes them legitimate, or 503 with Retry-After; never another 4xx/5xx
or a dropped connection. At the end the usages must equal the allocations
that were written and not released, the server must exit 0 on SIGTERM, and
its log must hold no sanitizer report. Prints ok/FAIL lines; exits 1 on any
failure."""
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import requests

from helpers.placid_e2e import check, failures, free_port, launch

PLACID = sys.argv[1]
SECONDS = float(os.environ.get("MIXED_LOAD_SECONDS", "6"))
THREADS = 8
HOSTS = 12
H = {"X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.39",
     "Accept": "application/json"}
AGG = "a99a99a9-0000-4000-8000-000000000001"
MARKS = ("ERROR: AddressSanitizer", "LeakSanitizer", "runtime error:",
         "WARNING: ThreadSanitizer", "ThreadSanitizer:")


def setup(url):
    s = requests.Session()
    roots = []
    assert s.put(f"{url}/traits/CUSTOM_MIXED", headers=H).status_code == 201
    for i in range(HOSTS):
        rp = str(uuid.uuid4())
        r = s.post(f"{url}/resource_providers", headers=H, json={"name": f"cn{i}", "uuid": rp})
        assert r.status_code == 200, r.text
        inv = {"MEMORY_MB": {"total": 65536}, "DISK_GB": {"total": 2000}}
        if i % 3:
            inv["VCPU"] = {"total": 64}
        else:
            child = str(uuid.uuid4())
            r = s.post(f"{url}/resource_providers", headers=H,
                       json={"name": f"cn{i}-numa0", "uuid": child, "parent_provider_uuid": rp})
            assert r.status_code == 200, r.text
            r = s.put(f"{url}/resource_providers/{child}/inventories", headers=H,
                      json={"resource_provider_generation": 0,
                            "inventories": {"VCPU": {"total": 64}}})
            assert r.status_code == 200, r.text
        r = s.put(f"{url}/resource_providers/{rp}/inventories", headers=H,
                  json={"resource_provider_generation": 0, "inventories": inv})
        assert r.status_code == 200, r.text
        roots.append(rp)
    return roots


class Load:
    def __init__(self, url, roots):
        self.url, self.roots = url, roots
        self.lock = threading.Lock()
        self.live = {}          # consumer -> (rp, vcpu) claimed and not released
        self.statuses = {}
        self.bad = []
        self.stop = time.monotonic() + SECONDS

    def note(self, r, ok):
        with self.lock:
            key = f"{r.request.method} {r.status_code}"
            self.statuses[key] = self.statuses.get(key, 0) + 1
            fine = r.status_code in ok or (r.status_code == 503 and "Retry-After" in r.headers)
            if not fine and len(self.bad) < 10:
                self.bad.append(f"{r.request.method} {r.request.url[:120]} -> {r.status_code} "
                                f"{r.text[:200]}")
        return r

    def read(self, s, rnd):
        q = rnd.choice([
            "resources=VCPU:1,MEMORY_MB:512",
            "resources=VCPU:2&limit=3",
            "resources=VCPU:1&required=CUSTOM_MIXED",
            f"resources=DISK_GB:10&member_of={AGG}",
            "resources1=VCPU:1&resources2=MEMORY_MB:1024&group_policy=none&limit=5",
            "resources=VCPU:1&root_required=!CUSTOM_MIXED",
        ])
        which = rnd.random()
        if which < 0.6:
            self.note(s.get(f"{self.url}/allocation_candidates?{q}", headers=H), (200,))
        elif which < 0.8:
            self.note(s.get(f"{self.url}/resource_providers?resources=VCPU:1", headers=H), (200,))
        else:
            self.note(s.get(f"{self.url}/usages?project_id=mixed", headers=H), (200,))

    def claim(self, s, rnd):
        rp = rnd.choice(self.roots)
        consumer = str(uuid.uuid4())
        body = {"allocations": {rp: {"resources": {"MEMORY_MB": 256, "DISK_GB": 1}}},
                "project_id": "mixed", "user_id": "mixed", "consumer_generation": None,
                "consumer_type": "INSTANCE"}
        r = self.note(s.put(f"{self.url}/allocations/{consumer}", headers=H, json=body),
                      (204, 409))
        if r.status_code == 204:
            with self.lock:
                self.live[consumer] = rp

    def release(self, s, rnd):
        with self.lock:
            if not self.live:
                return
            consumer = rnd.choice(list(self.live))
            del self.live[consumer]
        r = self.note(s.delete(f"{self.url}/allocations/{consumer}", headers=H), (204,))
        if r.status_code != 204:
            with self.lock:
                self.live[consumer] = "unknown"

    def change_provider(self, s, rnd):
        rp = rnd.choice(self.roots)
        r = self.note(s.get(f"{self.url}/resource_providers/{rp}/traits", headers=H), (200,))
        if r.status_code != 200:
            return
        gen = r.json()["resource_provider_generation"]
        if rnd.random() < 0.5:
            traits = [] if r.json()["traits"] else ["CUSTOM_MIXED"]
            self.note(s.put(f"{self.url}/resource_providers/{rp}/traits", headers=H,
                            json={"traits": traits, "resource_provider_generation": gen}),
                      (200, 409))
        elif rnd.random() < 0.5:
            aggs = [AGG] if rnd.random() < 0.5 else []
            self.note(s.put(f"{self.url}/resource_providers/{rp}/aggregates", headers=H,
                            json={"aggregates": aggs, "resource_provider_generation": gen}),
                      (200, 409))
        else:
            total = rnd.choice([60000, 65536, 70000])
            self.note(s.put(f"{self.url}/resource_providers/{rp}/inventories/MEMORY_MB",
                            headers=H, json={"total": total,
                                             "resource_provider_generation": gen}),
                      (200, 409))

    def worker(self, seed):
        rnd = random.Random(seed)
        s = requests.Session()
        steps = [self.read] * 5 + [self.claim] * 2 + [self.release, self.change_provider]
        while time.monotonic() < self.stop:
            try:
                rnd.choice(steps)(s, rnd)
            except requests.RequestException as e:
                with self.lock:
                    self.bad.append(f"connection: {e}")
                return


def usages_match(url, load):
    s = requests.Session()
    want = {rp: 0 for rp in load.roots}
    for consumer, rp in load.live.items():
        if rp in want:
            want[rp] += 256
    got = {}
    for rp in load.roots:
        r = s.get(f"{url}/resource_providers/{rp}/usages", headers=H)
        got[rp] = r.json()["usages"].get("MEMORY_MB", 0)
    return got == want, (got, want)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        logpath = os.path.join(tmp, "placid.log")
        log = open(logpath, "w")
        # launch(): tmp/mixed.db, or a fresh PostgreSQL database under
        # PLACID_E2E_DB=postgresql (helpers/placid_e2e.py).
        proc = launch(PLACID, port, os.path.join(tmp, "mixed.db"),
                      ["--threads", "4", "--log-level", "warn"],
                      stdout=log, stderr=subprocess.STDOUT)
        try:
            end = time.time() + 30
            while time.time() < end and proc.poll() is None:
                try:
                    requests.get(url + "/", timeout=1)
                    break
                except requests.RequestException:
                    time.sleep(0.05)
            roots = setup(url)
            load = Load(url, roots)
            threads = [threading.Thread(target=load.worker, args=(i,)) for i in range(THREADS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            total = sum(load.statuses.values())
            check(not load.bad, f"{total} mixed requests from {THREADS} threads in {SECONDS:.0f} s: "
                  f"only expected statuses ({dict(sorted(load.statuses.items()))})", load.bad)
            check(proc.poll() is None, "placid is still running")
            if proc.poll() is None:
                same, detail = usages_match(url, load)
                check(same, "usages equal the allocations written and not released", detail)
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                code = proc.wait()
            log.close()
        check(code == 0, f"placid exits 0 on SIGTERM (got {code})")
        with open(logpath, errors="replace") as f:
            text = f.read()
        check(not any(m in text for m in MARKS), "no sanitizer report in placid's log",
              text[-3000:])
    print(f"mixed_load: {'FAIL' if failures else 'ok'} ({len(failures)} failures)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
