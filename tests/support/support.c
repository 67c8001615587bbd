#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/microversion.h"

void test_env_open(struct test_env *env)
{
    char err[256];
    memset(env, 0, sizeof(*env));
    strcpy(env->dir, "/tmp/placid-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(env->dir));
    snprintf(env->path, sizeof(env->path), "%s/test.db", env->dir);
    env->pool = store_pool_open(env->path, 1, err, sizeof(err));
    ck_assert_msg(env->pool != NULL, "store_pool_open: %s", err);
    env->ctx.pool = env->pool;
    env->ctx.admin_token = "admin";
}

static void remove_db_files(const char *path)
{
    char p[128];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

void test_env_close(struct test_env *env)
{
    store_pool_close(env->pool);
    remove_db_files(env->path);
    rmdir(env->dir);
}

struct store *test_store_open(char path_out[96])
{
    char err[256], dir[64];
    strcpy(dir, "/tmp/placid-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path_out, 96, "%s/test.db", dir);
    struct store *st = store_open(path_out, err, sizeof(err));
    ck_assert_msg(st != NULL, "store_open: %s", err);
    return st;
}

void test_store_close(struct store *st, const char *path)
{
    char dir[96];
    store_close(st);
    remove_db_files(path);
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        rmdir(dir);
    }
}

static void add_query(struct req *rq, const char *qs)
{
    char *copy = arena_strdup(&rq->arena, qs);
    size_t n = 1;
    for (const char *p = qs; *p; p++)
        n += *p == '&';
    rq->query = arena_alloc(&rq->arena, n * sizeof(*rq->query));
    for (char *item = strtok(copy, "&"); item; item = strtok(NULL, "&")) {
        char *eq = strchr(item, '=');
        if (eq)
            *eq = '\0';
        rq->query[rq->n_query].key = item;
        rq->query[rq->n_query].value = eq ? eq + 1 : NULL;
        rq->n_query++;
    }
}

int test_call(struct test_env *env, struct req *rq, const char *method, const char *path,
              const char *version, const char *body)
{
    char err[128];
    req_init(rq);
    rq->method = method;
    const char *q = strchr(path, '?');
    rq->path = q ? arena_strndup(&rq->arena, path, (size_t)(q - path)) : path;
    if (q)
        add_query(rq, q + 1);
    if (version) {
        char header[64];
        snprintf(header, sizeof(header), "placement %s", version);
        ck_assert_int_eq(mv_parse(header, &rq->mv, err, sizeof(err)), MV_OK);
    }
    rq->token = "admin";
    rq->accept = "application/json";
    if (body) {
        rq->raw_body = body;
        rq->body_len = strlen(body);
        rq->content_length = (long long)rq->body_len;
        rq->content_type = "application/json";
    }
    api_dispatch(rq, &env->ctx);
    return rq->err.status ? rq->err.status : rq->status;
}

int test_status(struct test_env *env, const char *method, const char *path, const char *version,
                const char *body)
{
    struct req rq;
    int status = test_call(env, &rq, method, path, version, body);
    req_release(&rq);
    return status;
}

json_t *test_response(const struct req *rq)
{
    if (rq->err.status)
        return req_error_to_json(rq, rq->method);
    return rq->reply ? json_incref(rq->reply) : json_null();
}
