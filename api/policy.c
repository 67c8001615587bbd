/* Check strings as oslo.policy reads them (oslo_policy/_parser.py): a
 * whitespace-separated token stream of checks ("kind:match", "@", "!"),
 * "not", "and", "or" and parentheses, "not" binding tightest, then "and",
 * then "or". Kinds: "rule:" names another rule, "role:" tests the caller's
 * roles (case-insensitively), anything else compares a caller attribute
 * (or a quoted literal) with the match after %(name)s substitution from
 * the target. */
#include "api/policy.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/policy_internal.h"
#include "core/util.h"

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

void policy_check_free(struct pnode *n)
{
    if (!n)
        return;
    policy_check_free(n->l);
    policy_check_free(n->r);
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
            policy_check_free(inner);
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
            policy_check_free(l);
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
struct pnode *policy_check_parse(const char *check, char *err, size_t errsz)
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
            policy_check_free(tree);
            tree = NULL;
        }
    }
    for (size_t i = 0; i < ps.n; i++)
        free(ps.toks[i].text);
    free(ps.toks);
    return ps.failed ? (policy_check_free(tree), NULL) : tree;
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
        policy_check_free(p->rules[i].tree);
    }
    free(p->rules);
    free(p);
}

struct policy *policy_parse_one(const char *check, char *err, size_t errsz)
{
    struct pnode *tree = policy_check_parse(check, err, errsz);
    if (!tree)
        return NULL;
    struct policy *p = xcalloc(1, sizeof(*p));
    p->rules = xcalloc(1, sizeof(*p->rules));
    p->rules[0] = (struct rule){xstrdup("test"), xstrdup(check), tree, 0};
    p->n = 1;
    return p;
}
