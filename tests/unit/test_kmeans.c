/*
 * test_kmeans.c — src/models/kmeans.c: blobs recovered exactly, determinism for a seed and
 * across thread counts, k chosen by the silhouette, assignment of new points, the Lloyd
 * fixed point and inertia recomputed independently here, the silhouette against a hand
 * computation, names, save/load round trip, damaged model files, bad input and allocation
 * failure without leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "models/kmeans.h"

static void near_at(double got, double want, double eps, const char *file, int line)
{
    if (!(fabs(got - want) <= eps)) {
        print_error("%.17g != %.17g (tolerance %g)\n", got, want, eps);
        _fail(file, line);
    }
}
#define assert_near(got, want, eps) near_at((got), (want), (eps), __FILE__, __LINE__)

static const char *const RFM[3] = {"recency_days", "frequency", "monetary"};

/* A deterministic uniform in [0,1) for the fixtures (not the library's generator). */
static double lcg01(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) * 0x1.0p-53;
}

/* Three RFM-like blobs, `per` rows each, multiplicative noise of +-10 %:
 *   blob 0: recency 5,   frequency 20, monetary 2000  (recent frequent big spenders)
 *   blob 1: recency 300, frequency 1,  monetary 20    (lapsed occasional low spenders)
 *   blob 2: recency 60,  frequency 4,  monetary 200   (in the middle on everything)
 * Rows are interleaved 0,1,2,0,1,2,... so truth[i] = i % 3. */
static const double BLOB[3][3] = {{5, 20, 2000}, {300, 1, 20}, {60, 4, 200}};

static double *blobs(size_t per, uint64_t seed)
{
    double *rows = malloc(per * 3 * 3 * sizeof(double));
    for (size_t i = 0; i < per * 3; i++)
        for (int j = 0; j < 3; j++)
            rows[i * 3 + (size_t)j] = BLOB[i % 3][j] * (0.9 + 0.2 * lcg01(&seed));
    return rows;
}

/* Labels equal the truth up to a renaming of clusters. */
static void assert_same_partition(const uint32_t *labels, size_t n, int k)
{
    int map[8];
    for (int b = 0; b < k; b++)
        map[b] = -1;
    for (size_t i = 0; i < n; i++) {
        int b = (int)(i % (size_t)k);
        if (map[b] < 0) map[b] = (int)labels[i];
        assert_int_equal(labels[i], map[b]);
    }
    for (int a = 0; a < k; a++)
        for (int b = a + 1; b < k; b++)
            assert_int_not_equal(map[a], map[b]);
}

