/*
 * kmeans.c — K-means clusters of persons (see kmeans.h for the contract).
 *
 * Layout: transform (signed log1p + standardization) → k-means++ seeding (greedy, with
 * 2 + ln k candidates per centre, as scikit-learn) → Lloyd iterations with scikit-learn's
 * stopping rule → n_init restarts → k by silhouette on a sample → description, names and
 * order → model file (JSON) and summary → tables for the model commands (st_table: selected
 * columns of a CSV through the ingest reader, used by `strata cluster` and `strata clv`).
 *
 * Determinism: each restart draws from its own splitmix64 stream derived from the seed; the
 * assignment step sums per fixed chunk of rows and adds chunk sums in order, so the result
 * does not depend on the thread count.
 *
 * Model file (JSON, one object; every field required):
 *   field            type                         meaning
 *   format           "strata-kmeans"              what the file is
 *   version          1                            layout version; others are refused
 *   k, d             int, 1..64 / 1..32           clusters, features
 *   features         [d] strings, 1..63 bytes     feature names, in column order
 *   transform        "log1p" | "none"             applied before standardization
 *   mean, sd         [d] numbers (sd > 0)         standardization of transformed features
 *   centroids        [k][d] numbers               centres in standardized space
 *   revenue_feature  int, -1..d-1                 column of the revenue share (-1 none)
 *   clusters         [k] {name_en, name_zh:       description made at fit time
 *                    string < 128 bytes, size:
 *                    int >= 0, share, revenue_share:
 *                    number | null, mean: [d]}
 * Numbers must be finite. The whole file is at most ST_KMEANS_FILE_MAX bytes.
 */
#include "models/kmeans.h"

#include "core/core.h"
#include "core/timefmt.h"
#include "ingest/reader.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define CHUNK 8192
#define MODEL_FORMAT "strata-kmeans"
#define MODEL_VERSION 1
#define NAME_THRESHOLD 0.5 /* |standardized centroid| beyond this is "high"/"low" */

void st_kmeans_opts_default(st_kmeans_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->k = 0;
    opts->k_max = 8;
    opts->n_init = 4;
    opts->max_iter = 300;
    opts->tol = 1e-4;
    opts->seed = 1;
    opts->log1p = true;
    opts->sample = 2000;
    opts->select_rows = 20000;
    opts->revenue_feature = -1;
}

void st_kmeans_free(st_kmeans *model)
{
    if (!model) return;
    st_free(model->centroids);
    st_free(model->clusters);
    st_free(model);
}

static st_kmeans *model_alloc(int k, int d)
{
    st_kmeans *m = st_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->k = k, m->d = d;
    m->centroids = st_calloc((size_t)k * (size_t)d, sizeof(double));
    m->clusters = st_calloc((size_t)k, sizeof(st_kmeans_cluster));
    if (!m->centroids || !m->clusters) {
        st_kmeans_free(m);
        return NULL;
    }
    for (int j = 0; j <= ST_KMEANS_MAX_K; j++)
        m->silhouette[j] = NAN;
    m->revenue_feature = -1;
    return m;
}

/* ---- random numbers: splitmix64, one stream per restart ---- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *state)
{
    return (double)(splitmix64(state) >> 11) * 0x1.0p-53;
}

static size_t uniform_index(uint64_t *state, size_t n)
{
    return (size_t)(uniform01(state) * (double)n) % n;
}

/* ---- deterministic parallel work over fixed chunks (core's st_parallel_for) ---- */

typedef void (*chunk_fn)(void *arg, size_t chunk);
typedef struct chunk_job {
    chunk_fn fn;
    void *arg;
} chunk_job;

static strata_status run_chunk_range(void *p, size_t begin, size_t end, unsigned thread)
{
    (void)thread;
    chunk_job *job = p;
    for (size_t c = begin; c < end; c++)
        job->fn(job->arg, c);
    return STRATA_OK;
}

static void parallel_chunks(unsigned threads, size_t nchunks, chunk_fn fn, void *arg)
{
    chunk_job job = {fn, arg};
    (void)st_parallel_for(threads, nchunks, run_chunk_range, &job);
}

/* ---- transform ---- */

static double signed_log1p(double v)
{
    return v < 0 ? -log1p(-v) : log1p(v);
}

/* Transform raw rows into standardized space with the model's mean/sd. */
static void transform_rows(const st_kmeans *m, const double *rows, size_t n, double *out)
{
    const int d = m->d;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            double v = rows[i * (size_t)d + (size_t)j];
            if (m->log1p) v = signed_log1p(v);
            out[i * (size_t)d + (size_t)j] = (v - m->mean[j]) / m->sd[j];
        }
}

static strata_status check_finite(strata_ctx *ctx, const double *rows, size_t n, int d)
{
    for (size_t i = 0; i < n * (size_t)d; i++)
        if (!isfinite(rows[i]))
            return st_error(ctx, STRATA_EINVAL, "kmeans: row %zu, column %zu is not a number",
                            i / (size_t)d + 1, i % (size_t)d + 1);
    return STRATA_OK;
}

