/*
 * summary.c — summary.json and quality.json (schema in docs/formats.md) and the human
 * summary printed by `strata run`. Every figure here is derived from the profiles and the
 * quality counters; nothing is computed twice in different ways.
 */
#include "job/job.h"
#include "models/labels.h"
#include "report/labels.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double money(int64_t micros)
{
    return (double)micros / 1e6;
}

static double share(double part, double whole)
{
    return whole > 0 ? part / whole : 0;
}

/* Round for presentation in JSON: 6 significant decimals is plenty for shares. */
static double r6(double v)
{
    return round(v * 1e6) / 1e6;
}

static void hex16(const unsigned char *b, char out[33])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++)
        out[2 * i] = hex[b[i] >> 4], out[2 * i + 1] = hex[b[i] & 15];
    out[32] = '\0';
}

/* Totals over all persons. */
typedef struct totals {
    uint64_t persons, buyers, orders;
    int64_t revenue;
} totals;

/* One row per label of a vocabulary: persons, revenue, averages over its members. */
typedef struct group_acc {
    uint64_t persons, buyers;
    int64_t revenue;
    double recency_sum, frequency_sum;
    double min_score, max_score;
} group_acc;

enum { GROUP_TIER, GROUP_SEGMENT, GROUP_CLASS8, NGROUPS };
enum { DIST_LIFECYCLE, DIST_BEHAVIOR, DIST_INTERACTION, DIST_CORE, NDISTS };

/* Everything the tables below count, from one pass over the profiles: a pass per table read
 * the 200-byte profiles ten times over for a few fields each. Sums run in person order, as
 * they did table by table. */
typedef struct profile_sums {
    totals t;
    group_acc groups[NGROUPS][32];
    uint64_t dist[NDISTS][32];
    uint64_t heat_persons[6][6];
    double heat_spend[6][6];
} profile_sums;

static void add_to_group(group_acc *acc, unsigned n, unsigned id, const st_profile *p)
{
    if (id == 0 || id >= n || id >= 32) return;
    group_acc *a = &acc[id];
    a->persons++;
    a->revenue += p->monetary;
    if (p->frequency > 0) {
        a->buyers++;
        a->recency_sum += p->recency_days;
        a->frequency_sum += p->frequency;
    }
    if (isfinite(p->value_score)) {
        if (p->value_score < a->min_score) a->min_score = p->value_score;
        if (p->value_score > a->max_score) a->max_score = p->value_score;
    }
}

static void sum_profiles(const st_profiles *ps, profile_sums *s)
{
    memset(s, 0, sizeof *s);
    s->t.persons = ps->n;
    for (int g = 0; g < NGROUPS; g++)
        for (int i = 0; i < 32; i++)
            s->groups[g][i].min_score = INFINITY, s->groups[g][i].max_score = -INFINITY;
    const unsigned ntier = st_vocab_size(ST_VOCAB_TIER), nseg = st_vocab_size(ST_VOCAB_SEGMENT),
                   nclass = st_vocab_size(ST_VOCAB_CLASS8);
    const unsigned ndist[NDISTS] = {
        st_vocab_size(ST_VOCAB_LIFECYCLE), st_vocab_size(ST_VOCAB_BEHAVIOR),
        st_vocab_size(ST_VOCAB_INTERACTION), st_vocab_size(ST_VOCAB_CORE)};
    for (size_t i = 0; i < ps->n; i++) {
        const st_profile *p = &ps->rows[i];
        s->t.buyers += p->frequency > 0;
        s->t.orders += (uint64_t)p->frequency;
        s->t.revenue += p->monetary;
        add_to_group(s->groups[GROUP_TIER], ntier, p->tier, p);
        add_to_group(s->groups[GROUP_SEGMENT], nseg, p->rfm_segment, p);
        add_to_group(s->groups[GROUP_CLASS8], nclass, p->rfm_class8, p);
        const unsigned ids[NDISTS] = {p->lifecycle, p->behavior_type, p->interaction_level,
                                      p->core_level};
        for (int d = 0; d < NDISTS; d++)
            if (ids[d] < ndist[d] && ids[d] < 32) s->dist[d][ids[d]]++;
        if (p->r_score) {
            s->heat_persons[p->r_score][p->f_score]++;
            s->heat_spend[p->r_score][p->f_score] += money(p->monetary);
        }
    }
}

