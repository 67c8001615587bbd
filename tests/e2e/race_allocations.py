#!/usr/bin/python3
"""Concurrent claims never oversubscribe a provider.

Starts the real placid binary (argv[1]) on a free 127.0.0.1 port with a
fresh database, creates a few providers with small VCPU inventories, then
fires many simultaneous PUT /allocations/{new consumer} of one VCPU each
from threads (more claims than there is capacity). Every claim must get
204 or 409, each provider must end with usage == capacity (never more),
and exactly sum(capacities) claims must have won. A second round moves
existing consumers between providers while new claims race for the freed
units. Stops the server by PID. Prints one summary line; exits non-zero
on any failure.

Needs only python3 and Debian's python3-requests. PLACID_E2E_DB=postgresql
runs it on PostgreSQL (helpers/placid_e2e.py): the claims then race on the
provider row locks across the pool's connections.
"""

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import requests

from helpers.placid_e2e import free_port, launch

CAPACITIES = [1, 2, 3, 5]      # VCPU per provider
OVERSUBSCRIBE = 3              # claims per unit of capacity
THREADS = 16
DEADLINE = 90                  # seconds for the whole test
HEADERS = {'x-auth-token': 'admin', 'accept': 'application/json',
           'content-type': 'application/json',
           'openstack-api-version': 'placement 1.28'}


class Failure(Exception):
    pass


def start_server(binary, tmp):
    port = free_port()
    log = open(os.path.join(tmp, 'server.log'), 'wb')
    # launch(): the database is tmp/race.db, or a fresh PostgreSQL one
    # under PLACID_E2E_DB=postgresql (helpers/placid_e2e.py).
    proc = launch(binary, port, os.path.join(tmp, 'race.db'),
                  ['--threads', '8', '--log-level', 'warn'],
                  stdout=log, stderr=subprocess.STDOUT)
    url = 'http://127.0.0.1:%d' % port
    for _ in range(200):
        if proc.poll() is not None:
            raise Failure('server exited with %s at start' % proc.returncode)
        try:
            requests.get(url + '/', timeout=1)
            return proc, url
        except requests.RequestException:
            time.sleep(0.05)
    raise Failure('server did not answer GET / in 10 s')


def stop_server(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def check(resp, *ok):
    if resp.status_code not in ok:
        raise Failure('%s %s -> %d %s' % (resp.request.method, resp.request.url,
                                          resp.status_code, resp.text[:300]))
    return resp


def make_providers(url):
    s = requests.Session()
    providers = []
    for i, cap in enumerate(CAPACITIES):
        rp = str(uuid.uuid4())
        check(s.post(url + '/resource_providers', headers=HEADERS,
                     json={'name': 'race%d' % i, 'uuid': rp}), 200)
        check(s.put(url + '/resource_providers/%s/inventories' % rp, headers=HEADERS,
                    json={'resource_provider_generation': 0,
                          'inventories': {'VCPU': {'total': cap}}}), 200)
        providers.append(rp)
    return providers


def claim_body(rp, generation=None):
    return {'allocations': {rp: {'resources': {'VCPU': 1}}},
            'project_id': 'race-project', 'user_id': 'race-user',
            'consumer_generation': generation}


def run_threads(worker, jobs):
    """Runs worker(session, job) for every job from THREADS threads that
    start together; returns {status: count} and the first error."""
    lock = threading.Lock()
    statuses, errors = {}, []
    queue = list(jobs)
    barrier = threading.Barrier(THREADS)
    deadline = time.monotonic() + DEADLINE / 2

    def loop():
        session = requests.Session()
        barrier.wait()
        while time.monotonic() < deadline:
            with lock:
                if not queue:
                    return
                job = queue.pop()
            try:
                status = worker(session, job)
            except Exception as exc:  # report, do not hang the others
                with lock:
                    errors.append(repr(exc))
                return
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=loop) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
    if queue or any(t.is_alive() for t in threads):
        raise Failure('claims did not finish within the time limit')
    if errors:
        raise Failure(errors[0])
    return statuses


def usages(url, providers):
    s = requests.Session()
    out = []
    for rp in providers:
        r = check(s.get(url + '/resource_providers/%s/usages' % rp, headers=HEADERS), 200)
        out.append(r.json()['usages'].get('VCPU', 0))
    return out


