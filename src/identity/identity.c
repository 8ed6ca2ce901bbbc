/*
 * identity.c — union-find (path halving, union towards the earlier-seen id) over the ids
 * that share an identifier.
 */
#include "identity/identity.h"
#include "ingest/clean.h"

#include <stdlib.h>

void st_identity_init(st_identity *id)
{
    memset(id, 0, sizeof *id);
}

void st_identity_clear(st_identity *id)
{
    st_free(id->person_of_key);
    st_free(id->canonical_key);
    st_free(id->overshared);
    memset(id, 0, sizeof *id);
}

static uint32_t find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* The root of a set is its earliest-seen key, so the canonical id never depends on the order
 * in which links are processed. */
static void unite(uint32_t *parent, const uint64_t *first, uint32_t a, uint32_t b)
{
    a = find(parent, a);
    b = find(parent, b);
    if (a == b) return;
    if (first[b] < first[a] || (first[b] == first[a] && b < a)) {
        uint32_t t = a;
        a = b;
        b = t;
    }
    parent[b] = a;
}

typedef struct link_pair {
    uint32_t ident, key;
} link_pair;

static int pair_cmp(const void *a, const void *b)
{
    const link_pair *x = a, *y = b;
    if (x->ident != y->ident) return x->ident < y->ident ? -1 : 1;
    return (x->key > y->key) - (x->key < y->key);
}

static int overshared_cmp(const void *a, const void *b)
{
    const st_overshared *x = a, *y = b;
    if (x->ids != y->ids) return x->ids > y->ids ? -1 : 1;
    return (x->ident > y->ident) - (x->ident < y->ident);
}

/* Union the ids that share an identifier, except through identifiers linked to more than
 * max_links distinct ids (0 = no limit), which are listed in out->overshared. false on ENOMEM. */
static bool unite_links(const st_dataset *ds, uint32_t max_links, uint32_t *parent,
                        link_pair *pairs, st_identity *out)
{
    /* distinct (identifier, key) pairs, grouped by identifier */
    for (size_t i = 0; i < ds->links.n; i++)
        pairs[i] = (link_pair){ds->links.ident[i], ds->links.key[i]};
    qsort(pairs, ds->links.n, sizeof *pairs, pair_cmp);
    size_t cap_over = 0;
    for (size_t i = 0; i < ds->links.n;) {
        size_t j = i, distinct = 0;
        while (j < ds->links.n && pairs[j].ident == pairs[i].ident) {
            if (j == i || pairs[j].key != pairs[j - 1].key) distinct++;
            j++;
        }
        if (max_links && distinct > max_links) {
            if (!ST_GROW(out->overshared, cap_over, out->novershared + 1)) return false;
            out->overshared[out->novershared++] =
                (st_overshared){pairs[i].ident, (uint32_t)distinct};
        } else {
            for (size_t k = i + 1; k < j; k++)
                unite(parent, ds->key_first, pairs[i].key, pairs[k].key);
        }
        i = j;
    }
    if (out->novershared)
        qsort(out->overshared, out->novershared, sizeof *out->overshared, overshared_cmp);
    return true;
}

static bool has_data(uint64_t first)
{
    return st_first_kind(first) < ST_IN_IDENTITIES;
}

/* The bit of a first appearance in data_keys_by_count's bitmap: its input's base, its line. */
static uint64_t first_bit(const uint64_t *base, uint64_t first)
{
    return base[st_first_kind(first)] + (first & ST_FIRST_LINE_MASK);
}

/* The keys with data in order of first appearance, by counting: their first appearances
 * (input, line) are distinct — a line of orders, events or users names one id — so a key's
 * place is the number of first appearances before its own, read from a bitmap of them with a
 * popcount per 64 lines (a radix sort of every key was most of this step, on one core).
 * SIZE_MAX when the lines are too sparse for the bitmap to pay or two keys share a first
 * appearance (the caller sorts then); 0 with *nomem on ENOMEM. */
