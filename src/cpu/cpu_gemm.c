/*
 * cpu_gemm.c: the reference matrix product C = alpha op(A) op(B) + beta C, row-major.
 *
 * Two versions live here. cpu_gemm_naive is the plain triple loop that defines the result. cpu_gemm,
 * which the backend uses, is the fast path; tests/test_cpu_gemm.c checks one against the other. The
 * fast path is the GotoBLAS/BLIS scheme in plain C (GCC vector extensions, no intrinsics, no assembly):
 *
 *   for each NC-column block of C (j0):
 *     for each KC-deep slice of K (p0), in k order:
 *       pack op(B)[p0.., j0..] (kc x nc) into NR-column panels, zero-padded    (shared; stays in L2)
 *       for each chunk of MR-row panels of C (chunks split across threads):
 *         transposed A only: pack the chunk's op(A) rows (at most MC x kc)    (per thread; L2)
 *         for each MR-row panel (plain A: read in place, 6 rows of kc floats; L1):
 *           for each NR-column panel of the B block:
 *             micro_kernel: an MR x NR tile of C summed in registers over kc, then merged into C
 *
 * Packing B makes the kernel's loads contiguous, and a transposed B is transposed while it is packed
 * (VL x VL blocks through vector shuffles); a plain B feeding only a few row panels is read in place. A
 * plain A is read where it lies, and only a transposed A is packed, on the blocked path (gemm_direct reads
 * it in place too). The micro-kernel keeps MR x NR accumulators (6 x 64 floats with AVX-512: 24 of the 32
 * vector registers) and for each k loads NR / VL vectors of B, broadcasts MR scalars of A and does
 * MR * NR / VL fused multiply-adds. An edge tile runs a kernel of its own size, rows x vectors (with
 * AVX-512: 4 x 64 for the last 4 rows, 6 x 16 for the last 16 columns), which reads only the rows of A
 * that exist and the whole vectors of B that hold its columns; a short B panel is zero-padded to NR
 * columns. alpha scales a tile's sum once, as it is merged into C; beta == 0 never reads C.
 *
 * Results do not depend on the thread count. Threads split the rows of C at panel boundaries
 * (multiples of MR counted from row 0), or, for a plain A with few rows, the NR-column panels of each
 * block (gemm_columns), so the panels, the tiles and the code path (full or edge tile, A or B in place or
 * packed: the same arithmetic either way) that computes an element depend on the shape alone. Nothing
 * splits K: each element's kc products in a slice are summed in k order into one register lane starting
 * from zero, and the slices are added to C in k order (the first as alpha acc + beta C, or alpha acc
 * when beta is 0). The slice boundaries depend only on K.
 *
 * One exception to the tiles, chosen by shape alone (AVX-512 only): a narrow C (N <= 10) of a plain A and
 * a transposed B, an output layer's forward pass, is computed as dot products (gemm_dot), whose lanes
 * split k and are added as a fixed tree; its bits depend on K, not on the thread count either.
 *
 * Speed needs per-file flags: -O3 -ffp-contract=fast (ISO C mode otherwise forbids fusing a * b + c
 * into one FMA, which halves throughput) and a vector ISA, e.g. -march=native (AVX-512: 16-float
 * vectors; AVX/AVX2: 8). Without them the same code runs, correctly but several times slower, on
 * generic 4-float vectors.
 */
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../status_impl.h"
#include "cpu_impl.h"

/* a is (M x K), or (K x M) when trans_a; b is (K x N), or (N x K) when trans_b; c is (M x N). */
void cpu_gemm_naive(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a,
                    const float *b, float beta, float *c) {
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            double acc = 0.0;
            for (size_t p = 0; p < k; p++) {
                float av = trans_a ? a[p * m + i] : a[i * k + p];
                float bv = trans_b ? b[j * k + p] : b[p * n + j];
                acc += (double)av * (double)bv;
            }
            /* beta == 0 never reads c, as in BLAS: c may hold NaN. */
            c[i * n + j] = (float)(alpha * acc + (beta == 0.0f ? 0.0 : (double)beta * c[i * n + j]));
        }
    }
}

/* ---- the fast path ------------------------------------------------------------------------------ */

/* VL floats per vector register; the register tile is MR rows x NV vectors (NR = NV * VL columns). */
#if defined(__AVX512F__)
#define GEMM_VL 16
#define GEMM_NV 4 /* 24 accumulators + 4 B vectors + 1 broadcast of 32 zmm */
#elif defined(__AVX__)
#define GEMM_VL 8
#define GEMM_NV 2 /* 12 accumulators + 2 + 1 of 16 ymm */
#else
#define GEMM_VL 4
#define GEMM_NV 2 /* SSE, NEON and plain scalar code alike */
#endif
enum { VL = GEMM_VL, MR = 6, NV = GEMM_NV };
/* The blocking, overridable at build time to measure another choice (docs/benchmarks.md section 1). */
#ifndef NNCL_GEMM_KC
#define NNCL_GEMM_KC 256
#endif
#ifndef NNCL_GEMM_NC
#define NNCL_GEMM_NC 512
#endif
#ifndef NNCL_GEMM_MCP
#define NNCL_GEMM_MCP 16
#endif
enum {
    NR = NV * VL,
    KC = NNCL_GEMM_KC, /* depth of a slice: an MR x KC A panel is 6 KiB (L1) */
    NC = NNCL_GEMM_NC, /* width of a block: a KC x NC B block is 512 KiB (L2) */
    MC = NNCL_GEMM_MCP * MR, /* most rows a thread packs at once when A is transposed: 96 KiB (L2) */
    ALIGN = 64,
    B_IN_PLACE_PANELS = 4,
    DIRECT_MAX = 1 << 20, /* multiply-adds from which products use threads; below it, plain B: gemm_direct */
    SHORT_K = 32,         /* gemm_direct's slices up to this deep run on tiles of SHORT_MR rows */
#if GEMM_NV == 4
    SHORT_MR = 4, /* 16 accumulators of 16 floats */
#else
    SHORT_MR = MR, /* AVX2's 6 x 16 are 12 accumulators; 4 rows (8) ran 128x128x10:nn at 67 GFLOP/s, not 93 */
#endif
};

__extension__ typedef float vf __attribute__((vector_size(VL * sizeof(float))));

static size_t min_size(size_t x, size_t y) { return x < y ? x : y; }

/* The new value of an element *c of C given t (its sum, times alpha): *c + t on a later K slice, else
 * t + beta *c, or t when beta is 0 without reading *c, as the kernel's vector merge does it. */
static inline float merge_c(const float *c, float t, int first, float beta) {
    return !first ? *c + t : beta == 0.0f ? t : t + beta * *c;
}

/* this thread's number in its OpenMP team and the team's size (0 and 1 outside a parallel region) */
static void team_place(int *thread, int *threads) {
    *thread = 0;
    *threads = 1;
#ifdef _OPENMP
    *thread = omp_get_thread_num();
    *threads = omp_get_num_threads();
#endif
}

#if defined(__GNUC__) && !defined(__clang__)
#define GEMM_VECTOR_TRANSPOSE 1
__extension__ typedef int vi __attribute__((vector_size(VL * sizeof(int))));
/*
 * The butterfly transpose of a VL x VL block held in VL vectors. Stage b (1, 2, 4, ...) pairs rows i and
 * i + b (bit b of i clear) and swaps row i's elements whose index has bit b set with row i + b's
 * elements whose index has it clear; after every stage each element sits at its transposed place.
 * Lane i of __builtin_shuffle(x, y, m) is x[m[i]] for m[i] < VL, else y[m[i] - VL].
 */
