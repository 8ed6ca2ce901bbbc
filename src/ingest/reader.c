/*
 * reader.c — the input pipeline in front of every ingest: open a file (or take bytes in
 * memory), detect gzip by its magic bytes and inflate it as a stream, hash the stored bytes
 * (XXH3-128, for the run record; SHA-256 was measured to cap the splitter thread), strip a UTF-8
 * BOM, hand the header record to the caller, then cut the byte stream into blocks that end on
 * record boundaries and run the caller's block callback on `threads` workers. Record parsing itself
 * is in reader_cursor.c/jsonl.c.
 *
 * Threads. The calling thread is the splitter: it reads (and inflates) large chunks, scans
 * them for quotes (memchr; quoted fields may hold newlines) and for the last newline outside
 * quotes, and queues the block before that point. Workers take whole blocks. Buffers come
 * from a fixed pool of threads + 3, so memory is bounded by the block size, not the file;
 * the splitter waits when all buffers are in use. With one thread there are no workers and
 * the splitter parses each block itself.
 *
 * In place. Bytes already in memory (a buffer) and plain regular files (mapped read-only)
 * are not copied: blocks are views of them, cut exactly where the streaming splitter would
 * cut, and the pool's buffer ids only bound how many blocks are in flight. read() copying a
 * 0.9 GB file into the pool was a quarter of a core for the whole load on the benchmark.
 * The splitter prefaults each stretch of a mapped file before scanning it, and as blocks are
 * done the pages below the lowest block still wanted are dropped (they stay in the page
 * cache), so resident memory stays about threads + 3 blocks as on the streaming path (plus
 * the page-cache folios, up to 2 MiB each, that the kernel maps whole). A mapped file truncated by
 * another process while it is read faults the reading thread with SIGBUS (the CLI turns that
 * into a message and exit code 74; a long-lived host such as a server should read files with
 * opts.copy_blocks); gzip input, pipes and opts.copy_blocks take the streaming path.
 *
 * Long records. A record that does not end within max_record + 1 bytes is cut there: that
 * prefix goes out as a block of its own (the cursor flags it as too long) and the splitter
 * skips to the record's real end, still tracking quotes and counting lines. So a broken quote
 * in a large file costs one error record and bounded memory, never the whole file in RAM.
 *
 * Block boundaries follow the grammar described in reader_cursor.c; a quote opens quoted text
 * only at the first byte of a field, which the splitter checks by looking at the byte before.
 */
#include "ingest/reader.h"

#include <errno.h>
#include <fcntl.h>
/* inline (see core/intern.c): with -march=native the checksum runs on the machine's widest
 * vectors, where Debian's shared library is built for SSE2 */
#define XXH_INLINE_ALL
#include <xxhash.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#if defined(__AVX512BW__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#define RAW_CHUNK (256u << 10)     /* compressed bytes read per call when inflating */
#define MAX_THREADS 64u
#define PROGRESS_STEP (4u << 20)   /* report progress about every 4 MiB of input */

/* ---------------------------------------------------------------------------------------
 * Source: bytes from a file descriptor or memory, optionally inflated, always hashed.
 * ------------------------------------------------------------------------------------- */

typedef struct source {
    strata_ctx *ctx;
    const char *name;
    int fd; /* -1: memory */
    const unsigned char *mem;
    size_t mem_len, mem_pos;
    unsigned char *in; /* raw read-ahead: the sniffed start, or zlib's input */
    size_t in_len, in_pos;
    bool raw_eof;
    bool gzip, z_live, z_member_done;
    z_stream z;
    XXH3_state_t *md; /* checksum of the stored bytes */
    uint64_t raw_bytes; /* stored bytes consumed */
    uint64_t total;     /* stored size when known (progress), else 0 */
} source;

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    if (size && items > SIZE_MAX / size) return Z_NULL;
    return st_malloc((size_t)items * size);
}

static void z_free(voidpf opaque, voidpf ptr)
{
    (void)opaque;
    st_free(ptr);
}

static strata_status io_error(source *s, const char *what, int err)
{
    char text[256];
    return st_error(s->ctx, STRATA_EIO, "%s: %s: %s", s->name, what,
                    strerror_r(err, text, sizeof text));
}

/* Up to n stored bytes into dst; *got = 0 at the end. Every byte passes through the hash. */
static strata_status raw_read(source *s, unsigned char *dst, size_t n, size_t *got)
{
    size_t k;
    if (s->fd < 0) {
        k = ST_MIN(n, s->mem_len - s->mem_pos);
        if (k) memcpy(dst, s->mem + s->mem_pos, k);
        s->mem_pos += k;
    } else {
        ssize_t r;
        do {
            r = read(s->fd, dst, n);
        } while (r < 0 && errno == EINTR);
        if (r < 0) return io_error(s, "read error", errno);
        k = (size_t)r;
    }
    if (k && XXH3_128bits_update(s->md, dst, k) != XXH_OK)
        return st_error(s->ctx, STRATA_EINTERNAL, "%s: checksum failed", s->name);
    s->raw_bytes += k;
    if (!k && n) s->raw_eof = true;
    *got = k;
    return STRATA_OK;
}

/* Refill the read-ahead buffer (only when it is empty). */
static strata_status raw_refill(source *s)
{
    size_t got = 0;
    strata_status st = raw_read(s, s->in, RAW_CHUNK, &got);
    s->in_pos = 0;
    s->in_len = got;
    return st;
}

