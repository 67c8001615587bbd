#!/usr/bin/python3
"""Writes waiting for their group commit hold neither the server's workers
nor its database connections (default flags).

Starts placid (argv[1]; argv[2], the agent, is not used) with DEFAULT
flags on a free 127.0.0.1 port and a fresh database, creates a provider,
then holds SQLite's write lock from this process (BEGIN IMMEDIATE on the
same file), so the group committer cannot commit. Meanwhile WRITERS
clients, each on its own keep-alive connection, send PUT
/allocations/{new consumer}: they all wait for the batch. While they wait:

* a fresh client's GET /resource_providers and GET
  /allocations/{consumer} are answered within READ_LIMIT_S (before, the
  default 4 workers were all blocked by waiting writes, each holding one
  of the 4 connections, so the reads waited for the lock);
* no write has been answered yet (none is acknowledged before it is on
  disk).

Then the lock is released: every write is answered 204 and is there; the
shutdown log's group-commit line counts them all. Also checks the
--db-connections flag and its variable (one-line errors for bad values,
at most --threads). Stops the server by PID; its stderr must hold no
sanitizer report.

Needs only python3 and Debian's python3-requests. Prints ok/FAIL lines;
exits non-zero on any failure. SQLite only: with PLACID_E2E_DB=postgresql
it says so and exits 77 (skipped).
"""

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import requests

from helpers.placid_e2e import free_port, skip_on_postgresql

WRITERS = 20
HOLD_S = 2.0  # well inside the committer's 5 s wait for the lock
READ_LIMIT_S = 1.5
HEADERS = {'x-auth-token': 'admin', 'accept': 'application/json',
           'openstack-api-version': 'placement 1.28', 'content-type': 'application/json'}
SANITIZER_MARKS = ('ERROR: AddressSanitizer', 'LeakSanitizer', 'runtime error:',
                   'ThreadSanitizer')

failures = []


def report(ok, what):
    print('%s %s' % ('ok' if ok else 'FAIL', what))
    if not ok:
        failures.append(what)


def one_line_error(binary, args, env=None):
    """True when placid refuses the flags at once with one line on stderr."""
    try:
        p = subprocess.run([binary, '--listen', '127.0.0.1:%d' % free_port(), '--db',
                            '/nonexistent/never-opened.db'] + args, capture_output=True,
                           text=True, timeout=20, env=env)
    except subprocess.TimeoutExpired:
        return False
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    return p.returncode != 0 and len(lines) == 1


def check_flags(binary):
    for args in (['--db-connections', '0'], ['--db-connections', 'x'],
                 ['--db-connections', '300'], ['--threads', '4', '--db-connections', '5']):
        report(one_line_error(binary, args), 'bad %s: one-line error' % ' '.join(args))
    env = dict(os.environ, PLACID_DB_CONNECTIONS='-1')
    report(one_line_error(binary, [], env), 'bad PLACID_DB_CONNECTIONS: one-line error')


def start(binary, db, log):
    port = free_port()
    proc = subprocess.Popen([binary, '--listen', '127.0.0.1:%d' % port, '--db', db],
                            stdout=subprocess.DEVNULL, stderr=log)
    url = 'http://127.0.0.1:%d' % port
    for _ in range(300):
        try:
            requests.get(url + '/', timeout=1)
            return proc, url
        except requests.RequestException:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    proc.wait()
    raise SystemExit('FAIL placid did not start')


def make_provider(url):
    rp = str(uuid.uuid4())
    r = requests.post(url + '/resource_providers', headers=HEADERS,
                      data=json.dumps({'name': 'w-' + rp, 'uuid': rp}))
    assert r.status_code in (200, 201), r.text
    r = requests.put(url + '/resource_providers/%s/inventories' % rp, headers=HEADERS,
                     data=json.dumps({'resource_provider_generation': 0,
                                      'inventories': {'VCPU': {'total': 1000}}}))
    assert r.status_code == 200, r.text
    return rp


