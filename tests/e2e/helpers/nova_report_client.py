#!/usr/bin/python3
"""nova's own report client (python3-nova's
nova.scheduler.client.report.SchedulerReportClient) against placid, configured
the way nova-compute and nova-scheduler are: an oslo.config file whose
[placement] group has password auth and a region, and no endpoint, so that
the client finds placid in Keystone's service catalog.

usage: nova_report_client.py NOVA_CONF PROJECT_ID USER_ID  (a placid with no other
providers holding the packed-ring trait and no allocations of PROJECT_ID)

Run by tests/e2e/keystone.py (in its own process, as a nova service is, so
oslo.config's global CONF and nova's logging stay out of the test). Prints
"ok   ..."/"FAIL ..." lines and "info ..." lines; exits 1 on any failure.
Not a test of its own: tests/run runs tests/e2e/*.py only."""
# As every nova service does (nova/cmd/__init__.py): eventlet first. nova's
# code relies on it (e.g. ProviderTree's lock must be green to be deep-copied).
import nova.monkey_patch  # noqa: F401  pylint: disable=unused-import

import logging
import sys
import uuid

failures = []


def check(cond, what, extra=None):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
        if extra is not None:
            print("     " + str(extra)[:1500], flush=True)
    return cond


TRAIT = "COMPUTE_NET_VIRTIO_PACKED"
CUSTOM = "CUSTOM_PLACID_NOVA_E2E"
INVENTORY = {  # as the libvirt driver reports a small compute node
    "VCPU": {"total": 4, "reserved": 0, "min_unit": 1, "max_unit": 4,
             "step_size": 1, "allocation_ratio": 1.0},
    "MEMORY_MB": {"total": 4096, "reserved": 512, "min_unit": 1, "max_unit": 4096,
                  "step_size": 1, "allocation_ratio": 1.0},
    "DISK_GB": {"total": 100, "reserved": 0, "min_unit": 1, "max_unit": 100,
                "step_size": 1, "allocation_ratio": 1.0},
}


def request_spec(objects, extra_specs):
    """A RequestSpec for a 2 VCPU / 1024 MB / 10 GB flavor, as the API builds
    it for a boot request."""
    flavor = objects.Flavor(name="m1.packed", flavorid="42", vcpus=2, memory_mb=1024,
                            root_gb=10, ephemeral_gb=0, swap=0, extra_specs=extra_specs)
    return objects.RequestSpec(flavor=flavor, is_bfv=False,
                               image=objects.ImageMeta(properties=objects.ImageMetaProps()),
                               requested_resources=[],
                               request_level_params=objects.RequestLevelParams())