/* An input cut in place is hashed as it is cut: only the checksum state is needed. */
static strata_status source_hash_only(source *s)
{
    s->md = XXH3_createState();
    if (!s->md) return st_error(s->ctx, STRATA_ENOMEM, "%s: out of memory", s->name);
    if (XXH3_128bits_reset(s->md) != XXH_OK)
        return st_error(s->ctx, STRATA_EINTERNAL, "%s: checksum unavailable", s->name);
    return STRATA_OK;
}

static strata_status source_open(source *s)
{
    strata_status st = source_hash_only(s);
    if (st != STRATA_OK) return st;
    s->in = st_malloc(RAW_CHUNK);
    if (!s->in) return st_error(s->ctx, STRATA_ENOMEM, "%s: out of memory", s->name);
    /* sniff: gather at least two bytes (pipes may deliver one) */
    while (s->in_len < 2 && !s->raw_eof) {
        size_t got;
        st = raw_read(s, s->in + s->in_len, RAW_CHUNK - s->in_len, &got);
        if (st != STRATA_OK) return st;
        s->in_len += got;
    }
    s->gzip = s->in_len >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b;
    if (s->gzip) {
        memset(&s->z, 0, sizeof s->z);
        s->z.zalloc = z_alloc;
        s->z.zfree = z_free;
        if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)
            return st_error(s->ctx, STRATA_ENOMEM, "%s: cannot start gzip decoder", s->name);
        s->z_live = true;
    }
    return STRATA_OK;
}

static void source_close(source *s)
{
    if (s->z_live) inflateEnd(&s->z);
    if (s->fd >= 0) close(s->fd);
    XXH3_freeState(s->md);
    st_free(s->in);
}

static strata_status gzip_error(source *s, int ret)
{
    if (ret == Z_MEM_ERROR) return st_error(s->ctx, STRATA_ENOMEM, "%s: out of memory", s->name);
    return st_error(s->ctx, STRATA_EPARSE, "%s: corrupt gzip data (%s)", s->name,
                    s->z.msg ? s->z.msg : "bad stream");
}

/* Inflate up to n bytes; handles concatenated members and zero padding after the last. */
static strata_status gzip_read(source *s, char *dst, size_t n, size_t *got)
{
    *got = 0;
    for (;;) {
        if (s->in_pos == s->in_len) {
            if (s->raw_eof) {
                if (s->z_member_done) return STRATA_OK;
                return st_error(s->ctx, STRATA_EPARSE, "%s: truncated gzip data", s->name);
            }
            strata_status st = raw_refill(s);
            if (st != STRATA_OK) return st;
            continue;
        }
        if (s->z_member_done) {
            /* another member, or zero padding (tar and some tools add it), or junk */
            while (s->in_pos < s->in_len && s->in[s->in_pos] == 0) s->in_pos++;
            if (s->in_pos == s->in_len) continue;
            if (s->in[s->in_pos] != 0x1f)
                return st_error(s->ctx, STRATA_EPARSE, "%s: unexpected data after gzip stream",
                                s->name);
            if (inflateReset(&s->z) != Z_OK) return gzip_error(s, Z_STREAM_ERROR);
            s->z_member_done = false;
        }
        s->z.next_in = s->in + s->in_pos;
        s->z.avail_in = (uInt)(s->in_len - s->in_pos);
        s->z.next_out = (Bytef *)dst;
        s->z.avail_out = (uInt)ST_MIN(n, (size_t)UINT32_MAX);
        uInt out_before = s->z.avail_out;
        int ret = inflate(&s->z, Z_NO_FLUSH);
        s->in_pos = s->in_len - s->z.avail_in;
        size_t produced = out_before - s->z.avail_out;
        if (ret == Z_STREAM_END) {
            s->z_member_done = true;
        } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
            return gzip_error(s, ret);
        }
        if (produced) {
            *got = produced;
            return STRATA_OK;
        }
    }
}

/* Up to n uncompressed bytes; *got = 0 at the end of input. */
static strata_status source_read(source *s, char *dst, size_t n, size_t *got)
{
    if (s->gzip) return gzip_read(s, dst, n, got);
    if (s->in_pos < s->in_len) { /* the sniffed start first */
        size_t k = ST_MIN(n, s->in_len - s->in_pos);
        memcpy(dst, s->in + s->in_pos, k);
        s->in_pos += k;
        *got = k;
        return STRATA_OK;
    }
    if (s->raw_eof) {
        *got = 0;
        return STRATA_OK;
    }
    return raw_read(s, (unsigned char *)dst, n, got);
}

/* Uncompressed bytes still to come, when that is known; SIZE_MAX otherwise. */
static size_t source_remaining(const source *s)
{
    if (s->gzip) return SIZE_MAX;
    uint64_t pending = s->in_len - s->in_pos;
    if (s->fd < 0) return (size_t)(s->mem_len - s->mem_pos + pending);
    if (s->total == 0 || s->raw_bytes > s->total) return SIZE_MAX;
    return (size_t)(s->total - s->raw_bytes + pending);
}

/* ---------------------------------------------------------------------------------------
 * Scanning for record boundaries.
 * ------------------------------------------------------------------------------------- */

