/*
 * intern.c — string interning: each distinct string gets a dense uint32 id in order of
 * first insertion. Open addressing with linear probing over 32-byte slots that carry the
 * full 64-bit hash, the length and the first 16 bytes, so a probe touches one cache line and
 * string bytes elsewhere only for longer strings. Used for person keys (millions, on the hot path),
 * dictionaries and identifiers.
 */
#include "core/core.h"

#include <xxhash.h>

uint64_t st_hash64(const void *data, size_t len)
{
    return XXH3_64bits(data, len);
}

uint64_t st_hash64_seed(const void *data, size_t len, uint64_t seed)
{
    return XXH3_64bits_withSeed(data, len, seed);
}

void st_intern_init(st_intern *t)
{
    memset(t, 0, sizeof *t);
    st_arena_init(&t->arena, 256 * 1024);
}

void st_intern_clear(st_intern *t)
{
    st_free(t->slots);
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

uint32_t st_intern_find(const st_intern *t, const char *s, size_t len, uint64_t hash)
{
    if (!t->slots) return ST_INTERN_NONE;
    for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        const st_intern_slot *slot = &t->slots[i];
        if (slot->id1 == 0) return ST_INTERN_NONE;
        if (slot_matches(t, slot, s, len, hash)) return slot->id1 - 1;
    }
}

static bool rehash(st_intern *t, size_t nslots)
{
    /* zeroed by writing, not by calloc: probing reads a slot before writing it, and on fresh
     * calloc'd pages that read maps the shared zero page, so the write that follows takes a
     * second fault and flushes the TLB of every core running this process */
    st_intern_slot *slots = st_malloc_zeroed(nslots, sizeof *slots);
    if (!slots) return false;
    size_t mask = nslots - 1;
    /* the old slots move as they are, walked in order: rebuilding each from its string cost a
     * cache miss per key in the string arena (ids are only added once slots exist) */
    for (size_t k = 0; t->slots && k <= t->mask; k++) {
        const st_intern_slot *old = &t->slots[k];
        if (!old->id1) continue;
        size_t i = old->hash & mask;
        while (slots[i].id1)
            i = (i + 1) & mask;
        slots[i] = *old;
    }
    st_free(t->slots);
    t->slots = slots;
    t->mask = mask;
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
    return rehash(t, nslots);
}

uint32_t st_intern_put_limit(st_intern *t, const char *s, size_t len, uint64_t hash, bool *added,
                             size_t limit)
{
    if (added) *added = false;
    if (len > UINT32_MAX) return ST_INTERN_NONE;
    /* keep the load factor under 1/2 so probes stay short */
    if (!t->slots || (t->count + 1) * 2 > t->mask + 1) {
        if (t->count >= UINT32_MAX - 1) return ST_INTERN_NONE;
        if (!rehash(t, t->slots ? (t->mask + 1) * 2 : 1024)) return ST_INTERN_NONE;
    }
    size_t i = hash & t->mask;
    for (;; i = (i + 1) & t->mask) {
        const st_intern_slot *slot = &t->slots[i];
        if (slot->id1 == 0) break;
        if (slot_matches(t, slot, s, len, hash)) return slot->id1 - 1;
    }
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
