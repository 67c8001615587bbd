#!/usr/bin/python3
"""Packed ring end to end: hosts self-report COMPUTE_NET_VIRTIO_PACKED through
placid-agent, flavors and images become trait queries through
POST /placid/allocation_candidates (docs/packed-ring.md §2, §6, §7).

usage: packed_ring.py PLACID_BINARY PLACID_AGENT_BINARY

Starts placid on a free 127.0.0.1 port with a temporary database, reports
three hosts with placid-agent --once and stated versions:
  old    libvirt 6.2.0 / QEMU 4.2.0  -> no trait
  packed libvirt 6.3.0 / QEMU 4.2.0  -> trait
  numa   libvirt 8.0.0 / QEMU 6.2.0  -> trait; VCPU on the child numa-numa0
then runs the truth table and the acceptance cases through the scheduling
endpoint and checks the exact candidate sets and messages. Python 3 and
python3-requests only. Exits 1 on any failure."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import requests

from helpers.placid_e2e import Server, check, failures, free_port

PLACID, AGENT = sys.argv[1], sys.argv[2]
TRAIT = "COMPUTE_NET_VIRTIO_PACKED"


class Placid(Server):
    def __init__(self, tmp):
        super().__init__(PLACID, tmp)
        self.http = requests.Session()

    def call(self, method, path, body=None, mv="1.39", token="admin"):
        headers = {"X-Auth-Token": token, "Accept": "application/json",
                   "OpenStack-API-Version": f"placement {mv}"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        r = self.http.request(method, self.url + path, headers=headers, data=data, timeout=60)
        try:
            doc = r.json() if r.content else None
        except ValueError:
            doc = r.text
        return r.status_code, doc


def detail(doc):
    """The error detail's last line, as osc shows it."""
    try:
        return doc["errors"][0]["detail"].strip().splitlines()[-1].strip()
    except (KeyError, IndexError, TypeError, AttributeError):
        return None


class Agent:
    def __init__(self, tmp, placid):
        self.tmp, self.placid = tmp, placid

    def run(self, name, *extra, libvirt=None, qemu=None, url=None, token="admin"):
        args = [AGENT, "--once", "--url", url or self.placid.url, "--token", token,
                "--name", name, "--state-file", os.path.join(self.tmp, name + ".state"),
                "--disk-path", self.tmp, "--vcpus", "8", "--memory-mb", "4096",
                "--disk-gb", "100", "--reserved-host-memory-mb", "0", "--retry-timeout", "5"]
        if libvirt:
            args += ["--libvirt-version", libvirt]
        if qemu:
            args += ["--qemu-version", qemu]
        return subprocess.run(args + list(extra), capture_output=True, text=True, timeout=60)


def providers(placid):
    st, doc = placid.call("GET", "/resource_providers", mv="1.14")
    assert st == 200, doc
    return {p["uuid"]: p for p in doc["resource_providers"]}


def provider_traits(placid, uuid):
    st, doc = placid.call("GET", f"/resource_providers/{uuid}/traits", mv="1.6")
    assert st == 200, doc
    return set(doc["traits"]), doc["resource_provider_generation"]


FLAVOR = {"vcpus": 1, "memory_mb": 512, "root_gb": 10}


def schedule(placid, specs=None, props=None, flavor=None, token="admin", limit=None):
    body = {"flavor": dict(flavor or FLAVOR, extra_specs=specs or {})}
    if props is not None:
        body["image"] = {"properties": props}
    if limit is not None:
        body["limit"] = limit
    return placid.call("POST", "/placid/allocation_candidates", body, mv="latest", token=token)


def candidate_set(doc, names):
    """Each candidate as a frozenset of (provider name, class, amount)."""
    out = set()
    for ar in doc["allocation_requests"]:
        items = set()
        for uuid, alloc in ar["allocations"].items():
            for rc, n in alloc["resources"].items():
                items.add((names.get(uuid, uuid), rc, n))
        out.add(frozenset(items))
    return out


def cand(*triples):
    return frozenset(triples)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        placid = Placid(tmp)
        try:
            run_all(tmp, placid)
        finally:
            placid.stop()
        with open(os.path.join(tmp, "placid.log")) as f:
            log = f.read()
        check("Sanitizer" not in log and "runtime error" not in log,
              "placid's log holds no sanitizer report", log[-3000:])
    print(f"{'FAILED' if failures else 'passed'}: {len(failures)} failure(s)")
    return 1 if failures else 0


