/* Check strings as oslo.policy reads them (oslo_policy/_parser.py): a
 * whitespace-separated token stream of checks ("kind:match", "@", "!"),
 * "not", "and", "or" and parentheses, "not" binding tightest, then "and",
 * then "or". Kinds: "rule:" names another rule, "role:" tests the caller's
 * roles (case-insensitively), anything else compares a caller attribute
 * (or a quoted literal) with the match after %(name)s substitution from
 * the target. */
#include "api/policy.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "core/util.h"

enum pkind { PK_TRUE, PK_FALSE, PK_NOT, PK_AND, PK_OR, PK_RULE, PK_ROLE, PK_GENERIC };

struct pnode {
    enum pkind kind;
    struct pnode *l, *r; /* NOT: l; AND/OR: l and r */
    char *key, *match;   /* GENERIC: attribute (or literal) and match; RULE/ROLE: match */
};

#define SCOPE_PROJECT 1u
#define SCOPE_SYSTEM  2u
#define SCOPE_DOMAIN  4u

struct rule {
    char *name;
    char *check;  /* the effective check string, as dumped */
    struct pnode *tree;
    unsigned scope; /* scope_types bits; 0 = any */
};

struct policy {
    struct rule *rules;
    size_t n;
    bool enforce_scope;
};

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

/* ---- Parsing ---- */

