/* Allocation writes: PUT/POST/DELETE /allocations and the reshaper
 * (placement/objects/allocation.py, consumer.py, reshaper.py and
 * handlers/util.py:ensure_consumer); the reads are in
 * store/allocation_reads.c.
 *
 * A write runs as one BEGIN IMMEDIATE transaction, so two requests racing
 * for the last unit of a provider are serialised: the second one sees the
 * first one's allocations when it checks the capacity and gets a 409. The
 * work is split into a plan (consumers, providers: checks that upstream does
 * before its transaction) and its execution (classes, capacity, writes), so
 * that the reshaper can put its interim inventories in between. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/accounting.h"
#include "store/locks.h"

/* ---- Small lookups ---- */

/* The id of the row of table projects/users/consumer_types named value,
 * created when missing. sel and ins are the table's two statements; ins
 * ("ON CONFLICT DO NOTHING RETURNING id") returns the new id, and with
 * timestamped takes created_at as ?2. When another transaction inserted
 * the same name first (two placid nodes on one PostgreSQL: the INSERT waits
 * for it and returns no row), the name is looked up again, which in READ
 * COMMITTED sees that row. */
static enum store_rc id_get_or_create(struct store *st, enum stmt_id sel, enum stmt_id ins,
                                      bool timestamped, const char *value, long long *id)
{
    static const int steps = 3; /* select, insert, select */
    for (int step = 0; step < steps; step++) {
        bool inserting = step == 1;
        struct sql *q = sql_get(st, inserting ? ins : sel);
        sql_bind_text(q, 1, value);
        if (inserting && timestamped)
            sql_bind_i64(q, 2, store_now());
        enum store_rc rc = sql_step(q);
        if (rc == STORE_OK)
            *id = sql_col_i64(q, 0);
        sql_done(q);
        if (rc != STORE_NOT_FOUND)
            return rc;
    }
    return STORE_ERROR; /* inserted by another transaction, yet not visible */
}

static enum store_rc project_id(struct store *st, const char *external_id, long long *id)
{
    return id_get_or_create(st, STMT_PROJECT_ID, STMT_PROJECT_INSERT, false, external_id, id);
}

static enum store_rc user_id(struct store *st, const char *external_id, long long *id)
{
    return id_get_or_create(st, STMT_USER_ID, STMT_USER_INSERT, false, external_id, id);
}

static enum store_rc consumer_type_id(struct store *st, const char *name, long long *id)
{
    return id_get_or_create(st, STMT_CONSUMER_TYPE_ID, STMT_CONSUMER_TYPE_INSERT, true, name,
                            id);
}

/* ---- The plan ---- */

struct plan_consumer {
    const struct consumer_allocs *req;
    bool exists;
    long long id, generation;
    long long project, user, type;                /* current record (type 0 = none) */
    long long want_project, want_user, want_type; /* requested (want_type 0 = keep) */
};

struct plan_item {
    size_t consumer;
    const struct alloc_item *req;
    long long provider_id;
    long long rc_id;
    bool found; /* the provider has inventory of the class */
    long long total, reserved, min_unit, max_unit, step_size, used;
    double ratio;
};

/* A distinct provider whose generation the write bumps. */
struct plan_provider {
    long long id;
    long long gen; /* as read in this transaction; -1 = read it when bumping */
};

/* An allocation row the write removes (for the overage rule). */
struct plan_old {
    long long provider_id, rc_id, used;
};

struct plan {
    struct plan_consumer *c;
    size_t n_c;
    struct plan_item *items;
    size_t n_items;
    struct plan_provider *providers;
    size_t n_providers, cap_providers;
    struct plan_old *old;
    size_t n_old, cap_old;
    bool old_read; /* every existing consumer's old rows are in old (plan_lock) */
};

static void plan_free(struct plan *p)
{
    free(p->c);
    free(p->items);
    free(p->providers);
    free(p->old);
    memset(p, 0, sizeof(*p));
}

