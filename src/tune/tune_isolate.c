/*
 * tune_isolate.c: each of the tuner's candidates is checked in a child process before this process runs it
 * (nncl_tune_options.isolate_exe). A tuned CLBlast kernel is untrusted code on the device: on PoCL an
 * out-of-bounds write lands in the process's heap (`free(): invalid next size` after the tuner, a SEGV inside
 * Xgemm under ASan), on a GPU in other buffers of the context. The child is a fresh program (fork + exec, not
 * fork alone: an OpenCL runtime does not survive fork, PoCL's worker threads are gone and the child hangs),
 * which opens its own device, applies the candidate and checks the net's products in guarded buffers; a
 * crash, a hang past the limit or a wrong result refuses the candidate with a one-line reason.
 */
#define _POSIX_C_SOURCE 200809L /* fork, pipe, poll, kill, execv */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tune/tune_impl.h"
#include "util/util.h"

void tune_shapes_format(const struct nncl_gemm_shape *s, size_t n, char *out, size_t cap) {
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < cap; i++) {
        const int w = snprintf(out + used, cap - used, "%s%zu,%zu,%zu,%d,%d", i ? ";" : "", s[i].m, s[i].n, s[i].k,
                               s[i].trans_a, s[i].trans_b);
        if (w < 0) break;
        used += (size_t)w;
    }
}

enum nncl_status tune_shapes_parse(const char *text, struct nncl_gemm_shape *s, size_t cap, size_t *n) {
    *n = 0;
    const char *p = text;
    while (*p) {
        size_t m, nn, k;
        int ta, tb, used = 0;
        if (*n == cap || sscanf(p, "%zu,%zu,%zu,%d,%d%n", &m, &nn, &k, &ta, &tb, &used) != 5 || !m || !nn || !k ||
            (ta != 0 && ta != 1) || (tb != 0 && tb != 1)) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "tune: --shapes \"%s\": write m,n,k,trans_a,trans_b;... "
                                  "(at most %zu products, each dimension at least 1, transposes 0 or 1)", text, cap);
        }
        s[(*n)++] = (struct nncl_gemm_shape){m, nn, k, ta, tb};
        p += used;
        if (*p == ';') p++;
        else if (*p) return nncl_set_error(NNCL_ERR_INVALID_ARG, "tune: --shapes \"%s\": expected ';' at \"%s\"", text, p);
    }
    if (!*n) return nncl_set_error(NNCL_ERR_INVALID_ARG, "tune: --shapes is empty");
    return NNCL_OK;
}

enum nncl_status tune_isolated_check(const char *exe, const char *params, const struct nncl_gemm_shape *shapes,
                                     size_t n, double timeout_s, char *reason, size_t cap) {
    char shapes_text[NNCL_TUNE_MAX_SHAPES * 64];
    tune_shapes_format(shapes, n, shapes_text, sizeof shapes_text);
    /* argv built before fork: between fork and exec the child only makes async-signal-safe calls */
    char exe_arg[4096], params_arg[512], sub[] = "tune", opt_c[] = "--check-candidate", opt_s[] = "--shapes";
    snprintf(exe_arg, sizeof exe_arg, "%s", exe);
    snprintf(params_arg, sizeof params_arg, "%s", params);
    char *argv[] = {exe_arg, sub, opt_c, params_arg, opt_s, shapes_text, NULL};
    int fds[2];
    reason[0] = '\0';
    if (pipe(fds) != 0) return nncl_set_error(NNCL_ERR_INVALID_ARG, "tune: pipe: %s", strerror(errno));
    fflush(NULL);
    const pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]), close(fds[1]);
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "tune: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]), close(fds[1]);
        execv(exe, argv);
        _exit(127);
    }
    close(fds[1]);
    char out[2048];
    size_t got = 0;
    const double t0 = nncl_now_ms(), limit_ms = (timeout_s > 0 ? timeout_s : 300) * 1e3;
    int timed_out = 0;
    for (;;) {
        const double left = limit_ms - (nncl_now_ms() - t0);
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd pfd = {fds[0], POLLIN, 0};
        const int r = poll(&pfd, 1, left > 1000 ? 1000 : (int)left + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        char buf[512];
        const ssize_t k = read(fds[0], buf, sizeof buf);
        if (k <= 0) break; /* end of output: the child is done */
        const size_t take = got + (size_t)k < sizeof out - 1 ? (size_t)k : sizeof out - 1 - got;
        memcpy(out + got, buf, take);
        got += take;
    }
    out[got] = '\0';
    close(fds[0]);
    if (timed_out) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    char *nl = strchr(out, '\n');
    if (nl) *nl = '\0'; /* the child prints one line */
    if (timed_out) {
        snprintf(reason, cap, "hung: no answer from the child check in %g s (killed)", limit_ms / 1e3);
    } else if (WIFSIGNALED(status)) {
        snprintf(reason, cap, "crashed in the child check (signal %d, %s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && strncmp(out, "ok", 2) == 0) {
        reason[0] = '\0';
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 1 && strncmp(out, "wrong: ", 7) == 0) {
        snprintf(reason, cap, "%s", out + 7);
    } else {
        snprintf(reason, cap, "the child check failed (exit %d): %s", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                 out[0] ? out : "no output");
    }
    return NNCL_OK;
}