static char *dupn(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

enum ttype { T_LP, T_RP, T_AND, T_OR, T_NOT, T_CHECK };

struct token {
    enum ttype type;
    char *text; /* T_CHECK: owned */
};

struct parser {
    struct token *toks;
    size_t n, cap, pos;
    char *err;
    size_t errsz;
    bool failed;
    int depth; /* nesting of parentheses and "not" */
};

/* Deeper nesting is refused rather than risking the stack. */
#define MAX_NESTING 64

static void perr(struct parser *ps, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void perr(struct parser *ps, const char *fmt, ...)
{
    va_list ap;
    if (ps->failed)
        return;
    ps->failed = true;
    va_start(ap, fmt);
    vsnprintf(ps->err, ps->errsz, fmt, ap);
    va_end(ap);
}

/* A longer check string is refused: its and/or chain would make a tree
 * deep enough to strain the recursive evaluator. */
#define MAX_TOKENS 2048

static void push(struct parser *ps, enum ttype t, const char *text, size_t len)
{
    if (ps->n >= MAX_TOKENS) {
        perr(ps, "more than %d words", MAX_TOKENS);
        return;
    }
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 16;
        ps->toks = xrealloc(ps->toks, ps->cap * sizeof(*ps->toks));
    }
    ps->toks[ps->n].type = t;
    ps->toks[ps->n].text = text ? dupn(text, len) : NULL;
    ps->n++;
}

static void push_word(struct parser *ps, const char *w, size_t len)
{
    size_t open = 0, close = 0;
    while (open < len && w[open] == '(')
        push(ps, T_LP, NULL, 0), open++;
    while (close < len - open && w[len - 1 - close] == ')')
        close++;
    const char *c = w + open;
    size_t clen = len - open - close;
    if (clen == 3 && strncasecmp(c, "and", 3) == 0)
        push(ps, T_AND, NULL, 0);
    else if (clen == 2 && strncasecmp(c, "or", 2) == 0)
        push(ps, T_OR, NULL, 0);
    else if (clen == 3 && strncasecmp(c, "not", 3) == 0)
        push(ps, T_NOT, NULL, 0);
    else if (clen >= 2 && (c[0] == '"' || c[0] == '\'') && c[clen - 1] == c[0])
        perr(ps, "unexpected string %.*s", (int)clen, c);
    else if (clen)
        push(ps, T_CHECK, c, clen);
    for (size_t i = 0; i < close; i++)
        push(ps, T_RP, NULL, 0);
}

static void tokenize(struct parser *ps, const char *s)
{
    while (*s) {
        while (*s && isspace((unsigned char)*s))
            s++;
        size_t len = 0;
        while (s[len] && !isspace((unsigned char)s[len]))
            len++;
        if (len)
            push_word(ps, s, len);
        s += len;
    }
}

static struct pnode *node(enum pkind kind, struct pnode *l, struct pnode *r)
{
    struct pnode *n = xcalloc(1, sizeof(*n));
    n->kind = kind;
    n->l = l;
    n->r = r;
    return n;
}

static void pnode_free(struct pnode *n)
{
    if (!n)
        return;
    pnode_free(n->l);
    pnode_free(n->r);
    free(n->key);
    free(n->match);
    free(n);
}

static struct pnode *parse_check(struct parser *ps, const char *text)
{
    if (strcmp(text, "@") == 0)
        return node(PK_TRUE, NULL, NULL);
    if (strcmp(text, "!") == 0)
        return node(PK_FALSE, NULL, NULL);
    const char *colon = strchr(text, ':');
    if (!colon || colon == text) {
        perr(ps, "cannot understand check '%s' (expected KIND:MATCH, @ or !)", text);
        return NULL;
    }
    size_t klen = (size_t)(colon - text);
    enum pkind kind = PK_GENERIC;
    if (klen == 4 && strncmp(text, "rule", 4) == 0)
        kind = PK_RULE;
    else if (klen == 4 && strncmp(text, "role", 4) == 0)
        kind = PK_ROLE;
    struct pnode *n = node(kind, NULL, NULL);
    n->key = dupn(text, klen);
    n->match = xstrdup(colon + 1);
    return n;
}

static struct pnode *parse_or(struct parser *ps);

static struct pnode *parse_unary(struct parser *ps)
{
    if (ps->failed)
        return NULL;
    if (ps->pos >= ps->n) {
        perr(ps, "the check string ends too early");
        return NULL;
    }
    struct token *t = &ps->toks[ps->pos++];
    if ((t->type == T_NOT || t->type == T_LP) && ++ps->depth > MAX_NESTING) {
        perr(ps, "nested more than %d levels deep", MAX_NESTING);
        return NULL;
    }
    switch (t->type) {
    case T_NOT: {
        struct pnode *inner = parse_unary(ps);
        ps->depth--;
        return inner ? node(PK_NOT, inner, NULL) : NULL;
    }
    case T_LP: {
        struct pnode *inner = parse_or(ps);
        ps->depth--;
        if (inner && (ps->pos >= ps->n || ps->toks[ps->pos].type != T_RP)) {
            perr(ps, "unbalanced parentheses");
            pnode_free(inner);
            return NULL;
        }
        ps->pos++;
        return inner;
    }
    case T_CHECK: return parse_check(ps, t->text);
    default:
        perr(ps, "unexpected '%s'", t->type == T_RP    ? ")"
                                    : t->type == T_AND ? "and"
                                                       : "or");
        return NULL;
    }
}

static struct pnode *parse_binary(struct parser *ps, enum ttype op, enum pkind kind,
                                  struct pnode *(*operand)(struct parser *))
{
    struct pnode *l = operand(ps);
    while (l && ps->pos < ps->n && ps->toks[ps->pos].type == op) {
        ps->pos++;
        struct pnode *r = operand(ps);
        if (!r) {
            pnode_free(l);
            return NULL;
        }
        l = node(kind, l, r);
    }
    return l;
}

static struct pnode *parse_and(struct parser *ps)
{
    return parse_binary(ps, T_AND, PK_AND, parse_unary);
}

static struct pnode *parse_or(struct parser *ps)
{
    return parse_binary(ps, T_OR, PK_OR, parse_and);
}

/* Parses check into a tree, or NULL with err set. "" is always true, as
 * in oslo.policy. */
static struct pnode *parse(const char *check, char *err, size_t errsz)
{
    struct parser ps = {.err = err, .errsz = errsz};
    struct pnode *tree = NULL;

    tokenize(&ps, check);
    if (!ps.failed && ps.n == 0)
        tree = node(PK_TRUE, NULL, NULL);
    else if (!ps.failed) {
        tree = parse_or(&ps);
        if (tree && ps.pos < ps.n) {
            perr(&ps, "unexpected text after the end of the check string");
            pnode_free(tree);
            tree = NULL;
        }
    }
    for (size_t i = 0; i < ps.n; i++)
        free(ps.toks[i].text);
    free(ps.toks);
    return ps.failed ? (pnode_free(tree), NULL) : tree;
}

/* ---- Evaluation ---- */

/* Python's `match % target` for %(name)s and %%. False when a name is not
 * in the target (KeyError: the check fails) or the result is too long. */
static bool format_match(const char *match, const struct policy_target *t, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = match; *p; p++) {
        const char *piece = p;
        size_t len = 1;
        if (*p == '%' && p[1] == '%') {
            p++;
        } else if (*p == '%' && p[1] == '(') {
            const char *end = strstr(p, ")s");
            if (!end || !t)
                return false;
            size_t nlen = (size_t)(end - p - 2);
            const char *v;
            if (nlen == 10 && strncmp(p + 2, "project_id", 10) == 0)
                v = t->project_id;
            else if (nlen == 7 && strncmp(p + 2, "user_id", 7) == 0)
                v = t->user_id;
            else
                return false;
            piece = v ? v : "None";
            len = strlen(piece);
            p = end + 1;
        }
        if (o + len >= cap)
            return false;
        memcpy(out + o, piece, len);
        o += len;
    }
    out[o] = '\0';
    return true;
}

static bool has_role(const struct policy_creds *c, const char *role)
{
    for (size_t i = 0; i < c->n_roles; i++)
        if (strcasecmp(c->roles[i], role) == 0)
            return true;
    return false;
}

/* GenericCheck: a quoted literal or True/False as the kind compares with
 * the match itself; otherwise the caller attribute named by the kind
 * (None formats as "None"; a missing attribute fails). */