static uint64_t count_lf(const char *p, size_t n)
{
    uint64_t lines = 0;
    size_t i = 0;
#if defined(__AVX512BW__)
    const __m512i nl = _mm512_set1_epi8('\n');
    for (; n - i >= 64; i += 64)
        lines += (uint64_t)__builtin_popcountll(
            _mm512_cmpeq_epi8_mask(_mm512_loadu_si512((const void *)(p + i)), nl));
#elif defined(__SSE2__)
    const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
    while (n - i >= 16) {
        /* per-byte counters (0 - matches) for up to 255 vectors, then summed with psadbw */
        size_t vecs = ST_MIN((n - i) / 16, (size_t)255);
        __m128i acc = _mm_setzero_si128();
        for (size_t k = 0; k < vecs; k++, i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, nl));
        }
        __m128i sums = _mm_sad_epu8(acc, zero);
        lines += (uint64_t)_mm_cvtsi128_si32(sums) +
                 (uint64_t)_mm_cvtsi128_si32(_mm_unpackhi_epi64(sums, sums));
    }
#endif
    for (; i < n; i++) lines += p[i] == '\n';
    return lines;
}

typedef struct scan_state {
    size_t pos; /* next byte to examine */
    size_t seg; /* outside quotes: first byte not yet searched for a newline */
    bool in_quote;
} scan_state;

/* Position after the first (or last) LF in data[a, b), or 0. */
static size_t search_lf(const char *data, size_t a, size_t b, bool first)
{
    if (a >= b) return 0;
    const char *hit = first ? memchr(data + a, '\n', b - a) : memrchr(data + a, '\n', b - a);
    return hit ? (size_t)(hit - data) + 1 : 0;
}

/* Advance s over data[s->pos, len) and return the position just after the first (first =
 * true) or last newline outside quotes among the bytes scanned, or 0. Position 0 of data
 * must be a record start or a byte already scanned (the skip path keeps one byte back). A
 * quote in the last byte is left pending until more data shows whether it is doubled. */
static size_t scan(const char *data, size_t len, char delim, bool csv, bool eof, scan_state *s,
                   bool first)
{
    size_t last = 0;
    if (!csv) {
        last = search_lf(data, s->seg, len, first);
        s->pos = s->seg = last && first ? last : len;
        return last;
    }
    while (s->pos < len) {
        if (!s->in_quote) {
            /* the next quote that opens a quoted field; mid-field quotes are ordinary bytes */
            const char *h;
            size_t p = s->pos;
            for (;;) {
                h = p < len ? memchr(data + p, '"', len - p) : NULL;
                if (!h) {
                    p = len;
                    break;
                }
                p = (size_t)(h - data);
                if (p == 0 || data[p - 1] == delim || data[p - 1] == '\n') break;
                p++;
            }
            size_t b = search_lf(data, s->seg, p, first);
            if (b) {
                if (first) {
                    s->pos = s->seg = b;
                    return b;
                }
                last = b;
            }
            if (!h) {
                s->pos = s->seg = len;
                break;
            }
            s->in_quote = true;
            s->pos = p + 1;
        } else {
            const char *h = memchr(data + s->pos, '"', len - s->pos);
            if (!h) {
                s->pos = len;
                break;
            }
            size_t q = (size_t)(h - data);
            if (q + 1 == len && !eof) {
                s->pos = q; /* "" or a closing quote? decided when more data comes */
                break;
            }
            if (q + 1 < len && data[q + 1] == '"') {
                s->pos = q + 2;
                continue;
            }
            s->in_quote = false;
            s->pos = s->seg = q + 1;
        }
    }
    return last;
}

static void scan_shift(scan_state *s, size_t by)
{
    s->pos -= by;
    s->seg = s->seg > by ? s->seg - by : 0;
}

/* ---------------------------------------------------------------------------------------
 * The reader: buffer pool, work queue, workers, splitter.
 * ------------------------------------------------------------------------------------- */

typedef struct rbuf {
    char *data;
    size_t len, cap;
} rbuf;

typedef struct job {
    st_block block;
    unsigned buf;
} job;

typedef struct reader reader;
typedef struct worker_arg {
    reader *r;
    unsigned index;
} worker_arg;

struct reader {
    strata_ctx *ctx;
    const char *name, *stage;
    st_reader_opts opts; /* resolved: delimiter, threads, block_size, max_record set */
    st_header_fn on_header;
    st_block_fn on_block;
    void *ud;
    source src;

    rbuf *bufs;
    unsigned nbuf, nfree;
    unsigned *free_ids;
    job *queue;
    unsigned qhead, qlen;
    pthread_mutex_t mu;
    pthread_cond_t cv_job, cv_buf;
    pthread_t *threads;
    worker_arg *args;
    unsigned nthreads; /* running workers; 0 = parse on the splitter */
    bool sync;         /* mutex and condition variables initialised */
    bool closed, stop;
    strata_status failure;

    uint64_t line;     /* physical line of the next byte to be emitted */
    uint64_t lf_total; /* newlines emitted or skipped */
    uint64_t blocks;
    uint64_t bytes;    /* uncompressed bytes, BOM included */
    uint64_t body_bytes;
    char last_byte;
    bool header_done;
    uint64_t progress_at;
    st_cursor *hcur; /* reads the header record */

