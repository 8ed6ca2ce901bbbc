/* test_rfm.c — the segment table, percent-rank scores with ties, class8, value tiers. */
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "models/labels.h"
#include "models/rfm.h"

#include <math.h>

/* Every one of the 125 cells matches exactly one row (the table is a partition, so order
 * cannot hide a hole) and all eleven named segments are reached. */
static void segment_table_covers_all_cells(void **state)
{
    (void)state;
    int hits[ST_SEG__END] = {0};
    for (unsigned r = 1; r <= 5; r++)
        for (unsigned f = 1; f <= 5; f++)
            for (unsigned m = 1; m <= 5; m++) {
                unsigned s = st_rfm_segment_of(r, f, m);
                assert_true(s >= ST_SEG_CHAMPIONS && s <= ST_SEG_LOST);
                hits[s]++;
            }
    for (unsigned s = ST_SEG_CHAMPIONS; s <= ST_SEG_LOST; s++) assert_true(hits[s] > 0);
    int total = 0;
    for (unsigned s = 0; s < ST_SEG__END; s++) total += hits[s];
    assert_int_equal(total, 125);
}

static void segment_examples(void **state)
{
    (void)state;
    assert_int_equal(st_rfm_segment_of(5, 5, 5), ST_SEG_CHAMPIONS);
    assert_int_equal(st_rfm_segment_of(1, 1, 1), ST_SEG_LOST);
    assert_int_equal(st_rfm_segment_of(5, 1, 1), ST_SEG_NEW);
    assert_int_equal(st_rfm_segment_of(1, 5, 5), ST_SEG_CANT_LOSE);
    assert_int_equal(st_rfm_segment_of(2, 4, 3), ST_SEG_AT_RISK);
    assert_int_equal(st_rfm_segment_of(4, 4, 5), ST_SEG_LOYAL);
    assert_int_equal(st_rfm_segment_of(5, 1, 5), ST_SEG_POTENTIAL); /* big one-time buyer */
}

static void rank_below_ties(void **state)
{
    (void)state;
    int64_t v[] = {5, 1, 5, 3, 1, 9};
    uint32_t below[6];
    assert_int_equal(st_rank_below(v, 6, below), STRATA_OK);
    uint32_t want[] = {3, 0, 3, 2, 0, 5};
    for (int i = 0; i < 6; i++) assert_int_equal(below[i], want[i]);
}

/* below and above from one sort must equal counting by hand, ties and negatives included */
static void rank_counts_against_counting(void **state)
{
    (void)state;
    enum { N = 2000 };
    int64_t *v = malloc(N * sizeof *v);
    uint32_t *below = malloc(N * sizeof *below), *above = malloc(N * sizeof *above);
    assert_non_null(v), assert_non_null(below), assert_non_null(above);
    uint64_t x = 88172645463325252ull;
    /* a wide range (sorted), a narrow one (counted), the narrow one's edge (all equal) */
    for (int shape = 0; shape < 3; shape++) {
        for (int i = 0; i < N; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            v[i] = shape == 2 ? -5 : (int64_t)(x % 301) - 150;
            if (shape == 0 && i % 7 == 0) v[i] += INT64_C(1) << 40;
        }
        assert_int_equal(st_rank_counts(v, N, below, above), STRATA_OK);
        for (int i = 0; i < N; i++) {
            uint32_t lo = 0, hi = 0;
            for (int k = 0; k < N; k++)
                lo += v[k]<v[i], hi += v[k]> v[i];
            assert_int_equal(below[i], lo);
            assert_int_equal(above[i], hi);
        }
    }
    free(v), free(below), free(above);
}

static st_profile buyer(int32_t recency, int32_t frequency, int64_t monetary_units)
{
    st_profile p;
    memset(&p, 0, sizeof p);
    p.recency_days = recency;
    p.frequency = frequency;
    p.monetary = monetary_units * 1000000;
    p.value_score = NAN;
    return p;
}

/* Ten buyers: scores must equal 1 + 5*(RANK-1)/n computed by hand; one-time buyers share
 * f_score 1; a prospect stays unscored. */
static void scores_follow_sql_rank(void **state)
{
    (void)state;
    st_profile rows[11];
    int32_t rec[10] = {1, 2, 2, 10, 30, 30, 30, 100, 200, 365};
    int32_t freq[10] = {9, 1, 1, 1, 2, 3, 1, 1, 5, 1};
    int64_t mon[10] = {900, 10, 20, 30, 40, 50, 60, 70, 80, 90};
    for (int i = 0; i < 10; i++) rows[i] = buyer(rec[i], freq[i], mon[i]);
    memset(&rows[10], 0, sizeof rows[10]);
    rows[10].recency_days = ST_NONE_I32;
    st_profiles ps = {rows, 11, 0, 10, 0};
    st_rfm_means means;
    assert_int_equal(st_rfm_score(&ps, &means, 2), STRATA_OK);
    /* recency value −rec: below counts persons more recent... i.e. with larger rec */
    uint8_t want_r[10] = {5, 4, 4, 4, 2, 2, 2, 2, 1, 1};
    uint8_t want_f[10] = {5, 1, 1, 1, 4, 4, 1, 1, 5, 1};
    uint8_t want_m[10] = {5, 1, 1, 2, 2, 3, 3, 4, 4, 5};
    for (int i = 0; i < 10; i++) {
        assert_int_equal(rows[i].r_score, want_r[i]);
        assert_int_equal(rows[i].f_score, want_f[i]);
        assert_int_equal(rows[i].m_score, want_m[i]);
    }
    assert_int_equal(rows[10].r_score, 0);
    assert_int_equal(rows[10].rfm_segment, ST_SEG_PROSPECT);
    assert_true(fabs(means.frequency - 2.5) < 1e-12);
    assert_true(fabs(means.monetary - 135.0) < 1e-9);
}

