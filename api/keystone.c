#include "api/keystone.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/body_buf.h"
#include "core/log.h"

#define TOKEN_MAX        8192 /* longer X-Auth-Token values are refused unseen */
#define RENEW_BEFORE     120  /* seconds: renew the service token this early (at most) */
#define UNAVAILABLE_HOLD 1    /* seconds a failed validation is shared */

enum estate { E_PENDING, E_VALID, E_INVALID, E_UNAVAILABLE };

struct entry {
    struct entry *next_hash;
    struct entry *older, *newer; /* age list: oldest at ks->oldest */
    uint64_t hash;
    char *token;
    enum estate state;
    time_t until; /* trusted (or remembered) until then */
    char *user_id, *project_id, *domain_id;
    bool system_all;
    char **roles;
    size_t n_roles;
    char why[160]; /* E_UNAVAILABLE: the reason */
};

struct keystone {
    char *url; /* without a trailing '/' */
    char *cafile;
    struct keystone_credentials cred;
    long cache_seconds, negative_seconds, timeout_ms;
    size_t max_entries;
    unsigned max_inflight, inflight; /* remote validations allowed / under way */

    pthread_mutex_t svc_lock; /* the service token; held while logging in */
    char svc_token[TOKEN_MAX];
    time_t svc_renew_at; /* renewed from then on, before it expires */

    pthread_mutex_t lock; /* the cache and the stats */
    pthread_cond_t resolved;
    struct entry **buckets;
    size_t n_buckets, n_entries;
    struct entry *oldest, *newest;
    struct keystone_stats stats;
};

/* ---- Configuration ---- */

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t lead = strspn(s, " \t");
    memmove(s, s + lead, n - lead + 1);
}

int keystone_read_credentials(const char *path, struct keystone_credentials *out, char *err,
                              size_t errsz)
{
    struct {
        const char *key;
        char *dst;
    } fields[] = {{"username", out->username},
                  {"password", out->password},
                  {"project_name", out->project_name},
                  {"user_domain_name", out->user_domain_name},
                  {"project_domain_name", out->project_domain_name}};
    char line[1024];
    int lineno = 0;

    memset(out, 0, sizeof(*out));
    strcpy(out->user_domain_name, "Default");
    strcpy(out->project_domain_name, "Default");
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsz, "cannot read Keystone credentials %s (%s)", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        trim(line);
        if (!line[0] || line[0] == '#' || line[0] == ';' || line[0] == '[')
            continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            fclose(f);
            snprintf(err, errsz, "Keystone credentials %s: line %d: expected key = value", path,
                     lineno);
            return -1;
        }
        *eq = '\0';
        trim(line);
        char *value = eq + 1;
        trim(value);
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
            if (strcmp(line, fields[i].key) == 0)
                snprintf(fields[i].dst, 256, "%s", value);
    }
    fclose(f);
    for (size_t i = 0; i < 3; i++)
        if (!fields[i].dst[0]) {
            snprintf(err, errsz, "Keystone credentials %s: %s is missing", path, fields[i].key);
            return -1;
        }
    return 0;
}