/* Adds a provider to the set to bump (once); gen < 0 when unknown. */
static void plan_touch(struct plan *p, long long provider_id, long long gen)
{
    for (size_t i = 0; i < p->n_providers; i++)
        if (p->providers[i].id == provider_id)
            return;
    if (p->n_providers == p->cap_providers) {
        p->cap_providers = p->cap_providers ? 2 * p->cap_providers : 8;
        p->providers = xrealloc(p->providers, p->cap_providers * sizeof(*p->providers));
    }
    p->providers[p->n_providers].id = provider_id;
    p->providers[p->n_providers].gen = gen;
    p->n_providers++;
}

/* The reshaper bumped a provider between plan and execution. */
static void plan_generation_moved(struct plan *p, long long provider_id, long long gen)
{
    for (size_t i = 0; i < p->n_providers; i++)
        if (p->providers[i].id == provider_id)
            p->providers[i].gen = gen;
}

static enum store_rc consumer_lookup(struct store *st, struct plan_consumer *pc)
{
    struct sql *q = sql_get(st, STMT_CONSUMER_LOOKUP);
    sql_bind_text(q, 1, pc->req->uuid);
    enum store_rc rc = sql_step(q);
    if (rc == STORE_OK) {
        pc->exists = true;
        pc->id = sql_col_i64(q, 0);
        pc->generation = sql_col_i64(q, 1);
        pc->project = sql_col_i64(q, 2);
        pc->user = sql_col_i64(q, 3);
        pc->type = sql_col_i64(q, 4);
    }
    sql_done(q);
    return rows_end(rc);
}

/* ensure_consumer(): the consumer generation rule of 1.28. */
static enum store_rc consumer_generation_check(const struct plan_consumer *pc,
                                               struct acct_failure *fail)
{
    const struct consumer_allocs *r = pc->req;
    if (!r->check_generation)
        return STORE_OK;
    if (pc->exists ? (!r->generation_null && r->generation == pc->generation)
                   : r->generation_null)
        return STORE_OK;
    fail->kind = ACCT_CONSUMER_GENERATION;
    snprintf(fail->consumer, sizeof(fail->consumer), "%s", r->uuid);
    fail->expected_null = !pc->exists;
    fail->expected = pc->generation;
    fail->got_null = r->generation_null;
    fail->got = r->generation;
    return STORE_CONFLICT;
}

static enum store_rc plan_consumer_prepare(struct store *st, struct plan_consumer *pc,
                                           struct acct_failure *fail)
{
    enum store_rc rc;
    if ((rc = project_id(st, pc->req->project_id, &pc->want_project)) != STORE_OK ||
        (rc = user_id(st, pc->req->user_id, &pc->want_user)) != STORE_OK ||
        (rc = consumer_lookup(st, pc)) != STORE_OK ||
        (rc = consumer_generation_check(pc, fail)) != STORE_OK)
        return rc;
    if (pc->req->consumer_type)
        rc = consumer_type_id(st, pc->req->consumer_type, &pc->want_type);
    return rc;
}

/* The provider of an item, reusing an earlier lookup of the same uuid. The
 * provider joins the set whose generations the write bumps. */
static enum store_rc item_provider(struct store *st, struct plan *p, struct plan_item *it,
                                   struct acct_failure *fail)
{
    for (size_t i = 0; i < p->n_items; i++) {
        if (strcmp(p->items[i].req->provider_uuid, it->req->provider_uuid) == 0) {
            it->provider_id = p->items[i].provider_id;
            return STORE_OK;
        }
    }
    struct provider_ref ref;
    enum store_rc rc = store_provider_ref(st, it->req->provider_uuid, &ref);
    if (rc == STORE_NOT_FOUND) {
        fail->kind = ACCT_PROVIDER_MISSING;
        snprintf(fail->providers, sizeof(fail->providers), "%s", it->req->provider_uuid);
    }
    if (rc == STORE_OK) {
        it->provider_id = ref.id;
        plan_touch(p, ref.id, ref.generation);
    }
    return rc;
}

