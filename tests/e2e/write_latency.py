#!/usr/bin/python3
"""Writes never wait for a long reader, and the WAL stays bounded.

Starts placid (argv[1]; argv[2], the agent, is not used) on a free
127.0.0.1 port with a fresh database, loads PROVIDERS providers, then for
LOAD_SECONDS runs, at the same time:
* a continuous long reader: a second process's SQLite connection to the
  same file holds a read transaction for READ_HOLD_S, lets go for 50 ms
  (a client's round trip) and reads again, like back-to-back long
  GET /allocation_candidates queries;
* a client issuing the full GET /allocation_candidates query back to back
  (read transactions inside placid);
* WRITERS clients writing PUT /allocations for new consumers (keep-alive,
  distinct consumers).
It samples the -wal file's size and its header's checkpoint sequence
number (bumped each time the log starts over) all along.

The same writers first run BASELINE_SECONDS without the long reader.

Checks: every write succeeds; under the long reader the p99 write latency
stays under P99_LIMIT_MS (or, on a machine so loaded that even the
baseline is slow, within twice the baseline's p99) and no write waits as
long as half a reader's hold (before, a commit past 4,000 WAL frames ran a
RESTART checkpoint that waited, holding the write lock, for the reader:
writes took as long as the reader held on); the log was started over
while the readers kept reading and never grew past
WAL_LIMIT_MB; the candidates answers stay complete. Stops the server by
PID; its stderr must hold no sanitizer report.

Needs only python3 and Debian's python3-requests. Prints ok/FAIL lines;
exits non-zero on any failure.
"""

import os
import shutil
import sqlite3
import struct
import sys
import tempfile
import threading
import time
import uuid

import requests

from helpers.placid_e2e import SANITIZER_MARKS, check, failures, start_placid
from helpers.placid_e2e import stop as stop_placid

PROVIDERS = int(os.environ.get('WL_PROVIDERS', 200))
WRITERS = int(os.environ.get('WL_WRITERS', 4))
LOAD_SECONDS = int(os.environ.get('WL_SECONDS', 20))
BASELINE_SECONDS = 5
READ_HOLD_S = 2.0
P99_LIMIT_MS = 100.0
WAL_LIMIT_MB = 64.0
HEADERS = {'x-auth-token': 'admin', 'accept': 'application/json',
           'openstack-api-version': 'placement 1.28'}


def start_server(binary, db, log):
    return start_placid(binary, db, ['--threads', '8', '--log-level', 'warn'], stderr=log)


