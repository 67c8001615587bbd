#!/usr/bin/python3
"""Request groups are found by suffix in linear time and capped (issue 14,
items 4 and 6).

usage: request_groups.py PLACID_BINARY [PLACID_AGENT_BINARY]

Starts placid on a free 127.0.0.1 port with a temporary database and one
provider holding 1,000 CUSTOM_X, then:
  - POST /placid/allocation_candidates with 8,000 resourcesN extra specs
    answers 400 naming the limit, quickly (it took 4.5 s before);
  - 255 numbered groups plus the unsuffixed one are translated and
    answered (one candidate taking 255 CUSTOM_X);
  - GET /allocation_candidates with 150 groups is answered (the query size
    limit stops a GET before the cap: tests/api checks the GET's cap).
The time bounds are generous (an ASan build on a loaded machine): they
catch quadratic work, not a slow machine. Python 3 and python3-requests
only; prints ok/FAIL lines and exits 1 on any failure."""
import json
import os
import sys
import tempfile
import time

import requests

from helpers.placid_e2e import Server, check, failures, free_port

PLACID = sys.argv[1]
CAP = 256
RP = "b2b2b2b2-0000-4000-8000-000000000001"


class Placid(Server):
    def __init__(self, tmp):
        super().__init__(PLACID, tmp)
        self.http = requests.Session()

    def call(self, method, path, body=None, mv="1.39"):
        headers = {"X-Auth-Token": "admin", "Accept": "application/json",
                   "OpenStack-API-Version": f"placement {mv}"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        start = time.monotonic()
        r = self.http.request(method, self.url + path, headers=headers, data=data, timeout=120)
        took = time.monotonic() - start
        try:
            doc = r.json() if r.content else None
        except ValueError:
            doc = r.text
        return r.status_code, doc, took


def detail(doc):
    try:
        return doc["errors"][0]["detail"]
    except (KeyError, IndexError, TypeError):
        return ""


def setup(placid):
    st, doc, _ = placid.call("PUT", "/resource_classes/CUSTOM_X")
    assert st in (201, 204), doc
    st, doc, _ = placid.call("POST", "/resource_providers", {"name": "groups", "uuid": RP})
    assert st == 200, doc
    st, doc, _ = placid.call("PUT", f"/resource_providers/{RP}/inventories", {
        "resource_provider_generation": 0,
        "inventories": {"CUSTOM_X": {"total": 1000, "max_unit": 1000}}})
    assert st == 200, doc


def schedule(placid, n_groups):
    specs = {f"resources{i}:CUSTOM_X": "1" for i in range(1, n_groups + 1)}
    specs["group_policy"] = "none"
    return placid.call("POST", "/placid/allocation_candidates",
                       {"flavor": {"vcpus": 0, "memory_mb": 0, "extra_specs": specs}})


def get_groups(placid, n_groups):
    q = "&".join(f"resources{i}=CUSTOM_X:1" for i in range(1, n_groups + 1))
    return placid.call("GET", "/allocation_candidates?group_policy=none&" + q)


def only_candidate_amount(doc):
    try:
        reqs = doc["allocation_requests"]
        if len(reqs) != 1:
            return None
        return reqs[0]["allocations"][RP]["resources"]["CUSTOM_X"]
    except (KeyError, TypeError):
        return None


def main():
    with tempfile.TemporaryDirectory() as tmp:
        placid = Placid(tmp)
        try:
            setup(placid)
            st, doc, took = schedule(placid, 8000)
            check(st == 400 and "too many request groups" in detail(doc)
                  and "at most 256" in detail(doc),
                  "8,000 resourcesN extra specs: 400 naming the limit", (st, doc))
            check(took < 3.0, f"8,000 resourcesN extra specs answered in {took:.2f} s (< 3 s)")

            st, doc, took = schedule(placid, CAP - 1)
            check(st == 200 and only_candidate_amount(doc) == CAP - 1,
                  f"{CAP - 1} numbered groups plus the unsuffixed one are scheduled", (st, doc))

            # The query size limit (414) stops a GET well before the cap; the
            # cap itself is checked through api_dispatch in
            # tests/api/test_allocation_candidates.c.
            st, doc, took = get_groups(placid, 150)
            check(st == 200 and only_candidate_amount(doc) == 150,
                  f"GET with 150 groups is answered ({took:.2f} s)", (st, doc))
        finally:
            code, _ = placid.stop()
        check(code == 0, "placid exits 0 on SIGTERM")
        with open(os.path.join(tmp, "placid.log")) as f:
            log = f.read()
        check(not any(m in log for m in ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                                         "ThreadSanitizer")),
              "no sanitizer report in placid's log", log[-1500:])
    print(f"request_groups: {'FAIL' if failures else 'ok'} ({len(failures)} failures)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