/* Checks done before upstream's write transaction, in its order: every
 * consumer (project, user, generation, type), then every provider named. */
static enum store_rc plan_prepare(struct store *st, const struct consumer_allocs *c, size_t n,
                                  struct plan *p, struct acct_failure *fail)
{
    size_t n_items = 0;
    enum store_rc rc = STORE_OK;

    memset(p, 0, sizeof(*p));
    p->c = xcalloc(n ? n : 1, sizeof(*p->c));
    for (size_t i = 0; i < n; i++)
        n_items += c[i].n_items;
    p->items = xcalloc(n_items ? n_items : 1, sizeof(*p->items));
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        p->c[p->n_c].req = &c[i];
        rc = plan_consumer_prepare(st, &p->c[p->n_c++], fail);
    }
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        for (size_t j = 0; rc == STORE_OK && j < c[i].n_items; j++) {
            struct plan_item *it = &p->items[p->n_items];
            it->consumer = i;
            it->req = &c[i].items[j];
            rc = item_provider(st, p, it, fail);
            p->n_items++;
        }
    }
    return rc;
}

/* ---- Execution: old allocations ---- */

/* Reads a consumer's allocations into p->old (kept for the overage rule).
 * An emptied consumer touches the providers they were on: upstream
 * rewrites them with used = 0. */
static enum store_rc consumer_old_read(struct store *st, struct plan *p, struct plan_consumer *pc)
{
    struct sql *q = sql_get(st, STMT_CONSUMER_ALLOCATIONS);
    sql_bind_i64(q, 1, pc->id);
    enum store_rc rc;
    while ((rc = sql_step(q)) == STORE_OK) {
        if (p->n_old == p->cap_old) {
            p->cap_old = p->cap_old ? 2 * p->cap_old : 8;
            p->old = xrealloc(p->old, p->cap_old * sizeof(*p->old));
        }
        struct plan_old *o = &p->old[p->n_old++];
        o->provider_id = sql_col_i64(q, 0);
        o->rc_id = sql_col_i64(q, 1);
        o->used = sql_col_i64(q, 2);
        if (pc->req->n_items == 0)
            plan_touch(p, o->provider_id, -1);
    }
    sql_done(q);
    return rows_end(rc);
}

/* Deletes a consumer's allocations, read first unless plan_lock did. */
static enum store_rc consumer_clear(struct store *st, struct plan *p, struct plan_consumer *pc)
{
    enum store_rc rc = p->old_read ? STORE_OK : consumer_old_read(st, p, pc);
    return rc == STORE_OK ? sql_run_id(st, STMT_CONSUMER_ALLOCATIONS_DELETE, pc->id) : rc;
}

/* ---- Execution: capacity ---- */

/* The inventory of an item's (provider, class) and everybody else's usage
 * of it (the request's consumers' rows are gone by now). */
static enum store_rc item_inventory(struct store *st, struct plan_item *it)
{
    struct sql *q = sql_get(st, STMT_ITEM_INVENTORY);
    sql_bind_i64(q, 1, it->provider_id);
    sql_bind_i64(q, 2, it->rc_id);
    enum store_rc rc = sql_step(q);
    it->found = rc == STORE_OK;
    if (it->found) {
        it->total = sql_col_i64(q, 0);
        it->reserved = sql_col_i64(q, 1);
        it->min_unit = sql_col_i64(q, 2);
        it->max_unit = sql_col_i64(q, 3);
        it->step_size = sql_col_i64(q, 4);
        it->ratio = sql_col_f64(q, 5);
        it->used = sql_col_i64(q, 6);
    }
    sql_done(q);
    return rows_end(rc);
}

/* The distinct class ids of the request, in request order, into ids
 * (p->n_items entries at least). Returns how many. */
static size_t class_ids(const struct plan *p, long long *ids)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n_items; i++) {
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = ids[j] == p->items[i].rc_id;
        if (!seen)
            ids[n++] = p->items[i].rc_id;
    }
    return n;
}