static void test_blobs_recovered(void **state)
{
    (void)state;
    const size_t per = 300, n = per * 3;
    double *rows = blobs(per, 7);
    uint32_t *labels = malloc(n * sizeof *labels);
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    st_kmeans_opts o;
    st_kmeans_opts_default(&o);
    o.k = 3;
    st_kmeans *m;
    assert_int_equal(st_kmeans_fit(ctx, rows, n, 3, RFM, &o, &m, labels), STRATA_OK);
    assert_int_equal(m->k, 3);
    assert_same_partition(labels, n, 3);
    /* clusters are numbered by revenue share: blob 0, then blob 2, then blob 1 */
    assert_int_equal(labels[0], 0);
    assert_int_equal(labels[2], 1);
    assert_int_equal(labels[1], 2);
    /* sizes, raw means and revenue shares recomputed here */
    double rev[3] = {0}, total = 0, mean0[3] = {0};
    for (size_t i = 0; i < n; i++) {
        rev[i % 3] += rows[i * 3 + 2];
        total += rows[i * 3 + 2];
        if (i % 3 == 0)
            for (int j = 0; j < 3; j++)
                mean0[j] += rows[i * 3 + (size_t)j] / (double)per;
    }
    assert_int_equal(m->clusters[0].size, per);
    assert_near(m->clusters[0].share, 1.0 / 3, 1e-15);
    assert_near(m->clusters[0].revenue_share, rev[0] / total, 1e-12);
    assert_near(m->clusters[1].revenue_share, rev[2] / total, 1e-12);
    assert_near(m->clusters[2].revenue_share, rev[1] / total, 1e-12);
    for (int j = 0; j < 3; j++)
        assert_near(m->clusters[0].mean[j], mean0[j], 1e-9 * mean0[j]);
    /* names from the centroid positions */
    assert_string_equal(m->clusters[0].name_en, "recent frequent big spenders");
    assert_string_equal(m->clusters[0].name_zh, "近期活跃高频高消费客户");
    assert_string_equal(m->clusters[2].name_en, "lapsed occasional low spenders");
    assert_string_equal(m->clusters[2].name_zh, "久未购买低频低消费客户");
    assert_string_equal(m->clusters[1].name_en, "average customers");
    assert_string_equal(m->clusters[1].name_zh, "一般客户");

    /* Lloyd fixed point and inertia, recomputed from an independent standardization:
     * z = (log1p(x) - mean) / population sd */
    double mu[3] = {0}, sd[3] = {0};
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < 3; j++)
            mu[j] += log1p(rows[i * 3 + (size_t)j]) / (double)n;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < 3; j++) {
            double t = log1p(rows[i * 3 + (size_t)j]) - mu[j];
            sd[j] += t * t / (double)n;
        }
    for (int j = 0; j < 3; j++) {
        sd[j] = sqrt(sd[j]);
        assert_near(m->mean[j], mu[j], 1e-12);
        assert_near(m->sd[j], sd[j], 1e-12);
    }
    double cent[3][3] = {{0}}, inertia = 0;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < 3; j++)
            cent[labels[i]][j] += (log1p(rows[i * 3 + (size_t)j]) - mu[j]) / sd[j] / (double)per;
    for (int c = 0; c < 3; c++)
        for (int j = 0; j < 3; j++)
            assert_near(m->centroids[c * 3 + j], cent[c][j], 1e-9);
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < 3; j++) {
            double t = (log1p(rows[i * 3 + (size_t)j]) - mu[j]) / sd[j] - cent[labels[i]][j];
            inertia += t * t;
        }
    assert_near(m->inertia, inertia, 1e-9 * inertia);

    /* new points near each blob centre get that blob's cluster */
    double fresh[3][3] = {{4, 25, 2500}, {280, 1, 15}, {70, 5, 150}};
    uint32_t got[3];
    double d2[3];
    assert_int_equal(st_kmeans_assign(ctx, m, &fresh[0][0], 3, got, d2), STRATA_OK);
    assert_int_equal(got[0], 0);
    assert_int_equal(got[1], 2);
    assert_int_equal(got[2], 1);
    assert_true(d2[0] >= 0 && d2[0] < 1);
    fresh[1][1] = NAN;
    assert_int_equal(st_kmeans_assign(ctx, m, &fresh[0][0], 3, got, NULL), STRATA_EINVAL);
    assert_non_null(strstr(strata_errmsg(ctx), "row 2, column 2"));

    st_kmeans_free(m);
    strata_ctx_free(ctx);
    free(rows);
    free(labels);
}

static void test_silhouette_hand_computed(void **state)
{
    (void)state;
    /* 1-D points {0, 1} in cluster 0 and {4, 6} in cluster 1:
     *   s(0) = (5 - 1)/5 = 0.8          s(1) = (4 - 1)/4 = 0.75
     *   s(4) = (3.5 - 2)/3.5 = 3/7      s(6) = (5.5 - 2)/5.5 = 7/11 */
    const double pts[4] = {0, 1, 4, 6};
    const uint32_t lab[4] = {0, 0, 1, 1};
    double want = (0.8 + 0.75 + 3.0 / 7 + 7.0 / 11) / 4;
    assert_near(st_kmeans_silhouette(pts, 4, 1, lab, 2), want, 1e-15);
    /* a point alone in its cluster scores 0: {0,1} / {10} -> (s0 + s1 + 0) / 3 */
    const double p3[3] = {0, 1, 10};
    const uint32_t l3[3] = {0, 0, 1};
    assert_near(st_kmeans_silhouette(p3, 3, 1, l3, 2), ((10.0 - 1) / 10 + (9.0 - 1) / 9) / 3,
                1e-15);
    const uint32_t one[3] = {1, 1, 1};
    assert_true(isnan(st_kmeans_silhouette(p3, 3, 1, one, 2)));
}

