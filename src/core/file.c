/*
 * file.c — opening output files.
 */
#include "core/core.h"

#include <unistd.h>

FILE *st_fopen_new(const char *path)
{
    /* An existing file is removed rather than truncated: ext4 (auto_da_alloc) starts
     * write-back of a truncated-and-rewritten file when it is closed, which took 47 ms for a
     * 162 MB profiles.csv on every re-run into the same directory. For readers the result is
     * the same — a new file under the name — except that a symlink there is replaced, not
     * written through. */
    (void)unlink(path); /* if it cannot go (a directory, no permission), fopen says why */
    return fopen(path, "wb");
}