static inline double dist2(const double *a, const double *b, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++) {
        double t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

/* ---- Lloyd ---- */

typedef struct lloyd {
    const double *points; /* n x d */
    size_t n;
    int d, k;
    const double *centers; /* k x d */
    uint32_t *labels;
    double *d2;      /* per row: squared distance to its centre */
    double *partial; /* per chunk: k*d sums, k counts, inertia, changed */
    size_t nchunks;
    unsigned threads;
} lloyd;

static size_t partial_stride(int k, int d)
{
    return (size_t)k * (size_t)d + (size_t)k + 2;
}

static void assign_chunk(void *arg, size_t chunk)
{
    lloyd *L = arg;
    const int d = L->d, k = L->k;
    size_t lo = chunk * CHUNK, hi = ST_MIN(L->n, lo + CHUNK);
    double *sums = L->partial + chunk * partial_stride(k, d);
    double *counts = sums + (size_t)k * (size_t)d;
    double inertia = 0, changed = 0;
    memset(sums, 0, partial_stride(k, d) * sizeof(double));
    for (size_t i = lo; i < hi; i++) {
        const double *p = L->points + i * (size_t)d;
        uint32_t best = 0;
        double best_d = dist2(p, L->centers, d);
        for (int c = 1; c < k; c++) {
            double dc = dist2(p, L->centers + (size_t)c * (size_t)d, d);
            if (dc < best_d) best_d = dc, best = (uint32_t)c;
        }
        if (L->labels[i] != best) changed++;
        L->labels[i] = best;
        L->d2[i] = best_d;
        inertia += best_d;
        counts[best] += 1;
        for (int j = 0; j < d; j++)
            sums[(size_t)best * (size_t)d + (size_t)j] += p[j];
    }
    counts[k] = inertia;
    counts[k + 1] = changed;
}

/* One assignment pass; sums/counts reduced in chunk order into acc (k*d + k + 2). */
static void assign_all(lloyd *L, double *acc)
{
    size_t stride = partial_stride(L->k, L->d);
    parallel_chunks(L->threads, L->nchunks, assign_chunk, L);
    memset(acc, 0, stride * sizeof(double));
    for (size_t c = 0; c < L->nchunks; c++)
        for (size_t j = 0; j < stride; j++)
            acc[j] += L->partial[c * stride + j];
}

/* Greedy k-means++: each new centre is the best of 2 + ln k candidates drawn with
 * probability proportional to the squared distance to the nearest chosen centre. */
static void seed_plus_plus(const double *pts, size_t n, int d, int k, uint64_t *rng,
                           double *centers, double *closest)
{
    const int trials = 2 + (int)log((double)k);
    size_t first = uniform_index(rng, n);
    memcpy(centers, pts + first * (size_t)d, (size_t)d * sizeof(double));
    double pot = 0;
    for (size_t i = 0; i < n; i++)
        pot += closest[i] = dist2(pts + i * (size_t)d, centers, d);
    for (int c = 1; c < k; c++) {
        size_t best_idx = 0;
        double best_pot = INFINITY;
        for (int t = 0; t < trials; t++) {
            size_t idx;
            if (pot > 0) {
                /* walk the cumulative sum to the drawn mass (O(n), no extra array) */
                double target = uniform01(rng) * pot, acc = 0;
                idx = n - 1;
                for (size_t i = 0; i < n; i++) {
                    acc += closest[i];
                    if (acc > target) {
                        idx = i;
                        break;
                    }
                }
            } else {
                idx = uniform_index(rng, n); /* every point sits on a centre already */
            }
            const double *cand = pts + idx * (size_t)d;
            double cand_pot = 0;
            for (size_t i = 0; i < n; i++) {
                double dd = dist2(pts + i * (size_t)d, cand, d);
                cand_pot += dd < closest[i] ? dd : closest[i];
            }
            if (cand_pot < best_pot) best_pot = cand_pot, best_idx = idx;
        }
        const double *chosen = pts + best_idx * (size_t)d;
        memcpy(centers + (size_t)c * (size_t)d, chosen, (size_t)d * sizeof(double));
        pot = 0;
        for (size_t i = 0; i < n; i++) {
            double dd = dist2(pts + i * (size_t)d, chosen, d);
            if (dd < closest[i]) closest[i] = dd;
            pot += closest[i];
        }
    }
}

typedef struct core_result {
    double inertia;
    int iterations;
} core_result;

/* n_init restarts of seeding + Lloyd on standardized points; the best centres go to
 * best_centers (k x d) and the labels to best_labels (n). */
static strata_status kmeans_core(const double *pts, size_t n, int d, int k, int n_init,
                                 int max_iter, double tol_abs, uint64_t seed, unsigned threads,
                                 double *best_centers, uint32_t *best_labels, core_result *res)
{
    strata_status st = STRATA_ENOMEM;
    size_t stride = partial_stride(k, d);
    lloyd L = {pts, n, d, k, NULL, NULL, NULL, NULL, (n + CHUNK - 1) / CHUNK, threads};
    double *centers = st_malloc((size_t)k * (size_t)d * sizeof(double));
    double *next = st_malloc((size_t)k * (size_t)d * sizeof(double));
    double *acc = st_malloc(stride * sizeof(double));
    L.labels = st_malloc(n * sizeof(uint32_t));
    L.d2 = st_malloc(n * sizeof(double));
    L.partial = st_malloc(L.nchunks * stride * sizeof(double));
    double *closest = st_malloc(n * sizeof(double));
    if (!centers || !next || !acc || !L.labels || !L.d2 || !L.partial || !closest) goto done;
    res->inertia = INFINITY;
    for (int r = 0; r < n_init; r++) {
        uint64_t rng = seed ^ st_hash_mix(0x6b6d65616e73ULL, (uint64_t)r + 1);
        seed_plus_plus(pts, n, d, k, &rng, centers, closest);
        L.centers = centers;
        for (size_t i = 0; i < n; i++)
            L.labels[i] = UINT32_MAX;
        int iter = 0;
        for (;;) {
            assign_all(&L, acc);
            iter++;
            double changed = acc[(size_t)k * (size_t)d + (size_t)k + 1];
            if (changed == 0 || iter > max_iter) break;
            /* update: means of the members; an empty cluster takes the row farthest from its
             * centre (lowest index on ties), which cannot already be a centre */
            const double *counts = acc + (size_t)k * (size_t)d;
            for (int c = 0; c < k; c++) {
                double *dst = next + (size_t)c * (size_t)d;
                if (counts[c] > 0) {
                    for (int j = 0; j < d; j++)
                        dst[j] = acc[(size_t)c * (size_t)d + (size_t)j] / counts[c];
                    continue;
                }
                size_t far = 0;
                for (size_t i = 1; i < n; i++)
                    if (L.d2[i] > L.d2[far]) far = i;
                memcpy(dst, pts + far * (size_t)d, (size_t)d * sizeof(double));
                L.d2[far] = 0;
            }
            double shift = 0;
            for (size_t j = 0; j < (size_t)k * (size_t)d; j++) {
                double t = next[j] - centers[j];
                shift += t * t;
            }
            memcpy(centers, next, (size_t)k * (size_t)d * sizeof(double));
            if (shift <= tol_abs) {
                assign_all(&L, acc); /* labels and inertia that match the final centres */
                break;
            }
        }
        double inertia = acc[(size_t)k * (size_t)d + (size_t)k];
        if (inertia < res->inertia) {
            res->inertia = inertia;
            res->iterations = iter;
            memcpy(best_centers, centers, (size_t)k * (size_t)d * sizeof(double));
            memcpy(best_labels, L.labels, n * sizeof(uint32_t));
        }
    }
    st = STRATA_OK;
done:
    st_free(centers);
    st_free(next);
    st_free(acc);
    st_free(L.labels);
    st_free(L.d2);
    st_free(L.partial);
    st_free(closest);
    return st;
}

/* ---- silhouette ---- */

double st_kmeans_silhouette(const double *points, size_t n, int d, const uint32_t *labels, int k)
{
    if (k < 2 || k > ST_KMEANS_MAX_K || n < 2) return NAN;
    size_t count[ST_KMEANS_MAX_K] = {0};
    int present = 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] >= (uint32_t)k) return NAN;
        present += count[labels[i]]++ == 0;
    }
    if (present < 2) return NAN;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        double sum[ST_KMEANS_MAX_K] = {0};
        const double *p = points + i * (size_t)d;
        for (size_t j = 0; j < n; j++)
            if (j != i) sum[labels[j]] += sqrt(dist2(p, points + j * (size_t)d, d));
        uint32_t own = labels[i];
        if (count[own] <= 1) continue; /* s = 0 */
        double a = sum[own] / (double)(count[own] - 1), b = INFINITY;
        for (int c = 0; c < k; c++)
            if ((uint32_t)c != own && count[c] > 0) b = ST_MIN(b, sum[c] / (double)count[c]);
        double mx = ST_MAX(a, b);
        if (mx > 0) total += (b - a) / mx;
    }
    return total / (double)n;
}

