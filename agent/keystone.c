#include "agent/keystone.h"

#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/client.h"
#include "core/body_buf.h"
#include "core/log.h"
#include "core/util.h"

/* Options of the credentials file beyond the ones the server reads. */
static void read_catalog_options(struct agent_keystone *k, const char *path)
{
    char line[1024];
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        char *eq = strchr(line, '=');
        if (!eq || line[0] == '#')
            continue;
        *eq = '\0';
        char key[64], value[256];
        if (sscanf(line, " %63s", key) != 1 || sscanf(eq + 1, " %255s", value) != 1)
            continue;
        if (strcmp(key, "region_name") == 0)
            snprintf(k->region, sizeof(k->region), "%.127s", value);
        else if (strcmp(key, "interface") == 0 || strcmp(key, "valid_interfaces") == 0)
            snprintf(k->interface, sizeof(k->interface), "%.*s", (int)strcspn(value, ","),
                     value);
    }
    fclose(f);
}

int agent_keystone_init(struct agent_keystone *k, const char *auth_url, const char *cred_file,
                        const char *url_override, char *err, size_t errsz)
{
    memset(k, 0, sizeof(*k));
    if (!auth_url || (strncmp(auth_url, "http://", 7) && strncmp(auth_url, "https://", 8))) {
        snprintf(err, errsz, "--keystone-credentials needs --keystone-url (or OS_AUTH_URL) "
                             "http(s)://HOST[:PORT]/v3");
        return -1;
    }
    if (keystone_read_credentials(cred_file, &k->cred, err, errsz))
        return -1;
    snprintf(k->auth_url, sizeof(k->auth_url), "%s", auth_url);
    size_t n = strlen(k->auth_url);
    while (n && k->auth_url[n - 1] == '/')
        k->auth_url[--n] = '\0';
    strcpy(k->interface, "public");
    read_catalog_options(k, cred_file);
    k->url_override = url_override;
    return 0;
}

struct reply {
    struct body_buf body; /* at most 8 MiB */
    char token[8192];
};

static size_t on_header(char *data, size_t size, size_t n, void *cls)
{
    struct reply *r = cls;
    size_t len = size * n, vlen;
    static const char name[] = "x-subject-token:";
    if (len <= sizeof(name) - 1 || strncasecmp(data, name, sizeof(name) - 1) != 0)
        return len;
    const char *v = data + sizeof(name) - 1;
    vlen = len - (sizeof(name) - 1);
    while (vlen && isspace((unsigned char)*v))
        v++, vlen--;
    while (vlen && isspace((unsigned char)v[vlen - 1]))
        vlen--;
    if (vlen < sizeof(r->token)) {
        memcpy(r->token, v, vlen);
        r->token[vlen] = '\0';
    }
    return len;
}

/* The placement endpoint of the catalog for k's interface and region. */
static bool find_endpoint(struct agent_keystone *k, json_t *catalog)
{
    size_t i, j;
    json_t *svc, *ep;
    json_array_foreach(catalog, i, svc) {
        const char *type = json_string_value(json_object_get(svc, "type"));
        if (!type || strcmp(type, "placement") != 0)
            continue;
        json_array_foreach(json_object_get(svc, "endpoints"), j, ep) {
            const char *itf = json_string_value(json_object_get(ep, "interface"));
            const char *region = json_string_value(json_object_get(ep, "region_id"));
            const char *url = json_string_value(json_object_get(ep, "url"));
            if (!url || !itf || strcmp(itf, k->interface) != 0)
                continue;
            if (k->region[0] && (!region || strcmp(region, k->region) != 0))
                continue;
            snprintf(k->endpoint, sizeof(k->endpoint), "%s", url);
            return true;
        }
    }
    return false;
}

/* POST /v3/auth/tokens with the password; fills token, renew_at, endpoint. */
static enum report_rc login(struct agent_keystone *k)
{
    struct reply r = {.body.max = 8 * 1024 * 1024};
    char url[600];
    json_t *req = json_pack(
        "{s:{s:{s:[s],s:{s:{s:s,s:s,s:{s:s}}}},s:{s:{s:s,s:{s:s}}}}}", "auth", "identity",
        "methods", "password", "password", "user", "name", k->cred.username, "password",
        k->cred.password, "domain", "name", k->cred.user_domain_name, "scope", "project", "name",
        k->cred.project_name, "domain", "name", k->cred.project_domain_name);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: application/json");
    snprintf(url, sizeof(url), "%s/auth/tokens", k->auth_url);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_buf_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(text);

    enum report_rc out = REPORT_OK;
    json_t *doc = r.body.data ? json_loads(r.body.data, 0, NULL) : NULL;
    json_t *tok = json_object_get(doc, "token");
    if (rc != CURLE_OK) {
        log_msg(LOG_WARN, "keystone at %s unreachable: %s", k->auth_url, curl_easy_strerror(rc));
        out = REPORT_RETRY;
    } else if (status == 401 || status == 403) {
        log_msg(LOG_ERROR, "keystone refused the agent's credentials (HTTP %ld)", status);
        out = REPORT_AUTH;
    } else if (status != 201 || !r.token[0] || !tok) {
        log_msg(LOG_WARN, "keystone login failed (HTTP %ld)", status);
        out = REPORT_RETRY;
    } else if (!k->url_override && !find_endpoint(k, json_object_get(tok, "catalog"))) {
        log_msg(LOG_ERROR, "no %s placement endpoint%s%s in Keystone's catalog", k->interface,
                k->region[0] ? " in region " : "", k->region);
        out = REPORT_RETRY;
    } else {
        time_t now = time(NULL);
        time_t exp = keystone_parse_time(json_string_value(json_object_get(tok, "expires_at")));
        time_t life = exp > now ? exp - now : 600;
        k->renew_at = now + life - (life / 4 < 600 ? life / 4 : 600);
        snprintf(k->token, sizeof(k->token), "%s", r.token);
        if (k->url_override)
            snprintf(k->endpoint, sizeof(k->endpoint), "%s", k->url_override);
    }
    json_decref(doc);
    free(r.body.data);
    return out;
}

enum report_rc agent_keystone_ready(struct agent_keystone *k, struct agent_reporter *r,
                                    struct agent_config *cfg, bool force)
{
    if (!force && r->client && k->token[0] && time(NULL) < k->renew_at)
        return REPORT_OK;
    enum report_rc rc = login(k);
    if (rc != REPORT_OK)
        return rc;
    struct pl_client *c = pl_client_new(k->endpoint, k->token);
    if (!c)
        return REPORT_RETRY;
    pl_client_free(r->client);
    r->client = c;
    cfg->url = k->endpoint;
    cfg->token = k->token;
    log_msg(LOG_INFO, "keystone: token for %s, placement at %s", k->cred.username, k->endpoint);
    return REPORT_OK;
}
