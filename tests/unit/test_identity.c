/* test_identity.c — union-find identity resolution: joins through shared identifiers,
 * transitive chains, the over-shared identifier limit and order independence. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "identity/identity.h"

typedef struct fixture {
    st_dataset ds;
} fixture;

static uint32_t key(st_dataset *ds, const char *id, st_input_kind kind, uint64_t line)
{
    bool added;
    uint32_t k = st_intern_put(&ds->keys, id, strlen(id), st_hash64(id, strlen(id)), &added);
    assert_true(ST_GROW(ds->key_first, ds->cap_key_first, (size_t)k + 1));
    uint64_t first = ((uint64_t)kind << 56) | line;
    if (added || first < ds->key_first[k]) ds->key_first[k] = first;
    return k;
}

static void link(st_dataset *ds, const char *id, const char *ident)
{
    uint32_t k = key(ds, id, ST_IN_IDENTITIES, 1000 + ds->links.n);
    uint32_t i = st_intern_put(&ds->identifiers, ident, strlen(ident), st_hash64(ident, strlen(ident)), NULL);
    size_t n = ds->links.n;
    assert_true(ST_GROW(ds->links.key, ds->links.cap, n + 1));
    size_t cap = ds->links.cap;
    ds->links.ident = st_realloc(ds->links.ident, cap * sizeof(uint32_t));
    ds->links.line = st_realloc(ds->links.line, cap * sizeof(uint32_t));
    ds->links.key[n] = k;
    ds->links.ident[n] = i;
    ds->links.line[n] = (uint32_t)n;
    ds->links.n = n + 1;
}

static int setup(void **state)
{
    fixture *f = st_calloc(1, sizeof *f);
    st_dataset_init(&f->ds);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    st_dataset_clear(&f->ds);
    st_free(f);
    return 0;
}

static const char *canonical_of(const st_dataset *ds, const st_identity *id, const char *raw)
{
    uint32_t k = st_intern_find(&ds->keys, raw, strlen(raw), st_hash64(raw, strlen(raw)));
    assert_int_not_equal(k, ST_INTERN_NONE);
    uint32_t p = id->person_of_key[k];
    if (p == ST_NO_PERSON) return NULL;
    return ds->keys.strs[id->canonical_key[p]];
}

static void chains_and_limits(void **state)
{
    st_dataset *ds = &((fixture *)*state)->ds;
    /* data ids, in order of first appearance */
    key(ds, "a", ST_IN_ORDERS, 2);
    key(ds, "b", ST_IN_ORDERS, 3);
    key(ds, "c", ST_IN_EVENTS, 2);
    key(ds, "d", ST_IN_USERS, 2);
    key(ds, "e", ST_IN_ORDERS, 4);
    key(ds, "f", ST_IN_ORDERS, 5);
    key(ds, "g", ST_IN_ORDERS, 6);
    /* c ~ b by phone, b ~ d by email: one person whose canonical id is b (seen first) */
    link(ds, "c", "phone:1");
    link(ds, "b", "phone:1");
    link(ds, "d", "email:x");
    link(ds, "b", "email:x");
    /* a shared device across e, f, g is over the limit of 2: no merge */
    link(ds, "e", "device:shared");
    link(ds, "f", "device:shared");
    link(ds, "g", "device:shared");
    link(ds, "g", "device:shared"); /* repeated link rows count once */
    /* a link-only id joins nobody with data and creates no person */
    link(ds, "zz", "phone:9");
    st_identity id;
    st_identity_init(&id);
    assert_int_equal(st_identity_resolve(ds, 2, &id), STRATA_OK);
    assert_int_equal(id.npersons, 5); /* a, b+c+d, e, f, g */
    assert_string_equal(canonical_of(ds, &id, "c"), "b");
    assert_string_equal(canonical_of(ds, &id, "d"), "b");
    assert_string_equal(canonical_of(ds, &id, "a"), "a");
    assert_string_equal(canonical_of(ds, &id, "g"), "g");
    assert_null(canonical_of(ds, &id, "zz"));
    assert_int_equal(id.novershared, 1);
    assert_int_equal(id.overshared[0].ids, 3);
    assert_int_equal(id.merged_ids, 2);
    assert_int_equal(id.merged_persons, 1);
    assert_int_equal(id.ids, 7);
    /* persons are numbered by first appearance: a=0, b=1, e=2, f=3, g=4 */
    assert_string_equal(ds->keys.strs[id.canonical_key[0]], "a");
    assert_string_equal(ds->keys.strs[id.canonical_key[1]], "b");
    assert_string_equal(ds->keys.strs[id.canonical_key[2]], "e");
    /* without a limit the device joins e, f and g */
    assert_int_equal(st_identity_resolve(ds, 0, &id), STRATA_OK);
    assert_int_equal(id.npersons, 3);
    assert_string_equal(canonical_of(ds, &id, "g"), "e");
    st_identity_clear(&id);
}

