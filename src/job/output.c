/*
 * output.c — profiles.csv and the report. Formatting a million profiles is a visible part of
 * the run, so all threads take parts of the person range in turn and format each into their
 * own buffer; parts take their file offsets in part order and are written with pwrite outside
 * the lock, so copying into the page cache (a visible cost of its own) also runs on all
 * threads.
 */
#include "job/job.h"
#include "report/report.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#define PERSONS_PER_PART 8192

/* A thread's buffer on cache lines of its own: its length changes on every append. */
typedef struct thread_buf {
    st_buf buf;
    char pad_[64 - sizeof(st_buf) % 64];
} thread_buf;

typedef struct write_job {
    strata_ctx *ctx;
    const st_profile_view *view;
    int fd;
    thread_buf *bufs; /* one per thread */
    size_t n, nparts;
    atomic_size_t next_part; /* the next part to format */
    pthread_mutex_t lock;    /* guards placed, offset and status */
    pthread_cond_t turn;
    size_t placed; /* parts that have their offset */
    off_t offset;  /* where the next part goes */
    strata_status status;
    int error; /* errno of a failed write: errno itself is the writing thread's own */
} write_job;

static strata_status format_rows(st_buf *b, const st_profile_view *view, size_t begin, size_t end)
{
    strata_status st = STRATA_OK;
    for (size_t p = begin; p < end && st == STRATA_OK; p++)
        st = st_profile_csv_row(b, view, p);
    return st;
}

static bool write_at(int fd, const char *p, size_t n, off_t at)
{
    while (n) {
        ssize_t w = pwrite(fd, p, n, at);
        if (w < 0 && errno == EINTR) continue;
        if (w == 0) errno = ENOSPC;
        if (w <= 0) return false;
        p += w, n -= (size_t)w, at += w;
    }
    return true;
}

/* Parts are taken in increasing order and each thread holds at most one, so the lowest part
 * not yet placed always belongs to a thread that will place it: no thread waits forever. */
static strata_status format_and_write(void *arg, size_t begin, size_t end, unsigned thread)
{
    (void)begin, (void)end;
    write_job *j = arg;
    st_buf *b = &j->bufs[thread].buf;
    for (;;) {
        size_t part = atomic_fetch_add(&j->next_part, 1);
        if (part >= j->nparts) break;
        size_t first = part * PERSONS_PER_PART, last = ST_MIN(first + PERSONS_PER_PART, j->n);
        st_buf_reset(b);
        strata_status st = format_rows(b, j->view, first, last);
        pthread_mutex_lock(&j->lock);
        while (j->placed != part && j->status == STRATA_OK)
            pthread_cond_wait(&j->turn, &j->lock);
        if (j->status == STRATA_OK) j->status = st;
        off_t at = j->offset;
        j->offset += (off_t)b->len;
        j->placed = part + 1;
        if (j->status == STRATA_OK) st_progress(j->ctx, "writing profiles", last, j->n);
        st = j->status;
        pthread_cond_broadcast(&j->turn);
        pthread_mutex_unlock(&j->lock);
        if (st != STRATA_OK) break;
        if (!write_at(j->fd, b->data, b->len, at)) {
            pthread_mutex_lock(&j->lock);
            j->status = STRATA_EIO;
            j->error = errno;
            pthread_cond_broadcast(&j->turn);
            pthread_mutex_unlock(&j->lock);
            break;
        }
    }
    return STRATA_OK;
}

static void *build_summary_thread(void *job)
{
    st_job_summary(job);
    return NULL;
}

strata_status strata_job_write_profiles(strata_job *job, const char *path)
{
    strata_ctx *ctx = job->ctx;
    FILE *f = st_fopen_new(path);
    if (!f) return st_error(ctx, STRATA_EIO, "%s: cannot write: %s", path, strerror(errno));
    st_profile_view view = st_job_view(job);
    st_day_texts days;
    if (st_day_texts_build(&days, &job->profiles) != STRATA_OK) {
        st_fclose_new(f, path, false);
        return STRATA_ENOMEM;
    }
    view.days = &days;
    unsigned threads = st_threads(ctx);
    if (threads > 64) threads = 64;
    thread_buf bufs[64];
    int write_error = 0;
    for (unsigned t = 0; t < threads; t++)
        st_buf_init(&bufs[t].buf, 0);
    strata_status st = STRATA_OK;
    for (size_t c = 0; c < st_profile_column_count() && st == STRATA_OK; c++) {
        if (c) st = st_buf_putc(&bufs[0].buf, ',');
        if (st == STRATA_OK) st = st_buf_puts(&bufs[0].buf, st_profile_column_name(c));
    }
    if (st == STRATA_OK) st = st_buf_putc(&bufs[0].buf, '\n');
    if (st == STRATA_OK && fwrite(bufs[0].buf.data, 1, bufs[0].buf.len, f) != bufs[0].buf.len)
        st = STRATA_EIO;
    if (st == STRATA_OK && fflush(f) != 0) st = STRATA_EIO; /* the parts go around stdio */
    if (st == STRATA_OK) {
        write_job j = {
            .ctx = ctx, .view = &view, .fd = fileno(f), .bufs = bufs, .n = job->profiles.n};
        j.offset = (off_t)bufs[0].buf.len;
        j.nparts = (j.n + PERSONS_PER_PART - 1) / PERSONS_PER_PART;
        atomic_init(&j.next_part, 0);
        pthread_mutex_init(&j.lock, NULL);
        pthread_cond_init(&j.turn, NULL);
        /* the summary (read by every later output) is built on a thread of its own meanwhile:
         * both only read the profiles, and the writers wait on the disk now and then */
        pthread_t summarizer;
        bool summarizing = pthread_create(&summarizer, NULL, build_summary_thread, job) == 0;
        st = st_parallel_for(threads, threads, format_and_write, &j);
        if (summarizing) pthread_join(summarizer, NULL);
        if (st == STRATA_OK) st = j.status;
        write_error = j.error;
        pthread_cond_destroy(&j.turn);
        pthread_mutex_destroy(&j.lock);
    }
    for (unsigned t = 0; t < threads; t++)
        st_buf_clear(&bufs[t].buf);
    st_day_texts_clear(&days);
    if (st_fclose_new(f, path, st == STRATA_OK) != 0 && st == STRATA_OK) st = STRATA_EIO;
    if (st == STRATA_EIO)
        return st_error(ctx, st, "%s: write failed: %s", path,
                        strerror(write_error ? write_error : errno));
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
