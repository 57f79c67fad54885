/*
 * status.c: status strings, the thread-local last-error message, the log sink and nncl_abort.
 */
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "status_impl.h"

static const char *const status_strings[NNCL_STATUS_COUNT] = {
    [NNCL_OK] = "success",
    [NNCL_ERR_INVALID_ARG] = "invalid argument",
    [NNCL_ERR_SHAPE] = "tensor shapes do not match",
    [NNCL_ERR_OOM] = "out of memory",
    [NNCL_ERR_UNSUPPORTED] = "not supported by this backend or build",
    [NNCL_ERR_NO_DEVICE] = "no OpenCL device",
    [NNCL_ERR_OPENCL] = "OpenCL call failed",
    [NNCL_ERR_KERNEL_BUILD] = "OpenCL kernel build failed",
    [NNCL_ERR_CLBLAST] = "CLBlast call failed",
    [NNCL_ERR_IO] = "file input/output failed",
    [NNCL_ERR_FORMAT] = "malformed input",
    [NNCL_ERR_NUMERIC] = "non-finite number",
};

const char *nncl_status_string(enum nncl_status status) {
    if ((unsigned)status >= NNCL_STATUS_COUNT) return "unknown status";
    return status_strings[status];
}

/* Large enough for a full OpenCL build log of one program. */
static _Thread_local char last_error[16384];

const char *nncl_last_error(void) { return last_error; }

void nncl_clear_error(void) { last_error[0] = '\0'; }

enum nncl_status nncl_set_error(enum nncl_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    nncl_log(NNCL_LOG_DEBUG, "error (%s): %s", nncl_status_string(status), last_error);
    return status;
}

enum nncl_status nncl_file_error(enum nncl_status status, const char *what, const char *path, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nncl_set_error(status, "%s \"%s\": %s", what, path, msg);
}

enum nncl_status nncl_prefix_error(enum nncl_status status, const char *fmt, ...) {
    char prefix[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    const size_t n = strlen(prefix), old = strlen(last_error);
    const size_t keep = old < sizeof last_error - 1 - n ? old : sizeof last_error - 1 - n; /* n < 1024 */
    memmove(last_error + n, last_error, keep);
    memcpy(last_error, prefix, n);
    last_error[n + keep] = '\0';
    nncl_log(NNCL_LOG_DEBUG, "error (%s): %s", nncl_status_string(status), last_error);
    return status;
}

static void log_to_stderr(enum nncl_log_level level, const char *msg, void *user_data) {
    static const char *const names[] = {"debug", "info", "warning", "error"};
    (void)user_data;
    fprintf(stderr, "nncl %s: %s\n", names[level], msg);
}

static nncl_log_fn log_fn = log_to_stderr;
static void *log_user_data;
static int log_threshold = -1; /* -1: not read from NNCL_LOG_LEVEL yet */

void nncl_log_set(nncl_log_fn fn, void *user_data) {
    log_fn = fn ? fn : log_to_stderr;
    log_user_data = fn ? user_data : NULL;
}

void nncl_log_set_level(enum nncl_log_level level) { log_threshold = (int)level; }

static int threshold_from_env(void) {
    static const char *const names[] = {"debug", "info", "warn", "error", "none"};
    const char *env = getenv("NNCL_LOG_LEVEL");
    if (env) {
        for (int i = 0; i <= NNCL_LOG_NONE; i++) {
            if (strcasecmp(env, names[i]) == 0) return i;
        }
    }
    return NNCL_LOG_WARN;
}

void nncl_log(enum nncl_log_level level, const char *fmt, ...) {
    if (log_threshold < 0) log_threshold = threshold_from_env();
    if ((int)level < log_threshold || level >= NNCL_LOG_NONE) return;
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log_fn(level, line, log_user_data);
}

_Noreturn void nncl_abort(const char *file, int line, const char *expr) {
    fprintf(stderr, "nncl: internal error at %s:%d: assertion `%s` failed; please report this\n", file,
            line, expr);
    abort();
}
