/*
 * fma_peak.h: the machine's ceiling for the CPU gemm, measured: T threads each running 12 independent
 * chains of fused multiply-adds on vectors as wide as the gemm's own (fma_peak.c is built with the
 * gemm's instruction set), no loads or stores. A product can approach this figure and not pass it, so a
 * kernel's GFLOP/s over it is how much of the core it uses, and a total flop count over it is the least
 * time any implementation of those products can take on this machine.
 */
#ifndef NNCL_BENCH_FMA_PEAK_H
#define NNCL_BENCH_FMA_PEAK_H

/* The best of five runs of about 0.1 s each, in GFLOP/s (2 flops a fused multiply-add) over all threads;
 * *vector_floats gets the width measured (16 with AVX-512F, 8 with AVX, 4 otherwise). */
double fma_peak_gflops(int threads, int *vector_floats);

#endif