/* ---- description and names ---- */

typedef enum role { ROLE_OTHER, ROLE_RECENCY, ROLE_FREQUENCY, ROLE_MONETARY } role;

static bool name_has(const char *name, const char *word)
{
    return strcasestr(name, word) != NULL;
}

static role role_of(const char *name)
{
    if (name_has(name, "recency") || name_has(name, "days_since")) return ROLE_RECENCY;
    if (name_has(name, "frequency") || name_has(name, "freq") || name_has(name, "orders"))
        return ROLE_FREQUENCY;
    if (name_has(name, "monetary") || name_has(name, "revenue") || name_has(name, "spend") ||
        name_has(name, "amount") || name_has(name, "sales"))
        return ROLE_MONETARY;
    return ROLE_OTHER;
}

/* Append text to a fixed label buffer, truncating. */
static void label_add(char *buf, const char *sep, const char *text)
{
    size_t len = strlen(buf);
    if (len && sep) snprintf(buf + len, ST_KMEANS_LABEL_SIZE - len, "%s", sep);
    len = strlen(buf);
    snprintf(buf + len, ST_KMEANS_LABEL_SIZE - len, "%s", text);
}

/* Name a cluster from the position of its centroid on each feature: e.g. "recent frequent
 * big spenders" / "近期活跃高频高消费客户"; other features add "high views" / "views高". */
static void name_cluster(const st_kmeans *m, int c, char *en, char *zh)
{
    const double *z = m->centroids + (size_t)c * (size_t)m->d;
    const char *rec_en = "", *rec_zh = "", *freq_en = "", *freq_zh = "";
    const char *noun_en = "customers", *noun_zh = "客户";
    bool has_money = false;
    char extra_en[ST_KMEANS_LABEL_SIZE] = "", extra_zh[ST_KMEANS_LABEL_SIZE] = "";
    for (int j = 0; j < m->d; j++) {
        int level = z[j] > NAME_THRESHOLD ? 1 : z[j] < -NAME_THRESHOLD ? -1 : 0;
        switch (role_of(m->features[j])) {
        case ROLE_RECENCY: /* few days since the last order = recent */
            if (level < 0) rec_en = "recent", rec_zh = "近期活跃";
            if (level > 0) rec_en = "lapsed", rec_zh = "久未购买";
            break;
        case ROLE_FREQUENCY:
            if (level > 0) freq_en = "frequent", freq_zh = "高频";
            if (level < 0) freq_en = "occasional", freq_zh = "低频";
            break;
        case ROLE_MONETARY:
            if (has_money) break; /* the first money column names the cluster */
            has_money = true;
            noun_en = level > 0 ? "big spenders" : level < 0 ? "low spenders" : "mid spenders";
            noun_zh = level > 0 ? "高消费客户" : level < 0 ? "低消费客户" : "中等消费客户";
            break;
        case ROLE_OTHER:
            if (level == 0) break;
            {
                char part[ST_KMEANS_LABEL_SIZE];
                snprintf(part, sizeof part, "%s %s", level > 0 ? "high" : "low", m->features[j]);
                label_add(extra_en, ", ", part);
                snprintf(part, sizeof part, "%s%s", m->features[j], level > 0 ? "高" : "低");
                label_add(extra_zh, "、", part);
            }
            break;
        }
    }
    en[0] = zh[0] = '\0';
    if (!*rec_en && !*freq_en && (!has_money || !strcmp(noun_en, "mid spenders"))) {
        label_add(en, NULL, "average customers");
        label_add(zh, NULL, "一般客户");
    } else {
        label_add(en, NULL, rec_en);
        label_add(en, *en ? " " : NULL, freq_en);
        label_add(en, *en ? " " : NULL, noun_en);
        label_add(zh, NULL, rec_zh);
        label_add(zh, NULL, freq_zh);
        label_add(zh, NULL, noun_zh);
    }
    if (*extra_en) {
        label_add(en, " (", extra_en);
        label_add(en, NULL, ")");
        label_add(zh, "（", extra_zh);
        label_add(zh, NULL, "）");
    }
}

static int pick_revenue_feature(const st_kmeans_opts *o, int d, const char *const *names)
{
    if (o->revenue_feature >= 0) return o->revenue_feature < d ? o->revenue_feature : -1;
    for (int j = 0; j < d; j++)
        if (role_of(names[j]) == ROLE_MONETARY) return j;
    return -1;
}

typedef struct order_key {
    int id;
    double key;
} order_key;

static int cmp_order(const void *pa, const void *pb)
{
    const order_key *a = pa, *b = pb;
    if (a->key != b->key) return a->key > b->key ? -1 : 1;
    return a->id - b->id;
}

/* Sizes, raw means, revenue shares; then renumber clusters by decreasing revenue share (or
 * size) and name them. */
