/* vocab.c — English keys of the label vocabularies in labels.h. */
#include "models/labels.h"

#include <string.h>

#define X(id, key) key,
static const char *const segments[] = {"", ST_SEGMENTS(X)};
static const char *const class8[] = {"", ST_CLASS8(X)};
static const char *const tiers[] = {"", ST_TIERS(X)};
static const char *const lifecycles[] = {"", ST_LIFECYCLES(X)};
static const char *const behaviors[] = {"", ST_BEHAVIORS(X)};
static const char *const levels[] = {"", ST_LEVELS(X)};
static const char *const cores[] = {"", ST_CORE_LEVELS(X)};
static const char *const risks[] = {"", ST_RISKS(X)};
#undef X

typedef struct vocab_row {
    const char *const *keys;
    unsigned n;
} vocab_row;

#define ROW(a) {a, sizeof a / sizeof a[0]}
static const vocab_row vocabs[] = {ROW(segments), ROW(class8), ROW(tiers), ROW(lifecycles),
                                   ROW(behaviors), ROW(levels), ROW(cores), ROW(risks)};

const char *st_vocab_key(st_vocab v, unsigned id)
{
    if ((unsigned)v >= sizeof vocabs / sizeof vocabs[0] || id >= vocabs[v].n) return "";
    return vocabs[v].keys[id];
}

size_t st_vocab_key_len(st_vocab v, unsigned id)
{
    /* keys are short literals; computed once per vocabulary on first use */
    static size_t lens[8][32];
    static int ready[8];
    if ((unsigned)v >= sizeof vocabs / sizeof vocabs[0] || id >= vocabs[v].n) return 0;
    if (!__atomic_load_n(&ready[v], __ATOMIC_ACQUIRE)) {
        for (unsigned i = 0; i < vocabs[v].n && i < 32; i++) lens[v][i] = strlen(vocabs[v].keys[i]);
        __atomic_store_n(&ready[v], 1, __ATOMIC_RELEASE);
    }
    return id < 32 ? lens[v][id] : strlen(vocabs[v].keys[id]);
}

unsigned st_vocab_size(st_vocab v)
{
    return (unsigned)v < sizeof vocabs / sizeof vocabs[0] ? vocabs[v].n : 0;
}
