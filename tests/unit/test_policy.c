/* The oslo.policy-compatible parser and evaluator, rule files, reload. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/policy.h"
#include "support.h"

/* Evaluates check for creds on target {project_id: "p1", user_id: "u1"}. */
static bool allows(const char *check, const struct policy_creds *c)
{
    char err[256];
    struct policy *p = policy_parse_one(check, err, sizeof(err));
    ck_assert_msg(p != NULL, "%s: %s", check, err);
    struct policy_target t = {"p1", "u1"};
    bool ok = policy_allows(p, "test", c, &t);
    policy_free(p);
    return ok;
}

static bool parses(const char *check)
{
    char err[256];
    struct policy *p = policy_parse_one(check, err, sizeof(err));
    policy_free(p);
    return p != NULL;
}

static const struct policy_creds reader = {
    .user_id = "u1", .project_id = "p1", .roles = {"reader", "Member"}, .n_roles = 2};

START_TEST(true_false_and_empty)
{
    ck_assert(allows("@", &reader));
    ck_assert(!allows("!", &reader));
    ck_assert(allows("", &reader));
    ck_assert(allows("  ", &reader));
}
END_TEST

START_TEST(roles_match_case_insensitively)
{
    ck_assert(allows("role:reader", &reader));
    ck_assert(allows("role:member", &reader));
    ck_assert(allows("role:READER", &reader));
    ck_assert(!allows("role:admin", &reader));
}
END_TEST

START_TEST(not_binds_tighter_than_and_and_and_than_or)
{
    /* "a or b and c" is "a or (b and c)". */
    ck_assert(allows("role:reader or role:admin and role:nope", &reader));
    ck_assert(!allows("(role:reader or role:admin) and role:nope", &reader));
    ck_assert(!allows("not role:reader", &reader));
    ck_assert(allows("not role:admin and role:reader", &reader));
    ck_assert(allows("not (role:admin or role:nope)", &reader));
    ck_assert(allows("((role:reader))", &reader));
    ck_assert(allows("role:admin OR role:reader", &reader));
}
END_TEST

START_TEST(target_substitution_and_attributes)
{
    ck_assert(allows("project_id:%(project_id)s", &reader));
    ck_assert(allows("user_id:%(user_id)s", &reader));
    ck_assert(!allows("user_id:%(project_id)s", &reader));
    /* A name missing from the target fails the check (KeyError). */
    ck_assert(!allows("project_id:%(nope)s", &reader));
    ck_assert(allows("project_id:p1", &reader));
    ck_assert(!allows("system_scope:all", &reader));
    const struct policy_creds sys = {.user_id = "u", .system_scope = "all",
                                     .roles = {"admin"}, .n_roles = 1};
    ck_assert(allows("role:admin and system_scope:all", &sys));
    /* A literal on the left compares with the substituted match. */
    ck_assert(allows("'p1':%(project_id)s", &reader));
    ck_assert(!allows("'p2':%(project_id)s", &reader));
    ck_assert(!allows("unknown_attr:x", &reader));
}
END_TEST

START_TEST(unparsable_check_strings_are_errors)
{
    ck_assert(!parses("role:admin or"));
    ck_assert(!parses("(role:admin"));
    ck_assert(!parses("role:admin)"));
    ck_assert(!parses("and role:admin"));
    ck_assert(!parses("admin"));
    ck_assert(!parses("role:a 'quoted'"));
    ck_assert(parses("rule:x or (role:a and not role:b)"));
    /* Deep nesting is refused, not recursed into. */
    char deep[4096];
    size_t n = 0;
    for (int i = 0; i < 1000; i++)
        deep[n++] = '(';
    strcpy(deep + n, "@");
    n += 1;
    for (int i = 0; i < 1000; i++)
        deep[n++] = ')';
    deep[n] = '\0';
    ck_assert(!parses(deep));
    ck_assert(parses("((((not not @))))"));
    char *chain = malloc(3000 * 12 + 1);
    chain[0] = '\0';
    for (int i = 0; i < 3000; i++)
        strcat(chain, i ? " or role:a" : "role:a");
    ck_assert(!parses(chain));
    free(chain);
}
END_TEST

