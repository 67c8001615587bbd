#!/usr/bin/python3
"""Every stored string round-trips whole, at its maximum length.

Starts placid (argv[1]; argv[2], the agent, is not used) on a free
127.0.0.1 port with a fresh database and writes, through the REST API,
every string field Placement stores at the longest value its schema
accepts, in two-, three- and four-byte UTF-8 where the schema allows any
character (provider names: 200 characters; project and user ids: 255)
and in ASCII where it asks for a pattern (custom resource class and trait
names, consumer types: 255). Each value must read back byte for byte on
every route that shows it (GET /resource_providers[/{u}],
/allocations/{c} at 1.12, 1.28 and 1.38, /usages by project and user,
/resource_classes, /traits, provider inventories, usages, traits and
allocations). Multibyte class or trait names and one character past the
limit must get a 400, never a 5xx. Stops the server by PID and checks
its stderr for sanitizer reports and ERROR lines.

Needs only python3 and Debian's python3-requests. Prints ok/FAIL lines;
exits non-zero on any failure.
"""

import os
import shutil
import sys
import tempfile
import urllib.parse
import uuid

import requests

from helpers.placid_e2e import SANITIZER_MARKS, check, failures, start_placid, stop

CHARS = {'2-byte': '\u00e9', '3-byte': '\u20ac', '4-byte': '\U0001F600'}
NAME_MAX = 200           # resource provider names (characters)
EXTERNAL_ID_MAX = 255    # project_id, user_id (characters)
ASCII_NAME_MAX = 255     # custom classes, traits, consumer types


def start_server(binary, tmp):
    err = open(os.path.join(tmp, 'stderr.log'), 'wb')
    return start_placid(binary, os.path.join(tmp, 'strings.db'), ['--log-level', 'warn'],
                        stderr=err)


class Client:
    def __init__(self, url):
        self.url, self.s = url, requests.Session()

    def call(self, method, path, version='latest', body=None):
        headers = {'x-auth-token': 'admin', 'accept': 'application/json',
                   'openstack-api-version': 'placement %s' % version}
        return self.s.request(method, self.url + path, headers=headers, json=body, timeout=30)

    def ok(self, method, path, version='latest', body=None, status=(200, 201, 204)):
        r = self.call(method, path, version, body)
        if r.status_code not in status:
            check(False, '%s %s at %s -> %d %s' % (method, path[:80], version, r.status_code,
                                                    r.text[:200]))
            return None
        return r.json() if r.content else {}


def q(value):
    return urllib.parse.quote(value, safe='')


def same(what, got, want):
    check(got == want, '%s round-trips whole (%s)' % (
       what, 'ok' if got == want else 'got %r' % (got if got is None else got[:40] + '...')))


