#!/usr/bin/python3
# Over 800 lines on purpose: one table-driven spec (every route x every bad input), one data set, one set of checks.
"""Bad input always gets a clear 4xx error: never a 5xx, a crash, a hang or
lost data.

Starts the placid binary (argv[1]; argv[2], the agent, is not used) on a
free 127.0.0.1 port with a fresh database, creates a small data set (four
providers, one of them a child, inventories, custom classes and traits,
aggregates and one allocation), then sends every route of api/routes.c
(read from the source, so a new route without cases fails the test), at
microversions 1.0, 1.10, 1.14, 1.20, 1.28, 1.38 and latest, malformed and
hostile input: wrong JSON types in every body field, missing and extra
fields, hostile keys, huge numbers, empty and 10k strings, NUL bytes and
invalid UTF-8, bodies that are not objects, bad uuids and names in the
path, garbage query strings (and thousands of parameters), bodies over the
1 MiB limit, chunked bodies and other transfer codings, clients that hang
up mid-request, wrong content types, missing or bad tokens and version
headers, about 11,600 requests from 4 threads.

Every mutating request is built so that it cannot succeed even when the
hostile value happens to be valid (stale generations, duplicate names,
amounts beyond capacity), so any 2xx on one is a failure. Every answer must
be below 500; 4xx answers must carry Placement's error body
{"errors": [{"status", "title", "detail", "request_id"[, "code" from
1.23]}]} (401 has its own format; libmicrohttpd's own framing errors are
HTML). The server must stay alive throughout; at the end usages must equal
the allocations and the data set must read back unchanged. After SIGTERM
the server must exit 0 and its stderr must hold no ERROR log line and no
sanitizer report ("ERROR: AddressSanitizer", "LeakSanitizer", "runtime
error:"), so an ASan/UBSan build is checked too.

Stdlib only. Prints one summary line; exits non-zero on any failure (the
server's stderr, the database and the full problem list are then kept).
"""

import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from helpers.placid_e2e import SANITIZER_MARKS, free_port, launch

HERE = os.path.dirname(os.path.abspath(__file__))
ROUTES_C = os.path.join(HERE, '..', '..', 'api', 'routes.c')
VERSIONS = ['1.0', '1.10', '1.14', '1.20', '1.28', '1.38', 'latest']
LATEST = 39
MAX_BODY = 1024 * 1024
WORKERS = 4
REQUEST_TIMEOUT = 15.0     # a request without an answer by then is a hang
HAMMER_BUDGET = 40.0       # seconds for the hostile requests (a bound, not a target)

R1 = 'a1a1a1a1-0000-4000-8000-000000000001'   # root, inventories, traits, aggregate
R2 = 'a1a1a1a1-0000-4000-8000-000000000002'   # child of R1
R3 = 'a1a1a1a1-0000-4000-8000-000000000003'   # another root
R4 = 'a1a1a1a1-0000-4000-8000-000000000004'   # the victim: may be renamed
C1 = 'c1c1c1c1-0000-4000-8000-000000000001'   # the one consumer
A1 = 'a9a9a9a9-0000-4000-8000-000000000001'
A2 = 'a9a9a9a9-0000-4000-8000-000000000002'
NOPE = 'deadbeef-0000-4000-8000-00000000dead'
PROJECT = 'robust-project'
USER = 'robust-user'

# Stands in for invalid UTF-8 in JSON text: json.dumps escapes it as
# \ue000..., which is then replaced by raw invalid bytes.
BAD_UTF8 = '\ue000BAD\ue000'
BAD_UTF8_ESCAPED = json.dumps(BAD_UTF8)[1:-1].encode()
BAD_UTF8_BYTES = b'\xc3\x28\xff\xfe'

HOSTILE = [None, True, False, '', 'x' * 10000, 2 ** 63, -2 ** 63 - 1, 10 ** 30, -1, 0,
           1e308, 5.5, -0.5, [], {}, [[]], {'k': {}}, '\u0000', 'A\u0000B', BAD_UTF8,
           '\ud800', 'CUSTOM_' + 'X' * 300, '1.0', ' ', 'NaN']
HOSTILE_KEYS = ['', 'x' * 10000, '\u0000', 'A\u0000B', BAD_UTF8, 'vcpu', 'CUSTOM_lower',
                'not-a-uuid', '\ud800']


class Failure(Exception):
    pass


def dumps(value):
    """JSON text as bytes, with BAD_UTF8 markers turned into invalid UTF-8."""
    text = json.dumps(value).encode()
    return text.replace(BAD_UTF8_ESCAPED, BAD_UTF8_BYTES)


# ---------------------------------------------------------------- HTTP client

class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body.decode('utf-8'))