static cJSON *group_table(const group_acc *acc, st_vocab vocab, const char *key_name,
                          const totals *t, bool scores)
{
    unsigned n = st_vocab_size(vocab);
    cJSON *arr = cJSON_CreateArray();
    for (unsigned id = 1; arr && id < n && id < 32; id++) {
        const group_acc *a = &acc[id];
        if (a->persons == 0 && !scores) continue;
        cJSON *row = cJSON_CreateObject();
        if (!row) break;
        cJSON_AddStringToObject(row, key_name, st_vocab_key(vocab, id));
        cJSON_AddNumberToObject(row, "persons", (double)a->persons);
        cJSON_AddNumberToObject(row, "person_share",
                                r6(share((double)a->persons, (double)t->persons)));
        cJSON_AddNumberToObject(row, "revenue", money(a->revenue));
        cJSON_AddNumberToObject(row, "revenue_share",
                                r6(share((double)a->revenue, (double)t->revenue)));
        if (scores) {
            cJSON_AddNumberToObject(row, "person_share_of_buyers",
                                    r6(share((double)a->persons, (double)t->buyers)));
            if (a->persons) {
                cJSON_AddNumberToObject(row, "min_value_score", a->min_score);
                cJSON_AddNumberToObject(row, "max_value_score", a->max_score);
            }
        } else if (a->buyers) {
            cJSON_AddNumberToObject(row, "avg_recency_days", r6(a->recency_sum / a->buyers));
            cJSON_AddNumberToObject(row, "avg_frequency", r6(a->frequency_sum / a->buyers));
            cJSON_AddNumberToObject(row, "avg_monetary", r6(money(a->revenue) / a->buyers));
        }
        cJSON_AddItemToArray(arr, row);
    }
    return arr;
}

static cJSON *distribution(const uint64_t count[32], st_vocab vocab)
{
    unsigned n = st_vocab_size(vocab);
    cJSON *arr = cJSON_CreateArray();
    for (unsigned id = 1; arr && id < n && id < 32; id++) {
        cJSON *row = cJSON_CreateObject();
        if (!row) break;
        cJSON_AddStringToObject(row, "key", st_vocab_key(vocab, id));
        cJSON_AddNumberToObject(row, "persons", (double)count[id]);
        cJSON_AddItemToArray(arr, row);
    }
    return arr;
}

static cJSON *heatmap(const profile_sums *s)
{
    cJSON *hm = cJSON_CreateObject();
    cJSON *cells = cJSON_AddArrayToObject(hm, "cells");
    for (int r = 1; cells && r <= 5; r++)
        for (int f = 1; f <= 5; f++) {
            cJSON *c = cJSON_CreateObject();
            if (!c) return hm;
            uint64_t persons = s->heat_persons[r][f];
            cJSON_AddNumberToObject(c, "r", r);
            cJSON_AddNumberToObject(c, "f", f);
            cJSON_AddNumberToObject(c, "persons", (double)persons);
            cJSON_AddNumberToObject(c, "avg_monetary",
                                    persons ? r6(s->heat_spend[r][f] / persons) : 0);
            cJSON_AddItemToArray(cells, c);
        }
    return hm;
}

/* Revenue concentration among buyers: share of revenue of the top k% by monetary. */
static cJSON *pareto(const st_profiles *ps)
{
    uint64_t *keys = st_malloc((ps->n + 1) * sizeof *keys); /* room for all: one pass */
    cJSON *out = cJSON_CreateObject();
    if (!keys || !out) {
        st_free(keys);
        return out;
    }
    size_t n = 0;
    for (size_t i = 0; i < ps->n; i++)
        if (ps->rows[i].frequency > 0) keys[n++] = (uint64_t)ps->rows[i].monetary;
    /* monetary is never negative: sorted as it is, ascending and keys only (the passes are the
     * few low bytes in use), then summed from the top */
    int64_t *cum = st_malloc((n + 1) * sizeof *cum);
    if (!cum || st_radix_sort_pairs(keys, NULL, n) != STRATA_OK) {
        st_free(keys), st_free(cum);
        return out;
    }
    cum[0] = 0; /* cum[i]: revenue of the i largest */
    for (size_t i = 0; i < n; i++)
        cum[i + 1] = cum[i] + (int64_t)keys[n - 1 - i];
    st_free(keys);
    double total = (double)cum[n];
    cJSON *tops = cJSON_AddArrayToObject(out, "top_shares");
    static const double top[] = {0.01, 0.05, 0.10, 0.20};
    for (size_t i = 0; tops && i < ST_ARRAY_LEN(top); i++) {
        size_t k = (size_t)ceil(top[i] * (double)n - 1e-9);
        cJSON *row = cJSON_CreateObject();
        if (!row) break;
        cJSON_AddNumberToObject(row, "top", top[i]);
        cJSON_AddNumberToObject(row, "persons", (double)k);
        cJSON_AddNumberToObject(row, "revenue_share", r6(share((double)cum[k], total)));
        cJSON_AddItemToArray(tops, row);
    }
    cJSON *curve = cJSON_AddArrayToObject(out, "curve");
    for (int i = 0; curve && i <= 100; i++) {
        size_t k = (size_t)llround((double)i / 100.0 * (double)n);
        double pt[2] = {i / 100.0, r6(share((double)cum[k], total))};
        cJSON_AddItemToArray(curve, cJSON_CreateDoubleArray(pt, 2));
    }
    st_free(cum);
    return out;
}