def provider_names(c, label, ch):
    name = ch * NAME_MAX
    rp = str(uuid.uuid4())
    if c.ok('POST', '/resource_providers', '1.20', {'name': name, 'uuid': rp}) is None:
        return
    for version in ('1.0', '1.20', 'latest'):
        got = c.ok('GET', '/resource_providers/' + rp, version)
        same('%s provider name in GET /resource_providers/{u} at %s' % (label, version),
             got and got.get('name'), name)
    got = c.ok('GET', '/resource_providers?name=' + q(name))
    rows = (got or {}).get('resource_providers', [])
    same('%s provider name in GET /resource_providers?name=' % label,
         rows[0].get('name') if len(rows) == 1 else None, name)
    renamed = (ch + 'x') * (NAME_MAX // 2)
    got = c.ok('PUT', '/resource_providers/' + rp, 'latest', {'name': renamed})
    same('%s provider name after PUT /resource_providers/{u}' % label,
         got and got.get('name'), renamed)
    r = c.call('POST', '/resource_providers', 'latest', {'name': ch * (NAME_MAX + 1)})
    check(r.status_code == 400, '%s provider name of %d characters -> 400 (got %d)'
          % (label, NAME_MAX + 1, r.status_code))


def ascii_names(c, rp):
    """Custom class, trait and consumer type at 255 ASCII characters."""
    cls = 'CUSTOM_' + 'C' * (ASCII_NAME_MAX - len('CUSTOM_'))
    trait = 'CUSTOM_' + 'T' * (ASCII_NAME_MAX - len('CUSTOM_'))
    c.ok('PUT', '/resource_classes/' + cls, '1.7')
    got = c.ok('GET', '/resource_classes/' + cls)
    same('custom class name in GET /resource_classes/{n}', got and got.get('name'), cls)
    got = c.ok('GET', '/resource_classes')
    names = [x['name'] for x in (got or {}).get('resource_classes', [])]
    check(cls in names, 'custom class name whole in GET /resource_classes')
    c.ok('PUT', '/traits/' + trait)
    got = c.ok('GET', '/traits?name=in:' + trait)
    same('trait name in GET /traits?name=in:', ((got or {}).get('traits') or [None])[0], trait)
    gen = c.ok('GET', '/resource_providers/' + rp)['generation']
    got = c.ok('PUT', '/resource_providers/%s/traits' % rp, 'latest',
               {'resource_provider_generation': gen, 'traits': [trait]})
    same('trait name in PUT /resource_providers/{u}/traits', ((got or {}).get('traits') or
                                                             [None])[0], trait)
    got = c.ok('GET', '/resource_providers/%s/traits' % rp)
    same('trait name in GET /resource_providers/{u}/traits',
         ((got or {}).get('traits') or [None])[0], trait)
    gen = c.ok('GET', '/resource_providers/' + rp)['generation']
    c.ok('PUT', '/resource_providers/%s/inventories' % rp, 'latest',
         {'resource_provider_generation': gen,
          'inventories': {cls: {'total': 100}, 'VCPU': {'total': 100}}})
    got = c.ok('GET', '/resource_providers/%s/inventories' % rp)
    check(cls in (got or {}).get('inventories', {}),
          'custom class name whole in GET /resource_providers/{u}/inventories')
    for bad, what in (('CUSTOM_' + '\u00c9' * 10, 'multibyte'),
                      ('CUSTOM_' + 'C' * (ASCII_NAME_MAX + 1 - len('CUSTOM_')), '256-character')):
        r = c.call('PUT', '/resource_classes/' + q(bad), '1.7')
        check(r.status_code == 400, '%s custom class name -> 400 (got %d)' % (what, r.status_code))
        r = c.call('PUT', '/traits/' + q(bad))
        check(r.status_code == 400, '%s trait name -> 400 (got %d)' % (what, r.status_code))
    return cls


def external_ids(c, rp, cls, label, ch):
    project, user = ch * EXTERNAL_ID_MAX, (ch + 'u') * (EXTERNAL_ID_MAX // 2)
    ctype = 'T' * ASCII_NAME_MAX
    consumer = str(uuid.uuid4())
    body = {'allocations': {rp: {'resources': {cls: 1, 'VCPU': 1}}}, 'project_id': project,
            'user_id': user, 'consumer_generation': None, 'consumer_type': ctype}
    if c.ok('PUT', '/allocations/' + consumer, '1.38', body) is None:
        return
    for version in ('1.12', '1.28', '1.38'):
        got = c.ok('GET', '/allocations/' + consumer, version) or {}
        same('%s project_id in GET /allocations/{c} at %s' % (label, version),
             got.get('project_id'), project)
        same('%s user_id in GET /allocations/{c} at %s' % (label, version),
             got.get('user_id'), user)
        res = got.get('allocations', {}).get(rp, {}).get('resources', {})
        check(res.get(cls) == 1, '%s: custom class whole in GET /allocations/{c} at %s'
              % (label, version))
    got = c.ok('GET', '/allocations/' + consumer, '1.38') or {}
    same('%s consumer_type in GET /allocations/{c}' % label, got.get('consumer_type'), ctype)
    got = c.ok('GET', '/usages?project_id=%s&user_id=%s' % (q(project), q(user)), '1.38') or {}
    usage = got.get('usages', {}).get(ctype, {})
    check(usage.get(cls) == 1 and usage.get('consumer_count') == 1,
          '%s project_id, user_id and consumer type find the usages (%r)'
          % (label, str(got)[:120]))
    # POST /allocations (1.38) writes the same consumer again, ids unchanged.
    gen = c.ok('GET', '/allocations/' + consumer, '1.38')['consumer_generation']
    c.ok('POST', '/allocations', '1.38', {consumer: dict(body, consumer_generation=gen)})
    got = c.ok('GET', '/allocations/' + consumer, '1.38') or {}
    same('%s project_id after POST /allocations' % label, got.get('project_id'), project)
    r = c.call('PUT', '/allocations/' + str(uuid.uuid4()), '1.38',
               dict(body, project_id=ch * (EXTERNAL_ID_MAX + 1)))
    check(r.status_code == 400, '%s project_id of %d characters -> 400 (got %d)'
          % (label, EXTERNAL_ID_MAX + 1, r.status_code))


def main():
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix='placid-strings-')
    proc, url = start_server(binary, tmp)
    try:
        c = Client(url)
        for label, ch in CHARS.items():
            provider_names(c, label, ch)
        rp = str(uuid.uuid4())
        c.ok('POST', '/resource_providers', 'latest', {'name': 'cn1', 'uuid': rp})
        cls = ascii_names(c, rp)
        for label, ch in CHARS.items():
            external_ids(c, rp, cls, label, ch)
        got = c.ok('GET', '/resource_providers/%s/usages' % rp) or {}
        check(got.get('usages', {}).get(cls) == len(CHARS),
              'custom class name whole in GET /resource_providers/{u}/usages')
        got = c.ok('GET', '/resource_providers/%s/allocations' % rp) or {}
        check(len(got.get('allocations', {})) == len(CHARS),
              'GET /resource_providers/{u}/allocations lists every consumer')
    finally:
        rc, _ = stop(proc)
    check(rc == 0, 'server exits 0 on SIGTERM (got %s)' % rc)
    with open(os.path.join(tmp, 'stderr.log'), errors='replace') as f:
        log = f.read()
    bad = [m for m in SANITIZER_MARKS if m in log] + (['ERROR line'] if ' ERROR ' in log else [])
    check(not bad, 'no sanitizer report or ERROR line in stderr %s' % (bad or ''))
    if failures:
        print('long_strings: %d failed (server log kept in %s)' % (len(failures), tmp))
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print('long_strings: all passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