#define GEMM_LO(i, b) (((i) & (b)) ? VL + (i) - (b) : (i))
#define GEMM_HI(i, b) (((i) & (b)) ? VL + (i) : (i) + (b))
#define GEMM_MASK4(f, b, o) f((o) + 0, b), f((o) + 1, b), f((o) + 2, b), f((o) + 3, b)
#if GEMM_VL == 16
#define GEMM_MASK(f, b) {GEMM_MASK4(f, b, 0), GEMM_MASK4(f, b, 4), GEMM_MASK4(f, b, 8), GEMM_MASK4(f, b, 12)}
#elif GEMM_VL == 8
#define GEMM_MASK(f, b) {GEMM_MASK4(f, b, 0), GEMM_MASK4(f, b, 4)}
#else
#define GEMM_MASK(f, b) {GEMM_MASK4(f, b, 0)}
#endif
/* One butterfly step on the rows in vectors x and y (named variables: GCC keeps them in registers). */
#define GEMM_PAIR(x, y, b)                                                                                         \
    {                                                                                                              \
        const vi lo_ = GEMM_MASK(GEMM_LO, b), hi_ = GEMM_MASK(GEMM_HI, b);                                         \
        const vf x_ = x, y_ = y;                                                                                   \
        x = __builtin_shuffle(x_, y_, lo_);                                                                        \
        y = __builtin_shuffle(x_, y_, hi_);                                                                        \
    }
