/* placid: configuration, start-up and shutdown order, signals. The only
 * file that wires server/, store/ and api/ together. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <arpa/inet.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/identity.h"
#include "core/log.h"
#include "core/util.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/probe.h"
#include "store/store.h"

#define PLACID_VERSION "0.1.0"
/* noauth2's administrator token when none is configured (loopback only). */
#define DEFAULT_ADMIN_TOKEN "admin"

/* A write waits in its worker until its group commit is on disk, without a
 * database connection (store_grouped_write), so a worker costs little (an
 * idle one some 14 KB) and there should be about one per concurrent writer:
 * each keep-alive connection stays with the worker that accepted it. But
 * every worker wakes for each new connection, so workers are not free for
 * clients that connect per request. Measured on 2 cores (Release, 20
 * keep-alive writers; wrk with Connection: close on GET /): 4 workers
 * 15-16k new connections/s but p99 writes 55-166 ms; 16 workers 12k/s,
 * p99 19-26 ms; 24 workers p99 12-17 ms; 64 workers 7k/s, p99 24-49 ms. */
#define DEFAULT_THREADS 24

struct config {
    char host[64];
    unsigned short port;
    const char *db;
    unsigned threads;
    unsigned db_connections; /* 0 until set: then the default, at most threads */
    size_t max_body;
    char *admin_token; /* owned */
    char admin_source[576]; /* where admin_token came from, for the start-up log */
    bool randomize;
    size_t tree_cache; /* bytes */
    unsigned request_timeout; /* seconds */
    int db_lock_timeout;      /* seconds; -1 until set: then 5, or less below --request-timeout */
    unsigned db_wait;         /* seconds to wait at start for an unreachable PostgreSQL */
    unsigned max_connections, max_per_client;
    size_t max_body_memory; /* 0 until set: then the larger of 64 MiB and max_body */
    unsigned long long work_limit; /* candidates engine steps per query */
    struct identity_config id; /* auth mode, policy, CORS (api/identity.h) */
    size_t near_misses;            /* near misses per explanation */
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
          "  --db PATH|CONNINFO       database file, created or migrated at start, or a\n"
          "                           PostgreSQL postgresql://... URI or libpq keyword string\n"
          "                           (PLACID_DB, default placid.db)\n"
          "  --threads N              HTTP worker threads (PLACID_THREADS, default 24)\n"
          "  --db-connections N       database connections at most, opened as needed\n"
          "                           (PLACID_DB_CONNECTIONS, default 2 per CPU, at least 4;\n"
          "                           at most --threads)\n"
          "  --db-lock-timeout SECONDS  PostgreSQL: longest a write waits for a lock, then 503\n"
          "                           (PLACID_DB_LOCK_TIMEOUT, 0-3600, 0: no limit; default 5,\n"
          "                           or half of a shorter --request-timeout)\n"
          "  --db-wait SECONDS        PostgreSQL: at start, wait this long for an unreachable\n"
          "                           database instead of exiting (PLACID_DB_WAIT, 0-86400,\n"
          "                           default 0)\n"
          "  --max-body BYTES         largest request body accepted (PLACID_MAX_BODY, 1048576)\n"
          "  --admin-token-file PATH  file whose first line is the admin token\n"
          "                           (PLACID_ADMIN_TOKEN_FILE; PLACID_ADMIN_TOKEN gives it\n"
          "                           directly; default \"admin\", loopback addresses only)\n"
          "  --randomize-candidates   shuffle allocation candidates like Placement's\n"
          "                           randomize_allocation_candidates (PLACID_RANDOMIZE_CANDIDATES=1)\n"
          "  --tree-cache-mb N        memory for provider trees kept between candidate queries\n"
          "                           (PLACID_TREE_CACHE_MB, default 64; 0 keeps none)\n"
          "  --candidates-work-limit N  steps one allocation-candidates search may take\n"
          "                           before it answers 400 (PLACID_CANDIDATES_WORK_LIMIT,\n"
          "                           default 20000000; 0: no limit)\n"
          "  --explain-near-misses K  near misses an allocation-candidates explanation lists\n"
          "                           (PLACID_EXPLAIN_NEAR_MISSES, default 5, at most 100)\n"
          "  --log-level LEVEL        debug, info, warn or error (PLACID_LOG_LEVEL, default info)\n"
          "  --request-timeout SECONDS  a client has this long to send each whole request\n"
          "                           (headers and body) from connecting or from its previous\n"
          "                           answer, else it is disconnected (PLACID_REQUEST_TIMEOUT, 30)\n"
          "  --max-connections N      open client connections at most (PLACID_MAX_CONNECTIONS,\n"
          "                           4096)\n"
          "  --max-connections-per-client N  per client IP address, 0 for no cap (behind a\n"
          "                           proxy) (PLACID_MAX_CONNECTIONS_PER_CLIENT, 256)\n"
          "  --max-body-memory BYTES  request bodies buffered at once, all connections together;\n"
          "                           past it 503 with Retry-After (PLACID_MAX_BODY_MEMORY,\n"
          "                           64 MiB or --max-body if larger)\n"
          "  --log-format FORMAT      text or json: one JSON object per line\n"
          "                           (PLACID_LOG_FORMAT, default text)\n"
          "  --metrics-listen HOST:PORT  serve Prometheus metrics on GET /metrics there\n"
          "                           (PLACID_METRICS_LISTEN, default off)\n"
          "  --backup DEST            write a consistent copy of --db to the new file DEST\n"
          "                           and exit; safe while placid serves that database\n"
          "  --check-health           ask the placid on --listen for GET /healthcheck and exit\n"
          "                           0 when it answers 200 (a container HEALTHCHECK)\n"
          IDENTITY_USAGE
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

/* Reads are short and CPU-bound, so a couple of connections per CPU keep the
 * cores busy; each costs its page cache and scratch memory. */
static unsigned default_db_connections(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = cpus > 0 ? (unsigned)cpus * 2 : 4;
    return n < 4 ? 4 : n > 32 ? 32 : n;
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
    snprintf(cfg->admin_source, sizeof(cfg->admin_source), "file %s", path);
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
    case 'D':
        if (parse_count(value, "--db-connections", 1, 256, &n))
            return -1;
        cfg->db_connections = (unsigned)n;
        return 0;
    case 'o':
        if (parse_count(value, "--db-lock-timeout (seconds, 0-3600)", 0, 3600, &n))
            return -1;
        cfg->db_lock_timeout = (int)n;
        return 0;
    case 'w':
        if (parse_count(value, "--db-wait (seconds, 0-86400)", 0, 86400, &n))
            return -1;
        cfg->db_wait = (unsigned)n;
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
    case 'm':
        return parse_host_port("--metrics-listen", value, cfg->metrics_host, &cfg->metrics_port);
    case 'c':
        if (parse_count(value, "--tree-cache-mb", 0, 1 << 20, &n))
            return -1;
        cfg->tree_cache = (size_t)n << 20;
        return 0;
    case 'K':
        if (parse_count(value, "--explain-near-misses", 0, 100, &n))
            return -1;
        cfg->near_misses = (size_t)n;
        return 0;
    case 'T':
        if (parse_count(value, "--request-timeout (seconds, 1-3600)", 1, 3600, &n))
            return -1;
        cfg->request_timeout = (unsigned)n;
        return 0;
    case 'C':
        if (parse_count(value, "--max-connections (1-1000000)", 1, 1000000, &n))
            return -1;
        cfg->max_connections = (unsigned)n;
        return 0;
    case 'P':
        if (parse_count(value, "--max-connections-per-client (0-1000000)", 0, 1000000, &n))
            return -1;
        cfg->max_per_client = (unsigned)n;
        return 0;
    case 'M':
        if (parse_count(value, "--max-body-memory (1024-1099511627776)", 1024, 1LL << 40, &n))
            return -1;
        cfg->max_body_memory = (size_t)n;
        return 0;
    case 'W':
        if (parse_count(value, "--candidates-work-limit", 0, 1000000000000000LL, &n))
            return -1;
        cfg->work_limit = (unsigned long long)n;
        return 0;
    default: {
        char err[512];
        if (opt >= ID_OPT_POLICY_FILE && identity_apply(&cfg->id, opt, value, err, sizeof(err)))
            return fail("%s", err);
        return opt >= ID_OPT_POLICY_FILE ? 0 : -1;
    }
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
                {"PLACID_REQUEST_TIMEOUT", 'T'},  {"PLACID_MAX_CONNECTIONS", 'C'},
                {"PLACID_MAX_CONNECTIONS_PER_CLIENT", 'P'}, {"PLACID_MAX_BODY_MEMORY", 'M'},
                {"PLACID_CANDIDATES_WORK_LIMIT", 'W'},
                {"PLACID_EXPLAIN_NEAR_MISSES", 'K'}, {"PLACID_METRICS_LISTEN", 'm'},
                {"PLACID_LOG_FORMAT", 'F'},       {"PLACID_DB_CONNECTIONS", 'D'},
                {"PLACID_DB_LOCK_TIMEOUT", 'o'},  {"PLACID_DB_WAIT", 'w'}};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i].name);
        if (v && *v && apply_option(cfg, vars[i].opt, v))
            return -1;
    }
    char err[512];
    if (identity_load_env(&cfg->id, err, sizeof(err)))
        return fail("%s", err);
    const char *token = getenv("PLACID_ADMIN_TOKEN");
    if (token && *token) {
        free(cfg->admin_token);
        cfg->admin_token = xstrdup(token);
        snprintf(cfg->admin_source, sizeof(cfg->admin_source), "PLACID_ADMIN_TOKEN");
    }
    return 0;
}

