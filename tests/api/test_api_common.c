/* What api/common.c gives every handler, and what a handler reads from its
 * request: the API's configuration (rq->api), set by the header phase, not a
 * thread-local, since the header and body phases may run at different
 * times and a handler called on its own still sees the configuration it was
 * given. */
#include <check.h>
#include <string.h>

#include "api/common.h"
#include "api/errors.h"
#include "server/microversion.h"
#include "support.h"

static struct test_env env;

static void setup(void)
{
    test_env_open(&env);
    struct store *st = store_acquire(env.pool);
    test_provider_with_inventory(st, "11111111-1111-1111-1111-111111111111", "cn1", NULL,
                                 "VCPU=8,MEMORY_MB=4096");
    test_provider_with_inventory(st, "22222222-2222-2222-2222-222222222222", "cn2", NULL,
                                 "VCPU=8,MEMORY_MB=4096");
    store_release(env.pool, st);
}

static void teardown(void)
{
    test_env_close(&env);
}

/* Runs the header phase of GET /allocation_candidates with ctx, then the
 * matched handler by itself, as a front end that reads the body later
 * would. Returns the status. */
static int candidates_in_two_steps(struct req *rq, const struct api_ctx *ctx)
{
    req_init(rq);
    rq->method = "GET";
    rq->path = "/allocation_candidates";
    rq->mv = MV(1, 39);
    rq->token = "admin";
    rq->accept = "application/json";
    rq->query = arena_alloc(&rq->arena, sizeof(*rq->query));
    rq->query[0] = (struct kv){"resources", "VCPU:1"};
    rq->n_query = 1;
    ck_assert(api_dispatch_headers(rq, (void *)ctx));
    ck_assert_ptr_eq(rq->api, ctx);
    rq->store = store_acquire(env.pool);
    rq->route->handler(rq);
    store_release(env.pool, rq->store);
    rq->store = NULL;
    return rq->err.status ? rq->err.status : rq->status;
}

START_TEST(the_header_phase_hands_its_configuration_to_the_request)
{
    struct req rq;
    req_init(&rq);
    rq.method = "GET";
    rq.path = "/traits";
    rq.mv = MV(1, 6);
    rq.token = "admin";
    ck_assert(api_dispatch_headers(&rq, &env.ctx));
    ck_assert_ptr_eq(rq.api, &env.ctx);
    req_release(&rq);
}
END_TEST

START_TEST(a_handler_uses_the_work_limit_of_its_request)
{
    struct api_ctx limited = env.ctx;
    limited.candidates_work_limit = 1;
    struct req rq;
    ck_assert_int_eq(candidates_in_two_steps(&rq, &limited), 400);
    ck_assert_str_eq(rq.err.code, ERR_CANDIDATES_WORK_LIMIT);
    req_release(&rq);

    ck_assert_int_eq(candidates_in_two_steps(&rq, &env.ctx), 200);
    req_release(&rq);
}
END_TEST

START_TEST(last_modified_is_updated_at_or_else_created_at)
{
    ck_assert_int_eq(api_modified(100, 0), 100);
    ck_assert_int_eq(api_modified(100, 250), 250);
}
END_TEST

START_TEST(api_validate_fails_with_the_schema_message)
{
    static const struct js_schema schema = {.order = {JS_TYPE}, .types = {"object"}};
    struct req rq;
    req_init(&rq);
    json_t *ok = json_object(), *bad = json_true();
    ck_assert_int_eq(api_validate(&rq, &schema, ok), 0);
    ck_assert_int_eq(rq.err.status, 0);
    ck_assert_int_eq(api_validate(&rq, &schema, bad), -1);
    ck_assert_int_eq(rq.err.status, 400);
    ck_assert_msg(strncmp(rq.err.detail, "JSON does not validate: True is not of type 'object'",
                          strlen("JSON does not validate: True is not of type 'object'")) == 0,
                  "%s", rq.err.detail);
    json_decref(ok);
    json_decref(bad);
    req_release(&rq);
}
END_TEST

START_TEST(a_content_length_that_is_no_integer_is_400)
{
    struct req rq;
    req_init(&rq);
    ck_assert(rq.content_length == REQ_LENGTH_ABSENT);
    rq.method = "POST";
    rq.path = "/resource_providers";
    rq.token = "admin";
    rq.content_type = "application/json";
    rq.content_length = REQ_LENGTH_INVALID;
    ck_assert(!api_dispatch_headers(&rq, &env.ctx));
    ck_assert_int_eq(rq.err.status, 400);
    ck_assert_str_eq(rq.err.detail, "content-length header must be an integer");
    req_release(&rq);
}
END_TEST

/* The 406 check and the error body follow one Accept rule (req_accepts). */
START_TEST(an_accept_that_refuses_json_by_q_is_406)
{
    struct req rq;
    req_init(&rq);
    rq.method = "GET";
    rq.path = "/resource_providers";
    rq.token = "admin";
    rq.accept = "*/*, application/json;q=0";
    ck_assert(!api_dispatch_headers(&rq, &env.ctx));
    ck_assert_int_eq(rq.err.status, 406);
    req_release(&rq);
    req_init(&rq);
    rq.method = "GET";
    rq.path = "/resource_providers";
    rq.token = "admin";
    rq.accept = "application/*";
    ck_assert(api_dispatch_headers(&rq, &env.ctx));
    req_release(&rq);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_common");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, the_header_phase_hands_its_configuration_to_the_request);
    tcase_add_test(tc, a_handler_uses_the_work_limit_of_its_request);
    tcase_add_test(tc, last_modified_is_updated_at_or_else_created_at);
    tcase_add_test(tc, api_validate_fails_with_the_schema_message);
    tcase_add_test(tc, a_content_length_that_is_no_integer_is_400);
    tcase_add_test(tc, an_accept_that_refuses_json_by_q_is_406);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