/* Writes text to a new temporary file; returns its path in buf. */
static const char *temp_file(char buf[64], const char *text)
{
    strcpy(buf, "/tmp/placid-policy-XXXXXX");
    int fd = mkstemp(buf);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return buf;
}

static bool rule_allows(const struct policy *p, const char *rule, const struct policy_creds *c,
                        const char *target_project)
{
    struct policy_target t = {target_project, c->user_id};
    return policy_allows(p, rule, c, &t);
}

static const struct policy_creds project_admin = {
    .user_id = "a", .project_id = "p1", .roles = {"admin", "member", "reader"}, .n_roles = 3};
static const struct policy_creds service = {
    .user_id = "nova", .project_id = "svc", .roles = {"service"}, .n_roles = 1};
static const struct policy_creds system_admin = {
    .user_id = "root", .system_scope = "all", .roles = {"admin"}, .n_roles = 1};

START_TEST(upstream_defaults)
{
    char err[256];
    struct policy_config cfg = {0};
    struct policy *p = policy_load(&cfg, err, sizeof(err));
    ck_assert_ptr_nonnull(p);
    const char *rl = "placement:resource_providers:list";
    ck_assert(rule_allows(p, rl, &project_admin, "p1"));
    ck_assert(rule_allows(p, rl, &service, "svc"));
    ck_assert(!rule_allows(p, rl, &reader, "p1"));
    /* The reshaper is the service's; the legacy fallback lets admin in. */
    ck_assert(rule_allows(p, "placement:reshaper:reshape", &service, "svc"));
    ck_assert(rule_allows(p, "placement:reshaper:reshape", &project_admin, "p1"));
    /* GET /usages: the project's own reader, not another project's. */
    ck_assert(rule_allows(p, "placement:usages", &reader, "p1"));
    ck_assert(!rule_allows(p, "placement:usages", &reader, "p2"));
    ck_assert(!rule_allows(p, "placement:no-such-rule", &project_admin, "p1"));
    /* Without scope enforcement the system admin passes on role:admin. */
    ck_assert(rule_allows(p, rl, &system_admin, NULL));
    policy_free(p);

    cfg.enforce_new_defaults = cfg.enforce_scope = true;
    p = policy_load(&cfg, err, sizeof(err));
    ck_assert(!rule_allows(p, "placement:reshaper:reshape", &project_admin, "p1"));
    ck_assert(rule_allows(p, "placement:reshaper:reshape", &service, "svc"));
    ck_assert(!rule_allows(p, rl, &system_admin, NULL)); /* wrong scope */
    ck_assert(rule_allows(p, rl, &project_admin, "p1"));
    policy_free(p);
}
END_TEST

START_TEST(yaml_and_json_files_override_defaults)
{
    char path[64], err[256];
    temp_file(path, "# comment\n---\n\"placement:resource_providers:list\": \"role:reader\"\n"
                    "placement:traits:list: '!'\n");
    struct policy_config cfg = {.file = path};
    struct policy *p = policy_load(&cfg, err, sizeof(err));
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert(rule_allows(p, "placement:resource_providers:list", &reader, "p1"));
    ck_assert(!rule_allows(p, "placement:traits:list", &project_admin, "p1"));
    ck_assert(rule_allows(p, "placement:traits:show", &project_admin, "p1"));
    char *dump = policy_dump(p);
    ck_assert_ptr_nonnull(strstr(dump, "\"placement:resource_providers:list\": \"role:reader\"\n"));
    ck_assert_ptr_nonnull(strstr(dump, "\"placement:traits:list\": \"!\"\n"));
    free(dump);
    policy_free(p);
    unlink(path);

    temp_file(path, " {\"placement:usages\": \"@\"}");
    p = policy_load(&cfg, err, sizeof(err));
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert(rule_allows(p, "placement:usages", &reader, "p2"));
    policy_free(p);
    unlink(path);
}
END_TEST