/* True for a numeric IPv4 address in 127.0.0.0/8. Anything else (0.0.0.0,
 * a real interface, or text http_listen will refuse) counts as reachable. */
static bool is_loopback(const char *host)
{
    struct in_addr a;
    return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

/* The built-in token is known to everyone: an administrator for anyone who
 * can reach the port. It is only allowed where only this machine can. */
static int check_admin_token(const struct config *cfg)
{
    /* Keystone mode has no admin token. */
    if (cfg->id.keystone_mode || is_loopback(cfg->host) ||
        strcmp(cfg->admin_token, DEFAULT_ADMIN_TOKEN) != 0)
        return 0;
    return fail("refusing to listen on %s with the well-known admin token \"%s\": set a secret "
                "with --admin-token-file PATH or PLACID_ADMIN_TOKEN",
                cfg->host, DEFAULT_ADMIN_TOKEN);
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
        {"tree-cache-mb", required_argument, NULL, 'c'},
        {"request-timeout", required_argument, NULL, 'T'},
        {"max-connections", required_argument, NULL, 'C'},
        {"max-connections-per-client", required_argument, NULL, 'P'},
        {"max-body-memory", required_argument, NULL, 'M'},
        {"candidates-work-limit", required_argument, NULL, 'W'},
        {"explain-near-misses", required_argument, NULL, 'K'},
        {"metrics-listen", required_argument, NULL, 'm'},
        {"log-format", required_argument, NULL, 'F'},
        {"check-health", no_argument, NULL, 'H'},
        {"backup", required_argument, NULL, 'B'},
        {"db-connections", required_argument, NULL, 'D'},
        {"db-lock-timeout", required_argument, NULL, 'o'},
        {"db-wait", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       IDENTITY_LONG_OPTIONS,       {NULL, 0, NULL, 0}};
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
        if (apply_option(cfg, opt, optarg ? optarg : "1"))
            return -1;
    }
    if (optind < argc)
        return fail("unexpected argument '%s' (see --help)", argv[optind]);
    if (cfg->id.policy_dump) {
        char err[512];
        return identity_dump(&cfg->id, err, sizeof(err)) ? fail("%s", err) : 1;
    }
    if (!cfg->max_body_memory)
        cfg->max_body_memory = cfg->max_body > ((size_t)64 << 20) ? cfg->max_body : (size_t)64 << 20;
    if (cfg->max_body_memory < cfg->max_body)
        return fail("--max-body-memory (%zu) must be at least --max-body (%zu)",
                    cfg->max_body_memory, cfg->max_body);
    if (!cfg->db_connections)
        cfg->db_connections = default_db_connections() < cfg->threads ? default_db_connections()
                                                                      : cfg->threads;
    if (cfg->db_connections > cfg->threads)
        return fail("--db-connections (%u) must be at most --threads (%u)", cfg->db_connections,
                    cfg->threads);
    if (cfg->max_connections < cfg->threads)
        return fail("--max-connections (%u) must be at least --threads (%u)",
                    cfg->max_connections, cfg->threads);
    /* --check-health and --backup serve nothing: no token to guard. */
    return cfg->check_health || cfg->backup_to ? 0 : check_admin_token(cfg);
}