static void test_k_by_silhouette(void **state)
{
    (void)state;
    const size_t per = 400, n = per * 3;
    double *rows = blobs(per, 11);
    uint32_t *labels = malloc(n * sizeof *labels);
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    st_kmeans_opts o;
    st_kmeans_opts_default(&o);
    o.k = 0;
    o.k_max = 6;
    o.sample = 500;
    st_kmeans *m;
    assert_int_equal(st_kmeans_fit(ctx, rows, n, 3, RFM, &o, &m, labels), STRATA_OK);
    assert_int_equal(m->k, 3);
    assert_int_equal(m->k_min_tried, 2);
    assert_int_equal(m->k_max_tried, 6);
    for (int k = 2; k <= 6; k++) {
        assert_true(isfinite(m->silhouette[k]));
        if (k != 3) assert_true(m->silhouette[k] < m->silhouette[3]);
    }
    assert_true(m->silhouette[3] > 0.8); /* tight, far-apart blobs */
    assert_same_partition(labels, n, 3);
    cJSON *j = st_kmeans_summary_json(m);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "silhouette")), 5);
    cJSON *clusters = cJSON_GetObjectItem(j, "clusters");
    assert_int_equal(cJSON_GetArraySize(clusters), 3);
    double size_sum = 0, share_sum = 0;
    cJSON *c;
    cJSON_ArrayForEach(c, clusters)
    {
        size_sum += cJSON_GetObjectItem(c, "size")->valuedouble;
        share_sum += cJSON_GetObjectItem(c, "revenue_share")->valuedouble;
        assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "mean"), "monetary"));
    }
    assert_near(size_sum, (double)n, 0);
    assert_near(share_sum, 1, 1e-12);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(clusters, 0), "name_en")->valuestring,
        "recent frequent big spenders");
    cJSON_Delete(j);
    st_kmeans_free(m);
    strata_ctx_free(ctx);
    free(rows);
    free(labels);
}

static void test_determinism(void **state)
{
    (void)state;
    /* overlapping noise so that restarts and seeds matter; n large enough for threads */
    const size_t n = 40000;
    double *rows = malloc(n * 3 * sizeof(double));
    uint64_t s = 5;
    for (size_t i = 0; i < n * 3; i++)
        rows[i] = 1000 * lcg01(&s) * lcg01(&s);
    uint32_t *l1 = malloc(n * sizeof *l1), *l2 = malloc(n * sizeof *l2);
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    st_kmeans_opts o;
    st_kmeans_opts_default(&o);
    o.k = 5;
    o.seed = 99;
    o.threads = 1;
    st_kmeans *a, *b, *c;
    assert_int_equal(st_kmeans_fit(ctx, rows, n, 3, RFM, &o, &a, l1), STRATA_OK);
    o.threads = 2;
    assert_int_equal(st_kmeans_fit(ctx, rows, n, 3, RFM, &o, &b, l2), STRATA_OK);
    assert_memory_equal(l1, l2, n * sizeof *l1);
    assert_memory_equal(a->centroids, b->centroids, 15 * sizeof(double));
    assert_memory_equal(&a->inertia, &b->inertia, sizeof(double));
    /* a different seed is a different run (at least a different path to the optimum) */
    o.seed = 100;
    assert_int_equal(st_kmeans_fit(ctx, rows, n, 3, RFM, &o, &c, NULL), STRATA_OK);
    assert_true(c->inertia > 0);
    /* more restarts never give a worse best inertia for the same seed */
    st_kmeans *d;
    o.seed = 99;
    o.n_init = 8;
    assert_int_equal(st_kmeans_fit(ctx, rows, n, 3, RFM, &o, &d, NULL), STRATA_OK);
    assert_true(d->inertia <= a->inertia);
    st_kmeans_free(a);
    st_kmeans_free(b);
    st_kmeans_free(c);
    st_kmeans_free(d);
    strata_ctx_free(ctx);
    free(rows);
    free(l1);
    free(l2);
}

static char *tmp_path(const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "/tmp/strata_test_kmeans_%d_%s", (int)getpid(), name);
    return buf;
}

