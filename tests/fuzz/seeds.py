#!/usr/bin/python3
"""Writes the seed corpora of the libFuzzer harnesses (tests/fuzz/*.c) from
the requests of Placement's gabbi files, plus a few hand-written seeds for
the parsers gabbi does not reach (nova extra specs, --version outputs).

usage: seeds.py GABBITS_DIR OUT_DIR

OUT_DIR/<harness>/ gets one file per distinct seed. $ENVIRON[...] and the
other gabbi substitutions become the uuids and names of tests/fuzz/fuzz_env.h,
so the seeds reach the seeded database. python3-yaml only."""
import hashlib
import json
import os
import re
import sys

import yaml

ROOT = "f0000000-0000-4000-8000-000000000001"
CHILD = "f0000000-0000-4000-8000-000000000002"
AGG = "f0000000-0000-4000-8000-0000000000a1"
CONSUMER = "f0000000-0000-4000-8000-0000000000c1"
METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS")


def environ_value(name):
    if "AGG" in name:
        return AGG
    if "CONSUMER" in name or "INSTANCE" in name or "MIGRATION" in name:
        return CONSUMER
    if name.endswith("RES_CLASS") or name.startswith("CUSTOM"):
        return "CUSTOM_FUZZ"
    if "PROJECT" in name:
        return "fuzz-project"
    if "USER" in name:
        return "fuzz-user"
    if "NAME" in name:
        return "fuzz-rp"
    if "UUID" in name or name.startswith(("CN", "NUMA", "SS", "SHR", "PF", "ESN", "RP")):
        return CHILD if any(k in name for k in ("NUMA", "CHILD", "PF", "RIGHT", "2")) else ROOT
    return "fuzz"


def substitute(text):
    text = re.sub(r"\$ENVIRON\['([A-Z_0-9]+)'\]", lambda m: environ_value(m.group(1)), text)
    text = re.sub(r"\$(RESPONSE|HISTORY\[[^\]]*\]\.\$RESPONSE)\['[^']*'\]", ROOT, text)
    text = re.sub(r"\$(LAST_URL|LOCATION|URL)", "/resource_providers/" + ROOT, text)
    return text.replace("$SCHEME", "http").replace("$NETLOC", "placid.test")


def requests_of(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    defaults = (doc or {}).get("defaults") or {}
    for t in (doc or {}).get("tests") or []:
        method = next((m for m in METHODS if m in t), None)
        url = t.get(method) if method else t.get("url")
        method = method or t.get("method", "GET")
        if not isinstance(url, str):
            continue
        headers = dict(defaults.get("request_headers") or {})
        headers.update(t.get("request_headers") or {})
        version = str(headers.get("openstack-api-version", ""))
        data = t.get("data")
        if data is not None and not isinstance(data, str):
            data = json.dumps(data)
        yield method, substitute(url), substitute(version), substitute(data) if data else None


def version_value(header):
    """"placement 1.20" -> "1.20" (fuzz_env adds the service name)."""
    return header.split()[-1] if header.split()[:1] == ["placement"] else header


SCHED = [
    "hw:virtio_packed_ring=true",
    "resources:VCPU=0\nresources1:PCPU=2\nresources2:CUSTOM_FUZZ=1\ngroup_policy=isolate",
    "trait:COMPUTE_NODE=required\ntrait1:CUSTOM_MISSING=forbidden\nimage:trait:HW_CPU_X86_AVX2=required",
    "hw:cpu_policy=dedicated\nhw:cpu_thread_policy=isolate\nhw:emulator_threads_policy=isolate",
    "hw:cpu_policy=mixed\nhw:cpu_dedicated_mask=^0-1",
    "flavor 4 4096 10 5 1025\nhw:cpu_policy=mixed\nhw:cpu_realtime_mask=^0\nhw:cpu_realtime=yes",
    "image:hw_cpu_policy=dedicated\nimage:hw_virtio_packed_ring=no\nresources_a-b:VGPU=1",
    "resources1:DISK_GB=1_000\nresources:MEMORY_MB= +12 \ngroup_policy=none",
]
# The scheduling endpoint is placid's own: no gabbi file reaches it.
SCHED_BODIES = [
    {"flavor": {"vcpus": 2, "memory_mb": 2048, "root_gb": 20,
                "extra_specs": {"hw:virtio_packed_ring": "true"}}},
    {"flavor": {"vcpus": 4, "memory_mb": 512, "swap": 1025, "ephemeral_gb": 1,
                "extra_specs": {"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "^0-1",
                                "hw:emulator_threads_policy": "isolate"}},
     "image": {"properties": {"hw_cpu_realtime_mask": "^0", "trait:COMPUTE_NODE": "required"}},
     "limit": 5},
    {"flavor": {"vcpus": 1, "memory_mb": 1, "extra_specs": {
        "resources1:CUSTOM_FUZZ": "1", "resources2:VCPU": "1", "trait1:CUSTOM_FUZZ_TRAIT":
        "required", "trait2:COMPUTE_NODE": "forbidden", "group_policy": "isolate"}}},
]

AGENT = [
    "libvirtd (libvirt) 9.0.0", "9.0.0", "QEMU emulator version 7.2.15 (Debian 1:7.2+dfsg-7)",
    "virsh 6.3\n", "http://127.0.0.1:8778", "http://[::1]:8778/", "http://user@localhost:1",
    "gAAAAABk-token", "6.2.99999",
]


def main():
    gabbits, out = sys.argv[1], sys.argv[2]
    seeds = {name: set() for name in ("router", "microversion", "query", "body", "sched", "agent")}
    for name in sorted(os.listdir(gabbits)):
        if not name.endswith(".yaml"):
            continue
        for method, url, version, data in requests_of(os.path.join(gabbits, name)):
            seeds["router"].add(f"{method} {url}\n{version}")
            if version:
                seeds["microversion"].add(version)
            if method == "GET":
                seeds["query"].add(f"{url}\n{version_value(version)}")
            if data is not None or method in ("PUT", "POST", "PATCH"):
                seeds["body"].add(f"{method} {url}\n{version_value(version)}\n{data or ''}")
    for body in SCHED_BODIES:
        seeds["body"].add("POST /placid/allocation_candidates\n\n" + json.dumps(body))
    seeds["sched"].update(SCHED)
    seeds["agent"].update(AGENT)
    for harness, items in seeds.items():
        d = os.path.join(out, harness)
        os.makedirs(d, exist_ok=True)
        for item in items:
            raw = item.encode()
            with open(os.path.join(d, hashlib.sha1(raw).hexdigest()), "wb") as f:
                f.write(raw)
    print(" ".join(f"{h}={len(v)}" for h, v in seeds.items()))


if __name__ == "__main__":
    main()
