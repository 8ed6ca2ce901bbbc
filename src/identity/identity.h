/*
 * identity.h — one id per person. Union-find over identity links joins every raw id (key)
 * that shares an identifier into one person; an identifier linked to more ids than
 * identity.max_links (a shared family device, a call-centre phone number) is not used for
 * joining and is reported instead. The result is deterministic: each person's canonical id
 * is its earliest-seen id (orders before events before users before identities, then line),
 * and persons are numbered in that order.
 *
 * Owns: st_identity (key → person map, canonical key per person, merge statistics).
 * Sits after ingest, before profile.
 */
#ifndef ST_IDENTITY_H
#define ST_IDENTITY_H

#include "ingest/ingest.h"

#define ST_NO_PERSON UINT32_MAX

typedef struct st_overshared {
    uint32_t ident; /* st_dataset.identifiers id */
    uint32_t ids;   /* distinct ids it links */
} st_overshared;

typedef struct st_identity {
    uint32_t *person_of_key; /* per dataset key: person, or ST_NO_PERSON (link-only ids) */
    uint32_t *canonical_key; /* per person: the key whose text is the person's user_id */
    size_t npersons, nkeys;
    /* statistics for the quality report */
    uint64_t links;          /* link rows used */
    uint64_t ids;            /* ids that appear in orders, events or users */
    uint64_t merged_ids;     /* of those, ids joined into a person with another canonical id */
    uint64_t merged_persons; /* persons made of more than one id */
    st_overshared *overshared; /* sorted by ids desc, then ident */
    size_t novershared;
} st_identity;

void st_identity_init(st_identity *id);
void st_identity_clear(st_identity *id);

/* Resolve persons for every key of ds. max_links: an identifier linking more distinct ids than
 * this is not merged (0 = no limit). Cost: O(keys + links log links). */
strata_status st_identity_resolve(const st_dataset *ds, uint32_t max_links, st_identity *out);

/* Replace key ids by person ids in every row array of ds (orders, events, users, links). */
void st_identity_apply(const st_identity *id, st_dataset *ds, unsigned threads);

#endif