    /* in place (see the top): the whole input, and whether it is a mapping of ours */
    const char *whole;
    size_t whole_len;
    bool mapped;
    /* a mapping's pages below `dropped` are given back; emitted_to = end of the last block
     * handed on; busy_from[w] = start of the block worker w reads (SIZE_MAX: none) */
    size_t dropped, emitted_to;
    size_t *busy_from;
};

static void lock(reader *r)
{
    if (r->nthreads) pthread_mutex_lock(&r->mu);
}

static void unlock(reader *r)
{
    if (r->nthreads) pthread_mutex_unlock(&r->mu);
}

/* Record the first failure and wake everyone; later failures are ignored. */
static strata_status set_failure(reader *r, strata_status st)
{
    lock(r);
    if (!r->stop) {
        r->stop = true;
        r->failure = st;
        if (r->nthreads) {
            pthread_cond_broadcast(&r->cv_job);
            pthread_cond_broadcast(&r->cv_buf);
        }
    }
    st = r->failure;
    unlock(r);
    return st;
}

/* The start of the lowest part of a mapped input still wanted: every byte below it belongs to
 * blocks that are done (blocks are handed on in order, the queue is first in first out).
 * Called with the lock held. */
static size_t wanted_from(const reader *r)
{
    size_t low = r->emitted_to;
    if (r->qlen) low = ST_MIN(low, (size_t)(r->queue[r->qhead].block.data - r->whole));
    for (unsigned w = 0; w < r->nthreads; w++)
        low = ST_MIN(low, r->busy_from[w]);
    return low;
}

/* Claim the pages of a mapped input below what is still wanted (lock held): [*lo, *hi) is
 * then for the caller to drop, outside the lock. Dropping everything below, not each block's
 * own pages, also takes back pages shared by two blocks and those the kernel mapped again
 * with a neighbour (it maps a page-cache folio of up to 2 MiB whole). */
static bool claim_drop(reader *r, size_t *lo, size_t *hi)
{
    if (!r->mapped) return false;
    size_t page = (size_t)sysconf(_SC_PAGESIZE), to = wanted_from(r) & ~(page - 1);
    if (to <= r->dropped) return false;
    *lo = r->dropped, *hi = to;
    r->dropped = to;
    return true;
}

static void drop(const reader *r, size_t lo, size_t hi)
{
    madvise((void *)(r->whole + lo), hi - lo, MADV_DONTNEED);
}

static void *worker_main(void *arg)
{
    worker_arg *a = arg;
    reader *r = a->r;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->qlen && !r->closed && !r->stop) pthread_cond_wait(&r->cv_job, &r->mu);
        if (r->stop || !r->qlen) break;
        job j = r->queue[r->qhead];
        r->qhead = (r->qhead + 1) % r->nbuf;
        r->qlen--;
        if (r->mapped) r->busy_from[a->index] = (size_t)(j.block.data - r->whole);
        pthread_mutex_unlock(&r->mu);
        strata_status st = r->on_block ? r->on_block(r->ud, a->index, &j.block) : STRATA_OK;
        pthread_mutex_lock(&r->mu);
        if (st != STRATA_OK && !r->stop) {
            r->stop = true;
            r->failure = st;
            pthread_cond_broadcast(&r->cv_job);
            pthread_cond_broadcast(&r->cv_buf);
        }
        r->free_ids[r->nfree++] = j.buf;
        pthread_cond_signal(&r->cv_buf);
        size_t lo, hi;
        if (r->mapped) r->busy_from[a->index] = SIZE_MAX;
        if (claim_drop(r, &lo, &hi)) {
            pthread_mutex_unlock(&r->mu);
            drop(r, lo, hi);
            pthread_mutex_lock(&r->mu);
        }
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* A free buffer (emptied), or -1 once the read has failed. */
static int acquire_buf(reader *r)
{
    lock(r);
    while (!r->nfree && !r->stop) pthread_cond_wait(&r->cv_buf, &r->mu);
    int id = r->stop ? -1 : (int)r->free_ids[--r->nfree];
    unlock(r);
    if (id >= 0) r->bufs[id].len = 0;
    return id;
}

static void release_buf(reader *r, unsigned id)
{
    lock(r);
    r->free_ids[r->nfree++] = id;
    if (r->nthreads) pthread_cond_signal(&r->cv_buf);
    unlock(r);
}

/* Room for `need` bytes. An eighth of slack absorbs the carried partial record of the next
 * round (so a buffer is not regrown to twice the block size for a few hundred bytes) and
 * keeps regrowth geometric while a long record accumulates; never above what the longest
 * kept record needs. */
static bool ensure_cap(reader *r, rbuf *b, size_t need)
{
    if (b->cap >= need) return true;
    size_t ceiling = r->opts.max_record + r->opts.block_size + 64;
    size_t cap = need + need / 8 + 64;
    if (cap > ceiling) cap = ST_MAX(ceiling, need);
    char *p = st_realloc(b->data, cap);
    if (!p) return false;
    b->data = p;
    b->cap = cap;
    return true;
}

static void report_progress(reader *r, bool final)
{
    if (!r->stage) return;
    uint64_t done = r->src.raw_bytes;
    if (final || done - r->progress_at >= PROGRESS_STEP) {
        r->progress_at = done;
        st_progress(r->ctx, r->stage, done, r->src.total ? r->src.total : done);
    }
}

