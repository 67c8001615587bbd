#!/usr/bin/python3
"""The layers of docs/architecture.md, checked on the tree and the binaries:
core/ includes no other layer, store/ sees neither HTTP nor api/, api/ never
names sqlite3 or libmicrohttpd, only server/ includes microhttpd.h, and
placid-agent does not link libmicrohttpd, the candidates solver files stay
free of SQLite, and every file docs/architecture.md names exists. argv[2] is the placid-agent binary."""
import os
import re
import subprocess
import sys

from helpers.placid_e2e import check, failures

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AGENT = sys.argv[2] if len(sys.argv) > 2 else None

# layer -> the project headers and system headers it must not include
RULES = {
    "core": (("server/", "store/", "api/", "agent/"),
             ("microhttpd.h", "sqlite3.h", "libpq-fe.h", "jansson.h")),
    "store": (("server/", "api/", "agent/"), ("microhttpd.h", "jansson.h")),
    "api": (("agent/",), ("microhttpd.h", "sqlite3.h", "libpq-fe.h")),
    "agent": (("server/", "store/", "api/"), ("microhttpd.h", "sqlite3.h", "libpq-fe.h")),
}
# The agent shares the Keystone v3 client with the server (api/keystone.c,
# compiled into placid-agent by agent/CMakeLists.txt): the one api/ header
# it may include.
ALLOWED = {("agent", "api/keystone.h")}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)


for layer, (dirs, system) in RULES.items():
    bad = []
    for name in sorted(os.listdir(os.path.join(ROOT, layer))):
        if not name.endswith((".c", ".h")):
            continue
        with open(os.path.join(ROOT, layer, name), encoding="utf-8") as f:
            for inc in INCLUDE.findall(f.read()):
                if (inc.startswith(dirs) or inc in system) and (layer, inc) not in ALLOWED:
                    bad.append(f"{layer}/{name}: {inc}")
    check(not bad, f"{layer}/ includes only what its layer may ({', '.join(bad) or 'none bad'})")

# The candidates solver (store/solver*.c) is pure: no SQLite, no store internals.
bad = []
for name in sorted(os.listdir(os.path.join(ROOT, "store"))):
    if name.startswith("solver") and name.endswith(".c"):
        with open(os.path.join(ROOT, "store", name), encoding="utf-8") as f:
            bad += [f"store/{name}: {inc}" for inc in INCLUDE.findall(f.read())
                    if inc in ("sqlite3.h", "store/internal.h")]
check(not bad, f"store/solver*.c include neither sqlite3.h nor store/internal.h ({', '.join(bad) or 'none bad'})")

with open(os.path.join(ROOT, "docs", "architecture.md"), encoding="utf-8") as f:
    named = set(re.findall(r"`((?:core|server|store|api|agent|tests|migrations|cmake|docs)/"
                           r"[a-z0-9_./]+\.(?:c|h|py|sql|cmake|txt|md))`", f.read()))
missing = sorted(p for p in named if not os.path.exists(os.path.join(ROOT, p)))
check(len(named) >= 15 and not missing,
      f"docs/architecture.md names {len(named)} files, all present (missing: {missing})")

if AGENT and os.path.exists(AGENT):
    out = subprocess.run(["ldd", AGENT], capture_output=True, text=True).stdout
    check("libmicrohttpd" not in out, "placid-agent does not link libmicrohttpd")
    check("libcurl" in out, "placid-agent links libcurl (the ldd check reads the right binary)")
else:
    print("skip placid-agent binary not given")

sys.exit(1 if failures else 0)