struct keystone *keystone_new(const struct keystone_config *cfg, char *err, size_t errsz)
{
    if (!cfg->url || (strncmp(cfg->url, "http://", 7) != 0 && strncmp(cfg->url, "https://", 8) != 0)) {
        snprintf(err, errsz, "--auth keystone needs --keystone-url http(s)://HOST[:PORT]/v3");
        return NULL;
    }
    if (!cfg->credentials) {
        snprintf(err, errsz, "--auth keystone needs --keystone-credentials FILE");
        return NULL;
    }
    struct keystone *ks = xcalloc(1, sizeof(*ks));
    if (keystone_read_credentials(cfg->credentials, &ks->cred, err, errsz)) {
        free(ks);
        return NULL;
    }
    ks->url = xstrdup(cfg->url);
    size_t n = strlen(ks->url);
    while (n && ks->url[n - 1] == '/')
        ks->url[--n] = '\0';
    ks->cafile = cfg->cafile ? xstrdup(cfg->cafile) : NULL;
    ks->cache_seconds = cfg->cache_seconds > 0 ? cfg->cache_seconds : 300;
    ks->negative_seconds = cfg->negative_seconds > 0 ? cfg->negative_seconds : 5;
    ks->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000;
    ks->max_entries = cfg->cache_entries ? cfg->cache_entries : 10000;
    ks->max_inflight = cfg->max_inflight ? cfg->max_inflight : 1;
    ks->n_buckets = 64;
    while (ks->n_buckets < ks->max_entries)
        ks->n_buckets *= 2;
    ks->buckets = xcalloc(ks->n_buckets, sizeof(*ks->buckets));
    pthread_mutex_init(&ks->svc_lock, NULL);
    pthread_mutex_init(&ks->lock, NULL);
    pthread_cond_init(&ks->resolved, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return ks;
}

static void entry_free(struct entry *e)
{
    free(e->token);
    free(e->user_id);
    free(e->project_id);
    free(e->domain_id);
    for (size_t i = 0; i < e->n_roles; i++)
        free(e->roles[i]);
    free(e->roles);
    free(e);
}

void keystone_free(struct keystone *ks)
{
    if (!ks)
        return;
    for (struct entry *e = ks->oldest, *next; e; e = next) {
        next = e->newer;
        entry_free(e);
    }
    free(ks->buckets);
    free(ks->url);
    free(ks->cafile);
    pthread_mutex_destroy(&ks->svc_lock);
    pthread_mutex_destroy(&ks->lock);
    pthread_cond_destroy(&ks->resolved);
    memset(ks->cred.password, 0, sizeof(ks->cred.password));
    free(ks);
    curl_global_cleanup();
}

const char *keystone_url(const struct keystone *ks)
{
    return ks->url;
}

void keystone_stats(struct keystone *ks, struct keystone_stats *out)
{
    pthread_mutex_lock(&ks->lock);
    *out = ks->stats;
    pthread_mutex_unlock(&ks->lock);
}

time_t keystone_parse_time(const char *s)
{
    struct tm tm = {0};
    int n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

/* ---- HTTP ---- */

struct http_reply {
    long status;
    struct body_buf body; /* at most 4 MiB: no token document is this large */
    char subject_token[TOKEN_MAX]; /* X-Subject-Token of the answer */
};

static size_t on_header(char *data, size_t size, size_t n, void *cls)
{
    struct http_reply *r = cls;
    size_t len = size * n;
    static const char name[] = "x-subject-token:";
    if (len > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
        const char *v = data + sizeof(name) - 1;
        size_t vlen = len - (sizeof(name) - 1);
        while (vlen && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
            vlen--;
        if (vlen < sizeof(r->subject_token)) {
            memcpy(r->subject_token, v, vlen);
            r->subject_token[vlen] = '\0';
        }
    }
    return len;
}

/* One request to Keystone. Returns false with why set when no HTTP answer
 * came (unreachable, timeout, TLS failure). */
static bool ks_http(struct keystone *ks, const char *path, const char *auth, const char *subject,
                    const char *post, struct http_reply *r, char *why, size_t whysz)
{
    char url[1024], line[TOKEN_MAX + 32];
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(why, whysz, "cannot start an HTTP client");
        return false;
    }
    memset(r, 0, sizeof(*r));
    r->body.max = 4 * 1024 * 1024;
    snprintf(url, sizeof(url), "%s%s", ks->url, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ks->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ks->timeout_ms);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "placid");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (ks->cafile)
        curl_easy_setopt(c, CURLOPT_CAINFO, ks->cafile);
    h = curl_slist_append(h, "Accept: application/json");
    if (auth) {
        snprintf(line, sizeof(line), "X-Auth-Token: %s", auth);
        h = curl_slist_append(h, line);
    }
    if (subject) {
        snprintf(line, sizeof(line), "X-Subject-Token: %s", subject);
        h = curl_slist_append(h, line);
    }
    if (post) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_buf_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    else
        snprintf(why, whysz, "Keystone at %s is unreachable: %s", ks->url,
                 curl_easy_strerror(rc));
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        free(r->body.data);
        r->body.data = NULL;
    }
    return rc == CURLE_OK;
}