def main(conf_file, project_id, user_id):
    # nova logs its errors (e.g. a refused claim) through oslo.log; keep them
    # visible on stderr for the test's log, without debug noise.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    import nova.conf
    from nova import context as nova_context
    from nova import objects
    from nova import version
    from nova.compute import provider_tree
    from nova.scheduler.client import report
    from nova.scheduler import utils as sched_utils

    conf = nova.conf.CONF
    conf(["--config-file", conf_file], project="nova")
    objects.register_all()
    print(f"info nova {version.version_string()}", flush=True)
    check(conf.placement.auth_type == "password" and not conf.placement.endpoint_override,
          f"[placement] password auth, no endpoint override "
          f"(region {conf.placement.region_name}, interfaces {conf.placement.valid_interfaces})")
    ctx = nova_context.get_admin_context()
    client = report.SchedulerReportClient()

    # nova-compute at start: ensure the compute node's root provider.
    cn, plain = str(uuid.uuid4()), str(uuid.uuid4())
    name = "nova-cn1-" + cn[:8]  # the hypervisor's host name
    tree = client.get_provider_tree_and_ensure_root(ctx, cn, name=name)
    data = tree.data(cn)
    check(tree.exists(cn) and data.name == name and data.generation == 0,
          f"get_provider_tree_and_ensure_root: provider nova-cn1 created "
          f"(generation {data.generation}, roots {[r for r in tree.get_provider_uuids()]})")

    # The resource tracker's periodic update: the virt driver fills the tree
    # with inventory and traits, update_from_provider_tree flushes it.
    tree.update_inventory(cn, INVENTORY)
    tree.update_traits(cn, [TRAIT, CUSTOM, "HW_CPU_X86_AVX2"])
    client.update_from_provider_tree(ctx, tree)
    inv = client._get_inventory(ctx, cn)
    traits = client.get_provider_traits(ctx, cn)
    check(inv is not None and {k: v["total"] for k, v in inv["inventories"].items()}
          == {"VCPU": 4, "MEMORY_MB": 4096, "DISK_GB": 100},
          f"update_from_provider_tree: inventory "
          f"{inv and {k: v['total'] for k, v in inv['inventories'].items()}}")
    check(traits.traits == {TRAIT, CUSTOM, "HW_CPU_X86_AVX2"},
          f"update_from_provider_tree: traits {sorted(traits.traits)} "
          f"(custom trait created, generation {traits.generation})")

    # A second node through the single-purpose calls, without the trait.
    client.get_provider_tree_and_ensure_root(ctx, plain, name="nova-cn2-" + plain[:8])
    client.set_inventory_for_provider(ctx, plain, INVENTORY)
    client.set_traits_for_provider(ctx, plain, ["HW_CPU_X86_AVX2"])
    inv2 = client._get_inventory(ctx, plain)
    check(inv2 is not None and inv2["inventories"]["VCPU"]["total"] == 4
          and client.get_provider_traits(ctx, plain).traits == {"HW_CPU_X86_AVX2"},
          "set_inventory_for_provider + set_traits_for_provider on nova-cn2")

    # The scheduler: a flavor that asks for the packed ring. nova 26 (Zed)
    # does not yet translate hw:virtio_packed_ring into a trait, so the flavor
    # also requires it the generic way, as an operator does with this nova.
    packed = sched_utils.ResourceRequest.from_request_spec(
        request_spec(objects, {"hw:virtio_packed_ring": "true",
                               f"trait:{TRAIT}": "required"}))
    print(f"info packed flavor asks GET /allocation_candidates?{packed.to_querystring()}",
          flush=True)
    only_hw = sched_utils.ResourceRequest.from_request_spec(
        request_spec(objects, {"hw:virtio_packed_ring": "true"}))
    print(f"info with hw:virtio_packed_ring=true alone, this nova asks "
          f"?{only_hw.to_querystring()}", flush=True)
    reqs, summaries, version = client.get_allocation_candidates(ctx, packed)
    got = [list(r["allocations"]) for r in reqs or []]
    check(got == [[cn]] and reqs[0]["allocations"][cn]["resources"]
          == {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 10},
          f"get_allocation_candidates (packed flavor, microversion {version}): "
          f"{len(got)} candidate(s), only nova-cn1", reqs)
    check(summaries is not None and cn in summaries
          and TRAIT in summaries[cn].get("traits", [])
          and summaries[cn]["resources"]["VCPU"] == {"capacity": 4, "used": 0},
          "provider_summaries: nova-cn1 with the trait, VCPU capacity 4 used 0", summaries)
    plain_req = sched_utils.ResourceRequest.from_request_spec(request_spec(objects, {}))
    reqs_plain = client.get_allocation_candidates(ctx, plain_req)[0] or []
    hosts = {u for r in reqs_plain for u in r["allocations"]}
    check({cn, plain} <= hosts, f"plain flavor: both nodes are candidates ({len(hosts)} hosts)")

    # The scheduler claims the first candidate (nova.scheduler.utils.claim_resources).
    inst = str(uuid.uuid4())
    ok = client.claim_resources(ctx, inst, reqs[0], project_id, user_id,
                                allocation_request_version=version)
    check(ok is True, f"claim_resources for instance {inst[:8]}: {ok}")
    allocs = client.get_allocs_for_consumer(ctx, inst)
    check(allocs["allocations"].get(cn, {}).get("resources")
          == {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 10}
          and allocs.get("project_id") == project_id and allocs.get("user_id") == user_id
          and allocs.get("consumer_generation") == 1,
          f"get_allocs_for_consumer: {allocs.get('allocations')} "
          f"(consumer_generation {allocs.get('consumer_generation')})")
    usages = client.get_usages_counts_for_quota(ctx, project_id, user_id)
    check(usages == {"project": {"cores": 2, "ram": 1024}, "user": {"cores": 2, "ram": 1024}},
          f"get_usages_counts_for_quota: {usages}")
    rp_usages = client.get(f"/resource_providers/{cn}/usages", version="1.9").json()
    check(rp_usages.get("usages") == {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 10},
          f"provider usages of nova-cn1: {rp_usages.get('usages')}")

    # A second instance fills the node (put_allocations, as the compute
    # manager writes allocations); a third claim no longer fits: the
    # candidates no longer offer nova-cn1 and a stale claim is refused.
    inst2 = str(uuid.uuid4())
    ok = client.put_allocations(ctx, inst2, {
        "allocations": {cn: {"resources": {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 10}}},
        "project_id": project_id, "user_id": user_id, "consumer_generation": None})
    check(ok is True, f"put_allocations for a second instance: {ok}")
    reqs3 = client.get_allocation_candidates(ctx, packed)[0]
    check(reqs3 == [], f"full node: no packed candidates left ({reqs3})")
    ok = client.claim_resources(ctx, str(uuid.uuid4()), reqs[0], project_id, user_id,
                                allocation_request_version=version)
    check(ok is False, f"claim_resources on the full node (stale candidate): {ok}")
    usages = client.get_usages_counts_for_limits(ctx, project_id)
    check(usages == {"VCPU": 4, "MEMORY_MB": 2048, "DISK_GB": 20},
          f"get_usages_counts_for_limits: {usages}")

    # Instance deleted: nova-compute drops its allocations.
    ok = client.delete_allocation_for_instance(ctx, inst)
    usages = client.get_usages_counts_for_quota(ctx, project_id)
    check(ok is True and usages["project"] == {"cores": 2, "ram": 1024},
          f"delete_allocation_for_instance: {ok}, then {usages['project']}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