/* Hand data[0, len) on: the header record first (CSV), then a block for the workers. The
 * bytes are buffer `id`'s, or a view of the whole input that the id only accounts for. */
static strata_status emit(reader *r, unsigned id, const char *data, size_t len)
{
    uint64_t first_line = r->line;
    uint64_t lfs = count_lf(data, len);
    r->line += lfs;
    r->lf_total += lfs;
    size_t off = 0;
    if (!r->header_done) {
        st_block hb = {data, len, 0, first_line, &r->opts};
        st_record rec;
        st_cursor_init(r->hcur, &hb);
        if (st_cursor_next(r->hcur, &rec)) {
            r->header_done = true;
            strata_status st = r->on_header ? r->on_header(r->ud, &rec) : STRATA_OK;
            off = r->hcur->pos;
            first_line = r->hcur->line;
            st_cursor_clear(r->hcur);
            if (st != STRATA_OK) {
                release_buf(r, id);
                return set_failure(r, st);
            }
        } else {
            off = len; /* only blank lines so far */
            st_cursor_clear(r->hcur);
        }
    }
    size_t end = r->mapped ? (size_t)(data + len - r->whole) : 0, lo, hi;
    if (off == len) {
        lock(r);
        r->emitted_to = ST_MAX(r->emitted_to, end);
        unlock(r);
        release_buf(r, id);
        return STRATA_OK;
    }
    job j = {{data + off, len - off, r->blocks++, first_line, &r->opts}, id};
    if (!r->nthreads) {
        strata_status st = r->on_block ? r->on_block(r->ud, 0, &j.block) : STRATA_OK;
        r->emitted_to = ST_MAX(r->emitted_to, end);
        if (claim_drop(r, &lo, &hi)) drop(r, lo, hi);
        release_buf(r, id);
        return st == STRATA_OK ? st : set_failure(r, st);
    }
    lock(r);
    r->queue[(r->qhead + r->qlen) % r->nbuf] = j;
    r->qlen++;
    r->emitted_to = ST_MAX(r->emitted_to, end);
    pthread_cond_signal(&r->cv_job);
    unlock(r);
    return STRATA_OK;
}

/* Lines of bytes skipped inside a too-long record still count. */
static void skip_lines(reader *r, const char *p, size_t n)
{
    uint64_t lfs = count_lf(p, n);
    r->lf_total += lfs;
    r->line += lfs;
}

/* Move buf[from, len) of `cur` into a fresh buffer, which is returned (or -1). */
static int carry_over(reader *r, unsigned cur, size_t from)
{
    int nx = acquire_buf(r);
    if (nx < 0) return -1;
    rbuf *a = &r->bufs[cur], *b = &r->bufs[nx];
    size_t n = a->len - from;
    if (!ensure_cap(r, b, n + r->opts.block_size + 1)) {
        release_buf(r, (unsigned)nx);
        set_failure(r, st_error(r->ctx, STRATA_ENOMEM, "%s: out of memory", r->name));
        return -1;
    }
    if (n) memcpy(b->data, a->data + from, n);
    b->len = n;
    return nx;
}

/* Read into b until it holds block_size more bytes or the input ends. */
static strata_status fill(reader *r, rbuf *b, bool first, bool *eof)
{
    /* when the rest is known to fit, ask for one byte more so the end is seen now and the
     * input goes out as one block instead of a block and a tail */
    size_t remaining = source_remaining(&r->src);
    size_t want = remaining < r->opts.block_size ? remaining + 1 : r->opts.block_size;
    if (first) want = ST_MAX(want, (size_t)4); /* enough to see a BOM */
    size_t target = b->len + ST_MAX(want, (size_t)1);
    if (!ensure_cap(r, b, target + 1))
        return st_error(r->ctx, STRATA_ENOMEM, "%s: out of memory", r->name);
    size_t start = b->len;
    while (b->len < target) {
        size_t got;
        strata_status st = source_read(&r->src, b->data + b->len, target - b->len, &got);
        if (st != STRATA_OK) return st;
        if (!got) {
            *eof = true;
            break;
        }
        b->len += got;
    }
    r->bytes += b->len - start;
    if (first && b->len >= 3 && memcmp(b->data, "\xEF\xBB\xBF", 3) == 0) {
        memmove(b->data, b->data + 3, b->len - 3);
        b->len -= 3;
        start = 0;
    } else if (first) {
        start = 0;
    }
    if (b->len > start) {
        r->body_bytes += b->len - start;
        r->last_byte = b->data[b->len - 1];
    }
    return STRATA_OK;
}