static void describe(st_kmeans *m, const double *rows, size_t n, uint32_t *labels)
{
    const int k = m->k, d = m->d, rf = m->revenue_feature;
    double revenue_total = 0;
    for (size_t i = 0; i < n; i++) {
        st_kmeans_cluster *c = &m->clusters[labels[i]];
        c->size++;
        for (int j = 0; j < d; j++)
            c->mean[j] += rows[i * (size_t)d + (size_t)j];
        if (rf >= 0) {
            c->revenue_share += rows[i * (size_t)d + (size_t)rf];
            revenue_total += rows[i * (size_t)d + (size_t)rf];
        }
    }
    for (int c = 0; c < k; c++) {
        st_kmeans_cluster *cl = &m->clusters[c];
        for (int j = 0; j < d; j++)
            cl->mean[j] = cl->size ? cl->mean[j] / (double)cl->size : NAN;
        cl->share = n ? (double)cl->size / (double)n : NAN;
        cl->revenue_share = rf >= 0 && revenue_total > 0 ? cl->revenue_share / revenue_total : NAN;
    }
    order_key order[ST_KMEANS_MAX_K];
    for (int c = 0; c < k; c++)
        order[c] = (order_key){c, rf >= 0 && revenue_total > 0 ? m->clusters[c].revenue_share
                                                               : (double)m->clusters[c].size};
    qsort(order, (size_t)k, sizeof order[0], cmp_order);
    st_kmeans_cluster old_cl[ST_KMEANS_MAX_K];
    double old_ct[ST_KMEANS_MAX_K * ST_KMEANS_MAX_D];
    uint32_t new_id[ST_KMEANS_MAX_K];
    memcpy(old_cl, m->clusters, (size_t)k * sizeof old_cl[0]);
    memcpy(old_ct, m->centroids, (size_t)k * (size_t)d * sizeof(double));
    for (int c = 0; c < k; c++) {
        int from = order[c].id;
        new_id[from] = (uint32_t)c;
        m->clusters[c] = old_cl[from];
        memcpy(m->centroids + (size_t)c * (size_t)d, old_ct + (size_t)from * (size_t)d,
               (size_t)d * sizeof(double));
    }
    for (size_t i = 0; i < n; i++)
        labels[i] = new_id[labels[i]];
    for (int c = 0; c < k; c++)
        name_cluster(m, c, m->clusters[c].name_en, m->clusters[c].name_zh);
    /* Later clusters that share an earlier cluster's name get " (2)", " (3)", ... */
    char base[ST_KMEANS_MAX_K][ST_KMEANS_LABEL_SIZE];
    for (int c = 0; c < k; c++)
        memcpy(base[c], m->clusters[c].name_en, ST_KMEANS_LABEL_SIZE);
    for (int c = 1; c < k; c++) {
        int dup = 1;
        for (int e = 0; e < c; e++)
            dup += !strcmp(base[e], base[c]);
        if (dup == 1) continue;
        char tag[16];
        snprintf(tag, sizeof tag, " (%d)", dup);
        label_add(m->clusters[c].name_en, NULL, tag);
        label_add(m->clusters[c].name_zh, NULL, tag);
    }
}

/* ---- fit ---- */

static strata_status check_opts(strata_ctx *ctx, const st_kmeans_opts *o, int d,
                                const char *const *names)
{
    if (d < 1 || d > ST_KMEANS_MAX_D)
        return st_error(ctx, STRATA_EINVAL, "kmeans: %d features (1 to %d allowed)", d,
                        ST_KMEANS_MAX_D);
    if (o->k < 0 || o->k > ST_KMEANS_MAX_K || o->k == 1)
        return st_error(ctx, STRATA_EINVAL, "kmeans: k must be 0 (choose) or 2 to %d, not %d",
                        ST_KMEANS_MAX_K, o->k);
    if (o->k == 0 && (o->k_max < 2 || o->k_max > ST_KMEANS_MAX_K))
        return st_error(ctx, STRATA_EINVAL, "kmeans: k_max must be 2 to %d, not %d",
                        ST_KMEANS_MAX_K, o->k_max);
    if (o->n_init < 1 || o->n_init > 1000 || o->max_iter < 1 || !(o->tol >= 0) || o->sample < 10 ||
        o->select_rows < 10)
        return st_error(ctx, STRATA_EINVAL,
                        "kmeans: bad options (n_init %d, max_iter %d, tol %g, sample %zu)",
                        o->n_init, o->max_iter, o->tol, o->sample);
    for (int j = 0; j < d; j++) {
        size_t len = names && names[j] ? strlen(names[j]) : 0;
        if (len == 0 || len >= ST_KMEANS_MAX_NAME)
            return st_error(ctx, STRATA_EINVAL, "kmeans: feature %d needs a name of 1 to %d bytes",
                            j + 1, ST_KMEANS_MAX_NAME - 1);
    }
    return STRATA_OK;
}

/* Choose k by the silhouette: fits on a random subset of at most select_rows rows, the
 * score on the first `sample` rows of that subset (itself a random sample). */
static strata_status choose_k(strata_ctx *ctx, st_kmeans *m, const double *z, size_t n,
                              const st_kmeans_opts *o, double tol_abs, unsigned threads, int *k_out)
{
    const int d = m->d;
    size_t s = ST_MIN(n, o->select_rows);
    size_t *idx = st_malloc(n * sizeof(size_t));
    double *sub = st_malloc(s * (size_t)d * sizeof(double));
    uint32_t *labels = st_malloc(s * sizeof(uint32_t));
    double *centers = st_malloc((size_t)ST_KMEANS_MAX_K * (size_t)d * sizeof(double));
    strata_status st = STRATA_ENOMEM;
    if (!idx || !sub || !labels || !centers) goto done;
    uint64_t rng = o->seed ^ 0x73696c686f756574ULL;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 0; i < s; i++) { /* partial Fisher-Yates */
        size_t j = i + uniform_index(&rng, n - i);
        size_t t = idx[i];
        idx[i] = idx[j], idx[j] = t;
    }
    for (size_t i = 0; i < s; i++)
        memcpy(sub + i * (size_t)d, z + idx[i] * (size_t)d, (size_t)d * sizeof(double));
    size_t sample = ST_MIN(s, o->sample);
    int k_hi = (int)ST_MIN((size_t)o->k_max, s - 1);
    double best = -INFINITY;
    int best_k = 2;
    m->k_min_tried = 2, m->k_max_tried = k_hi;
    for (int k = 2; k <= k_hi; k++) {
        core_result r;
        st = kmeans_core(sub, s, d, k, o->n_init, o->max_iter, tol_abs, o->seed, threads, centers,
                         labels, &r);
        if (st != STRATA_OK) goto done;
        double score = st_kmeans_silhouette(sub, sample, d, labels, k);
        m->silhouette[k] = score;
        if (score > best + 1e-12) best = score, best_k = k; /* ties keep the smaller k */
        st_progress(ctx, "choosing k", (uint64_t)(k - 1), (uint64_t)(k_hi - 1));
    }
    *k_out = best_k;
    st = STRATA_OK;
done:
    st_free(idx);
    st_free(sub);
    st_free(labels);
    st_free(centers);
    return st;
}

