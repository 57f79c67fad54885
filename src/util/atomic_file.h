/*
 * atomic_file.h: replacing a file so that a reader, a kill or a crash finds the old content or the new,
 * never half of either. The one way nncl writes a file it may overwrite (model files, the tuning file, the
 * CLBlast guard's marks). Internal; module util.
 */
#ifndef NNCL_ATOMIC_FILE_H
#define NNCL_ATOMIC_FILE_H

#include <stdio.h>

#include "nncl/nncl_status.h"

/* Writes the whole content to `f`: 1 on success, 0 on a failed write (errno as the failing call left it). */
typedef int (*nncl_write_fn)(FILE *f, const void *user);

/*
 * Replaces `path` with what `write` writes: into a temporary file in the same folder (so the rename never
 * crosses a file system), flushed and fsync'ed (else a crash can leave the new name on unwritten blocks),
 * renamed onto `path`, then the folder fsync'ed (so the rename itself survives a crash). A replaced file
 * keeps its mode (a private model stays private); a new one gets 0644. On failure `path` is unchanged, no
 * temporary file is left, and the error is NNCL_ERR_IO (NNCL_ERR_OOM) naming `path` with `who` in front
 * ("tuning: ", or "" for none).
 */
enum nncl_status nncl_atomic_replace(const char *path, const char *who, nncl_write_fn write, const void *user);

#endif /* NNCL_ATOMIC_FILE_H */
