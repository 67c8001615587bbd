/* Prometheus metrics: see server/metrics.h.
 *
 * Request series are kept in two fixed open-addressing tables: counts by
 * (route, method, status) and latency histograms by (route, method). The
 * keys are bounded (route patterns are static strings of the route table,
 * methods are mapped onto a fixed list, statuses are the few placid
 * answers), so the tables never fill in practice; a series that finds no
 * room is counted in the "overflow" route. A lookup is lock-free; adding a
 * series takes a mutex once. */
#include "server/metrics.h"

#include <dirent.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "server/http.h"
#include "core/util.h"

#define SLOTS 512
#define SLOTS_KEPT_FOR_OVERFLOW 64 /* one per status of the "overflow" route */

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
                                      "OPTIONS", "OTHER"};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

static const double latency_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                    0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define N_LATENCY (sizeof(latency_le) / sizeof(latency_le[0]))

static const double candidates_le[] = {0, 1, 5, 10, 50, 100, 500, 1000, 5000, 10000};
#define N_CANDIDATES (sizeof(candidates_le) / sizeof(candidates_le[0]))

enum { SLOT_FREE, SLOT_READY };

struct series {
    atomic_int state;
    const char *route; /* NULL: no route matched */
    unsigned method;   /* index into methods */
    int status;        /* 0 in the latency table */
    atomic_ullong count;
    atomic_ullong sum_us;                 /* latency table only */
    atomic_ullong buckets[N_LATENCY + 1]; /* non-cumulative; last is +Inf */
};

static struct series counts[SLOTS], latencies[SLOTS];
static size_t used_counts, used_latencies; /* under add_lock */
static pthread_mutex_t add_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_llong in_flight;
static atomic_ullong cand_buckets[N_CANDIDATES + 1], cand_sum, cand_count;
static double start_time;
static metrics_db_fn *db_source;
static void *db_arg;
static const char OVERFLOW_ROUTE[] = "overflow";

void metrics_init(metrics_db_fn *db, void *arg)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    start_time = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
    db_source = db;
    db_arg = arg;
}

static unsigned method_index(const char *method)
{
    for (unsigned i = 0; method && i + 1 < N_METHODS; i++)
        if (strcmp(method, methods[i]) == 0)
            return i;
    return N_METHODS - 1;
}

static size_t slot_hash(const char *route, unsigned method, int status)
{
    /* The golden ratio and murmur3's fmix64 multipliers, typed uint64_t: with
     * ull literals gcc looks through the (uint64_t) cast of the int status
     * and gives a false -Wsign-conversion. */
    uint64_t h = (uint64_t)(uintptr_t)route * UINT64_C(0x9e3779b97f4a7c15);
    h ^= (uint64_t)method * UINT64_C(0xff51afd7ed558ccd) +
         (uint64_t)status * UINT64_C(0xc4ceb9fe1a85ec53);
    return (size_t)(h >> 23) % SLOTS;
}

static bool same_key(const struct series *s, const char *route, unsigned method, int status)
{
    return s->route == route && s->method == method && s->status == status;
}

/* The series of the key, added when missing; NULL when the table is full
 * (for any route but OVERFLOW_ROUTE, the last SLOTS_KEPT_FOR_OVERFLOW slots
 * count as full). */
static struct series *find(struct series *table, const char *route, unsigned method, int status)
{
    size_t *used = table == counts ? &used_counts : &used_latencies;
    size_t room = route == OVERFLOW_ROUTE ? SLOTS : SLOTS - SLOTS_KEPT_FOR_OVERFLOW;
    size_t h = slot_hash(route, method, status);
    for (size_t i = 0; i < SLOTS; i++) {
        struct series *s = &table[(h + i) % SLOTS];
        int state = atomic_load_explicit(&s->state, memory_order_acquire);
        if (state == SLOT_READY && same_key(s, route, method, status))
            return s;
        if (state == SLOT_FREE)
            break;
    }
    struct series *out = NULL;
    pthread_mutex_lock(&add_lock);
    for (size_t i = 0; i < SLOTS && !out; i++) {
        struct series *s = &table[(h + i) % SLOTS];
        if (atomic_load_explicit(&s->state, memory_order_relaxed) == SLOT_FREE) {
            if (*used >= room)
                break;
            ++*used;
            s->route = route;
            s->method = method;
            s->status = status;
            atomic_store_explicit(&s->state, SLOT_READY, memory_order_release);
            out = s;
        } else if (same_key(s, route, method, status)) {
            out = s;
        }
    }
    pthread_mutex_unlock(&add_lock);
    return out;
}