/* The names of the request's classes in id order, for the message of a
 * provider without any of them. */
static enum store_rc class_names(struct store *st, const long long *ids, size_t n, char *out,
                                 size_t size)
{
    struct sql *q = sql_get(st, STMT_CLASS_NAMES);
    sql_bind_ids(q, 1, ids, n);
    enum store_rc rc;
    while ((rc = sql_step(q)) == STORE_OK)
        acct_join(out, size, sql_col_text(q, 0));
    sql_done(q);
    return rows_end(rc);
}

static enum store_rc has_any_inventory(struct store *st, long long provider_id,
                                       const long long *ids, size_t n, bool *out)
{
    struct sql *q = sql_get(st, STMT_HAS_ANY_INVENTORY);
    sql_bind_i64(q, 1, provider_id);
    sql_bind_ids(q, 2, ids, n);
    enum store_rc rc = sql_step(q);
    if (rc == STORE_OK)
        *out = sql_col_i64(q, 0) != 0;
    sql_done(q);
    return rows_end(rc);
}

/* _check_capacity_exceeded(), first part: a provider that has inventory for
 * none of the request's classes fails with every class and every such
 * provider named. Only run when some item found no inventory. */
static enum store_rc check_providers_have_inventory(struct store *st, const struct plan *p,
                                                    struct acct_failure *fail)
{
    long long *ids = xmalloc((p->n_items ? p->n_items : 1) * sizeof(*ids));
    size_t n_ids = class_ids(p, ids);
    enum store_rc rc = STORE_OK;
    bool missing = false;
    for (size_t i = 0; rc == STORE_OK && i < p->n_items; i++) {
        const struct plan_item *it = &p->items[i];
        bool seen = false, has = true;
        for (size_t j = 0; j < i && !seen; j++)
            seen = p->items[j].provider_id == it->provider_id;
        if (seen || (rc = has_any_inventory(st, it->provider_id, ids, n_ids, &has)) != STORE_OK || has)
            continue;
        missing = true;
        acct_join(fail->providers, sizeof(fail->providers), it->req->provider_uuid);
    }
    if (rc == STORE_OK && missing) {
        fail->kind = ACCT_NO_INVENTORY;
        rc = class_names(st, ids, n_ids, fail->classes, sizeof(fail->classes));
        if (rc == STORE_OK)
            rc = STORE_INVALID;
    }
    free(ids);
    return rc;
}

static enum store_rc item_fail(const struct plan_item *it, enum acct_failure_kind kind,
                               struct acct_failure *fail)
{
    fail->kind = kind;
    snprintf(fail->classes, sizeof(fail->classes), "%s", it->req->resource_class);
    snprintf(fail->providers, sizeof(fail->providers), "%s", it->req->provider_uuid);
    return STORE_INVALID;
}

/* The request's total for item k's (provider, class) up to and including
 * the item itself (several consumers may share a provider). */
static long long amount_so_far(const struct plan *p, size_t k)
{
    long long sum = 0;
    for (size_t i = 0; i <= k; i++)
        if (p->items[i].provider_id == p->items[k].provider_id &&
            p->items[i].rc_id == p->items[k].rc_id)
            sum += p->items[i].req->used;
    return sum;
}

/* The usage of item k's (provider, class) before the write: everybody
 * else's plus the rows the write removed. */
static long long usage_before(const struct plan *p, size_t k)
{
    long long sum = p->items[k].used;
    for (size_t i = 0; i < p->n_old; i++)
        if (p->old[i].provider_id == p->items[k].provider_id &&
            p->old[i].rc_id == p->items[k].rc_id)
            sum += p->old[i].used;
    return sum;
}