def round_one(url, providers):
    """New consumers race for every unit."""
    jobs = [(rp, str(uuid.uuid4()))
            for rp, cap in zip(providers, CAPACITIES)
            for _ in range(cap * OVERSUBSCRIBE)]

    def claim(session, job):
        rp, consumer = job
        r = session.put(url + '/allocations/' + consumer, headers=HEADERS,
                        json=claim_body(rp), timeout=30)
        if r.status_code not in (204, 409):
            raise Failure('claim -> %d %s' % (r.status_code, r.text[:300]))
        return r.status_code

    statuses = run_threads(claim, jobs)
    used = usages(url, providers)
    for rp, cap, u in zip(providers, CAPACITIES, used):
        if u > cap:
            raise Failure('provider %s oversubscribed: usage %d > capacity %d' % (rp, u, cap))
        if u != cap:
            raise Failure('provider %s: usage %d, expected it full (%d)' % (rp, u, cap))
    granted, expected = statuses.get(204, 0), sum(CAPACITIES)
    if granted != expected:
        raise Failure('%d claims granted, expected exactly %d' % (granted, expected))
    return len(jobs), granted, statuses.get(409, 0)


def round_two(url, providers):
    """Consumers of the biggest provider move to the smallest ones while new
    consumers race for the same units: still never above capacity."""
    s = requests.Session()
    big = providers[-1]
    r = check(s.get(url + '/resource_providers/%s/allocations' % big,
                    headers=HEADERS), 200)
    movers = list(r.json()['allocations'].items())
    # Free one unit on every small provider so that there is something to race for.
    for rp in providers[:-1]:
        allocs = check(s.get(url + '/resource_providers/%s/allocations' % rp,
                             headers=HEADERS), 200).json()['allocations']
        consumer = next(iter(allocs))
        check(s.delete(url + '/allocations/' + consumer, headers=HEADERS), 204)
    jobs = [('move', providers[i % (len(providers) - 1)], c, a['consumer_generation'])
            for i, (c, a) in enumerate(movers)]
    jobs += [('new', rp, str(uuid.uuid4()), None)
             for rp in providers[:-1] for _ in range(OVERSUBSCRIBE)]

    def act(session, job):
        _, rp, consumer, gen = job
        r = session.put(url + '/allocations/' + consumer, headers=HEADERS,
                        json=claim_body(rp, gen), timeout=30)
        if r.status_code not in (204, 409):
            raise Failure('move/claim -> %d %s' % (r.status_code, r.text[:300]))
        return r.status_code

    statuses = run_threads(act, jobs)
    used = usages(url, providers)
    for rp, cap, u in zip(providers, CAPACITIES, used):
        if u > cap:
            raise Failure('provider %s oversubscribed after moves: %d > %d' % (rp, u, cap))
    freed = len(providers) - 1
    if sum(used[:-1]) != sum(CAPACITIES[:-1]):
        raise Failure('small providers not refilled: usages %s' % used)
    if statuses.get(204, 0) < freed:
        raise Failure('round two granted %d, expected at least %d' % (statuses.get(204, 0), freed))
    return used


def main():
    if len(sys.argv) < 2:
        print('usage: race_allocations.py PLACID_BINARY', file=sys.stderr)
        return 2
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='placid-race-') as tmp:
        proc = None
        try:
            proc, url = start_server(sys.argv[1], tmp)
            providers = make_providers(url)
            claims, granted, refused = round_one(url, providers)
            used = round_two(url, providers)
        except (Failure, requests.RequestException) as exc:
            if proc is not None:
                stop_server(proc)
                with open(os.path.join(tmp, 'server.log'), 'rb') as f:
                    tail = f.read()[-2000:].decode('utf-8', 'replace')
                sys.stderr.write(tail)
            print('race_allocations: FAILED: %s' % exc)
            return 1
        stop_server(proc)
    print('race_allocations: OK: %d providers, %d concurrent claims, %d granted '
          '(= total capacity), %d refused with 409; after moves usages %s <= %s; %.1fs'
          % (len(CAPACITIES), claims, granted, refused, used, CAPACITIES,
             time.monotonic() - started))
    return 0


if __name__ == '__main__':
    sys.exit(main())