/* The same links in reverse order give the same persons. */
static void order_independent(void **state)
{
    st_dataset *ds = &((fixture *)*state)->ds;
    const char *ids[] = {"p", "q", "r", "s", "t"};
    for (int i = 0; i < 5; i++) key(ds, ids[i], ST_IN_ORDERS, (uint64_t)(10 + i));
    link(ds, "t", "x:1");
    link(ds, "s", "x:1");
    link(ds, "s", "x:2");
    link(ds, "q", "x:2");
    st_identity a;
    st_identity_init(&a);
    assert_int_equal(st_identity_resolve(ds, 10, &a), STRATA_OK);
    /* reverse the link rows */
    for (size_t i = 0; i < ds->links.n / 2; i++) {
        size_t j = ds->links.n - 1 - i;
        uint32_t t = ds->links.key[i];
        ds->links.key[i] = ds->links.key[j], ds->links.key[j] = t;
        t = ds->links.ident[i];
        ds->links.ident[i] = ds->links.ident[j], ds->links.ident[j] = t;
    }
    st_identity b;
    st_identity_init(&b);
    assert_int_equal(st_identity_resolve(ds, 10, &b), STRATA_OK);
    assert_int_equal(a.npersons, b.npersons);
    assert_int_equal(a.npersons, 3); /* p, q+s+t, r */
    for (size_t k = 0; k < a.nkeys; k++) assert_int_equal(a.person_of_key[k], b.person_of_key[k]);
    assert_string_equal(canonical_of(ds, &a, "t"), "q");
    st_identity_clear(&a);
    st_identity_clear(&b);
}

/* Persons are numbered by first appearance whichever way the order is found: counted over
 * a bitmap of first lines (dense lines), sorted (lines too sparse for the bitmap), and sorted
 * with ties kept in id order (two ids first seen on one line, which only a hand-made dataset
 * has). Ids are interned in an order unlike their first appearances. */
static void numbered_by_first_appearance(void **state)
{
    (void)state;
    static const struct {
        const char *id;
        st_input_kind kind;
        uint64_t line;
    } keys[] = {{"k3", ST_IN_EVENTS, 4},  {"k0", ST_IN_ORDERS, 9}, {"k5", ST_IN_USERS, 1},
                {"k1", ST_IN_ORDERS, 12}, {"k4", ST_IN_EVENTS, 8}, {"k2", ST_IN_EVENTS, 2},
                {"none", ST_IN_IDENTITIES, 3}};
    /* persons in order: orders by line, then events by line, then users */
    static const char *want[] = {"k0", "k1", "k2", "k3", "k4", "k5"};
    for (int variant = 0; variant < 3; variant++) {
        st_dataset ds;
        st_dataset_init(&ds);
        for (size_t i = 0; i < ST_ARRAY_LEN(keys); i++) {
            uint64_t line = keys[i].line;
            if (variant == 1) line *= 100000; /* sparse: the sort */
            if (variant == 2 && i == 4) line = 4; /* k4 shares k3's first line: the sort */
            key(&ds, keys[i].id, keys[i].kind, line);
        }
        st_identity id;
        st_identity_init(&id);
        assert_int_equal(st_identity_resolve(&ds, 0, &id), STRATA_OK);
        assert_int_equal(id.npersons, 6);
        assert_null(canonical_of(&ds, &id, "none"));
        for (size_t p = 0; p < 6; p++) {
            const char *w = want[p];
            if (variant == 2 && p == 3) w = "k3"; /* k3 interned before k4: first of the tie */
            assert_string_equal(ds.keys.strs[id.canonical_key[p]], w);
        }
        st_identity_clear(&id);
        st_dataset_clear(&ds);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(chains_and_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(order_independent, setup, teardown),
        cmocka_unit_test(numbered_by_first_appearance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