/* _check_capacity_exceeded(), per item, in request order. */
static enum store_rc check_item(const struct plan *p, size_t k, struct acct_failure *fail)
{
    const struct plan_item *it = &p->items[k];
    if (!it->found)
        return item_fail(it, ACCT_NO_INVENTORY, fail);
    long long need = it->req->used;
    long long step = it->step_size > 0 ? it->step_size : 1; /* the API never stores 0 */
    if (need < it->min_unit || need > it->max_unit || need % step != 0)
        return item_fail(it, ACCT_CONSTRAINTS, fail);
    double capacity = (double)(it->total - it->reserved) * it->ratio;
    long long need_all = amount_so_far(p, k);
    if (capacity >= (double)(it->used + need) && capacity >= (double)(it->used + need_all))
        return STORE_OK;
    /* Over capacity: allowed only when it makes an existing overage
     * smaller (a usage of 0 before can never qualify, as need_all >= 1). */
    if (it->used + need_all <= usage_before(p, k))
        return STORE_OK;
    return item_fail(it, ACCT_CAPACITY, fail);
}

static enum store_rc check_capacity(struct store *st, struct plan *p, struct acct_failure *fail)
{
    enum store_rc rc = STORE_OK;
    bool all_found = true;
    for (size_t i = 0; rc == STORE_OK && i < p->n_items; i++) {
        rc = item_inventory(st, &p->items[i]);
        all_found = all_found && p->items[i].found;
    }
    if (rc == STORE_OK && !all_found)
        rc = check_providers_have_inventory(st, p, fail);
    for (size_t i = 0; rc == STORE_OK && i < p->n_items; i++)
        rc = check_item(p, i, fail);
    return rc;
}

/* ---- Execution: writes ---- */

static enum store_rc consumer_insert(struct store *st, struct plan_consumer *pc)
{
    struct sql *q = sql_get(st, STMT_CONSUMER_INSERT);
    sql_bind_text(q, 1, pc->req->uuid);
    sql_bind_i64(q, 2, pc->want_project);
    sql_bind_i64(q, 3, pc->want_user);
    sql_bind_i64(q, 4, pc->want_type);
    sql_bind_i64(q, 5, store_now());
    enum store_rc rc = sql_exec(q);
    if (rc == STORE_OK) {
        pc->exists = true;
        pc->id = sql_insert_id(q);
        pc->generation = 0;
    }
    sql_done(q);
    return rc;
}

/* update_consumers(): project, user and (1.38+) type follow the request,
 * without a generation bump of their own. */
static enum store_rc consumer_refresh(struct store *st, const struct plan_consumer *pc)
{
    long long type = pc->want_type ? pc->want_type : pc->type;
    if (pc->project == pc->want_project && pc->user == pc->want_user && pc->type == type)
        return STORE_OK;
    struct sql *q = sql_get(st, STMT_CONSUMER_REFRESH);
    sql_bind_i64(q, 1, pc->id);
    sql_bind_i64(q, 2, pc->want_project);
    sql_bind_i64(q, 3, pc->want_user);
    sql_bind_i64(q, 4, type);
    sql_bind_i64(q, 5, store_now());
    return sql_run(q);
}

static enum store_rc allocation_insert(struct store *st, const struct plan_item *it,
                                       long long consumer_id, long long now)
{
    struct sql *q = sql_get(st, STMT_ALLOCATION_INSERT);
    sql_bind_i64(q, 1, it->provider_id);
    sql_bind_i64(q, 2, consumer_id);
    sql_bind_i64(q, 3, it->rc_id);
    sql_bind_i64(q, 4, it->req->used);
    sql_bind_i64(q, 5, now);
    return sql_run(q);
}

static enum store_rc consumer_bump(struct store *st, const struct plan_consumer *pc)
{
    struct sql *q = sql_get(st, STMT_CONSUMER_BUMP);
    sql_bind_i64(q, 1, pc->id);
    sql_bind_i64(q, 2, pc->generation);
    sql_bind_i64(q, 3, store_now());
    enum store_rc rc = sql_exec(q);
    if (rc == STORE_OK && sql_changes(q) != 1)
        rc = STORE_CONFLICT;
    sql_done(q);
    return rc;
}