def writer(url, rp, consumer, ready, out):
    s = requests.Session()  # its own keep-alive connection
    s.get(url + '/', timeout=30)
    ready.wait()
    body = json.dumps({'allocations': {rp: {'resources': {'VCPU': 1}}},
                       'project_id': 'p', 'user_id': 'u', 'consumer_generation': None})
    try:
        r = s.put(url + '/allocations/' + consumer, headers=HEADERS, data=body, timeout=60)
        out[consumer] = (r.status_code, time.monotonic())
    except requests.RequestException as exc:
        out[consumer] = (type(exc).__name__, time.monotonic())


def timed_get(url, path):
    t0 = time.monotonic()
    try:
        r = requests.get(url + path, headers=HEADERS, timeout=10)
        return r.status_code, time.monotonic() - t0
    except requests.RequestException as exc:
        return type(exc).__name__, time.monotonic() - t0


def main():
    binary = sys.argv[1]
    if skip_on_postgresql('waiting_writers.py', "it holds SQLite's write lock to test the group "
                          'commit, which PostgreSQL has not (each write holds a connection)'):
        sys.exit(77)
    check_flags(binary)
    tmp = tempfile.mkdtemp(prefix='placid-waiting-writers-')
    db = os.path.join(tmp, 'w.db')
    log_path = os.path.join(tmp, 'server.log')
    log = open(log_path, 'w')
    proc, url = start(binary, db, log)
    try:
        rp = make_provider(url)
        consumers = [str(uuid.uuid4()) for _ in range(WRITERS)]
        ready = threading.Barrier(WRITERS + 1)
        out = {}
        threads = [threading.Thread(target=writer, args=(url, rp, c, ready, out))
                   for c in consumers]
        for t in threads:
            t.start()
        lock = sqlite3.connect(db, timeout=10, isolation_level=None)
        lock.execute('BEGIN IMMEDIATE')
        ready.wait()
        t_locked = time.monotonic()
        time.sleep(0.3)  # the writes reach the server and queue for the batch
        st, took = timed_get(url, '/resource_providers')
        report(st == 200 and took < READ_LIMIT_S,
               'GET /resource_providers while %d writes wait: %s in %.2f s' %
               (WRITERS, st, took))
        st, took = timed_get(url, '/allocations/' + consumers[0])
        report(st == 200 and took < READ_LIMIT_S,
               'GET /allocations/{c} while the writes wait: %s in %.2f s' % (st, took))
        time.sleep(max(0.0, HOLD_S - (time.monotonic() - t_locked)))
        t_release = time.monotonic()
        early = [c for c, (_, t) in list(out.items()) if t < t_release]
        report(not early, 'no write answered while its batch could not commit (%d were)' %
               len(early))
        lock.execute('ROLLBACK')
        lock.close()
        for t in threads:
            t.join(60)
        codes = [out.get(c, ('missing',))[0] for c in consumers]
        report(all(c == 204 for c in codes), 'all %d writes answered 204 once the lock went: %s'
               % (WRITERS, sorted(set(map(str, codes)))))
        present = sum(1 for c in consumers
                      if requests.get(url + '/allocations/' + c, headers=HEADERS,
                                      timeout=10).json().get('allocations'))
        report(present == WRITERS, 'every acknowledged write is there (%d/%d)' %
               (present, WRITERS))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    text = open(log_path, errors='replace').read()
    m = re.search(r'(\d+) group commits carried (\d+) writes', text)
    report(m is not None and int(m.group(2)) == WRITERS,
           'the group committer carried the %d writes (%s)' %
           (WRITERS, m.group(0) if m else 'no stats line'))
    m = re.search(r'(\d+) threads, (\d+) connections', text)
    report(m is not None and int(m.group(1)) > WRITERS and int(m.group(2)) < int(m.group(1)),
           'default flags: more workers than writers, fewer connections than workers (%s)' %
           (m.group(0) if m else 'no start-up line'))
    report(not any(mark in text for mark in SANITIZER_MARKS), 'no sanitizer report')
    report(proc.returncode == 0, 'placid exited 0 on SIGTERM (%s)' % proc.returncode)
    if failures:
        print('server log: %s' % log_path)
        sys.exit(1)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