strata_status st_kmeans_fit(strata_ctx *ctx, const double *rows, size_t n, int d,
                            const char *const *feature_names, const st_kmeans_opts *opts,
                            st_kmeans **out, uint32_t *labels)
{
    *out = NULL;
    st_kmeans_opts o;
    if (opts)
        o = *opts;
    else
        st_kmeans_opts_default(&o);
    strata_status st = check_opts(ctx, &o, d, feature_names);
    if (st != STRATA_OK) return st;
    if ((st = check_finite(ctx, rows, n, d)) != STRATA_OK) return st;
    size_t need = o.k ? (size_t)o.k : 3;
    if (n < need)
        return st_error(ctx, STRATA_EDATA, "kmeans: %zu rows are too few for %zu clusters", n,
                        need);
    /* k is not known yet: allocate the model with room for the largest k */
    st_kmeans *m = model_alloc(ST_KMEANS_MAX_K, d);
    double *z = st_malloc(n * (size_t)d * sizeof(double));
    uint32_t *lab = labels ? labels : st_malloc(n * sizeof(uint32_t));
    if (!m || !z || !lab) {
        st = st_error(ctx, STRATA_ENOMEM, "kmeans: out of memory for %zu rows", n);
        goto fail;
    }
    m->log1p = o.log1p;
    for (int j = 0; j < d; j++)
        snprintf(m->features[j], ST_KMEANS_MAX_NAME, "%s", feature_names[j]);
    /* standardization of the transformed features (population sd, as StandardScaler) */
    for (int j = 0; j < d; j++) {
        double sum = 0, sq = 0;
        for (size_t i = 0; i < n; i++) {
            double v = rows[i * (size_t)d + (size_t)j];
            sum += o.log1p ? signed_log1p(v) : v;
        }
        double mean = sum / (double)n;
        for (size_t i = 0; i < n; i++) {
            double v = rows[i * (size_t)d + (size_t)j];
            double t = (o.log1p ? signed_log1p(v) : v) - mean;
            sq += t * t;
        }
        double sd = sqrt(sq / (double)n);
        m->mean[j] = mean;
        m->sd[j] = sd > 1e-12 * (fabs(mean) + 1) ? sd : 1; /* a constant column stays 0 */
    }
    m->d = d;
    transform_rows(m, rows, n, z);
    /* scikit-learn: tol is relative to the mean variance of the features */
    double var_sum = 0;
    for (int j = 0; j < d; j++) {
        double sq = 0;
        for (size_t i = 0; i < n; i++)
            sq += z[i * (size_t)d + (size_t)j] * z[i * (size_t)d + (size_t)j];
        var_sum += sq / (double)n;
    }
    double tol_abs = o.tol * var_sum / d;
    unsigned threads = n >= 4 * CHUNK ? (o.threads ? o.threads : st_threads(ctx)) : 1;
    int k = o.k;
    if (k == 0 && (st = choose_k(ctx, m, z, n, &o, tol_abs, threads, &k)) != STRATA_OK) {
        st = st_error(ctx, st, "kmeans: out of memory choosing k");
        goto fail;
    }
    m->k = k;
    core_result r;
    st = kmeans_core(z, n, d, k, o.n_init, o.max_iter, tol_abs, o.seed, threads, m->centroids, lab,
                     &r);
    if (st != STRATA_OK) {
        st = st_error(ctx, st, "kmeans: out of memory in the fit");
        goto fail;
    }
    m->inertia = r.inertia;
    m->iterations = r.iterations;
    m->n = n;
    m->revenue_feature = pick_revenue_feature(&o, d, feature_names);
    describe(m, rows, n, lab);
    if (!labels) st_free(lab);
    st_free(z);
    *out = m;
    return STRATA_OK;
fail:
    if (!labels) st_free(lab);
    st_free(z);
    st_kmeans_free(m);
    return st;
}

strata_status st_kmeans_assign(strata_ctx *ctx, const st_kmeans *model, const double *rows,
                               size_t n, uint32_t *labels, double *d2)
{
    const int d = model->d;
    strata_status st = check_finite(ctx, rows, n, d);
    if (st != STRATA_OK) return st;
    double z[ST_KMEANS_MAX_D];
    for (size_t i = 0; i < n; i++) {
        transform_rows(model, rows + i * (size_t)d, 1, z);
        uint32_t best = 0;
        double best_d = dist2(z, model->centroids, d);
        for (int c = 1; c < model->k; c++) {
            double dc = dist2(z, model->centroids + (size_t)c * (size_t)d, d);
            if (dc < best_d) best_d = dc, best = (uint32_t)c;
        }
        labels[i] = best;
        if (d2) d2[i] = best_d;
    }
    return STRATA_OK;
}

/* ---- model file ---- */