def report_hosts(tmp, placid, agent):
    for name, lv, qv, extra in (("old", "6.2.0", "4.2.0", ()),
                                ("packed", "6.3.0", "4.2.0", ()),
                                ("numa", "8.0.0", "6.2.0", ("--numa-child",))):
        res = agent.run(name, *extra, libvirt=lv, qemu=qv)
        check(res.returncode == 0, f"agent reports {name} (libvirt {lv}, QEMU {qv})",
              res.stderr)
    res = agent.run("old", libvirt="6.2.0", qemu="4.2.0")
    check("not reporting COMPUTE_NET_VIRTIO_PACKED: libvirt 6.2.0 < 6.3.0" in res.stderr,
          "agent says in one log line why the old host gets no trait", res.stderr)

    rps = providers(placid)
    byname = {p["name"]: u for u, p in rps.items()}
    check(set(byname) == {"old", "packed", "numa", "numa-numa0"},
          "four providers: three roots and the NUMA child", sorted(byname))
    if set(byname) != {"old", "packed", "numa", "numa-numa0"}:
        return None
    check(rps[byname["numa-numa0"]]["parent_provider_uuid"] == byname["numa"],
          "numa-numa0 is a child of numa")
    expect_traits = {"old": {"COMPUTE_NODE"}, "packed": {"COMPUTE_NODE", TRAIT},
                     "numa": {"COMPUTE_NODE", TRAIT}, "numa-numa0": set()}
    for name, want in expect_traits.items():
        got, _ = provider_traits(placid, byname[name])
        check(got == want, f"traits of {name}: {sorted(want)}", sorted(got))
    st, inv = placid.call("GET", f"/resource_providers/{byname['numa-numa0']}/inventories")
    check(st == 200 and set(inv["inventories"]) == {"VCPU"}, "the NUMA child holds the VCPU",
          inv)
    st, inv = placid.call("GET", f"/resource_providers/{byname['numa']}/inventories")
    check(st == 200 and set(inv["inventories"]) == {"MEMORY_MB", "DISK_GB"},
          "the numa root holds MEMORY_MB and DISK_GB", inv)
    st, inv = placid.call("GET", f"/resource_providers/{byname['packed']}/inventories")
    vcpu = inv.get("inventories", {}).get("VCPU", {}) if st == 200 else {}
    check(vcpu.get("total") == 8 and vcpu.get("allocation_ratio") == 4.0
          and vcpu.get("max_unit") == 8,
          "VCPU inventory: stated total, nova's default ratio 4.0", inv)
    return byname


