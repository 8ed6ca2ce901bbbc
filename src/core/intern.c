/*
 * intern.c — string interning: each distinct string gets a dense uint32 id in order of
 * first insertion. Open addressing with linear probing over 32-byte slots that carry the
 * full 64-bit hash, the length and the first 16 bytes, so a probe touches one cache line and
 * string bytes elsewhere only for longer strings. Used for person keys (millions, on the hot
 * path), dictionaries and identifiers. Probes run upward into a tail past the last home and
 * never wrap around, so the table doubles in place (double_in_place).
 */
#include "core/core.h"

/* The header's own inline build of XXH3 (the installed xxhash.h, not a copy), compiled with
 * the build's flags and optimized with the rest of the program: person and order ids are
 * hashed twice per order row, without a call through the shared library's PLT. */
#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t st_hash64(const void *data, size_t len)
{
    return XXH3_64bits(data, len);
}

uint64_t st_hash64_seed(const void *data, size_t len, uint64_t seed)
{
    return XXH3_64bits_withSeed(data, len, seed);
}

/* Slot arrays of this size or more are mapped (st_table_alloc): aligned for huge pages, and
 * doubled by moving their pages instead of copying them. */
#define MAPPED_MIN ((size_t)4 << 20)

static size_t slots_bytes(size_t homes)
{
    return (homes + ST_INTERN_TAIL) * sizeof(st_intern_slot);
}

/* A zero-filled slot array for `homes` homes and whether it is mapped, or NULL. Small ones
 * are zeroed by writing, not by calloc: probing reads a slot before writing it, and on fresh
 * calloc'd pages that read maps the shared zero page, so the write that follows takes a second
 * fault (st_table_alloc prefaults for the same reason). */
static st_intern_slot *slots_alloc(size_t homes, bool *mapped)
{
    *mapped = slots_bytes(homes) >= MAPPED_MIN;
    if (*mapped) return st_table_alloc(slots_bytes(homes));
    return st_malloc_zeroed(homes + ST_INTERN_TAIL, sizeof(st_intern_slot));
}

static void slots_free(st_intern_slot *slots, size_t homes, bool mapped)
{
    if (mapped)
        st_table_free(slots, slots_bytes(homes));
    else
        st_free(slots);
}

void st_intern_init(st_intern *t)
{
    memset(t, 0, sizeof *t);
    st_arena_init(&t->arena, 256 * 1024);
}

void st_intern_clear(st_intern *t)
{
    if (t->slots) slots_free(t->slots, t->mask + 1, t->mapped);
    st_free(t->hashes);
    st_free(t->strs);
    st_free(t->lens);
    st_arena_clear(&t->arena);
    memset(t, 0, sizeof *t);
}

static inline bool slot_matches(const st_intern *t, const st_intern_slot *slot, const char *s,
                                size_t len, uint64_t hash)
{
    if (slot->hash != hash || slot->len != len) return false;
    if (len <= ST_INTERN_INLINE) return st_short_eq(slot->prefix, s, len);
    return memcmp(slot->prefix, s, ST_INTERN_INLINE) == 0 &&
           memcmp(t->strs[slot->id1 - 1] + ST_INTERN_INLINE, s + ST_INTERN_INLINE,
                  len - ST_INTERN_INLINE) == 0;
}

static inline st_intern_slot make_slot(uint64_t hash, uint32_t id, const char *s, uint32_t len)
{
    st_intern_slot slot;
    memset(&slot, 0, sizeof slot);
    slot.hash = hash;
    slot.id1 = id + 1;
    slot.len = len;
    memcpy(slot.prefix, s, ST_MIN(len, (uint32_t)ST_INTERN_INLINE));
    return slot;
}

/* The first empty slot at or above the home of `hash` under `mask`, or SIZE_MAX when the
 * cluster runs past the tail. */
static inline size_t free_slot(const st_intern_slot *slots, size_t mask, uint64_t hash)
{
    for (size_t i = hash & mask, end = mask + 1 + ST_INTERN_TAIL; i < end; i++)
        if (!slots[i].id1) return i;
    return SIZE_MAX;
}

/* A new table of nslots homes holding every entry of the old one (and of `extra`), or false
 * on ENOMEM. */
static bool rebuild(st_intern *t, size_t nslots, const st_intern_slot *extra, size_t nextra)
{
    for (;; nslots *= 2) {
        bool mapped;
        st_intern_slot *slots = slots_alloc(nslots, &mapped);
        if (!slots) return false;
        size_t mask = nslots - 1, total = t->slots ? t->mask + 1 + ST_INTERN_TAIL : 0;
        bool fits = true;
        for (size_t k = 0; k < total + nextra && fits; k++) {
            const st_intern_slot *e = k < total ? &t->slots[k] : &extra[k - total];
            if (!e->id1) continue;
            size_t i = free_slot(slots, mask, e->hash);
            if (i == SIZE_MAX)
                fits = false;
            else
                slots[i] = *e;
        }
        if (!fits) { /* a cluster past the tail: practically never at load 1/2 */
            slots_free(slots, nslots, mapped);
            continue;
        }
        if (t->slots) slots_free(t->slots, t->mask + 1, t->mapped);
        t->slots = slots;
        t->mask = mask;
        t->mapped = mapped;
        return true;
    }
}

/* Twice the homes, the old slots at the start and the rest zero; NULL on ENOMEM (the table
 * unchanged). A mapped table moves its pages (mremap): only the new half is fresh memory. A
 * copy into a new table faulted in the whole table at every doubling, and clearing fresh
 * pages was the largest kernel cost of loading a large file. */
