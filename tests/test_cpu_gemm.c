/*
 * test_cpu_gemm.c: the CPU reference's cache-blocked gemm against its plain triple loop, over shapes
 * that break lazy blocking: 1x1, primes, sizes just past a block edge (KC = 256, NC = 512, MC = 96 rows,
 * the 6 x NR register tile), every transpose combination, and alpha/beta variants; and the bits of every
 * thread count against one thread's.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_impl.h"
#include "test_util.h"

struct gemm_case {
    size_t m, n, k;
    float alpha, beta;
};

static const struct gemm_case cases[] = {
    {1, 1, 1, 1.0f, 0.0f},     {1, 7, 13, 1.0f, 1.0f},    {13, 1, 7, 0.5f, 0.0f},   {5, 7, 11, 1.0f, 0.0f},
    {67, 131, 257, 1.0f, 1.0f}, {65, 1027, 3, -1.0f, 0.5f}, {128, 10, 784, 1.0f, 0.0f}, {3, 2053, 300, 2.0f, -1.0f},
    /* the register-tiled path's edges: exact tiles over two K slices, uneven slices, N past the 512-column
     * block, a single 6x64 tile, tiles plus one, alpha 0 */
    {12, 128, 512, 1.0f, 0.0f}, {97, 130, 513, 1.0f, 1.0f}, {200, 600, 40, 0.5f, 0.0f}, {6, 64, 12, 1.0f, 0.0f},
    {7, 65, 257, -2.0f, 0.5f},  {9, 33, 17, 0.0f, 0.5f},
    /* one-thread products read in place (gemm_direct), also through C^T (N = 10), with short panels */
    {100, 10, 300, 1.0f, 0.5f}, {10, 130, 130, 1.0f, 0.0f}, {130, 128, 10, -1.0f, 1.0f},
    /* edge tiles of every row count read in place (M % 6 = 1..5), narrow C threaded (N = 10, 13, 16; plain A
     * untransposed, transposed A through C^T), N = 1 and M = 1 in the kernel, short B panels of whole
     * vectors (784 = 12 x 64 + 16, 112 = 64 + 48, 100 = 12 x 8 + 4), the row split of a plain A */
    {260, 10, 520, 1.0f, 0.5f}, {263, 13, 400, 1.0f, 0.0f}, {300, 16, 300, 1.0f, 1.0f}, {300, 1, 300, 1.0f, 0.0f},
    {2000, 1, 600, 1.0f, 0.5f}, {1, 300, 300, 1.0f, 0.0f},  {8, 100, 50, 1.0f, 0.0f},   {9, 70, 40, 1.0f, 1.0f},
    {20, 784, 70, 1.0f, 0.0f},  {10, 784, 64, 1.0f, 0.5f},  {11, 112, 90, 1.0f, 0.0f},  {31, 100, 50, 1.0f, 0.0f},
    {401, 130, 50, 1.0f, 0.0f},
    /* gemm_direct's shallow slices on 4-row tiles (K <= 32 with AVX-512): M % 4 = 3, K at the limit with
     * a 4-row tile and a 3-row edge, just past it (33: 6-row tiles), M % 4 = 1 with a short B panel */
    {131, 64, 20, 1.0f, 0.0f},  {7, 192, 32, 1.0f, 0.5f},   {30, 80, 33, 1.0f, 1.0f},  {129, 100, 10, 0.5f, 0.0f},
    /* the dot products of a narrow C (nt, N <= 10, AVX-512): K in two blocks with a tail (N = 3, 5-row
     * tiles and a 2-row edge), one block of whole vectors with 14 accumulators reduced together and a
     * 1-row edge, N = 1 over two blocks (threaded too), N = 10 threaded over two blocks, several
     * 240-row groups a thread, one row */
    {37, 3, 1500, 1.0f, 0.5f},  {9, 7, 80, 1.0f, 1.0f},     {8, 1, 4200, 1.0f, 0.0f},  {300, 1, 4200, 1.0f, 0.0f},
    {150, 10, 800, -1.0f, 0.5f}, {1100, 10, 800, 1.0f, 0.0f}, {1, 10, 100, 1.0f, 0.5f},
};

/* A case's operands, filled from a seed of its own: a (M x K), b (K x N), c0 (M x N) uniform in [-1, 1],
 * and two M x N results. */
