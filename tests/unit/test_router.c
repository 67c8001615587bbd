/* The route table's invariants and the matcher's 404/405/version rules. */
#include <check.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "server/microversion.h"
#include "server/router.h"
#include "support.h"

START_TEST(table_windows_are_sane_and_never_overlap)
{
    for (const struct route *a = api_routes; a->method; a++) {
        ck_assert_ptr_nonnull(a->handler);
        ck_assert_msg(a->min_mv <= a->max_mv, "%s %s: empty window", a->method, a->pattern);
        for (const struct route *b = a + 1; b->method; b++) {
            if (strcmp(a->method, b->method) || strcmp(a->pattern, b->pattern))
                continue;
            ck_assert_msg(a->max_mv < b->min_mv || b->max_mv < a->min_mv,
                          "%s %s: overlapping windows", a->method, a->pattern);
        }
    }
}
END_TEST

static const struct route *find(struct req *rq, const char *method, const char *path,
                                unsigned mv)
{
    req_init(rq);
    rq->method = method;
    rq->path = path;
    rq->mv = mv;
    return router_find(api_routes, rq);
}

START_TEST(captures_path_parameters)
{
    struct req rq;
    const struct route *r = find(&rq, "GET", "/resource_providers/abc/inventories/VCPU", MV(1, 0));
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(req_param(&rq, "uuid"), "abc");
    ck_assert_str_eq(req_param(&rq, "rc"), "VCPU");
    req_release(&rq);
}
END_TEST

START_TEST(unknown_path_is_404)
{
    struct req rq;
    ck_assert_ptr_null(find(&rq, "GET", "/moo", MV(1, 0)));
    ck_assert_int_eq(rq.err.status, 404);
    ck_assert_ptr_null(find(&rq, "GET", "/resource_providers/", MV(1, 0)));
    ck_assert_int_eq(rq.err.status, 404);
    req_release(&rq);
}
END_TEST

START_TEST(wrong_method_is_405_with_allow)
{
    struct req rq;
    ck_assert_ptr_null(find(&rq, "DELETE", "/resource_providers", MV(1, 0)));
    ck_assert_int_eq(rq.err.status, 405);
    ck_assert_uint_eq(rq.n_headers, 1);
    ck_assert_str_eq(rq.headers[0].key, "Allow");
    ck_assert_str_eq(rq.headers[0].value, "GET, POST");
    req_release(&rq);
}
END_TEST

START_TEST(version_too_old_is_404_or_the_routes_status)
{
    struct req rq;
    ck_assert_ptr_null(find(&rq, "GET", "/traits", MV(1, 5)));
    ck_assert_int_eq(rq.err.status, 404);
    req_release(&rq);
    ck_assert_ptr_null(find(&rq, "DELETE", "/resource_providers/x/inventories", MV(1, 4)));
    ck_assert_int_eq(rq.err.status, 405);
    req_release(&rq);
    ck_assert_ptr_nonnull(find(&rq, "DELETE", "/resource_providers/x/inventories", MV(1, 5)));
    req_release(&rq);
}
END_TEST

START_TEST(split_rows_pick_the_version_window)
{
    struct req rq;
    ck_assert_ptr_eq(find(&rq, "PUT", "/resource_classes/CUSTOM_A", MV(1, 6))->handler,
                     resource_class_update_v1_2);
    req_release(&rq);
    ck_assert_ptr_eq(find(&rq, "PUT", "/resource_classes/CUSTOM_A", MV(1, 7))->handler,
                     resource_class_put_v1_7);
    req_release(&rq);
}
END_TEST

START_TEST(empty_path_serves_root)
{
    struct req rq;
    ck_assert_ptr_eq(find(&rq, "GET", "", MV(1, 0))->handler, root_get);
    req_release(&rq);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("router");
    tcase_add_test(tc, table_windows_are_sane_and_never_overlap);
    tcase_add_test(tc, captures_path_parameters);
    tcase_add_test(tc, unknown_path_is_404);
    tcase_add_test(tc, wrong_method_is_405_with_allow);
    tcase_add_test(tc, version_too_old_is_404_or_the_routes_status);
    tcase_add_test(tc, split_rows_pick_the_version_window);
    tcase_add_test(tc, empty_path_serves_root);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