static cJSON *number_array(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) {
        cJSON *x = isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull();
        if (!x || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(x);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static bool add(cJSON *obj, const char *name, cJSON *item)
{
    if (!item) return false;
    if (!cJSON_AddItemToObject(obj, name, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

static bool push(cJSON *arr, cJSON *item)
{
    if (!item) return false;
    if (!cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

static cJSON *model_json(const st_kmeans *m)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    bool ok = add(root, "format", cJSON_CreateString(MODEL_FORMAT)) &&
              add(root, "version", cJSON_CreateNumber(MODEL_VERSION)) &&
              add(root, "k", cJSON_CreateNumber(m->k)) &&
              add(root, "d", cJSON_CreateNumber(m->d)) &&
              add(root, "transform", cJSON_CreateString(m->log1p ? "log1p" : "none")) &&
              add(root, "revenue_feature", cJSON_CreateNumber(m->revenue_feature)) &&
              add(root, "mean", number_array(m->mean, m->d)) &&
              add(root, "sd", number_array(m->sd, m->d));
    cJSON *features = ok ? cJSON_CreateArray() : NULL;
    ok = ok && add(root, "features", features);
    for (int j = 0; ok && j < m->d; j++)
        ok = push(features, cJSON_CreateString(m->features[j]));
    cJSON *centroids = ok ? cJSON_CreateArray() : NULL;
    ok = ok && add(root, "centroids", centroids);
    for (int c = 0; ok && c < m->k; c++)
        ok = push(centroids, number_array(m->centroids + (size_t)c * (size_t)m->d, m->d));
    cJSON *clusters = ok ? cJSON_CreateArray() : NULL;
    ok = ok && add(root, "clusters", clusters);
    for (int c = 0; ok && c < m->k; c++) {
        const st_kmeans_cluster *cl = &m->clusters[c];
        cJSON *o = cJSON_CreateObject();
        ok = push(clusters, o) && add(o, "name_en", cJSON_CreateString(cl->name_en)) &&
             add(o, "name_zh", cJSON_CreateString(cl->name_zh)) &&
             add(o, "size", cJSON_CreateNumber((double)cl->size)) &&
             add(o, "share", cJSON_CreateNumber(cl->share)) &&
             add(o, "revenue_share",
                 isfinite(cl->revenue_share) ? cJSON_CreateNumber(cl->revenue_share)
                                             : cJSON_CreateNull()) &&
             add(o, "mean", number_array(cl->mean, m->d));
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

strata_status st_kmeans_save(strata_ctx *ctx, const st_kmeans *model, const char *path)
{
    cJSON *root = model_json(model);
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) return st_error(ctx, STRATA_ENOMEM, "kmeans: out of memory writing %s", path);
    FILE *f = fopen(path, "wb");
    if (!f) {
        int e = errno;
        cJSON_free(text);
        return st_error(ctx, STRATA_EIO, "%s: cannot create: %s", path, strerror(e));
    }
    size_t len = strlen(text);
    bool ok = fwrite(text, 1, len, f) == len && fputc('\n', f) != EOF;
    ok = (fclose(f) == 0) && ok;
    cJSON_free(text);
    if (!ok) return st_error(ctx, STRATA_EIO, "%s: write failed", path);
    return STRATA_OK;
}

/* Read n finite numbers from a JSON array of exactly n items. */
static bool read_numbers(const cJSON *arr, double *out, int n, bool allow_null)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != n) return false;
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (allow_null && cJSON_IsNull(it))
            out[i++] = NAN;
        else if (cJSON_IsNumber(it) && isfinite(it->valuedouble))
            out[i++] = it->valuedouble;
        else
            return false;
    }
    return true;
}

static bool read_int(const cJSON *obj, const char *name, int lo, int hi, int *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsNumber(it) || !(it->valuedouble >= lo && it->valuedouble <= hi) ||
        it->valuedouble != floor(it->valuedouble))
        return false;
    *out = (int)it->valuedouble;
    return true;
}

static bool read_text(const cJSON *obj, const char *name, char *out, size_t cap, bool nonempty)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsString(it)) return false;
    size_t len = strlen(it->valuestring);
    if (len >= cap || (nonempty && len == 0)) return false;
    memcpy(out, it->valuestring, len + 1);
    return true;
}

/* Validate a parsed document into a model; false with *why set on any problem. */
static st_kmeans *model_from_json(const cJSON *root, const char **why)
{
    int version, k, d, rf;
    char text[32];
    *why = "not a strata-kmeans model";
    if (!cJSON_IsObject(root) || !read_text(root, "format", text, sizeof text, true) ||
        strcmp(text, MODEL_FORMAT))
        return NULL;
    *why = "unsupported version";
    if (!read_int(root, "version", 0, 1000000, &version) || version != MODEL_VERSION) return NULL;
    *why = "bad k or d";
    if (!read_int(root, "k", 1, ST_KMEANS_MAX_K, &k) ||
        !read_int(root, "d", 1, ST_KMEANS_MAX_D, &d))
        return NULL;
    st_kmeans *m = model_alloc(k, d);
    if (!m) {
        *why = "out of memory";
        return NULL;
    }
    *why = "bad transform";
    if (!read_text(root, "transform", text, sizeof text, true)) goto bad;
    if (!strcmp(text, "log1p"))
        m->log1p = true;
    else if (strcmp(text, "none"))
        goto bad;
    *why = "bad revenue_feature";
    if (!read_int(root, "revenue_feature", -1, d - 1, &rf)) goto bad;
    m->revenue_feature = rf;
    *why = "bad mean or sd";
    if (!read_numbers(cJSON_GetObjectItemCaseSensitive(root, "mean"), m->mean, d, false) ||
        !read_numbers(cJSON_GetObjectItemCaseSensitive(root, "sd"), m->sd, d, false))
        goto bad;
    for (int j = 0; j < d; j++)
        if (!(m->sd[j] > 0)) goto bad;
    *why = "bad features";
    const cJSON *features = cJSON_GetObjectItemCaseSensitive(root, "features");
    if (!cJSON_IsArray(features) || cJSON_GetArraySize(features) != d) goto bad;
    int j = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, features)
    {
        if (!cJSON_IsString(it) || !*it->valuestring ||
            strlen(it->valuestring) >= ST_KMEANS_MAX_NAME)
            goto bad;
        memcpy(m->features[j++], it->valuestring, strlen(it->valuestring) + 1);
    }
    *why = "bad centroids";
    const cJSON *centroids = cJSON_GetObjectItemCaseSensitive(root, "centroids");
    if (!cJSON_IsArray(centroids) || cJSON_GetArraySize(centroids) != k) goto bad;
    int c = 0;
    cJSON_ArrayForEach(it, centroids)
    {
        if (!read_numbers(it, m->centroids + (size_t)c * (size_t)d, d, false)) goto bad;
        c++;
    }
    *why = "bad clusters";
    const cJSON *clusters = cJSON_GetObjectItemCaseSensitive(root, "clusters");
    if (!cJSON_IsArray(clusters) || cJSON_GetArraySize(clusters) != k) goto bad;
    c = 0;
    cJSON_ArrayForEach(it, clusters)
    {
        st_kmeans_cluster *cl = &m->clusters[c++];
        double share, rshare, size;
        const cJSON *v;
        if (!cJSON_IsObject(it) ||
            !read_text(it, "name_en", cl->name_en, ST_KMEANS_LABEL_SIZE, true) ||
            !read_text(it, "name_zh", cl->name_zh, ST_KMEANS_LABEL_SIZE, true))
            goto bad;
        v = cJSON_GetObjectItemCaseSensitive(it, "size");
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1e15) ||
            v->valuedouble != floor(v->valuedouble))
            goto bad;
        size = v->valuedouble;
        v = cJSON_GetObjectItemCaseSensitive(it, "share");
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1)) goto bad;
        share = v->valuedouble;
        v = cJSON_GetObjectItemCaseSensitive(it, "revenue_share");
        if (cJSON_IsNull(v))
            rshare = NAN;
        else if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
            rshare = v->valuedouble;
        else
            goto bad;
        if (!read_numbers(cJSON_GetObjectItemCaseSensitive(it, "mean"), cl->mean, d, true))
            goto bad;
        cl->size = (size_t)size, cl->share = share, cl->revenue_share = rshare;
    }
    *why = NULL;
    return m;
bad:
    st_kmeans_free(m);
    return NULL;
}

strata_status st_kmeans_load_buffer(strata_ctx *ctx, const char *name, const char *data, size_t len,
                                    st_kmeans **out)
{
    *out = NULL;
    if (len > ST_KMEANS_FILE_MAX)
        return st_error(ctx, STRATA_ELIMIT, "%s: model file larger than %u bytes", name,
                        ST_KMEANS_FILE_MAX);
    cJSON *root = cJSON_ParseWithLength(data, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= data && at <= data + len ? (size_t)(at - data) : 0;
        return st_error(ctx, STRATA_EPARSE, "%s: not valid JSON (near byte %zu)", name, off);
    }
    const char *why;
    st_kmeans *m = model_from_json(root, &why);
    cJSON_Delete(root);
    if (!m)
        return st_error(ctx, strcmp(why, "out of memory") ? STRATA_EMODEL : STRATA_ENOMEM, "%s: %s",
                        name, why);
    *out = m;
    return STRATA_OK;
}

