/* placid: configuration, start-up and shutdown order, signals. The only
 * file that wires server/, store/ and api/ together. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "server/http.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/probe.h"
#include "server/util.h"
#include "store/store.h"

#define PLACID_VERSION "0.1.0"

struct config {
    char host[64];
    unsigned short port;
    const char *db;
    unsigned threads;
    size_t max_body;
    char *admin_token; /* owned */
    bool randomize;
    size_t tree_cache; /* bytes */
    bool check_health; /* --check-health: probe the listen address, then exit */
    const char *backup_to; /* --backup DEST: copy the database there, then exit */
    char metrics_host[64]; /* --metrics-listen; "" = no metrics listener */
    unsigned short metrics_port;
};

static void usage(FILE *out)
{
    fputs("usage: placid [options]\n"
          "An OpenStack Placement-compatible service (API 1.0-1.39) on SQLite.\n\n"
          "  --listen HOST:PORT       address to serve on (PLACID_LISTEN, default 127.0.0.1:8778)\n"
          "  --db PATH                database file, created or migrated at start\n"
          "                           (PLACID_DB, default placid.db)\n"
          "  --threads N              worker threads (PLACID_THREADS, default 2 per CPU, at\n"
          "                           least 4)\n"
          "  --max-body BYTES         largest request body accepted (PLACID_MAX_BODY, 1048576)\n"
          "  --admin-token-file PATH  file whose first line is the admin token\n"
          "                           (PLACID_ADMIN_TOKEN_FILE; PLACID_ADMIN_TOKEN gives it\n"
          "                           directly; default \"admin\")\n"
          "  --randomize-candidates   shuffle allocation candidates like Placement's\n"
          "                           randomize_allocation_candidates (PLACID_RANDOMIZE_CANDIDATES=1)\n"
          "  --tree-cache-mb N        memory for provider trees kept between candidate queries\n"
          "                           (PLACID_TREE_CACHE_MB, default 64; 0 keeps none)\n"
          "  --log-level LEVEL        debug, info, warn or error (PLACID_LOG_LEVEL, default info)\n"
          "  --log-format FORMAT      text or json: one JSON object per line\n"
          "                           (PLACID_LOG_FORMAT, default text)\n"
          "  --metrics-listen HOST:PORT  serve Prometheus metrics on GET /metrics there\n"
          "                           (PLACID_METRICS_LISTEN, default off)\n"
          "  --backup DEST            write a consistent copy of --db to the new file DEST\n"
          "                           and exit; safe while placid serves that database\n"
          "  --check-health           ask the placid on --listen for GET /healthcheck and exit\n"
          "                           0 when it answers 200 (a container HEALTHCHECK)\n"
          "  --help, --version\n",
          out);
}

