/*
 * file.c — output files that appear whole or not at all.
 *
 * An output is written under a temporary name beside its final one (PATH.part) and renamed
 * over it only when every byte went out: a run that stops half way (disk full, a write error,
 * a later stage failing) leaves the previous run's file as it was, never half a file.
 */
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

static bool part_name(const char *path, char out[PATH_MAX])
{
    int n = snprintf(out, PATH_MAX, "%s.part", path);
    if (n < 0 || n >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return false;
    }
    return true;
}

FILE *st_fopen_new(const char *path)
{
    char part[PATH_MAX];
    if (!part_name(path, part)) return NULL;
    (void)unlink(part); /* a leftover of a killed run, or a symlink: not written through */
    return fopen(part, "wb");
}

static void *close_fd(void *fd)
{
    close((int)(intptr_t)fd);
    return NULL;
}

/* The last reference to a removed file frees its cached pages: for a large one (~15 ms for a
 * 162 MB profiles.csv) that happens on a thread of its own, alongside the rest of the run.
 * errno is left as it was. */
static void release_later(int fd)
{
    int saved = errno;
    struct stat st;
    pthread_attr_t attr;
    pthread_t thread;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (16 << 20) &&
        pthread_attr_init(&attr) == 0) {
        bool started = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
                       pthread_create(&thread, &attr, close_fd, (void *)(intptr_t)fd) == 0;
        pthread_attr_destroy(&attr);
        if (started) {
            errno = saved;
            return;
        }
    }
    close(fd);
    errno = saved;
}

int st_fclose_new(FILE *f, const char *path, bool keep)
{
    char part[PATH_MAX];
    int rc = fclose(f);
    if (!part_name(path, part)) return EOF;
    if (rc == 0 && keep) {
        /* The old file is removed before the rename rather than replaced by it: ext4
         * (auto_da_alloc) starts write-back of a file renamed over another (or truncated and
         * rewritten), which took 47 ms for a 162 MB profiles.csv on every re-run into the same
         * directory. If it cannot go (a directory, no permission), the rename says why. It is
         * held open meanwhile, so that its pages are freed when it is closed (release_later),
         * not inside unlink. */
#ifdef O_PATH
        int old = open(path, O_PATH | O_CLOEXEC); /* a reference only: nothing is opened */
#else
        int old = -1;
#endif
        (void)unlink(path);
        rc = rename(part, path) == 0 ? 0 : EOF;
        if (old >= 0) release_later(old);
        if (rc == 0) return 0;
    }
    int saved = errno;
    (void)unlink(part);
    errno = saved;
    return keep ? rc : 0;
}