static strata_status split(reader *r)
{
    const bool csv = r->opts.format == ST_FMT_CSV;
    const char delim = r->opts.delimiter;
    const size_t max_record = r->opts.max_record;
    scan_state ss = {0, 0, false};
    bool eof = false, first = true, skipping = false;
    int cur = acquire_buf(r);
    if (cur < 0) return r->failure;
    for (;;) {
        rbuf *b = &r->bufs[cur];
        if (!eof) {
            strata_status st = fill(r, b, first, &eof);
            if (st != STRATA_OK) {
                release_buf(r, (unsigned)cur);
                return set_failure(r, st);
            }
            first = false;
            report_progress(r, false);
        }
        if (skipping) { /* inside a too-long record: drop bytes up to its end */
            size_t end = scan(b->data, b->len, delim, csv, eof, &ss, true);
            if (end) {
                skip_lines(r, b->data, end);
                memmove(b->data, b->data + end, b->len - end);
                b->len -= end;
                ss = (scan_state){0, 0, false};
                skipping = false;
            } else if (eof) {
                skip_lines(r, b->data, b->len);
                b->len = 0;
            } else { /* keep the last byte: the scanner looks one byte back */
                size_t drop = b->len - 1;
                skip_lines(r, b->data, drop);
                memmove(b->data, b->data + drop, 1);
                b->len = 1;
                scan_shift(&ss, drop);
                continue;
            }
        }
        if (b->len == 0 && eof) break;
        size_t cut = scan(b->data, b->len, delim, csv, eof, &ss, false);
        if (eof) cut = b->len; /* whatever is left is whole records */
        if (cut) {
            int nx = -1;
            if (cut < b->len) {
                nx = carry_over(r, (unsigned)cur, cut);
                if (nx < 0) {
                    release_buf(r, (unsigned)cur);
                    return r->failure;
                }
                scan_shift(&ss, cut);
            } else {
                ss = (scan_state){0, 0, false};
            }
            strata_status st = emit(r, (unsigned)cur, b->data, cut);
            if (st != STRATA_OK) {
                if (nx >= 0) release_buf(r, (unsigned)nx);
                return st;
            }
            if (nx < 0) {
                if (eof) break;
                nx = acquire_buf(r);
                if (nx < 0) return r->failure;
            }
            cur = nx;
            continue;
        }
        if (ss.pos > max_record + 1) {
            /* no record end within max_record + 1 bytes: send that much, skip the rest */
            int nx = carry_over(r, (unsigned)cur, max_record + 1);
            if (nx < 0) {
                release_buf(r, (unsigned)cur);
                return r->failure;
            }
            scan_shift(&ss, max_record + 1);
            strata_status st = emit(r, (unsigned)cur, b->data, max_record + 1);
            if (st != STRATA_OK) {
                release_buf(r, (unsigned)nx);
                return st;
            }
            cur = nx;
            skipping = true;
        }
    }
    return STRATA_OK;
}

/* The input in place (see the top): the same cuts as split(), over views of r->whole. The
 * view [start, end) plays the buffer: end moves on by block_size where split() would read,
 * start moves past each block emitted or each stretch skipped. */
static strata_status split_in_place(reader *r)
{
    const bool csv = r->opts.format == ST_FMT_CSV;
    const char delim = r->opts.delimiter;
    const size_t max_record = r->opts.max_record, size = r->whole_len;
    const char *data = r->whole;
    size_t start = size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0, end = start;
    r->bytes = size;
    r->body_bytes = size - start;
    if (size > start) r->last_byte = data[size - 1];
    if (start && XXH3_128bits_update(r->src.md, data, start) != XXH_OK)
        return set_failure(r, st_error(r->ctx, STRATA_EINTERNAL, "%s: checksum failed", r->name));
    scan_state ss = {0, 0, false};
    bool eof = size == start, skipping = false;
    for (;;) {
        if (!eof) {
            /* the last blocks are smaller: the workers finish together instead of one
             * parsing a whole block alone at the end (~0.02 s of one core at 8 MiB) */
            size_t step = r->opts.block_size, left = size - end;
            if (left < 4 * step) step = ST_MAX(step / 8, ST_MIN(step, (size_t)1 << 20));
            size_t next = left > step ? end + step : size;
#ifdef MADV_POPULATE_READ
            /* one call maps the stretch's pages instead of a fault per 64 KiB of scanning (an
             * older kernel refuses it, and the scan faults them in) */
            if (r->mapped) {
                uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
                uintptr_t lo = (uintptr_t)(data + end) & ~(page - 1);
                madvise((void *)lo, (uintptr_t)(data + next) - lo, MADV_POPULATE_READ);
            }
#endif
            if (XXH3_128bits_update(r->src.md, data + end, next - end) != XXH_OK)
                return set_failure(
                    r, st_error(r->ctx, STRATA_EINTERNAL, "%s: checksum failed", r->name));
            end = next;
            eof = end == size;
            r->src.raw_bytes = end;
            report_progress(r, false);
        }
        if (skipping) { /* inside a too-long record: skip bytes up to its end */
            size_t cut = scan(data + start, end - start, delim, csv, eof, &ss, true);
            if (cut) {
                skip_lines(r, data + start, cut);
                start += cut;
                ss = (scan_state){0, 0, false};
                skipping = false;
            } else if (eof) {
                skip_lines(r, data + start, end - start);
                start = end;
            } else { /* keep the last byte: the scanner looks one byte back */
                size_t drop = end - start - 1;
                skip_lines(r, data + start, drop);
                start += drop;
                scan_shift(&ss, drop);
                continue;
            }
        }
        if (start == end && eof) break;
        size_t len = end - start, cut = scan(data + start, len, delim, csv, eof, &ss, false);
        if (eof) cut = len; /* whatever is left is whole records */
        if (!cut && ss.pos > max_record + 1) {
            cut = max_record + 1; /* no record end within max_record + 1 bytes: that much goes */
            skipping = true;      /* out, the rest is skipped */
        }
        if (!cut) continue;
        if (cut < len)
            scan_shift(&ss, cut);
        else
            ss = (scan_state){0, 0, false};
        int id = acquire_buf(r);
        if (id < 0) return r->failure;
        strata_status st = emit(r, (unsigned)id, data + start, cut);
        if (st != STRATA_OK) return st;
        start += cut;
        if (start == end && eof) break;
    }
    return STRATA_OK;
}

