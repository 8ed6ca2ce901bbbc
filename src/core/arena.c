/*
 * arena.c — bump allocation for many small, same-lifetime objects (interned strings,
 * parsed identifiers). Blocks are freed together by st_arena_clear().
 */
#include "core/core.h"

struct st_arena_block {
    st_arena_block *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

void st_arena_init(st_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    a->total = 0;
}

void st_arena_clear(st_arena *a)
{
    st_arena_block *b = a->head;
    while (b) {
        st_arena_block *next = b->next;
        st_free(b);
        b = next;
    }
    a->head = NULL;
    a->total = 0;
}

void *st_arena_alloc(st_arena *a, size_t size, size_t align)
{
    if (align == 0) align = 1;
    st_arena_block *b = a->head;
    if (b) {
        size_t off = (b->used + align - 1) & ~(align - 1);
        if (off <= b->size && size <= b->size - off) {
            b->used = off + size;
            a->total += size;
            return b->data + off;
        }
    }
    size_t bsize = a->block_size;
    if (size + align > bsize) bsize = size + align;
    b = st_malloc(sizeof *b + bsize);
    if (!b) return NULL;
    b->size = bsize;
    b->used = size;
    b->next = a->head;
    a->head = b;
    a->total += size;
    return b->data;
}

char *st_arena_strndup(st_arena *a, const char *s, size_t n)
{
    char *p = st_arena_alloc(a, n + 1, 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