static cJSON *file_quality(const st_quality *q, st_input_kind kind)
{
    cJSON *f = cJSON_CreateObject();
    if (!f) return NULL;
    cJSON_AddStringToObject(f, "kind", st_input_name(kind));
    cJSON_AddStringToObject(f, "path", q->path ? q->path : "");
    cJSON_AddNumberToObject(f, "rows_read", (double)q->rows_read);
    cJSON_AddNumberToObject(f, "rows_loaded", (double)q->rows_loaded);
    uint64_t by_kind[4] = {0};
    cJSON *reasons = cJSON_CreateObject(), *repairs = cJSON_CreateObject();
    for (int r = 0; r < ST_REASON__COUNT; r++) {
        if (!q->reasons[r]) continue;
        st_reason_kind k = st_reason_kind_of((st_reason)r);
        by_kind[k] += q->reasons[r];
        cJSON_AddNumberToObject(k == ST_KIND_REPAIR ? repairs : reasons,
                                st_reason_key((st_reason)r), (double)q->reasons[r]);
    }
    cJSON_AddNumberToObject(f, "rejected", (double)by_kind[ST_KIND_REJECT]);
    cJSON_AddNumberToObject(f, "duplicates", (double)by_kind[ST_KIND_DUPLICATE]);
    cJSON_AddNumberToObject(f, "excluded_after_as_of", (double)by_kind[ST_KIND_EXCLUDED]);
    cJSON_AddNumberToObject(f, "repaired", (double)by_kind[ST_KIND_REPAIR]);
    cJSON_AddNumberToObject(f, "blank_lines", (double)q->blank_lines);
    cJSON_AddItemToObject(f, "reasons", reasons);
    cJSON_AddItemToObject(f, "repairs", repairs);
    return f;
}

cJSON *st_job_quality(const strata_job *job)
{
    cJSON *q = cJSON_CreateObject();
    if (!q) return NULL;
    cJSON *files = cJSON_AddArrayToObject(q, "files");
    uint64_t excluded = 0, rejected = 0;
    for (int k = 0; k < ST_IN__COUNT; k++) {
        const st_quality *fq = &job->ds.quality[k];
        if (!fq->present) continue;
        cJSON_AddItemToArray(files, file_quality(fq, (st_input_kind)k));
        excluded += fq->reasons[ST_REASON_AFTER_AS_OF];
        for (int r = 0; r < ST_REASON__COUNT; r++)
            if (st_reason_kind_of((st_reason)r) == ST_KIND_REJECT) rejected += fq->reasons[r];
    }
    const st_outlier_report *o = &job->outliers;
    cJSON *out = cJSON_AddObjectToObject(q, "outliers");
    static const char *const policies[] = {"keep", "cap", "reject"};
    cJSON_AddStringToObject(out, "policy", policies[o->policy]);
    cJSON_AddNumberToObject(out, "percentile", o->percentile);
    cJSON_AddNumberToObject(out, "threshold", money(o->threshold));
    if (o->reject_above) cJSON_AddNumberToObject(out, "reject_above", money(o->reject_above));
    cJSON_AddNumberToObject(out, "rows_above", (double)o->rows_above);
    cJSON_AddNumberToObject(out, "rows_changed", (double)o->rows_changed);
    cJSON_AddNumberToObject(out, "positive_rows", (double)o->positive_rows);
    /* shares of the sum of positive row amounts */
    cJSON_AddNumberToObject(out, "above_share",
                            r6(share((double)o->above_sum, (double)o->positive_sum)));
    cJSON_AddNumberToObject(out, "rows_at_or_above", (double)o->rows_at_or_above);
    cJSON_AddNumberToObject(out, "at_or_above_share",
                            r6(share((double)o->at_or_above_sum, (double)o->positive_sum)));
    static const char *const tops[] = {"none", "above", "at_or_above"};
    cJSON_AddStringToObject(out, "top", tops[o->top]);
    cJSON_AddBoolToObject(out, "top_warning", o->top_warning);
    const st_identity *id = &job->identity;
    cJSON *ident = cJSON_AddObjectToObject(q, "identity");
    cJSON_AddNumberToObject(ident, "links", (double)id->links);
    cJSON_AddNumberToObject(ident, "ids", (double)id->ids);
    cJSON_AddNumberToObject(ident, "persons", (double)id->npersons);
    cJSON_AddNumberToObject(ident, "merged_ids", (double)id->merged_ids);
    cJSON_AddNumberToObject(ident, "merged_persons", (double)id->merged_persons);
    cJSON_AddNumberToObject(ident, "overshared_identifiers", (double)id->novershared);
    cJSON *examples = cJSON_AddArrayToObject(ident, "overshared_examples");
    for (size_t i = 0; examples && i < id->novershared && i < 10; i++) {
        cJSON *e = cJSON_CreateObject();
        st_sv s = st_intern_str(&job->ds.identifiers, id->overshared[i].ident);
        /* the type prefix is enough to act on; the value may be personal data */
        const char *colon = memchr(s.ptr, ':', s.len);
        size_t type_len = colon ? (size_t)(colon - s.ptr) : 0;
        char type[64];
        snprintf(type, sizeof type, "%.*s", (int)ST_MIN(type_len, 63), s.ptr);
        cJSON_AddStringToObject(e, "type", type_len ? type : "hashed");
        cJSON_AddNumberToObject(e, "ids", id->overshared[i].ids);
        cJSON_AddItemToArray(examples, e);
    }
    cJSON_AddNumberToObject(q, "excluded_after_as_of", (double)excluded);
    cJSON_AddNumberToObject(q, "rejected", (double)rejected);
    return q;
}

