/*
 * nncl_status.h: status codes, the last-error message and the log callback.
 *
 * Every fallible nncl call returns an enum nncl_status. NNCL_OK is zero, so `if (st)` means failure.
 * The specifics of the latest failure on the calling thread (which op, which shapes, which OpenCL call,
 * and what to do about it) are in nncl_last_error(). The library never calls exit().
 */
#ifndef NNCL_STATUS_H
#define NNCL_STATUS_H

#include "nncl_export.h"

#ifdef __cplusplus
extern "C" {
#endif

enum nncl_status {
    NNCL_OK = 0,
    NNCL_ERR_INVALID_ARG,  /* a NULL pointer, an unknown name or an out-of-range parameter */
    NNCL_ERR_SHAPE,        /* tensor shapes do not fit the op, or a tensor does not fit its buffer */
    NNCL_ERR_OOM,          /* host or device memory could not be allocated */
    NNCL_ERR_UNSUPPORTED,  /* the backend does not implement this op */
    NNCL_ERR_NO_DEVICE,    /* no OpenCL platform or device, or the ICD loader is missing */
    NNCL_ERR_OPENCL,       /* an OpenCL call failed; the message names the call and the CL_ code */
    NNCL_ERR_KERNEL_BUILD, /* an OpenCL program did not compile; the message holds the build log */
    NNCL_ERR_CLBLAST,      /* a CLBlast call failed; the message names the routine and the code */
    NNCL_ERR_IO,           /* a file could not be opened, read or written */
    NNCL_ERR_FORMAT,       /* a file or string is malformed; the message names where */
    NNCL_ERR_NUMERIC,      /* a NaN or infinity where a finite number is required */
    NNCL_STATUS_COUNT
};

/** A short constant description of a status code, never NULL. */
NNCL_API const char *nncl_status_string(enum nncl_status status);

/**
 * The message of the latest failure on the calling thread: the op or call, the shapes or the file,
 * and a hint. Owned by the library (a thread-local buffer), valid until the next failing call on this
 * thread; do not free it. An empty string when nothing has failed yet.
 */
NNCL_API const char *nncl_last_error(void);

/** Clears the calling thread's last-error message. */
NNCL_API void nncl_clear_error(void);

enum nncl_log_level {
    NNCL_LOG_DEBUG = 0,
    NNCL_LOG_INFO,
    NNCL_LOG_WARN,
    NNCL_LOG_ERROR,
    NNCL_LOG_NONE /* as a threshold: log nothing */
};

/** A log sink. `msg` has no trailing newline and is only valid during the call. */
typedef void (*nncl_log_fn)(enum nncl_log_level level, const char *msg, void *user_data);

/**
 * Routes the library's log lines to `fn` (NULL restores the default, which writes lines at or above
 * the threshold to stderr). The default threshold is NNCL_LOG_WARN, or the environment variable
 * NNCL_LOG_LEVEL (debug, info, warn, error, none).
 */
NNCL_API void nncl_log_set(nncl_log_fn fn, void *user_data);

/** Sets the threshold below which lines are dropped before reaching any sink. */
NNCL_API void nncl_log_set_level(enum nncl_log_level level);

#include "nncl_export.h"

#ifdef __cplusplus
}
#endif

#endif /* NNCL_STATUS_H */
