/*
 * status_impl.h: how library code reports errors and logs. Internal.
 */
#ifndef NNCL_STATUS_IMPL_H
#define NNCL_STATUS_IMPL_H

#include <stdio.h>
#include <stdlib.h>

#include "nncl/nncl_status.h"

#if defined(__GNUC__)
#define NNCL_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define NNCL_PRINTF(fmt_index, first_arg)
#endif

/** Records the message for nncl_last_error(), logs it at debug level and returns `status`. */
enum nncl_status nncl_set_error(enum nncl_status status, const char *fmt, ...) NNCL_PRINTF(2, 3);

/** Puts `fmt` (formatted) in front of the current nncl_last_error() message, for a caller that adds where
 * the error happened: nncl_prefix_error(st, "%s: ", path) turns "bad value" into "m.safetensors: bad value".
 * Logs it at debug level and returns `status`. */
enum nncl_status nncl_prefix_error(enum nncl_status status, const char *fmt, ...) NNCL_PRINTF(2, 3);

/** An error about one file, named in front: `what "path": message`, e.g. nncl_file_error(NNCL_ERR_FORMAT,
 * "safetensors file", path, "bad dtype %s", d) gives `safetensors file "m.st": bad dtype F8`. The message
 * part is cut at 1023 bytes. Returns `status`. */
enum nncl_status nncl_file_error(enum nncl_status status, const char *what, const char *path, const char *fmt, ...)
    NNCL_PRINTF(4, 5);

/** Sends one line to the log sink when `level` passes the threshold. */
void nncl_log(enum nncl_log_level level, const char *fmt, ...) NNCL_PRINTF(2, 3);

/** Aborts with file:line; for broken invariants only (programmer errors), never for bad input. */
_Noreturn void nncl_abort(const char *file, int line, const char *expr);

/* Never compiled out, unlike assert(). */
#define NNCL_ASSERT(x)                                                                                     \
    do {                                                                                                   \
        if (!(x)) nncl_abort(__FILE__, __LINE__, #x);                                                       \
    } while (0)

#endif /* NNCL_STATUS_IMPL_H */
