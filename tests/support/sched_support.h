/* Test support for the scheduling translator (api/sched_translate.c,
 * api/sched_cpu.c): the standard flavor of docs/packed-ring.md §7 and a
 * translation that also checks every part's recorded source. */
#ifndef PLACID_TESTS_SCHED_SUPPORT_H
#define PLACID_TESTS_SCHED_SUPPORT_H

#include <stdbool.h>

#include "api/sched_translate.h"

/* Ends a struct sched_kv array. */
#define END_KV                                                                                     \
    {                                                                                              \
        NULL, NULL                                                                                 \
    }

/* A fixed catalog for the existence callback: everything well formed exists
 * except names starting with CUSTOM_MISSING. */
bool sched_test_exists(void *arg, enum sched_name_kind kind, const char *name);

/* The standard flavor of the §7 examples: vcpus=2, ram=2048, root_gb=20,
 * with the END_KV-terminated specs and props (either may be NULL),
 * borrowed; sources are recorded. */
struct sched_request sched_test_flavor(const struct sched_kv *specs, const struct sched_kv *props);

/* Asserts that every comma-separated part of every parameter of q has
 * exactly one non-empty source, in q's order, and that there is no other. */
void sched_test_assert_sources(const struct sched_query *q);

/* Translates in and returns the decoded (or, with encode, urlencoded)
 * query, or "ERROR: <message>", in a static buffer overwritten by the next
 * call; a successful translation must pass sched_test_assert_sources. */
const char *sched_test_translate(const struct sched_request *in, bool encode);

#endif