static int fail(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Prints "placid: <message>" as one line and returns -1. */
static int fail(const char *fmt, ...)
{
    va_list ap;
    fputs("placid: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

/* Splits HOST:PORT for flag into host[64] and *port. */
static int parse_host_port(const char *flag, const char *value, char host[64],
                           unsigned short *port)
{
    const char *colon = strrchr(value, ':');
    long long n;
    if (!colon || (size_t)(colon - value) >= 64 || colon == value ||
        !parse_ll(colon + 1, &n) || n < 0 || n > 65535)
        return fail("invalid %s '%s' (expected HOST:PORT)", flag, value);
    memcpy(host, value, (size_t)(colon - value));
    host[colon - value] = '\0';
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    *port = (unsigned short)n;
    return 0;
}

static int parse_listen(struct config *cfg, const char *value)
{
    return parse_host_port("--listen", value, cfg->host, &cfg->port);
}

static int parse_count(const char *value, const char *flag, long long lo, long long hi,
                       long long *out)
{
    if (!parse_ll(value, out) || *out < lo || *out > hi)
        return fail("invalid value for %s", flag);
    return 0;
}

static int read_token_file(struct config *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    if (!f)
        return fail("cannot read admin token file %s", path);
    bool ok = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    line[ok ? strcspn(line, "\r\n") : 0] = '\0';
    if (!line[0])
        return fail("admin token file %s is empty", path);
    free(cfg->admin_token);
    cfg->admin_token = xstrdup(line);
    return 0;
}

static int parse_log_level(const char *value)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(value, names[i]) == 0) {
            log_set_level((enum log_level)i);
            return 0;
        }
    return fail("invalid log level '%s'", value);
}

static int parse_log_format(const char *value)
{
    if (strcmp(value, "text") == 0 || strcmp(value, "json") == 0) {
        log_set_format(value[0] == 'j' ? LOG_JSON : LOG_TEXT);
        return 0;
    }
    return fail("invalid log format '%s' (text or json)", value);
}

/* Applies one option (from a flag or its environment variable). */
static int apply_option(struct config *cfg, int opt, const char *value)
{
    long long n;
    switch (opt) {
    case 'l': return parse_listen(cfg, value);
    case 'd':
        cfg->db = value;
        return 0;
    case 't':
        if (parse_count(value, "--threads", 1, 256, &n))
            return -1;
        cfg->threads = (unsigned)n;
        return 0;
    case 'b':
        if (parse_count(value, "--max-body", 1024, 1LL << 30, &n))
            return -1;
        cfg->max_body = (size_t)n;
        return 0;
    case 'a': return read_token_file(cfg, value);
    case 'r':
        cfg->randomize = strcmp(value, "0") != 0 && strcmp(value, "false") != 0;
        return 0;
    case 'L': return parse_log_level(value);
    case 'F': return parse_log_format(value);
    case 'M': return parse_host_port("--metrics-listen", value, cfg->metrics_host, &cfg->metrics_port);
    case 'c':
        if (parse_count(value, "--tree-cache-mb", 0, 1 << 20, &n))
            return -1;
        cfg->tree_cache = (size_t)n << 20;
        return 0;
    default: return -1;
    }
}

static int load_env(struct config *cfg)
{
    static const struct {
        const char *name;
        int opt;
    } vars[] = {{"PLACID_LISTEN", 'l'},           {"PLACID_DB", 'd'},
                {"PLACID_THREADS", 't'},          {"PLACID_MAX_BODY", 'b'},
                {"PLACID_ADMIN_TOKEN_FILE", 'a'}, {"PLACID_RANDOMIZE_CANDIDATES", 'r'},
                {"PLACID_LOG_LEVEL", 'L'},        {"PLACID_TREE_CACHE_MB", 'c'},
                {"PLACID_METRICS_LISTEN", 'M'},   {"PLACID_LOG_FORMAT", 'F'}};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i].name);
        if (v && *v && apply_option(cfg, vars[i].opt, v))
            return -1;
    }
    const char *token = getenv("PLACID_ADMIN_TOKEN");
    if (token && *token) {
        free(cfg->admin_token);
        cfg->admin_token = xstrdup(token);
    }
    return 0;
}

/* Returns 0 to run, 1 to exit successfully (help/version), -1 on error. */
static int parse_args(struct config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},  {"db", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 't'}, {"max-body", required_argument, NULL, 'b'},
        {"admin-token-file", required_argument, NULL, 'a'},
        {"randomize-candidates", no_argument, NULL, 'r'},
        {"log-level", required_argument, NULL, 'L'},
        {"tree-cache-mb", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"check-health", no_argument, NULL, 'H'},
        {"metrics-listen", required_argument, NULL, 'M'},
        {"log-format", required_argument, NULL, 'F'},
        {"backup", required_argument, NULL, 'B'},  {NULL, 0, NULL, 0}};
    int opt;

    if (load_env(cfg))
        return -1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 1;
        }
        if (opt == 'V') {
            printf("placid %s (Placement API 1.0-1.39)\n", PLACID_VERSION);
            return 1;
        }
        if (opt == 'H') {
            cfg->check_health = true;
            continue;
        }
        if (opt == 'B') {
            cfg->backup_to = optarg;
            continue;
        }
        if (opt == '?')
            return fail("unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
        if (apply_option(cfg, opt, opt == 'r' ? "1" : optarg))
            return -1;
    }
    if (optind < argc)
        return fail("unexpected argument '%s' (see --help)", argv[optind]);
    return 0;
}

/* --check-health: GET /healthcheck on the configured listen address (0.0.0.0
 * is asked on 127.0.0.1). 0 when it answers 200, else -1 with one line. */
static int check_health(const struct config *cfg)
{
    char err[256];
    int status = probe_get(cfg->host, cfg->port, "/healthcheck", 2000, err, sizeof(err));
    if (status == 200) {
        puts("OK");
        return 0;
    }
    if (status > 0)
        return fail("health check failed: GET /healthcheck answered %d", status);
    return fail("health check failed: %s", err);
}

/* The database's figures for GET /metrics (arg: the database path). */
static void metrics_db(struct metrics_db *out, void *arg)
{
    struct store_stats s;
    char wal[4096];
    struct stat sb;
    store_stats_get(&s);
    *out = (struct metrics_db){.busy = s.busy, .pool_waits = s.pool_waits,
                               .tree_hits = s.tree_hits, .tree_misses = s.tree_misses,
                               .tree_bytes = s.tree_bytes, .wal_bytes = 0};
    if (snprintf(wal, sizeof(wal), "%s-wal", (const char *)arg) < (int)sizeof(wal) &&
        stat(wal, &sb) == 0)
        out->wal_bytes = (long long)sb.st_size;
}