/* ---- The service token ---- */

/* Password authentication scoped to the service's project. Called with
 * svc_lock held. */
static bool login_locked(struct keystone *ks, char *why, size_t whysz)
{
    struct http_reply r;
    json_t *body = json_pack(
        "{s:{s:{s:[s],s:{s:{s:s,s:s,s:{s:s}}}},s:{s:{s:s,s:{s:s}}}}}", "auth", "identity",
        "methods", "password", "password", "user", "name", ks->cred.username, "password",
        ks->cred.password, "domain", "name", ks->cred.user_domain_name, "scope", "project",
        "name", ks->cred.project_name, "domain", "name", ks->cred.project_domain_name);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        snprintf(why, whysz, "cannot build the Keystone login request");
        return false;
    }
    bool answered = ks_http(ks, "/auth/tokens?nocatalog", NULL, NULL, text, &r, why, whysz);
    free(text);
    if (!answered)
        return false;
    bool ok = r.status == 201 && r.subject_token[0];
    if (ok) {
        json_t *doc = json_loads(r.body.data ? r.body.data : "", 0, NULL);
        const char *exp = NULL;
        json_unpack(doc, "{s:{s:s}}", "token", "expires_at", &exp);
        time_t now = time(NULL), t = keystone_parse_time(exp);
        time_t life = t > now ? t - now : 600;
        ks->svc_renew_at = now + life - (life / 4 < RENEW_BEFORE ? life / 4 : RENEW_BEFORE);
        json_decref(doc);
        snprintf(ks->svc_token, sizeof(ks->svc_token), "%s", r.subject_token);
        pthread_mutex_lock(&ks->lock);
        ks->stats.logins++;
        pthread_mutex_unlock(&ks->lock);
    } else {
        snprintf(why, whysz, "Keystone refused placid's service credentials (HTTP %ld)",
                 r.status);
    }
    free(r.body.data);
    return ok;
}

/* Copies a service token valid for a while into out (renewing it when it
 * is about to expire, or when force says Keystone refused it). */
static bool service_token(struct keystone *ks, bool force, char *out, size_t outsz, char *why,
                          size_t whysz)
{
    pthread_mutex_lock(&ks->svc_lock);
    bool ok = true;
    if (force || !ks->svc_token[0] || time(NULL) >= ks->svc_renew_at)
        ok = login_locked(ks, why, whysz);
    if (ok)
        snprintf(out, outsz, "%s", ks->svc_token);
    pthread_mutex_unlock(&ks->svc_lock);
    return ok;
}

bool keystone_login(struct keystone *ks, char *err, size_t errsz)
{
    char tok[TOKEN_MAX];
    return service_token(ks, true, tok, sizeof(tok), err, errsz);
}