def run_all(tmp, placid):
    agent = Agent(tmp, placid)
    byname = report_hosts(tmp, placid, agent)
    if byname is None:
        return
    names = {u: n for n, u in byname.items()}

    old = cand(("old", "VCPU", 1), ("old", "MEMORY_MB", 512), ("old", "DISK_GB", 10))
    packed = cand(("packed", "VCPU", 1), ("packed", "MEMORY_MB", 512), ("packed", "DISK_GB", 10))
    numa = cand(("numa-numa0", "VCPU", 1), ("numa", "MEMORY_MB", 512), ("numa", "DISK_GB", 10))
    everyone, packed_only = {old, packed, numa}, {packed, numa}

    def expect(what, specs, props, want, query=None):
        st, doc = schedule(placid, specs, props)
        ok = check(st == 200, f"{what}: 200", doc)
        if ok:
            got = candidate_set(doc, names)
            check(got == want, f"{what}: candidates {sorted(sorted(c) for c in want)}",
                  sorted(sorted(c) for c in got))
            if query is not None:
                check(doc.get("query") == query, f"{what}: query {query}", doc.get("query"))
        return doc

    def expect_400(what, specs, props, message):
        st, doc = schedule(placid, specs, props)
        check(st == 400 and detail(doc) == message, f"{what}: 400 {message}", (st, doc))

    base_q = "limit=1000&resources=DISK_GB%3A10%2CMEMORY_MB%3A512%2CVCPU%3A1"
    conflict = ("Flavor has hw:virtio_packed_ring extra spec explicitly set to {}, conflicting "
                "with image which has hw_virtio_packed_ring explicitly set to {}.")

    # The truth table of packed-ring.md §2 (flavor extra spec x image property).
    expect("unset/unset", {}, None, everyone,
           base_q + "&root_required=%21COMPUTE_STATUS_DISABLED")
    expect("flavor true/image unset", {"hw:virtio_packed_ring": "true"}, None, packed_only,
           base_q + "&root_required=COMPUTE_NET_VIRTIO_PACKED%2C%21COMPUTE_STATUS_DISABLED")
    expect("flavor unset/image true", {}, {"hw_virtio_packed_ring": "True"}, packed_only)
    expect("flavor yes/image true", {"hw:virtio_packed_ring": "yes"},
           {"hw_virtio_packed_ring": "true"}, packed_only)
    expect("flavor True/image true (case-insensitive, bug 2085124)",
           {"hw:virtio_packed_ring": "True"}, {"hw_virtio_packed_ring": "true"}, packed_only)
    expect("flavor false/image unset", {"hw:virtio_packed_ring": "false"}, None, everyone,
           base_q + "&root_required=%21COMPUTE_STATUS_DISABLED")
    expect("flavor no/image false", {"hw:virtio_packed_ring": "no"},
           {"hw_virtio_packed_ring": "false"}, everyone)
    expect("flavor unset/image false", {}, {"hw_virtio_packed_ring": "0"}, everyone)
    expect_400("flavor true/image false", {"hw:virtio_packed_ring": "yes"},
               {"hw_virtio_packed_ring": "false"}, conflict.format("True", "False"))
    expect_400("flavor false/image true", {"hw:virtio_packed_ring": "no"},
               {"hw_virtio_packed_ring": "True"}, conflict.format("False", "True"))
    expect("image value read leniently", {}, {"hw_virtio_packed_ring": "maybe"}, everyone)
    expect_400("flavor value must be a strict boolean", {"hw:virtio_packed_ring": "maybe"},
               None, "Invalid flavor extra spec 'hw:virtio_packed_ring': Validation failed; "
               "'maybe' is not a valid boolean-like value.")

    # Acceptance cases of packed-ring.md §6.
    expect("case 1: packed ring -> root_required (the child may give the VCPU)",
           {"hw:virtio_packed_ring": "true"}, None, packed_only)
    expect("case 2: no packed ring -> every host", {}, {}, everyone)
    expect_400("case 3: flavor/image conflict rejected before any query",
               {"hw:virtio_packed_ring": "true"}, {"hw_virtio_packed_ring": "false"},
               conflict.format("True", "False"))
    expect("case 4: trait forbidden -> only the host without it",
           {f"trait:{TRAIT}": "forbidden"}, None, {old},
           "limit=1000&required=%21COMPUTE_NET_VIRTIO_PACKED&resources=DISK_GB%3A10%2C"
           "MEMORY_MB%3A512%2CVCPU%3A1&root_required=%21COMPUTE_STATUS_DISABLED")
    vcpu_only = {"resources:MEMORY_MB": "0", "resources:DISK_GB": "0"}
    expect("case 5: required= (not root_required) with VCPU only -> only packed",
           dict(vcpu_only, **{f"trait:{TRAIT}": "required"}), None,
           {cand(("packed", "VCPU", 1))},
           "limit=1000&required=COMPUTE_NET_VIRTIO_PACKED&resources=VCPU%3A1"
           "&root_required=%21COMPUTE_STATUS_DISABLED")
    expect("case 5: root_required with VCPU only -> packed and the NUMA child",
           dict(vcpu_only, **{"hw:virtio_packed_ring": "true"}), None,
           {cand(("packed", "VCPU", 1)), cand(("numa-numa0", "VCPU", 1))})
    doc = expect("case 6: required=!T with root_required=T -> no candidates",
                 {f"trait:{TRAIT}": "forbidden", "hw:virtio_packed_ring": "true"}, None, set())
    if isinstance(doc, dict):
        check(doc.get("provider_summaries") == {}, "case 6: empty provider_summaries", doc)
    st, doc = placid.call("GET", "/allocation_candidates?resources=VCPU:1,MEMORY_MB:512"
                          f"&root_required={TRAIT},!{TRAIT}")
    check(st == 400 and detail(doc) ==
          f"Conflicting required and forbidden traits found in root_required: {TRAIT}",
          "case 6: root_required=T,!T is 400", doc)
    st, doc = placid.call("GET", "/allocation_candidates?resources=VCPU:1,MEMORY_MB:512"
                          f"&required={TRAIT},!{TRAIT}")
    check(st == 400 and "Conflicting required and forbidden traits" in (detail(doc) or ""),
          "case 6: required=T,!T is 400", doc)
    st, doc = schedule(placid, {f"trait:{TRAIT}": "forbidden"},
                       {f"trait:{TRAIT}": "required"})
    check(st == 400 and (detail(doc) or "").startswith(
        "Conflicting required and forbidden traits found in the following traits keys: "
        f"required: ({TRAIT})") and "derived from the flavor and image" in detail(doc),
        "image requires what the flavor forbids: placement's 400, naming the derived query",
        doc)

    # Image traits and the remaining translation rules.
    expect("image trait:T=required", {}, {f"trait:{TRAIT}": "required"},
           {cand(("packed", "VCPU", 1), ("packed", "MEMORY_MB", 512), ("packed", "DISK_GB", 10)),
            numa})
    expect("image trait:T=forbidden is ignored", {}, {f"trait:{TRAIT}": "forbidden"}, everyone)
    expect("flavor trait value other than required/forbidden is ignored",
           {f"trait:{TRAIT}": "yes"}, None, everyone)
    expect("granular groups with group_policy=isolate",
           {"resources1:VCPU": "1", "resources2:MEMORY_MB": "512", "resources:DISK_GB": "0",
            "group_policy": "isolate"}, None,
           {cand(("numa-numa0", "VCPU", 1), ("numa", "MEMORY_MB", 512))},
           "group_policy=isolate&limit=1000&resources1=VCPU%3A1&resources2=MEMORY_MB%3A512"
           "&root_required=%21COMPUTE_STATUS_DISABLED")
    st, doc = schedule(placid, limit=1)
    check(st == 200 and len(doc["allocation_requests"]) == 1 and doc["query"].startswith(
        "limit=1&"), "limit is passed through", doc)

    # Bad input.
    expect_400("unknown trait", {"trait:CUSTOM_NOPE": "required"}, None,
               "Invalid flavor extra spec 'trait:CUSTOM_NOPE': No such trait(s): CUSTOM_NOPE.")
    expect_400("unknown image trait", {}, {"trait:CUSTOM_NOPE": "required"},
               "Invalid image property 'trait:CUSTOM_NOPE': No such trait(s): CUSTOM_NOPE.")
    expect_400("unknown resource class", {"resources:CUSTOM_NOPE": "1"}, None,
               "Invalid flavor extra spec 'resources:CUSTOM_NOPE': No such resource class "
               "CUSTOM_NOPE.")
    expect_400("negative amount", {"resources:VCPU": "-1"}, None,
               "Invalid flavor extra spec 'resources:VCPU': Resource amounts must be "
               "nonnegative integers. Received '-1'.")
    st, doc = schedule(placid, flavor={"vcpus": -1, "memory_mb": 512})
    check(st == 400 and "flavor.vcpus" in (detail(doc) or ""), "negative flavor vcpus: 400", doc)
    st, doc = placid.call("POST", "/placid/allocation_candidates", {"image": {}}, mv="latest")
    check(st == 400 and "'flavor' is a required property" in (detail(doc) or ""),
          "missing flavor: 400", doc)
    st, doc = schedule(placid, token="someone")
    check(st == 403, "the scheduling endpoint is admin only", doc)

    # COMPUTE_STATUS_DISABLED on a root takes that host out, as nova's
    # compute_status_filter wants.
    traits, gen = provider_traits(placid, byname["old"])
    st, _ = placid.call("PUT", f"/resource_providers/{byname['old']}/traits",
                        {"traits": sorted(traits | {"COMPUTE_STATUS_DISABLED"}),
                         "resource_provider_generation": gen}, mv="1.6")
    check(st == 200, "disable the old host")
    expect("a disabled host is never a candidate", {}, None, {packed, numa})

    check_agent_lifecycle(placid, agent, byname)


