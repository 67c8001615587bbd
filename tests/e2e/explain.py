#!/usr/bin/python3
""""Why is there no host?" (issue 12) end to end, in the packed-ring spirit.

argv[1] is the placid binary (argv[2], the agent, is not used). Five hosts:
cn-old (no COMPUTE_NET_VIRTIO_PACKED), cn-packed (fits), cn-full (has the
trait, VCPU used up), cn-disabled (has the trait and
COMPUTE_STATUS_DISABLED), cn-elsewhere (has the trait, in another
aggregate). GET /placid/allocation_candidates/explain and POST
/placid/allocation_candidates with "explain": true must name each reason,
count what the plain query returns, list the near misses, give the
derivation of the POST query (also for a hw:cpu_policy=mixed flavor: the
translator's own record of the PCPU/VCPU split), render as text for
Accept: text/plain, and validate against api/explain.schema.json
(python3-jsonschema). Prints ok/FAIL lines, exits non-zero on failure; the
server's log must hold no sanitizer report.
"""
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
import uuid

import jsonschema

from helpers.placid_e2e import Server, check, failures, one_line_error, refuse

PLACID = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = json.load(open(os.path.join(HERE, '..', '..', 'api', 'explain.schema.json')))
PACKED = 'COMPUTE_NET_VIRTIO_PACKED'
AGG = '14a5c8a3-5a99-4e8f-88be-00d85fcb1c17'
OTHER = 'a9a9a9a9-0000-4000-8000-000000000001'


