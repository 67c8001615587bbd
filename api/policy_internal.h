/* What api/policy.c (check strings: parsing and evaluation) and
 * api/policy_rules.c (defaults, policy files, the rules in force) share. */
#ifndef PLACID_API_POLICY_INTERNAL_H
#define PLACID_API_POLICY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "api/policy.h"

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

/* Parses one check string. Returns a new tree (free it with
 * policy_check_free), or NULL with a one-line reason in err. */
struct pnode *policy_check_parse(const char *check, char *err, size_t errsz);

void policy_check_free(struct pnode *n);

#endif