/* ---- Validation ---- */

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* Fills e from a validation answer; false when it is not a usable token. */
static bool take_identity(struct entry *e, const char *text)
{
    json_t *doc = json_loads(text ? text : "", 0, NULL);
    json_t *tok = json_object_get(doc, "token");
    const char *user = json_string_value(json_object_get(json_object_get(tok, "user"), "id"));
    time_t exp = keystone_parse_time(json_string_value(json_object_get(tok, "expires_at")));
    bool ok = user && exp > 0;
    if (ok) {
        e->user_id = xstrdup(user);
        e->project_id = dup_or_null(
            json_string_value(json_object_get(json_object_get(tok, "project"), "id")));
        e->domain_id = dup_or_null(
            json_string_value(json_object_get(json_object_get(tok, "domain"), "id")));
        e->system_all = json_is_true(json_object_get(json_object_get(tok, "system"), "all"));
        json_t *roles = json_object_get(tok, "roles"), *role;
        size_t i;
        e->roles = xcalloc(json_array_size(roles) + 1, sizeof(*e->roles));
        json_array_foreach(roles, i, role) {
            const char *name = json_string_value(json_object_get(role, "name"));
            if (name && e->n_roles < POLICY_MAX_ROLES)
                e->roles[e->n_roles++] = xstrdup(name);
        }
        e->until = exp;
    }
    json_decref(doc);
    return ok;
}

/* Asks Keystone about token (no lock held) and fills e's answer. */
static void validate_remote(struct keystone *ks, const char *token, struct entry *e)
{
    char svc[TOKEN_MAX];
    struct http_reply r;
    time_t now = time(NULL);

    for (int attempt = 0; attempt < 2; attempt++) {
        if (!service_token(ks, attempt > 0, svc, sizeof(svc), e->why, sizeof(e->why))) {
            e->state = E_UNAVAILABLE;
            return;
        }
        pthread_mutex_lock(&ks->lock);
        ks->stats.validations++;
        pthread_mutex_unlock(&ks->lock);
        if (!ks_http(ks, "/auth/tokens?nocatalog", svc, token, NULL, &r, e->why,
                     sizeof(e->why))) {
            e->state = E_UNAVAILABLE;
            return;
        }
        if (r.status != 401)
            break;
        free(r.body.data); /* our service token was refused: renew once */
        r.body.data = NULL;
    }
    if (r.status == 200 && take_identity(e, r.body.data) && e->until > now) {
        e->state = E_VALID;
        if (e->until > now + ks->cache_seconds)
            e->until = now + ks->cache_seconds;
    } else if (r.status == 200 || r.status == 404) {
        e->state = E_INVALID;
        e->until = now + ks->negative_seconds;
    } else {
        e->state = E_UNAVAILABLE;
        snprintf(e->why, sizeof(e->why), "Keystone answered HTTP %ld to a token validation",
                 r.status);
    }
    free(r.body.data);
}

static struct entry *find_locked(struct keystone *ks, const char *token, uint64_t h)
{
    for (struct entry *e = ks->buckets[h & (ks->n_buckets - 1)]; e; e = e->next_hash)
        if (e->hash == h && strcmp(e->token, token) == 0)
            return e;
    return NULL;
}

static void unlink_locked(struct keystone *ks, struct entry *e)
{
    struct entry **p = &ks->buckets[e->hash & (ks->n_buckets - 1)];
    while (*p != e)
        p = &(*p)->next_hash;
    *p = e->next_hash;
    if (e->older)
        e->older->newer = e->newer;
    else
        ks->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        ks->newest = e->older;
    ks->n_entries--;
}

/* Makes room for one more entry: the oldest that no validation is
 * waiting on goes. */
static void evict_locked(struct keystone *ks)
{
    for (struct entry *e = ks->oldest; e && ks->n_entries >= ks->max_entries; e = e->newer)
        if (e->state != E_PENDING) {
            unlink_locked(ks, e);
            entry_free(e);
            return;
        }
}

static struct entry *insert_locked(struct keystone *ks, const char *token, uint64_t h)
{
    if (ks->n_entries >= ks->max_entries)
        evict_locked(ks);
    struct entry *e = xcalloc(1, sizeof(*e));
    e->hash = h;
    e->token = xstrdup(token);
    e->state = E_PENDING;
    struct entry **b = &ks->buckets[h & (ks->n_buckets - 1)];
    e->next_hash = *b;
    *b = e;
    e->older = ks->newest;
    if (ks->newest)
        ks->newest->newer = e;
    else
        ks->oldest = e;
    ks->newest = e;
    ks->n_entries++;
    return e;
}