static void class8_table(void **state)
{
    (void)state;
    assert_int_equal(st_rfm_class8_of(true, true, true), ST_C8_IMPORTANT_VALUE);
    assert_int_equal(st_rfm_class8_of(true, false, true), ST_C8_IMPORTANT_DEVELOP);
    assert_int_equal(st_rfm_class8_of(false, true, true), ST_C8_IMPORTANT_KEEP);
    assert_int_equal(st_rfm_class8_of(false, false, true), ST_C8_IMPORTANT_RETAIN);
    assert_int_equal(st_rfm_class8_of(true, true, false), ST_C8_GENERAL_VALUE);
    assert_int_equal(st_rfm_class8_of(true, false, false), ST_C8_GENERAL_DEVELOP);
    assert_int_equal(st_rfm_class8_of(false, true, false), ST_C8_GENERAL_KEEP);
    assert_int_equal(st_rfm_class8_of(false, false, false), ST_C8_GENERAL_RETAIN);
}

/* 20 buyers with distinct scores: tiers by share strictly above: 1 T1 (0/20 < 5%), 3 T2
 * (1..3/20 < 20%), 6 T3, 6 T4, 4 T5. Equal scores share the better tier. */
static void tiers_pyramid_and_ties(void **state)
{
    (void)state;
    st_profile rows[20];
    for (int i = 0; i < 20; i++) {
        rows[i] = buyer(1, 1, 1);
        rows[i].r_score = rows[i].f_score = 1;
        rows[i].m_score = 1;
    }
    st_profiles ps = {rows, 20, 0, 20, 0};
    double w[3] = {0, 0, 1}, cuts[4] = {0.05, 0.20, 0.50, 0.80};
    /* use clv as the value so every person gets a distinct score */
    for (int i = 0; i < 20; i++) rows[i].clv = 100 - i;
    assert_int_equal(st_value_tier(&ps, w, cuts, true, 2), STRATA_OK);
    int count[6] = {0};
    for (int i = 0; i < 20; i++) count[rows[i].tier]++;
    assert_int_equal(count[ST_TIER_T1], 1);
    assert_int_equal(count[ST_TIER_T2], 3);
    assert_int_equal(count[ST_TIER_T3], 6);
    assert_int_equal(count[ST_TIER_T4], 6);
    assert_int_equal(count[ST_TIER_T5], 4);
    /* ties: everyone equal → everyone T1 */
    for (int i = 0; i < 20; i++) rows[i].clv = 7;
    assert_int_equal(st_value_tier(&ps, w, cuts, true, 2), STRATA_OK);
    for (int i = 0; i < 20; i++) assert_int_equal(rows[i].tier, ST_TIER_T1);
    /* weighted scores: 25 × (0.2·4 + 0.3·4 + 0.5·4) = 100 */
    rows[0].r_score = rows[0].f_score = rows[0].m_score = 5;
    double w2[3] = {0.2, 0.3, 0.5};
    assert_int_equal(st_value_tier(&ps, w2, cuts, false, 2), STRATA_OK);
    assert_true(fabs(rows[0].value_score - 100.0) < 1e-9);
    assert_true(fabs(rows[1].value_score - 0.0) < 1e-9);
}

/* Tiers from scores (ranked by counting the 125 cells) equal tiers from a rank counted by
 * hand over the persons' value scores; a score out of 1-5 takes the sort, with the same
 * result. */
static void tiers_by_cell_match_ranks(void **state)
{
    (void)state;
    enum { N = 3000 };
    st_profile *rows = calloc(N, sizeof *rows);
    assert_non_null(rows);
    double w[3] = {0.2, 0.3, 0.5}, cuts[4] = {0.05, 0.20, 0.50, 0.80};
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            rows[i] = buyer(1, 1 + (int32_t)(x % 4 == 0), 1);
            if (x % 11 == 0) rows[i].frequency = 0; /* a prospect: no tier */
            rows[i].r_score = (uint8_t)(1 + x % 5), rows[i].f_score = (uint8_t)(1 + (x >> 8) % 5);
            rows[i].m_score = (uint8_t)(1 + (x >> 16) % 5);
        }
        if (round == 1) rows[7].frequency = 1, rows[7].m_score = 6; /* not a 1-5 score */
        st_profiles ps = {rows, N, 0, N, 0};
        assert_int_equal(st_value_tier(&ps, w, cuts, false, 3), STRATA_OK);
        size_t n = 0;
        for (int i = 0; i < N; i++)
            n += rows[i].frequency > 0;
        for (int i = 0; i < N; i++) {
            if (rows[i].frequency == 0) {
                assert_int_equal(rows[i].tier, 0);
                continue;
            }
            size_t above = 0;
            for (int k = 0; k < N; k++)
                above += rows[k].frequency > 0 && rows[k].value_score > rows[i].value_score;
            uint8_t want = ST_TIER_T5;
            for (int c = 0; c < 4; c++)
                if ((double)above / (double)n < cuts[c]) {
                    want = (uint8_t)(ST_TIER_T1 + c);
                    break;
                }
            assert_int_equal(rows[i].tier, want);
        }
    }
    free(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(segment_table_covers_all_cells),
        cmocka_unit_test(segment_examples),
        cmocka_unit_test(rank_below_ties),
        cmocka_unit_test(tiers_by_cell_match_ranks),
        cmocka_unit_test(rank_counts_against_counting),
        cmocka_unit_test(scores_follow_sql_rank),
        cmocka_unit_test(class8_table),
        cmocka_unit_test(tiers_pyramid_and_ties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