static strata_status check_opts(strata_ctx *ctx, const char *name, const st_reader_opts *in,
                                st_reader_opts *out)
{
    static const st_reader_opts defaults = {ST_FMT_CSV, ',', 1, 0, NULL, 0, 0, false};
    *out = in ? *in : defaults;
    if (!out->delimiter) out->delimiter = ',';
    if (out->delimiter == '"' || out->delimiter == '\n' || out->delimiter == '\r')
        return st_error(ctx, STRATA_EINVAL, "%s: the delimiter cannot be a quote or newline", name);
    if (out->format != ST_FMT_CSV && out->format != ST_FMT_JSONL)
        return st_error(ctx, STRATA_EINVAL, "%s: unknown input format", name);
    if (out->format == ST_FMT_JSONL &&
        (out->jsonl_nkeys > ST_READER_MAX_FIELDS || (out->jsonl_nkeys && !out->jsonl_keys)))
        return st_error(ctx, STRATA_EINVAL, "%s: at most %d JSON keys can be read", name,
                        ST_READER_MAX_FIELDS);
    if (!out->threads) out->threads = 1;
    if (out->threads > MAX_THREADS) out->threads = MAX_THREADS;
    if (!out->block_size) out->block_size = ST_READER_DEFAULT_BLOCK;
    if (!out->max_record) out->max_record = ST_READER_MAX_RECORD;
    if (out->max_record > SIZE_MAX / 4 || out->block_size > SIZE_MAX / 4)
        return st_error(ctx, STRATA_EINVAL, "%s: block or record size too large", name);
    return STRATA_OK;
}

/* Start the workers; if no thread can be started the splitter parses blocks itself. */
static void start_workers(reader *r)
{
    if (r->opts.threads < 2) return;
    r->threads = st_calloc(r->opts.threads, sizeof *r->threads);
    r->args = st_calloc(r->opts.threads, sizeof *r->args);
    if (!r->threads || !r->args) return;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv_job, NULL);
    pthread_cond_init(&r->cv_buf, NULL);
    r->sync = true;
    unsigned started = 0;
    for (unsigned i = 0; i < r->opts.threads; i++) {
        r->args[i] = (worker_arg){r, i};
        if (pthread_create(&r->threads[i], NULL, worker_main, &r->args[i]) != 0) break;
        started++;
    }
    r->nthreads = started; /* lock() is live from here on */
}

static void stop_workers(reader *r)
{
    if (!r->sync) return;
    if (r->nthreads) {
        pthread_mutex_lock(&r->mu);
        r->closed = true;
        pthread_cond_broadcast(&r->cv_job);
        pthread_mutex_unlock(&r->mu);
        for (unsigned i = 0; i < r->nthreads; i++) pthread_join(r->threads[i], NULL);
    }
    pthread_cond_destroy(&r->cv_job);
    pthread_cond_destroy(&r->cv_buf);
    pthread_mutex_destroy(&r->mu);
}

static strata_status run(reader *r, st_reader_stats *stats)
{
    strata_status st = r->whole ? source_hash_only(&r->src) : source_open(&r->src);
    if (st != STRATA_OK) return st;
    r->line = 1;
    r->header_done = r->opts.format == ST_FMT_JSONL;
    if (r->opts.format == ST_FMT_JSONL && r->on_header) {
        st_record hdr;
        memset(&hdr, 0, sizeof hdr);
        for (size_t i = 0; i < r->opts.jsonl_nkeys; i++)
            r->hcur->fields[i] = st_sv_cstr(r->opts.jsonl_keys[i]);
        hdr.fields = r->hcur->fields;
        hdr.nfields = (uint32_t)r->opts.jsonl_nkeys;
        hdr.raw = st_sv_make("", 0);
        st = r->on_header(r->ud, &hdr);
        if (st != STRATA_OK) return st;
    }
    /* the splitter holds two (one filling, one carried into), the queue and the workers the
     * rest; without workers two are enough */
    r->nbuf = r->opts.threads < 2 ? 2 : r->opts.threads + 3;
    r->bufs = st_calloc(r->nbuf, sizeof *r->bufs);
    r->free_ids = st_calloc(r->nbuf, sizeof *r->free_ids);
    r->queue = st_calloc(r->nbuf, sizeof *r->queue);
    if (!r->bufs || !r->free_ids || !r->queue)
        return st_error(r->ctx, STRATA_ENOMEM, "%s: out of memory", r->name);
    for (unsigned i = 0; i < r->nbuf; i++) r->free_ids[r->nfree++] = r->nbuf - 1 - i;

    if (r->mapped) {
        r->busy_from = st_malloc(ST_MAX(r->opts.threads, 1u) * sizeof *r->busy_from);
        if (!r->busy_from) return st_error(r->ctx, STRATA_ENOMEM, "%s: out of memory", r->name);
        for (unsigned w = 0; w < ST_MAX(r->opts.threads, 1u); w++)
            r->busy_from[w] = SIZE_MAX;
    }
    start_workers(r);
    if (!r->stop) st = r->whole ? split_in_place(r) : split(r);
    stop_workers(r);
    if (r->stop) st = r->failure;
    if (st == STRATA_OK && !r->header_done)
        st = st_error(r->ctx, STRATA_EDATA, "%s: no header line (the input is empty)", r->name);
    if (st == STRATA_OK) report_progress(r, true);

    if (stats) {
        stats->bytes = r->bytes;
        stats->file_bytes = r->src.raw_bytes;
        stats->lines = r->lf_total + (r->body_bytes && r->last_byte != '\n' ? 1 : 0);
        stats->blocks = r->blocks;
        stats->gzip = r->src.gzip;
        if (st == STRATA_OK) {
            XXH128_canonical_t c;
            XXH128_canonicalFromHash(&c, XXH3_128bits_digest(r->src.md));
            memcpy(stats->checksum, c.digest, sizeof stats->checksum);
        }
    }
    return st;
}

