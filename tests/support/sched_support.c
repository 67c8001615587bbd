/* See sched_support.h. */
#include "sched_support.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

bool sched_test_exists(void *arg, enum sched_name_kind kind, const char *name)
{
    (void)arg;
    (void)kind;
    return strncmp(name, "CUSTOM_MISSING", 14) != 0;
}

static size_t kv_count(const struct sched_kv *kv)
{
    size_t n = 0;
    while (kv && kv[n].key)
        n++;
    return n;
}

struct sched_request sched_test_flavor(const struct sched_kv *specs, const struct sched_kv *props)
{
    struct sched_request in = {
        .vcpus = 2, .memory_mb = 2048, .root_gb = 20, .limit = SCHED_DEFAULT_LIMIT,
        .record_sources = true};
    in.extra_specs = specs;
    in.n_extra_specs = kv_count(specs);
    in.image_props = props;
    in.n_image_props = kv_count(props);
    return in;
}

void sched_test_assert_sources(const struct sched_query *q)
{
    size_t k = 0;
    for (size_t i = 0; i < q->n; i++) {
        for (const char *v = q->params[i].value; *v;) {
            size_t n = strcspn(v, ",");
            ck_assert_msg(k < q->n_sources, "%s: part %.*s has no source", q->params[i].key,
                          (int)n, v);
            const struct sched_source *src = &q->sources[k++];
            ck_assert_str_eq(src->param, q->params[i].key);
            ck_assert_msg(strlen(src->value) == n && strncmp(src->value, v, n) == 0,
                          "%s: source for %s, part %.*s", src->param, src->value, (int)n, v);
            ck_assert_msg(src->from && *src->from, "%s=%s: empty source", src->param,
                          src->value);
            v += n + (v[n] == ',');
        }
    }
    ck_assert_uint_eq(k, q->n_sources);
}

const char *sched_test_translate(const struct sched_request *in, bool encode)
{
    static char result[2048];
    struct arena a = {0};
    struct sched_query q;
    char err[700];
    if (sched_translate(in, sched_test_exists, NULL, &a, &q, err, sizeof(err)) < 0) {
        snprintf(result, sizeof(result), "ERROR: %s", err);
    } else {
        sched_test_assert_sources(&q);
        snprintf(result, sizeof(result), "%s", sched_query_string(&q, encode, &a));
    }
    arena_free(&a);
    return result;
}
