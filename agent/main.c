/* placid-agent: reports this compute host to placid the way nova-compute's
 * resource tracker does (root provider, VCPU/MEMORY_MB/DISK_GB inventory,
 * COMPUTE_NODE and, when libvirt and QEMU are new enough,
 * COMPUTE_NET_VIRTIO_PACKED). Exit status: 0 done, 1 a report failed or
 * placid stayed unreachable, 2 bad usage, 3 token rejected (with --once;
 * the periodic loop logs a rejection loudly and retries with backoff). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/client.h"
#include "agent/host.h"
#include "agent/keystone.h"
#include "agent/report.h"
#include "agent/token.h"
#include "core/log.h"

#define EXIT_USAGE 2
#define EXIT_AUTH  3

#define DEFAULT_STATE_FILE "/var/lib/placid-agent/state"
#define NOVA_INSTANCES     "/var/lib/nova/instances"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void usage(FILE *out)
{
    fputs("usage: placid-agent [options]\n"
          "Reports this host to placid as nova-compute would.\n\n"
          "  --url URL                   placid endpoint (default $PLACID_URL or\n"
          "                              http://127.0.0.1:8778)\n"
          "  --token TOKEN               X-Auth-Token (default $OS_TOKEN; visible in\n"
          "                              ps: prefer --token-file)\n"
          "  --keystone-credentials FILE authenticate with Keystone instead of a token:\n"
          "                              key = value lines (username, password,\n"
          "                              project_name, user_domain_name,\n"
          "                              project_domain_name, region_name, interface);\n"
          "                              placid's URL comes from the service catalog\n"
          "                              unless --url or $PLACID_URL is given\n"
          "  --keystone-url URL          Keystone's identity endpoint (default $OS_AUTH_URL)\n"
          "  --token-file PATH           read the token from the first line of PATH\n"
          "                              (re-read after a rejection). Without a token\n"
          "                              the agent uses 'admin' for a loopback --url\n"
          "                              only, and refuses to start otherwise\n"
          "  --name NAME                 provider name (default: the host name)\n"
          "  --state-file PATH           keeps the provider uuids across restarts\n"
          "                              (default " DEFAULT_STATE_FILE ")\n"
          "  --disk-path PATH            file system reported as DISK_GB (default\n"
          "                              " NOVA_INSTANCES " if present, else /)\n"
          "  --once                      report once and exit\n"
          "  --interval SECONDS          period of the report loop (default 60)\n"
          "  --retry-timeout SECONDS     with --once: how long to wait for an\n"
          "                              unreachable placid (default 60)\n"
          "  --libvirt-version X.Y.Z     state the libvirt version (default: run\n"
          "                              libvirtd/virtqemud/virsh --version)\n"
          "  --qemu-version X.Y.Z        state the QEMU version (default: run\n"
          "                              qemu-system-<arch>/qemu-kvm --version)\n"
          "  --vcpus N, --memory-mb N, --disk-gb N\n"
          "                              state the host sizes instead of reading them\n"
          "  --cpu-allocation-ratio R    default 4.0 (nova's initial_cpu_allocation_ratio)\n"
          "  --ram-allocation-ratio R    default 1.0\n"
          "  --disk-allocation-ratio R   default 1.0\n"
          "  --reserved-host-cpus N      default 0\n"
          "  --reserved-host-memory-mb N default 512\n"
          "  --reserved-host-disk-mb N   default 0\n"
          "  --numa-child                put VCPU on a child provider NAME-numa0\n"
          "                              (a nested layout, used by tests)\n"
          "  --debug                     verbose logging\n"
          "  --help\n\n"
          "COMPUTE_NET_VIRTIO_PACKED is reported only with libvirt >= 6.3.0 and\n"
          "QEMU >= 4.2.0. Exit status: 0 ok, 1 report failed or placid unreachable,\n"
          "2 bad usage, 3 token rejected (with --once; otherwise retried).\n",
          out);
}

static int bad_flag(const char *flag, const char *value, const char *why)
{
    fprintf(stderr, "placid-agent: invalid %s '%s': %s\n", flag, value, why);
    return -1;
}

static int parse_count(const char *flag, const char *s, long long min, long long *out)
{
    if (!parse_ll(s, out) || *out < min) {
        char why[64];
        snprintf(why, sizeof(why), "expected an integer >= %lld", min);
        return bad_flag(flag, s, why);
    }
    return 0;
}

static int parse_ratio(const char *flag, const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    if (errno || end == s || *end || !(*out > 0.0))
        return bad_flag(flag, s, "expected a number > 0");
    return 0;
}

static int parse_version(const char *flag, const char *s, struct agent_version *v, bool *stated)
{
    if (!agent_version_parse(s, v))
        return bad_flag(flag, s, "expected a version like 6.3.0");
    *stated = true;
    return 0;
}

struct options {
    struct agent_config cfg;
    bool once, debug;
    bool url_given;                      /* --url or PLACID_URL: not from the catalog */
    const char *ks_url, *ks_credentials; /* Keystone password auth when set */
    long long interval, retry_timeout;
    char host[256];
    const char *token_file; /* --token-file */
    char *file_token;       /* its token, malloc'd (cfg.token points here) */
};