class Placid(Server):
    def __init__(self, tmp, args=()):
        super().__init__(PLACID, tmp, list(args), name='p')
        self.base = self.url

    def call(self, method, path, body=None, token='admin', accept=None):
        headers = {'x-auth-token': token, 'openstack-api-version': 'placement latest'}
        if body is not None:
            headers['content-type'] = 'application/json'
        if accept:
            headers['accept'] = accept
        req = urllib.request.Request(self.base + path, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.headers.get('content-type', ''), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get('content-type', ''), e.read().decode()

    def ok(self, method, path, body=None):
        status, _, text = self.call(method, path, body)
        if status >= 300:
            raise RuntimeError(f'{method} {path}: {status} {text}')
        return json.loads(text) if text else None


def host(p, name, traits, aggs, used_vcpu=0):
    u = str(uuid.uuid4())
    p.ok('POST', '/resource_providers', {'name': name, 'uuid': u})
    p.ok('PUT', f'/resource_providers/{u}/inventories', {
        'resource_provider_generation': 0, 'inventories': {
            'VCPU': {'total': 8, 'max_unit': 8}, 'MEMORY_MB': {'total': 4096, 'max_unit': 4096},
            'DISK_GB': {'total': 100, 'max_unit': 100}}})
    p.ok('PUT', f'/resource_providers/{u}/aggregates',
         {'resource_provider_generation': 1, 'aggregates': aggs})
    p.ok('PUT', f'/resource_providers/{u}/traits',
         {'resource_provider_generation': 2, 'traits': ['COMPUTE_NODE'] + traits})
    if used_vcpu:
        p.ok('PUT', f'/allocations/{uuid.uuid4()}', {
            'allocations': {u: {'resources': {'VCPU': used_vcpu}}}, 'consumer_generation': None,
            'project_id': str(uuid.uuid4()), 'user_id': str(uuid.uuid4()),
            'consumer_type': 'INSTANCE'})
    return u


def valid(doc, what):
    try:
        jsonschema.validate(doc, SCHEMA)
        check(True, f'{what}: valid against api/explain.schema.json')
    except jsonschema.ValidationError as e:
        check(False, f'{what}: schema: {e.message}')


def reasons(doc):
    return {(t['constraint'], t.get('reason')): t['trees'] for t in doc['eliminated']}


def main():
    with tempfile.TemporaryDirectory() as tmp:
        p = Placid(tmp)
        try:
            run(p)
        finally:
            rc, log = p.stop()
            check(rc == 0, 'placid exits 0 on SIGTERM')
            check(not any(m in log for m in ('AddressSanitizer', 'LeakSanitizer',
                                             'runtime error:')), 'no sanitizer report')
        randomized(tmp)
        flags(tmp)
    print(f'{"FAIL" if failures else "ok"}: explain, {len(failures)} failure(s)')
    return 1 if failures else 0


EXPLAINED = {}  # query -> the explanation of run()


def randomized(tmp):
    """--randomize-candidates changes which candidates a limited plain query
    returns, not why the others fail: an explanation is the same with it."""
    p = Placid(tmp, ['--randomize-candidates'])
    try:
        for q, doc in EXPLAINED.items():
            again = p.ok('GET', '/placid/allocation_candidates/explain?' + q)
            check(again == doc, f'--randomize-candidates: the same explanation ({q[:40]}...)')
    finally:
        p.stop()


def same_answer(p, q, what):
    """The explanation answers exactly where the plain query does (status
    and error text)."""
    ps, _, pt = p.call('GET', '/allocation_candidates?' + q)
    es, _, et = p.call('GET', '/placid/allocation_candidates/explain?' + q)
    if ps == 200:
        check(es == 200, f'{what}: plain 200, explain {es}')
        return json.loads(et) if es == 200 else None
    detail = lambda t: [e['detail'] for e in json.loads(t)['errors']]
    check(es == ps and detail(et) == detail(pt), f'{what}: plain {ps}, explain {es} (same error)')
    return None


def flags(tmp):
    for args, env in ((['--explain-near-misses', '101'], None),
                      (['--explain-near-misses', 'some'], None),
                      ([], dict(os.environ, PLACID_EXPLAIN_NEAR_MISSES='-1'))):
        check(one_line_error(refuse(PLACID, tmp, args, env), 'explain-near-misses'),
              f'bad near-miss count {args or env["PLACID_EXPLAIN_NEAR_MISSES"]}: one-line error')
    os.remove(os.path.join(tmp, 'p.db'))
    p = Placid(tmp, ['--explain-near-misses', '1'])
    try:
        host(p, 'a', [], [AGG], used_vcpu=8)
        host(p, 'b', [], [AGG], used_vcpu=8)
        doc = p.ok('GET', '/placid/allocation_candidates/explain?resources=VCPU:1')
        check(len(doc['near_misses']) == 1 and doc['eliminated'][0]['trees'] == 2,
              '--explain-near-misses 1: one near miss of two')
    finally:
        p.stop()


def mixed_cpu_flavor(p):
    """hw:cpu_policy=mixed: the derivation is the translator's own record of
    the PCPU/VCPU split, and the hosts (VCPU only) all lack PCPU."""
    flavor = {'vcpus': 4, 'memory_mb': 512, 'root_gb': 10,
              'extra_specs': {'hw:cpu_policy': 'mixed', 'hw:cpu_dedicated_mask': '^0',
                              'hw:virtio_packed_ring': 'true'}}
    plain = p.ok('POST', '/placid/allocation_candidates', {'flavor': flavor})
    status, _, text = p.call('POST', '/placid/allocation_candidates',
                             {'flavor': flavor, 'explain': True})
    check(status == 200, f'POST explain, mixed CPU flavor: {status}')
    doc = json.loads(text)
    valid(doc, 'POST explain, mixed CPU flavor')
    check(doc['candidates']['total'] == len(plain['allocation_requests']) == 0,
          'mixed CPU flavor: candidate count equals the plain POST\'s (0: no host has PCPU)')
    check(plain['query'].startswith('limit=1000&resources=DISK_GB%3A10%2CMEMORY_MB%3A512%2C'
                                    'PCPU%3A3%2CVCPU%3A1&'), f'mixed: query {plain["query"]}')
    derived = {(d['param'], d['value']): d['from'] for d in doc['derivation']}
    check(derived.get(('resources', 'PCPU:3')) ==
          'flavor vcpus=4 with flavor extra spec hw:cpu_policy=mixed: the 3 pinned by flavor '
          'extra spec hw:cpu_dedicated_mask=^0', 'PCPU:3 <= hw:cpu_policy=mixed, the mask')
    check(derived.get(('resources', 'VCPU:1')) ==
          'flavor vcpus=4 with flavor extra spec hw:cpu_policy=mixed: the 1 not pinned by '
          'flavor extra spec hw:cpu_dedicated_mask=^0', 'VCPU:1 <= hw:cpu_policy=mixed, the rest')
    check(derived.get(('root_required', PACKED)) ==
          'flavor extra spec hw:virtio_packed_ring=true', 'packed ring next to the mixed split')
    parts = {(k, v) for k, vs in (kv.split('=', 1) for kv in doc['query'].split('&'))
             for v in vs.split(',') if v}
    check(parts == set(derived), 'every part of the derived query has its source, and no more')
    check(reasons(doc).get(('no_inventory', 'no inventory of PCPU')) == 3,
          'the three packed, enabled hosts lack PCPU')


def run(p):
    host(p, 'cn-old', [], [AGG])
    host(p, 'cn-packed', [PACKED], [AGG])
    host(p, 'cn-full', [PACKED], [AGG], used_vcpu=7)
    host(p, 'cn-disabled', [PACKED, 'COMPUTE_STATUS_DISABLED'], [AGG])
    host(p, 'cn-elsewhere', [PACKED], [OTHER])

    q = (f'resources=VCPU:2,MEMORY_MB:512,DISK_GB:10&member_of={AGG}'
         f'&root_required={PACKED},!COMPUTE_STATUS_DISABLED')
    plain = p.ok('GET', '/allocation_candidates?' + q)
    status, ctype, text = p.call('GET', '/placid/allocation_candidates/explain?' + q)
    check(status == 200 and ctype.startswith('application/json'), f'GET explain: {status}')
    doc = json.loads(text)
    valid(doc, 'GET explain')
    check(doc['candidates']['total'] == len(plain['allocation_requests']) == 1,
          'candidate count equals the plain query\'s (1: cn-packed)')
    check(doc['trees'] == {'considered': 5, 'with_candidates': 1}, f'trees: {doc["trees"]}')
    r = reasons(doc)
    check(r.get(('member_of', 'not in the member_of aggregates')) == 1, 'cn-elsewhere: member_of')
    check(r.get(('root_required', f'root lacks {PACKED}')) == 1, 'cn-old: root lacks the trait')
    check(r.get(('root_required', 'root has forbidden trait COMPUTE_STATUS_DISABLED')) == 1,
          'cn-disabled: root has COMPUTE_STATUS_DISABLED')
    check(r.get(('capacity', 'VCPU asked 2, largest free 1')) == 1,
          'cn-full: VCPU asked 2, largest free 1')
    check([t['constraint'] for t in doc['eliminated']] ==
          ['member_of', 'root_required', 'root_required', 'capacity'],
          'eliminations listed in the documented order')
    near = {n['name']: n for n in doc['near_misses']}
    check(set(near) == {'cn-full', 'cn-old', 'cn-disabled', 'cn-elsewhere'},
          f'near misses: {sorted(near)}')
    check(doc['near_misses'][0]['name'] == 'cn-full' and
          'free 1 ((total 8 \u2212 reserved 0) \u00d7 ratio 1.0 \u2212 used 7)' in
          doc['near_misses'][0]['reason'], 'nearest first: cn-full with its numbers')
    print('     ' + doc['near_misses'][0]['reason'])

    status, ctype, text = p.call('GET', '/placid/allocation_candidates/explain?' + q + '&limit=1',
                                 accept='text/plain')
    check(status == 200 and ctype.startswith('text/plain'), f'text/plain: {status} {ctype}')
    check(f'root lacks {PACKED}' in text and 'cn-full' in text and
          'candidates: 1 (1 after limit=1)' in text, 'the text report names the reasons')
    print('\n'.join('     | ' + line for line in text.splitlines()))

    # The scheduling endpoint: a flavor asking for packed ring.
    flavor = {'vcpus': 2, 'memory_mb': 512, 'root_gb': 10,
              'extra_specs': {'hw:virtio_packed_ring': 'true'}}
    plain = p.ok('POST', '/placid/allocation_candidates', {'flavor': flavor})
    status, ctype, text = p.call('POST', '/placid/allocation_candidates',
                                 {'flavor': flavor, 'explain': True})
    check(status == 200, f'POST explain: {status}')
    doc = json.loads(text)
    valid(doc, 'POST explain')
    check(doc['candidates']['total'] == len(plain['allocation_requests']) == 2,
          'POST: candidate count equals the plain POST\'s (cn-packed, cn-elsewhere)')
    check({'param': 'root_required', 'value': PACKED,
           'from': 'flavor extra spec hw:virtio_packed_ring=true'} in doc['derivation'],
          'root_required=COMPUTE_NET_VIRTIO_PACKED <= hw:virtio_packed_ring=true')
    check(any(d['value'] == '!COMPUTE_STATUS_DISABLED' and 'compute_status_filter' in d['from']
              for d in doc['derivation']), '!COMPUTE_STATUS_DISABLED <= compute_status_filter')
    status, ctype, text = p.call('POST', '/placid/allocation_candidates',
                                 {'flavor': flavor, 'explain': True}, accept='text/plain')
    check(status == 200 and ctype.startswith('text/plain') and
          'hw:virtio_packed_ring=true' in text, 'POST explain as text names the flavor spec')
    mixed_cpu_flavor(p)
    status, _, text = p.call('POST', '/placid/allocation_candidates',
                             {'flavor': flavor, 'explain': 'yes'})
    check(status == 400 and 'explain' in text, f'"explain": "yes" is a 400 ({status})')

    # Same policy and validation as the candidates query.
    status, _, _ = p.call('GET', '/placid/allocation_candidates/explain?' + q, token='user')
    check(status == 403, f'explain needs the candidates policy (403 for a user: {status})')
    status, _, text = p.call('GET', '/placid/allocation_candidates/explain?resources=VCPU:x')
    check(status == 400 and 'expected positive integer' in text, f'bad query: 400 ({status})')
    status, _, text = p.call('GET', '/placid/allocation_candidates/explain?resources=CUSTOM_NO:1')
    check(status == 400 and 'No such resource class' in text, 'unknown class: 400')

    # Unknown names the plain query never reaches: it stops at the first
    # group (or root_required) that matches nothing and answers 200.
    nobody = 'b0b0b0b0-0000-4000-8000-000000000001'
    doc = same_answer(p, f'resources=VCPU:1&member_of={nobody}&required=CUSTOM_NOPE',
                      'unknown trait after an aggregate nobody is in')
    check(doc is not None and doc['trees']['considered'] == 5 and
          reasons(doc).get(('member_of', 'not in the member_of aggregates')) == 5,
          'and it explains: every tree fails member_of')
    doc = same_answer(p, f'resources=VCPU:1&root_required=COMPUTE_STATUS_DISABLED,!{PACKED}'
                      '&required=CUSTOM_NOPE', 'unknown trait after root_required nobody passes')
    check(doc is not None and doc['trees']['considered'] == 5, 'and it explains every tree')
    doc = same_answer(p, 'resources1=VCPU:100&resources2=CUSTOM_NOPE:1&group_policy=none',
                      'unknown class after a group that fits nowhere')
    check(doc is not None and any('CUSTOM_NOPE' in (t.get('reason') or '')
                                  for g in doc['groups'] for t in g.get('eliminated', [])),
          'and names the unknown class in its group')
    same_answer(p, 'resources=VCPU:1&required=CUSTOM_NOPE', 'unknown trait, nothing empty before')
    same_answer(p, 'resources1=VCPU:1&resources2=CUSTOM_NOPE:1&group_policy=none',
                'unknown class, nothing empty before')
    EXPLAINED[q] = p.ok('GET', '/placid/allocation_candidates/explain?' + q)


if __name__ == '__main__':
    sys.exit(main())