static enum store_rc consumer_remove(struct store *st, long long id)
{
    return sql_run_id(st, STMT_CONSUMER_DELETE, id);
}

/* Compare-and-set of a provider generation read in this transaction. */
static enum store_rc provider_bump(struct store *st, struct plan_provider *pp)
{
    enum store_rc rc = STORE_OK;
    if (pp->gen < 0)
        rc = provider_generation_read(st, pp->id, &pp->gen);
    return rc == STORE_OK ? provider_generation_bump(st, pp->id, pp->gen, &pp->gen) : rc;
}

/* Writes one consumer's new state: record, allocations, generation. A
 * consumer left without allocations is deleted. */
static enum store_rc consumer_write(struct store *st, struct plan *p, size_t ci, long long now)
{
    struct plan_consumer *pc = &p->c[ci];
    enum store_rc rc = STORE_OK;
    if (pc->req->n_items == 0)
        return pc->exists ? consumer_remove(st, pc->id) : STORE_OK;
    rc = pc->exists ? consumer_refresh(st, pc) : consumer_insert(st, pc);
    for (size_t i = 0; rc == STORE_OK && i < p->n_items; i++)
        if (p->items[i].consumer == ci)
            rc = allocation_insert(st, &p->items[i], pc->id, now);
    return rc == STORE_OK ? consumer_bump(st, pc) : rc;
}

static int id_cmp(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Appends to *ids (n used, cap allocated; grown as needed) the providers
 * that consumer_id holds allocations on now. */
static enum store_rc held_providers(struct store *st, long long consumer_id, long long **ids,
                                    size_t *n, size_t *cap)
{
    struct sql *q = sql_get(st, STMT_CONSUMER_ALLOCATIONS);
    sql_bind_i64(q, 1, consumer_id);
    enum store_rc rc;
    while ((rc = sql_step(q)) == STORE_OK) {
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 8;
            *ids = xrealloc(*ids, *cap * sizeof(**ids));
        }
        (*ids)[(*n)++] = sql_col_i64(q, 0);
    }
    sql_done(q);
    return rows_end(rc);
}

/* On a shared database (store/locks.h), before the capacity check: locks
 * the providers of the plan, the ones its consumers hold allocations on
 * now (the write deletes those rows, which bumps their blocks: a provider
 * the consumer only leaves must be in the ordered set too, or two
 * consumers moving in opposite directions lock the two blocks in opposite
 * orders and deadlock), and extra[0..n_extra-1], in ascending id order;
 * then forgets the generations read before the lock (provider_bump reads
 * them again), so a claim that waited for another one sees its allocations
 * and its bump. The old allocations are read here, before the lock, once
 * (consumer_clear then only deletes them): a writer of the same consumer
 * that commits in between changes its generation, so this write then
 * fails its consumer compare-and-set (409) whatever it read or locked.
 * Nothing at all on SQLite. */
static enum store_rc plan_lock(struct store *st, struct plan *p, const long long *extra,
                               size_t n_extra)
{
    if (!store_locks_rows(st))
        return STORE_OK;
    size_t n = 0, cap = p->n_providers + n_extra + 1;
    long long *ids = xmalloc(cap * sizeof(*ids));
    for (size_t i = 0; i < p->n_providers; i++)
        ids[n++] = p->providers[i].id;
    for (size_t i = 0; i < n_extra; i++)
        ids[n++] = extra[i];
    enum store_rc rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < p->n_c; i++)
        if (p->c[i].exists)
            rc = consumer_old_read(st, p, &p->c[i]);
    p->old_read = rc == STORE_OK;
    if (p->n_old > 0) {
        ids = xrealloc(ids, (n + p->n_old) * sizeof(*ids));
        for (size_t i = 0; i < p->n_old; i++)
            ids[n++] = p->old[i].provider_id;
    }
    if (rc == STORE_OK) {
        qsort(ids, n, sizeof(*ids), id_cmp);
        rc = store_lock_providers(st, ids, n);
    }
    free(ids);
    for (size_t i = 0; i < p->n_providers; i++)
        p->providers[i].gen = -1;
    return rc;
}

