/* An oslo.policy-compatible rule engine with Placement's rule names and
 * current upstream defaults (placement/policies/). */
#ifndef PLACID_API_POLICY_H
#define PLACID_API_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#define POLICY_MAX_ROLES 32

/* What the caller is (oslo.context's to_policy_values, the part Placement's
 * rules can name). Every string is BORROWED; NULL means absent. */
struct policy_creds {
    const char *user_id;
    const char *project_id;   /* NULL for a system-scoped caller */
    const char *domain_id;
    const char *system_scope; /* "all" or NULL */
    const char *roles[POLICY_MAX_ROLES];
    size_t n_roles;
};

/* The object of the action: %(name)s in a check string reads these.
 * A NULL value is Python's None (it formats as "None"). */
struct policy_target {
    const char *project_id;
    const char *user_id;
};

struct policy_config {
    const char *file;          /* YAML or JSON rules over the defaults; NULL for none */
    bool enforce_scope;        /* [oslo_policy] enforce_scope */
    bool enforce_new_defaults; /* [oslo_policy] enforce_new_defaults */
};

/* An immutable rule set. */
struct policy;

/* Parses one check string into a standalone rule set holding the single
 * rule "test" (for tests). NULL with a one-line reason in err when it
 * cannot be parsed. */
struct policy *policy_parse_one(const char *check, char *err, size_t errsz);

/* Builds the effective rules: the defaults, the deprecated role:admin
 * fallback while enforce_new_defaults is off, and cfg->file merged over
 * them. NULL with a one-line reason in err (naming the file and the rule)
 * on an unreadable file, an unknown rule name or a bad check string. */
struct policy *policy_load(const struct policy_config *cfg, char *err, size_t errsz);

void policy_free(struct policy *p);

/* True when rule (a full name, e.g. "placement:traits:list") allows creds
 * on target: the rule's scope first (with enforce_scope), then its check.
 * An unknown rule denies. */
bool policy_allows(const struct policy *p, const char *rule, const struct policy_creds *creds,
                   const struct policy_target *target);

/* The effective rules as a YAML mapping, one `"name": "check"` line each,
 * in the order upstream lists them. Returns a malloc'd string. */
char *policy_dump(const struct policy *p);

/* ---- The rules in force, replaced as a whole on reload ---- */

struct policy_holder;

/* Loads cfg (copied) and returns a holder, or NULL with err set. */
struct policy_holder *policy_holder_new(const struct policy_config *cfg, char *err, size_t errsz);
void policy_holder_free(struct policy_holder *h);

/* Loads the file again. On any error the old rules stay in force and
 * false is returned with err set. */
bool policy_holder_reload(struct policy_holder *h, char *err, size_t errsz);

/* policy_allows() on the rules in force, safe from any thread. */
bool policy_holder_allows(struct policy_holder *h, const char *rule,
                          const struct policy_creds *creds, const struct policy_target *target);

#endif