struct operands {
    float *a, *b, *c0, *ref, *got;
};

static struct operands operands_make(const struct gemm_case *gc, uint64_t seed) {
    struct tu_rng rng = {seed};
    struct operands o = {malloc(sizeof(float) * gc->m * gc->k), malloc(sizeof(float) * gc->k * gc->n),
                         malloc(sizeof(float) * gc->m * gc->n), malloc(sizeof(float) * gc->m * gc->n),
                         malloc(sizeof(float) * gc->m * gc->n)};
    cr_assert(o.a && o.b && o.c0 && o.ref && o.got);
    tu_fill_uniform(&rng, o.a, gc->m * gc->k, -1, 1);
    tu_fill_uniform(&rng, o.b, gc->k * gc->n, -1, 1);
    tu_fill_uniform(&rng, o.c0, gc->m * gc->n, -1, 1);
    return o;
}

static void operands_free(struct operands *o) {
    free(o->a); free(o->b); free(o->c0); free(o->ref); free(o->got);
}

ParameterizedTestParameters(cpu_gemm, blocked_matches_naive) {
    return cr_make_param_array(struct gemm_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(const struct gemm_case *gc, cpu_gemm, blocked_matches_naive) {
    struct nncl_backend *be = tu_backend("cpu");
    struct operands o = operands_make(gc, gc->m * 1000003u + gc->n * 101u + gc->k);
    float *a = o.a, *b = o.b, *c0 = o.c0, *ref = o.ref, *got = o.got;
    for (int trans_a = 0; trans_a < 2; trans_a++) {
        for (int trans_b = 0; trans_b < 2; trans_b++) {
            /* the same a and b arrays, read as (K x M) / (N x K) when transposed */
            struct nncl_tensor ta = trans_a ? tu_tensor(be, gc->k, gc->m, a) : tu_tensor(be, gc->m, gc->k, a);
            struct nncl_tensor tb = trans_b ? tu_tensor(be, gc->n, gc->k, b) : tu_tensor(be, gc->k, gc->n, b);
            struct nncl_tensor tc = tu_tensor(be, gc->m, gc->n, c0);
            for (size_t i = 0; i < gc->m * gc->n; i++) ref[i] = c0[i];
            cpu_gemm_naive(trans_a, trans_b, gc->m, gc->n, gc->k, gc->alpha, a, b, gc->beta, ref);
            tu_ok(nncl_op_gemm(be, trans_a, trans_b, gc->alpha, &ta, &tb, gc->beta, &tc), "gemm");
            tu_get(&tc, got);
            char what[128];
            snprintf(what, sizeof what, "gemm %zux%zux%zu trans_a %d trans_b %d", gc->m, gc->n, gc->k, trans_a,
                     trans_b);
            /* float accumulation of k products of size <= 1 against a double reference */
            tu_assert_close(ref, got, gc->m * gc->n, gc->n, (struct tu_tol){2e-6 * (double)gc->k, 1e-5}, what);
        }
    }
    operands_free(&o);
    tu_free_all();
}

/*
 * Threads that split the columns of C share one packing block without a barrier, each packing its own
 * panels: a panel's place must not move with a K slice's depth, or a thread a slice ahead overwrites the
 * end of its neighbour's panel (K = 257: slices of 129 and 128), and so would a thread a block ahead
 * (N = 600: blocks of 512 and 88 columns). A race shows only now and then, so each
 * shape runs 50 times at 2 and 3 threads (10 times with A transposed, which splits rows and has no such
 * sharing), and every result must equal the 1-thread result bit for bit.
 */
Test(cpu_gemm, threads_give_the_same_bits_every_time) {
    /* then narrow Cs (N = 10, 13, 1, 10) whose plain-A products are threaded: nt with N <= 10 on dot
     * products (with AVX-512, in two K blocks; 1100x10x800 in several row groups a thread), the others
     * untransposed on tiles of one or two vectors (their transposed-A products go through C^T, on one
     * thread) */
    static const struct gemm_case shapes[] = {{130, 70, 257, 1.0f, 0.0f}, {67, 131, 257, 1.0f, 1.0f},
                                              {200, 600, 40, 1.0f, 0.0f}, {260, 10, 520, 1.0f, 0.5f},
                                              {263, 13, 400, 1.0f, 0.0f}, {300, 1, 4200, 1.0f, 0.0f},
                                              {1100, 10, 800, 1.0f, 0.0f}};
    struct nncl_backend *be = tu_backend("cpu");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const struct gemm_case *gc = &shapes[s];
        struct operands o = operands_make(gc, gc->m * 7u + gc->n * 13u + gc->k);
        const float *a = o.a, *b = o.b, *c0 = o.c0;
        float *one = o.ref, *got = o.got;
        for (int trans = 0; trans < 4; trans++) {
            const int trans_a = trans / 2, trans_b = trans % 2;
            struct nncl_tensor ta = trans_a ? tu_tensor(be, gc->k, gc->m, a) : tu_tensor(be, gc->m, gc->k, a);
            struct nncl_tensor tb = trans_b ? tu_tensor(be, gc->n, gc->k, b) : tu_tensor(be, gc->k, gc->n, b);
            struct nncl_tensor tc = tu_tensor(be, gc->m, gc->n, c0);
            tu_ok(nncl_backend_set_threads(be, 1), "threads");
            tu_ok(nncl_op_gemm(be, trans_a, trans_b, gc->alpha, &ta, &tb, gc->beta, &tc), "gemm");
            tu_get(&tc, one);
            /* a transposed A runs the row split (each thread packing its own rows); a plain A with a C of
             * several column panels the column split */
            for (int threads = 2; threads <= 3; threads++) {
                tu_ok(nncl_backend_set_threads(be, threads), "threads");
                for (int rep = 0; rep < (trans_a ? 10 : 50); rep++) {
                    tu_ok(nncl_tensor_set(&tc, c0, gc->m * gc->n), "set");
                    tu_ok(nncl_op_gemm(be, trans_a, trans_b, gc->alpha, &ta, &tb, gc->beta, &tc), "gemm");
                    tu_get(&tc, got);
                    cr_assert(memcmp(one, got, sizeof(float) * gc->m * gc->n) == 0,
                              "gemm %zux%zux%zu trans_a %d trans_b %d, %d threads, run %d: not the 1-thread bits",
                              gc->m, gc->n, gc->k, trans_a, trans_b, threads, rep);
                }
            }
        }
        operands_free(&o);
    }
    tu_free_all();
}

/*
 * The forward pass X W^T of one example gives the bits it gives inside a batch: the path a product takes
 * may depend on M, but not a row's sum (predicting an example alone or with others must agree). Narrow
 * outputs (N = 1, 10: dot products with AVX-512, in one K block and in two) and a wide one (N = 256, the
 * tiles), each row of a 70-row batch against the same row computed alone.
 */
Test(cpu_gemm, a_row_gets_the_same_bits_alone_or_in_a_batch) {
    static const struct gemm_case shapes[] = {{70, 10, 128, 1.0f, 0.0f}, {70, 10, 784, 1.0f, 0.0f},
                                              {70, 1, 4200, 1.0f, 0.0f}, {70, 256, 784, 1.0f, 0.0f}};
    struct nncl_backend *be = tu_backend("cpu");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const struct gemm_case *gc = &shapes[s];
        struct operands o = operands_make(gc, gc->m * 5u + gc->n * 3u + gc->k);
        struct nncl_tensor ta = tu_tensor(be, gc->m, gc->k, o.a), tb = tu_tensor(be, gc->n, gc->k, o.b);
        struct nncl_tensor tc = tu_tensor(be, gc->m, gc->n, o.c0);
        tu_ok(nncl_op_gemm(be, 0, 1, 1.0f, &ta, &tb, 0.0f, &tc), "gemm");
        tu_get(&tc, o.ref);
        for (size_t i = 0; i < gc->m; i++) {
            struct nncl_tensor row = tu_tensor(be, 1, gc->k, o.a + i * gc->k);
            struct nncl_tensor out = tu_tensor(be, 1, gc->n, o.c0);
            tu_ok(nncl_op_gemm(be, 0, 1, 1.0f, &row, &tb, 0.0f, &out), "gemm");
            tu_get(&out, o.got);
            cr_assert(memcmp(o.got, o.ref + i * gc->n, sizeof(float) * gc->n) == 0,
                      "%zux%zux%zu:nt: row %zu alone differs from the batch's", gc->m, gc->n, gc->k, i);
        }
        operands_free(&o);
    }
    tu_free_all();
}
