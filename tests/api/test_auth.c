/* noauth2 authentication, policy decisions and CORS through api_dispatch. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/auth.h"
#include "api/cors.h"
#include "support.h"

static struct test_env env;

static void setup(void)
{
    test_env_open(&env);
    env.ctx.noauth_headers = true;
}

static void teardown(void)
{
    test_env_close(&env);
}

/* A request for path (microversion 1.39; "?project_id=X" becomes the query)
 * with token and up to 7 header pairs. */
static int call(struct req *rq, const char *method, const char *path, const char *token,
                const char *const *hdrs)
{
    static struct kv in[8];
    static char bare[128];
    size_t n = 0;
    req_init(rq);
    rq->method = method;
    snprintf(bare, sizeof(bare), "%.*s", (int)strcspn(path, "?"), path);
    rq->path = bare;
    rq->mv = 0x10027;
    rq->token = token;
    for (; hdrs && hdrs[2 * n]; n++)
        in[n] = (struct kv){hdrs[2 * n], hdrs[2 * n + 1]};
    rq->in_headers = in;
    rq->n_in_headers = n;
    char *q = strchr(path, '?');
    if (q) {
        static struct kv query[1];
        query[0] = (struct kv){"project_id", strchr(q, '=') + 1};
        rq->query = query;
        rq->n_query = 1;
    }
    api_dispatch(rq, &env.ctx);
    return rq->err.status ? rq->err.status : rq->status;
}

static int get(struct req *rq, const char *path, const char *token, const char *const *hdrs)
{
    return call(rq, "GET", path, token, hdrs);
}

static int get_status(const char *path, const char *token, const char *const *hdrs)
{
    struct req rq;
    int status = get(&rq, path, token, hdrs);
    req_release(&rq);
    return status;
}

START_TEST(admin_token_comparison)
{
    ck_assert(auth_admin_token_matches("s3cret", "s3cret"));
    ck_assert(auth_admin_token_matches("s3cret:proj", "s3cret"));
    ck_assert(!auth_admin_token_matches("s3cre", "s3cret"));
    ck_assert(!auth_admin_token_matches("s3cretx", "s3cret"));
    ck_assert(!auth_admin_token_matches("s3creT", "s3cret"));
    ck_assert(!auth_admin_token_matches("", "s3cret"));
    ck_assert(!auth_admin_token_matches(":s3cret", "s3cret"));
}
END_TEST

START_TEST(an_empty_token_is_a_missing_token)
{
    ck_assert_int_eq(get_status("/traits", "", NULL), 401);
    ck_assert_int_eq(get_status("/traits", NULL, NULL), 401);
    ck_assert_int_eq(get_status("/", "", NULL), 200);
}
END_TEST

START_TEST(the_admin_token_is_an_admin_with_its_project)
{
    struct req rq;
    ck_assert_int_eq(get(&rq, "/traits", "admin:proj", NULL), 200);
    ck_assert(rq.is_admin);
    ck_assert_str_eq(rq.caller->creds.project_id, "proj");
    ck_assert_str_eq(rq.caller->creds.roles[0], "admin");
    req_release(&rq);
    ck_assert_int_eq(get_status("/traits", "user", NULL), 403);
}
END_TEST

START_TEST(role_headers_build_the_caller)
{
    static const char *const service[] = {"X-Roles", "service", "X-Project-Id", "svc", NULL};
    static const char *const reader[] = {"x-roles", " reader , member", NULL};
    static const char *const sys[] = {"X-Roles", "admin", "OpenStack-System-Scope", "all", NULL};
    struct req rq;
    ck_assert_int_eq(get(&rq, "/traits", "user", service), 200);
    ck_assert_str_eq(rq.caller->creds.project_id, "svc");
    req_release(&rq);
    ck_assert_int_eq(get(&rq, "/traits", "alice:demo", reader), 403);
    ck_assert_uint_eq(rq.caller->creds.n_roles, 2);
    ck_assert_str_eq(rq.caller->creds.roles[1], "member");
    ck_assert_str_eq(rq.err.detail, "Policy does not allow placement:traits:list to be performed.");
    req_release(&rq);
    /* GET /usages: the reader of the project asked about only. */
    ck_assert_int_eq(get_status("/usages?project_id=demo", "alice:demo", reader), 200);
    ck_assert_int_eq(get_status("/usages?project_id=other", "alice:demo", reader), 403);
    ck_assert_int_eq(get(&rq, "/traits", "root", sys), 200);
    ck_assert_ptr_null(rq.caller->creds.project_id);
    ck_assert_str_eq(rq.caller->creds.system_scope, "all");
    req_release(&rq);
}
END_TEST

