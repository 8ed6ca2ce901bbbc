/*
 * sort.c — sorting primitives for the hot paths: an LSD radix sort of (64-bit key, 32-bit
 * payload) pairs, and selection of the k-th smallest value. Written by hand because qsort's
 * indirect comparator calls dominated the scoring step on a million persons (measured with
 * perf), and selection only needs O(n).
 */
#include "core/core.h"

strata_status st_radix_sort_pairs(uint64_t *keys, uint32_t *vals, size_t n)
{
    if (n < 2) return STRATA_OK;
    uint64_t *k2 = st_malloc(n * sizeof *k2);
    uint32_t *v2 = vals ? st_malloc(n * sizeof *v2) : NULL;
    if (!k2 || (vals && !v2)) {
        st_free(k2), st_free(v2);
        return STRATA_ENOMEM;
    }
    uint64_t *src_k = keys, *dst_k = k2;
    uint32_t *src_v = vals, *dst_v = v2;
    /* a byte every key shares needs neither a histogram nor a pass (ranks and first lines
     * use three to five of the eight); the others' histograms in one read */
    uint64_t any = 0, all = ~(uint64_t)0;
    for (size_t i = 0; i < n; i++)
        any |= keys[i], all &= keys[i];
    int shifts[8], nbytes = 0;
    for (int byte = 0; byte < 8; byte++)
        if (((any ^ all) >> (8 * byte)) & 0xff) shifts[nbytes++] = 8 * byte;
    size_t(*count)[256] = st_calloc(8, sizeof *count);
    if (!count) {
        st_free(k2), st_free(v2);
        return STRATA_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < nbytes; j++)
            count[j][(keys[i] >> shifts[j]) & 0xff]++;
    for (int j = 0; j < nbytes; j++) {
        int shift = shifts[j];
        size_t *c = count[j];
        size_t pos = 0;
        for (int b = 0; b < 256; b++) {
            size_t m = c[b];
            c[b] = pos;
            pos += m;
        }
        if (vals)
            for (size_t i = 0; i < n; i++) {
                size_t at = c[(src_k[i] >> shift) & 0xff]++;
                dst_k[at] = src_k[i];
                dst_v[at] = src_v[i];
            }
        else
            for (size_t i = 0; i < n; i++)
                dst_k[c[(src_k[i] >> shift) & 0xff]++] = src_k[i];
        uint64_t *tk = src_k;
        src_k = dst_k, dst_k = tk;
        uint32_t *tv = src_v;
        src_v = dst_v, dst_v = tv;
    }
    st_free(count);
    if (src_k != keys) {
        memcpy(keys, src_k, n * sizeof *keys);
        if (vals) memcpy(vals, src_v, n * sizeof *vals);
    }
    st_free(k2);
    st_free(v2);
    return STRATA_OK;
}

int64_t st_select_i64(int64_t *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        /* median of three as the pivot */
        size_t mid = lo + (hi - lo) / 2;
        int64_t a = v[lo], b = v[mid], c = v[hi];
        int64_t pivot = (a < b) ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                int64_t t = v[i];
                v[i] = v[j], v[j] = t;
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}