/* LTV / CAC per acquisition channel, over persons whose users row gives a CAC. LTV is the
 * historical net revenue (monetary) and, when the CLV model ran, the expected revenue of the
 * next months (clv) added to it. */
static cJSON *ltv_cac(const strata_job *job)
{
    const st_profiles *ps = &job->profiles;
    if (!job->attrs) return NULL;
    size_t nch = st_dict_count(&job->ds.channels);
    if (nch == 0) return NULL;
    typedef struct acc {
        uint64_t persons, buyers;
        double cac, monetary, clv;
        uint64_t with_clv;
    } acc;
    acc *a = st_calloc(nch + 1, sizeof *a);
    if (!a) return NULL;
    bool any = false;
    for (size_t p = 0; p < ps->n; p++) {
        const st_user_attrs *u = &job->attrs[p];
        if (u->cac < 0 || u->acq_channel >= nch) continue;
        acc *c = &a[u->acq_channel];
        const st_profile *r = &ps->rows[p];
        c->persons++;
        c->buyers += r->frequency > 0;
        c->cac += money(u->cac);
        c->monetary += money(r->monetary);
        if (isfinite(r->clv)) c->clv += r->clv, c->with_clv++;
        any = true;
    }
    cJSON *arr = any ? cJSON_CreateArray() : NULL;
    for (size_t ch = 0; arr && ch < nch; ch++) {
        const acc *c = &a[ch];
        if (!c->persons) continue;
        cJSON *row = cJSON_CreateObject();
        if (!row) break;
        st_sv name = st_dict_name(&job->ds.channels, (uint16_t)ch);
        char buf[128];
        snprintf(buf, sizeof buf, "%.*s", (int)ST_MIN(name.len, 127),
                 name.len ? name.ptr : "(none)");
        cJSON_AddStringToObject(row, "channel", name.len ? buf : "(none)");
        cJSON_AddNumberToObject(row, "persons", (double)c->persons);
        cJSON_AddNumberToObject(row, "buyers", (double)c->buyers);
        double cac = c->cac / (double)c->persons, ltv = c->monetary / (double)c->persons;
        cJSON_AddNumberToObject(row, "cac", r6(cac));
        cJSON_AddNumberToObject(row, "ltv_to_date", r6(ltv));
        cJSON_AddNumberToObject(row, "ltv_cac", cac > 0 ? r6(ltv / cac) : 0);
        if (c->with_clv) {
            double future = c->clv / (double)c->persons;
            cJSON_AddNumberToObject(row, "ltv_with_clv", r6(ltv + future));
            cJSON_AddNumberToObject(row, "ltv_with_clv_cac",
                                    cac > 0 ? r6((ltv + future) / cac) : 0);
        }
        cJSON_AddItemToArray(arr, row);
    }
    st_free(a);
    return arr;
}

/* The profile sums, computed on first use after the run and kept with the job. */
static const profile_sums *job_sums(strata_job *job)
{
    if (!job->sums && job->ran && (job->sums = st_malloc(sizeof *job->sums)) != NULL)
        sum_profiles(&job->profiles, job->sums);
    return job->sums;
}

