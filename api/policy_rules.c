/* Placement's rules: the upstream defaults, policy files (YAML or JSON, as
 * oslo.policy reads them) merged over them, the effective rules dumped as
 * YAML, and the rules in force, replaced as a whole on reload. Check
 * strings are parsed and evaluated in policy.c. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "api/policy.h"
#include "api/policy_internal.h"
#include "core/util.h"

/* Current upstream defaults (placement/policies/, 2024+): project-scoped,
 * most APIs for admin or service, the reshaper for the service only, total
 * usages also for the project's reader. "deprecated" rules fall back to
 * role:admin (DEPRECATED_ADMIN_POLICY) while enforce_new_defaults is off. */
struct rule_default {
    const char *name, *check;
    unsigned scope;
    bool deprecated;
};

#define P   "placement:"
#define RP  P "resource_providers:"
#define AOS "rule:admin_or_service_api"

/* clang-format off */
static const struct rule_default defaults[] = {
    {"admin_api",            "role:admin",                                  SCOPE_PROJECT, false},
    {"service_api",          "role:service",                                SCOPE_PROJECT, true},
    {"admin_or_service_api", "role:admin or role:service",                  SCOPE_PROJECT, true},
    {"project_reader_api",   "role:reader and project_id:%(project_id)s",   0,             true},
    {"admin_or_project_reader_or_service_api",
                             "role:admin or rule:project_reader_api or role:service", SCOPE_PROJECT, true},
    {RP "list",                  AOS, SCOPE_PROJECT, false},
    {RP "create",                AOS, SCOPE_PROJECT, false},
    {RP "show",                  AOS, SCOPE_PROJECT, false},
    {RP "update",                AOS, SCOPE_PROJECT, false},
    {RP "delete",                AOS, SCOPE_PROJECT, false},
    {P "resource_classes:list",   AOS, SCOPE_PROJECT, false},
    {P "resource_classes:create", AOS, SCOPE_PROJECT, false},
    {P "resource_classes:show",   AOS, SCOPE_PROJECT, false},
    {P "resource_classes:update", AOS, SCOPE_PROJECT, false},
    {P "resource_classes:delete", AOS, SCOPE_PROJECT, false},
    {RP "inventories:list",      AOS, SCOPE_PROJECT, false},
    {RP "inventories:create",    AOS, SCOPE_PROJECT, false},
    {RP "inventories:show",      AOS, SCOPE_PROJECT, false},
    {RP "inventories:update",    AOS, SCOPE_PROJECT, false},
    {RP "inventories:delete",    AOS, SCOPE_PROJECT, false},
    {RP "aggregates:list",       AOS, SCOPE_PROJECT, false},
    {RP "aggregates:update",     AOS, SCOPE_PROJECT, false},
    {RP "usages",                AOS, SCOPE_PROJECT, false},
    {P "usages", "rule:admin_or_project_reader_or_service_api", SCOPE_PROJECT, false},
    {P "traits:list",            AOS, SCOPE_PROJECT, false},
    {P "traits:show",            AOS, SCOPE_PROJECT, false},
    {P "traits:update",          AOS, SCOPE_PROJECT, false},
    {P "traits:delete",          AOS, SCOPE_PROJECT, false},
    {RP "traits:list",           AOS, SCOPE_PROJECT, false},
    {RP "traits:update",         AOS, SCOPE_PROJECT, false},
    {RP "traits:delete",         AOS, SCOPE_PROJECT, false},
    {P "allocations:manage",     AOS, SCOPE_PROJECT, false},
    {P "allocations:list",       AOS, SCOPE_PROJECT, false},
    {P "allocations:update",     AOS, SCOPE_PROJECT, false},
    {P "allocations:delete",     AOS, SCOPE_PROJECT, false},
    {RP "allocations:list",      AOS, SCOPE_PROJECT, false},
    {P "reshaper:reshape",       "rule:service_api", SCOPE_PROJECT, false},
    {P "allocation_candidates:list", AOS, SCOPE_PROJECT, false},
    /* placid's own: POST /placid/allocation_candidates (the scheduler's call). */
    {"placid:scheduling",        AOS, SCOPE_PROJECT, false},
};
/* clang-format on */
#define N_DEFAULTS (sizeof(defaults) / sizeof(defaults[0]))

/* What a policy file says: name/check pairs, in file order. */
struct file_rules {
    char **names, **checks;
    size_t n;
};

static void file_rules_free(struct file_rules *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->names[i]);
        free(f->checks[i]);
    }
    free(f->names);
    free(f->checks);
    memset(f, 0, sizeof(*f));
}