static size_t data_keys_by_count(const uint64_t *first, size_t nkeys, uint32_t *order, bool *nomem)
{
    uint64_t lines[ST_IN_IDENTITIES] = {0}; /* 1 + the last first line of each input */
    for (size_t k = 0; k < nkeys; k++)
        if (has_data(first[k])) {
            unsigned kind = st_first_kind(first[k]);
            lines[kind] = ST_MAX(lines[kind], (first[k] & ST_FIRST_LINE_MASK) + 1);
        }
    uint64_t base[ST_IN_IDENTITIES], bits = 0; /* each input's lines from a word boundary */
    for (int kind = 0; kind < ST_IN_IDENTITIES; kind++) {
        base[kind] = bits;
        bits += (lines[kind] + 63) & ~(uint64_t)63;
    }
    if (bits / 128 > nkeys) return SIZE_MAX; /* more than 16 bytes of bitmap a key */
    size_t words = (size_t)(bits / 64);
    uint64_t *seen = st_calloc(words + 1, sizeof *seen);
    uint32_t *before = st_malloc((words + 1) * sizeof *before); /* set bits in earlier words */
    if (!seen || !before) {
        st_free(seen), st_free(before);
        *nomem = true;
        return 0;
    }
    size_t n = SIZE_MAX;
    for (size_t k = 0; k < nkeys; k++) {
        if (!has_data(first[k])) continue;
        uint64_t at = first_bit(base, first[k]);
        uint64_t bit = UINT64_C(1) << (at % 64);
        if (seen[at / 64] & bit) goto done; /* a shared first appearance */
        seen[at / 64] |= bit;
    }
    uint32_t count = 0;
    for (size_t w = 0; w < words; w++)
        before[w] = count, count += (uint32_t)st_popcount64(seen[w]);
    for (size_t k = 0; k < nkeys; k++) {
        if (!has_data(first[k])) continue;
        uint64_t at = first_bit(base, first[k]);
        uint64_t below = seen[at / 64] & ((UINT64_C(1) << (at % 64)) - 1);
        order[before[at / 64] + (uint32_t)st_popcount64(below)] = (uint32_t)k;
    }
    n = count;
done:
    st_free(seen), st_free(before);
    return n;
}

/* The keys with data in order of first appearance (ties, which only the bitmap refuses, in id
 * order): their number, or SIZE_MAX on ENOMEM. */
static size_t data_keys_in_order(const st_dataset *ds, size_t nkeys, uint32_t *order)
{
    bool nomem = false;
    size_t n = data_keys_by_count(ds->key_first, nkeys, order, &nomem);
    if (nomem) return SIZE_MAX;
    if (n != SIZE_MAX) return n;
    uint64_t *firsts = st_malloc((nkeys + 1) * sizeof *firsts);
    if (!firsts) return SIZE_MAX;
    for (uint32_t k = 0; k < nkeys; k++)
        firsts[k] = ds->key_first[k], order[k] = k;
    /* stable, so keys first seen on the same line keep id order */
    strata_status st = st_radix_sort_pairs(firsts, order, nkeys);
    st_free(firsts);
    if (st != STRATA_OK) return SIZE_MAX;
    n = 0;
    for (size_t i = 0; i < nkeys; i++)
        if (has_data(ds->key_first[order[i]])) order[n++] = order[i];
    return n;
}

strata_status st_identity_resolve(const st_dataset *ds, uint32_t max_links, st_identity *out)
{
    st_identity_clear(out);
    size_t nkeys = ds->keys.count;
    out->nkeys = nkeys;
    /* without links every id is its own person: no sets to build or count (the sets' arrays
     * and passes were half of this step at 1M ids, on one core) */
    bool linked = ds->links.n > 0;
    uint32_t *parent = linked ? st_malloc((nkeys + 1) * sizeof *parent) : NULL;
    link_pair *pairs = linked ? st_malloc((ds->links.n + 1) * sizeof *pairs) : NULL;
    uint32_t *order = st_malloc((nkeys + 1) * sizeof *order);
    out->person_of_key = st_malloc((nkeys + 1) * sizeof *out->person_of_key);
    out->canonical_key = st_malloc((nkeys + 1) * sizeof *out->canonical_key);
    strata_status st = STRATA_ENOMEM;
    if ((linked && (!parent || !pairs)) || !order || !out->person_of_key || !out->canonical_key)
        goto done;
    for (uint32_t k = 0; k < nkeys && linked; k++)
        parent[k] = k;

    out->links = ds->links.n;
    if (linked && !unite_links(ds, max_links, parent, pairs, out)) goto done;

    /* number persons by their canonical (root) key's first appearance */
    size_t ndata = data_keys_in_order(ds, nkeys, order);
    if (ndata == SIZE_MAX) goto done;
    for (uint32_t k = 0; k < nkeys; k++)
        out->person_of_key[k] = ST_NO_PERSON;
    for (size_t i = 0; i < ndata; i++) {
        uint32_t k = order[i];
        out->ids++;
        uint32_t root = linked ? find(parent, k) : k;
        if (out->person_of_key[root] == ST_NO_PERSON) {
            /* the root is the earliest key of its set and has data, so it is seen first */
            out->person_of_key[root] = (uint32_t)out->npersons;
            out->canonical_key[out->npersons++] = root;
        }
        out->person_of_key[k] = out->person_of_key[root];
    }
    if (!linked) { /* every person is one id */
        st = STRATA_OK;
        goto done;
    }
    /* statistics: ids joined into another id's person */
    uint32_t *members = st_calloc(out->npersons + 1, sizeof *members);
    if (!members) goto done;
    for (uint32_t k = 0; k < nkeys; k++) {
        uint32_t p = out->person_of_key[k];
        if (p == ST_NO_PERSON || !has_data(ds->key_first[k])) continue;
        members[p]++;
        if (out->canonical_key[p] != k) out->merged_ids++;
    }
    for (size_t p = 0; p < out->npersons; p++)
        if (members[p] > 1) out->merged_persons++;
    st_free(members);
    st = STRATA_OK;
done:
    st_free(parent);
    st_free(pairs);
    st_free(order);
    if (st != STRATA_OK) st_identity_clear(out);
    return st;
}

