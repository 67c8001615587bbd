/* server/metrics.c: series, histograms and the exposition text. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/metrics.h"
#include "support.h"

static const char ROUTE_RP[] = "/resource_providers";
static const char ROUTE_ODD[] = "/we\"ird\\";

static void fake_db(struct metrics_db *out, void *arg)
{
    (void)arg;
    *out = (struct metrics_db){.busy = 3, .pool_waits = 4, .tree_hits = 5, .tree_misses = 6,
                               .tree_bytes = 7000, .wal_bytes = 8192};
}

/* The text, and whether it holds line (a whole line). */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

static char *render(void)
{
    size_t len = 0;
    char *text = metrics_render(&len);
    ck_assert_uint_eq(strlen(text), len);
    return text;
}

START_TEST(requests_are_counted_by_route_method_and_status)
{
    metrics_init(fake_db, NULL);
    for (int i = 0; i < 3; i++) {
        metrics_request_begin();
        metrics_request_end(ROUTE_RP, "GET", 200, 0.002);
    }
    metrics_request_begin();
    metrics_request_end(ROUTE_RP, "GET", 404, 0.2);
    metrics_request_begin();
    metrics_request_end(NULL, "BREW", 405, 20.0);
    metrics_request_begin(); /* still in flight */
    char *text = render();
    ck_assert(has_line(text, "placid_http_requests_total{route=\"/resource_providers\","
                             "method=\"GET\",status=\"200\"} 3"));
    ck_assert(has_line(text, "placid_http_requests_total{route=\"/resource_providers\","
                             "method=\"GET\",status=\"404\"} 1"));
    ck_assert(has_line(text, "placid_http_requests_total{route=\"unmatched\","
                             "method=\"OTHER\",status=\"405\"} 1"));
    ck_assert(has_line(text, "placid_http_requests_in_flight 1"));
    /* Histogram: cumulative buckets, +Inf equals the count. */
    ck_assert(has_line(text, "placid_http_request_duration_seconds_bucket{route="
                             "\"/resource_providers\",method=\"GET\",le=\"0.001\"} 0"));
    ck_assert(has_line(text, "placid_http_request_duration_seconds_bucket{route="
                             "\"/resource_providers\",method=\"GET\",le=\"0.0025\"} 3"));
    ck_assert(has_line(text, "placid_http_request_duration_seconds_bucket{route="
                             "\"/resource_providers\",method=\"GET\",le=\"0.25\"} 4"));
    ck_assert(has_line(text, "placid_http_request_duration_seconds_bucket{route="
                             "\"/resource_providers\",method=\"GET\",le=\"+Inf\"} 4"));
    ck_assert(has_line(text, "placid_http_request_duration_seconds_count{route="
                             "\"/resource_providers\",method=\"GET\"} 4"));
    ck_assert(has_line(text, "placid_http_request_duration_seconds_sum{route="
                             "\"/resource_providers\",method=\"GET\"} 0.206000"));
    ck_assert(has_line(text, "placid_http_request_duration_seconds_bucket{route=\"unmatched\","
                             "method=\"OTHER\",le=\"10\"} 0"));
    free(text);
}
END_TEST

START_TEST(label_values_are_escaped)
{
    metrics_init(NULL, NULL);
    metrics_request_begin();
    metrics_request_end(ROUTE_ODD, "PUT", 200, 0.0);
    char *text = render();
    ck_assert(has_line(text, "placid_http_requests_total{route=\"/we\\\"ird\\\\\","
                             "method=\"PUT\",status=\"200\"} 1"));
    ck_assert_ptr_null(strstr(text, "placid_db_busy_total")); /* no source: no db figures */
    free(text);
}
END_TEST