static void file_rules_add(struct file_rules *f, const char *name, const char *check)
{
    f->names = xrealloc(f->names, (f->n + 1) * sizeof(*f->names));
    f->checks = xrealloc(f->checks, (f->n + 1) * sizeof(*f->checks));
    f->names[f->n] = xstrdup(name);
    f->checks[f->n] = xstrdup(check);
    f->n++;
}

static bool read_json_rules(const char *path, struct file_rules *f, char *err, size_t errsz)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    const char *name;
    json_t *v;

    if (!doc) {
        snprintf(err, errsz, "policy file %s: line %d: %s", path, jerr.line, jerr.text);
        return false;
    }
    if (!json_is_object(doc)) {
        snprintf(err, errsz, "policy file %s: expected an object of \"rule\": \"check\"", path);
        json_decref(doc);
        return false;
    }
    json_object_foreach(doc, name, v) {
        if (!json_is_string(v)) {
            snprintf(err, errsz, "policy file %s: rule %s: the check must be a string", path,
                     name);
            json_decref(doc);
            return false;
        }
        file_rules_add(f, name, json_string_value(v));
    }
    json_decref(doc);
    return true;
}

/* A YAML policy file is one mapping of scalar to scalar (what
 * oslopolicy-sample-generator writes); an empty or all-comment file has no
 * rules. */
static bool read_yaml_rules(FILE *in, const char *path, struct file_rules *f, char *err,
                            size_t errsz)
{
    yaml_parser_t yp;
    yaml_event_t ev;
    char *key = NULL;
    int depth = 0;
    bool ok = true, done = false;

    yaml_parser_initialize(&yp);
    yaml_parser_set_input_file(&yp, in);
    while (ok && !done) {
        if (!yaml_parser_parse(&yp, &ev)) {
            snprintf(err, errsz, "policy file %s: line %zu: %s", path,
                     yp.problem_mark.line + 1, yp.problem ? yp.problem : "YAML error");
            ok = false;
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = true; break;
        case YAML_MAPPING_START_EVENT:
            if (++depth > 1 || key) {
                snprintf(err, errsz, "policy file %s: line %zu: expected \"rule\": \"check\"",
                         path, ev.start_mark.line + 1);
                ok = false;
            }
            break;
        case YAML_MAPPING_END_EVENT: depth--; break;
        case YAML_SCALAR_EVENT:
            if (depth != 1) {
                snprintf(err, errsz, "policy file %s: expected a mapping of \"rule\": \"check\"",
                         path);
                ok = false;
            } else if (!key) {
                key = xstrdup((const char *)ev.data.scalar.value);
            } else {
                file_rules_add(f, key, (const char *)ev.data.scalar.value);
                free(key);
                key = NULL;
            }
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_ALIAS_EVENT:
            snprintf(err, errsz, "policy file %s: line %zu: a rule's check must be a string",
                     path, ev.start_mark.line + 1);
            ok = false;
            break;
        default: break;
        }
        yaml_event_delete(&ev);
    }
    free(key);
    yaml_parser_delete(&yp);
    return ok;
}

static bool read_rules(const char *path, struct file_rules *f, char *err, size_t errsz)
{
    FILE *in = fopen(path, "rb");
    int c;
    if (!in) {
        snprintf(err, errsz, "cannot read policy file %s (%s)", path, strerror(errno));
        return false;
    }
    while ((c = fgetc(in)) != EOF && isspace(c))
        ;
    bool ok;
    if (c == '{') {
        fclose(in);
        ok = read_json_rules(path, f, err, errsz);
    } else {
        rewind(in);
        ok = read_yaml_rules(in, path, f, err, errsz);
        fclose(in);
    }
    if (!ok)
        file_rules_free(f);
    return ok;
}

static const char *file_check(const struct file_rules *f, const char *name)
{
    const char *found = NULL;
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->names[i], name) == 0)
            found = f->checks[i];
    return found;
}

/* The effective check of default d: the file's when it names the rule,
 * else the default, or'ed with the deprecated role:admin while new
 * defaults are not enforced (oslo.policy's _handle_deprecated_rule). */
static char *effective_check(const struct rule_default *d, const struct file_rules *f,
                             const struct policy_config *cfg)
{
    const char *over = file_check(f, d->name);
    if (over)
        return xstrdup(over);
    if (d->deprecated && !cfg->enforce_new_defaults) {
        size_t n = strlen(d->check) + 32;
        char *s = xmalloc(n);
        snprintf(s, n, "(%s) or (role:admin)", d->check);
        return s;
    }
    return xstrdup(d->check);
}

