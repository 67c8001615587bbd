#include "agent/report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/host.h"
#include "core/log.h"
#include "core/util.h"

/* The microversions nova's report client uses for the same calls
 * (docs/clients.md), except inventories at 1.26 where reserved may equal
 * total. */
#define MV_GET_PROVIDER "1.14"
#define MV_CREATE       "1.20" /* POST answers with the provider body */
#define MV_INVENTORY    "1.26"
#define MV_TRAITS       "1.6"

/* Generation conflicts are retried after a re-read this many times. */
#define MAX_CONFLICT_RETRIES 8

static const char *const owned_classes[] = {"VCPU", "MEMORY_MB", "DISK_GB", NULL};
static const char *const owned_traits[] = {AGENT_TRAIT_COMPUTE_NODE, AGENT_TRAIT_PACKED, NULL};

/* ---- state file ---- */

int agent_state_load(const char *path, struct agent_state *st, char *err, size_t errsz)
{
    char line[256];
    FILE *f = fopen(path, "r");

    memset(st, 0, sizeof(*st));
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errsz, "cannot read state file %s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *eq = strchr(line, '=');
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *target = NULL;
        if (eq && strncmp(line, "root_provider_uuid=", 19) == 0)
            target = st->root_uuid;
        else if (eq && strncmp(line, "numa0_provider_uuid=", 20) == 0)
            target = st->numa_uuid;
        if (!target || !uuid_normalize(eq + 1, target)) {
            snprintf(err, errsz, "state file %s: unexpected line '%s'", path, line);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

/* fsync()s the directory that holds path. 0, or -1 with errno set. */
static int fsync_parent_dir(const char *path)
{
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int agent_state_save(const char *path, const struct agent_state *st, char *err, size_t errsz)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f && errno == ENOENT) {
        /* First run: create the state directory (one level, like /var/lib/placid-agent). */
        char dir[4200];
        snprintf(dir, sizeof(dir), "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = '\0';
            if (mkdir(dir, 0755) == 0)
                f = fopen(tmp, "w");
        }
    }
    if (!f) {
        snprintf(err, errsz, "cannot write state file %s: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "# placid-agent state: the providers this host reported as\n");
    if (st->root_uuid[0])
        fprintf(f, "root_provider_uuid=%s\n", st->root_uuid);
    if (st->numa_uuid[0])
        fprintf(f, "numa0_provider_uuid=%s\n", st->numa_uuid);
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errsz, "cannot write state file %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    /* The rename is durable only once the directory entry is on disk. */
    if (fsync_parent_dir(path) != 0) {
        snprintf(err, errsz, "cannot sync the directory of state file %s: %s", path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

static enum report_rc save_state(struct agent_reporter *r)
{
    char err[512];
    if (agent_state_save(r->cfg->state_file, &r->state, err, sizeof(err)) == 0)
        return REPORT_OK;
    log_msg(LOG_ERROR, "%s", err);
    return REPORT_FAILED;
}

/* ---- answers ---- */

/* Logs a failed call and classifies it. */
static enum report_rc call_failed(const char *what, bool answered, const struct pl_response *res)
{
    if (!answered) {
        log_msg(LOG_WARN, "%s: placid unreachable: %s", what, res->detail);
        return REPORT_RETRY;
    }
    if (res->status == 401 || res->status == 403) {
        log_msg(LOG_ERROR, "%s: placid rejected the token (HTTP %ld: %s); check --token", what,
                res->status, res->detail);
        return REPORT_AUTH;
    }
    /* 501 will not go away by waiting; other 5xx (503 busy, a proxy's 502) may. */
    if (res->status >= 500 && res->status != 501) {
        log_msg(LOG_WARN, "%s: placid answered HTTP %ld: %s", what, res->status, res->detail);
        return REPORT_RETRY;
    }
    log_msg(LOG_ERROR, "%s: HTTP %ld: %s", what, res->status, res->detail);
    return REPORT_FAILED;
}

static bool detail_contains(const struct pl_response *res, const char *needle)
{
    json_t *err = json_array_get(json_object_get(res->body, "errors"), 0);
    const char *detail = json_string_value(json_object_get(err, "detail"));
    return detail && strstr(detail, needle);
}

/* ---- providers ---- */

static enum report_rc create_provider(struct agent_reporter *r, const char *uuid, const char *name,
                                      const char *parent)
{
    struct pl_response res;
    json_t *body = json_object();
    enum report_rc rc = REPORT_OK;

    json_object_set_new(body, "uuid", json_string(uuid));
    json_object_set_new(body, "name", json_string(name));
    if (parent)
        json_object_set_new(body, "parent_provider_uuid", json_string(parent));
    bool answered = pl_call(r->client, "POST", "/resource_providers", MV_CREATE, body, &res);
    json_decref(body);
    if (answered && (res.status == 200 || res.status == 201)) {
        log_msg(LOG_INFO, "created resource provider %s (%s)", name, uuid);
    } else if (answered && res.status == 409 &&
               detail_contains(&res, "Conflicting resource provider name:")) {
        /* nova: a name clash with another uuid is fatal (ResourceProviderCreationFailed). */
        log_msg(LOG_ERROR,
                "cannot create resource provider %s (%s): the name belongs to another provider "
                "(%s). Delete that provider or give another --name.",
                name, uuid, res.detail);
        rc = REPORT_FAILED;
    } else if (answered && res.status == 409) {
        /* nova: someone else created this uuid meanwhile; it is ours to use. */
        log_msg(LOG_INFO, "resource provider %s was created concurrently; using it", uuid);
    } else {
        rc = call_failed("create resource provider", answered, &res);
    }
    pl_response_clear(&res);
    return rc;
}

/* Makes sure the provider uuid exists (creating it, and a fresh uuid kept in
 * the state file, when needed). */
static enum report_rc ensure_provider(struct agent_reporter *r, char uuid[37], const char *name,
                                      const char *parent)
{
    struct pl_response res;
    char path[128];

    if (!uuid[0]) {
        /* Saved before the create, so a crash in between cannot orphan a provider. */
        uuid4_generate(uuid);
        if (save_state(r) != REPORT_OK)
            return REPORT_FAILED;
    }
    snprintf(path, sizeof(path), "/resource_providers/%s", uuid);
    bool answered = pl_call(r->client, "GET", path, MV_GET_PROVIDER, NULL, &res);
    enum report_rc rc = REPORT_OK;
    if (answered && res.status == 200) {
        const char *have = json_string_value(json_object_get(res.body, "name"));
        const char *have_parent =
            json_string_value(json_object_get(res.body, "parent_provider_uuid"));
        if (have && strcmp(have, name) != 0)
            log_msg(LOG_WARN, "resource provider %s is named %s, not %s; keeping its name", uuid,
                    have, name);
        if (parent && (!have_parent || strcmp(have_parent, parent) != 0))
            log_msg(LOG_WARN, "resource provider %s is not a child of %s", uuid, parent);
    } else if (answered && res.status == 404) {
        rc = create_provider(r, uuid, name, parent);
    } else {
        rc = call_failed("read resource provider", answered, &res);
    }
    pl_response_clear(&res);
    return rc;
}

/* Deletes the NUMA child a previous run created when the option is now off. */
static enum report_rc drop_numa_child(struct agent_reporter *r)
{
    struct pl_response res;
    char path[128];

    snprintf(path, sizeof(path), "/resource_providers/%s", r->state.numa_uuid);
    bool answered = pl_call(r->client, "DELETE", path, MV_GET_PROVIDER, NULL, &res);
    enum report_rc rc = REPORT_OK;
    if (answered && (res.status == 204 || res.status == 404)) {
        log_msg(LOG_INFO, "removed NUMA child provider %s", r->state.numa_uuid);
        r->state.numa_uuid[0] = '\0';
        rc = save_state(r);
    } else if (answered && res.status == 409) {
        log_msg(LOG_WARN, "keeping NUMA child provider %s: %s", r->state.numa_uuid, res.detail);
    } else {
        rc = call_failed("delete NUMA child provider", answered, &res);
    }
    pl_response_clear(&res);
    return rc;
}

/* ---- inventory ---- */

static json_t *inventory_record(long long total, long long reserved, double ratio)
{
    json_t *rec = json_object();
    json_object_set_new(rec, "total", json_integer(total));
    json_object_set_new(rec, "reserved", json_integer(reserved < total ? reserved : total));
    json_object_set_new(rec, "min_unit", json_integer(1));
    json_object_set_new(rec, "max_unit", json_integer(total));
    json_object_set_new(rec, "step_size", json_integer(1));
    json_object_set_new(rec, "allocation_ratio", json_real(ratio));
    return rec;
}

/* The provider's inventories with the owned classes replaced by desired.
 * Returns a new reference. */
static json_t *merged_inventories(json_t *current, json_t *desired)
{
    json_t *want = json_is_object(current) ? json_deep_copy(current) : json_object();
    for (size_t i = 0; owned_classes[i]; i++)
        json_object_del(want, owned_classes[i]);
    json_object_update(want, desired);
    return want;
}

static void log_inventory(const char *label, json_t *inv)
{
    char line[512] = "";
    size_t used = 0;
    const char *cls;
    json_t *rec;
    json_object_foreach(inv, cls, rec)
    {
        if (used < sizeof(line))
            used += (size_t)snprintf(line + used, sizeof(line) - used, " %s=%lld", cls,
                                     (long long)json_integer_value(json_object_get(rec, "total")));
    }
    log_msg(LOG_INFO, "%s: inventory set:%s", label, line);
}

/* Writes the owned classes of uuid's inventory (desired: class -> record,
 * borrowed), keeping every other class as it is. */
static enum report_rc sync_inventory(struct agent_reporter *r, const char *uuid, const char *label,
                                     json_t *desired)
{
    char path[160];
    snprintf(path, sizeof(path), "/resource_providers/%s/inventories", uuid);

    for (int attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
        struct pl_response res;
        bool answered = pl_call(r->client, "GET", path, MV_INVENTORY, NULL, &res);
        if (!answered || res.status != 200) {
            enum report_rc rc = call_failed("read inventories", answered, &res);
            pl_response_clear(&res);
            return rc;
        }
        json_t *gen = json_object_get(res.body, "resource_provider_generation");
        json_t *current = json_object_get(res.body, "inventories");
        json_t *want = merged_inventories(current, desired);
        if (json_equal(want, current)) {
            json_decref(want);
            pl_response_clear(&res);
            return REPORT_OK;
        }
        json_t *body = json_object();
        json_object_set_new(body, "resource_provider_generation", json_deep_copy(gen));
        json_object_set_new(body, "inventories", want);
        pl_response_clear(&res);
        answered = pl_call(r->client, "PUT", path, MV_INVENTORY, body, &res);
        if (answered && res.status == 200) {
            log_inventory(label, json_object_get(body, "inventories"));
        } else if (answered && res.status == 409 &&
                   strcmp(res.code, "placement.concurrent_update") == 0) {
            log_msg(LOG_INFO, "%s: provider generation changed; re-reading inventories", label);
            json_decref(body);
            pl_response_clear(&res);
            continue;
        }
        enum report_rc rc = answered && res.status == 200
                                ? REPORT_OK
                                : call_failed("set inventories", answered, &res);
        json_decref(body);
        pl_response_clear(&res);
        return rc;
    }
    log_msg(LOG_ERROR, "%s: gave up setting inventories after %d generation conflicts", label,
            MAX_CONFLICT_RETRIES);
    return REPORT_FAILED;
}

/* ---- traits ---- */

static bool in_names(const char *name, const char *const names[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* current minus the owned traits plus wanted. Returns a new array. */
static json_t *merged_traits(json_t *current, const char *const wanted[], size_t n_wanted)
{
    json_t *out = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(current, i, t)
    {
        const char *name = json_string_value(t);
        if (name && !in_names(name, owned_traits, 2))
            json_array_append_new(out, json_string(name));
    }
    for (i = 0; i < n_wanted; i++)
        json_array_append_new(out, json_string(wanted[i]));
    return out;
}

static bool same_name_set(json_t *a, json_t *b)
{
    size_t i;
    json_t *t;
    if (json_array_size(a) != json_array_size(b))
        return false;
    json_array_foreach(a, i, t)
    {
        bool found = false;
        for (size_t j = 0; j < json_array_size(b) && !found; j++)
            found = json_equal(t, json_array_get(b, j));
        if (!found)
            return false;
    }
    return true;
}

static void log_traits(const char *label, json_t *traits)
{
    char line[1024] = "";
    size_t used = 0, i;
    json_t *t;
    json_array_foreach(traits, i, t)
    {
        if (used < sizeof(line))
            used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s", i ? "," : "",
                                     json_string_value(t));
    }
    log_msg(LOG_INFO, "%s: traits set: %s", label, line);
}

/* Sets the owned traits of uuid to exactly wanted, leaving the others. */
static enum report_rc sync_traits(struct agent_reporter *r, const char *uuid, const char *label,
                                  const char *const wanted[], size_t n_wanted)
{
    char path[160];
    snprintf(path, sizeof(path), "/resource_providers/%s/traits", uuid);

    for (int attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
        struct pl_response res;
        bool answered = pl_call(r->client, "GET", path, MV_TRAITS, NULL, &res);
        if (!answered || res.status != 200) {
            enum report_rc rc = call_failed("read traits", answered, &res);
            pl_response_clear(&res);
            return rc;
        }
        json_t *current = json_object_get(res.body, "traits");
        json_t *want = merged_traits(current, wanted, n_wanted);
        if (same_name_set(want, current)) {
            json_decref(want);
            pl_response_clear(&res);
            return REPORT_OK;
        }
        json_t *body = json_object();
        json_object_set_new(body, "traits", want);
        json_object_set_new(
            body, "resource_provider_generation",
            json_deep_copy(json_object_get(res.body, "resource_provider_generation")));
        pl_response_clear(&res);
        answered = pl_call(r->client, "PUT", path, MV_TRAITS, body, &res);
        /* At 1.6 a 409 on this call can only be a generation conflict. */
        if (answered && res.status == 409) {
            log_msg(LOG_INFO, "%s: provider generation changed; re-reading traits", label);
            json_decref(body);
            pl_response_clear(&res);
            continue;
        }
        enum report_rc rc = REPORT_OK;
        if (answered && res.status == 200)
            log_traits(label, json_object_get(body, "traits"));
        else
            rc = call_failed("set traits", answered, &res);
        json_decref(body);
        pl_response_clear(&res);
        return rc;
    }
    log_msg(LOG_ERROR, "%s: gave up setting traits after %d generation conflicts", label,
            MAX_CONFLICT_RETRIES);
    return REPORT_FAILED;
}

/* ---- host facts ---- */

/* Decides the packed-ring trait and logs the reason once per change. */
static bool packed_ring_decision(struct agent_reporter *r)
{
    const struct agent_config *cfg = r->cfg;
    struct agent_version lv = cfg->libvirt, qv = cfg->qemu;
    char lwhy[300] = "", qwhy[300] = "", why[200], note[sizeof(r->last_packed_note)];
    bool have_l = cfg->libvirt_stated || host_detect_libvirt(&lv, lwhy, sizeof(lwhy));
    bool have_q = cfg->qemu_stated || host_detect_qemu(&qv, qwhy, sizeof(qwhy));
    bool ok =
        agent_packed_ring_supported(have_l ? &lv : NULL, have_q ? &qv : NULL, why, sizeof(why));

    if (ok)
        snprintf(note, sizeof(note), "packed ring: reporting %s (%s)", AGENT_TRAIT_PACKED, why);
    else if (!have_l || !have_q)
        snprintf(note, sizeof(note), "packed ring: not reporting %s: %s", AGENT_TRAIT_PACKED,
                 !have_l ? lwhy : qwhy);
    else
        snprintf(note, sizeof(note),
                 "packed ring: not reporting %s: %s (needs libvirt >= 6.3.0 and QEMU >= 4.2.0)",
                 AGENT_TRAIT_PACKED, why);
    if (strcmp(note, r->last_packed_note) != 0) {
        log_msg(ok ? LOG_INFO : LOG_WARN, "%s", note);
        snprintf(r->last_packed_note, sizeof(r->last_packed_note), "%s", note);
    }
    return ok;
}

struct host_sizes {
    long long vcpus, memory_mb, disk_gb;
};

static int read_sizes(const struct agent_config *cfg, struct host_sizes *hs)
{
    char err[300];
    hs->vcpus = cfg->vcpus >= 0 ? cfg->vcpus : host_online_cpus();
    hs->memory_mb = cfg->memory_mb >= 0 ? cfg->memory_mb : host_memory_mb(err, sizeof(err));
    if (hs->memory_mb < 0) {
        log_msg(LOG_ERROR, "cannot read the memory size: %s", err);
        return -1;
    }
    hs->disk_gb = cfg->disk_gb >= 0 ? cfg->disk_gb : host_disk_gb(cfg->disk_path, err, sizeof(err));
    if (hs->disk_gb < 0) {
        log_msg(LOG_ERROR, "cannot read the disk size: %s", err);
        return -1;
    }
    return 0;
}

/* Classes with a zero total are not reported (Placement needs total >= 1). */
static void put_record(json_t *inv, const char *cls, long long total, long long reserved,
                       double ratio)
{
    if (total > 0)
        json_object_set_new(inv, cls, inventory_record(total, reserved, ratio));
}

static enum report_rc worse(enum report_rc a, enum report_rc b)
{
    return a > b ? a : b;
}

enum report_rc agent_report(struct agent_reporter *r)
{
    const struct agent_config *cfg = r->cfg;
    struct host_sizes hs;
    char child_name[300];
    enum report_rc rc;

    if (read_sizes(cfg, &hs) < 0)
        return REPORT_FAILED;
    bool packed = packed_ring_decision(r);

    if ((rc = ensure_provider(r, r->state.root_uuid, cfg->name, NULL)) != REPORT_OK)
        return rc;
    snprintf(child_name, sizeof(child_name), "%s-numa0", cfg->name);
    if (cfg->numa_child)
        rc = ensure_provider(r, r->state.numa_uuid, child_name, r->state.root_uuid);
    else if (r->state.numa_uuid[0])
        rc = drop_numa_child(r);
    if (rc != REPORT_OK)
        return rc;

    json_t *root_inv = json_object(), *child_inv = json_object();
    if (!cfg->numa_child)
        put_record(root_inv, "VCPU", hs.vcpus, cfg->reserved_cpus, cfg->cpu_ratio);
    else
        put_record(child_inv, "VCPU", hs.vcpus, cfg->reserved_cpus, cfg->cpu_ratio);
    put_record(root_inv, "MEMORY_MB", hs.memory_mb, cfg->reserved_memory_mb, cfg->ram_ratio);
    /* compute_utils.convert_mb_to_ceil_gb(reserved_host_disk_mb) */
    put_record(root_inv, "DISK_GB", hs.disk_gb, (cfg->reserved_disk_mb + 1023) / 1024,
               cfg->disk_ratio);

    if (cfg->numa_child)
        rc = sync_inventory(r, r->state.numa_uuid, child_name, child_inv);
    if (rc != REPORT_AUTH && rc != REPORT_RETRY)
        rc = worse(rc, sync_inventory(r, r->state.root_uuid, cfg->name, root_inv));
    json_decref(root_inv);
    json_decref(child_inv);

    const char *wanted[] = {AGENT_TRAIT_COMPUTE_NODE, AGENT_TRAIT_PACKED};
    if (rc != REPORT_AUTH && rc != REPORT_RETRY)
        rc = worse(rc, sync_traits(r, r->state.root_uuid, cfg->name, wanted, packed ? 2 : 1));
    return rc;
}