static void map_keys(const st_identity *id, uint32_t *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        keys[i] = id->person_of_key[keys[i]];
}

typedef struct apply_job {
    const st_identity *id;
    st_dataset *ds;
    int shift;                             /* st_person_sort_shift of the persons */
    size_t (*orders)[256], (*events)[256]; /* per thread: rows by person-id byte */
} apply_job;

/* rows [begin, end) of the orders then the events, as one range, counted by the byte of the
 * new id the person sort splits by first (st_person_counts) */
static strata_status map_rows(void *arg, size_t begin, size_t end, unsigned thread)
{
    const apply_job *j = arg;
    const uint32_t *person_of = j->id->person_of_key;
    size_t mine[2][256] = {{0}}; /* counted and dropped when the job has no room for them */
    size_t norders = j->ds->orders.n;
    size_t *oc = j->orders ? j->orders[thread] : mine[0],
           *ec = j->orders ? j->events[thread] : mine[1];
    const int shift = j->shift;
    for (size_t i = begin; i < end && i < norders; i++) {
        uint32_t p = person_of[j->ds->orders.rows[i].key];
        j->ds->orders.rows[i].key = p;
        oc[(p >> shift) & 0xff]++;
    }
    for (size_t i = ST_MAX(begin, norders); i < end; i++) {
        uint32_t p = person_of[j->ds->events.rows[i - norders].key];
        j->ds->events.rows[i - norders].key = p;
        ec[(p >> shift) & 0xff]++;
    }
    return STRATA_OK;
}

/* The per-thread counts summed into a table's st_person_counts. */
static void keep_counts(st_person_counts *c, size_t (*counts)[256], unsigned threads, size_t rows,
                        int shift)
{
    memset(c->count, 0, sizeof c->count);
    for (unsigned t = 0; t < threads; t++)
        for (int b = 0; b < 256; b++)
            c->count[b] += counts[t][b];
    c->rows = rows, c->shift = shift, c->valid = true;
}

void st_identity_apply(const st_identity *id, st_dataset *ds, unsigned threads)
{
    /* Without merges every key with rows may still get another number (keys count by first
     * appearance per loading worker, persons by first line); when none does, the order and
     * event tables — 10M rows and more — stay as they are. */
    bool renumbered = false;
    for (size_t k = 0; k < id->nkeys && !renumbered; k++)
        renumbered = id->person_of_key[k] != k && id->person_of_key[k] != ST_NO_PERSON;
    ds->orders.by_person.valid = ds->events.by_person.valid = false;
    if (renumbered) {
        threads = ST_MAX(ST_MIN(threads, 64u), 1u);
        apply_job j = {id, ds, st_person_sort_shift(id->npersons), NULL, NULL};
        /* without room for the counts the rows are still renumbered; the sort counts then */
        j.orders = st_calloc(2 * (size_t)threads, sizeof *j.orders);
        if (j.orders) j.events = j.orders + threads;
        st_parallel_for(threads, ds->orders.n + ds->events.n, map_rows, &j);
        if (j.orders) {
            keep_counts(&ds->orders.by_person, j.orders, threads, ds->orders.n, j.shift);
            keep_counts(&ds->events.by_person, j.events, threads, ds->events.n, j.shift);
        }
        st_free(j.orders);
    }
    map_keys(id, ds->users.key, ds->users.n);
    map_keys(id, ds->links.key, ds->links.n);
}