static bool known_rule(const char *name)
{
    for (size_t i = 0; i < N_DEFAULTS; i++)
        if (strcmp(defaults[i].name, name) == 0)
            return true;
    return false;
}

struct policy *policy_load(const struct policy_config *cfg, char *err, size_t errsz)
{
    struct file_rules f = {0};
    char perrbuf[256];

    if (cfg->file && !read_rules(cfg->file, &f, err, errsz))
        return NULL;
    for (size_t i = 0; i < f.n; i++)
        if (!known_rule(f.names[i])) {
            snprintf(err, errsz, "policy file %s: unknown rule '%s'", cfg->file, f.names[i]);
            file_rules_free(&f);
            return NULL;
        }
    struct policy *p = xcalloc(1, sizeof(*p));
    p->enforce_scope = cfg->enforce_scope;
    p->rules = xcalloc(N_DEFAULTS, sizeof(*p->rules));
    for (size_t i = 0; i < N_DEFAULTS; i++) {
        struct rule *r = &p->rules[p->n++];
        r->name = xstrdup(defaults[i].name);
        r->check = effective_check(&defaults[i], &f, cfg);
        r->scope = defaults[i].scope;
        r->tree = policy_check_parse(r->check, perrbuf, sizeof(perrbuf));
        if (!r->tree) {
            snprintf(err, errsz, "policy file %s: rule %s: %s", cfg->file ? cfg->file : "-",
                     r->name, perrbuf);
            file_rules_free(&f);
            policy_free(p);
            return NULL;
        }
    }
    file_rules_free(&f);
    return p;
}

/* Appends s as a YAML double-quoted scalar, then tail, to buf. */
static void dump_quoted(char **buf, size_t *len, size_t *cap, const char *s, const char *tail)
{
    size_t need = *len + 2 * strlen(s) + strlen(tail) + 3;
    if (need > *cap) {
        *cap = need * 2;
        *buf = xrealloc(*buf, *cap);
    }
    (*buf)[(*len)++] = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            (*buf)[(*len)++] = '\\';
        (*buf)[(*len)++] = *s;
    }
    (*buf)[(*len)++] = '"';
    memcpy(*buf + *len, tail, strlen(tail) + 1);
    *len += strlen(tail);
}

char *policy_dump(const struct policy *p)
{
    size_t len = 0, cap = 4096;
    char *buf = xmalloc(cap);
    buf[0] = '\0';
    for (size_t i = 0; i < p->n; i++) {
        dump_quoted(&buf, &len, &cap, p->rules[i].name, ": ");
        dump_quoted(&buf, &len, &cap, p->rules[i].check, "\n");
    }
    return buf;
}

/* ---- The rules in force ---- */

struct policy_holder {
    pthread_rwlock_t lock;
    struct policy *cur; /* OWNED */
    struct policy_config cfg;
    char *file; /* OWNED copy of cfg.file */
};

struct policy_holder *policy_holder_new(const struct policy_config *cfg, char *err, size_t errsz)
{
    struct policy *p = policy_load(cfg, err, errsz);
    if (!p)
        return NULL;
    struct policy_holder *h = xcalloc(1, sizeof(*h));
    pthread_rwlock_init(&h->lock, NULL);
    h->cur = p;
    h->cfg = *cfg;
    h->file = cfg->file ? xstrdup(cfg->file) : NULL;
    h->cfg.file = h->file;
    return h;
}

void policy_holder_free(struct policy_holder *h)
{
    if (!h)
        return;
    policy_free(h->cur);
    pthread_rwlock_destroy(&h->lock);
    free(h->file);
    free(h);
}

bool policy_holder_reload(struct policy_holder *h, char *err, size_t errsz)
{
    struct policy *p = policy_load(&h->cfg, err, errsz);
    if (!p)
        return false;
    pthread_rwlock_wrlock(&h->lock);
    struct policy *old = h->cur;
    h->cur = p;
    pthread_rwlock_unlock(&h->lock);
    policy_free(old);
    return true;
}

bool policy_holder_allows(struct policy_holder *h, const char *rule,
                          const struct policy_creds *creds, const struct policy_target *target)
{
    pthread_rwlock_rdlock(&h->lock);
    bool ok = policy_allows(h->cur, rule, creds, target);
    pthread_rwlock_unlock(&h->lock);
    return ok;
}
