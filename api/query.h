/* Parsing of the filter query parameters shared by GET /resource_providers
 * and GET /allocation_candidates: `required`, `member_of` and `resources`
 * (placement/util.py: normalize_traits_qs_params,
 * normalize_member_of_qs_params, normalize_resources_qs_param).
 *
 * Every function takes the query KEY to read ("required", "required1",
 * "member_of_NET", ...) so granular request groups can reuse it; the group
 * suffix is whatever follows the base name and only appears in messages.
 * The microversion rules come from rq->mv. On a malformed value the function
 * calls req_fail() with Placement's message (400) and returns -1; otherwise
 * it returns 0. An absent key yields an empty result (all counts 0).
 *
 * Ownership: every array and string in the results lives in rq->arena and is
 * valid until the request completes; callers never free anything.
 * Names are not checked for existence here (unknown traits, resource classes
 * and aggregates are the caller's business). */
#ifndef PLACID_API_QUERY_H
#define PLACID_API_QUERY_H

#include <stddef.h>

#include "server/req.h"

/* The most request groups one query may name (distinct suffixes, the
 * unsuffixed group included), in GET /allocation_candidates and in the
 * scheduling translator; past it the request is a 400. Upstream has no
 * limit. nova builds one group per flavor group (resourcesN), per port with
 * a QoS minimum (two with packet rate) and per PCI device or vGPU request,
 * and a guest has at most a few dozen of those (libvirt's num_pcie_ports
 * tops out at 28), so 256 is far beyond any real request while keeping the
 * candidate search, whose work grows with the number of groups, bounded. */
#define API_MAX_REQUEST_GROUPS 256

/* A set of distinct names (deduplicated, in order of first appearance). */
struct name_set {
    const char **names;
    size_t n;
};

/* `required`: each all_of[i] must be satisfied by at least one of its names
 * (a plain "A,B" gives two one-name sets; "in:A,B" one two-name set);
 * forbidden: the provider must have none of these ("!A", from 1.22).
 * Below 1.39 only the LAST occurrence of the key counts (as upstream);
 * from 1.39 every occurrence is ANDed and "in:" is accepted. */
struct trait_expr {
    struct name_set *all_of;
    size_t n_all_of;
    struct name_set forbidden;
};

/* `member_of`: the same shape, holding canonical (lowercase, dashed)
 * aggregate uuids. "U" and "in:U1,U2" add one any-of set; "!U" and
 * "!in:U1,U2" (from 1.32) add to forbidden. A repeated key is an error
 * below 1.24 and ANDs the values from 1.24. */
struct agg_expr {
    struct name_set *all_of;
    size_t n_all_of;
    struct name_set forbidden;
};

/* `resources=RC:N,...`: one entry per resource class (a repeated class keeps
 * its last amount, as upstream's dict does). amount >= 1. The class name is
 * not validated; look it up with store_resource_class_id(). */
struct resource_amount {
    const char *rc;
    long long amount;
};

/* Parses every occurrence of `key` as a `required` value. */
int query_required(struct req *rq, const char *key, struct trait_expr *out);

/* Parses every occurrence of `key` as a `member_of` value. */
int query_member_of(struct req *rq, const char *key, struct agg_expr *out);

/* Parses `key` as a `resources` value into *out (arena array of *n
 * entries). Every occurrence is checked and the last one wins, as with
 * upstream's loop over req.GET.items(). An empty value is an error. */
int query_resources(struct req *rq, const char *key, struct resource_amount **out, size_t *n);

#endif