static void test_save_load(void **state)
{
    (void)state;
    const size_t per = 100, n = per * 3;
    double *rows = blobs(per, 3);
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    st_kmeans_opts o;
    st_kmeans_opts_default(&o);
    o.k = 3;
    st_kmeans *m, *back;
    assert_int_equal(st_kmeans_fit(ctx, rows, n, 3, RFM, &o, &m, NULL), STRATA_OK);
    const char *path = tmp_path("model.json");
    assert_int_equal(st_kmeans_save(ctx, m, path), STRATA_OK);
    assert_int_equal(st_kmeans_load(ctx, path, &back), STRATA_OK);
    assert_int_equal(back->k, 3);
    assert_int_equal(back->d, 3);
    assert_true(back->log1p);
    assert_memory_equal(back->centroids, m->centroids, 9 * sizeof(double)); /* exact */
    assert_memory_equal(back->mean, m->mean, 3 * sizeof(double));
    assert_memory_equal(back->sd, m->sd, 3 * sizeof(double));
    for (int c = 0; c < 3; c++) {
        assert_string_equal(back->clusters[c].name_zh, m->clusters[c].name_zh);
        assert_int_equal(back->clusters[c].size, m->clusters[c].size);
    }
    assert_string_equal(back->features[2], "monetary");
    uint32_t l1[300], l2[300];
    assert_int_equal(st_kmeans_assign(ctx, m, rows, n, l1, NULL), STRATA_OK);
    assert_int_equal(st_kmeans_assign(ctx, back, rows, n, l2, NULL), STRATA_OK);
    assert_memory_equal(l1, l2, sizeof l1);
    st_kmeans_free(back);
    assert_int_equal(st_kmeans_save(ctx, m, "/nonexistent-dir/x.json"), STRATA_EIO);
    st_kmeans_free(m);
    unlink(path);
    strata_ctx_free(ctx);
    free(rows);
}

static void test_bad_model_files(void **state)
{
    (void)state;
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    const char *good =
        "{\"format\":\"strata-kmeans\",\"version\":1,\"k\":2,\"d\":1,\"transform\":\"none\","
        "\"revenue_feature\":0,\"mean\":[1],\"sd\":[2],\"features\":[\"monetary\"],"
        "\"centroids\":[[-1],[1]],\"clusters\":[{\"name_en\":\"a\",\"name_zh\":\"甲\","
        "\"size\":3,\"share\":0.5,\"revenue_share\":null,\"mean\":[0]},{\"name_en\":\"b\","
        "\"name_zh\":\"乙\",\"size\":3,\"share\":0.5,\"revenue_share\":0.9,\"mean\":[2]}]}";
    st_kmeans *m;
    assert_int_equal(st_kmeans_load_buffer(ctx, "good", good, strlen(good), &m), STRATA_OK);
    double pts[2] = {0.5, 2.5}; /* z = -0.25 and 0.75 */
    uint32_t lab[2];
    assert_int_equal(st_kmeans_assign(ctx, m, pts, 2, lab, NULL), STRATA_OK);
    assert_int_equal(lab[0], 0);
    assert_int_equal(lab[1], 1);
    st_kmeans_free(m);
    /* each damage replaces one fragment of the good document */
    static const char *const damage[][3] = {
        {"\"strata-kmeans\"", "\"other\"", "not a strata-kmeans model"},
        {"\"version\":1", "\"version\":2", "unsupported version"},
        {"\"k\":2", "\"k\":3", "bad centroids"},
        {"\"k\":2", "\"k\":65", "bad k or d"},
        {"\"sd\":[2]", "\"sd\":[0]", "bad mean or sd"},
        {"\"sd\":[2]", "\"sd\":[1e999]", "bad mean or sd"},
        {"[[-1],[1]]", "[[-1],[1,2]]", "bad centroids"},
        {"\"transform\":\"none\"", "\"transform\":\"sqrt\"", "bad transform"},
        {"\"revenue_feature\":0", "\"revenue_feature\":1", "bad revenue_feature"},
        {"\"share\":0.5,", "\"share\":7,", "bad clusters"},
        {"\"features\":[\"monetary\"]", "\"features\":[\"\"]", "bad features"},
    };
    for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++) {
        char doc[2048];
        const char *at = strstr(good, damage[i][0]);
        assert_non_null(at);
        snprintf(doc, sizeof doc, "%.*s%s%s", (int)(at - good), good, damage[i][1],
                 at + strlen(damage[i][0]));
        assert_int_equal(st_kmeans_load_buffer(ctx, "bad", doc, strlen(doc), &m), STRATA_EMODEL);
        assert_null(m);
        assert_non_null(strstr(strata_errmsg(ctx), damage[i][2]));
    }
    /* truncated JSON, not JSON, too large, missing file */
    assert_int_equal(st_kmeans_load_buffer(ctx, "cut", good, strlen(good) / 2, &m), STRATA_EPARSE);
    assert_int_equal(st_kmeans_load_buffer(ctx, "txt", "k=3", 3, &m), STRATA_EPARSE);
    char *big = calloc(ST_KMEANS_FILE_MAX + 2, 1);
    memset(big, ' ', ST_KMEANS_FILE_MAX + 1);
    assert_int_equal(st_kmeans_load_buffer(ctx, "big", big, ST_KMEANS_FILE_MAX + 1, &m),
                     STRATA_ELIMIT);
    free(big);
    assert_int_equal(st_kmeans_load(ctx, "/nonexistent/model.json", &m), STRATA_ENOINPUT);
    strata_ctx_free(ctx);
}

