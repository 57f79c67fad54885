/* fma_peak.c: see fma_peak.h. Compiled with the CPU gemm's instruction-set options (bench/CMakeLists.txt). */
#define _POSIX_C_SOURCE 199309L
#include "fma_peak.h"

#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__AVX512F__)
#define PEAK_VL 16
#elif defined(__AVX__)
#define PEAK_VL 8
#else
#define PEAK_VL 4
#endif
typedef float vf __attribute__((vector_size(PEAK_VL * sizeof(float))));

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* 12 chains: enough to keep two FMA pipes of latency 4-6 busy. The empty asm keeps every chain a chain
 * (GCC may not merge, reorder or drop them) and in a register. */
#define PEAK_CHAINS(F) F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11)
#define PEAK_DECL(i) vf c##i = x * (1.0f + 0.01f * (float)(i));
#define PEAK_FMA(i) c##i = c##i * x + y;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && defined(__SSE__)
#define PEAK_KEEP(i) __asm__ volatile("" : "+v"(c##i));
#elif defined(__GNUC__) && defined(__aarch64__)
#define PEAK_KEEP(i) __asm__ volatile("" : "+w"(c##i));
#else
#define PEAK_KEEP(i)
#endif
#define PEAK_SUM(i) +c##i

static float chains(long rounds, float s) {
    vf x, y;
    for (int i = 0; i < PEAK_VL; i++) {
        x[i] = s;
        y[i] = 1e-7f * s;
    }
    PEAK_CHAINS(PEAK_DECL)
    for (long r = 0; r < rounds; r++) {
        PEAK_CHAINS(PEAK_FMA)
        PEAK_CHAINS(PEAK_KEEP)
    }
    const vf sum = (vf){0} PEAK_CHAINS(PEAK_SUM);
    return sum[0];
}

double fma_peak_gflops(int threads, int *vector_floats) {
    const long rounds = 4000000; /* 48 million FMAs a thread: about 0.1 s at 3.6 GHz with AVX-512 */
    volatile float sink = 0.0f;
    double best = 0.0;
#ifdef _OPENMP
    if (threads < 1) threads = 1;
#else
    threads = 1;
#endif
    for (int run = 0; run < 5; run++) {
        const double t0 = now_seconds();
        float s = 0.0f;
        int team = 1; /* the threads OpenMP gave, which may be fewer than asked for */
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : s)
        {
#pragma omp single nowait
            team = omp_get_num_threads();
            s += chains(rounds, 0.9999f + 1e-9f * (float)run);
        }
#else
        s += chains(rounds, 0.9999f + 1e-9f * (float)run);
#endif
        const double t = now_seconds() - t0;
        sink += s;
        const double gf = 2.0 * PEAK_VL * 12.0 * (double)rounds * team / t * 1e-9;
        if (gf > best) best = gf;
    }
    (void)sink;
    if (vector_floats) *vector_floats = PEAK_VL;
    return best;
}