def load(url):
    """PROVIDERS providers with VCPU, MEMORY_MB and DISK_GB, from 4 threads."""
    uuids = [str(uuid.uuid4()) for _ in range(PROVIDERS)]

    def work(part):
        s = requests.Session()
        for rp in part:
            r = s.post(url + '/resource_providers', headers=HEADERS,
                       json={'name': 'cn-' + rp, 'uuid': rp})
            r.raise_for_status()
            r = s.put(url + '/resource_providers/%s/inventories' % rp, headers=HEADERS,
                      json={'resource_provider_generation': 0, 'inventories': {
                          'VCPU': {'total': 1000000}, 'MEMORY_MB': {'total': 1000000},
                          'DISK_GB': {'total': 1000000}}})
            r.raise_for_status()

    threads = [threading.Thread(target=work, args=(uuids[k::4],)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return uuids


def main():
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix='placid-wal-')
    db = os.path.join(tmp, 'wal.db')
    log = open(os.path.join(tmp, 'stderr.log'), 'wb')
    proc, url = start_server(binary, db, log)
    stop = threading.Event()
    long_phase = threading.Event()
    lat, errors, reads, wal_sizes = [], [], [], []
    lock = threading.Lock()
    try:
        providers = load(url)

        def reader():
            s = requests.Session()
            q = '/allocation_candidates?resources=VCPU:1,MEMORY_MB:64,DISK_GB:1'
            while not stop.is_set():
                t0 = time.monotonic()
                r = s.get(url + q, headers=HEADERS, timeout=120)
                n = len(r.json().get('allocation_requests', [])) if r.ok else -1
                with lock:
                    reads.append((time.monotonic() - t0, n))

        def writer(k):
            s = requests.Session()
            i = k
            while not stop.is_set():
                rp = providers[i % len(providers)]
                i += WRITERS
                body = {'allocations': {rp: {'resources': {'VCPU': 1, 'MEMORY_MB': 1}}},
                        'project_id': 'p', 'user_id': 'u', 'consumer_generation': None}
                t0 = time.monotonic()
                r = s.put(url + '/allocations/%s' % uuid.uuid4(), headers=HEADERS, json=body,
                          timeout=120)
                t1 = time.monotonic()
                with lock:
                    (lat.append(t1 - t0) if r.status_code == 204 else
                     errors.append('%d %s' % (r.status_code, r.text[:120])))

        def long_reader():
            con = sqlite3.connect(db, isolation_level=None, timeout=30)
            while not stop.is_set() and not long_phase.is_set():
                time.sleep(0.01)
            while not stop.is_set():
                con.execute('BEGIN')
                con.execute('SELECT count(*) FROM allocations').fetchone()
                stop.wait(READ_HOLD_S)
                con.execute('COMMIT')
                time.sleep(0.05)
            con.close()

        def sampler():
            while not stop.is_set():
                try:
                    with open(db + '-wal', 'rb') as f:
                        head = f.read(16)
                        size = os.fstat(f.fileno()).st_size
                    if len(head) == 16 and long_phase.is_set():
                        wal_sizes.append((size, struct.unpack('>I', head[12:16])[0]))
                except OSError:
                    pass
                time.sleep(0.02)

        threads = [threading.Thread(target=reader), threading.Thread(target=sampler),
                   threading.Thread(target=long_reader)]
        threads += [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
        for t in threads:
            t.start()
        time.sleep(BASELINE_SECONDS)
        with lock:
            base = sorted(lat)
            del lat[:]
        long_phase.set()
        time.sleep(LOAD_SECONDS)
        stop.set()
        for t in threads:
            t.join(180)
        lat.sort()
        p99 = lat[int(0.99 * (len(lat) - 1))] * 1000 if lat else float('inf')
        base_p99 = base[int(0.99 * (len(base) - 1))] * 1000 if base else float('inf')
        slow_reads = [d for d, _ in reads]
        check(not errors, 'every write succeeded (%d writes, errors %s)' % (len(lat), errors[:3]))
        check(len(reads) >= 2 and all(n == PROVIDERS for _, n in reads),
              'the reader read %d times, always all %d candidates (%.0f-%.0f ms each)'
              % (len(reads), PROVIDERS, 1000 * min(slow_reads or [0]),
                 1000 * max(slow_reads or [0])))
        top_ms = lat[-1] * 1000 if lat else float('inf')
        check(p99 < max(P99_LIMIT_MS, 2 * base_p99) and top_ms < READ_HOLD_S * 500,
              'write latency under the long reader: p50 %.1f ms, p99 %.1f ms (limit %.0f, '
              'baseline without it %.1f), max %.1f ms (limit %.0f)'
              % (lat[len(lat) // 2] * 1000 if lat else -1, p99, P99_LIMIT_MS, base_p99, top_ms,
                 READ_HOLD_S * 500))
        top = max([size for size, _ in wal_sizes] or [0]) / 1e6
        restarts = len(set(seq for _, seq in wal_sizes)) - 1
        check(restarts >= 1, 'the log started over %d times while the readers kept reading'
              % restarts)
        check(top < WAL_LIMIT_MB, 'the WAL stayed bounded: at most %.1f MB (limit %.0f MB)'
              % (top, WAL_LIMIT_MB))
    finally:
        stop.set()
        rc, _ = stop_placid(proc)
        log.close()
    check(rc == 0, 'server exits 0 on SIGTERM (got %s)' % rc)
    with open(os.path.join(tmp, 'stderr.log'), errors='replace') as f:
        text = f.read()
    bad = [m for m in SANITIZER_MARKS if m in text]
    check(not bad, 'no sanitizer report in stderr %s' % (bad or ''))
    if failures:
        print('write_latency: %d failed (kept %s)' % (len(failures), tmp))
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print('write_latency: all passed')
    return 0


def main_with_one_retry():
    """Runs main(); when the p99 latency line is its only failure, runs it
    once more, since a p99 over a few seconds is at the mercy of whatever
    else the machine runs. The bug it guards against (writes waiting the
    whole 2 s hold of the reader) fails both runs."""
    rc = main()
    if rc and len(failures) == 1 and failures[0].startswith('write latency'):
        print('write_latency: only the p99 line failed; measuring once more')
        del failures[:]
        rc = main()
    return rc


if __name__ == '__main__':
    sys.exit(main_with_one_retry())