static void test_bad_input(void **state)
{
    (void)state;
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    double rows[6] = {1, 2, 3, 4, 5, NAN};
    st_kmeans_opts o;
    st_kmeans_opts_default(&o);
    o.k = 2;
    st_kmeans *m;
    assert_int_equal(st_kmeans_fit(ctx, rows, 3, 2, RFM, &o, &m, NULL), STRATA_EINVAL);
    assert_non_null(strstr(strata_errmsg(ctx), "row 3, column 2"));
    assert_null(m);
    rows[5] = 6;
    o.k = 4;
    assert_int_equal(st_kmeans_fit(ctx, rows, 3, 2, RFM, &o, &m, NULL), STRATA_EDATA);
    o.k = 1;
    assert_int_equal(st_kmeans_fit(ctx, rows, 3, 2, RFM, &o, &m, NULL), STRATA_EINVAL);
    o.k = 2;
    const char *const unnamed[2] = {"a", ""};
    assert_int_equal(st_kmeans_fit(ctx, rows, 3, 2, unnamed, &o, &m, NULL), STRATA_EINVAL);
    /* negative values are fine (signed log1p), and a constant column does no harm */
    double mixed[8] = {-5, 1, -6, 1, 50, 1, 60, 1};
    const char *const names[2] = {"balance", "flag"};
    uint32_t lab[4];
    assert_int_equal(st_kmeans_fit(ctx, mixed, 4, 2, names, &o, &m, lab), STRATA_OK);
    assert_int_equal(lab[0], lab[1]);
    assert_int_equal(lab[2], lab[3]);
    assert_int_not_equal(lab[0], lab[2]);
    assert_near(m->sd[1], 1, 0);
    assert_true(isnan(m->clusters[0].revenue_share)); /* no money column */
    /* generic features name the cluster "high balance" / "balance高" */
    int hi = m->centroids[0] > 0 ? 0 : 1;
    assert_string_equal(m->clusters[hi].name_en, "average customers (high balance)");
    assert_string_equal(m->clusters[hi].name_zh, "一般客户（balance高）");
    st_kmeans_free(m);
    strata_ctx_free(ctx);
}

static void test_allocation_failures(void **state)
{
    (void)state;
    const size_t per = 50, n = per * 3;
    double *rows = blobs(per, 1);
    strata_ctx *ctx;
    assert_int_equal(strata_ctx_create(&ctx), STRATA_OK);
    size_t base = strata_memory_used();
    st_kmeans_opts o;
    st_kmeans_opts_default(&o);
    o.k_max = 4;
    int failures = 0, successes = 0;
    for (uint64_t nth = 1; nth < 80; nth++) {
        st_kmeans *m;
        strata_memory_fail_after(nth);
        strata_status st = st_kmeans_fit(ctx, rows, n, 3, RFM, &o, &m, NULL);
        strata_memory_fail_after(0);
        if (st == STRATA_OK) {
            successes++;
            st_kmeans_free(m);
        } else {
            assert_int_equal(st, STRATA_ENOMEM);
            assert_null(m);
            failures++;
        }
        assert_int_equal(strata_memory_used(), base);
    }
    assert_true(failures >= 20);
    assert_true(successes >= 1);
    strata_ctx_free(ctx);
    free(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blobs_recovered), cmocka_unit_test(test_silhouette_hand_computed),
        cmocka_unit_test(test_k_by_silhouette), cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_save_load),       cmocka_unit_test(test_bad_model_files),
        cmocka_unit_test(test_bad_input),       cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
