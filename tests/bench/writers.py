#!/usr/bin/python3
"""Concurrent-writer load: C clients, each on one keep-alive connection,
write PUT /allocations/{new consumer} (1.28, consumer_generation null, one
VCPU on one of P providers) back to back for S seconds. Prints
"WRITERS key=value" lines (writes/s, latency percentiles in ms, errors) and
one "WRITERS_JSON {...}" line.

Usage: writers.py URL [--clients 20] [--seconds 10] [--providers 100]
                      [--setup-only | --no-setup]
Creates its providers (VCPU total 2147483647, so no write is refused for
capacity) unless --no-setup. Standard library only; a raw HTTP/1.1 client
per thread keeps the client's own cost small.
"""

import argparse
import json
import socket
import threading
import time
import urllib.parse
import uuid

HEADERS = ('x-auth-token: admin\r\naccept: application/json\r\n'
           'openstack-api-version: placement 1.28\r\ncontent-type: application/json\r\n')


class Conn:
    def __init__(self, host, port):
        self.addr = (host, port)
        self.sock = None
        self.buf = b''

    def request(self, method, path, body=b''):
        if self.sock is None:
            self.sock = socket.create_connection(self.addr, timeout=30)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buf = b''
        head = '%s %s HTTP/1.1\r\nhost: bench\r\n%scontent-length: %d\r\n\r\n' % (
            method, path, HEADERS, len(body))
        self.sock.sendall(head.encode() + body)
        while b'\r\n\r\n' not in self.buf:
            self.fill()
        head, _, rest = self.buf.partition(b'\r\n\r\n')
        lines = head.split(b'\r\n')
        status = int(lines[0].split()[1])
        length = 0
        close = False
        for line in lines[1:]:
            k, _, v = line.partition(b':')
            k = k.strip().lower()
            if k == b'content-length':
                length = int(v)
            elif k == b'connection' and v.strip().lower() == b'close':
                close = True
        while len(rest) < length:
            self.buf = rest
            self.fill()
            rest = self.buf
        self.buf = rest[length:]
        if close:
            self.sock.close()
            self.sock = None
        return status, rest[:length]

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError('server closed the connection')
        self.buf += data


def setup(host, port, n):
    c = Conn(host, port)
    providers = []
    for i in range(n):
        rp = str(uuid.uuid4())
        st, body = c.request('POST', '/resource_providers',
                             json.dumps({'name': 'writer-rp-%s' % rp, 'uuid': rp}).encode())
        if st not in (200, 201):
            raise SystemExit('provider create: %d %s' % (st, body[:200]))
        st, body = c.request('PUT', '/resource_providers/%s/inventories' % rp, json.dumps(
            {'resource_provider_generation': 0,
             'inventories': {'VCPU': {'total': 2147483647}}}).encode())
        if st != 200:
            raise SystemExit('inventory: %d %s' % (st, body[:200]))
        providers.append(rp)
    return providers


def list_providers(host, port):
    st, body = Conn(host, port).request('GET', '/resource_providers')
    return [p['uuid'] for p in json.loads(body)['resource_providers']
            if p['name'].startswith('writer-rp-')]


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def run(host, port, providers, clients, seconds):
    lat, errors, lock = [], {}, threading.Lock()
    barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def worker(k):
        c = Conn(host, port)
        mine, errs = [], {}
        i = k
        barrier.wait()
        while time.monotonic() < stop_at[0]:
            rp = providers[i % len(providers)]
            i += clients
            body = json.dumps({'allocations': {rp: {'resources': {'VCPU': 1}}},
                               'project_id': 'bench', 'user_id': 'bench',
                               'consumer_generation': None}).encode()
            t0 = time.monotonic()
            try:
                st, _ = c.request('PUT', '/allocations/%s' % uuid.uuid4(), body)
            except (OSError, ConnectionError) as exc:
                st = type(exc).__name__
                c.sock = None
            t1 = time.monotonic()
            if st == 204:
                mine.append(t1 - t0)
            else:
                errs[st] = errs.get(st, 0) + 1
        with lock:
            lat.extend(mine)
            for key, v in errs.items():
                errors[str(key)] = errors.get(str(key), 0) + v

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    start = time.monotonic()
    stop_at[0] = start + seconds
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    lat.sort()
    ms = lambda v: None if v is None else round(v * 1000, 2)
    return {'clients': clients, 'seconds': round(elapsed, 2), 'writes': len(lat),
            'writes_per_s': round(len(lat) / elapsed, 1),
            'p50_ms': ms(percentile(lat, 0.50)), 'p90_ms': ms(percentile(lat, 0.90)),
            'p99_ms': ms(percentile(lat, 0.99)), 'max_ms': ms(lat[-1] if lat else None),
            'errors': errors}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('url')
    ap.add_argument('--clients', type=int, default=20)
    ap.add_argument('--seconds', type=float, default=10)
    ap.add_argument('--providers', type=int, default=100)
    ap.add_argument('--setup-only', action='store_true')
    ap.add_argument('--no-setup', action='store_true')
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.url)
    if u.hostname not in ('127.0.0.1', 'localhost', '::1'):
        raise SystemExit('writers.py only loads a server on the loopback address')
    providers = list_providers(u.hostname, u.port) if a.no_setup else \
        setup(u.hostname, u.port, a.providers)
    if a.setup_only:
        return
    r = run(u.hostname, u.port, providers, a.clients, a.seconds)
    for k, v in r.items():
        print('WRITERS %s=%s' % (k, v))
    print('WRITERS_JSON %s' % json.dumps(r))


if __name__ == '__main__':
    main()