#define GEMM_T_LOAD(i)                                                                                             \
    vf r##i;                                                                                                       \
    memcpy(&r##i, src + (size_t)(i) * ld_src, sizeof r##i);
#define GEMM_T_STORE(i) memcpy(dst + (size_t)(i) * ld_dst, &r##i, sizeof r##i);
#define GEMM_T_PAIR(i, j, b) GEMM_PAIR(r##i, r##j, b)
/* F(0) ... F(VL - 1): the rows of a VL x VL block */
#if GEMM_VL >= 16
#define GEMM_T_ROWS(F) F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11) F(12) F(13) F(14) F(15)
#elif GEMM_VL >= 8
#define GEMM_T_ROWS(F) F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7)
#else
#define GEMM_T_ROWS(F) F(0) F(1) F(2) F(3)
#endif

/*
 * dst[q * ld_dst + i] = src[i * ld_src + q] for i, q < VL: only moves, so the values keep their bits. The
 * rows are named vectors r0, r1, ..., not an array: GCC kept an array vf r[VL] on the stack, copied into
 * it 16 bytes at a time and shuffled it from memory (`perf annotate` of 256x10x1024:nt at 4cb2a76).
 */
static void transpose_block(const float *restrict src, size_t ld_src, float *restrict dst, size_t ld_dst) {
    GEMM_T_ROWS(GEMM_T_LOAD)
    /* stage 1 pairs rows i, i + 1; stage 2 rows i, i + 2; ... (bit b of i clear) */
    GEMM_T_PAIR(0, 1, 1) GEMM_T_PAIR(2, 3, 1) GEMM_T_PAIR(0, 2, 2) GEMM_T_PAIR(1, 3, 2)
#if GEMM_VL >= 8
    GEMM_T_PAIR(4, 5, 1) GEMM_T_PAIR(6, 7, 1) GEMM_T_PAIR(4, 6, 2) GEMM_T_PAIR(5, 7, 2)
    GEMM_T_PAIR(0, 4, 4) GEMM_T_PAIR(1, 5, 4) GEMM_T_PAIR(2, 6, 4) GEMM_T_PAIR(3, 7, 4)
#endif
#if GEMM_VL >= 16
    GEMM_T_PAIR(8, 9, 1) GEMM_T_PAIR(10, 11, 1) GEMM_T_PAIR(8, 10, 2) GEMM_T_PAIR(9, 11, 2)
    GEMM_T_PAIR(12, 13, 1) GEMM_T_PAIR(14, 15, 1) GEMM_T_PAIR(12, 14, 2) GEMM_T_PAIR(13, 15, 2)
    GEMM_T_PAIR(8, 12, 4) GEMM_T_PAIR(9, 13, 4) GEMM_T_PAIR(10, 14, 4) GEMM_T_PAIR(11, 15, 4)
    GEMM_T_PAIR(0, 8, 8) GEMM_T_PAIR(1, 9, 8) GEMM_T_PAIR(2, 10, 8) GEMM_T_PAIR(3, 11, 8)
    GEMM_T_PAIR(4, 12, 8) GEMM_T_PAIR(5, 13, 8) GEMM_T_PAIR(6, 14, 8) GEMM_T_PAIR(7, 15, 8)
#endif
    GEMM_T_ROWS(GEMM_T_STORE)
}
#endif

/* dst[0:NR] = src[0:NR] in NV vector moves (a memcpy of NR floats is four 16-byte moves with GCC 12) */
static void copy_nr(float *restrict dst, const float *restrict src) {
    for (size_t v = 0; v < NV; v++) {
        vf x;
        memcpy(&x, src + v * VL, sizeof x);
        memcpy(dst + v * VL, &x, sizeof x);
    }
}

/*
 * Panels jp0 .. jp1 of a plain B's column block j0 .. j0 + nc, rows p0 .. p0 + kc, packed PACK_ROWS rows of
 * B at a time: panel jp0 + t at bp + t NR panel_ld, its row p at + p NR, columns past the block zero.
 * Packing one panel after another would read kc rows N floats apart for NR floats each: with N = 1024 a
 * new 4 KiB page a row, which neither the prefetcher nor the TLB follows. Row by row, each row segment is
 * a new page too (N = 4096: 16 KiB apart) and only a few of its lines are in flight at once; eight rows
 * side by side keep eight streams in flight: a 4096 x 4096 B from memory packed at 1.2-1.8 floats a ns
 * row by row, 2.2-2.6 eight rows at a time (16: 1.6-1.7).
 */
enum { PACK_ROWS = 8 };
static void pack_b_rows(size_t n, const float *b, size_t p0, size_t kc, size_t j0, size_t nc, size_t jp0, size_t jp1,
                        float *restrict bp, size_t panel_ld) {
    if (jp1 <= jp0) return;
    const size_t ncols = min_size(nc, jp1 * NR) - jp0 * NR, full = ncols / NR, rest = ncols - full * NR;
    for (size_t p = 0; p < kc; p += PACK_ROWS) {
        const size_t rows = min_size(PACK_ROWS, kc - p);
        const float *src = b + (p0 + p) * n + j0 + jp0 * NR;
        float *dst = bp + p * NR;
        for (size_t t = 0; t < full; t++) {
            for (size_t r = 0; r < rows; r++) copy_nr(dst + t * NR * panel_ld + r * NR, src + r * n + t * NR);
        }
        for (size_t r = 0; r < rows && rest; r++) {
            float *d = dst + full * NR * panel_ld + r * NR;
            memcpy(d, src + r * n + full * NR, rest * sizeof *d);
            memset(d + rest, 0, (NR - rest) * sizeof *d);
        }
    }
}

/*
 * bp (kc x NR, row by row) = op(B)[p0:p0+kc, j0:j0+nr], columns nr..NR-1 zero.
 * b is (K x N), or (N x K) when trans_b.
 */
static void pack_b_panel(int trans_b, size_t n, size_t k, const float *b, size_t p0, size_t j0, size_t kc,
                         size_t nr, float *restrict bp) {
    if (!trans_b) {
        pack_b_rows(n, b, p0, kc, j0, nr, 0, 1, bp, kc);
        return;
    }
    /*
     * op(B) columns are rows of b: VL x VL blocks, VL rows of b read VL floats at a time along K, so a
     * panel's pack follows VL streams. With AVX2, 16 x 16 blocks (two 8 x 8 transposes in each of two
     * rows of blocks) and the array transpose packed a 256 x 1024 b at 2.6 floats a ns; 8 x 8 blocks
     * and named vectors, 6.5 (either alone: 2.9 and 3.1).
     */
    for (size_t j = 0; j < nr; j += VL) {
        const size_t jn = min_size(VL, nr - j);
        for (size_t p = 0; p < kc; p += VL) {
            const size_t pn = min_size(VL, kc - p);
            const float *b_bt = b + (j0 + j) * k + p0 + p;
            float *bp_bt = bp + p * NR + j;
#ifdef GEMM_VECTOR_TRANSPOSE
            if (jn == VL && pn == VL) {
                transpose_block(b_bt, k, bp_bt, NR);
                continue;
            }
#endif
            for (size_t jj = 0; jj < jn; jj++) {
                for (size_t pp = 0; pp < pn; pp++) bp_bt[pp * NR + jj] = b_bt[jj * k + pp];
            }
        }
    }
    for (size_t p = 0; p < kc && nr < NR; p++) memset(bp + p * NR + nr, 0, (NR - nr) * sizeof *bp);
}

/*
 * ap = A^T[i0:i1, p0:p0+kc] (a is K x M) as consecutive MR-row panels, each kc x MR (one column of the
 * panel after another); the places of rows past i1 are left as they are, since the kernel of a short
 * panel reads only its rows. Only a transposed A is packed, and only on the blocked path:
 * the kernel reads a plain A where it lies (rows K apart), and gemm_direct a transposed one too.
 */
static void pack_a(size_t m, const float *a, size_t i0, size_t i1, size_t p0, size_t kc, float *restrict ap) {
    /* a row of a holds a row segment of every panel: read it once, in order */
    for (size_t p = 0; p < kc; p++) {
        const float *a_bt = a + (p0 + p) * m;
        for (size_t q = i0; q < i1; q += MR) {
            float *ap_bt = ap + (q - i0) * kc + p * MR;
            const size_t mr = min_size(MR, i1 - q);
            if (mr == MR) { /* a fixed-size copy: 3.0-4.5 floats a ns, a loop 2.0-2.2 (4096 x 256 a) */
                memcpy(ap_bt, a_bt + q, MR * sizeof *ap_bt);
                continue;
            }
            for (size_t i = 0; i < mr; i++) ap_bt[i] = a_bt[q + i];
        }
    }
}

/*
 * The accumulators are named variables (acc_0_0 ... acc_5_3), spelled out by these macros, not an array:
 * GCC kept an array acc[MR][NV] on the stack between the k loop and the merge (zeroing it there first
 * and storing it back after), some 70 vector moves a tile; that is a third of a tile's time at K = 10
 * (`bench_cpu_gemm --threads 2 --rounds 5 128x128x10:nn` at 665493c: 5.0 us, OpenBLAS SkylakeX 3.0).
 */
#define GEMM_ROWS(F) F(0) F(1) F(2) F(3) F(4) F(5)
_Static_assert(MR == 6 && NV == GEMM_NV, "GEMM_ROWS and GEMM_VECS spell out MR rows of NV vectors");
#if GEMM_NV == 4
#define GEMM_VECS(F, i) F(i, 0) F(i, 1) F(i, 2) F(i, 3)
#define GEMM_VECS1(F) F(0) F(1) F(2) F(3)
#else
#define GEMM_VECS(F, i) F(i, 0) F(i, 1)
#define GEMM_VECS1(F) F(0) F(1)
#endif
#define GEMM_ACC_DECL(i, v) vf acc_##i##_##v = {0};
#define GEMM_ACC_DECL_ROW(i) GEMM_VECS(GEMM_ACC_DECL, i)
/*
 * GEMM_IN_REG(x): x is in a register from here on. With fewer than MR rows GCC 12 folds the B loads into the
 * fused multiply-adds as memory operands, loading each B vector once per row instead of once: the 4 x 64
 * tile took 60% of the kernel's samples for 40% of its work (`perf annotate`, 10x1024x256:tn).
 */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && defined(__SSE__)
#define GEMM_IN_REG(x) __asm__("" : "+v"(x))
#else
#define GEMM_IN_REG(x) ((void)0)
#endif
#define GEMM_LOAD_B(v)                                                                                         \
    vf bv_##v = {0};                                                                                           \
    if ((v) < nv) {                                                                                            \
        memcpy(&bv_##v, bp + (v) * VL, sizeof bv_##v);                                                         \
        GEMM_IN_REG(bv_##v);                                                                                   \
    }
#define GEMM_FMA(i, v)                                                                                         \
    if ((v) < nv) acc_##i##_##v += av_##i * bv_##v;
#define GEMM_FMA_ROW(i)                                                                                        \
    if ((i) < rows) {                                                                                          \
        const float av_##i = a[(size_t)(i) * a_row];                                                           \
        GEMM_VECS(GEMM_FMA, i)                                                                                 \
    }
#define GEMM_STORE(i, v)                                                                                       \
    if ((v) < nv) {                                                                                            \
        float *c_bt = c + (size_t)(i) * ldc + (v) * VL;                                                        \
        vf cv = acc_##i##_##v;                                                                                 \
        if (!first || beta != 0.0f) {                                                                          \
            vf old;                                                                                            \
            memcpy(&old, c_bt, sizeof old);                                                                    \
            cv = first ? cv + beta * old : old + cv;                                                           \
        }                                                                                                      \
        memcpy(c_bt, &cv, sizeof cv);                                                                          \
    }
#define GEMM_STORE_ROW(i)                                                                                      \
    if ((i) < rows) {                                                                                          \
        GEMM_VECS(GEMM_STORE, i)                                                                               \
    }
#define GEMM_SCALE(i, v)                                                                                       \
    if ((v) < nv) acc_##i##_##v *= alpha;
#define GEMM_SCALE_ROW(i)                                                                                      \
    if ((i) < rows) {                                                                                          \
        GEMM_VECS(GEMM_SCALE, i)                                                                               \
    }
#define GEMM_TILE(i, v)                                                                                        \
    if ((v) < nv) {                                                                                            \
        const vf t_ = acc_##i##_##v;                                                                           \
        memcpy(&tile[i][(v) * VL], &t_, sizeof t_);                                                            \
    }
#define GEMM_TILE_ROW(i)                                                                                       \
    if ((i) < rows) {                                                                                          \
        GEMM_VECS(GEMM_TILE, i)                                                                                \
    }

/*
 * The register tile: acc (rows x nv VL) = A panel (rows x kc) * B panel (kc x nv VL; row p at bp + p * b_ld:
 * NR when packed, N for a full panel of a plain B read in place), summed in k order, then merged into the
 * rows x nr corner of c (row stride ldc, column stride cs; nr <= nv VL): c = alpha acc + beta c on the first
 * K slice (c = alpha acc when beta == 0, without reading c), c += alpha acc on later slices. Element (i, p)
 * of the A panel is a[i * a_row + p * a_col], (a_row, a_col) = (1, MR) for a packed panel, (K, 1) for rows
 * of a plain A, (1, M) for a transposed A read in place; rows past `rows` are never read.
 *
 * Always inlined with constant rows (1..MR) and nv (1..NV), so that every edge tile gets a kernel of its own
 * size (micro_kernel): a 4-row edge (M = 10 is 6 + 4 rows) or a 1-vector edge (N = 784 is 12 x 64 + 16)
 * used to run the whole MR x NR tile on zero padding. Each element is the same chain of fused multiply-adds
 * in k order whatever the tile's size, so the bits do not change.
 */
static inline __attribute__((always_inline)) void tile_kernel(const int rows, const int nv, size_t kc,
                                                              const float *restrict a, size_t a_row, size_t a_col,
                                                              const float *restrict bp, size_t b_ld,
                                                              float *restrict c, size_t ldc, size_t cs, size_t nr,
                                                              int first, float alpha, float beta) {
    GEMM_ROWS(GEMM_ACC_DECL_ROW)
    for (size_t p = 0; p < kc; p++) {
        GEMM_VECS1(GEMM_LOAD_B)
        GEMM_ROWS(GEMM_FMA_ROW)
        a += a_col;
        bp += b_ld;
    }

    /* alpha is 1 in every product of a training step, and 1 x is x bit for bit: at K = 10 the 24 multiplies
     * had a tenth of a full tile's samples (`perf annotate`, 128x128x10:nn) */
    if (alpha != 1.0f) {
        GEMM_ROWS(GEMM_SCALE_ROW)
    }
    if (nr == (size_t)nv * VL && cs == 1) {
        GEMM_ROWS(GEMM_STORE_ROW)
        return;
    }
    /* A part-vector edge, or a transposed C: the same sums, stored element by element where the tile exists. */
    float tile[MR][NR];
    GEMM_ROWS(GEMM_TILE_ROW)
    for (size_t i = 0; i < (size_t)rows; i++) {
        float *c_bt = c + i * ldc;
        for (size_t j = 0; j < nr; j++) {
            const float t = tile[i][j];
            c_bt[j * cs] = merge_c(&c_bt[j * cs], t, first, beta);
        }
    }
}

#define GEMM_ARGS kc, a, a_row, a_col, bp, b_ld, c, ldc, cs, nr, first, alpha, beta
#define GEMM_NV_CASE(v)                                                                                        \
    case (v) + 1:                                                                                              \
        tile_kernel(rows, (v) + 1, GEMM_ARGS);                                                                 \
        return;
static inline __attribute__((always_inline)) void tile_kernel_rows(const int rows, size_t kc, const float *restrict a,
                                                                   size_t a_row, size_t a_col,
                                                                   const float *restrict bp, size_t b_ld,
                                                                   float *restrict c, size_t ldc, size_t cs,
                                                                   size_t nr, int first, float alpha, float beta) {
    switch ((nr + VL - 1) / VL) { GEMM_VECS1(GEMM_NV_CASE) }
}
#define GEMM_MR_CASE(i)                                                                                        \
    case (i) + 1:                                                                                              \
        tile_kernel_rows((i) + 1, GEMM_ARGS);                                                                  \
        return;

/* tile_kernel for an mr x nr corner of C (1 <= mr <= MR, 1 <= nr <= NR), with the arguments of tile_kernel */
static void micro_kernel(size_t kc, const float *restrict a, size_t a_row, size_t a_col, const float *restrict bp,
                         size_t b_ld, float *restrict c, size_t ldc, size_t cs, size_t mr, size_t nr, int first,
                         float alpha, float beta) {
    switch (mr) { GEMM_ROWS(GEMM_MR_CASE) }
}

/* c (m x n) = beta c, never reading c when beta == 0: the whole product when alpha or K is 0. */
static void scale_c(size_t m, size_t n, float beta, float *c) {
    if (beta == 0.0f) {
        memset(c, 0, m * n * sizeof *c);
    } else if (beta != 1.0f) {
        for (size_t i = 0; i < m * n; i++) c[i] *= beta;
    }
}

/*
 * A product too small to pay for packing (the seed's 2-4-1 net): each element summed over k in k order
 * from zero, slice by slice as in the blocked path (the slices depend on K alone), merged into C the
 * way the kernel's edge tiles merge it, so that it gives the blocked path's bits.
 */
/*
 * acc + x y as the kernel's `acc += x * y` computes it: one fused multiply-add where the machine has them
 * (-ffp-contract=fast fuses the kernel's), else a product then a sum. Spelled out for the scalar sums over
 * k: GCC vectorizes such a loop as vector products added one by one in order, which keeps the order but
 * drops the fusion (a row of 1x10x128:nt differed in the last bit from the same row in a batch).
 */
#ifdef __FP_FAST_FMAF
#define GEMM_FMA1(x, y, acc) __builtin_fmaf((x), (y), (acc))
#else
#define GEMM_FMA1(x, y, acc) ((acc) + (x) * (y))
#endif
#define TINY_MERGE(cij, acc) (*(cij) = merge_c(cij, alpha * (acc), p0 == 0, beta))
static __attribute__((noinline)) void gemm_tiny(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                                                const float *a, const float *b, float beta, float *c,
                                                size_t kc_max) {
    /*
     * A plain B of 16 columns or more: a row of C up to TINY_COLS columns at a time, the j loop innermost,
     * on vectors (each lane one element's chain in k order): 200x16x1:nn and the like. Else each element a
     * chain over k (with 2-8 columns the vector loop's set-up for every k cost more: 4x2x200:tn 1.3 ->
     * 3.2 us a call).
     */
    enum { TINY_COLS = 64 };
    for (size_t i = 0; i < m; i++) {
        float *c_row = c + i * n;
        for (size_t p0 = 0; p0 < k; p0 += kc_max) {
            const size_t p1 = min_size(k, p0 + kc_max);
            if (!trans_b && n >= 16) {
                for (size_t j0 = 0; j0 < n; j0 += TINY_COLS) {
                    const size_t nj = min_size(TINY_COLS, n - j0);
                    float acc[TINY_COLS];
                    for (size_t j = 0; j < nj; j++) acc[j] = 0.0f;
                    for (size_t p = p0; p < p1; p++) {
                        const float av = trans_a ? a[p * m + i] : a[i * k + p];
                        const float *restrict b_row = b + p * n + j0;
                        for (size_t j = 0; j < nj; j++) acc[j] = GEMM_FMA1(av, b_row[j], acc[j]);
                    }
                    for (size_t j = 0; j < nj; j++) TINY_MERGE(c_row + j0 + j, acc[j]);
                }
                continue;
            }
            for (size_t j = 0; j < n; j++) {
                float acc = 0.0f;
                for (size_t p = p0; p < p1; p++) {
                    const float av = trans_a ? a[p * m + i] : a[i * k + p];
                    const float bv = trans_b ? b[j * k + p] : b[p * n + j];
                    acc = GEMM_FMA1(av, bv, acc);
                }
                TINY_MERGE(c_row + j, acc);
            }
        }
    }
}

#if GEMM_VL == 16 && defined(GEMM_VECTOR_TRANSPOSE)
/*
 * A narrow C (N <= DOT_MAX_N) of a plain A and a transposed B, the forward pass of an output layer of
 * 1-10 units (X W^T): each element is a dot product of a row of A and a row of B, both
 * contiguous in k, computed as one on whole vectors. Lane l sums the products p = l, l + 16, ... in k
 * order (fused multiply-adds from zero); the 16 lanes are then added as a halving tree (lane l + 8 into
 * lane l, then + 4, + 2, + 1), and the last k % 16 products follow in k order. The tiles would fill only
 * n of each vector's 16 lanes and need a transposing pack of B; OpenBLAS's small-matrix kernel, which ran
 * the small-batch ones at 2.3 to 14 times the tiles' speed, sums this way too. Zen 4, one thread,
 * GFLOP/s, tiles -> dot products (OpenBLAS): 128x10x128:nt 49 -> 77 (42), 256x10x1024:nt 61 -> 88 (48),
 * 64x10x128:nt 38 -> 74 (89), 16x10x784:nt 23 -> 79 (105), 64x1x128:nt 4 -> 36-56 (47-58), 128x4x128:nt
 * 14 -> 74 (94); at N = 16, which fills the tiles' lanes, 128x16x128:nt ran 84 on
 * tiles and 64 as dot products, so from N = 11 on the tiles stay. The order depends on K alone,
 * so the bits depend on the shape, never on the thread count (they differ from the tiles' k-order sums
 * by rounding; tests/test_cpu_gemm.c checks this path against the plain loop like every other).
 *
 * The trees of a row's n accumulators run together (dot_reduce): each level adds pairs of vectors lane
 * block by lane block through two-vector shuffles, 15 additions for 16 trees, and leaves accumulator j's
 * sum in lane DOT_LANE(j) (the bit reversal of j). Each sum is the same tree of the same values.
 */
static inline __attribute__((always_inline)) vf dot_pair(vf x, vf y, vi mx, vi my) {
    return __builtin_shuffle(x, y, mx) + __builtin_shuffle(x, y, my);
}
/* one level of the trees, w = 8, 4, 2, 1: in each block of 2w lanes, x's low w lanes + its next w lanes
 * (x[l] + x[l + w]), then y's high w lanes + the w before them (y[l] + y[l - w]) */
#define DOT_MX(l, w) ((((l) % (2 * (w))) < (w)) ? (l) : 16 + (l))
#define DOT_MY(l, w) ((((l) % (2 * (w))) < (w)) ? (l) + (w) : 16 + (l) - (w))
#define DOT_LEVEL(x, y, w) dot_pair(x, y, (vi)GEMM_MASK(DOT_MX, w), (vi)GEMM_MASK(DOT_MY, w))
static inline __attribute__((always_inline)) vf dot_reduce(vf v0, vf v1, vf v2, vf v3, vf v4, vf v5, vf v6, vf v7,
                                                           vf v8, vf v9, vf v10, vf v11, vf v12, vf v13, vf v14,
                                                           vf v15) {
    const vf u0 = DOT_LEVEL(v0, v1, 8), u1 = DOT_LEVEL(v2, v3, 8), u2 = DOT_LEVEL(v4, v5, 8);
    const vf u3 = DOT_LEVEL(v6, v7, 8), u4 = DOT_LEVEL(v8, v9, 8), u5 = DOT_LEVEL(v10, v11, 8);
    const vf u6 = DOT_LEVEL(v12, v13, 8), u7 = DOT_LEVEL(v14, v15, 8);
    const vf t0 = DOT_LEVEL(u0, u1, 4), t1 = DOT_LEVEL(u2, u3, 4), t2 = DOT_LEVEL(u4, u5, 4);
    const vf t3 = DOT_LEVEL(u6, u7, 4);
    return DOT_LEVEL(DOT_LEVEL(t0, t1, 2), DOT_LEVEL(t2, t3, 2), 1);
}
enum { DOT_STACK_FLOATS = 4096, DOT_MAX_N = 10, DOT_GROUP = 240 /* rows: a multiple of every tile's */ };
#define DOT_LANE(j) ((((j) & 1) << 3) | (((j) & 2) << 1) | (((j) & 4) >> 1) | (((j) & 8) >> 3))

#define DOT_ROWS(F) F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7)
#define DOT_COLS(F, r)                                                                                        \
    F(r, 0) F(r, 1) F(r, 2) F(r, 3) F(r, 4) F(r, 5) F(r, 6) F(r, 7) F(r, 8) F(r, 9) F(r, 10) F(r, 11) F(r, 12)  \
        F(r, 13) F(r, 14) F(r, 15)
#define DOT_DECL(r, j) vf d_##r##_##j = {0};
#define DOT_DECL_ROW(r) DOT_COLS(DOT_DECL, r)
#define DOT_LOAD_A(r)                                                                                         \
    vf av_##r = {0};                                                                                          \
    if ((r) < rows) {                                                                                         \
        memcpy(&av_##r, a + (size_t)(r) * k + p, sizeof av_##r);                                              \
        GEMM_IN_REG(av_##r);                                                                                  \
    }
#define DOT_FMA(r, j)                                                                                         \
    if ((r) < rows) d_##r##_##j += av_##r * bv;
/* B's vector j of this chunk, then every row's product with it: 1 B register live, not n */
#define DOT_FMA_COL(r, j)                                                                                     \
    if ((j) < n) {                                                                                            \
        vf bv;                                                                                                \
        memcpy(&bv, bp + (j) * VL, sizeof bv);                                                                \
        GEMM_IN_REG(bv); /* else GCC folds the load into every row's multiply-add, a load each */             \
        DOT_ROWS_J(DOT_FMA, j)                                                                                \
    }
#define DOT_ROWS_J(F, j) F(0, j) F(1, j) F(2, j) F(3, j) F(4, j) F(5, j) F(6, j) F(7, j)
#define DOT_STORE(r, j)                                                                                       \
    if ((j) < n) {                                                                                            \
        float sum = shared ? s_all[DOT_LANE((r) * n + (j))] : s_##r[DOT_LANE(j)];                             \
        for (size_t q = k_vec; q < k; q++) sum = GEMM_FMA1(a[(size_t)(r) * k + q], b[(size_t)(j) * k + q], sum); \
        float *cij = c + (size_t)(r) * (size_t)n + (j);                                                       \
        *cij = merge_c(cij, alpha * sum, 1, beta);                                                           \
    }
#define DOT_STORE_ROW(r)                                                                                      \
    if ((r) < rows) {                                                                                         \
        vf s_##r = {0};                                                                                       \
        if (!shared) {                                                                                        \
            s_##r = dot_reduce(d_##r##_0, d_##r##_1, d_##r##_2, d_##r##_3, d_##r##_4, d_##r##_5, d_##r##_6,    \
                               d_##r##_7, d_##r##_8, d_##r##_9, d_##r##_10, d_##r##_11, d_##r##_12,             \
                               d_##r##_13, d_##r##_14, d_##r##_15);                                           \
        }                                                                                                     \
        DOT_COLS(DOT_STORE, r)                                                                                \
    }
/* a K block's lane sums, kept between blocks: accumulator (r, j) at part[(r n + j) VL] */
#define DOT_RESUME(r, j)                                                                                      \
    if ((r) < rows && (j) < n) memcpy(&d_##r##_##j, part + ((size_t)(r) * n + (j)) * VL, sizeof d_##r##_##j);
#define DOT_RESUME_ROW(r) DOT_COLS(DOT_RESUME, r)
#define DOT_SUSPEND(r, j)                                                                                     \
    if ((r) < rows && (j) < n) memcpy(part + ((size_t)(r) * n + (j)) * VL, &d_##r##_##j, sizeof d_##r##_##j);
#define DOT_SUSPEND_ROW(r) DOT_COLS(DOT_SUSPEND, r)
/* a tile of at most 16 accumulators reduces them all in one set of trees, accumulator (r, j) as r n + j */
#define DOT_GATHER(r, j)                                                                                      \
    if ((r) < rows && (j) < n) in[(r) * n + (j)] = d_##r##_##j;
#define DOT_GATHER_ROW(r) DOT_COLS(DOT_GATHER, r)

/*
 * rows (<= 8) rows of C from a (rows x k) and all n (<= 16) rows of b (n x k), on rows x n accumulators,
 * over the whole vectors p0 .. p1 of k (a K block). b_packed holds b's whole vectors chunk by chunk
 * (chunk q: row j's floats 16 q .. 16 q + 15 at (q n + j) 16), so one pointer walks them; the tail
 * k % 16 is read from b. A block that does not end K leaves its lane sums in part, and the next resumes
 * from them (the same sums in the same order as one pass); the last reduces them and merges into C.
 */
static inline __attribute__((always_inline)) void dot_tile(const int rows, const int n, size_t k, size_t p0,
                                                           size_t p1, float alpha, const float *restrict a,
                                                           const float *restrict b,
                                                           const float *restrict b_packed, float beta,
                                                           float *restrict c, float *restrict part) {
    DOT_ROWS(DOT_DECL_ROW)
    const size_t k_vec = k / VL * VL;
    if (p0 > 0) {
        DOT_ROWS(DOT_RESUME_ROW)
    }
    const float *bp = b_packed + p0 * (size_t)n;
    for (size_t p = p0; p < p1; p += VL, bp += (size_t)n * VL) {
        DOT_ROWS(DOT_LOAD_A)
        DOT_COLS(DOT_FMA_COL, 0)
    }
    if (p1 < k_vec) {
        DOT_ROWS(DOT_SUSPEND_ROW)
        return;
    }
    const int shared = rows * n <= 16;
    vf s_all = {0};
    if (shared) {
        vf in[16] = {{0}};
        DOT_ROWS(DOT_GATHER_ROW)
        s_all = dot_reduce(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], in[8], in[9], in[10], in[11],
                           in[12], in[13], in[14], in[15]);
    }
    DOT_ROWS(DOT_STORE_ROW)
}

/* A tile's rows for an n-column C: about 20 accumulators (of 32 vector registers), at most 8 rows. */
#define DOT_TILE_ROWS(n) ((n) >= 11 ? 1 : (n) >= 7 ? 2 : (n) >= 5 ? 3 : (n) >= 3 ? 5 - ((n) - 3) : 8)

/*
 * Rows i0..i1 of C for a constant n, over the K block p0..p1: whole tiles of DOT_TILE_ROWS(n) rows, the
 * last rows one at a time. Row i's lane sums between blocks are at parts + (i - i0) n VL (parts is NULL
 * when K is one block).
 */
static inline __attribute__((always_inline)) void dot_rows(const int n, size_t i0, size_t i1, size_t k, size_t p0,
                                                           size_t p1, float alpha, const float *a, const float *b,
                                                           const float *bp, float beta, float *c, float *parts) {
    const size_t tile = DOT_TILE_ROWS(n);
    size_t i = i0;
    for (; i + tile <= i1; i += tile) {
        dot_tile(DOT_TILE_ROWS(n), n, k, p0, p1, alpha, a + i * k, b, bp, beta, c + i * (size_t)n,
                 parts ? parts + (i - i0) * (size_t)n * VL : NULL);
    }
    for (; i < i1; i++) {
        dot_tile(1, n, k, p0, p1, alpha, a + i * k, b, bp, beta, c + i * (size_t)n,
                 parts ? parts + (i - i0) * (size_t)n * VL : NULL);
    }
}

#define DOT_CASES(F) F(0, 0) F(0, 1) F(0, 2) F(0, 3) F(0, 4) F(0, 5) F(0, 6) F(0, 7) F(0, 8) F(0, 9)
_Static_assert(DOT_MAX_N == 10, "DOT_CASES spells out N = 1 .. DOT_MAX_N");
#define DOT_CASE(r, j)                                                                                        \
    case (j) + 1:                                                                                             \
        dot_rows((j) + 1, g0, g1, k, p0, p1, alpha, a, b, bp, beta, c, own);                                  \
        break;
/* The floats of k in a K block: whole vectors whose packed B (n of them a chunk) fills DOT_STACK_FLOATS. */
static size_t dot_block(size_t n) {
    const size_t chunks = DOT_STACK_FLOATS / (n * VL);
    return (chunks < 1 ? 1 : chunks) * VL;
}

/*
 * Thread `thread` of `threads`' share of C: a contiguous run of whole tiles, in groups of DOT_GROUP rows,
 * each group over every K block in order (own: the group's lane sums between blocks, or NULL).
 */
static inline __attribute__((always_inline)) void dot_share(int thread, int threads, size_t m, size_t n, size_t k,
                                                            float alpha, const float *a, const float *b,
                                                            const float *bp, float beta, float *c, float *own) {
    const size_t tile = DOT_TILE_ROWS(n), tiles = (m + tile - 1) / tile, k_vec = k / VL * VL;
    const size_t block = dot_block(n);
    const size_t i0 = min_size(m, tiles * (size_t)thread / (size_t)threads * tile);
    const size_t i1 = min_size(m, tiles * (size_t)(thread + 1) / (size_t)threads * tile);
    for (size_t g0 = i0; g0 < i1; g0 += DOT_GROUP) {
        const size_t g1 = min_size(i1, g0 + DOT_GROUP);
        for (size_t p0 = 0; p0 < k_vec; p0 += block) {
            const size_t p1 = min_size(k_vec, p0 + block);
            switch (n) { DOT_CASES(DOT_CASE) }
        }
    }
}

/*
 * C (m x n, n <= DOT_MAX_N) = alpha A B^T + beta C, A m x k and B n x k, both plain. Threads (from
 * DIRECT_MAX multiply-adds) take contiguous runs of whole tiles; a row's sums do not depend on who
 * computes it, nor on M.
 */
static enum nncl_status gemm_dot(int n_threads, size_t m, size_t n, size_t k, float alpha, const float *a,
                                 const float *b, float beta, float *c) {
    const size_t chunks = k / VL, k_vec = chunks * VL;
    /* K blocks of whole vectors whose packed B fits in 16 KiB of L1 (25 vectors for n = 10; dot_share
     * cuts them): a 2-row tile reads 10 vectors of B a step for 20 multiply-adds, which from L2 (K = 784,
     * 31 KiB of B) ran at 0.66 of OpenBLAS */
    const size_t block = dot_block(n);
    const size_t blocks = (k_vec + block - 1) / block;
    const int parallel = n_threads > 1 && m * n * k >= DIRECT_MAX;
    const int team = parallel ? n_threads : 1;
    /* B's whole vectors, packed: on the stack up to 16 KiB (a call of a microsecond or two pays for an
     * allocation), else on the heap with, past one K block, each thread's lane sums of a group of
     * DOT_GROUP rows between blocks (the groups keep the scratch small whatever M is) */
    _Alignas(ALIGN) float on_stack[DOT_STACK_FLOATS];
    float *bp = on_stack, *parts = NULL;
    const size_t packed = (chunks * n * VL + ALIGN - 1) / ALIGN * ALIGN, own_floats = DOT_GROUP * n * VL;
    if (blocks > 1) {
        const size_t floats = packed + (size_t)team * own_floats;
        bp = aligned_alloc(ALIGN, floats * sizeof *bp);
        if (!bp) {
            return nncl_set_error(NNCL_ERR_OOM, "gemm: out of host memory for %zu bytes of packing blocks",
                                  floats * sizeof *bp);
        }
        parts = bp + packed;
    }
    for (size_t q = 0; q < chunks; q++) {
        for (size_t j = 0; j < n; j++) memcpy(bp + (q * n + j) * VL, b + j * k + q * VL, VL * sizeof *bp);
    }
    if (!parallel) {
        /* no parallel region at all: its set-up costs as much as a small product */
        dot_share(0, 1, m, n, k, alpha, a, b, bp, beta, c, parts);
    } else {
#ifdef _OPENMP
#pragma omp parallel num_threads(team)
#endif
        {
            int thread, threads;
            team_place(&thread, &threads);
            dot_share(thread, threads, m, n, k, alpha, a, b, bp, beta, c,
                      parts ? parts + (size_t)thread * own_floats : NULL);
        }
    }
    if (bp != on_stack) free(bp);
    return NNCL_OK;
}
#define GEMM_HAVE_DOT 1
#endif

static enum nncl_status gemm_blocked(int n_threads, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                                     const float *a, const float *b, float beta, float *c, size_t rs, size_t cs);

enum nncl_status cpu_gemm(struct nncl_backend *be, const struct nncl_op_call *call) {
    const int trans_a = call->ip[0], trans_b = call->ip[1];
    const float alpha = call->p[0], beta = call->p[1];
    const float *a = cpu_data(&call->t[0]), *b = cpu_data(&call->t[1]);
    float *c = cpu_data(&call->t[2]);
    const size_t m = call->t[2].rows, n = call->t[2].cols;
    const size_t k = trans_a ? call->t[0].rows : call->t[0].cols;
    if (m == 0 || n == 0) return NNCL_OK;
    if (alpha == 0.0f || k == 0) {
        scale_c(m, n, beta, c);
        return NNCL_OK;
    }
    const int threads = be->threads > 0 ? be->threads : 1;
#ifdef GEMM_HAVE_DOT
    /* before gemm_tiny: the dot products' choice depends on N and K alone, so a row of C gets the same
     * bits whatever M is (an example predicted alone or in a batch) */
    if (n <= DOT_MAX_N && !trans_a && trans_b && k >= 2 * VL) return gemm_dot(threads, m, n, k, alpha, a, b, beta, c);
#endif
    const size_t n_slices = (k + KC - 1) / KC, kc_max = (k + n_slices - 1) / n_slices;
    if (m * n * k <= 4096) {
        gemm_tiny(trans_a, trans_b, m, n, k, alpha, a, b, beta, c, kc_max);
        return NNCL_OK;
    }
    /*
     * A narrow C (an output layer of 1-16 units, N <= 16) fills only a vector or two of each NR-wide tile.
     * With A transposed (the tn of a dW), compute C^T = op(B)^T op(A)^T instead, whose rows are C's
     * columns, at MR-row granularity, storing it transposed (row stride 1, column stride N); its B operand
     * is then the plain A, which C^T's few row panels read in place. Each element is the same sum in the
     * same order (a fused multiply-add is symmetric in its factors), so the bits do not change. On one
     * thread: C^T has at most three MR-row panels to split, and a second thread only adds barriers. With a
     * plain A (the nt of a forward pass), C^T's B operand would be A transposed, and the transposing pack
     * of all of A cost 1.5 times the kernel (`perf record`, 256x10x1024:nt): with AVX-512 those of a
     * transposed B and N <= 10 are dot products (gemm_dot, above), the others run untransposed, on tiles
     * of one or two vectors (with AVX-512, 10 of 16 lanes used). Zen 4, best of two alternating runs:
     * 256x10x1024:nt 46 -> 61 GFLOP/s on one thread, 46 -> 100 on two (OpenBLAS 48, 37; as dot products
     * now 88 and 124); 256x10x1024:tn through C^T 87.5, untransposed 44.
     */
    if (n <= 16 && m > n && trans_a) return gemm_blocked(1, !trans_b, !trans_a, n, m, k, alpha, b, a, beta, c, 1, n);
    return gemm_blocked(threads, trans_a, trans_b, m, n, k, alpha, a, b, beta, c, n, 1);
}

/*
 * One thread's share of a product whose threads split the columns: each NC block's NR-column panels are
 * dealt out in contiguous runs, and a thread packs its own panels and alone reads them, so no barrier is
 * needed anywhere; every row panel of a plain A is read in place.
 * Against the row split this keeps an even share when C has few row panels (256 rows are 43 panels, 21
 * and 22 for two threads) and each thread's L2 holds only the B panels it packed; with many rows each
 * thread would read all of A per slice, so those split rows (1024^3: 7.5 ms rows, 8.5 columns). Each tile is the same
 * kernel call on the same panels as in the row split, in the same K order, so the bits do not change.
 * Each thread packs into a region of bp of its own, ceil(full block's panels / threads) panels of kc_max
 * rows, the same for every block and slice: a thread a slice or a block ahead would otherwise write into
 * a neighbour's panel still being read (K = 257 slices as 129 + 128; N = 600 blocks as 512 + 88).
 */
static void gemm_columns(int thread, int threads, int trans_b, int b_in_place, size_t m, size_t n, size_t k,
                         size_t kc_max, float alpha, const float *a, const float *b, float beta, float *c, size_t rs,
                         size_t cs, float *bp) {
    const size_t region = (min_size(NC, (n + NR - 1) / NR * NR) / NR + (size_t)threads - 1) / (size_t)threads;
    float *own = bp + (size_t)thread * region * NR * kc_max; /* this thread's panels, one after another */
    for (size_t j0 = 0; j0 < n; j0 += NC) {
        const size_t nc = min_size(NC, n - j0), n_panels = (nc + NR - 1) / NR;
        const size_t jp0 = n_panels * (size_t)thread / (size_t)threads;
        const size_t jp1 = n_panels * (size_t)(thread + 1) / (size_t)threads;
        for (size_t p0 = 0; p0 < k; p0 += kc_max) {
            const size_t kc = min_size(kc_max, k - p0);
            if (!trans_b && !b_in_place) {
                pack_b_rows(n, b, p0, kc, j0, nc, jp0, jp1, own, kc_max);
            } else {
                for (size_t jr = jp0 * NR; jr < jp1 * NR; jr += NR) {
                    const size_t nr = min_size(NR, nc - jr);
                    float *panel = own + (jr - jp0 * NR) * kc_max;
                    if (!b_in_place || nr < NR) pack_b_panel(trans_b, n, k, b, p0, j0 + jr, kc, nr, panel);
                }
            }
            for (size_t i0 = 0; i0 < m; i0 += MR) {
                const size_t mr = min_size(MR, m - i0);
                const float *a_panel = a + i0 * k + p0;
                for (size_t jr = jp0 * NR; jr < jp1 * NR; jr += NR) {
                    const size_t nr = min_size(NR, nc - jr);
                    const int in_place = b_in_place && nr == NR;
                    const float *panel = own + (jr - jp0 * NR) * kc_max;
                    micro_kernel(kc, a_panel, k, 1, in_place ? b + p0 * n + j0 + jr : panel,
                                 in_place ? n : NR, c + i0 * rs + (j0 + jr) * cs, rs, cs, mr, nr, p0 == 0, alpha,
                                 beta);
                }
            }
        }
    }
}

/*
 * A product with a plain B that runs on one thread (under DIRECT_MAX multiply-adds: an output layer's
 * weight and input gradients, 10x128x128:tn and 128x128x10:nn): packing and its allocation cost as much
 * as the sums. Every panel of A and every full panel of B is read where it lies, A plain (row stride K) or
 * transposed (column stride M) and B with row stride N; only a short last panel of B is packed. The
 * same kernel calls on the same values in the same K slices as the blocked path, so the same bits.
 */
static enum nncl_status gemm_direct(int trans_a, size_t m, size_t n, size_t k, size_t kc_max, float alpha,
                                    const float *a, const float *b, float beta, float *c, size_t rs, size_t cs) {
    float *edge_b = NULL;
    const size_t n_full = n / NR * NR;
    if (n_full < n && !(edge_b = malloc(kc_max * NR * sizeof *edge_b))) {
        return nncl_set_error(NNCL_ERR_OOM, "gemm: out of host memory for a %zu x %d packing panel", kc_max, (int)NR);
    }
    /*
     * Shallow slices run on SHORT_MR-row tiles. Zen 4, one thread, best of five alternating runs against
     * 6-row tiles (GFLOP/s, calls timed back to back): 128x128x10:nn 92.8 -> 95.5, 130x128x10:tn 95.1 ->
     * 100.2, 64x128x20:nn 104.1 -> 108.1, 128x128x32:nn 109.1 -> 113.3; timed a call at a time, also
     * 126x128x10:nn 94.2 -> 100.6 (so not the 2-row edge of M = 128), but 96x128x64:nn 110.6 -> 104.9 and
     * 48x128x128:nn 115.1 -> 110.8, where the taller tile's fewer B loads a multiply-add tell. A tile's
     * height changes no element's sum. (AVX-512 only: with AVX2 SHORT_MR is MR.)
     */
    const size_t mr_step = kc_max <= SHORT_K ? (size_t)SHORT_MR : MR;
    for (size_t p0 = 0; p0 < k; p0 += kc_max) {
        const size_t kc = min_size(kc_max, k - p0);
        if (edge_b) pack_b_panel(0, n, k, b, p0, n_full, kc, n - n_full, edge_b);
        for (size_t i0 = 0; i0 < m; i0 += mr_step) {
            const size_t mr = min_size(mr_step, m - i0);
            /* element (i, p) of the panel is a_panel[i * a_row + p * a_col] */
            const float *a_panel = trans_a ? a + p0 * m + i0 : a + i0 * k + p0;
            const size_t a_row = trans_a ? 1 : k, a_col = trans_a ? m : 1;
            for (size_t jr = 0; jr < n; jr += NR) {
                const int full = jr < n_full;
                /* a full tile on the kernel inlined: at K = 10 the call and micro_kernel's size dispatch
                 * were a measurable share of a tile (128x128x10:nn, ec71d66); with K slices of up to
                 * KC the blocked paths do not notice them */
                if (full && mr == MR) {
                    tile_kernel(MR, NV, kc, a_panel, a_row, a_col, b + p0 * n + jr, n, c + i0 * rs + jr * cs, rs,
                                cs, NR, p0 == 0, alpha, beta);
                    continue;
                }
                if ((int)SHORT_MR != (int)MR && full && mr == SHORT_MR) {
                    tile_kernel(SHORT_MR, NV, kc, a_panel, a_row, a_col, b + p0 * n + jr, n, c + i0 * rs + jr * cs,
                                rs, cs, NR, p0 == 0, alpha, beta);
                    continue;
                }
                micro_kernel(kc, a_panel, a_row, a_col, full ? b + p0 * n + jr : edge_b, full ? n : NR,
                             c + i0 * rs + jr * cs, rs, cs, mr, min_size(NR, n - jr), p0 == 0, alpha, beta);
            }
        }
    }
    free(edge_b);
    return NNCL_OK;
}

/* C (m x n; element (i, j) at c[i rs + j cs]) = alpha op(A) op(B) + beta C, the scheme of the file's banner */
static enum nncl_status gemm_blocked(int n_threads, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                                     const float *a, const float *b, float beta, float *c, size_t rs, size_t cs) {

    /* K slices of equal depth (at most KC): 784 runs as 4 x 196 rather than 3 x 256 + 16. */
    const size_t n_slices = (k + KC - 1) / KC, kc_max = (k + n_slices - 1) / n_slices;
    if (!trans_b && m * n * k < DIRECT_MAX) return gemm_direct(trans_a, m, n, k, kc_max, alpha, a, b, beta, c, rs, cs);
    const size_t nc_max = min_size(NC, (n + NR - 1) / NR * NR);
    const size_t m_panels = (m + MR - 1) / MR;
    /*
     * A plain B feeding at most B_IN_PLACE_PANELS row panels (an output layer's weight gradient, 10 x N) is
     * read where it lies: packing would copy each element to use it once or twice. Its full NR-column
     * panels are read with row stride N; only a short last panel is packed (zero-padded). The same
     * products in the same order either way, and the choice depends on the shape alone.
     */
    const int b_in_place = !trans_b && m_panels <= B_IN_PLACE_PANELS;
    int max_threads = 1;
    (void)n_threads;
#ifdef _OPENMP
    /* Threads pay off from about a million multiply-adds; fewer run on the calling thread. */
    const int parallel = m * n * k >= DIRECT_MAX;
    if (parallel) max_threads = n_threads;
#endif
    /*
     * One allocation: the shared B block (kc x nc, and up to threads - 1 panels more: the rounding up of
     * gemm_columns' per-thread regions), then, for a transposed A, each thread's A block (MC x kc).
     */
    const size_t bp_floats = (kc_max * (nc_max + (size_t)(max_threads - 1) * NR) + ALIGN - 1) / ALIGN * ALIGN;
    const size_t ap_floats = trans_a ? (size_t)MC * kc_max : 0;
    const size_t bytes = ((bp_floats + (size_t)max_threads * ap_floats) * sizeof(float) + ALIGN - 1) / ALIGN * ALIGN;
    float *bp = aligned_alloc(ALIGN, bytes);
    if (!bp) {
        return nncl_set_error(NNCL_ERR_OOM, "gemm: out of host memory for %zu bytes of packing blocks", bytes);
    }

#ifdef _OPENMP
#pragma omp parallel if (parallel) num_threads(max_threads)
#endif
    {
        int thread, threads;
        team_place(&thread, &threads);
        float *ap = bp + bp_floats + (size_t)thread * ap_floats;
        /* a plain A with few row panels (at most two MC chunks a thread) and a panel or more a thread */
        if (threads > 1 && !trans_a && m <= 2 * (size_t)MC * (size_t)threads && nc_max / NR >= (size_t)threads) {
            gemm_columns(thread, threads, trans_b, b_in_place, m, n, k, kc_max, alpha, a, b, beta, c, rs, cs, bp);
        } else {
            /* The rows split into chunks of whole panels, at most MC / MR each, as many per thread. */
            const size_t chunk_rounds = (m_panels + (size_t)threads * (MC / MR) - 1) / ((size_t)threads * (MC / MR));
            const long n_chunks = (long)(chunk_rounds * (size_t)threads);
            for (size_t j0 = 0; j0 < n; j0 += NC) {
                const size_t nc = min_size(NC, n - j0);
                const long n_panels = (long)((nc + NR - 1) / NR);
                for (size_t p0 = 0; p0 < k; p0 += kc_max) {
                    const size_t kc = min_size(kc_max, k - p0);
                    if (!trans_b && !b_in_place) {
                        /* each thread a contiguous run of panels, a row of B at a time */
                        const size_t jp0 = (size_t)n_panels * (size_t)thread / (size_t)threads;
                        const size_t jp1 = (size_t)n_panels * (size_t)(thread + 1) / (size_t)threads;
                        pack_b_rows(n, b, p0, kc, j0, nc, jp0, jp1, bp + jp0 * NR * kc, kc);
#ifdef _OPENMP
#pragma omp barrier
#endif
                    } else {
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
                        for (long jp = 0; jp < n_panels; jp++) {
                            const size_t jr = (size_t)jp * NR;
                            if (b_in_place && nc - jr >= NR) continue;
                            pack_b_panel(trans_b, n, k, b, p0, j0 + jr, kc, min_size(NR, nc - jr), bp + jr * kc);
                        }
                    }
                    /* (the barrier: the whole B block is packed) */
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
                    for (long chunk = 0; chunk < n_chunks; chunk++) {
                        /* rows q0..q1 of C; both multiples of MR, except q1 == m for the last chunk */
                        const size_t q0 = (size_t)chunk * m_panels / (size_t)n_chunks * MR;
                        const size_t q1 = min_size(m, (size_t)(chunk + 1) * m_panels / (size_t)n_chunks * MR);
                        if (trans_a) pack_a(m, a, q0, q1, p0, kc, ap);
                        for (size_t i0 = q0; i0 < q1; i0 += MR) {
                            const size_t mr = min_size(MR, q1 - i0);
                            /* element (i, p) of the panel is a_panel[i * a_row + p * a_col] */
                            const float *a_panel = trans_a ? ap + (i0 - q0) * kc : a + i0 * k + p0;
                            const size_t a_row = trans_a ? 1 : k, a_col = trans_a ? MR : 1;
                            for (size_t jr = 0; jr < nc; jr += NR) {
                                const size_t nr = min_size(NR, nc - jr);
                                const int in_place = b_in_place && nr == NR;
                                const float *b_panel = in_place ? b + p0 * n + j0 + jr : bp + jr * kc;
                                micro_kernel(kc, a_panel, a_row, a_col, b_panel, in_place ? n : NR,
                                             c + i0 * rs + (j0 + jr) * cs, rs, cs, mr, nr, p0 == 0, alpha, beta);
                            }
                        }
                    }
                    /* (the implicit barrier: nobody still reads the B block the next slice overwrites) */
                }
            }
        }
    }
    free(bp);
    return NNCL_OK;
}
