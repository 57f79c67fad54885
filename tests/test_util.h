/*
 * test_util.h: helpers shared by the Criterion tests: backends, tensors from host arrays, seeded random
 * numbers, a comparison that reports the worst element, and a model's finite-difference gradient.
 */
#ifndef NNCL_TEST_UTIL_H
#define NNCL_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "nncl/nncl.h"

/* Creates a backend or fails the test with nncl_last_error(). */
struct nncl_backend *tu_backend(const char *name);

/* A tensor in a buffer of its own (freed by tu_free_all), filled from `data` when it is not NULL. */
struct nncl_tensor tu_tensor(struct nncl_backend *be, size_t rows, size_t cols, const float *data);

/* Frees every buffer tu_tensor made, then the backends tu_backend made. */
void tu_free_all(void);

/*
 * Opens the OpenCL backend, or skips the test with the reason; under CI=true a missing device (or a build
 * without OpenCL) fails instead, because CI runs on PoCL precisely so that these tests run.
 */
struct nncl_backend *tu_device_or_skip(void);

/* Reads a tensor into `out` (rows * cols floats) or fails the test. */
void tu_get(const struct nncl_tensor *t, float *out);

/* Reads a 1x1 tensor. */
float tu_get1(const struct nncl_tensor *t);

/* Fails the test unless the status is NNCL_OK, printing what and nncl_last_error(). */
void tu_ok(enum nncl_status st, const char *what);

/* A small deterministic generator (xorshift64*), so every run sees the same numbers. */
struct tu_rng {
    uint64_t state;
};
float tu_uniform(struct tu_rng *rng, float lo, float hi);
void tu_fill_uniform(struct tu_rng *rng, float *x, size_t n, float lo, float hi);

/* Tolerance |got - ref| <= abs + rel |ref| per element. */
struct tu_tol {
    double abs;
    double rel;
};

/*
 * Compares n floats. Returns 1 when all are within tolerance (NaN matches only NaN, infinities only the
 * same infinity); otherwise 0 and writes "<what>: worst index i (row r, col c): ref R got G, |diff| D >
 * bound B" into msg.
 */
int tu_close(const float *ref, const float *got, size_t n, size_t cols, struct tu_tol tol, const char *what,
             char *msg, size_t msg_cap);

/* cr_assert that two arrays are close, with the report above. */
void tu_assert_close(const float *ref, const float *got, size_t n, size_t cols, struct tu_tol tol,
                     const char *what);

/* The loss a gradient is checked against: the model's mean loss at its current parameters. */
typedef double (*tu_loss_fn)(struct nncl_model *m, void *user);

/*
 * Central differences of `loss` in every parameter of m, in double: num[i] = (loss(w + h e_i) - loss(w -
 * h e_i)) / 2h, for the p = nncl_model_param_count(m) parameters (num holds p floats). Each loss is taken
 * after nncl_model_set_params; the parameters are w again when it returns. The tests compare num with the
 * backward's gradient themselves (tu_assert_close) after checking that gradient is not trivially zero.
 */
void tu_central_differences(struct nncl_model *m, float h, tu_loss_fn loss, void *user, float *num);

/*
 * Asserts that `call` returns `status` and that nncl_last_error() contains each of the strings that
 * follow: how tests check that a message names the op, the file, the line and the fix.
 */
#define ASSERT_ERROR(call, status, ...)                                                                       \
    do {                                                                                                     \
        enum nncl_status st_ = (call);                                                                       \
        cr_assert_eq(st_, (status), "%s returned %s, expected %s (%s)", #call, nncl_status_string(st_),      \
                     nncl_status_string(status), nncl_last_error());                                         \
        const char *needles_[] = {__VA_ARGS__};                                                              \
        for (size_t i_ = 0; i_ < sizeof needles_ / sizeof needles_[0]; i_++) {                               \
            cr_assert(strstr(nncl_last_error(), needles_[i_]), "message of %s lacks \"%s\": %s", #call,    \
                      needles_[i_], nncl_last_error());                                                      \
        }                                                                                                    \
    } while (0)

#endif /* NNCL_TEST_UTIL_H */
