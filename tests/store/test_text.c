/* Stored text reads back whole: fixed row buffers are sized for the longest
 * value the API accepts in UTF-8 bytes (not characters), and a value that
 * still does not fit is an error, never a cut. */
#include <check.h>
#include <string.h>

#include "support.h"

#define RP "00000000-0000-0000-0000-000000000001"
#define C1 "cccccccc-0000-0000-0000-000000000001"

static struct store *st;
static char path[96];

static void setup(void)
{
    st = test_store_open(path);
}

static void teardown(void)
{
    test_store_close(st, path);
}

/* n copies of the UTF-8 character ch in static storage (one buffer per slot). */
static const char *repeat(int slot, const char *ch, size_t n)
{
    static char buf[4][2048];
    buf[slot][0] = '\0';
    for (size_t i = 0; i < n; i++)
        strcat(buf[slot], ch);
    return buf[slot];
}

static const char *const WIDE[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"}; /* é € 😀 */

static int keep_name(void *arg, const struct provider *p)
{
    strcpy(arg, p->name);
    return 0;
}

START_TEST(provider_names_of_200_wide_characters_read_back_whole)
{
    const char *name = repeat(0, WIDE[_i], PROVIDER_NAME_MAX);
    test_provider(st, RP, name, NULL);
    struct provider p;
    ck_assert_int_eq(store_provider_get(st, RP, &p), STORE_OK);
    ck_assert_str_eq(p.name, name);
    char listed[sizeof(p.name)] = "";
    struct provider_filter f = {.name = name};
    ck_assert_int_eq(store_provider_list(st, &f, keep_name, listed), STORE_OK);
    ck_assert_str_eq(listed, name);
}
END_TEST

START_TEST(project_and_user_ids_of_255_wide_characters_read_back_whole)
{
    struct acct_failure fail;
    test_provider_with_inventory(st, RP, "cn1", NULL, "VCPU=4");
    const char *project = repeat(0, WIDE[_i], STORE_EXTERNAL_ID_MAX);
    const char *user = repeat(1, WIDE[2 - _i], STORE_EXTERNAL_ID_MAX);
    const char *type = repeat(2, "T", 255);
    struct alloc_item item = {.provider_uuid = RP, .resource_class = "VCPU", .used = 1};
    struct consumer_allocs c = {.uuid = C1, .project_id = project, .user_id = user,
                                .consumer_type = type, .items = &item, .n_items = 1};
    ck_assert_int_eq(store_allocations_replace(st, &c, 1, &fail), STORE_OK);
    struct consumer_info info;
    ck_assert_int_eq(store_consumer_allocations(st, C1, &info, NULL, NULL), STORE_OK);
    ck_assert_str_eq(info.project_id, project);
    ck_assert_str_eq(info.user_id, user);
    ck_assert_str_eq(info.consumer_type, type);
    ck_assert_str_eq(info.uuid, C1);
}
END_TEST

START_TEST(class_and_trait_names_of_255_characters_read_back_whole)
{
    char name[256] = "CUSTOM_";
    strcat(name, repeat(0, "X", 255 - strlen("CUSTOM_")));
    struct resource_class rc;
    ck_assert_int_eq(store_resource_class_create(st, name, true, NULL, NULL), STORE_OK);
    ck_assert_int_eq(store_resource_class_get(st, name, &rc), STORE_OK);
    ck_assert_str_eq(rc.name, name);
    struct trait t;
    bool created;
    ck_assert_int_eq(store_trait_ensure(st, name, &t, &created), STORE_OK);
    ck_assert_int_eq(store_trait_get(st, name, &t), STORE_OK);
    ck_assert_str_eq(t.name, name);
    long long rp = test_provider(st, RP, "cn1", NULL);
    struct inventory inv = test_inventory(name, 5), out;
    struct provider_ref ref;
    struct acct_failure fail;
    ck_assert_int_eq(store_inventories_replace(st, rp, 0, &inv, 1, NULL, &fail), STORE_OK);
    ck_assert_int_eq(store_inventory_get(st, RP, name, &ref, &out), STORE_OK);
    ck_assert_str_eq(out.resource_class, name);
}
END_TEST

/* A value longer than any the API accepts (written behind its back) makes
 * the read fail; it must not come back cut, perhaps mid-character. */
START_TEST(a_value_too_long_for_its_buffer_is_an_error_not_a_cut)
{
    struct acct_failure fail;
    test_provider_with_inventory(st, RP, "cn1", NULL, "VCPU=4");
    struct alloc_item item = {.provider_uuid = RP, .resource_class = "VCPU", .used = 1};
    struct consumer_allocs c = {.uuid = C1, .project_id = "p", .user_id = "u",
                                .items = &item, .n_items = 1};
    ck_assert_int_eq(store_allocations_replace(st, &c, 1, &fail), STORE_OK);
    test_sql(st, "UPDATE projects SET external_id = '%s'", repeat(0, "x", 1021));
    struct consumer_info info;
    ck_assert_int_eq(store_consumer_allocations(st, C1, &info, NULL, NULL), STORE_ERROR);
    test_sql(st, "UPDATE projects SET external_id = '%s'", repeat(0, "x", 1020));
    ck_assert_int_eq(store_consumer_allocations(st, C1, &info, NULL, NULL), STORE_OK);
    ck_assert_uint_eq(strlen(info.project_id), 1020);
    test_sql(st, "UPDATE providers SET name = '%s'", repeat(0, "x", 801));
    struct provider p;
    ck_assert_int_eq(store_provider_get(st, RP, &p), STORE_ERROR);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_text");
    TCase *tc = tcase_create("text");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, provider_names_of_200_wide_characters_read_back_whole, 0, 3);
    tcase_add_loop_test(tc, project_and_user_ids_of_255_wide_characters_read_back_whole, 0, 3);
    tcase_add_test(tc, class_and_trait_names_of_255_characters_read_back_whole);
    tcase_add_test(tc, a_value_too_long_for_its_buffer_is_an_error_not_a_cut);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
