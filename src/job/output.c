/*
 * output.c — profiles.csv and the report. Formatting a million profiles is a visible part of
 * the run, so rounds of person ranges are formatted on all threads into their own buffers
 * and written in order.
 */
#include "job/job.h"
#include "report/report.h"

#include <errno.h>
#include <stdio.h>

#define PERSONS_PER_PART 32768

typedef struct format_job {
    const st_profile_view *view;
    size_t base;   /* first person of the round */
    st_buf *bufs;  /* one per thread */
} format_job;

static strata_status format_rows(st_buf *b, const st_profile_view *view, size_t begin, size_t end)
{
    size_t ncol = st_profile_column_count();
    strata_status st = STRATA_OK;
    for (size_t p = begin; p < end && st == STRATA_OK; p++) {
        /* room for a typical row up front, so the appends below take their inline path */
        st = st_buf_reserve(b, 1024);
        for (size_t c = 0; c < ncol && st == STRATA_OK; c++) {
            if (c) st = st_buf_putc(b, ',');
            st_value v;
            st_profile_column_value(view, p, c, &v);
            if (st == STRATA_OK) {
                if (v.type == ST_V_TEXT) st = st_buf_csv_field(b, v.s.ptr, v.s.len);
                else st = st_value_format(b, &v);
            }
        }
        if (st == STRATA_OK) st = st_buf_putc(b, '\n');
    }
    return st;
}

static strata_status format_part(void *arg, size_t begin, size_t end, unsigned thread)
{
    format_job *fj = arg;
    (void)end;
    /* each thread formats exactly one part of the round */
    size_t first = fj->base + begin * PERSONS_PER_PART;
    size_t last = ST_MIN(first + PERSONS_PER_PART * (end - begin), fj->view->ps->n);
    st_buf_reset(&fj->bufs[thread]);
    return format_rows(&fj->bufs[thread], fj->view, first, last);
}

strata_status strata_job_write_profiles(strata_job *job, const char *path)
{
    strata_ctx *ctx = job->ctx;
    FILE *f = fopen(path, "wb");
    if (!f) return st_error(ctx, STRATA_EIO, "%s: cannot write: %s", path, strerror(errno));
    st_profile_view view = st_job_view(job);
    unsigned threads = st_threads(ctx);
    st_buf bufs[64];
    for (unsigned t = 0; t < threads; t++) st_buf_init(&bufs[t], 0);
    strata_status st = STRATA_OK;
    for (size_t c = 0; c < st_profile_column_count() && st == STRATA_OK; c++) {
        if (c) st = st_buf_putc(&bufs[0], ',');
        if (st == STRATA_OK) st = st_buf_puts(&bufs[0], st_profile_column_name(c));
    }
    if (st == STRATA_OK) st = st_buf_putc(&bufs[0], '\n');
    if (st == STRATA_OK && fwrite(bufs[0].data, 1, bufs[0].len, f) != bufs[0].len) st = STRATA_EIO;
    size_t n = job->profiles.n;
    for (size_t base = 0; base < n && st == STRATA_OK; base += (size_t)threads * PERSONS_PER_PART) {
        size_t parts = ST_MIN((size_t)threads, (n - base + PERSONS_PER_PART - 1) / PERSONS_PER_PART);
        format_job fj = {&view, base, bufs};
        st = st_parallel_for((unsigned)parts, parts, format_part, &fj);
        for (size_t t = 0; t < parts && st == STRATA_OK; t++)
            if (bufs[t].len && fwrite(bufs[t].data, 1, bufs[t].len, f) != bufs[t].len) st = STRATA_EIO;
        st_progress(ctx, "writing profiles", ST_MIN(base + parts * PERSONS_PER_PART, n), n);
    }
    for (unsigned t = 0; t < threads; t++) st_buf_clear(&bufs[t]);
    if (fclose(f) != 0 && st == STRATA_OK) st = STRATA_EIO;
    if (st == STRATA_EIO) return st_error(ctx, st, "%s: write failed", path);
    return st;
}

strata_status strata_job_write_report(strata_job *job, const char *path, const char *lang)
{
    const cJSON *s = st_job_summary(job);
    char *text = s ? cJSON_PrintUnformatted(s) : NULL;
    if (!text) return STRATA_ENOMEM;
    strata_status st = st_report_write(job->ctx, text, strlen(text), lang, path);
    cJSON_free(text);
    return st;
}