START_TEST(bad_files_name_the_problem)
{
    char path[64], err[256];
    struct policy_config cfg = {.file = path};

    temp_file(path, "\"placement:nope\": \"@\"\n");
    ck_assert_ptr_null(policy_load(&cfg, err, sizeof(err)));
    ck_assert_msg(strstr(err, "unknown rule 'placement:nope'"), "%s", err);
    unlink(path);

    temp_file(path, "\"placement:usages\": \"role:a or\"\n");
    ck_assert_ptr_null(policy_load(&cfg, err, sizeof(err)));
    ck_assert_msg(strstr(err, "placement:usages"), "%s", err);
    unlink(path);

    temp_file(path, "\"placement:usages\": [a, b]\n");
    ck_assert_ptr_null(policy_load(&cfg, err, sizeof(err)));
    unlink(path);

    temp_file(path, "{\"placement:usages\": 1}");
    ck_assert_ptr_null(policy_load(&cfg, err, sizeof(err)));
    ck_assert_msg(strstr(err, "placement:usages"), "%s", err);
    unlink(path);

    cfg.file = "/nonexistent/policy.yaml";
    ck_assert_ptr_null(policy_load(&cfg, err, sizeof(err)));
    ck_assert_msg(strstr(err, "/nonexistent/policy.yaml"), "%s", err);
}
END_TEST

START_TEST(reload_keeps_old_rules_on_a_bad_file)
{
    char path[64], err[256];
    temp_file(path, "\"placement:traits:list\": \"@\"\n");
    struct policy_config cfg = {.file = path};
    struct policy_holder *h = policy_holder_new(&cfg, err, sizeof(err));
    ck_assert_ptr_nonnull(h);
    ck_assert(policy_holder_allows(h, "placement:traits:list", &reader, NULL));

    FILE *f = fopen(path, "w");
    fputs("\"placement:traits:list\": \"role:a and\"\n", f);
    fclose(f);
    ck_assert(!policy_holder_reload(h, err, sizeof(err)));
    ck_assert(policy_holder_allows(h, "placement:traits:list", &reader, NULL));

    f = fopen(path, "w");
    fputs("\"placement:traits:list\": \"!\"\n", f);
    fclose(f);
    ck_assert(policy_holder_reload(h, err, sizeof(err)));
    ck_assert(!policy_holder_allows(h, "placement:traits:list", &project_admin, NULL));
    policy_holder_free(h);
    unlink(path);
}
END_TEST

START_TEST(rule_cycles_deny_instead_of_recursing)
{
    char path[64], err[256];
    temp_file(path, "admin_api: rule:service_api\nservice_api: rule:admin_api\n"
                    "placement:traits:list: rule:admin_api\n");
    struct policy_config cfg = {.file = path};
    struct policy *p = policy_load(&cfg, err, sizeof(err));
    ck_assert_ptr_nonnull(p);
    ck_assert(!rule_allows(p, "placement:traits:list", &project_admin, "p1"));
    policy_free(p);
    unlink(path);
}
END_TEST

/* The fuzzer's find: evaluated afresh at every reference, each
 * self-reference would double the work of evaluating "test" (2^32 checks
 * at the depth limit, minutes); a rule's answer is the same for the whole
 * call, so it is worked out once. Check's timeout catches a regression. */
START_TEST(self_references_are_evaluated_once)
{
    ck_assert(!allows("rule:test or rule:test or role:nobody", &project_admin));
    ck_assert(!allows("(rule:test and rule:test) or (rule:test and rule:test)", &project_admin));
    ck_assert(allows("role:admin or rule:test or rule:test", &project_admin));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("policy");
    tcase_add_test(tc, true_false_and_empty);
    tcase_add_test(tc, roles_match_case_insensitively);
    tcase_add_test(tc, not_binds_tighter_than_and_and_and_than_or);
    tcase_add_test(tc, target_substitution_and_attributes);
    tcase_add_test(tc, unparsable_check_strings_are_errors);
    tcase_add_test(tc, upstream_defaults);
    tcase_add_test(tc, yaml_and_json_files_override_defaults);
    tcase_add_test(tc, bad_files_name_the_problem);
    tcase_add_test(tc, reload_keeps_old_rules_on_a_bad_file);
    tcase_add_test(tc, rule_cycles_deny_instead_of_recursing);
    tcase_add_test(tc, self_references_are_evaluated_once);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