enum {
    OPT_URL = 256,
    OPT_TOKEN,
    OPT_NAME,
    OPT_STATE,
    OPT_DISK_PATH,
    OPT_ONCE,
    OPT_INTERVAL,
    OPT_RETRY,
    OPT_LIBVIRT,
    OPT_QEMU,
    OPT_VCPUS,
    OPT_MEMORY,
    OPT_DISK,
    OPT_CPU_RATIO,
    OPT_RAM_RATIO,
    OPT_DISK_RATIO,
    OPT_RES_CPUS,
    OPT_RES_MEM,
    OPT_RES_DISK,
    OPT_NUMA,
    OPT_DEBUG,
    OPT_HELP,
    OPT_TOKEN_FILE,
    OPT_KS_URL,
    OPT_KS_CREDENTIALS,
};

static int parse_option(struct options *o, int opt, const char *arg)
{
    struct agent_config *c = &o->cfg;
    switch (opt) {
    case OPT_URL:
        c->url = arg;
        o->url_given = true;
        return 0;
    case OPT_KS_URL:
        o->ks_url = arg;
        return 0;
    case OPT_KS_CREDENTIALS:
        o->ks_credentials = arg;
        return 0;
    case OPT_TOKEN:
        c->token = arg;
        return 0;
    case OPT_NAME:
        c->name = arg;
        return arg[0] ? 0 : bad_flag("--name", arg, "empty");
    case OPT_STATE:
        c->state_file = arg;
        return 0;
    case OPT_DISK_PATH:
        c->disk_path = arg;
        return 0;
    case OPT_ONCE:
        o->once = true;
        return 0;
    case OPT_INTERVAL:
        return parse_count("--interval", arg, 1, &o->interval);
    case OPT_RETRY:
        return parse_count("--retry-timeout", arg, 0, &o->retry_timeout);
    case OPT_LIBVIRT:
        return parse_version("--libvirt-version", arg, &c->libvirt, &c->libvirt_stated);
    case OPT_QEMU:
        return parse_version("--qemu-version", arg, &c->qemu, &c->qemu_stated);
    case OPT_VCPUS:
        return parse_count("--vcpus", arg, 0, &c->vcpus);
    case OPT_MEMORY:
        return parse_count("--memory-mb", arg, 0, &c->memory_mb);
    case OPT_DISK:
        return parse_count("--disk-gb", arg, 0, &c->disk_gb);
    case OPT_CPU_RATIO:
        return parse_ratio("--cpu-allocation-ratio", arg, &c->cpu_ratio);
    case OPT_RAM_RATIO:
        return parse_ratio("--ram-allocation-ratio", arg, &c->ram_ratio);
    case OPT_DISK_RATIO:
        return parse_ratio("--disk-allocation-ratio", arg, &c->disk_ratio);
    case OPT_RES_CPUS:
        return parse_count("--reserved-host-cpus", arg, 0, &c->reserved_cpus);
    case OPT_RES_MEM:
        return parse_count("--reserved-host-memory-mb", arg, 0, &c->reserved_memory_mb);
    case OPT_RES_DISK:
        return parse_count("--reserved-host-disk-mb", arg, 0, &c->reserved_disk_mb);
    case OPT_NUMA:
        c->numa_child = true;
        return 0;
    case OPT_DEBUG:
        o->debug = true;
        return 0;
    case OPT_TOKEN_FILE:
        o->token_file = arg;
        return arg[0] ? 0 : bad_flag("--token-file", arg, "empty");
    default:
        return -1;
    }
}

static void set_defaults(struct options *o)
{
    struct agent_config *c = &o->cfg;
    memset(o, 0, sizeof(*o));
    c->url = getenv("PLACID_URL") ? getenv("PLACID_URL") : "http://127.0.0.1:8778";
    o->url_given = getenv("PLACID_URL") != NULL;
    o->ks_url = getenv("OS_AUTH_URL");
    c->token = NULL; /* --token, --token-file, $OS_TOKEN or loopback "admin": resolve_token() */
    c->state_file = DEFAULT_STATE_FILE;
    c->cpu_ratio = 4.0;
    c->ram_ratio = 1.0;
    c->disk_ratio = 1.0;
    c->reserved_memory_mb = 512;
    c->vcpus = c->memory_mb = c->disk_gb = -1;
    o->interval = 60;
    o->retry_timeout = 60;
}