strata_status st_kmeans_load(strata_ctx *ctx, const char *path, st_kmeans **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return st_error(ctx, STRATA_ENOINPUT, "%s: cannot open: %s", path, strerror(errno));
    char *buf = st_malloc(ST_KMEANS_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        return st_error(ctx, STRATA_ENOMEM, "%s: out of memory", path);
    }
    size_t len = fread(buf, 1, ST_KMEANS_FILE_MAX + 1, f);
    bool err = ferror(f);
    fclose(f);
    strata_status st = err ? st_error(ctx, STRATA_EIO, "%s: read failed", path)
                           : st_kmeans_load_buffer(ctx, path, buf, len, out);
    st_free(buf);
    return st;
}

/* ---- summary ---- */

cJSON *st_kmeans_summary_json(const st_kmeans *m)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    bool ok = add(root, "k", cJSON_CreateNumber(m->k)) &&
              add(root, "persons", cJSON_CreateNumber((double)m->n)) &&
              add(root, "inertia", cJSON_CreateNumber(m->inertia)) &&
              add(root, "iterations", cJSON_CreateNumber(m->iterations)) &&
              add(root, "transform", cJSON_CreateString(m->log1p ? "log1p" : "none"));
    cJSON *features = ok ? cJSON_CreateArray() : NULL;
    ok = ok && add(root, "features", features);
    for (int j = 0; ok && j < m->d; j++)
        ok = push(features, cJSON_CreateString(m->features[j]));
    cJSON *sil = ok ? cJSON_CreateArray() : NULL;
    ok = ok && add(root, "silhouette", sil);
    for (int k = 2; ok && k <= ST_KMEANS_MAX_K; k++) {
        if (!isfinite(m->silhouette[k])) continue;
        cJSON *o = cJSON_CreateObject();
        ok = push(sil, o) && add(o, "k", cJSON_CreateNumber(k)) &&
             add(o, "score", cJSON_CreateNumber(m->silhouette[k]));
    }
    cJSON *clusters = ok ? cJSON_CreateArray() : NULL;
    ok = ok && add(root, "clusters", clusters);
    for (int c = 0; ok && c < m->k; c++) {
        const st_kmeans_cluster *cl = &m->clusters[c];
        cJSON *o = cJSON_CreateObject(), *mean = NULL;
        ok = push(clusters, o) && add(o, "id", cJSON_CreateNumber(c)) &&
             add(o, "name_en", cJSON_CreateString(cl->name_en)) &&
             add(o, "name_zh", cJSON_CreateString(cl->name_zh)) &&
             add(o, "size", cJSON_CreateNumber((double)cl->size)) &&
             add(o, "share", cJSON_CreateNumber(cl->share)) &&
             add(o, "revenue_share",
                 isfinite(cl->revenue_share) ? cJSON_CreateNumber(cl->revenue_share)
                                             : cJSON_CreateNull()) &&
             add(o, "mean", mean = cJSON_CreateObject());
        for (int j = 0; ok && j < m->d; j++)
            ok = add(mean, m->features[j],
                     isfinite(cl->mean[j]) ? cJSON_CreateNumber(cl->mean[j]) : cJSON_CreateNull());
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* ---- tables for the model commands ---- */

typedef struct table_reader {
    strata_ctx *ctx;
    const char *path;
    const st_table_col *cols;
    size_t ncols;
    int pos[ST_TABLE_MAX_COLS]; /* header field of each requested column; -1 = absent */
    uint32_t header_fields;
    int text_col;
    st_table *t;
    size_t values_cap, off_cap;
    st_buf text;
    uint64_t next_block;
} table_reader;

static bool header_matches(st_sv field, const char *names)
{
    const char *p = names;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (st_sv_eq_nocase(field, st_sv_make(p, len))) return true;
        p += len + (bar != NULL);
    }
    return false;
}

static strata_status table_header(void *ud, const st_record *h)
{
    table_reader *r = ud;
    r->header_fields = h->nfields;
    r->text_col = -1;
    for (size_t c = 0; c < r->ncols; c++) {
        r->pos[c] = -1;
        for (uint32_t f = 0; f < h->nfields && r->pos[c] < 0; f++)
            if (header_matches(st_sv_trim(h->fields[f]), r->cols[c].names)) r->pos[c] = (int)f;
        r->t->present[c] = r->pos[c] >= 0;
        if (r->pos[c] < 0 && r->cols[c].required)
            return st_error(r->ctx, STRATA_EPARSE, "%s: no column named %s in the header", r->path,
                            r->cols[c].names);
        if (r->pos[c] >= 0 && r->cols[c].kind == ST_TABLE_TEXT) {
            if (r->text_col >= 0)
                return st_error(r->ctx, STRATA_EINVAL, "%s: more than one text column requested",
                                r->path);
            r->text_col = (int)c;
        }
    }
    return STRATA_OK;
}

/* Parse one row's requested values into vals; *blank when a present value is empty. */
static strata_status table_row(table_reader *r, const st_record *rec, double *vals, bool *blank,
                               st_sv *text)
{
    *blank = false;
    for (size_t c = 0; c < r->ncols; c++) {
        vals[c] = NAN;
        if (r->pos[c] < 0) continue;
        st_sv v = st_sv_trim(rec->fields[r->pos[c]]);
        if (v.len == 0) {
            *blank = true;
            return STRATA_OK;
        }
        bool ok = true;
        switch (r->cols[c].kind) {
        case ST_TABLE_TEXT:
            *text = v;
            break;
        case ST_TABLE_NUMBER:
            ok = st_sv_to_double(v, &vals[c]) && isfinite(vals[c]);
            break;
        case ST_TABLE_DAY: {
            int64_t secs;
            ok = st_ts_parse(v, ST_TS_AUTO, NULL, &secs);
            if (ok) vals[c] = (double)st_local_day(secs);
            break;
        }
        }
        if (!ok)
            return st_error(r->ctx, STRATA_EPARSE, "%s:%llu:%d: %s '%.*s' in column %s", r->path,
                            (unsigned long long)rec->line, r->pos[c] + 1,
                            r->cols[c].kind == ST_TABLE_DAY ? "not a date" : "not a number",
                            (int)ST_MIN(v.len, 40), v.ptr, r->cols[c].names);
    }
    return STRATA_OK;
}

