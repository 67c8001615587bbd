#include "fuzz_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "core/log.h"
#include "server/microversion.h"
#include "store/store.h"

static struct api_ctx ctx;
static char db[128], seeded[140];
static unsigned calls;

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out)
        abort();
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            abort();
    fclose(in);
    if (fclose(out) != 0)
        abort();
}

static void remove_db(const char *path)
{
    char p[160];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

static void open_pool(void)
{
    char err[256];
    ctx.pool = store_pool_open(db, 1, err, sizeof(err));
    if (!ctx.pool) {
        fprintf(stderr, "fuzz: store_pool_open %s: %s\n", db, err);
        abort();
    }
}

/* Splits a "k=v&k2" query the way libmicrohttpd does, decoding each part. */
static void set_query(struct req *rq, char *qs)
{
    size_t n = 1;
    for (const char *p = qs; *p; p++)
        n += *p == '&';
    rq->query = arena_alloc(&rq->arena, n * sizeof(*rq->query));
    for (char *save = NULL, *item = strtok_r(qs, "&", &save); item;
         item = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(item, '=');
        if (eq)
            *eq++ = '\0';
        url_unescape(item);
        if (eq)
            url_unescape(eq);
        rq->query[rq->n_query].key = item;
        rq->query[rq->n_query++].value = eq;
    }
}

static void check_answer(struct req *rq)
{
    int status = rq->err.status ? rq->err.status : rq->status;
    if (getenv("PLACID_FUZZ_DEBUG"))
        fprintf(stderr, "fuzz: %s %s -> %d %s\n", rq->method, rq->path, status, rq->err.detail);
    if (status == 500) {
        fprintf(stderr, "fuzz: %s %s answered 500: %s\n", rq->method, rq->path, rq->err.detail);
        abort();
    }
    if (rq->err.status) {
        json_t *e = req_error_to_json(rq, rq->method);
        char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;
        if (!text)
            abort();
        free(text);
        json_decref(e);
        free(req_error_to_text(rq, rq->method, true));
    } else if (rq->reply_text) {
        json_error_t jerr;
        json_t *doc = json_loadb(rq->reply_text, rq->reply_text_len, 0, &jerr);
        if (!doc) {
            fprintf(stderr, "fuzz: %s %s: invalid JSON text: %s\n", rq->method, rq->path,
                    jerr.text);
            abort();
        }
        json_decref(doc);
    } else if (rq->reply) {
        char *text = json_dumps(rq->reply, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text)
            abort();
        free(text);
    }
}

static void run(const char *method, const char *path, const char *version, const char *body,
                size_t body_len)
{
    struct req rq;
    char err[160], header[200];
    req_init(&rq);
    rq.method = method;
    char *p = arena_strdup(&rq.arena, path), *q = strchr(p, '?');
    if (q) {
        *q = '\0';
        set_query(&rq, q + 1);
    }
    url_unescape(p);
    rq.path = p;
    if (version) {
        snprintf(header, sizeof(header), "placement %s", version);
        rq.mv_known = mv_parse(header, &rq.mv, err, sizeof(err)) == MV_OK;
        if (!rq.mv_known)
            rq.mv = MV_MIN;
    } else {
        rq.mv = MV_MIN;
        rq.mv_known = true;
    }
    rq.token = "admin";
    rq.accept = "application/json";
    rq.host = "placid.test";
    if (body) {
        rq.raw_body = body;
        rq.body_len = body_len;
        rq.content_length = (long long)body_len;
        rq.content_type = "application/json";
    }
    api_dispatch(&rq, &ctx);
    check_answer(&rq);
    req_release(&rq);
}

/* The data set, written through the API itself. */
static void seed(void)
{
    static const char *const steps[][4] = {
        {"PUT", "/resource_classes/CUSTOM_FUZZ", "1.7", NULL},
        {"PUT", "/traits/CUSTOM_FUZZ_TRAIT", "1.6", NULL},
        {"POST", "/resource_providers", "1.20", "{\"name\": \"fuzz-rp\", \"uuid\": \"" FUZZ_ROOT "\"}"},
        {"POST", "/resource_providers", "1.20",
         "{\"name\": \"fuzz-child\", \"uuid\": \"" FUZZ_CHILD "\", \"parent_provider_uuid\": \"" FUZZ_ROOT "\"}"},
        {"PUT", "/resource_providers/" FUZZ_ROOT "/inventories", "1.20",
         "{\"resource_provider_generation\": 0, \"inventories\": {\"VCPU\": {\"total\": 64}, "
         "\"MEMORY_MB\": {\"total\": 65536}, \"DISK_GB\": {\"total\": 1000}, \"CUSTOM_FUZZ\": {\"total\": 100}}}"},
        {"PUT", "/resource_providers/" FUZZ_CHILD "/inventories", "1.20",
         "{\"resource_provider_generation\": 0, \"inventories\": {\"VCPU\": {\"total\": 8}}}"},
        {"PUT", "/resource_providers/" FUZZ_ROOT "/aggregates", "1.19",
         "{\"resource_provider_generation\": 1, \"aggregates\": [\"" FUZZ_AGG "\"]}"},
        {"PUT", "/resource_providers/" FUZZ_ROOT "/traits", "1.19",
         "{\"resource_provider_generation\": 2, \"traits\": [\"CUSTOM_FUZZ_TRAIT\", \"COMPUTE_NODE\"]}"},
        {"PUT", "/allocations/" FUZZ_CONSUMER, "1.28",
         "{\"allocations\": {\"" FUZZ_ROOT "\": {\"resources\": {\"VCPU\": 2, \"CUSTOM_FUZZ\": 1}}}, "
         "\"project_id\": \"fuzz-project\", \"user_id\": \"fuzz-user\", \"consumer_generation\": null}"},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        const char *body = steps[i][3];
        run(steps[i][0], steps[i][1], steps[i][2], body, body ? strlen(body) : 0);
    }
}

static void setup(void)
{
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    json_object_seed(1);
    log_set_level(LOG_ERROR);
    snprintf(db, sizeof(db), "%s/placid-fuzz-%d.db", dir, (int)getpid());
    snprintf(seeded, sizeof(seeded), "%s.seeded", db);
    remove_db(db);
    ctx.admin_token = "admin";
    ctx.candidates_work_limit = API_CANDIDATES_WORK_DEFAULT; /* as placid runs */
    open_pool();
    seed();
    store_pool_close(ctx.pool);
    copy_file(db, seeded);
    open_pool();
}

/* Starts again from the seeded copy (removed when the process exits). */
static void reset(void)
{
    store_pool_close(ctx.pool);
    remove_db(db);
    copy_file(seeded, db);
    open_pool();
}

static void cleanup(void)
{
    remove_db(db);
    unlink(seeded);
}

void fuzz_dispatch(const char *method, const char *path, const char *version, const char *body,
                   size_t body_len)
{
    if (!ctx.pool) {
        setup();
        atexit(cleanup);
    } else if (++calls % 256 == 0) {
        reset();
    }
    run(method, path, version, body, body_len);
}

void fuzz_take_line(const unsigned char **data, size_t *size, char **line)
{
    const unsigned char *nl = memchr(*data, '\n', *size);
    size_t n = nl ? (size_t)(nl - *data) : *size;
    *line = malloc(n + 1);
    memcpy(*line, *data, n);
    (*line)[n] = '\0';
    *data += nl ? n + 1 : n;
    *size -= nl ? n + 1 : n;
}
