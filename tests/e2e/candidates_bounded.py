#!/usr/bin/python3
"""Bounded allocation-candidate searches (issue 14 items 4 and 8).

argv[1] is the placid binary (argv[2], the agent, is not used). Starts
placid on free 127.0.0.1 ports with fresh databases and checks:

  - pruning: a root with 10 children holding one unit of CUSTOM_X each,
    asked for resources1..11=CUSTOM_X:1&group_policy=none&limit=1, answers
    "no candidates" fast (it used to enumerate every injective assignment
    for 18 s); the 10-group variant that fits answers its first candidate
    fast; isolate with more groups than providers is refused before
    enumeration;
  - the work limit: a search that cannot be pruned (10 distinct children,
    10 groups, a same_subtree that no combination meets) answers 400 with
    code placid.allocation_candidates.work_limit naming the limit when
    --candidates-work-limit (or PLACID_CANDIDATES_WORK_LIMIT) is small; bad
    values of both are one-line start-up errors;
  - a client that disconnects cancels its search: with one worker thread,
    GET / is answered soon after the client of a long search hangs up;
  - SIGTERM during a long search: the search stops, its client gets the
    503 (the server answers the requests under way before it closes the
    connections), the server exits 0 promptly;
  - numeric edges: resources=CUSTOM_X:9223372036854775807 on a provider with
    usage finds nothing, without a sanitizer report.

No sanitizer report may appear in any server's stderr. Stdlib only; prints
ok/FAIL lines; exits non-zero on any failure.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from helpers.placid_e2e import SANITIZER_MARKS, check, failures, one_line_error, refuse
from helpers.placid_e2e import Server as PlacidServer

PLACID = sys.argv[1]
FAST_MS = 100.0  # the bound, on the min of a few tries (ASan build)


class Server(PlacidServer):
    def __init__(self, tmp, name, args=(), env=None):
        super().__init__(PLACID, tmp, list(args), name=name, env=env)
        self.base = self.url

    def log_text(self):
        with open(self.log_path, errors='replace') as f:
            return f.read()

    def stop(self):
        return super().stop()[0]

    def call(self, method, path, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            'x-auth-token': 'admin', 'openstack-api-version': 'placement latest',
            'content-type': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, json.loads(raw) if raw else None
        except OSError as e:  # no answer at all (a crash, a timeout)
            return 0, {'errors': [{'detail': str(e)}]}

    def ok(self, method, path, body=None):
        status, doc = self.call(method, path, body)
        if status >= 300:
            raise RuntimeError(f'{method} {path}: {status} {doc}')
        return doc

    def provider(self, name, parent=None):
        u = str(uuid.uuid4())
        body = {'name': name, 'uuid': u}
        if parent:
            body['parent_provider_uuid'] = parent
        self.ok('POST', '/resource_providers', body)
        return u

    def inventory(self, rp, inventories):
        gen = self.ok('GET', f'/resource_providers/{rp}')['generation']
        self.ok('PUT', f'/resource_providers/{rp}/inventories',
                {'resource_provider_generation': gen, 'inventories': inventories})

    def traits(self, rp, names):
        for t in names:
            self.ok('PUT', f'/traits/{t}')
        gen = self.ok('GET', f'/resource_providers/{rp}')['generation']
        self.ok('PUT', f'/resource_providers/{rp}/traits',
                {'resource_provider_generation': gen, 'traits': names})

    def candidates(self, query, timeout=60):
        t0 = time.monotonic()
        status, doc = self.call('GET', '/allocation_candidates?' + query, timeout=timeout)
        return status, doc, (time.monotonic() - t0) * 1000


def groups(n, rc, extra=''):
    return '&'.join(f'resources{i}={rc}:1' for i in range(1, n + 1)) + extra


def fastest(srv, query, tries=3):
    best = None
    for _ in range(tries):
        status, doc, ms = srv.candidates(query)
        best = ms if best is None or ms < best else best
    return status, doc, best


def build_trees(srv):
    """Tree X: 10 identical children with one CUSTOM_X each. Tree Y: 10
    children with one CUSTOM_Y each and a trait of their own (no twins)."""
    srv.ok('PUT', '/resource_classes/CUSTOM_X')
    srv.ok('PUT', '/resource_classes/CUSTOM_Y')
    rx = srv.provider('rx')
    for i in range(10):
        srv.inventory(srv.provider(f'rx{i}', rx), {'CUSTOM_X': {'total': 1}})
    ry = srv.provider('ry')
    for i in range(10):
        c = srv.provider(f'ry{i}', ry)
        srv.inventory(c, {'CUSTOM_Y': {'total': 1}})
        srv.traits(c, [f'CUSTOM_T{i}'])
    return rx, ry


# The long search: every complete combination fails same_subtree at the
# leaf; 10! leaves, about 10^7 steps.
SLOW = groups(10, 'CUSTOM_Y', '&group_policy=none&same_subtree=' +
              ','.join(str(i) for i in range(1, 11)))


def test_pruning(srv):
    status, doc, ms = fastest(srv, groups(11, 'CUSTOM_X', '&group_policy=none&limit=1'))
    check(status == 200 and doc['allocation_requests'] == [],
          f'11 groups on 10 one-unit children: no candidates (status {status})')
    check(ms < FAST_MS, f'... answered in {ms:.1f} ms (< {FAST_MS:.0f} ms)')
    status, doc, ms = fastest(srv, groups(10, 'CUSTOM_X', '&group_policy=none&limit=1'))
    reqs = doc['allocation_requests'] if status == 200 else []  # noqa
    used = set()
    for r in reqs:
        used |= set(r['allocations'])
    check(status == 200 and len(reqs) == 1 and len(used) == 10,
          '10 groups on 10 one-unit children, limit=1: one candidate using all ten')
    check(ms < FAST_MS, f'... answered in {ms:.1f} ms (< {FAST_MS:.0f} ms)')
    status, doc, ms = fastest(srv, groups(11, 'CUSTOM_X', '&group_policy=isolate&limit=1'))
    check(status == 200 and doc['allocation_requests'] == [] and ms < FAST_MS,
          f'isolate, 11 groups on 10 children: no candidates in {ms:.1f} ms')
    # Twins (identical children) with a constraint only the leaf can check.
    status, doc, ms = fastest(srv, groups(10, 'CUSTOM_X', '&group_policy=none&same_subtree=' +
                                          ','.join(str(i) for i in range(1, 11))))
    check(status == 200 and doc['allocation_requests'] == [] and ms < FAST_MS,
          f'same_subtree over 10 identical siblings: no candidates in {ms:.1f} ms')


def test_work_limit(tmp, srv_args_env):
    for how in ('flag', 'env'):
        if how == 'flag':
            srv = Server(tmp, 'limit-flag', ['--candidates-work-limit', '100000'])
        else:
            srv = Server(tmp, 'limit-env', env=dict(os.environ,
                                                    PLACID_CANDIDATES_WORK_LIMIT='100000'))
        try:
            build_trees(srv)
            status, doc, ms = srv.candidates(SLOW)
            err = (doc or {}).get('errors', [{}])[0]
            check(status == 400 and err.get('code') == 'placid.allocation_candidates.work_limit'
                  and '100000' in err.get('detail', '') and 'work limit' in err.get('detail', ''),
                  f'work limit by {how}: 400 naming the limit ({status} {err.get("detail")})')
            check(ms < 5000, f'... answered in {ms:.0f} ms')
            status, doc, ms = srv.candidates(groups(2, 'CUSTOM_X', '&group_policy=none'))
            check(status == 200 and len(doc['allocation_requests']) == 90,
                  f'work limit by {how}: a small query still answers in full')
        finally:
            srv.stop()
            check(not any(m in srv.log_text() for m in SANITIZER_MARKS),
                  f'{how}: no sanitizer report')
    for args, env in ((['--candidates-work-limit', 'lots'], None),
                      (['--candidates-work-limit', '-1'], None),
                      ([], dict(os.environ, PLACID_CANDIDATES_WORK_LIMIT='1e9'))):
        check(one_line_error(refuse(PLACID, tmp, args, env), 'candidates-work-limit'),
              f'bad work limit {args or env["PLACID_CANDIDATES_WORK_LIMIT"]}: one-line error')


def raw_request(port, query):
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall((f'GET /allocation_candidates?{query} HTTP/1.1\r\nHost: x\r\n'
               'x-auth-token: admin\r\nopenstack-api-version: placement latest\r\n\r\n').encode())
    return s


def test_disconnect_and_sigterm(tmp):
    # One worker, no work limit: only cancellation can free the worker.
    srv = Server(tmp, 'cancel', ['--threads', '1', '--candidates-work-limit', '0'])
    try:
        build_trees(srv)
        s = raw_request(srv.port, SLOW)
        time.sleep(0.5)
        s.close()
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(srv.base + '/', timeout=30) as r:
                ok = r.status == 200
        except OSError:
            ok = False
        ms = (time.monotonic() - t0) * 1000
        check(ok and ms < 3000, f'client hung up: its search stopped, GET / answered in {ms:.0f} ms')

        s = raw_request(srv.port, SLOW)
        time.sleep(0.5)
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        try:
            rc = srv.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            rc = None
        secs = time.monotonic() - t0
        s.settimeout(5)
        answer = ''
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                answer += data.decode('latin-1')
        except OSError:
            pass
        s.close()
        check(rc == 0 and secs < 5, f'SIGTERM during a long search: exit {rc} after {secs:.1f} s')
        # The stopped search's 503 reaches its client before the server
        # closes the connections it still holds (a bounded drain).
        check(answer.startswith('HTTP/1.1 503') and 'shutting down' in answer,
              f'... its client got the 503 before the server stopped ({answer[:40]!r})')
    finally:
        srv.stop()
        check(not any(m in srv.log_text() for m in SANITIZER_MARKS), 'cancel: no sanitizer report')


def test_overflow(srv):
    rp = srv.provider('big')
    srv.inventory(rp, {'CUSTOM_X': {'total': 100, 'max_unit': 100}})
    consumer = str(uuid.uuid4())
    srv.ok('PUT', f'/allocations/{consumer}', {
        'allocations': {rp: {'resources': {'CUSTOM_X': 7}}}, 'consumer_generation': None,
        'project_id': str(uuid.uuid4()), 'user_id': str(uuid.uuid4()), 'consumer_type': 'INSTANCE'})
    for q in ('resources=CUSTOM_X:9223372036854775807',
              'resources1=CUSTOM_X:9223372036854775807&resources2=CUSTOM_X:1&group_policy=none',
              'resources1=CUSTOM_X:4611686018427387904&resources2=CUSTOM_X:4611686018427387904'
              '&group_policy=none'):
        status, doc, ms = srv.candidates(q)
        check(status == 200 and doc['allocation_requests'] == [],
              f'{q[:60]}...: no candidates ({status})')
        if status == 0:
            break


def main():
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(tmp, 'main')
        try:
            build_trees(srv)
            test_pruning(srv)
            test_overflow(srv)
        finally:
            rc = srv.stop()
            log = srv.log_text()
            check(rc == 0, 'main server: SIGTERM exit 0')
            check(not any(m in log for m in SANITIZER_MARKS), 'main server: no sanitizer report')
        test_work_limit(tmp, None)
        test_disconnect_and_sigterm(tmp)
    print(f'{"FAIL" if failures else "ok"}: candidates_bounded, {len(failures)} failure(s)')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