/* _set_allocations(): classes, old allocations out, capacity, new
 * allocations in, generations. */
static enum store_rc plan_execute(struct store *st, struct plan *p, struct acct_failure *fail)
{
    enum store_rc rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < p->n_items; i++)
        rc = acct_class_id(st, p->items[i].req->resource_class, &p->items[i].rc_id, fail);
    for (size_t i = 0; rc == STORE_OK && i < p->n_c; i++)
        if (p->c[i].exists)
            rc = consumer_clear(st, p, &p->c[i]);
    if (rc == STORE_OK)
        rc = check_capacity(st, p, fail);
    long long now = store_now();
    for (size_t i = 0; rc == STORE_OK && i < p->n_c; i++)
        rc = consumer_write(st, p, i, now);
    for (size_t i = 0; rc == STORE_OK && i < p->n_providers; i++)
        rc = provider_bump(st, &p->providers[i]);
    return rc;
}

/* The arguments of a store_allocations_replace/store_reshape unit. */
struct replace_job {
    const struct reshape_inventory *inv;
    size_t n_inv;
    const struct consumer_allocs *c;
    size_t n;
    struct acct_failure *fail;
};

static enum store_rc replace_body(struct store *st, void *arg)
{
    struct replace_job *j = arg;
    struct plan p;
    acct_fail_clear(j->fail);
    enum store_rc rc = plan_prepare(st, j->c, j->n, &p, j->fail);
    if (rc == STORE_OK)
        rc = plan_lock(st, &p, NULL, 0);
    if (rc == STORE_OK)
        rc = plan_execute(st, &p, j->fail);
    plan_free(&p);
    return rc;
}

enum store_rc store_allocations_replace(struct store *st, const struct consumer_allocs *c,
                                        size_t n, struct acct_failure *fail)
{
    struct replace_job j = {.c = c, .n = n, .fail = fail};
    acct_fail_clear(fail);
    return store_unit(st, UNIT_GROUPED_WRITE, STORE_CONFLICT, replace_body, &j);
}

/* ---- The reshaper ---- */

/* The early checks of handlers/reshaper.py: each inventory provider exists
 * and still has the generation the client saw. */
static enum store_rc reshape_providers(struct store *st, const struct reshape_inventory *inv,
                                       size_t n, long long *ids, struct acct_failure *fail)
{
    for (size_t i = 0; i < n; i++) {
        struct provider_ref ref;
        enum store_rc rc = store_provider_ref(st, inv[i].provider_uuid, &ref);
        if (rc == STORE_NOT_FOUND) {
            fail->kind = ACCT_PROVIDER_MISSING;
            snprintf(fail->providers, sizeof(fail->providers), "%s", inv[i].provider_uuid);
        }
        if (rc != STORE_OK)
            return rc;
        if (ref.generation != inv[i].generation) {
            fail->kind = ACCT_PROVIDER_GENERATION;
            snprintf(fail->providers, sizeof(fail->providers), "%s", inv[i].provider_uuid);
            fail->expected = ref.generation;
            fail->got = inv[i].generation;
            return STORE_CONFLICT;
        }
        ids[i] = ref.id;
    }
    return STORE_OK;
}

/* One inventory pass of objects/reshaper.py: interim (union with the
 * current inventory, skipped for an empty list) or final (exact). Each pass
 * bumps the provider generation. */
static enum store_rc reshape_inventories(struct store *st, const struct reshape_inventory *inv,
                                         size_t n, const long long *ids, bool final,
                                         struct plan *p, struct acct_failure *fail)
{
    enum store_rc rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        if (!final && inv[i].n_inv == 0)
            continue;
        rc = acct_inventories_apply(st, ids[i], inv[i].inv, inv[i].n_inv, final, fail);
        if (rc == STORE_IN_USE)
            snprintf(fail->providers, sizeof(fail->providers), "%s", inv[i].provider_uuid);
        struct plan_provider pp = {ids[i], -1};
        if (rc == STORE_OK && (rc = provider_bump(st, &pp)) == STORE_OK)
            plan_generation_moved(p, pp.id, pp.gen);
    }
    return rc;
}