/* Returns 0, or an exit status (EXIT_USAGE, or 0 after --help). */
static int parse_args(int argc, char **argv, struct options *o, bool *help)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, OPT_URL},
        {"token", required_argument, NULL, OPT_TOKEN},
        {"name", required_argument, NULL, OPT_NAME},
        {"state-file", required_argument, NULL, OPT_STATE},
        {"disk-path", required_argument, NULL, OPT_DISK_PATH},
        {"once", no_argument, NULL, OPT_ONCE},
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"retry-timeout", required_argument, NULL, OPT_RETRY},
        {"libvirt-version", required_argument, NULL, OPT_LIBVIRT},
        {"qemu-version", required_argument, NULL, OPT_QEMU},
        {"vcpus", required_argument, NULL, OPT_VCPUS},
        {"memory-mb", required_argument, NULL, OPT_MEMORY},
        {"disk-gb", required_argument, NULL, OPT_DISK},
        {"cpu-allocation-ratio", required_argument, NULL, OPT_CPU_RATIO},
        {"ram-allocation-ratio", required_argument, NULL, OPT_RAM_RATIO},
        {"disk-allocation-ratio", required_argument, NULL, OPT_DISK_RATIO},
        {"reserved-host-cpus", required_argument, NULL, OPT_RES_CPUS},
        {"reserved-host-memory-mb", required_argument, NULL, OPT_RES_MEM},
        {"reserved-host-disk-mb", required_argument, NULL, OPT_RES_DISK},
        {"numa-child", no_argument, NULL, OPT_NUMA},
        {"debug", no_argument, NULL, OPT_DEBUG},
        {"help", no_argument, NULL, OPT_HELP},
        {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
        {"keystone-url", required_argument, NULL, OPT_KS_URL},
        {"keystone-credentials", required_argument, NULL, OPT_KS_CREDENTIALS},
        {NULL, 0, NULL, 0},
    };
    int opt;

    *help = false;
    set_defaults(o);
    opterr = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == OPT_HELP) {
            *help = true;
            return 0;
        }
        if (opt == '?' || parse_option(o, opt, optarg) < 0)
            return EXIT_USAGE;
    }
    if (optind < argc) {
        fprintf(stderr, "placid-agent: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    return 0;
}

/* Fills in what depends on the host: name and disk path. */
static int resolve_defaults(struct options *o)
{
    struct agent_config *c = &o->cfg;
    struct stat sb;
    if (!c->name) {
        if (!host_name(o->host, sizeof(o->host))) {
            fprintf(stderr, "placid-agent: cannot read the host name; give --name\n");
            return EXIT_USAGE;
        }
        c->name = o->host;
    }
    if (!c->disk_path)
        c->disk_path = stat(NOVA_INSTANCES, &sb) == 0 ? NOVA_INSTANCES : "/";
    return 0;
}

/* Picks the token: --token or --token-file (not both), else $OS_TOKEN, else
 * the built-in "admin", but only when --url is a loopback address: a
 * well-known secret must not travel over a network. Checks that the token
 * can be sent whole. Returns 0 or EXIT_USAGE after a one-line error. */
static int resolve_token(struct options *o)
{
    struct agent_config *c = &o->cfg;
    char err[512];
    if (o->ks_credentials) { /* the token comes from Keystone */
        if (!o->token_file && !c->token)
            return 0;
        fprintf(stderr, "placid-agent: give either --keystone-credentials or a token\n");
        return EXIT_USAGE;
    }
    if (o->token_file && c->token) {
        fprintf(stderr, "placid-agent: give either --token or --token-file, not both\n");
        return EXIT_USAGE;
    }
    if (o->token_file) {
        if (!(o->file_token = agent_token_read_file(o->token_file, err, sizeof(err)))) {
            fprintf(stderr, "placid-agent: invalid --token-file: %s\n", err);
            return EXIT_USAGE;
        }
        c->token = o->file_token;
    }
    if (!c->token)
        c->token = getenv("OS_TOKEN");
    if (!c->token) {
        if (!agent_url_is_loopback(c->url)) {
            fprintf(stderr,
                    "placid-agent: no token for %s: give --token-file (or --token, $OS_TOKEN); "
                    "the default token 'admin' is only used for a loopback --url\n",
                    c->url);
            return EXIT_USAGE;
        }
        c->token = "admin";
    }
    if (agent_token_check(c->token, err, sizeof(err)) < 0) {
        fprintf(stderr, "placid-agent: invalid token: %s\n", err);
        return EXIT_USAGE;
    }
    return 0;
}

/* After a rejection: takes up a changed --token-file (a rotated secret). */
static void reload_token(struct options *o, struct agent_reporter *r)
{
    char err[512];
    if (!o->token_file)
        return;
    char *fresh = agent_token_read_file(o->token_file, err, sizeof(err));
    if (!fresh) {
        log_msg(LOG_ERROR, "%s; keeping the previous token", err);
        return;
    }
    if (strcmp(fresh, o->file_token) == 0) {
        free(fresh);
        return;
    }
    log_msg(LOG_INFO, "token file %s changed: using the new token", o->token_file);
    pl_client_set_token(r->client, fresh);
    free(o->file_token);
    o->file_token = fresh;
    o->cfg.token = fresh;
}

/* Sleeps, waking early for SIGTERM/SIGINT. */
static void nap(long long seconds)
{
    struct timespec ts = {.tv_sec = (time_t)seconds, .tv_nsec = 0};
    while (!stopping && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int run(struct agent_reporter *r, struct options *o, struct agent_keystone *ks)
{
    long long backoff = 1, waited = 0;
    const long long max_backoff = o->interval < 60 ? o->interval : 60;
    bool relogin = false;

    while (!stopping) {
        /* Keystone mode: a fresh token first; a token placid refuses is
         * replaced by a new login once before the refusal counts. */
        enum report_rc rc = ks ? agent_keystone_ready(ks, r, &o->cfg, relogin) : REPORT_OK;
        if (rc == REPORT_OK)
            rc = agent_report(r);
        if (rc == REPORT_AUTH && ks && !relogin) {
            relogin = true;
            continue;
        }
        relogin = false;
        if (rc == REPORT_AUTH && o->once)
            return EXIT_AUTH;
        if (rc == REPORT_AUTH) {
            /* A daemon outlives a token mix-up (a rotated secret, a Keystone
             * outage): shout, then keep trying with backoff. */
            log_msg(LOG_ERROR,
                    "placid at %s REJECTED THE TOKEN: this host is not being reported; fix "
                    "--token-file (re-read before each retry); retrying in %lld s",
                    r->cfg->url, backoff);
            nap(backoff);
            backoff = backoff * 2 > max_backoff ? max_backoff : backoff * 2;
            reload_token(o, r);
            continue;
        }
        if (rc == REPORT_RETRY) {
            if (o->once && waited >= o->retry_timeout) {
                log_msg(LOG_ERROR,
                        "placid at %s still unreachable or failing after %lld s; giving up",
                        r->cfg->url, waited);
                return EXIT_FAILURE;
            }
            log_msg(LOG_INFO, "retrying in %lld s", backoff);
            nap(backoff);
            waited += backoff;
            backoff = backoff * 2 > max_backoff ? max_backoff : backoff * 2;
            continue;
        }
        backoff = 1;
        waited = 0;
        if (o->once)
            return rc == REPORT_OK ? EXIT_SUCCESS : EXIT_FAILURE;
        nap(o->interval);
    }
    log_msg(LOG_INFO, "stopping");
    return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
    struct options o;
    struct agent_reporter r;
    char err[512];
    bool help;

    int status = parse_args(argc, argv, &o, &help);
    if (help) {
        usage(stdout);
        return EXIT_SUCCESS;
    }
    if (status || (status = resolve_defaults(&o)) != 0 || (status = resolve_token(&o)) != 0) {
        fputs("Try 'placid-agent --help'.\n", stderr);
        return status;
    }
    log_set_level(o.debug ? LOG_DEBUG : LOG_INFO);

    memset(&r, 0, sizeof(r));
    r.cfg = &o.cfg;
    if (agent_state_load(o.cfg.state_file, &r.state, err, sizeof(err)) < 0) {
        log_msg(LOG_ERROR, "%s", err);
        return EXIT_FAILURE;
    }
    struct agent_keystone ks;
    if (o.ks_credentials && agent_keystone_init(&ks, o.ks_url, o.ks_credentials,
                                                o.url_given ? o.cfg.url : NULL, err,
                                                sizeof(err))) {
        fprintf(stderr, "placid-agent: %s\n", err);
        return EXIT_USAGE;
    }
    /* Keystone mode makes its client once it has a token and an endpoint. */
    r.client = o.ks_credentials ? NULL : pl_client_new(o.cfg.url, o.cfg.token);
    if (!r.client && !o.ks_credentials) {
        log_msg(LOG_ERROR, "cannot initialise libcurl");
        return EXIT_FAILURE;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    log_msg(LOG_INFO, "reporting host %s to %s%s", o.cfg.name, o.cfg.url, o.once ? " once" : "");
    status = run(&r, &o, o.ks_credentials ? &ks : NULL);
    pl_client_free(r.client);
    free(o.file_token);
    return status;
}
