/*
 * intern.c — string interning: each distinct string gets a dense uint32 id in order of
 * first insertion. Open addressing with linear probing over a power-of-two slot array of
 * ids; the full 64-bit hash is kept per id so probes rarely touch string bytes.
 * Used for person keys, category and brand names, identifier values.
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

uint32_t st_intern_find(const st_intern *t, const char *s, size_t len, uint64_t hash)
{
    if (!t->slots) return ST_INTERN_NONE;
    for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        uint32_t v = t->slots[i];
        if (v == 0) return ST_INTERN_NONE;
        uint32_t id = v - 1;
        if (t->hashes[id] == hash && t->lens[id] == len && memcmp(t->strs[id], s, len) == 0)
            return id;
    }
}

static bool rehash(st_intern *t, size_t nslots)
{
    uint32_t *slots = st_calloc(nslots, sizeof *slots);
    if (!slots) return false;
    size_t mask = nslots - 1;
    for (size_t id = 0; id < t->count; id++) {
        size_t i = t->hashes[id] & mask;
        while (slots[i]) i = (i + 1) & mask;
        slots[i] = (uint32_t)id + 1;
    }
    st_free(t->slots);
    t->slots = slots;
    t->mask = mask;
    return true;
}

uint32_t st_intern_put(st_intern *t, const char *s, size_t len, uint64_t hash, bool *added)
{
    if (added) *added = false;
    uint32_t found = st_intern_find(t, s, len, hash);
    if (found != ST_INTERN_NONE) return found;
    if (t->count >= UINT32_MAX - 1 || len > UINT32_MAX) return ST_INTERN_NONE;
    /* keep the load factor under 1/2 */
    if (!t->slots || (t->count + 1) * 2 > t->mask + 1) {
        if (!rehash(t, t->slots ? (t->mask + 1) * 2 : 1024)) return ST_INTERN_NONE;
    }
    if (t->count == t->cap_ids) {
        size_t cap = t->cap_ids ? t->cap_ids * 2 : 512;
        uint64_t *h = st_realloc(t->hashes, cap * sizeof *h);
        if (!h) return ST_INTERN_NONE;
        t->hashes = h;
        const char **ss = st_realloc(t->strs, cap * sizeof *ss);
        if (!ss) return ST_INTERN_NONE;
        t->strs = ss;
        uint32_t *ls = st_realloc(t->lens, cap * sizeof *ls);
        if (!ls) return ST_INTERN_NONE;
        t->lens = ls;
        t->cap_ids = cap;
    }
    char *copy = st_arena_strndup(&t->arena, s, len);
    if (!copy) return ST_INTERN_NONE;
    uint32_t id = (uint32_t)t->count++;
    t->hashes[id] = hash;
    t->strs[id] = copy;
    t->lens[id] = (uint32_t)len;
    size_t i = hash & t->mask;
    while (t->slots[i]) i = (i + 1) & t->mask;
    t->slots[i] = id + 1;
    if (added) *added = true;
    return id;
}