/* The providers of the reshape and of its allocations locked (plan_lock);
 * on a shared database the client's generations are checked again, now
 * that no other node can move them. */
static enum store_rc reshape_lock(struct store *st, struct replace_job *j, long long *ids,
                                  struct plan *p)
{
    enum store_rc rc = plan_lock(st, p, ids, j->n_inv);
    if (rc == STORE_OK && store_locks_rows(st))
        rc = reshape_providers(st, j->inv, j->n_inv, ids, j->fail);
    return rc;
}

static enum store_rc reshape_body(struct store *st, void *arg)
{
    struct replace_job *j = arg;
    struct plan p;
    enum store_rc rc;
    long long *ids = xmalloc((j->n_inv ? j->n_inv : 1) * sizeof(*ids));

    acct_fail_clear(j->fail);
    memset(&p, 0, sizeof(p));
    if ((rc = reshape_providers(st, j->inv, j->n_inv, ids, j->fail)) == STORE_OK &&
        (rc = plan_prepare(st, j->c, j->n, &p, j->fail)) == STORE_OK &&
        (rc = reshape_lock(st, j, ids, &p)) == STORE_OK &&
        (rc = reshape_inventories(st, j->inv, j->n_inv, ids, false, &p, j->fail)) == STORE_OK &&
        (rc = plan_execute(st, &p, j->fail)) == STORE_OK)
        rc = reshape_inventories(st, j->inv, j->n_inv, ids, true, &p, j->fail);
    plan_free(&p);
    free(ids);
    return rc;
}

enum store_rc store_reshape(struct store *st, const struct reshape_inventory *inv, size_t n_inv,
                            const struct consumer_allocs *c, size_t n_c,
                            struct acct_failure *fail)
{
    struct replace_job j = {.inv = inv, .n_inv = n_inv, .c = c, .n = n_c, .fail = fail};
    acct_fail_clear(fail);
    return store_unit(st, UNIT_GROUPED_WRITE, STORE_CONFLICT, reshape_body, &j);
}

/* ---- DELETE /allocations/{c} ---- */

struct delete_job {
    const char *consumer_uuid;
};

static enum store_rc consumer_delete_body(struct store *st, void *arg)
{
    const char *consumer_uuid = ((const struct delete_job *)arg)->consumer_uuid;
    long long id = 0, removed = 0;
    enum store_rc rc;

    if ((rc = acct_consumer_read(st, consumer_uuid, &id, NULL)) != STORE_OK)
        return rc;
    if (store_locks_rows(st)) {
        /* The delete bumps the blocks of the providers it leaves: take them
         * in the writers' order first (plan_lock). */
        long long *ids = NULL;
        size_t n = 0, cap = 0;
        rc = held_providers(st, id, &ids, &n, &cap);
        if (rc == STORE_OK)
            rc = store_lock_providers(st, ids, n);
        free(ids);
        if (rc != STORE_OK)
            return rc;
    }
    struct sql *q = sql_get(st, STMT_CONSUMER_ALLOCATIONS_DELETE);
    sql_bind_i64(q, 1, id);
    if ((rc = sql_exec(q)) == STORE_OK)
        removed = sql_changes(q);
    sql_done(q);
    if (rc != STORE_OK)
        return rc;
    if (removed == 0)
        return STORE_NOT_FOUND;
    return consumer_remove(st, id);
}

enum store_rc store_consumer_delete(struct store *st, const char *consumer_uuid)
{
    struct delete_job j = {consumer_uuid};
    return store_unit(st, UNIT_GROUPED_WRITE, STORE_BUSY, consumer_delete_body, &j);
}