static strata_status table_append(table_reader *r, const double *vals, st_sv text)
{
    st_table *t = r->t;
    if (t->rows >= ST_TABLE_MAX_ROWS)
        return st_error(r->ctx, STRATA_ELIMIT, "%s: more than %u rows", r->path, ST_TABLE_MAX_ROWS);
    if (!ST_GROW(t->values, r->values_cap, (t->rows + 1) * r->ncols)) goto oom;
    memcpy(t->values + t->rows * r->ncols, vals, r->ncols * sizeof(double));
    if (r->text_col >= 0) {
        if (!ST_GROW(t->text_off, r->off_cap, t->rows + 1)) goto oom;
        t->text_off[t->rows] = r->text.len;
        strata_status st = st_buf_append(&r->text, text.ptr, text.len);
        if (st == STRATA_OK) st = st_buf_putc(&r->text, '\0');
        if (st == STRATA_ELIMIT)
            return st_error(r->ctx, STRATA_ELIMIT, "%s: ids longer than %zu bytes in total",
                            r->path, r->text.max);
        if (st != STRATA_OK) goto oom;
    }
    t->rows++;
    return STRATA_OK;
oom:
    return st_error(r->ctx, STRATA_ENOMEM, "%s: out of memory at row %zu", r->path, t->rows + 1);
}

static strata_status table_block(void *ud, unsigned worker_id, const st_block *block)
{
    (void)worker_id;
    table_reader *r = ud;
    /* one worker: blocks arrive in file order, which keeps rows in file order */
    if (block->index != r->next_block++)
        return st_error(r->ctx, STRATA_EINTERNAL, "%s: blocks out of order", r->path);
    st_cursor cur;
    st_cursor_init(&cur, block);
    st_record rec;
    strata_status st = STRATA_OK;
    double vals[ST_TABLE_MAX_COLS];
    while (st == STRATA_OK && st_cursor_next(&cur, &rec)) {
        if (rec.error_field) {
            st = st_error(r->ctx, STRATA_EPARSE, "%s:%llu:%u: %s", r->path,
                          (unsigned long long)rec.line, rec.error_field,
                          rec.error ? rec.error : "malformed record");
            break;
        }
        if (rec.nfields != r->header_fields) {
            st = st_error(r->ctx, STRATA_EPARSE, "%s:%llu: %u fields, the header has %u", r->path,
                          (unsigned long long)rec.line, rec.nfields, r->header_fields);
            break;
        }
        bool blank;
        st_sv text = {"", 0};
        st = table_row(r, &rec, vals, &blank, &text);
        if (st != STRATA_OK) break;
        if (blank) {
            if (!r->t->skipped) r->t->first_skipped_line = rec.line;
            r->t->skipped++;
            continue;
        }
        st = table_append(r, vals, text);
    }
    st_cursor_clear(&cur);
    return st;
}

strata_status st_table_read(strata_ctx *ctx, const char *path, const st_table_col *cols,
                            size_t ncols, st_table *out)
{
    memset(out, 0, sizeof *out);
    if (ncols == 0 || ncols > ST_TABLE_MAX_COLS)
        return st_error(ctx, STRATA_EINVAL, "table: 1 to %d columns can be read",
                        ST_TABLE_MAX_COLS);
    if (st_format_of_path(path) != ST_FMT_CSV)
        return st_error(ctx, STRATA_EINVAL, "%s: only CSV tables (optionally .gz) are read here",
                        path);
    table_reader r;
    memset(&r, 0, sizeof r);
    r.ctx = ctx, r.path = path, r.cols = cols, r.ncols = ncols, r.t = out, r.text_col = -1;
    st_buf_init(&r.text, (size_t)1 << 32);
    out->ncols = ncols;
    st_reader_opts ro = {.format = ST_FMT_CSV, .delimiter = ',', .threads = 1};
    strata_status st =
        st_reader_run(ctx, path, "reading table", &ro, table_header, table_block, &r, NULL);
    if (st == STRATA_OK && r.text_col >= 0) {
        out->text = r.text.data ? st_buf_take(&r.text) : st_strdup("");
        if (!out->text) st = st_error(ctx, STRATA_ENOMEM, "%s: out of memory", path);
    }
    st_buf_clear(&r.text);
    if (st != STRATA_OK) st_table_clear(out);
    return st;
}

void st_table_clear(st_table *t)
{
    if (!t) return;
    st_free(t->values);
    st_free(t->text);
    st_free(t->text_off);
    memset(t, 0, sizeof *t);
}

/* Flush the buffer to f when it holds more than `keep` bytes. */
static bool flush_buf(st_buf *b, FILE *f, size_t keep)
{
    if (b->len <= keep) return true;
    bool ok = fwrite(b->data, 1, b->len, f) == b->len;
    st_buf_reset(b);
    return ok;
}

strata_status st_kmeans_write_labels(strata_ctx *ctx, const char *path, const st_table *table,
                                     const st_kmeans *model, const uint32_t *labels, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return st_error(ctx, STRATA_EIO, "%s: cannot create: %s", path, strerror(errno));
    st_buf b;
    st_buf_init(&b, (size_t)4 << 20);
    strata_status st = st_buf_puts(&b, "id,cluster,cluster_en,cluster_zh\n");
    bool ok = true;
    for (size_t i = 0; st == STRATA_OK && ok && i < n; i++) {
        const st_kmeans_cluster *cl = &model->clusters[labels[i]];
        if (table && table->text_off) {
            const char *id = table->text + table->text_off[i];
            st = st_buf_csv_field(&b, id, strlen(id));
        } else {
            st = st_buf_printf(&b, "%zu", i + 1);
        }
        if (st == STRATA_OK) st = st_buf_printf(&b, ",%u,", labels[i]);
        if (st == STRATA_OK) st = st_buf_csv_field(&b, cl->name_en, strlen(cl->name_en));
        if (st == STRATA_OK) st = st_buf_putc(&b, ',');
        if (st == STRATA_OK) st = st_buf_csv_field(&b, cl->name_zh, strlen(cl->name_zh));
        if (st == STRATA_OK) st = st_buf_putc(&b, '\n');
        ok = flush_buf(&b, f, (size_t)1 << 20);
    }
    if (st == STRATA_OK) ok = flush_buf(&b, f, 0) && ok;
    st_buf_clear(&b);
    ok = fclose(f) == 0 && ok;
    if (st != STRATA_OK) return st_error(ctx, st, "%s: cannot format the output", path);
    if (!ok) return st_error(ctx, STRATA_EIO, "%s: write failed", path);
    return STRATA_OK;
}
