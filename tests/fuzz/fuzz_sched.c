/* The scheduling translator (flavor extra specs and image properties to a
 * Placement query): one "key=value" per line; lines starting "image:" are
 * image properties, the rest flavor extra specs. The first line may set
 * the flavor: "flavor VCPUS MEMORY_MB ROOT_GB EPHEMERAL_GB SWAP". Names
 * starting CUSTOM_MISSING do not exist. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/sched_translate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool exists(void *arg, enum sched_name_kind kind, const char *name)
{
    (void)arg;
    (void)kind;
    return strncmp(name, "CUSTOM_MISSING", 14) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a = {0};
    char *text = arena_alloc(&a, size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += text[i] == '\n';
    struct sched_kv *specs = arena_alloc(&a, lines * sizeof(*specs));
    struct sched_kv *props = arena_alloc(&a, lines * sizeof(*props));
    struct sched_request in = {.vcpus = 2, .memory_mb = 2048, .root_gb = 20,
                               .limit = SCHED_DEFAULT_LIMIT, .forbid_disabled_computes = true};
    long long f[5];
    if (sscanf(text, "flavor %lld %lld %lld %lld %lld", &f[0], &f[1], &f[2], &f[3], &f[4]) == 5 &&
        f[0] >= 0 && f[1] >= 0 && f[2] >= 0 && f[3] >= 0 && f[4] >= 0 && f[0] <= 2147483647 &&
        f[1] <= 2147483647 && f[2] <= 2147483647 && f[3] <= 2147483647 && f[4] <= 2147483647) {
        /* The bounds POST /placid/allocation_candidates enforces. */
        in.vcpus = f[0], in.memory_mb = f[1], in.root_gb = f[2], in.ephemeral_gb = f[3];
        in.swap = f[4];
    }
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        bool image = strncmp(l, "image:", 6) == 0;
        char *kv = image ? l + 6 : l, *eq = strchr(kv, '=');
        if (!eq)
            continue;
        *eq = '\0';
        struct sched_kv *to = image ? &props[in.n_image_props++] : &specs[in.n_extra_specs++];
        *to = (struct sched_kv){kv, eq + 1};
    }
    in.extra_specs = specs;
    in.image_props = props;
    struct sched_query q;
    char err[700];
    if (sched_translate(&in, exists, NULL, &a, &q, err, sizeof(err)) == 0) {
        sched_query_string(&q, true, &a);
        sched_query_string(&q, false, &a);
    }
    /* Again without existence checks, recording the derivation explain
     * shows: every part must have its words. */
    in.record_sources = true;
    if (sched_translate(&in, NULL, NULL, &a, &q, err, sizeof(err)) == 0) {
        sched_query_string(&q, true, &a);
        for (size_t i = 0; i < q.n_sources; i++)
            if (!q.sources[i].from || !q.sources[i].from[0])
                abort();
    }
    arena_free(&a);
    return 0;
}
