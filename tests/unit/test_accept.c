/* req_accepts: the one Accept rule, for the 406 check and the error body. */
#include <check.h>

#include "server/req.h"
#include "support.h"

static const struct {
    const char *accept, *type;
    bool want;
} CASES[] = {
    {NULL, "application/json", true},
    {"", "application/json", true},
    {"  ", "application/json", true},
    {"application/json", "application/json", true},
    {"Application/JSON", "application/json", true},
    {"application/*", "application/json", true},
    {"*/*", "application/json", true},
    {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/json", true},
    {"text/html,application/xhtml+xml,application/xml;q=0.9", "application/json", false},
    {"text/plain", "application/json", false},
    {"text/plain", "text/plain", true},
    {"text/*", "text/plain", true},
    {"text/*", "text/html", true},
    {"text/plainx", "text/plain", false},
    {"application/json;q=0", "application/json", false},
    {"application/json; q=0.0", "application/json", false},
    {"application/json;level=1;q=0.5", "application/json", true},
    {"*/*, application/json;q=0", "application/json", false},
    {"application/json;q=0, */*", "application/json", false},
    {"application/*;q=0, application/json", "application/json", true},
    {"text/plain, application/*;q=0", "application/json", false},
    {"application/json-patch+json", "application/json", false},
    {" text/plain , application/json ", "application/json", true},
};

START_TEST(accept_cases)
{
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++)
        ck_assert_msg(req_accepts(CASES[i].accept, CASES[i].type) == CASES[i].want,
                      "Accept %s for %s: want %d", CASES[i].accept ? CASES[i].accept : "(none)",
                      CASES[i].type, CASES[i].want);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("accept");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, accept_cases);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
