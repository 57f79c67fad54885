/*
 * test_util.c: see test_util.h.
 */
#include "test_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TU_MAX_OBJECTS 4096

static struct nncl_buffer *buffers[TU_MAX_OBJECTS];
static size_t n_buffers;
static struct nncl_backend *backends[8];
static size_t n_backends;

struct nncl_backend *tu_backend(const char *name) {
    struct nncl_backend *be = NULL;
    enum nncl_status st = nncl_backend_init(name, &be);
    cr_assert(st == NNCL_OK, "backend %s: %s: %s", name, nncl_status_string(st), nncl_last_error());
    cr_assert(n_backends < 8, "test_util: too many backends");
    backends[n_backends++] = be;
    return be;
}

struct nncl_backend *tu_device_or_skip(void) {
    const char *ci = getenv("CI");
    const int in_ci = ci && strcmp(ci, "true") == 0;
    int have_opencl = 0;
    for (const char *const *names = nncl_backend_list(); *names; names++) have_opencl |= strcmp(*names, "opencl") == 0;
    if (!have_opencl) {
        if (in_ci) cr_assert_fail("CI=true but this nncl was built without OpenCL: install the OpenCL packages");
        cr_skip_test("this nncl was built without OpenCL");
    }
    struct nncl_backend *be = NULL;
    if (nncl_backend_init("opencl", &be) != NNCL_OK) {
        if (in_ci) cr_assert_fail("CI=true and no OpenCL device opened (these tests must run in CI, on PoCL): %s",
                                  nncl_last_error());
        cr_skip_test("no OpenCL device: %s", nncl_last_error());
    }
    return be;
}

void tu_ok(enum nncl_status st, const char *what) {
    cr_assert(st == NNCL_OK, "%s: %s: %s", what, nncl_status_string(st), nncl_last_error());
}

struct nncl_tensor tu_tensor(struct nncl_backend *be, size_t rows, size_t cols, const float *data) {
    struct nncl_buffer *buf = NULL;
    tu_ok(nncl_buffer_alloc(be, rows * cols * sizeof(float), &buf), "tu_tensor: buffer_alloc");
    cr_assert(n_buffers < TU_MAX_OBJECTS, "test_util: too many buffers");
    buffers[n_buffers++] = buf;
    struct nncl_tensor t = nncl_tensor_view(buf, 0, rows, cols);
    if (data) tu_ok(nncl_tensor_set(&t, data, rows * cols), "tu_tensor: tensor_set");
    return t;
}

void tu_free_all(void) {
    while (n_buffers) nncl_buffer_free(buffers[--n_buffers]);
    while (n_backends) nncl_backend_free(backends[--n_backends]);
}

void tu_get(const struct nncl_tensor *t, float *out) {
    tu_ok(nncl_tensor_get(t, out, t->rows * t->cols), "tu_get");
}

float tu_get1(const struct nncl_tensor *t) {
    float v = NAN;
    tu_get(t, &v);
    return v;
}

static uint64_t next_u64(struct tu_rng *rng) {
    if (rng->state == 0) rng->state = 0x9E3779B97F4A7C15ull;
    rng->state ^= rng->state >> 12;
    rng->state ^= rng->state << 25;
    rng->state ^= rng->state >> 27;
    return rng->state * 0x2545F4914F6CDD1Dull;
}

float tu_uniform(struct tu_rng *rng, float lo, float hi) {
    const double u = (double)(next_u64(rng) >> 11) / 9007199254740992.0; /* [0, 1) with 53 bits */
    return (float)(lo + (hi - lo) * u);
}

void tu_fill_uniform(struct tu_rng *rng, float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = tu_uniform(rng, lo, hi);
}

int tu_close(const float *ref, const float *got, size_t n, size_t cols, struct tu_tol tol, const char *what,
             char *msg, size_t msg_cap) {
    size_t worst = n;
    double worst_excess = 0.0; /* diff / bound of the worst element; > 1 fails */
    for (size_t i = 0; i < n; i++) {
        const double r = ref[i], g = got[i];
        double excess;
        if (isnan(r) || isnan(g) || isinf(r) || isinf(g)) {
            const int same = (isnan(r) && isnan(g)) || (isinf(r) && r == g);
            excess = same ? 0.0 : INFINITY;
        } else {
            excess = g == r ? 0.0 : fabs(g - r) / (tol.abs + tol.rel * fabs(r));
        }
        if (excess > worst_excess || (worst == n && excess > 1.0)) {
            worst_excess = excess;
            worst = i;
        }
    }
    if (worst_excess <= 1.0) return 1;
    const size_t c = cols ? cols : 1;
    snprintf(msg, msg_cap, "%s: worst index %zu (row %zu, col %zu): ref %.9g got %.9g, |diff| %.3g > bound "
             "%.3g (abs %.1e + rel %.1e)", what, worst, worst / c, worst % c, (double)ref[worst],
             (double)got[worst], fabs((double)got[worst] - ref[worst]),
             tol.abs + tol.rel * fabs((double)ref[worst]), tol.abs, tol.rel);
    return 0;
}

void tu_assert_close(const float *ref, const float *got, size_t n, size_t cols, struct tu_tol tol,
                     const char *what) {
    char msg[512];
    int ok = tu_close(ref, got, n, cols, tol, what, msg, sizeof msg);
    cr_assert(ok, "%s", msg);
}

void tu_central_differences(struct nncl_model *m, float h, tu_loss_fn loss, void *user, float *num) {
    const size_t p = nncl_model_param_count(m);
    float *w = malloc(p * sizeof(float));
    cr_assert(w);
    tu_ok(nncl_model_get_params(m, w, p), "get_params");
    for (size_t i = 0; i < p; i++) {
        const float keep = w[i];
        w[i] = keep + h;
        tu_ok(nncl_model_set_params(m, w, p), "set_params");
        const double up = loss(m, user);
        w[i] = keep - h;
        tu_ok(nncl_model_set_params(m, w, p), "set_params");
        const double down = loss(m, user);
        w[i] = keep;
        num[i] = (float)((up - down) / (2.0 * h));
    }
    tu_ok(nncl_model_set_params(m, w, p), "set_params");
    free(w);
}