static cJSON *build_summary(strata_job *job)
{
    const st_profiles *ps = &job->profiles;
    const profile_sums *sums = job_sums(job);
    cJSON *s = sums ? cJSON_CreateObject() : NULL;
    if (!s) return NULL;
    const totals t = sums->t;
    char day[11], when[32];
    strata_day_format(job->as_of_day, day);
    time_t now = (time_t)job->started_at;
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    const char *lang = strata_config_get(job->ctx, "lang");
    cJSON_AddStringToObject(s, "strata_version", STRATA_VERSION);
    cJSON_AddStringToObject(s, "as_of", day);
    cJSON_AddStringToObject(s, "generated_at", when);
    cJSON_AddStringToObject(s, "currency", strata_config_get(job->ctx, "currency"));
    cJSON_AddStringToObject(s, "lang", lang);
    cJSON *inputs = cJSON_AddArrayToObject(s, "inputs");
    for (int k = 0; k < ST_IN__COUNT; k++) {
        const st_quality *q = &job->ds.quality[k];
        if (!q->present) continue;
        cJSON *in = cJSON_CreateObject();
        char sum[33];
        hex16(q->checksum, sum);
        cJSON_AddStringToObject(in, "kind", st_input_name((st_input_kind)k));
        cJSON_AddStringToObject(in, "path", q->path);
        cJSON_AddNumberToObject(in, "bytes", (double)q->file_bytes);
        cJSON_AddStringToObject(in, "xxh128", sum);
        cJSON_AddNumberToObject(in, "rows", (double)q->rows_read);
        cJSON_AddItemToArray(inputs, in);
    }
    cJSON *counts = cJSON_AddObjectToObject(s, "counts");
    cJSON_AddNumberToObject(counts, "persons", (double)t.persons);
    cJSON_AddNumberToObject(counts, "buyers", (double)t.buyers);
    cJSON_AddNumberToObject(counts, "prospects", (double)(t.persons - t.buyers));
    cJSON_AddNumberToObject(counts, "orders", (double)t.orders);
    cJSON_AddNumberToObject(counts, "order_rows", (double)job->order_groups.n);
    cJSON_AddNumberToObject(counts, "revenue", money(t.revenue));
    cJSON_AddNumberToObject(counts, "events", (double)job->event_groups.n);
    cJSON *means = cJSON_AddObjectToObject(s, "rfm_means");
    cJSON_AddNumberToObject(means, "recency_days", r6(job->means.recency_days));
    cJSON_AddNumberToObject(means, "frequency", r6(job->means.frequency));
    cJSON_AddNumberToObject(means, "monetary", r6(job->means.monetary));
    cJSON_AddItemToObject(s, "tiers",
                          group_table(sums->groups[GROUP_TIER], ST_VOCAB_TIER, "tier", &t, true));
    cJSON_AddItemToObject(
        s, "segments",
        group_table(sums->groups[GROUP_SEGMENT], ST_VOCAB_SEGMENT, "segment", &t, false));
    cJSON_AddItemToObject(
        s, "class8", group_table(sums->groups[GROUP_CLASS8], ST_VOCAB_CLASS8, "class", &t, false));
    cJSON_AddItemToObject(s, "rfm_heatmap", heatmap(sums));
    cJSON_AddItemToObject(s, "pareto", pareto(ps));
    cJSON *dist = cJSON_AddObjectToObject(s, "distributions");
    cJSON_AddItemToObject(dist, "lifecycle",
                          distribution(sums->dist[DIST_LIFECYCLE], ST_VOCAB_LIFECYCLE));
    cJSON_AddItemToObject(dist, "behavior_type",
                          distribution(sums->dist[DIST_BEHAVIOR], ST_VOCAB_BEHAVIOR));
    cJSON_AddItemToObject(dist, "interaction_level",
                          distribution(sums->dist[DIST_INTERACTION], ST_VOCAB_INTERACTION));
    cJSON_AddItemToObject(dist, "core_level", distribution(sums->dist[DIST_CORE], ST_VOCAB_CORE));
    cJSON *channels = ltv_cac(job);
    if (channels) cJSON_AddItemToObject(s, "ltv_cac", channels);
    if (job->clv_section) cJSON_AddItemToObject(s, "clv", cJSON_Duplicate(job->clv_section, true));
    if (job->churn_section)
        cJSON_AddItemToObject(s, "churn", cJSON_Duplicate(job->churn_section, true));
    if (job->cluster_section)
        cJSON_AddItemToObject(s, "clusters", cJSON_Duplicate(job->cluster_section, true));
    cJSON_AddItemToObject(s, "quality", st_job_quality(job));
    cJSON *timing = cJSON_AddObjectToObject(s, "seconds");
    static const char *const stages[] = {"load", "identity", "clean", "profile", "score", "models"};
    for (int i = 0; i < 6; i++)
        cJSON_AddNumberToObject(timing, stages[i], round(job->seconds[i] * 1000) / 1000);
    return s;
}

const cJSON *st_job_summary(strata_job *job)
{
    /* built once: several outputs (summary.json, --json, the report, the store) read it */
    if (!job->summary && job->ran) job->summary = build_summary(job);
    return job->summary;
}

strata_status st_write_text(strata_ctx *ctx, const char *text, const char *path)
{
    FILE *f = st_fopen_new(path);
    if (!f) return st_error(ctx, STRATA_EIO, "%s: cannot write: %s", path, strerror(errno));
    strata_status st = STRATA_OK;
    size_t n = strlen(text);
    if (fwrite(text, 1, n, f) != n || fputc('\n', f) == EOF) st = STRATA_EIO;
    if (st_fclose_new(f, path, st == STRATA_OK) != 0) st = STRATA_EIO;
    return st == STRATA_OK ? st : st_error(ctx, st, "%s: write failed: %s", path, strerror(errno));
}

strata_status st_write_json(strata_ctx *ctx, const cJSON *tree, const char *path)
{
    char *text = tree ? cJSON_Print(tree) : NULL;
    if (!text) return STRATA_ENOMEM;
    strata_status st = st_write_text(ctx, text, path);
    cJSON_free(text);
    return st;
}

cJSON *st_json_wrap(const char *name, cJSON *section)
{
    cJSON *root = section ? cJSON_CreateObject() : NULL;
    if (root && !cJSON_AddItemToObject(root, name, section)) {
        cJSON_Delete(root);
        root = NULL;
    }
    if (!root) cJSON_Delete(section);
    return root;
}

char *st_json_text(const cJSON *tree)
{
    char *text = tree ? cJSON_PrintUnformatted(tree) : NULL;
    char *copy = text ? st_strndup(text, strlen(text)) : NULL;
    cJSON_free(text);
    return copy;
}

strata_status strata_job_write_summary(strata_job *job, const char *path)
{
    return st_write_json(job->ctx, st_job_summary(job), path);
}

strata_status strata_job_write_quality(strata_job *job, const char *path)
{
    cJSON *q = st_job_quality(job);
    strata_status st = st_write_json(job->ctx, q, path);
    cJSON_Delete(q);
    return st;
}