static strata_status run_common(reader *r, st_reader_stats *stats)
{
    if (stats) memset(stats, 0, sizeof *stats);
    r->hcur = st_malloc(sizeof *r->hcur);
    strata_status st = r->hcur ? run(r, stats)
                               : st_error(r->ctx, STRATA_ENOMEM, "%s: out of memory", r->name);
    source_close(&r->src);
    if (r->bufs)
        for (unsigned i = 0; i < r->nbuf; i++) st_free(r->bufs[i].data);
    st_free(r->bufs);
    st_free(r->free_ids);
    st_free(r->queue);
    st_free(r->threads);
    st_free(r->args);
    st_free(r->hcur);
    st_free(r->busy_from);
    if (r->mapped) munmap((void *)r->whole, r->whole_len);
    return st;
}

strata_status st_reader_run(strata_ctx *ctx, const char *path, const char *stage,
                            const st_reader_opts *opts, st_header_fn on_header,
                            st_block_fn on_block, void *user_data, st_reader_stats *stats)
{
    reader r;
    memset(&r, 0, sizeof r);
    if (stats) memset(stats, 0, sizeof *stats);
    strata_status st = check_opts(ctx, path, opts, &r.opts);
    if (st != STRATA_OK) return st;
    char text[256];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return st_error(ctx, STRATA_ENOINPUT, "%s: cannot open: %s", path,
                        strerror_r(errno, text, sizeof text));
    struct stat sb;
    int err = fstat(fd, &sb) != 0 ? errno : S_ISDIR(sb.st_mode) ? EISDIR : 0;
    if (err) {
        close(fd);
        return st_error(ctx, STRATA_ENOINPUT, "%s: cannot open: %s", path,
                        strerror_r(err, text, sizeof text));
    }
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    r.ctx = ctx;
    r.name = path;
    r.stage = stage;
    r.on_header = on_header;
    r.on_block = on_block;
    r.ud = user_data;
    r.src.ctx = ctx;
    r.src.name = path;
    r.src.fd = fd;
    r.src.total = S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
    if (S_ISREG(sb.st_mode) && sb.st_size > 0 && (uint64_t)sb.st_size <= SIZE_MAX &&
        !r.opts.copy_blocks) {
        void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        const unsigned char *m = map;
        if (map != MAP_FAILED && (sb.st_size < 2 || m[0] != 0x1f || m[1] != 0x8b)) {
            r.whole = map;
            r.whole_len = (size_t)sb.st_size;
            r.mapped = true;
        } else if (map != MAP_FAILED) { /* gzip: inflated as a stream */
            munmap(map, (size_t)sb.st_size);
        }
    }
    return run_common(&r, stats);
}

strata_status st_reader_run_buffer(strata_ctx *ctx, const char *name, const char *data,
                                   size_t len, const st_reader_opts *opts,
                                   st_header_fn on_header, st_block_fn on_block,
                                   void *user_data, st_reader_stats *stats)
{
    reader r;
    memset(&r, 0, sizeof r);
    if (stats) memset(stats, 0, sizeof *stats);
    if (!name) name = "input";
    strata_status st = check_opts(ctx, name, opts, &r.opts);
    if (st != STRATA_OK) return st;
    r.ctx = ctx;
    r.name = name;
    r.on_header = on_header;
    r.on_block = on_block;
    r.ud = user_data;
    r.src.ctx = ctx;
    r.src.name = name;
    r.src.fd = -1;
    r.src.mem = (const unsigned char *)data;
    r.src.mem_len = data ? len : 0;
    r.src.total = len;
    bool gzip = len >= 2 && (unsigned char)data[0] == 0x1f && (unsigned char)data[1] == 0x8b;
    if (data && !gzip && !r.opts.copy_blocks) {
        r.whole = data;
        r.whole_len = len;
    }
    return run_common(&r, stats);
}

static bool ends_with_nocase(st_sv s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s.len >= n && st_sv_eq_nocase(st_sv_make(s.ptr + s.len - n, n), st_sv_make(suffix, n));
}

st_format st_format_of_path(const char *path)
{
    st_sv s = st_sv_cstr(path);
    if (ends_with_nocase(s, ".gz")) s.len -= 3;
    if (ends_with_nocase(s, ".jsonl") || ends_with_nocase(s, ".ndjson") ||
        ends_with_nocase(s, ".json"))
        return ST_FMT_JSONL;
    return ST_FMT_CSV;
}
