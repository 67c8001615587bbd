#!/usr/bin/python3
"""Judges a conformance report for the files the project declares it passes:
every failure must be a listed known failure, and no server log may hold a
sanitizer report. Usage: conformance_check.py REPORT PASS_LIST KNOWN LOG_DIR. Prints "passed failed skipped"
and explains each counted failure on stderr."""
import json
import pathlib
import sys


def listed(path):
    """The non-comment lines of a list file."""
    items = set()
    for line in pathlib.Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            items.add(line)
    return items


def main():
    report = json.loads(pathlib.Path(sys.argv[1]).read_text())
    declared = listed(sys.argv[2])
    known = listed(sys.argv[3])
    passed = failed = skipped = 0
    seen = set()
    for f in report["files"]:
        stem = f["file"].rsplit(".", 1)[0]
        if stem not in declared:
            continue
        seen.add(stem)
        if f.get("status") not in (None, "ran"):
            print(f"conformance: {stem}: {f.get('status')}", file=sys.stderr)
            failed += 1
        for t in f.get("tests", []):
            if t["status"] == "passed":
                passed += 1
            elif t["status"] == "skipped":
                skipped += 1
            elif f"{stem} :: {t['name']}" in known:
                skipped += 1
            else:
                failed += 1
                msg = (t.get("message") or "").splitlines()
                print(f"conformance FAIL {stem} :: {t['name']}: {msg[0] if msg else ''}",
                      file=sys.stderr)
    for stem in sorted(declared - seen):
        print(f"conformance: {stem}: declared but not run", file=sys.stderr)
        failed += 1
    for log in pathlib.Path(sys.argv[4]).rglob("*"):
        if log.is_file():
            text = log.read_text(errors="replace")
            if "ERROR: AddressSanitizer" in text or "ERROR: LeakSanitizer" in text \
                    or "runtime error:" in text:
                print(f"conformance: sanitizer report in {log}", file=sys.stderr)
                failed += 1
    print(passed, failed, skipped)


if __name__ == "__main__":
    main()