strata_status strata_job_section_json(strata_job *job, const char *name, char **out_json)
{
    *out_json = NULL;
    const cJSON *s = st_job_summary(job);
    if (!s) return STRATA_ENOMEM;
    const cJSON *section = cJSON_GetObjectItemCaseSensitive(s, name);
    if (!section)
        return st_error(job->ctx, STRATA_ENOTFOUND, "the summary has no section '%s'", name);
    char *text = cJSON_PrintUnformatted(section);
    if (!text) return STRATA_ENOMEM;
    *out_json = st_strdup(text);
    cJSON_free(text);
    return *out_json ? STRATA_OK : STRATA_ENOMEM;
}

strata_status strata_job_summary_json(strata_job *job, char **out_json)
{
    *out_json = NULL;
    const cJSON *s = st_job_summary(job);
    char *text = s ? cJSON_PrintUnformatted(s) : NULL;
    if (!text) return STRATA_ENOMEM;
    *out_json = st_strdup(text);
    cJSON_free(text);
    return *out_json ? STRATA_OK : STRATA_ENOMEM;
}

/* ---- the human summary ---- */

/* East Asian wide and full-width code points (CJK, Hangul, full-width forms): two terminal
 * columns each. */
static bool is_wide(uint32_t c)
{
    return (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
           (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
           (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
           (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x20000 && c <= 0x3fffd);
}

/* Terminal columns of UTF-8 text. By hand because printf pads by bytes and wcwidth()
 * depends on the locale the user runs under. */
static int display_width(const char *s)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int n = *p < 0x80 ? 1 : *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;
        uint32_t c = n == 1 ? *p : *p & (0x7fu >> n); /* the lead byte's payload bits */
        for (int i = 1; i < n && (p[i] & 0xc0) == 0x80; i++)
            c = c << 6 | (p[i] & 0x3f);
        for (int i = 0; i < n && *p; i++) /* never past the terminator of a cut sequence */
            p++;
        w += is_wide(c) ? 2 : 1;
    }
    return w;
}

/* text padded with blanks to `width` terminal columns, after it (left-aligned) or before. */
static void put_padded(st_buf *b, const char *text, int width, bool right)
{
    int pad = width - display_width(text);
    if (right)
        for (int i = 0; i < pad; i++)
            st_buf_putc(b, ' ');
    st_buf_puts(b, text);
    if (!right)
        for (int i = 0; i < pad; i++)
            st_buf_putc(b, ' ');
}

static void fmt_money(char *buf, size_t n, double v)
{
    /* thousands separators for people: 8,300,065.51 */
    char raw[48];
    snprintf(raw, sizeof raw, "%.2f", v);
    char *dot = strchr(raw, '.');
    if (!isfinite(v) || !dot) { /* nan, inf, or too large for raw: as printed */
        snprintf(buf, n, "%s", isfinite(v) ? raw : "-");
        return;
    }
    size_t int_len = (size_t)(dot - raw), o = 0;
    size_t start = raw[0] == '-' ? 1 : 0;
    if (start && o + 1 < n) buf[o++] = '-';
    for (size_t i = start; i < int_len && o + 2 < n; i++) {
        buf[o++] = raw[i];
        size_t left = int_len - i - 1;
        if (left && left % 3 == 0) buf[o++] = ',';
    }
    for (const char *p = dot; *p && o + 1 < n; p++)
        buf[o++] = *p;
    buf[o] = '\0';
}

static double json_num(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* One line per model that ran (or why it was skipped), from its summary section. */
static void models_text(st_buf *b, const strata_job *job, bool zh)
{
    const cJSON *clv = job->clv_section, *churn = job->churn_section, *cl = job->cluster_section;
    if (!clv && !churn && !cl) return;
    st_buf_printf(b, "\n%s\n", zh ? "模型:" : "Models:");
    const char *name[3] = {zh ? "生命周期价值" : "CLV", zh ? "流失" : "churn",
                           zh ? "聚类" : "clusters"};
    const cJSON *sec[3] = {clv, churn, cl};
    for (int i = 0; i < 3; i++) {
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(sec[i], "skipped");
        if (cJSON_IsString(why))
            st_buf_printf(b, zh ? "  %s:未拟合 — %s\n" : "  %s: skipped — %s\n", name[i],
                          why->valuestring);
    }
    const cJSON *bg = cJSON_GetObjectItemCaseSensitive(clv, "bgnbd");
    if (bg) {
        const cJSON *tot = cJSON_GetObjectItemCaseSensitive(clv, "totals");
        const cJSON *unit = cJSON_GetObjectItemCaseSensitive(clv, "unit");
        st_buf_printf(
            b,
            zh ? "  生命周期价值(BG/NBD,时间单位 %s):r %.4g  alpha %.4g  a %.4g  b "
                 "%.4g;平均存活概率 %.3f"
               : "  CLV (BG/NBD, %s): r %.4g  alpha %.4g  a %.4g  b %.4g; mean P(alive) %.3f",
            cJSON_IsString(unit) ? unit->valuestring : "", json_num(bg, "r"), json_num(bg, "alpha"),
            json_num(bg, "a"), json_num(bg, "b"), json_num(tot, "p_alive_mean"));
        const cJSON *no_spend = cJSON_GetObjectItemCaseSensitive(clv, "gamma_gamma_skipped");
        if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(tot, "clv_sum"))) {
            char sum[48];
            fmt_money(sum, sizeof sum, json_num(tot, "clv_sum"));
            st_buf_printf(b,
                          zh ? ";未来 %.0f 个月 CLV 合计 %s(人均 %.2f)"
                             : "; %.0f-month CLV %s (mean %.2f)",
                          json_num(cJSON_GetObjectItemCaseSensitive(clv, "options"), "months"), sum,
                          json_num(tot, "clv_mean"));
        } else if (cJSON_IsString(no_spend)) {
            st_buf_printf(b, zh ? ";无消费模型,故无 CLV:%s" : "; no spend model, so no CLV: %s",
                          no_spend->valuestring);
        }
        st_buf_printf(b, "\n");
    }
    const cJSON *chosen = cJSON_GetObjectItemCaseSensitive(churn, "chosen");
    if (cJSON_IsString(chosen)) {
        st_buf_printf(b, zh ? "  流失:选用 %s" : "  churn: %s chosen", chosen->valuestring);
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(churn, "models"))
        {
            const cJSON *mn = cJSON_GetObjectItemCaseSensitive(m, "model");
            if (cJSON_IsString(mn))
                st_buf_printf(b, zh ? ",%s 测试 AUC %.3f" : ", %s test AUC %.3f", mn->valuestring,
                              json_num(m, "auc"));
        }
        const cJSON *counts = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(churn, "present"), "counts");
        if (counts) {
            double hi = json_num(counts, "high"), md = json_num(counts, "medium"),
                   lo = json_num(counts, "low");
            st_buf_printf(b,
                          zh ? ";当前高风险 %.0f 人(%.1f%%),中 %.0f,低 %.0f"
                             : "; now high risk %.0f (%.1f%%), medium %.0f, low %.0f",
                          hi, 100 * share(hi, hi + md + lo), md, lo);
        }
        st_buf_printf(b, "\n");
    }
    const cJSON *clusters = cJSON_GetObjectItemCaseSensitive(cl, "clusters");
    if (cJSON_IsArray(clusters)) {
        st_buf_printf(b, zh ? "  聚类:k = %.0f" : "  clusters: k = %.0f", json_num(cl, "k"));
        const cJSON *c;
        cJSON_ArrayForEach(c, clusters)
        {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, zh ? "name_zh" : "name_en");
            double rs = json_num(c, "revenue_share");
            st_buf_printf(b, zh ? ";%s %.1f%% 人数" : "; %s %.1f%% of buyers",
                          cJSON_IsString(nm) ? nm->valuestring : "?", 100 * json_num(c, "share"));
            if (!isnan(rs))
                st_buf_printf(b, zh ? "、%.1f%% 营收" : ", %.1f%% of revenue", 100 * rs);
        }
        st_buf_printf(b, "\n");
    }
}