START_TEST(with_an_admin_secret_role_headers_are_ignored)
{
    static const char *const claim[] = {"X-Roles", "admin", NULL};
    env.ctx.admin_token = "s3cret";
    env.ctx.noauth_headers = false;
    ck_assert_int_eq(get_status("/traits", "user", claim), 403);
    ck_assert_int_eq(get_status("/traits", "admin", NULL), 403);
    ck_assert_int_eq(get_status("/traits", "s3cret", NULL), 200);
    ck_assert_int_eq(get_status("/traits", "s3cret:p", claim), 200);
}
END_TEST

static const char *header_of(const struct req *rq, const char *name)
{
    for (size_t i = 0; i < rq->n_headers; i++)
        if (strcasecmp(rq->headers[i].key, name) == 0)
            return rq->headers[i].value;
    return NULL;
}

START_TEST(cors_preflight_and_actual_requests)
{
    struct cors_config cors = cors_defaults();
    cors.allowed_origin = "http://a.example, http://b.example";
    cors.allow_headers = "openstack-api-version";
    cors.expose_headers = "openstack-api-version";
    env.ctx.cors = &cors;
    static const char *const pre[] = {"Origin", "http://b.example", "Access-Control-Request-Method",
                                      "GET", "Access-Control-Request-Headers",
                                      "OpenStack-API-Version", NULL};
    struct req rq;
    ck_assert_int_eq(call(&rq, "OPTIONS", "/", NULL, pre), 200);
    ck_assert_str_eq(header_of(&rq, "Access-Control-Allow-Origin"), "http://b.example");
    ck_assert_str_eq(header_of(&rq, "Access-Control-Allow-Credentials"), "true");
    ck_assert_str_eq(header_of(&rq, "Access-Control-Max-Age"), "3600");
    req_release(&rq);
    /* OPTIONS is a preflight, answered without a token. */
    req_init(&rq);
    rq.method = "OPTIONS";
    rq.path = "/resource_providers";
    struct kv in[3] = {{"Origin", "http://b.example"}, {"Access-Control-Request-Method", "PUT"},
                       {"Access-Control-Request-Headers", "x-secret"}};
    rq.in_headers = in;
    rq.n_in_headers = 2;
    api_dispatch(&rq, &env.ctx);
    ck_assert_int_eq(rq.status, 200);
    ck_assert_str_eq(header_of(&rq, "Access-Control-Allow-Methods"), "PUT");
    req_release(&rq);
    req_init(&rq);
    rq.method = "OPTIONS";
    rq.path = "/";
    rq.in_headers = in;
    rq.n_in_headers = 3; /* a header not allowed: no CORS headers */
    api_dispatch(&rq, &env.ctx);
    ck_assert_int_eq(rq.status, 200);
    ck_assert_ptr_null(header_of(&rq, "Access-Control-Allow-Origin"));
    req_release(&rq);
    /* An actual request from an allowed origin, even a refused one. */
    static const char *const actual[] = {"Origin", "http://a.example", NULL};
    ck_assert_int_eq(get(&rq, "/traits", NULL, actual), 401);
    ck_assert_str_eq(header_of(&rq, "Access-Control-Allow-Origin"), "http://a.example");
    ck_assert_str_eq(header_of(&rq, "Access-Control-Expose-Headers"), "openstack-api-version");
    req_release(&rq);
    static const char *const other[] = {"Origin", "http://c.example", NULL};
    ck_assert_int_eq(get(&rq, "/", NULL, other), 200);
    ck_assert_ptr_null(header_of(&rq, "Access-Control-Allow-Origin"));
    req_release(&rq);
}
END_TEST

START_TEST(without_cors_options_is_405)
{
    struct req rq;
    req_init(&rq);
    rq.method = "OPTIONS";
    rq.path = "/";
    api_dispatch(&rq, &env.ctx);
    ck_assert_int_eq(rq.err.status, 405);
    req_release(&rq);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("auth");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, admin_token_comparison);
    tcase_add_test(tc, an_empty_token_is_a_missing_token);
    tcase_add_test(tc, the_admin_token_is_an_admin_with_its_project);
    tcase_add_test(tc, role_headers_build_the_caller);
    tcase_add_test(tc, with_an_admin_secret_role_headers_are_ignored);
    tcase_add_test(tc, cors_preflight_and_actual_requests);
    tcase_add_test(tc, without_cors_options_is_405);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