static bool generic_check(const char *key, const char *match, const struct policy_creds *c)
{
    size_t klen = strlen(key);
    if (klen >= 2 && (key[0] == '\'' || key[0] == '"') && key[klen - 1] == key[0])
        return strlen(match) == klen - 2 && strncmp(match, key + 1, klen - 2) == 0;
    if (strcmp(key, "True") == 0 || strcmp(key, "False") == 0)
        return strcmp(match, key) == 0;
    if (strcmp(key, "roles") == 0)
        return has_role(c, match) && strcmp(match, "") != 0;
    const char *v;
    if (strcmp(key, "user_id") == 0)
        v = c->user_id;
    else if (strcmp(key, "project_id") == 0 || strcmp(key, "tenant") == 0)
        v = c->project_id;
    else if (strcmp(key, "domain_id") == 0)
        v = c->domain_id;
    else if (strcmp(key, "system_scope") == 0)
        v = c->system_scope;
    else
        return false;
    return strcmp(match, v ? v : "None") == 0;
}

static size_t find_rule_index(const struct policy *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->rules[i].name, name) == 0)
            return i;
    return p->n;
}

/* One policy_allows call. A rule's answer depends only on the caller and
 * the target, both fixed for the call, so each rule is evaluated at most
 * once: "rule:x or rule:x" chains would otherwise double the work per
 * reference. A rule met again while it is still being evaluated is a cycle
 * (oslo recurses until Python's limit); placid denies it, and a chain of
 * rules deeper than MAX_RULE_DEPTH, rather than risk the stack. */
#define MAX_RULE_DEPTH 32

enum memo { MEMO_UNKNOWN, MEMO_BUSY, MEMO_FALSE, MEMO_TRUE };

struct eval_ctx {
    const struct policy *p;
    const struct policy_creds *c;
    const struct policy_target *t;
    unsigned char *memo; /* enum memo per rule of p; owned by policy_allows */
    int depth;           /* rules being evaluated */
};

static bool eval(struct eval_ctx *x, const struct pnode *n);

static bool eval_rule(struct eval_ctx *x, const char *name)
{
    size_t i = find_rule_index(x->p, name);
    if (i == x->p->n || x->memo[i] == MEMO_BUSY || x->depth >= MAX_RULE_DEPTH)
        return false;
    if (x->memo[i] == MEMO_UNKNOWN) {
        x->memo[i] = MEMO_BUSY;
        x->depth++;
        x->memo[i] = eval(x, x->p->rules[i].tree) ? MEMO_TRUE : MEMO_FALSE;
        x->depth--;
    }
    return x->memo[i] == MEMO_TRUE;
}

static bool eval(struct eval_ctx *x, const struct pnode *n)
{
    char buf[512];
    switch (n->kind) {
    case PK_TRUE: return true;
    case PK_FALSE: return false;
    case PK_NOT: return !eval(x, n->l);
    case PK_AND: return eval(x, n->l) && eval(x, n->r);
    case PK_OR: return eval(x, n->l) || eval(x, n->r);
    case PK_RULE: return eval_rule(x, n->match);
    case PK_ROLE: return format_match(n->match, x->t, buf, sizeof(buf)) && has_role(x->c, buf);
    case PK_GENERIC:
        return format_match(n->match, x->t, buf, sizeof(buf)) && generic_check(n->key, buf, x->c);
    }
    return false;
}

/* oslo.policy's _enforce_scope: the token's scope must be one of the
 * rule's scope_types. */
static bool scope_ok(const struct rule *r, const struct policy_creds *c)
{
    unsigned token = c->system_scope ? SCOPE_SYSTEM
                     : c->domain_id  ? SCOPE_DOMAIN
                     : c->project_id ? SCOPE_PROJECT
                                     : 0;
    return !r->scope || (r->scope & token);
}

bool policy_allows(const struct policy *p, const char *rule, const struct policy_creds *creds,
                   const struct policy_target *target)
{
    size_t i = find_rule_index(p, rule);
    if (i == p->n)
        return false;
    if (p->enforce_scope && !scope_ok(&p->rules[i], creds))
        return false;
    struct eval_ctx x = {p, creds, target, calloc(p->n, 1), 0};
    if (!x.memo)
        return false;
    bool allowed = eval_rule(&x, rule);
    free(x.memo);
    return allowed;
}

/* ---- Rule sets ---- */

void policy_free(struct policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->rules[i].name);
        free(p->rules[i].check);
        pnode_free(p->rules[i].tree);
    }
    free(p->rules);
    free(p);
}

struct policy *policy_parse_one(const char *check, char *err, size_t errsz)
{
    struct pnode *tree = parse(check, err, errsz);
    if (!tree)
        return NULL;
    struct policy *p = xcalloc(1, sizeof(*p));
    p->rules = xcalloc(1, sizeof(*p->rules));
    p->rules[0] = (struct rule){xstrdup("test"), xstrdup(check), tree, 0};
    p->n = 1;
    return p;
}

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
        r->tree = parse(r->check, perrbuf, sizeof(perrbuf));
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
