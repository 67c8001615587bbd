/* Flavor + image -> Placement allocation-candidates query, the way nova's
 * scheduler builds it (nova/scheduler/utils.py ResourceRequest, the request
 * filters packed_virtqueue_filter and compute_status_filter, and
 * nova/virt/hardware.py for the flavor/image constraints).
 *
 * Pure: no JSON, no HTTP, no store. Names are checked for existence through
 * an optional callback, so the caller decides what "exists" means (the
 * handler asks the store; unit tests pass a fixed list or NULL).
 *
 * Ownership: every string handed back lives in the arena given to the call
 * and is valid until that arena is freed; callers never free anything.
 * Input strings are borrowed for the duration of the call only (outputs that
 * need them are arena copies). */
#ifndef PLACID_API_SCHED_TRANSLATE_H
#define PLACID_API_SCHED_TRANSLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"

/* nova's CONF.scheduler.max_placement_results default: always sent as limit. */
#define SCHED_DEFAULT_LIMIT 1000

/* One flavor extra spec or image property, already stringified the way
 * nova would see it (JSON true -> "True", 5 -> "5"). */
struct sched_kv {
    const char *key;
    const char *value;
};

struct sched_request {
    long long vcpus, memory_mb, root_gb, ephemeral_gb;
    long long swap; /* MB, as in nova's flavor; counted as ceil(swap / 1024) GB */
    const struct sched_kv *extra_specs;
    size_t n_extra_specs;
    const struct sched_kv *image_props;
    size_t n_image_props;
    long long limit; /* >= 1 */
    /* nova's compute_status_filter: root_required gets !COMPUTE_STATUS_DISABLED.
     * Always on in nova; a switch here so the §7 examples without it can be checked. */
    bool forbid_disabled_computes;
    /* Fill the query's sources (the derivation explain shows); off, the
     * translation does not spend time on words nobody reads. */
    bool record_sources;
};

enum sched_name_kind { SCHED_TRAIT, SCHED_RESOURCE_CLASS };

/* Answers whether a trait or resource class exists. */
typedef bool sched_name_exists_fn(void *arg, enum sched_name_kind kind, const char *name);

/* One decoded query parameter, e.g. {"root_required", "COMPUTE_NET_VIRTIO_PACKED,!X"}. */
struct sched_param {
    const char *key;
    const char *value;
};

/* Where one part of the derived query came from: param "root_required",
 * value "COMPUTE_NET_VIRTIO_PACKED" (one comma-separated item of the
 * parameter's value), from "flavor extra spec hw:virtio_packed_ring=true".
 * The translator records it as it adds the part, so explain (issue 12)
 * shows exactly what was translated. */
struct sched_source {
    const char *param;
    const char *value;
    const char *from;
};

/* The derived query: parameters in nova's order (sorted by key, then value),
 * and, with in->record_sources, the source of every part of every
 * parameter, in the same order (an empty resources[S] of a traits-only
 * group has no part); without it, n_sources is 0. */
struct sched_query {
    struct sched_param *params;
    size_t n;
    struct sched_source *sources;
    size_t n_sources;
};

/* Translates in into out. exists may be NULL (no existence checks): then only
 * syntax is checked. Returns 0, or -1 with a one-line client-facing message
 * (meant for a 400) in err:
 *   - hw:virtio_packed_ring not a strict boolean string (nova's validator text),
 *   - flavor and image disagreeing on packed ring (nova's FlavorImageConflict text),
 *   - CPU policy, mask and realtime errors (nova's texts, see sched_cpu.h),
 *   - resources[S]:RC with an amount that is not an integer >= 0,
 *   - an unknown resource class or trait (only with exists),
 *   - more than API_MAX_REQUEST_GROUPS request groups (api/query.h).
 * Like nova, trait[S]:T values other than required/forbidden and unknown
 * group_policy values are ignored (with a warning in the log). */
int sched_translate(const struct sched_request *in, sched_name_exists_fn *exists, void *arg,
                    struct arena *a, struct sched_query *out, char *err, size_t errsz);

/* Renders q as nova's to_querystring() does (urllib's urlencode: every byte
 * but [A-Za-z0-9_.~-] percent-encoded, space as '+'), or, with encode ==
 * false, as plain "k=v&k=v" for humans. Returns an arena string. */
char *sched_query_string(const struct sched_query *q, bool encode, struct arena *a);

/* oslo.utils strutils.bool_from_string(s, strict=True): case-insensitive,
 * surrounding whitespace ignored; true = 1 t true on y yes, false = 0 f false
 * off n no. Returns false (and leaves *out alone) for anything else. */
bool sched_bool_strict(const char *s, bool *out);

/* The same with strict=False: anything unrecognised is false. */
bool sched_bool_lenient(const char *s);

/* nova's get_packed_virtqueue_constraint: flavor_value is the
 * hw:virtio_packed_ring extra spec, image_value the hw_virtio_packed_ring
 * image property, NULL when unset. The flavor value must be a strict
 * boolean string (nova's extra spec validator), the image value is read
 * leniently (nova's FlexibleBooleanField). Both set and different is a
 * conflict. Returns 0 with *packed set, or -1 with the message in err. */
int sched_packed_ring(const char *flavor_value, const char *image_value, bool *packed, char *err,
                      size_t errsz);

#endif
