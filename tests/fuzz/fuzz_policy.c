/* The oslo.policy check-string parser and evaluator: the input is one
 * check string (a policy file's value). A parsed rule is evaluated for a
 * project reader and a system admin; a refused one must say why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct policy_creds reader = {
        .user_id = "u1", .project_id = "p1", .roles = {"reader", "member"}, .n_roles = 2};
    static const struct policy_creds sys = {
        .user_id = "root", .system_scope = "all", .roles = {"admin"}, .n_roles = 1};
    struct policy_target target = {"p1", NULL};
    char *check = malloc(size + 1), err[256];
    memcpy(check, data, size);
    check[size] = '\0';
    err[0] = '\0';
    struct policy *p = policy_parse_one(check, err, sizeof(err));
    if (p) {
        policy_allows(p, "test", &reader, &target);
        policy_allows(p, "test", &sys, NULL);
        policy_free(p);
    } else if (!err[0]) {
        abort(); /* a refusal names its reason */
    }
    free(check);
    return 0;
}