static struct series *find_or_overflow(struct series *table, const char *route, unsigned method,
                                       int status)
{
    struct series *s = find(table, route, method, status);
    return s ? s : find(table, OVERFLOW_ROUTE, N_METHODS - 1, status);
}

void metrics_request_begin(void)
{
    atomic_fetch_add_explicit(&in_flight, 1, memory_order_relaxed);
}

void metrics_request_end(const char *route, const char *method, int status, double seconds)
{
    unsigned m = method_index(method);
    atomic_fetch_sub_explicit(&in_flight, 1, memory_order_relaxed);
    struct series *c = find_or_overflow(counts, route, m, status);
    if (c)
        atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed);
    struct series *l = find_or_overflow(latencies, route, m, 0);
    if (!l)
        return;
    size_t b = 0;
    while (b < N_LATENCY && seconds > latency_le[b])
        b++;
    atomic_fetch_add_explicit(&l->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&l->sum_us, (unsigned long long)(seconds * 1e6), memory_order_relaxed);
    atomic_fetch_add_explicit(&l->count, 1, memory_order_relaxed);
}

void metrics_observe_candidates(size_t n)
{
    size_t b = 0;
    while (b < N_CANDIDATES && (double)n > candidates_le[b])
        b++;
    atomic_fetch_add_explicit(&cand_buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&cand_sum, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&cand_count, 1, memory_order_relaxed);
}

/* ---- rendering ---- */

static unsigned long long load(atomic_ullong *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* A label value: route patterns are plain text, but escape as the format asks. */
static void put_label(FILE *f, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            fputc('\\', f);
        if (*p == '\n')
            fputs("\\n", f);
        else
            fputc(*p, f);
    }
}

static void put_route_method(FILE *f, const struct series *s)
{
    fputs("route=\"", f);
    put_label(f, s->route ? s->route : "unmatched");
    fprintf(f, "\",method=\"%s\"", methods[s->method]);
}

static void render_requests(FILE *f)
{
    fputs("# HELP placid_http_requests_total HTTP requests answered, by route pattern, method "
          "and status.\n# TYPE placid_http_requests_total counter\n",
          f);
    for (size_t i = 0; i < SLOTS; i++) {
        struct series *s = &counts[i];
        if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_READY)
            continue;
        fputs("placid_http_requests_total{", f);
        put_route_method(f, s);
        fprintf(f, ",status=\"%d\"} %llu\n", s->status, load(&s->count));
    }
    fprintf(f, "# HELP placid_http_requests_in_flight HTTP requests being read or answered.\n"
               "# TYPE placid_http_requests_in_flight gauge\nplacid_http_requests_in_flight %lld\n",
            (long long)atomic_load_explicit(&in_flight, memory_order_relaxed));
}