static enum keystone_result answer_locked(const struct entry *e, struct arena *arena,
                                          struct policy_creds *creds, char *why, size_t whysz)
{
    switch (e->state) {
    case E_VALID:
        creds->user_id = arena_strdup(arena, e->user_id);
        creds->project_id = e->project_id ? arena_strdup(arena, e->project_id) : NULL;
        creds->domain_id = e->domain_id ? arena_strdup(arena, e->domain_id) : NULL;
        creds->system_scope = e->system_all ? "all" : NULL;
        creds->n_roles = 0;
        for (size_t i = 0; i < e->n_roles; i++)
            creds->roles[creds->n_roles++] = arena_strdup(arena, e->roles[i]);
        return KEYSTONE_OK;
    case E_INVALID: return KEYSTONE_INVALID;
    default: snprintf(why, whysz, "%s", e->why); return KEYSTONE_UNAVAILABLE;
    }
}

static bool token_sane(const char *token)
{
    size_t n = 0;
    for (; token[n]; n++)
        if ((unsigned char)token[n] < 0x21 || (unsigned char)token[n] > 0x7e)
            return false;
    return n > 0 && n < TOKEN_MAX;
}

enum keystone_result keystone_validate(struct keystone *ks, const char *token,
                                       struct arena *arena, struct policy_creds *creds,
                                       char *why, size_t whysz)
{
    if (!token || !token_sane(token))
        return KEYSTONE_INVALID;
    uint64_t h = str_hash64(token);
    pthread_mutex_lock(&ks->lock);
    for (;;) {
        struct entry *e = find_locked(ks, token, h);
        if (e && e->state == E_PENDING) {
            /* Another request is validating this token: wait for its answer
             * (bounded: the leader's requests have timeouts). */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 2 * ks->timeout_ms / 1000 + 2;
            if (pthread_cond_timedwait(&ks->resolved, &ks->lock, &until) != 0) {
                pthread_mutex_unlock(&ks->lock);
                snprintf(why, whysz, "timed out waiting for Keystone");
                return KEYSTONE_UNAVAILABLE;
            }
            continue;
        }
        if (e && time(NULL) < e->until) {
            enum keystone_result res = answer_locked(e, arena, creds, why, whysz);
            ks->stats.hits++;
            pthread_mutex_unlock(&ks->lock);
            return res;
        }
        if (e) {
            unlink_locked(ks, e);
            entry_free(e);
        }
        break;
    }
    if (ks->inflight >= ks->max_inflight) {
        ks->stats.busy++;
        pthread_mutex_unlock(&ks->lock);
        snprintf(why, whysz, "%u validations are already waiting for Keystone",
                 ks->max_inflight);
        return KEYSTONE_UNAVAILABLE;
    }
    ks->inflight++;
    struct entry *e = insert_locked(ks, token, h);
    pthread_mutex_unlock(&ks->lock);

    /* The answer is built aside and moved into e under the lock, as other
     * threads read e's state meanwhile; e, PENDING, is never evicted. */
    struct entry got = {0};
    validate_remote(ks, token, &got);

    pthread_mutex_lock(&ks->lock);
    ks->inflight--;
    e->user_id = got.user_id;
    e->project_id = got.project_id;
    e->domain_id = got.domain_id;
    e->system_all = got.system_all;
    e->roles = got.roles;
    e->n_roles = got.n_roles;
    memcpy(e->why, got.why, sizeof(e->why));
    e->until = got.state == E_UNAVAILABLE ? time(NULL) + UNAVAILABLE_HOLD : got.until;
    e->state = got.state;
    enum keystone_result res = answer_locked(e, arena, creds, why, whysz);
    pthread_cond_broadcast(&ks->resolved);
    pthread_mutex_unlock(&ks->lock);
    return res;
}