/* Each connection is a descriptor: raises the soft RLIMIT_NOFILE as far as
 * --max-connections needs (plus the listener, the workers' event and wake-up
 * descriptors and the database files), and lowers the connection cap, with a
 * warning, when the hard limit does not allow that many. */
static int fit_fd_limit(struct config *cfg)
{
    struct rlimit rl;
    rlim_t reserve = 64 + (rlim_t)cfg->threads * 4 + (rlim_t)cfg->db_connections * 4;
    rlim_t want = (rlim_t)cfg->max_connections + reserve;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur >= want)
        return 0;
    if (rl.rlim_cur < reserve + cfg->threads)
        return fail("RLIMIT_NOFILE (%llu) is too low to serve with %u threads",
                    (unsigned long long)rl.rlim_cur, cfg->threads);
    cfg->max_connections = (unsigned)(rl.rlim_cur - reserve);
    log_msg(LOG_WARN, "RLIMIT_NOFILE is %llu: serving at most %u connections",
            (unsigned long long)rl.rlim_cur, cfg->max_connections);
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

/* The connection pool's figures, and PostgreSQL's when it runs. */
static void metrics_db_pool(struct metrics_db *out, const struct store_stats *s, bool postgresql)
{
    out->pool_size = s->pool_size;
    out->pool_open = s->pool_open;
    out->pool_in_use = s->pool_in_use;
    out->pool_wait_seconds = s->pool_wait_seconds;
    out->postgresql = postgresql;
    out->reconnects = s->reconnects;
    out->connect_failures = s->connect_failures;
    out->unavailable = s->unavailable;
    out->retries_serialization = s->retries_serialization;
    out->retries_deadlock = s->retries_deadlock;
    out->retries_connection = s->retries_connection;
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
    metrics_db_pool(out, &s, store_db_is_postgresql(arg));
    if (out->postgresql)
        out->wal_bytes = -1;
    else if (snprintf(wal, sizeof(wal), "%s-wal", (const char *)arg) < (int)sizeof(wal) &&
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
    if (store_db_is_postgresql(cfg->db))
        return fail("--backup copies an SQLite database; for PostgreSQL use pg_dump");
    if (store_backup(cfg->db, cfg->backup_to, err, sizeof(err)) != STORE_OK)
        return fail("backup failed: %s", err);
    printf("placid: backup of %s written to %s (%lld bytes)\n", cfg->db, cfg->backup_to,
           stat(cfg->backup_to, &sb) == 0 ? (long long)sb.st_size : -1LL);
    return 0;
}

/* Whether SIGINT or SIGTERM arrived (they are blocked until sigwait): ends
 * a --db-wait early. */
static bool stop_requested(void *arg)
{
    sigset_t pending;
    (void)arg;
    sigpending(&pending);
    return sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1;
}

/* --db-lock-timeout in ms. Unset: 5 s, or half of a --request-timeout under
 * 10 s, so a write stuck behind a lock answers 503 well before a client
 * that keeps to the request timeout gives up on it. */
static unsigned db_lock_timeout_ms(const struct config *cfg)
{
    if (cfg->db_lock_timeout >= 0)
        return (unsigned)cfg->db_lock_timeout * 1000;
    return cfg->request_timeout < 10 ? cfg->request_timeout * 500 : 5000;
}

static int run(struct config *cfg)
{
    char err[512];
    sigset_t stop_signals;
    int sig;

    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    /* Block before any thread starts, so only sigwait() below sees them. */
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Bind first: a busy port is a one-line error before the database is
     * touched; serve only once the database is ready. */
    if (fit_fd_limit(cfg))
        return -1;
    struct api_ctx ctx = {.admin_token = cfg->admin_token, .randomize_candidates = cfg->randomize,
                          .candidates_work_limit = cfg->work_limit,
                          /* A configured admin secret would be pointless if any
                           * caller could claim X-Roles: admin. */
                          .noauth_headers = strcmp(cfg->admin_token, DEFAULT_ADMIN_TOKEN) == 0,
                          .explain_near_misses = cfg->near_misses};
    /* Keystone validations may hold all workers but one (api/keystone.h). */
    cfg->id.keystone.max_inflight = cfg->threads > 1 ? cfg->threads - 1 : 1;
    if (identity_start(&cfg->id, &ctx, err, sizeof(err)))
        return fail("%s", err);
    struct http_config hc = {.host = cfg->host, .port = cfg->port, .threads = cfg->threads,
                             .max_body = cfg->max_body, .request_timeout = cfg->request_timeout,
                             .max_connections = cfg->max_connections,
                             .max_per_client = cfg->max_per_client,
                             .max_body_memory = cfg->max_body_memory,
                             .check_headers = api_dispatch_headers,
                             .dispatch = api_dispatch_body, .ctx = &ctx};
    struct http_server *srv = http_listen(&hc, err, sizeof(err));
    if (!srv) {
        identity_stop(&ctx);
        return fail("%s", err);
    }
    struct metrics_server *metrics;
    if (start_metrics(cfg, &metrics)) {
        http_stop(srv);
        identity_stop(&ctx);
        return -1;
    }
    struct store_pool *pool = store_pool_open_wait(cfg->db, cfg->db_connections, cfg->db_wait,
                                                   stop_requested, NULL, err, sizeof(err));
    if (!pool) {
        metrics_stop(metrics);
        http_stop(srv);
        identity_stop(&ctx);
        return stop_requested(NULL) ? 0 : fail("%s", err);
    }
    store_pool_set_tree_cache(pool, cfg->tree_cache);
    store_pool_set_db_lock_timeout(pool, db_lock_timeout_ms(cfg));
    ctx.pool = pool;
    if (!http_serve(srv, err, sizeof(err))) {
        metrics_stop(metrics);
        store_pool_close(pool);
        identity_stop(&ctx);
        return fail("%s", err);
    }
    char db_shown[512]; /* a PostgreSQL password never reaches the log */
    store_db_printable(cfg->db, db_shown, sizeof(db_shown));
    log_msg(LOG_INFO,
            "placid %s listening on http://%s:%u/ (database %s, %u threads, %u connections)",
            PLACID_VERSION, cfg->host, (unsigned)http_port(srv), db_shown, cfg->threads,
            cfg->db_connections);
    log_msg(LOG_INFO, "connections: at most %u, %u per client (0: no cap), %us per request",
            cfg->max_connections, cfg->max_per_client, cfg->request_timeout);
    /* Which credentials are in force, never the token itself. */
    if (cfg->id.keystone_mode)
        log_msg(LOG_INFO, "authentication: keystone (%s)", cfg->id.keystone.url);
    else
        log_msg(LOG_INFO, "authentication: noauth2 (X-Auth-Token); admin token from %s",
                cfg->admin_source);
    while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP)
        identity_reload(&ctx);
    log_msg(LOG_INFO, "signal %d: finishing in-flight requests", sig);
    req_shutdown_begin(); /* long candidate searches stop and answer 503 */
    http_stop(srv);
    metrics_stop(metrics);
    store_pool_close(pool);
    identity_stop(&ctx);
    log_msg(LOG_INFO, "stopped");
    return 0;
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
                         .threads = DEFAULT_THREADS, .max_body = 1024 * 1024,
                         .tree_cache = STORE_TREE_CACHE_DEFAULT, .request_timeout = 30,
                         .db_lock_timeout = -1,
                         .max_connections = 4096, .max_per_client = 256,
                         .work_limit = API_CANDIDATES_WORK_DEFAULT, .near_misses = 5};
    cfg.admin_token = xstrdup(DEFAULT_ADMIN_TOKEN);
    snprintf(cfg.admin_source, sizeof(cfg.admin_source),
             "the built-in default \"%s\" (loopback only)", DEFAULT_ADMIN_TOKEN);
    identity_defaults(&cfg.id);

    tune_malloc();
    json_set_alloc_funcs(xmalloc, free);
    json_object_seed(0);
    int rc = parse_args(&cfg, argc, argv);
    if (rc == 0)
        rc = cfg.check_health ? check_health(&cfg) : cfg.backup_to ? backup(&cfg) : run(&cfg);
    free(cfg.admin_token);
    return rc < 0 ? 1 : 0;
}