static void render_latency(FILE *f)
{
    fputs("# HELP placid_http_request_duration_seconds Time from the request line to the end "
          "of the answer, by route pattern and method.\n"
          "# TYPE placid_http_request_duration_seconds histogram\n",
          f);
    for (size_t i = 0; i < SLOTS; i++) {
        struct series *s = &latencies[i];
        if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_READY)
            continue;
        unsigned long long cum = 0;
        for (size_t b = 0; b <= N_LATENCY; b++) {
            cum += load(&s->buckets[b]);
            fputs("placid_http_request_duration_seconds_bucket{", f);
            put_route_method(f, s);
            if (b < N_LATENCY)
                fprintf(f, ",le=\"%g\"} %llu\n", latency_le[b], cum);
            else
                fprintf(f, ",le=\"+Inf\"} %llu\n", cum);
        }
        fputs("placid_http_request_duration_seconds_sum{", f);
        put_route_method(f, s);
        fprintf(f, "} %.6f\n", (double)load(&s->sum_us) / 1e6);
        fputs("placid_http_request_duration_seconds_count{", f);
        put_route_method(f, s);
        fprintf(f, "} %llu\n", cum);
    }
}

static void render_candidates(FILE *f)
{
    unsigned long long cum = 0;
    fputs("# HELP placid_allocation_candidates_returned Allocation candidates in one answer.\n"
          "# TYPE placid_allocation_candidates_returned histogram\n",
          f);
    for (size_t b = 0; b <= N_CANDIDATES; b++) {
        cum += load(&cand_buckets[b]);
        if (b < N_CANDIDATES)
            fprintf(f, "placid_allocation_candidates_returned_bucket{le=\"%g\"} %llu\n",
                    candidates_le[b], cum);
        else
            fprintf(f, "placid_allocation_candidates_returned_bucket{le=\"+Inf\"} %llu\n", cum);
    }
    fprintf(f, "placid_allocation_candidates_returned_sum %llu\n", load(&cand_sum));
    fprintf(f, "placid_allocation_candidates_returned_count %llu\n", cum);
}

/* One metric without labels; whole numbers are written without exponent. */
static void metric(FILE *f, const char *name, const char *type, const char *help, double value)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    if (value >= 0 && value < 9e15 && (double)(long long)value == value)
        fprintf(f, "%s %lld\n", name, (long long)value);
    else
        fprintf(f, "%s %.9g\n", name, value);
}

static void render_pool(FILE *f, const struct metrics_db *db)
{
    metric(f, "placid_db_pool_size", "gauge",
           "Database connections the pool may open (--db-connections).", (double)db->pool_size);
    metric(f, "placid_db_pool_open", "gauge", "Database connections open now.",
           (double)db->pool_open);
    metric(f, "placid_db_pool_in_use", "gauge", "Database connections in use now.",
           (double)db->pool_in_use);
    metric(f, "placid_db_pool_wait_seconds_total", "counter",
           "Time requests waited for a free database connection.", db->pool_wait_seconds);
}

/* The PostgreSQL backend's connection and retry figures. */
static void render_postgresql(FILE *f, const struct metrics_db *db)
{
    metric(f, "placid_db_reconnects_total", "counter",
           "Database connections re-established after they broke or the database was "
           "unreachable.",
           (double)db->reconnects);
    metric(f, "placid_db_connect_failures_total", "counter",
           "Attempts to connect to the database that failed.", (double)db->connect_failures);
    metric(f, "placid_db_unavailable_total", "counter",
           "Requests answered 503 with Retry-After because the database could not be reached.",
           (double)db->unavailable);
    fputs("# HELP placid_db_retries_total Units of work run again, by cause: SQLSTATE 40001 "
          "serialization_failure, 40P01 deadlock_detected, or the connection lost before "
          "COMMIT (class 08, 57P01-57P03).\n# TYPE placid_db_retries_total counter\n",
          f);
    fprintf(f, "placid_db_retries_total{reason=\"serialization_failure\"} %llu\n",
            db->retries_serialization);
    fprintf(f, "placid_db_retries_total{reason=\"deadlock_detected\"} %llu\n",
            db->retries_deadlock);
    fprintf(f, "placid_db_retries_total{reason=\"connection_lost\"} %llu\n",
            db->retries_connection);
}

