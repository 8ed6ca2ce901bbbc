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

/* lengths at compile time: profiles.csv asks for them on every row from several threads */
#define X(id, key) sizeof key - 1,
static const unsigned char segment_lens[] = {0, ST_SEGMENTS(X)};
static const unsigned char class8_lens[] = {0, ST_CLASS8(X)};
static const unsigned char tier_lens[] = {0, ST_TIERS(X)};
static const unsigned char lifecycle_lens[] = {0, ST_LIFECYCLES(X)};
static const unsigned char behavior_lens[] = {0, ST_BEHAVIORS(X)};
static const unsigned char level_lens[] = {0, ST_LEVELS(X)};
static const unsigned char core_lens[] = {0, ST_CORE_LEVELS(X)};
static const unsigned char risk_lens[] = {0, ST_RISKS(X)};
#undef X

typedef struct vocab_row {
    const char *const *keys;
    const unsigned char *lens;
    unsigned n;
} vocab_row;

#define ROW(a, l)                                                                                  \
    {                                                                                              \
        a, l, sizeof a / sizeof a[0]                                                               \
    }
static const vocab_row vocabs[] = {ROW(segments, segment_lens),   ROW(class8, class8_lens),
                                   ROW(tiers, tier_lens),         ROW(lifecycles, lifecycle_lens),
                                   ROW(behaviors, behavior_lens), ROW(levels, level_lens),
                                   ROW(cores, core_lens),         ROW(risks, risk_lens)};

const char *st_vocab_key(st_vocab v, unsigned id)
{
    if ((unsigned)v >= sizeof vocabs / sizeof vocabs[0] || id >= vocabs[v].n) return "";
    return vocabs[v].keys[id];
}

const char *st_vocab_key_n(st_vocab v, unsigned id, size_t *len)
{
    if ((unsigned)v >= sizeof vocabs / sizeof vocabs[0] || id >= vocabs[v].n) {
        *len = 0;
        return "";
    }
    *len = vocabs[v].lens[id];
    return vocabs[v].keys[id];
}

unsigned st_vocab_size(st_vocab v)
{
    return (unsigned)v < sizeof vocabs / sizeof vocabs[0] ? vocabs[v].n : 0;
}