def parse_response(data):
    while data.startswith(b'HTTP/1.1 100 '):  # interim answer to Expect: 100-continue
        data = data.partition(b'\r\n\r\n')[2]
    head, sep, body = data.partition(b'\r\n\r\n')
    if not sep:
        raise Failure('incomplete response: %r' % data[:200])
    lines = head.decode('latin-1').split('\r\n')
    m = re.match(r'HTTP/1\.[01] (\d{3})', lines[0])
    if not m:
        raise Failure('bad status line: %r' % lines[0])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(':')
        headers[k.strip().lower()] = v.strip()
    if headers.get('transfer-encoding', '').lower() == 'chunked':
        out, rest = b'', body
        while rest:
            size, _, rest = rest.partition(b'\r\n')
            n = int(size.split(b';')[0], 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    elif 'content-length' in headers:
        body = body[:int(headers['content-length'])]
    return Response(int(m.group(1)), headers, body)


class Client:
    """One connection per request (Connection: close), raw bytes on the
    wire, so paths, headers and bodies can be anything."""

    def __init__(self, port):
        self.port = port

    def send(self, method, path, body=None, headers=None, chunks=None):
        """path: str or bytes; body: bytes; chunks: list of bytes sent with
        Transfer-Encoding: chunked. Returns a Response, or None when the
        server closed the connection without one."""
        if isinstance(path, str):
            path = path.encode()
        hdrs = {'Host': '127.0.0.1:%d' % self.port, 'Connection': 'close'}
        hdrs.update(headers or {})
        if chunks is not None:
            hdrs['Transfer-Encoding'] = 'chunked'
        elif body is not None and 'Content-Length' not in hdrs:
            hdrs['Content-Length'] = str(len(body))
        raw = method.encode() + b' ' + path + b' HTTP/1.1\r\n'
        for k, v in hdrs.items():
            if v is None:
                continue
            raw += k.encode() + b': ' + (v if isinstance(v, bytes) else v.encode()) + b'\r\n'
        raw += b'\r\n'
        if chunks is not None:
            payload = b''.join(b'%x\r\n%s\r\n' % (len(c), c) for c in chunks) + b'0\r\n\r\n'
        else:
            payload = body or b''
        with socket.create_connection(('127.0.0.1', self.port), timeout=REQUEST_TIMEOUT) as s:
            try:
                s.sendall(raw)
                # A big body may be refused right after the headers (413):
                # give that answer a moment to arrive before streaming.
                if len(payload) > 65536:
                    select.select([s], [], [], 0.3)
                s.sendall(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass
            data = b''
            deadline = time.monotonic() + REQUEST_TIMEOUT
            while True:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                except socket.timeout:
                    raise Failure('no answer within %.0f s (hang)' % REQUEST_TIMEOUT)
                if not chunk:
                    break
                data += chunk
                if time.monotonic() > deadline:
                    raise Failure('answer not finished within %.0f s (hang)' % REQUEST_TIMEOUT)
        if not data:
            return None
        return parse_response(data)

    def send_raw(self, raw, abort=False):
        """Sends raw bytes as they are. abort: close right after sending
        (a client that goes away mid-request); returns None then. Otherwise
        returns the first response."""
        with socket.create_connection(('127.0.0.1', self.port), timeout=REQUEST_TIMEOUT) as s:
            try:
                s.sendall(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass
            if abort:
                return None
            data = b''
            while True:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                except socket.timeout:
                    raise Failure('no answer within %.0f s (hang)' % REQUEST_TIMEOUT)
                if not chunk:
                    break
                data += chunk
        return parse_response(data) if data else None


def std_headers(version, token='admin', body=True):
    h = {'X-Auth-Token': token, 'Accept': 'application/json'}
    if version is not None:
        h['OpenStack-API-Version'] = 'placement ' + version
    if body:
        h['Content-Type'] = 'application/json'
    return h


def minor(version):
    return LATEST if version == 'latest' else int(version.split('.')[1])


# ---------------------------------------------------------------- the data set

def api(client, method, path, body=None, version='latest', expect=(200,)):
    r = client.send(method, path, None if body is None else dumps(body),
                    std_headers(version, body=body is not None))
    if r is None or r.status not in expect:
        raise Failure('setup %s %s -> %s %s' % (method, path, r and r.status,
                                                 r and r.body[:300]))
    return r


def create_data_set(c):
    for rc in ('CUSTOM_ROBUST', 'CUSTOM_SPARE'):
        api(c, 'POST', '/resource_classes', {'name': rc}, expect=(201,))
    api(c, 'PUT', '/traits/CUSTOM_ROBUST_TRAIT', expect=(201,))
    api(c, 'POST', '/resource_providers', {'name': 'robust-root', 'uuid': R1})
    api(c, 'POST', '/resource_providers',
        {'name': 'robust-child', 'uuid': R2, 'parent_provider_uuid': R1})
    api(c, 'POST', '/resource_providers', {'name': 'robust-other', 'uuid': R3})
    api(c, 'POST', '/resource_providers', {'name': 'robust-victim', 'uuid': R4})
    invs = {R1: {'VCPU': {'total': 8, 'max_unit': 8}, 'MEMORY_MB': {'total': 4096}},
            R2: {'CUSTOM_ROBUST': {'total': 4}}, R3: {'DISK_GB': {'total': 100}}}
    for rp, inv in invs.items():
        api(c, 'PUT', '/resource_providers/%s/inventories' % rp,
            {'inventories': inv, 'resource_provider_generation': 0})
    api(c, 'PUT', '/resource_providers/%s/traits' % R1,
        {'traits': ['CUSTOM_ROBUST_TRAIT', 'HW_CPU_X86_AVX'], 'resource_provider_generation': 1})
    api(c, 'PUT', '/resource_providers/%s/aggregates' % R1,
        {'aggregates': [A1], 'resource_provider_generation': 2})
    api(c, 'PUT', '/resource_providers/%s/aggregates' % R3,
        {'aggregates': [A1, A2], 'resource_provider_generation': 1})
    api(c, 'PUT', '/allocations/' + C1,
        {'allocations': {R1: {'resources': {'VCPU': 2, 'MEMORY_MB': 512}},
                         R2: {'resources': {'CUSTOM_ROBUST': 1}}},
         'project_id': PROJECT, 'user_id': USER, 'consumer_generation': None,
         'consumer_type': 'INSTANCE'}, expect=(204,))


SNAPSHOT_PATHS = ['/resource_providers', '/resource_classes', '/traits',
                  '/usages?project_id=' + PROJECT, '/allocations/' + C1] + [
    '/resource_providers/%s%s' % (rp, sub) for rp in (R1, R2, R3)
    for sub in ('', '/inventories', '/traits', '/aggregates', '/usages', '/allocations')]


def snapshot(c):
    out = {}
    for p in SNAPSHOT_PATHS:
        out[p] = api(c, 'GET', p).json()
    # The victim provider may legitimately be renamed.
    out['/resource_providers']['resource_providers'] = [
        rp for rp in out['/resource_providers']['resource_providers'] if rp['uuid'] != R4]
    return out


def check_consistency(c, before):
    problems = []
    after = snapshot(c)
    for p in SNAPSHOT_PATHS:
        if before[p] != after[p]:
            problems.append('data changed: GET %s was %s, now %s' % (
                p, json.dumps(before[p])[:300], json.dumps(after[p])[:300]))
    for rp in (R1, R2, R3):
        usages = after['/resource_providers/%s/usages' % rp]['usages']
        summed = {}
        for alloc in after['/resource_providers/%s/allocations' % rp]['allocations'].values():
            for rc, n in alloc['resources'].items():
                summed[rc] = summed.get(rc, 0) + n
        nonzero = {rc: n for rc, n in usages.items() if n}
        if nonzero != summed:
            problems.append('usages of %s %s != allocations %s' % (rp, usages, summed))
    return problems


# ---------------------------------------------------------------- hostile cases

class Case:
    """One hostile request. expect: 'client' (must be 4xx), 'any' (anything
    below 500, e.g. a GET with odd but harmless query), or a status."""
    __slots__ = ('label', 'method', 'path', 'body', 'headers', 'version', 'expect', 'chunks',
                 'json_error', 'raw', 'abort')

    def __init__(self, label, method, path, body=None, version='latest', expect='client',
                 headers=None, chunks=None, json_error=True, raw=None, abort=False):
        self.label, self.method, self.path, self.body = label, method, path, body
        self.version, self.expect, self.chunks = version, expect, chunks
        self.json_error, self.raw, self.abort = json_error, raw, abort
        self.headers = headers if headers is not None else std_headers(
            version, body=body is not None or chunks is not None)


def walk(value, path=()):
    """Yields (path, value) for every node below the root."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield path + (k,), v
            yield from walk(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield path + (i,), v
            yield from walk(v, path + (i,))


def replaced(doc, path, fn):
    """A deep copy of doc with fn applied to the container holding path[-1]."""
    doc = json.loads(json.dumps(doc))
    node = doc
    for p in path[:-1]:
        node = node[p]
    fn(node, path[-1])
    return doc


def set_value(value):
    def fn(node, key):
        node[key] = value
    return fn


def delete_key(node, key):
    del node[key]


def rename_key(new):
    def fn(node, key):
        node[new] = node.pop(key)
    return fn


def add_extra(node, key):
    node[key]['robust_extra'] = 1


def whole_body_garbage():
    deep = b'[' * 3000 + b']' * 3000
    return [b'', b'null', b'[]', b'"string"', b'42', b'true', b'{', b'{"a":1}x', b'{}{}',
            b'\xef\xbb\xbf{}', b'{"a": NaN}', b'{"a": 1e400}', b'{"a": "\\ud800"}',
            b'{"a": "' + BAD_UTF8_BYTES + b'"}', b'\x00', b'{"a":1,"a":2}', deep,
            b'{"a": ' + b'[' * 2000 + b']' * 2000 + b'}', b' ' * 1000]


def body_mutations(template, rng, k, skip=()):
    """Hostile variants of a valid-shaped body: the whole body replaced,
    then for every node k hostile values (all of them when k is None),
    deletion, an extra field and hostile keys. Yields (label, body bytes,
    (field, repr(value) or 'delete')); skip holds such keys not to send."""
    out = []
    for b in whole_body_garbage():
        key = ('', b.decode('latin-1'))
        if key not in skip:
            out.append(('body=%r' % b[:20], b, key))
    if isinstance(template, dict):
        out.append(('body+extra', dumps(dict(template, robust_extra=1)), ('', 'extra')))
    for path, value in walk(template):
        name = '/'.join(str(p) for p in path)
        field = str(path[-1])
        values = HOSTILE if k is None else rng.sample(HOSTILE, k)
        for h in values:
            key = (field, repr(h))
            if key in skip:
                continue
            out.append(('%s=%r' % (name, h if not isinstance(h, str) else h[:12]),
                        dumps(replaced(template, path, set_value(h))), key))
        if isinstance(value, str):
            # A valid value with a NUL and junk after it must not be taken
            # for the value cut at the NUL.
            key = (field, 'NUL suffix')
            if key not in skip:
                out.append(('%s+NUL' % name, dumps(replaced(template, path,
                                                            set_value(value + '\u0000junk'))),
                            key))
        if isinstance(path[-1], str):
            key = (field, 'delete')
            if key not in skip:
                out.append(('%s deleted' % name, dumps(replaced(template, path, delete_key)),
                            key))
            keys = HOSTILE_KEYS if k is None else rng.sample(HOSTILE_KEYS, min(k, 3))
            for hk in keys:
                out.append(('%s key->%r' % (name, hk[:12]),
                            dumps(replaced(template, path, rename_key(hk))), (field, 'key')))
        if isinstance(value, dict):
            out.append(('%s+extra' % name, dumps(replaced(template, path, add_extra)),
                        (field, 'extra')))
    return out


def inv_fields():
    return {'total': 8, 'reserved': 0, 'min_unit': 1, 'max_unit': 8, 'step_size': 1,
            'allocation_ratio': 1.0}


class Target:
    """A mutating route with a body. template is shaped right but must fail
    (stale generation 999, duplicate name, amount beyond capacity), so its
    hostile variants must fail too. valid: (field, repr(value)) pairs that
    upstream accepts there (the answer may then be 2xx); skip: pairs not
    sent because they would succeed (e.g. an empty list that clears)."""

    def __init__(self, method, path, template, available=True, skip=(), valid=(),
                 send_template=True):
        self.method, self.path, self.template = method, path, template
        self.available, self.skip, self.valid = available, set(skip), set(valid)
        self.send_template = send_template


def body_templates(m):
    """The mutating routes with a body, at microversion 1.m."""
    rp_create = {'name': 'robust-root', 'uuid': R1}
    rp_update = {'name': 'robust-victim'}
    if m >= 14:
        rp_create['parent_provider_uuid'] = R3
        rp_update['parent_provider_uuid'] = None
    if m < 8:
        alloc_put = {'allocations': [{'resource_provider': {'uuid': R1},
                                      'resources': {'VCPU': 1000}}]}
    else:
        alloc_put = {'allocations': {R1: {'resources': {'VCPU': 1000}}},
                     'project_id': PROJECT, 'user_id': USER}
        if m < 12:
            alloc_put['allocations'] = [{'resource_provider': {'uuid': R1},
                                         'resources': {'VCPU': 1000}}]
    consumer = {'allocations': {R1: {'resources': {'VCPU': 1000}}},
                'project_id': PROJECT, 'user_id': USER}
    if m >= 28:
        alloc_put['consumer_generation'] = 999
        consumer['consumer_generation'] = 999
    if m >= 38:
        alloc_put['consumer_type'] = 'INSTANCE'
        consumer['consumer_type'] = 'INSTANCE'
    reshape_consumer = dict(consumer, allocations={R1: {'resources': {'VCPU': 2}}})
    rp = '/resource_providers/'
    # Strings upstream's schema accepts as a provider name (no minLength).
    names = {('name', repr(v)) for v in ('', ' ', '1.0', 'NaN')}
    # No allocations at all would clear C1 (where no generation guards it).
    no_empty = {('allocations', '{}'), ('allocations', '[]'), (R1, 'delete')}
    # From 1.7 this path is PUT without a body (create), covered elsewhere.
    rename_class = [Target('PUT', '/resource_classes/CUSTOM_SPARE', {'name': 'CUSTOM_ROBUST'},
                           available=m >= 2)] if m <= 6 else []
    return rename_class + [
        Target('POST', '/resource_providers', rp_create),
        # The victim provider may be renamed: it is left out of the snapshot.
        Target('PUT', rp + R4, rp_update,
               valid=names | {('parent_provider_uuid', 'None'), ('parent_provider_uuid', 'delete')},
               send_template=False),
        Target('PUT', rp + R1 + '/inventories',
               {'inventories': {'VCPU': inv_fields(), 'MEMORY_MB': {'total': 4096}},
                'resource_provider_generation': 999}),
        # POST ignores the generation (as upstream): VCPU exists, so 409.
        Target('POST', rp + R1 + '/inventories',
               dict(inv_fields(), resource_class='VCPU', resource_provider_generation=999)),
        Target('PUT', rp + R1 + '/inventories/VCPU',
               dict(inv_fields(), resource_provider_generation=999)),
        # Before 1.19 the body is a bare list without a generation: only
        # invalid variants are sent.
        Target('PUT', rp + R1 + '/aggregates',
               {'aggregates': [A1, A2], 'resource_provider_generation': 999} if m >= 19 else
               [A1, A2], available=m >= 1, send_template=m >= 19, skip={('', '[]')}),
        Target('PUT', rp + R1 + '/traits',
               {'traits': ['CUSTOM_ROBUST_TRAIT', 'HW_CPU_X86_SSE'],
                'resource_provider_generation': 999}, available=m >= 6),
        Target('POST', '/resource_classes', {'name': 'CUSTOM_ROBUST'}, available=m >= 2),
        Target('PUT', '/allocations/' + C1, alloc_put, skip=no_empty),
        Target('POST', '/allocations', {C1: consumer}, available=m >= 13, skip=no_empty),
        Target('POST', '/reshaper',
               {'inventories': {R1: {'inventories': {'VCPU': {'total': 8},
                                                     'MEMORY_MB': {'total': 4096}},
                                     'resource_provider_generation': 999}},
                'allocations': {C1: reshape_consumer}}, available=m >= 30),
    ]


def nul_cases(version):
    """A NUL inside a stored string must be refused, not cut short: each of
    these requests would otherwise succeed."""
    m = minor(version)
    out = [Case('NUL in new provider name', 'POST', '/resource_providers',
                dumps({'name': 'robust-nul\u0000tail'}), version=version),
           Case('NUL in provider rename', 'PUT', '/resource_providers/' + R4,
                dumps({'name': 'robust-nul\u0000tail'}), version=version)]
    if m >= 8:
        new_consumer = '/allocations/' + str(uuid.UUID(int=m + 1))
        for field in ('project_id', 'user_id') + (('consumer_type',) if m >= 38 else ()):
            body = {'allocations': {R3: {'resources': {'DISK_GB': 1}}},
                    'project_id': PROJECT, 'user_id': USER}
            if m < 12:
                body['allocations'] = [{'resource_provider': {'uuid': R3},
                                        'resources': {'DISK_GB': 1}}]
            if m >= 28:
                body['consumer_generation'] = None
            body[field] = ('ROBUST' if field == 'consumer_type' else 'robust') + '\u0000tail'
            out.append(Case('NUL in ' + field, 'PUT', new_consumer, dumps(body), version=version))
    return out


SCHED_BODY = {'flavor': {'vcpus': 1, 'memory_mb': 64, 'root_gb': 0, 'ephemeral_gb': 0,
                         'swap': 0, 'extra_specs': {'trait:CUSTOM_ROBUST_TRAIT': 'required'}},
              'image': {'properties': {}}, 'limit': 5}

BAD_IDS = ['not-a-uuid', '%00', '%ff%fe', 'x' * 10000, '..', '%2e%2e', NOPE, NOPE.upper(),
           NOPE + 'ff', '%20', 'a%00b', '%c3%28', '%25', 'CUSTOM_lower', 'CUSTOM_' + 'X' * 300,
           '%E2%80%AE', '{' + NOPE + '}']
BAD_NAMES = ['%00', 'CUSTOM_A%00B', '%ff', 'CUSTOM_%c3%a9', 'lower', 'CUSTOM_' + 'X' * 10000,
             'VCPU', 'CUSTOM_', 'CUSTOM_A-B', 'CUSTOM_A%20B', '%2e%2e', 'HW_CPU_X86_AVX']

QUERY_GARBAGE = ['?', '?&&&', '?=', '?=x', '?robust_unknown=1', '?%00=%00', '?%ff=%fe',
                 '?%zz=%', '?a=%', '?name=a&name=b', '?name=' + 'x' * 10000, '?limit=-1',
                 '?limit=' + str(2 ** 63), '?limit=5.5', '?limit=', '?limit=0',
                 '?resources=VCPU:-1', '?resources=VCPU:' + str(2 ** 63), '?resources=,,,',
                 '?resources=VCPU', '?resources=VCPU:1,VCPU:1', '?resources=%00:1',
                 '?resources=VCPU:1&resources=VCPU:2', '?required=!', '?required=%00',
                 '?required=!!CUSTOM_X,', '?required=in:', '?member_of=in:',
                 '?member_of=in:not-a-uuid', '?member_of=!in:' + A1 + ',' + A2,
                 '?member_of=' + ','.join([A1] * 300), '?in_tree=bad', '?in_tree=' + NOPE,
                 '?uuid=bad', '?uuid=', '?resources1=VCPU:1&group_policy=bad',
                 '?resources1=VCPU:1&resources2=VCPU:1&group_policy=isolate',
                 '?resourcesX=VCPU:1', '?resources_=VCPU:1', '?same_subtree=_x',
                 '?root_required=CUSTOM_ROBUST_TRAIT&root_required=!CUSTOM_ROBUST_TRAIT',
                 '?root_required=', '?project_id=&user_id=', '?consumer_type=%00',
                 '?consumer_type=lower', '?associated=maybe', '?name=in:', '?name=startswith:',
                 '?' + '&'.join('required=CUSTOM_R%d' % i for i in range(1500)),
                 '?resources=' + ','.join('CUSTOM_R%d:1' % i for i in range(600))]

AC_QUERIES = [q.replace('A1', A1).replace('R1', R1) for q in [
    'resources=VCPU:1',
    'resources=VCPU:0',
    'resources=VCPU:1,VCPU:2',
    'resources=VCPU:9223372036854775808',
    'resources=VCPU:2147483648',
    'resources=VCPU:-0',
    'resources=VCPU:+1',
    'resources=VCPU: 1',
    'resources=VCPU:1 ',
    'resources=VCPU:0x10',
    'resources=VCPU:1e3',
    'resources=:1',
    'resources=VCPU:',
    'resources=VCPU::1',
    'resources=,VCPU:1',
    'resources=vcpu:1',
    'resources=CUSTOM_NOPE:1',
    'resources=VCPU:1&limit=0',
    'resources=VCPU:1&limit=-5',
    'resources=VCPU:1&limit=abc',
    'resources=VCPU:1&limit=99999999999999999999',
    'resources=VCPU:1&required=',
    'resources=VCPU:1&required=,',
    'resources=VCPU:1&required=!',
    'resources=VCPU:1&required=in:',
    'resources=VCPU:1&required=in:,',
    'resources=VCPU:1&required=in:HW_CPU_X86_AVX,!HW_CPU_X86_SSE',
    'resources=VCPU:1&required=!HW_CPU_X86_AVX,HW_CPU_X86_AVX',
    'resources=VCPU:1&required=HW_CPU_X86_AVX&required=!HW_CPU_X86_AVX',
    'resources=VCPU:1&member_of=',
    'resources=VCPU:1&member_of=in:',
    'resources=VCPU:1&member_of=!',
    'resources=VCPU:1&member_of=!in:',
    'resources=VCPU:1&member_of=!in:A1',
    'resources=VCPU:1&member_of=A1,',
    'resources=VCPU:1&in_tree=',
    'resources=VCPU:1&in_tree=R1',
    'resources=VCPU:1&in_tree=A1A1A1A1000040008000000000000001',
    'resources1=VCPU:1',
    'resources1=VCPU:1&group_policy=none',
    'resources1=VCPU:1&resources2=MEMORY_MB:1&group_policy=isolate',
    'resources1=VCPU:1&required2=HW_CPU_X86_AVX',
    'required1=HW_CPU_X86_AVX',
    'member_of1=A1',
    'resources_X=VCPU:1&group_policy=none',
    'resources_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=VCPU:1&group_policy=none',
    'resources_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=VCPU:1',
    'resources_%21=VCPU:1',
    'resources0=VCPU:1&group_policy=none',
    'resources00=VCPU:1&resources0=VCPU:1&group_policy=none',
    'resources1=VCPU:1&resources01=VCPU:1&group_policy=none',
    'resources1=VCPU:1&same_subtree=_1',
    'resources1=VCPU:1&same_subtree=1',
    'resources1=VCPU:1&same_subtree=_1,_2',
    'resources1=VCPU:1&same_subtree=',
    'resources1=VCPU:1&same_subtree=,',
    'resources1=VCPU:1&same_subtree=_1,,_1',
    'resources1=VCPU:1&resources2=VCPU:1&same_subtree=_1,_2&group_policy=none',
    'resources=VCPU:1&root_required=',
    'resources=VCPU:1&root_required=!',
    'resources=VCPU:1&root_required=HW_CPU_X86_AVX,!HW_CPU_X86_AVX',
    'resources=VCPU:1&root_required=in:HW_CPU_X86_AVX',
    'resources=VCPU:1&root_required=NOPE',
    'resources=VCPU:1&root_required=HW_CPU_X86_AVX&root_required=HW_CPU_X86_SSE',
    'resources=VCPU:1&required=NOPE',
    'resources=VCPU:1&forbidden=HW',
    'resources=VCPU:1&group_policy=isolate',
    'group_policy=none',
    'resources=VCPU:1&resources=MEMORY_MB:1',
    'resources1=VCPU:1&resources1=MEMORY_MB:1&group_policy=none',
    '',
    'limit=1',
    'resources=DISK_GB:1&required=CUSTOM_ROBUST_TRAIT',
    'resources=VCPU:1&member_of=in:A1,A1,A1',
    'resources1=VCPU:1&resources2=VCPU:1&resources3=VCPU:1&resources4=VCPU:1&resources5=VCPU:1&resources6=VCPU:1&resources7=VCPU:1&resources8=VCPU:1&group_policy=none',
    'resources=VCPU:1&required=%FF',
    'resources=VCPU:1&required=CUSTOM_%00',
    'resources=VCPU:1&member_of=%FF',
    'resources=%FF:1',
    'resources%FF=VCPU:1',
    'resources=VCPU:1&allocation_ratio=1',
    'resources1=VCPU:1&' + '&'.join(['required1=HW_CPU_X86_AVX'] * 50) + '&group_policy=none',
    'resources=VCPU:1&in_tree=' + 'x' * 5000,
    'resources_' + 'x' * 64 + '=VCPU:1&group_policy=none',
    'resources_' + 'x' * 65 + '=VCPU:1']]

GET_PATHS = ['/', '/resource_providers', '/resource_providers/' + R1,
             '/resource_providers/%s/inventories' % R1, '/resource_providers/%s/inventories/VCPU' % R1,
             '/resource_providers/%s/usages' % R1, '/resource_providers/%s/aggregates' % R1,
             '/resource_providers/%s/allocations' % R1, '/resource_providers/%s/traits' % R1,
             '/resource_classes', '/resource_classes/CUSTOM_ROBUST', '/traits',
             '/traits/CUSTOM_ROBUST_TRAIT', '/allocations/' + C1, '/allocation_candidates',
             '/usages']


def path_cases(version):
    """Bad ids and names in every path capture, for every method."""
    rp = '/resource_providers/'
    out = []
    for bad in BAD_IDS:
        for method, tmpl in (('GET', '{id}'), ('GET', '{id}/inventories'),
                             ('GET', '{id}/inventories/VCPU'), ('GET', '{id}/usages'),
                             ('GET', '{id}/aggregates'), ('GET', '{id}/allocations'),
                             ('GET', '{id}/traits'), ('DELETE', '{id}'),
                             ('DELETE', '{id}/inventories'), ('DELETE', '{id}/inventories/VCPU'),
                             ('DELETE', '{id}/traits'), ('GET', R1 + '/inventories/{id}')):
            out.append(Case('bad rp id', method, rp + tmpl.format(id=bad), version=version))
        out.append(Case('DELETE bad inventory rc', 'DELETE', rp + R1 + '/inventories/' + bad,
                        version=version))
        for method in ('GET', 'DELETE'):
            out.append(Case('bad consumer', method, '/allocations/' + bad, version=version,
                            expect='any' if method == 'GET' else 'client'))
        out.append(Case('PUT bad consumer', 'PUT', '/allocations/' + bad,
                        dumps({'allocations': {R1: {'resources': {'VCPU': 1000}}},
                               'project_id': PROJECT, 'user_id': USER,
                               'consumer_generation': None}), version=version))
    for bad in BAD_NAMES:
        for method in ('GET', 'PUT', 'DELETE'):
            expect = 'any' if method == 'GET' else 'client'
            out.append(Case('bad rc name', method, '/resource_classes/' + bad, version=version,
                            headers=std_headers(version, body=False), expect=expect))
            out.append(Case('bad trait name', method, '/traits/' + bad, version=version,
                            headers=std_headers(version, body=False), expect=expect))
    return out


def in_use_cases(version):
    """Deletes and updates that must be refused because the data is in use."""
    rp = '/resource_providers/'
    m = minor(version)
    return [Case('delete parent with allocations', 'DELETE', rp + R1, version=version),
            Case('delete used inventory', 'DELETE', rp + R1 + '/inventories/VCPU',
                 version=version),
            Case('delete used inventories', 'DELETE', rp + R1 + '/inventories', version=version),
            Case('delete used class', 'DELETE', '/resource_classes/CUSTOM_ROBUST', version=version,
                 expect='client' if m >= 2 else 404),
            Case('delete standard class', 'DELETE', '/resource_classes/VCPU', version=version),
            Case('delete used trait', 'DELETE', '/traits/CUSTOM_ROBUST_TRAIT', version=version),
            Case('delete standard trait', 'DELETE', '/traits/HW_CPU_X86_AVX', version=version),
            Case('delete missing consumer', 'DELETE', '/allocations/' + NOPE, version=version)]


def body_cases(version, rng, k):
    m = minor(version)
    out = []
    for t in body_templates(m):
        what = '%s %s' % (t.method, t.path)
        if not t.available:
            # The route does not exist at this version: only the framing.
            out.append(Case(what + ' (too old)', t.method, t.path, dumps(t.template),
                            version=version))
            out.append(Case(what + ' (too old, garbage)', t.method, t.path, b'{',
                            version=version))
            continue
        if t.send_template:
            out.append(Case(what + ' template', t.method, t.path, dumps(t.template),
                            version=version))
        for label, body, key in body_mutations(t.template, rng, k, t.skip):
            out.append(Case('%s %s' % (what, label), t.method, t.path, body, version=version,
                            expect='any' if key in t.valid else 'client'))
    for label, body, _ in body_mutations(SCHED_BODY, rng, k):
        out.append(Case('POST scheduling ' + label, 'POST', '/placid/allocation_candidates', body,
                        version=version, expect='any'))
    return out + nul_cases(version)


def query_cases(version, rng, k):
    out = []
    queries = QUERY_GARBAGE if k is None else rng.sample(QUERY_GARBAGE, k * 2)
    for p in GET_PATHS:
        for q in queries:
            out.append(Case('GET query', 'GET', p + q, version=version, expect='any',
                            headers=std_headers(version, body=False)))
    for q in AC_QUERIES:
        out.append(Case('candidates query', 'GET', '/allocation_candidates?' + q, version=version,
                        expect='any', headers=std_headers(version, body=False)))
        out.append(Case('explain query', 'GET', '/placid/allocation_candidates/explain?' + q,
                        version=version, expect='any', headers=std_headers(version, body=False)))
    return out


# Paths served without a token: the version document and the health check.
PUBLIC = ('/', '/healthcheck')


def framing_cases():
    """Headers, tokens, content types, sizes and chunked bodies."""
    rp_inv = '/resource_providers/%s/inventories' % R1
    stale = dumps({'inventories': {'VCPU': {'total': 8}}, 'resource_provider_generation': 999})
    big = b'{"inventories": {"VCPU": {"total": 8}}, "pad": "' + b'x' * MAX_BODY + b'"}'
    out = []
    for method, path, json_body, last in route_rows():
        concrete = concrete_path(path)
        body = stale if json_body else None
        out.append(Case('no token', method, concrete, body,
                        expect=401 if path not in PUBLIC else 'any',
                        headers={'Content-Type': 'application/json'} if body else {}))
        # An empty token is a token of nobody (upstream's noauth2): 403.
        out.append(Case('empty token', method, concrete, body,
                        expect='client' if path not in PUBLIC else 'any', headers=dict(std_headers(last), **{'X-Auth-Token': ''})))
        out.append(Case('non-admin token', method, concrete, body,
                        expect=403 if path not in PUBLIC else 'any',
                        headers=std_headers(last, token='someone:else')))
        for v in ('1', 'foo', '1.x', '2.0', '1.40', '1.' + '9' * 30, '-1.5', '1.5.5', '\x7f'):
            out.append(Case('version %r' % v, method, concrete, body,
                            expect=406 if v in ('2.0', '1.40') else 400,
                            json_error=method != 'HEAD',  # a HEAD answer has no body
                            headers=dict(std_headers('latest'),
                                         **{'OpenStack-API-Version': 'placement ' + v})))
        if method == 'GET':
            # No placement entry at all means 1.0: the request runs.
            for v in ('', 'placement', 'compute 2.1'):
                out.append(Case('version %r' % v, method, concrete, expect='any',
                                headers=dict(std_headers('latest', body=False),
                                             **{'OpenStack-API-Version': v})))
        if json_body:
            for ct in ('text/plain', 'application/jsonx', 'application/x-www-form-urlencoded',
                       'multipart/form-data; boundary=x', '\x01', 'json'):
                out.append(Case('content-type %r' % ct, method, concrete, stale, version=last,
                                headers=dict(std_headers(last), **{'Content-Type': ct})))
            h = std_headers(last)
            del h['Content-Type']
            out.append(Case('no content-type', method, concrete, stale, version=last, headers=h))
            out.append(Case('oversized body', method, concrete, big, version=last, expect=413))
            out.append(Case('oversized chunked body', method, concrete, version=last,
                            chunks=[big[:MAX_BODY // 2], big[MAX_BODY // 2:]], expect=413))
        if method == 'GET':
            for acc in ('text/html', 'text/plain', 'image/png'):
                out.append(Case('accept %s' % acc, method, concrete, expect='any',
                                headers=dict(std_headers('latest', body=False), Accept=acc),
                                json_error=False))
    out.append(Case('chunked body', 'PUT', rp_inv, chunks=[stale[:10], stale[10:]], expect=409))
    out.append(Case('chunked garbage', 'PUT', rp_inv, chunks=[b'{"inv', b'\xff\x00'], expect=400))
    out.append(Case('body exactly at the limit', 'PUT', rp_inv,
                    b'{"pad": "' + b'x' * (MAX_BODY - 11) + b'"}', expect=400))
    out.append(Case('bad content-length', 'PUT', rp_inv, stale, expect='client', json_error=False,
                    headers=dict(std_headers('latest'), **{'Content-Length': 'abc'})))
    out.append(Case('body on a GET', 'GET', '/resource_providers', stale, expect='any'))
    out.append(Case('body on a DELETE', 'DELETE', '/allocations/' + NOPE, b'{', expect=404))
    out.append(Case('unknown method', 'PATCH', '/resource_providers', stale, expect=405))
    out.append(Case('unknown path', 'GET', '/robust/nowhere', expect=404))
    out.append(Case('path with NUL', 'GET', '/resource_providers%00', expect='any'))
    out.append(Case('long path', 'GET', '/resource_providers/' + 'a/' * 5000, expect=404))
    out += raw_cases()
    out.append(Case('huge header', 'GET', '/resource_providers', expect='client', json_error=False,
                    headers=dict(std_headers('latest', body=False),
                                 **{'X-Robust': 'x' * 200000})))
    return out


def raw_cases():
    """Requests that only raw bytes can express: broken framing, clients that
    go away mid-request, pipelining. Answers that libmicrohttpd itself gives
    (before placid sees the request) are HTML, so only their status counts."""
    inv = ('/resource_providers/%s/inventories' % R1).encode()
    head = (b'PUT ' + inv + b' HTTP/1.1\r\nHost: x\r\nX-Auth-Token: admin\r\n'
            b'OpenStack-API-Version: placement latest\r\nContent-Type: application/json\r\n')
    close = b'Connection: close\r\n'
    stale = dumps({'inventories': {'VCPU': {'total': 8}}, 'resource_provider_generation': 999})

    def case(label, raw, expect='client', json_error=True, abort=False):
        return Case(label, 'RAW', inv.decode(), raw=raw, expect=expect, json_error=json_error,
                    abort=abort)

    out = [case('transfer-encoding gzip', head + close + b'Transfer-Encoding: gzip\r\n\r\n'
                + stale, 400),
           case('transfer-encoding gzip, chunked', head + close +
                b'Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n', 400),
           case('chunked in capitals', head + close + b'Transfer-Encoding: CHUNKED\r\n\r\n'
                + b'%x\r\n%s\r\n0\r\n\r\n' % (len(stale), stale), 409),
           case('bad chunk size', head + close + b'Transfer-Encoding: chunked\r\n\r\nzz\r\n{}'
                b'\r\n0\r\n\r\n', json_error=False),
           case('huge chunk size', head + close + b'Transfer-Encoding: chunked\r\n\r\n'
                + b'f' * 20 + b'\r\n{}\r\n0\r\n\r\n', json_error=False),
           case('negative content-length', head + close + b'Content-Length: -1\r\n\r\n{}',
                json_error=False),
           case('content-length 2**70', head + close + b'Content-Length: %d\r\n\r\n{}' % 2 ** 70,
                json_error=False),
           case('expect 100-continue, too big', head + close +
                b'Expect: 100-continue\r\nContent-Length: 99999999\r\n\r\n', 413),
           case('expect 100-continue', head + close + b'Expect: 100-continue\r\n'
                b'Content-Length: %d\r\n\r\n%s' % (len(stale), stale), 409),
           case('body cut short', head + b'Content-Length: 1000\r\n\r\n{"inv', abort=True),
           case('headers cut short', head, abort=True),
           case('chunk cut short', head + b'Transfer-Encoding: chunked\r\n\r\n100\r\n{"i',
                abort=True),
           case('oversized body, client gone', head + b'Content-Length: %d\r\n\r\n' % (
               MAX_BODY + 1) + b'x' * 1000, abort=True),
           # Pipelined: a refused request, then another on the same connection.
           case('pipelined after 404', b'GET /resource_providers/%00 HTTP/1.1\r\nHost: x\r\n'
                b'X-Auth-Token: admin\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n' + close + b'\r\n',
                404),
           case('no Host, HTTP/1.0', b'GET /resource_providers/%ff HTTP/1.0\r\n'
                b'X-Auth-Token: admin\r\n\r\n', 404),
           case('header with invalid UTF-8', b'PUT ' + inv + b' HTTP/1.1\r\nHost: x\r\n'
                b'X-Auth-Token: admin\r\nContent-Type: \xff\xfe\r\n' + close +
                b'Content-Length: 2\r\n\r\n{}', 415),
           case('version header with invalid UTF-8', b'GET ' + inv + b' HTTP/1.1\r\nHost: x\r\n'
                b'X-Auth-Token: admin\r\nOpenStack-API-Version: placement \xff\r\n' + close +
                b'\r\n', 400),
           case('query with 1500 parameters', b'GET /allocation_candidates?' +
                b'&'.join(b'r%d' % i for i in range(1500)) +
                b' HTTP/1.1\r\nHost: x\r\nX-Auth-Token: admin\r\n' + close + b'\r\n', 414),
           case('query of 40000 empty parameters', b'GET /resource_providers?' + b'a&' * 40000 +
                b' HTTP/1.1\r\nHost: x\r\nX-Auth-Token: admin\r\n' + close + b'\r\n',
                json_error=False),
           case('URI over the memory limit', b'GET /resource_providers?name=' + b'x' * 300000 +
                b' HTTP/1.1\r\nHost: x\r\nX-Auth-Token: admin\r\n' + close + b'\r\n',
                json_error=False)]
    return out


def route_rows():
    """(method, pattern, json_body, last version) of every row in
    api/routes.c, or a minimal list when the source tree is not beside this
    file."""
    try:
        text = open(ROUTES_C).read()
    except OSError:
        return [('GET', '/', False, 'latest')]
    text = text.replace('RP ', '"/resource_providers/{uuid}" ').replace('" "', '')
    rows = re.findall(r'\{\s*"([A-Z]+)",\s*"([^"]+)",\s*(ALL|MV\(1,\s*\d+\),\s*'
                      r'(?:MV_LATEST|MV\(1,\s*(\d+)\)))([^\n]*)', text)
    return sorted({(m, p, 'json_body = true' in rest, '1.' + last if last else 'latest')
                   for m, p, _, last, rest in rows})


def route_table():
    return sorted({(m, p) for m, p, _, _ in route_rows()})


def concrete_path(pattern):
    name = 'CUSTOM_ROBUST_TRAIT' if pattern.startswith('/traits') else 'CUSTOM_ROBUST'
    return (pattern.replace('{uuid}', R1).replace('{rc}', 'VCPU')
            .replace('{name}', name).replace('{consumer_uuid}', C1))


def covered_routes():
    """The (method, pattern) pairs that the cases above exercise with hostile
    input; every route of the table must be among them."""
    rp = '/resource_providers/{uuid}'
    pairs = {('GET', '/'), ('GET', '/healthcheck'), ('HEAD', '/healthcheck'),
             ('GET', '/resource_providers'), ('POST', '/resource_providers'),
             ('POST', '/placid/allocation_candidates'), ('GET', '/allocation_candidates'),
             ('GET', '/placid/allocation_candidates/explain'),
             ('GET', '/usages'), ('POST', '/allocations'), ('POST', '/reshaper'),
             ('GET', '/resource_classes'), ('POST', '/resource_classes'), ('GET', '/traits')}
    for m in ('GET', 'PUT', 'DELETE'):
        pairs |= {(m, rp), (m, rp + '/inventories'), (m, rp + '/inventories/{rc}'),
                  (m, rp + '/traits'), (m, '/resource_classes/{name}'), (m, '/traits/{name}'),
                  (m, '/allocations/{consumer_uuid}')}
    pairs |= {('POST', rp + '/inventories'), ('GET', rp + '/usages'), ('GET', rp + '/aggregates'),
              ('PUT', rp + '/aggregates'), ('GET', rp + '/allocations')}
    return pairs


# ---------------------------------------------------------------- checking

SHORT = {R1: 'R1', R2: 'R2', R3: 'R3', R4: 'R4', C1: 'C1', A1: 'A1', A2: 'A2', NOPE: 'NOPE'}


def shorten(text):
    text = str(text)
    for long, short in SHORT.items():
        text = text.replace(long, short)
    return text


def describe(case):
    return '%s %s [%s] %s' % (case.method, shorten(case.path)[:90], case.version,
                              shorten(case.label)[:140])


def check_answer(case, r):
    """Returns a problem description, or None."""
    where = describe(case)
    if r is None:
        return None if case.abort else '%s: connection closed without an answer' % where
    if r.status >= 500:
        return '%s: %d %s' % (where, r.status, r.body[:300])
    if case.expect == 'client' and not 400 <= r.status < 500:
        return '%s: expected 4xx, got %d %s' % (where, r.status, r.body[:200])
    if isinstance(case.expect, int) and r.status != case.expect:
        return '%s: expected %d, got %d %s' % (where, case.expect, r.status, r.body[:200])
    if r.status < 400:
        if r.body and 'json' in r.headers.get('content-type', ''):
            try:
                r.json()
            except ValueError as e:
                return '%s: %d with invalid JSON (%s)' % (where, r.status, e)
        return None
    if not case.json_error:
        return None
    return check_error_body(case, r, where)


def check_error_body(case, r, where):
    if 'json' not in r.headers.get('content-type', ''):
        return '%s: %d without a JSON body (%s)' % (where, r.status,
                                                  r.headers.get('content-type'))
    try:
        doc = r.json()
    except ValueError as e:
        return '%s: %d with invalid JSON (%s)' % (where, r.status, e)
    if r.status == 401:
        if not isinstance(doc, dict) or doc.get('title') != 'Unauthorized':
            return '%s: bad 401 body %s' % (where, r.body[:200])
        return None
    errs = doc.get('errors') if isinstance(doc, dict) else None
    if not isinstance(errs, list) or not errs:
        return '%s: %d body is not {"errors": [...]}: %s' % (where, r.status, r.body[:200])
    e = errs[0]
    rid = r.headers.get('x-openstack-request-id')
    if (not isinstance(e, dict) or e.get('status') != r.status
            or not isinstance(e.get('title'), str) or not e['title']
            or not isinstance(e.get('detail'), str)
            or not isinstance(e.get('request_id'), str) or e['request_id'] != rid):
        return '%s: malformed error entry %s (request id header %s)' % (where, r.body[:300], rid)
    version = r.headers.get('openstack-api-version', '')
    m = re.match(r'placement 1\.(\d+)$', version)
    if m and (int(m.group(1)) >= 23) != ('code' in e):
        return '%s: "code" presence wrong at %s: %s' % (where, version, r.body[:200])
    return None


# ---------------------------------------------------------------- driver

def start_server(binary, tmp):
    port = free_port()
    err = open(os.path.join(tmp, 'stderr.log'), 'wb')
    env = dict(os.environ)
    env.setdefault('ASAN_OPTIONS', 'detect_leaks=1')
    env.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1')
    # launch(): tmp/robust.db, or a fresh PostgreSQL database under
    # PLACID_E2E_DB=postgresql (helpers/placid_e2e.py).
    proc = launch(binary, port, os.path.join(tmp, 'robust.db'),
                  ['--threads', str(WORKERS),
                   '--log-level', os.environ.get('ROBUST_LOG_LEVEL', 'warn')],
                  stdout=subprocess.DEVNULL, stderr=err, env=env)
    c = Client(port)
    for _ in range(400):
        if proc.poll() is not None:
            raise Failure('server exited with %s at start' % proc.returncode)
        try:
            if c.send('GET', '/'):
                return proc, c
        except OSError:
            pass
        time.sleep(0.05)
    raise Failure('server did not answer GET / in 20 s')


def stop_server(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return 'server did not stop within 30 s of SIGTERM'
    if proc.returncode != 0:
        return 'server exited with status %s' % proc.returncode
    return None


def is_asan_build(binary):
    try:
        with open(binary, 'rb') as f:
            return b'__asan_init' in f.read()
    except OSError:
        return False


def build_cases():
    rng = random.Random(20240601)
    cases = framing_cases()
    for i, version in enumerate(VERSIONS):
        # Every hostile value at latest; a rotating sample at the others.
        k = None if version == 'latest' else 4
        cases += body_cases(version, rng, k)
        cases += path_cases(version) if version in ('1.0', '1.20', 'latest') else []
        cases += in_use_cases(version)
        cases += query_cases(version, rng, k)
    return cases


def run_cases(client, proc, cases, problems):
    lock = threading.Lock()
    deadline = time.monotonic() + HAMMER_BUDGET
    done = [0]
    stop = threading.Event()

    def one(case):
        if stop.is_set() or time.monotonic() > deadline:
            return
        try:
            if case.raw is not None:
                r = client.send_raw(case.raw, case.abort)
            else:
                r = client.send(case.method, case.path, case.body, case.headers, case.chunks)
            problem = check_answer(case, r)
        except (Failure, OSError) as e:
            problem = '%s: %s' % (describe(case), e)
        with lock:
            done[0] += 1
            if proc.poll() is not None:
                problems.append('server died (status %s) around %s' % (
                    proc.returncode, describe(case)))
                stop.set()
            elif problem:
                problems.append(problem)

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(one, cases))
    return done[0]


def main():
    if len(sys.argv) < 2:
        print('usage: robustness.py PLACID_BINARY [AGENT_BINARY]')
        return 2
    binary = sys.argv[1]
    asan = is_asan_build(binary)
    problems = []
    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix='placid-robust-')
    missing = sorted(set(route_table()) - covered_routes())
    if missing:
        problems.append('routes without hostile cases: %s' % missing)
    proc = None
    sent = 0
    try:
        proc, client = start_server(binary, tmp)
        create_data_set(client)
        before = snapshot(client)
        cases = build_cases()
        sent = run_cases(client, proc, cases, problems)
        if sent < len(cases) and proc.poll() is None and not problems:
            print('note: time budget reached after %d of %d cases' % (sent, len(cases)))
        if proc.poll() is None:
            r = client.send('GET', '/')
            if r is None or r.status != 200:
                problems.append('server not answering GET / after the hostile requests')
            else:
                problems += check_consistency(client, before)
    except Failure as e:
        problems.append(str(e))
    finally:
        if proc is not None:
            stopped = stop_server(proc)
            if stopped:
                problems.append(stopped)
    stderr = open(os.path.join(tmp, 'stderr.log'), 'rb').read().decode('utf-8', 'replace')
    # placid logs at ERROR what must never happen (a statement left active,
    # a connection released inside a transaction, an unexpected SQLite error).
    for line in stderr.splitlines():
        if ' ERROR ' in line:
            problems.append('server logged an error: %s' % line[:300])
    for mark in SANITIZER_MARKS:
        if mark in stderr:
            i = stderr.index(mark)
            problems.append('sanitizer report in server stderr: %s' % stderr[max(0, i - 200):i + 1500])
    if problems:
        with open(os.path.join(tmp, 'problems.txt'), 'w') as f:
            f.write('\n'.join(problems) + '\n')
    for p in problems[:40]:
        print('FAIL ' + p)
    if len(problems) > 40:
        print('... and %d more' % (len(problems) - 40))
    print('robustness: %d hostile requests over %d routes, %s build, %.1f s: %s' % (
        sent, len(route_table()), 'ASan' if asan else 'plain', time.monotonic() - started,
        'ok' if not problems else '%d problems' % len(problems)))
    if not problems:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print('server stderr and database kept in ' + tmp)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