strata_status strata_job_summary_text(strata_job *job, const char *lang, char **out_text)
{
    *out_text = NULL;
    const profile_sums *sums = job_sums(job);
    if (!sums) return STRATA_ENOMEM;
    const totals t = sums->t;
    const group_acc *tiers = sums->groups[GROUP_TIER], *segments = sums->groups[GROUP_SEGMENT];
    bool zh = st_lang_zh(lang);
    st_buf b;
    st_buf_init(&b, 0);
    char day[11], rev[48];
    strata_day_format(job->as_of_day, day);
    fmt_money(rev, sizeof rev, money(t.revenue));
    const char *cur = strata_config_get(job->ctx, "currency");
    if (!cur) cur = "";
    if (zh)
        st_buf_printf(&b,
                      "strata 用户价值分层 — 截至 %s(不含当天)\n人数 %llu(购买用户 %llu,未下单 "
                      "%llu)  有效订单 %llu  营收 %s%s%s\n\n",
                      day, (unsigned long long)t.persons, (unsigned long long)t.buyers,
                      (unsigned long long)(t.persons - t.buyers), (unsigned long long)t.orders, rev,
                      *cur ? " " : "", cur);
    else
        st_buf_printf(&b,
                      "strata value tiers — as of %s (exclusive)\npersons %llu (buyers %llu, "
                      "prospects %llu)  valid orders %llu  revenue %s%s%s\n\n",
                      day, (unsigned long long)t.persons, (unsigned long long)t.buyers,
                      (unsigned long long)(t.persons - t.buyers), (unsigned long long)t.orders, rev,
                      *cur ? " " : "", cur);
    /* right under the revenue it puts in doubt */
    const st_outlier_report *o = &job->outliers;
    if (o->top_warning) {
        bool above = o->top == ST_TOP_ABOVE;
        uint64_t rows = above ? o->rows_above : o->rows_at_or_above;
        char at[48];
        fmt_money(at, sizeof at, money(o->threshold));
        double rows_pct = 100 * share((double)rows, (double)o->positive_rows);
        double sum_pct = 100 * share((double)(above ? o->above_sum : o->at_or_above_sum),
                                     (double)o->positive_sum);
        st_buf_printf(
            &b,
            zh ? "警告:%llu 行订单(占正金额行的 %.2f%%)金额%s P%.4g = %s,却占正金额合计的 "
                 "%.4g%%,通常是录入错误(如把 10.00 录成 1e9)。请核对,或设置 "
                 "clean.outliers: reject 并给出 clean.reject_above。\n\n"
               : "warning: %llu order rows (%.2f%% of those with a positive amount) %s "
                 "P%.4g = %s carry %.4g%% of their total, usually a sign of typing "
                 "errors (1e9 for 10.00). Check them, or set clean.outliers: reject with "
                 "clean.reject_above.\n\n",
            (unsigned long long)rows, rows_pct,
            zh ? (above ? "高于" : "不低于") : (above ? "above" : "at or above"), o->percentile, at,
            sum_pct);
    }
    /* tier table */
    static const char *const heads[2][5] = {{"tier", "persons", "% buyers", "revenue", "% revenue"},
                                            {"层级", "人数", "占购买%", "营收", "营收%"}};
    static const int widths[5] = {6, 13, 11, 17, 11}; /* the rows' widths, blank included */
    for (int c = 0; c < 5; c++)
        put_padded(&b, heads[zh][c], widths[c], c > 0);
    st_buf_putc(&b, '\n');
    for (int k = ST_TIER_T1; k <= ST_TIER_T5; k++) {
        const group_acc *g = &tiers[k];
        fmt_money(rev, sizeof rev, money(g->revenue));
        st_buf_printf(&b, "%-6s %12llu %9.1f%% %16s %9.1f%%\n",
                      st_vocab_key(ST_VOCAB_TIER, (unsigned)k), (unsigned long long)g->persons,
                      100 * share((double)g->persons, (double)t.buyers), rev,
                      100 * share((double)g->revenue, (double)t.revenue));
    }
    /* top segments by persons */
    st_buf_printf(&b, "\n%s\n", zh ? "主要 RFM 分群:" : "Top RFM segments:");
    bool used[16] = {false};
    for (int rank = 0; rank < 5; rank++) {
        int best = -1;
        for (int s = 1; s < (int)st_vocab_size(ST_VOCAB_SEGMENT) && s < 16; s++)
            if (!used[s] && segments[s].persons &&
                (best < 0 || segments[s].persons > segments[best].persons))
                best = s;
        if (best < 0) break;
        used[best] = true;
        const char *key = st_vocab_key(ST_VOCAB_SEGMENT, (unsigned)best);
        st_buf_printf(&b, "  %-20s ", key);
        put_padded(&b, st_label(key, lang), 24, false);
        st_buf_printf(&b, " %10llu  %5.1f%%\n", (unsigned long long)segments[best].persons,
                      100 * share((double)segments[best].persons, (double)t.persons));
    }
    models_text(&b, job, zh);
    /* data quality */
    st_buf_printf(&b, "\n%s\n", zh ? "数据质量:" : "Data quality:");
    for (int k = 0; k < ST_IN__COUNT; k++) {
        const st_quality *q = &job->ds.quality[k];
        if (!q->present) continue;
        uint64_t by_kind[4] = {0};
        for (int r = 0; r < ST_REASON__COUNT; r++)
            by_kind[st_reason_kind_of((st_reason)r)] += q->reasons[r];
        st_buf_printf(
            &b,
            zh ? "  %-10s 读取 %llu 行,载入 %llu,拒绝 %llu,重复 %llu,晚于截至日 %llu,修复 %llu\n"
               : "  %-10s read %llu rows, loaded %llu, rejected %llu, duplicates %llu, after as-of "
                 "%llu, repaired %llu\n",
            st_input_name((st_input_kind)k), (unsigned long long)q->rows_read,
            (unsigned long long)q->rows_loaded, (unsigned long long)by_kind[ST_KIND_REJECT],
            (unsigned long long)by_kind[ST_KIND_DUPLICATE],
            (unsigned long long)by_kind[ST_KIND_EXCLUDED],
            (unsigned long long)by_kind[ST_KIND_REPAIR]);
        for (int r = 0; r < ST_REASON__COUNT; r++)
            if (q->reasons[r] && st_reason_kind_of((st_reason)r) != ST_KIND_EXCLUDED)
                st_buf_printf(&b, "      %-22s %llu\n", st_reason_key((st_reason)r),
                              (unsigned long long)q->reasons[r]);
    }
    if (job->identity.merged_ids || job->identity.novershared)
        st_buf_printf(&b,
                      zh ? "  身份合并:%llu 个 id 并入他人档案;%zu 个标识符关联过多未合并\n"
                         : "  identity: %llu ids joined into another person; %zu identifiers "
                           "linked to too many ids, not merged\n",
                      (unsigned long long)job->identity.merged_ids, job->identity.novershared);
    if (job->outliers.rows_above)
        st_buf_printf(&b,
                      zh ? "  金额异常值(> P%.4g = %.2f):%llu 行,策略 %s\n"
                         : "  amount outliers (> P%.4g = %.2f): %llu rows, policy %s\n",
                      job->outliers.percentile, money(job->outliers.threshold),
                      (unsigned long long)job->outliers.rows_above,
                      strata_config_get(job->ctx, "clean.outliers"));
    if (b.len == 0 || !b.data) {
        st_buf_clear(&b);
        return STRATA_ENOMEM;
    }
    *out_text = st_buf_take(&b);
    return STRATA_OK;
}
