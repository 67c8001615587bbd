#!/usr/bin/python3
"""Prints the benchmark figures of tests/bench/run as a table, with the
ratios placid/Placement where both were measured at the same N."""
import json
import sys

KEYS = [("ac_min_ms", "full min ms"), ("ac_median_ms", "full median ms"),
        ("ac_candidates", "candidates"), ("ac10_min_ms", "limit=10 min ms"),
        ("ac10_median_ms", "limit=10 median ms"), ("wrk_rps", "req/s c=10 (limit=10)"),
        ("alloc_put_median_ms", "PUT /allocations median ms"), ("server_rss_kb", "RSS KB")]


def main():
    rows = {}
    for line in open(sys.argv[1]):
        tag, _, js = line.partition(" ")
        rows[tag] = json.loads(js)
    print("| run | " + " | ".join(label for _, label in KEYS) + " |")
    print("|---" * (len(KEYS) + 1) + "|")
    for tag, r in rows.items():
        print(f"| {tag} | " + " | ".join(str(r.get(k, "-")) for k, _ in KEYS) + " |")
    for tag, r in rows.items():
        if not tag.startswith("placid-"):
            continue
        ref = rows.get(tag.replace("placid-", "placement-", 1))
        if not ref:
            continue
        def ratio(k, higher_is_better=False):
            a, b = r.get(k), ref.get(k)
            if not a or not b:
                return "-"
            return f"{(a / b if higher_is_better else b / a):.0f}x"
        print(f"{tag} vs Placement: full query {ratio('ac_median_ms')} faster, limit=10 "
              f"{ratio('ac10_median_ms')} faster, throughput {ratio('wrk_rps', True)}, "
              f"PUT /allocations {ratio('alloc_put_median_ms')} faster, RSS "
              f"1/{ratio('server_rss_kb')}")


if __name__ == "__main__":
    main()