static st_intern_slot *slots_double(st_intern *t)
{
    size_t old = t->mask + 1;
    size_t from = slots_bytes(old), to = slots_bytes(2 * old);
    if (t->mapped) return st_table_grow(t->slots, from, to);
    st_intern_slot *slots;
    if (to >= MAPPED_MIN) {
        slots = st_table_alloc(to);
        if (!slots) return NULL;
        memcpy(slots, t->slots, from);
        st_free(t->slots);
        t->mapped = true;
        return slots;
    }
    slots = st_realloc(t->slots, to);
    if (slots) memset((char *)slots + from, 0, to - from);
    return slots;
}

/* Double the table in place: after slots_double, every entry of the old homes, in increasing
 * position, is taken out and put back under the new mask. Its new home is its old one or S
 * above it, and probing from there only passes slots already handled (below) or filled during
 * this pass (above S), since the old tail was emptied first. */
static bool double_in_place(st_intern *t)
{
    size_t old = t->mask + 1, mask = 2 * old - 1;
    st_intern_slot tail[ST_INTERN_TAIL + 1]; /* the old tail, and an entry that found no room */
    size_t ntail = 0;
    for (size_t i = old; i < old + ST_INTERN_TAIL; i++)
        if (t->slots[i].id1) tail[ntail++] = t->slots[i];
    st_intern_slot *slots = slots_double(t);
    if (!slots) return false;
    memset(slots + old, 0, ST_INTERN_TAIL * sizeof *slots);
    t->slots = slots;
    for (size_t k = 0; k < old; k++) {
        if (!slots[k].id1) continue;
        st_intern_slot e = slots[k];
        slots[k].id1 = 0;
        size_t i = free_slot(slots, mask, e.hash); /* found: slot k itself is free again */
        if (i == SIZE_MAX) { /* past the new tail: rebuild from what is where */
            t->mask = mask;
            tail[ntail++] = e;
            return rebuild(t, 2 * (mask + 1), tail, ntail);
        }
        slots[i] = e;
    }
    t->mask = mask;
    for (size_t k = 0; k < ntail; k++) {
        size_t i = free_slot(slots, mask, tail[k].hash);
        if (i == SIZE_MAX) return rebuild(t, 2 * (mask + 1), tail + k, ntail - k);
        slots[i] = tail[k];
    }
    return true;
}

static bool grow_ids(st_intern *t)
{
    size_t cap = t->cap_ids ? t->cap_ids * 2 : 512;
    uint64_t *h = st_realloc(t->hashes, cap * sizeof *h);
    if (!h) return false;
    t->hashes = h;
    const char **ss = st_realloc(t->strs, cap * sizeof *ss);
    if (!ss) return false;
    t->strs = ss;
    uint32_t *ls = st_realloc(t->lens, cap * sizeof *ls);
    if (!ls) return false;
    t->lens = ls;
    t->cap_ids = cap;
    return true;
}

bool st_intern_reserve(st_intern *t, size_t n)
{
    size_t nslots = 1024;
    while (nslots < 2 * n)
        nslots *= 2;
    if (t->slots && nslots <= t->mask + 1) return true;
    while (t->cap_ids < n)
        if (!grow_ids(t)) return false;
    return rebuild(t, nslots, NULL, 0);
}

/* The slot holding the string, or the empty slot where it would go, or SIZE_MAX when its
 * cluster runs past the tail. */
static size_t match_or_free(const st_intern *t, const char *s, size_t len, uint64_t hash)
{
    for (size_t i = hash & t->mask, end = t->mask + 1 + ST_INTERN_TAIL; i < end; i++)
        if (!t->slots[i].id1 || slot_matches(t, &t->slots[i], s, len, hash)) return i;
    return SIZE_MAX;
}

uint32_t st_intern_find(const st_intern *t, const char *s, size_t len, uint64_t hash)
{
    if (!t->slots) return ST_INTERN_NONE;
    size_t i = match_or_free(t, s, len, hash);
    return i == SIZE_MAX || !t->slots[i].id1 ? ST_INTERN_NONE : t->slots[i].id1 - 1;
}

/* Room for one more entry: the first table, or twice the homes once half are taken. */
static bool make_room(st_intern *t)
{
    if (!t->slots) return rebuild(t, 1024, NULL, 0);
    if ((t->count + 1) * 2 <= t->mask + 1) return true;
    return double_in_place(t);
}

uint32_t st_intern_put_limit(st_intern *t, const char *s, size_t len, uint64_t hash, bool *added,
                             size_t limit)
{
    if (added) *added = false;
    if (len > UINT32_MAX) return ST_INTERN_NONE;
    /* keep the load factor under 1/2 so probes stay short */
    if (t->count >= UINT32_MAX - 1 || !make_room(t)) return ST_INTERN_NONE;
    size_t i;
    while ((i = match_or_free(t, s, len, hash)) == SIZE_MAX) /* a cluster ran past the tail */
        if (!rebuild(t, 2 * (t->mask + 1), NULL, 0)) return ST_INTERN_NONE;
    if (t->slots[i].id1) return t->slots[i].id1 - 1;
    if (limit && t->count >= limit) return ST_INTERN_NONE;
    if (t->count == t->cap_ids && !grow_ids(t)) return ST_INTERN_NONE;
    char *copy = st_arena_strndup(&t->arena, s, len);
    if (!copy) return ST_INTERN_NONE;
    uint32_t id = (uint32_t)t->count++;
    t->hashes[id] = hash;
    t->strs[id] = copy;
    t->lens[id] = (uint32_t)len;
    t->slots[i] = make_slot(hash, id, s, (uint32_t)len);
    if (added) *added = true;
    return id;
}