START_TEST(candidates_and_database_figures)
{
    metrics_init(fake_db, NULL);
    metrics_observe_candidates(0);
    metrics_observe_candidates(7);
    metrics_observe_candidates(20000);
    char *text = render();
    ck_assert(has_line(text, "placid_allocation_candidates_returned_bucket{le=\"0\"} 1"));
    ck_assert(has_line(text, "placid_allocation_candidates_returned_bucket{le=\"5\"} 1"));
    ck_assert(has_line(text, "placid_allocation_candidates_returned_bucket{le=\"10\"} 2"));
    ck_assert(has_line(text, "placid_allocation_candidates_returned_bucket{le=\"10000\"} 2"));
    ck_assert(has_line(text, "placid_allocation_candidates_returned_bucket{le=\"+Inf\"} 3"));
    ck_assert(has_line(text, "placid_allocation_candidates_returned_sum 20007"));
    ck_assert(has_line(text, "placid_allocation_candidates_returned_count 3"));
    ck_assert(has_line(text, "placid_db_busy_total 3"));
    ck_assert(has_line(text, "placid_db_pool_waits_total 4"));
    ck_assert(has_line(text, "placid_tree_cache_hits_total 5"));
    ck_assert(has_line(text, "placid_tree_cache_misses_total 6"));
    ck_assert(has_line(text, "placid_tree_cache_bytes 7000"));
    ck_assert(has_line(text, "placid_db_wal_bytes 8192"));
    ck_assert(has_line(text, "# TYPE process_resident_memory_bytes gauge"));
    ck_assert(has_line(text, "# TYPE process_cpu_seconds_total counter"));
    free(text);
}
END_TEST

static void fake_pg(struct metrics_db *out, void *arg)
{
    (void)arg;
    *out = (struct metrics_db){.pool_size = 8, .pool_open = 3, .pool_in_use = 2,
                               .pool_wait_seconds = 1.5, .wal_bytes = -1, .postgresql = true,
                               .reconnects = 9, .connect_failures = 10, .unavailable = 11,
                               .retries_serialization = 12, .retries_deadlock = 13,
                               .retries_connection = 14};
}

START_TEST(pool_figures_always_and_postgresql_figures_on_postgresql)
{
    metrics_init(fake_pg, NULL);
    char *text = render();
    ck_assert(has_line(text, "placid_db_pool_size 8"));
    ck_assert(has_line(text, "placid_db_pool_open 3"));
    ck_assert(has_line(text, "placid_db_pool_in_use 2"));
    ck_assert(has_line(text, "placid_db_pool_wait_seconds_total 1.5"));
    ck_assert(has_line(text, "# TYPE placid_db_pool_wait_seconds_total counter"));
    ck_assert(has_line(text, "placid_db_reconnects_total 9"));
    ck_assert(has_line(text, "placid_db_connect_failures_total 10"));
    ck_assert(has_line(text, "placid_db_unavailable_total 11"));
    ck_assert(has_line(text, "# TYPE placid_db_retries_total counter"));
    ck_assert(has_line(text, "placid_db_retries_total{reason=\"serialization_failure\"} 12"));
    ck_assert(has_line(text, "placid_db_retries_total{reason=\"deadlock_detected\"} 13"));
    ck_assert(has_line(text, "placid_db_retries_total{reason=\"connection_lost\"} 14"));
    ck_assert_ptr_null(strstr(text, "placid_db_wal_bytes"));
    free(text);
    metrics_init(fake_db, NULL);
    text = render();
    ck_assert(has_line(text, "placid_db_pool_size 0"));
    ck_assert_ptr_null(strstr(text, "placid_db_retries_total"));
    ck_assert_ptr_null(strstr(text, "placid_db_reconnects_total"));
    free(text);
}
END_TEST

/* More distinct series than the table holds end up in "overflow", not lost. */
START_TEST(a_full_table_counts_into_overflow)
{
    static char routes[600][16];
    metrics_init(NULL, NULL);
    for (int i = 0; i < 600; i++) {
        snprintf(routes[i], sizeof(routes[i]), "/r%d", i);
        metrics_request_begin();
        metrics_request_end(routes[i], "GET", 200, 0.0);
    }
    char *text = render();
    ck_assert_ptr_nonnull(strstr(text, "placid_http_requests_total{route=\"overflow\""));
    free(text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, requests_are_counted_by_route_method_and_status);
    tcase_add_test(tc, label_values_are_escaped);
    tcase_add_test(tc, candidates_and_database_figures);
    tcase_add_test(tc, pool_figures_always_and_postgresql_figures_on_postgresql);
    tcase_add_test(tc, a_full_table_counts_into_overflow);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