static void render_db(FILE *f)
{
    struct metrics_db db = {.wal_bytes = -1};
    if (!db_source)
        return;
    db_source(&db, db_arg);
    metric(f, "placid_db_busy_total", "counter",
           "Database operations refused because it stayed locked past the busy timeout "
           "(answered 503 with Retry-After).",
           (double)db.busy);
    metric(f, "placid_db_pool_waits_total", "counter",
           "Requests that waited for a free database connection.", (double)db.pool_waits);
    metric(f, "placid_tree_cache_hits_total", "counter",
           "Provider-tree blocks reused from the tree cache.", (double)db.tree_hits);
    metric(f, "placid_tree_cache_misses_total", "counter",
           "Provider-tree blocks read from the database.", (double)db.tree_misses);
    metric(f, "placid_tree_cache_bytes", "gauge", "Bytes held by the tree cache.",
           (double)db.tree_bytes);
    if (db.wal_bytes >= 0)
        metric(f, "placid_db_wal_bytes", "gauge", "Size of the database's write-ahead log file.",
               (double)db.wal_bytes);
    render_pool(f, &db);
    if (db.postgresql)
        render_postgresql(f, &db);
}

/* The figures of Prometheus' process collector, from /proc. */
static void render_process(FILE *f)
{
    struct rusage ru;
    struct rlimit rl;
    long page = sysconf(_SC_PAGESIZE);
    unsigned long long vm = 0, rss = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    if (statm) {
        if (fscanf(statm, "%llu %llu", &vm, &rss) != 2)
            vm = rss = 0;
        fclose(statm);
    }
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    metric(f, "process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.", cpu);
    metric(f, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
           (double)(rss * (unsigned long long)page));
    metric(f, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
           (double)(vm * (unsigned long long)page));
    long fds = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        for (struct dirent *e; (e = readdir(d));)
            fds += e->d_name[0] != '.';
        closedir(d);
        metric(f, "process_open_fds", "gauge", "Number of open file descriptors.",
               (double)(fds - 1)); /* less the directory's own descriptor */
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        metric(f, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
               (double)rl.rlim_cur);
    metric(f, "process_start_time_seconds", "gauge",
           "Start time of the process since unix epoch in seconds.", start_time);
}

char *metrics_render(size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f)
        abort(); /* out of memory, as xmalloc */
    render_requests(f);
    render_latency(f);
    render_candidates(f);
    render_db(f);
    render_process(f);
    fclose(f);
    return text;
}

/* ---- the listener ---- */

struct metrics_server {
    struct http_server *http;
};

static const char METRICS_ROUTE[] = "/metrics";

static void metrics_dispatch(struct req *rq, void *ctx)
{
    (void)ctx;
    if (strcmp(rq->path, METRICS_ROUTE) != 0) {
        req_fail(rq, 404, NULL, "The resource could not be found.");
        return;
    }
    if (strcmp(rq->method, "GET") != 0) {
        req_header_add(rq, "Allow", "GET");
        req_fail(rq, 405, NULL, "The method specified is not allowed for this resource.");
        return;
    }
    rq->route_pattern = METRICS_ROUTE;
    size_t len = 0;
    char *text = metrics_render(&len);
    req_set_reply_text(rq, text, len, NULL);
    rq->reply_type = "text/plain; version=0.0.4; charset=utf-8";
    rq->status = 200;
}

struct metrics_server *metrics_listen(const char *host, unsigned short port, char *err,
                                      size_t errsz)
{
    /* One worker; a scraper needs few connections, and a stalled one is cut. */
    struct http_config hc = {.host = host, .port = port, .threads = 1, .max_body = 1024,
                             .request_timeout = 10, .max_connections = 16,
                             .dispatch = metrics_dispatch};
    struct http_server *http = http_listen(&hc, err, errsz);
    if (!http || !http_serve(http, err, errsz))
        return NULL;
    struct metrics_server *ms = xcalloc(1, sizeof(*ms));
    ms->http = http;
    return ms;
}

unsigned short metrics_port(const struct metrics_server *ms)
{
    return http_port(ms->http);
}

void metrics_stop(struct metrics_server *ms)
{
    if (!ms)
        return;
    http_stop(ms->http);
    free(ms);
}