/* Starts the metrics listener when configured. Returns -1 after a one-line
 * error when its address cannot be bound. */
static int start_metrics(const struct config *cfg, struct metrics_server **out)
{
    char err[512];
    *out = NULL;
    metrics_init(metrics_db, (void *)cfg->db);
    if (!cfg->metrics_host[0])
        return 0;
    *out = metrics_listen(cfg->metrics_host, cfg->metrics_port, err, sizeof(err));
    if (!*out)
        return fail("metrics: %s", err);
    log_msg(LOG_INFO, "metrics on http://%s:%u/metrics", cfg->metrics_host,
            (unsigned)metrics_port(*out));
    return 0;
}

/* --backup DEST: an online copy of the database, then exit. */
static int backup(const struct config *cfg)
{
    char err[512];
    struct stat sb;
    if (!cfg->backup_to[0])
        return fail("invalid --backup '' (expected a file name)");
    if (store_backup(cfg->db, cfg->backup_to, err, sizeof(err)) != STORE_OK)
        return fail("backup failed: %s", err);
    printf("placid: backup of %s written to %s (%lld bytes)\n", cfg->db, cfg->backup_to,
           stat(cfg->backup_to, &sb) == 0 ? (long long)sb.st_size : -1LL);
    return 0;
}

static int run(struct config *cfg)
{
    char err[512];
    sigset_t stop_signals;
    int sig;

    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    /* Block before any thread starts, so only sigwait() below sees them. */
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Bind first: a busy port is a one-line error before the database is
     * touched; serve only once the database is ready. */
    struct api_ctx ctx = {.admin_token = cfg->admin_token, .randomize_candidates = cfg->randomize};
    struct http_config hc = {.host = cfg->host, .port = cfg->port, .threads = cfg->threads,
                             .max_body = cfg->max_body, .dispatch = api_dispatch, .ctx = &ctx};
    struct http_server *srv = http_listen(&hc, err, sizeof(err));
    if (!srv)
        return fail("%s", err);
    struct metrics_server *metrics;
    if (start_metrics(cfg, &metrics)) {
        http_stop(srv);
        return -1;
    }
    struct store_pool *pool = store_pool_open(cfg->db, cfg->threads, err, sizeof(err));
    if (!pool) {
        metrics_stop(metrics);
        http_stop(srv);
        return fail("%s", err);
    }
    store_pool_set_tree_cache(pool, cfg->tree_cache);
    ctx.pool = pool;
    if (!http_serve(srv, err, sizeof(err))) {
        metrics_stop(metrics);
        store_pool_close(pool);
        return fail("%s", err);
    }
    log_msg(LOG_INFO, "placid %s listening on http://%s:%u/ (database %s, %u threads)",
            PLACID_VERSION, cfg->host, (unsigned)http_port(srv), cfg->db, cfg->threads);
    sigwait(&stop_signals, &sig);
    log_msg(LOG_INFO, "signal %d: finishing in-flight requests", sig);
    http_stop(srv);
    metrics_stop(metrics);
    store_pool_close(pool);
    log_msg(LOG_INFO, "stopped");
    return 0;
}

/* Requests are short and CPU-bound, so a couple of workers per CPU keep the
 * cores busy; each worker costs a SQLite connection and scratch memory. */
static unsigned default_threads(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = cpus > 0 ? (unsigned)cpus * 2 : 4;
    return n < 4 ? 4 : n > 32 ? 32 : n;
}

/* glibc's defaults suit short programs, not a server that now and then
 * builds a large answer: the mmap threshold would adapt upwards after the
 * first big free (so later big buffers stay in the heap), and every worker
 * thread would get its own arena. Fixed thresholds and two arenas keep the
 * resident size near the live data (N=10,000 after a benchmark run:
 * 84 MB -> 33 MB), at no measurable cost in throughput. */
static void tune_malloc(void)
{
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
    mallopt(M_ARENA_MAX, 2);
}

int main(int argc, char **argv)
{
    struct config cfg = {.host = "127.0.0.1", .port = 8778, .db = "placid.db",
                         .threads = default_threads(), .max_body = 1024 * 1024,
                         .tree_cache = STORE_TREE_CACHE_DEFAULT};
    cfg.admin_token = xstrdup("admin");

    tune_malloc();
    json_set_alloc_funcs(xmalloc, free);
    json_object_seed(0);
    int rc = parse_args(&cfg, argc, argv);
    if (rc == 0)
        rc = cfg.check_health ? check_health(&cfg) : cfg.backup_to ? backup(&cfg) : run(&cfg);
    free(cfg.admin_token);
    return rc < 0 ? 1 : 0;
}