def check_agent_lifecycle(placid, agent, byname):
    before = set(providers(placid))
    res = agent.run("packed", libvirt="6.3.0", qemu="4.2.0")
    check(res.returncode == 0 and set(providers(placid)) == before,
          "a restarted agent reuses its provider (same uuid, no new provider)", res.stderr)

    st, _ = placid.call("PUT", "/traits/CUSTOM_OPERATOR_TAG", mv="1.6")
    traits, gen = provider_traits(placid, byname["packed"])
    st, _ = placid.call("PUT", f"/resource_providers/{byname['packed']}/traits",
                        {"traits": sorted(traits | {"CUSTOM_OPERATOR_TAG"}),
                         "resource_provider_generation": gen}, mv="1.6")
    check(st == 200, "operator adds CUSTOM_OPERATOR_TAG to packed")
    res = agent.run("packed", libvirt="6.3.0", qemu="4.2.0")
    traits, _ = provider_traits(placid, byname["packed"])
    check(res.returncode == 0 and traits == {"COMPUTE_NODE", TRAIT, "CUSTOM_OPERATOR_TAG"},
          "the operator's CUSTOM_ trait survives an agent report", sorted(traits))
    res = agent.run("packed", libvirt="6.2.9", qemu="4.2.0")
    traits, _ = provider_traits(placid, byname["packed"])
    check(res.returncode == 0 and traits == {"COMPUTE_NODE", "CUSTOM_OPERATOR_TAG"},
          "after a libvirt downgrade the agent removes only its own trait", sorted(traits))
    res = agent.run("packed", libvirt="6.3.0", qemu="4.2.0")
    traits, _ = provider_traits(placid, byname["packed"])
    check(TRAIT in traits and "CUSTOM_OPERATOR_TAG" in traits, "and adds it back after upgrade")

    # Concurrent reports of one provider flip the trait back and forth: every
    # write races on the provider generation, so 409s and re-reads happen.
    # All must succeed, and the operator's trait must survive.
    state = os.path.join(agent.tmp, "packed.state")
    procs = []
    for i in range(6):
        copy = os.path.join(agent.tmp, f"race{i}.state")
        with open(state) as src, open(copy, "w") as dst:
            dst.write(src.read())
        lv = "6.3.0" if i % 2 else "6.2.0"
        procs.append(subprocess.Popen(
            [AGENT, "--once", "--url", placid.url, "--name", "packed", "--state-file", copy,
             "--disk-path", agent.tmp, "--vcpus", "8", "--memory-mb", "4096", "--disk-gb", "100",
             "--reserved-host-memory-mb", "0", "--libvirt-version", lv, "--qemu-version", "4.2.0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    errs = [p.communicate(timeout=60)[1] for p in procs]
    rereads = sum(e.count("provider generation changed") for e in errs)
    check(all(p.returncode == 0 for p in procs),
          f"concurrent reports all succeed ({rereads} re-reads after a 409)",
          [e for p, e in zip(procs, errs) if p.returncode])
    res = agent.run("packed", libvirt="6.3.0", qemu="4.2.0")
    traits, _ = provider_traits(placid, byname["packed"])
    check(res.returncode == 0 and traits == {"COMPUTE_NODE", TRAIT, "CUSTOM_OPERATOR_TAG"},
          "after the race: the agent's traits and the operator's", sorted(traits))

    # Turning --numa-child off folds the VCPU back into the root.
    res = agent.run("numa", libvirt="8.0.0", qemu="6.2.0")
    rps = providers(placid)
    st, inv = placid.call("GET", f"/resource_providers/{byname['numa']}/inventories")
    check(res.returncode == 0 and byname["numa-numa0"] not in rps and st == 200
          and set(inv["inventories"]) == {"VCPU", "MEMORY_MB", "DISK_GB"},
          "without --numa-child the child is removed and the root holds the VCPU",
          (res.stderr, inv))

    # Without --once the agent loops; SIGTERM (to its PID) stops it cleanly.
    loop = subprocess.Popen(
        [AGENT, "--url", placid.url, "--name", "looper", "--interval", "1",
         "--state-file", os.path.join(agent.tmp, "looper.state"), "--disk-path", agent.tmp,
         "--libvirt-version", "6.3.0", "--qemu-version", "4.2.0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen, end = False, time.time() + 20
    while not seen and time.time() < end and loop.poll() is None:
        seen = "looper" in {p["name"] for p in providers(placid).values()}
        time.sleep(0.1)
    time.sleep(1.5)  # at least one more period
    os.kill(loop.pid, signal.SIGTERM)
    try:
        _, err = loop.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(loop.pid, signal.SIGKILL)
        _, err = loop.communicate()
    check(seen and loop.returncode == 0 and "stopping" in err,
          "periodic mode reports, then stops on SIGTERM with exit 0", err[-1500:])

    res = agent.run("packed", "--interval", "0")
    check(res.returncode == 2 and "--interval" in res.stderr, "invalid flag: exit 2", res.stderr)
    res = agent.run("intruder", libvirt="6.3.0", qemu="4.2.0", token="not-admin")
    check(res.returncode == 3 and "rejected the token" in res.stderr,
          "rejected token: clear error, exit 3", res.stderr)
    res = agent.run("lost", "--retry-timeout", "1", url=f"http://127.0.0.1:{free_port()}")
    check(res.returncode == 1 and "unreachable" in res.stderr,
          "unreachable placid: retries, then exit 1", res.stderr)
    # A fresh state file means a fresh uuid, but the name is taken.
    res = subprocess.run([AGENT, "--once", "--url", placid.url, "--name", "packed",
                          "--state-file", os.path.join(agent.tmp, "clash.state"),
                          "--disk-path", agent.tmp], capture_output=True, text=True, timeout=60)
    check(res.returncode == 1 and "belongs to another provider" in res.stderr,
          "a name taken by another uuid is an error (as in nova)", res.stderr)


if __name__ == "__main__":
    sys.exit(main())
