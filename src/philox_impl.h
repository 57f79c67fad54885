/*
 * philox_impl.h: the counter-based generator behind dropout masks, Philox4x32-10 (Salmon, Moraes, Dror and
 * Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011), and the dropout constants derived from the
 * rate on the host. Internal.
 *
 * A counter-based generator has no state: the bits of element i are a function of (key, counter) alone, so
 * the CPU reference (src/cpu/cpu_dropout.c) and the OpenCL kernel (kernels/elementwise.cl, nncl_dropout)
 * compute the same mask element by element in any order, on any thread count, and a resumed run draws the
 * mask of step s without replaying steps 0..s-1. kernels/elementwise.cl holds the same rounds in OpenCL C;
 * tests/test_dropout.c pins both to the published known answers and to each other.
 *
 * The dropout key and counter (docs/architecture.md section 5.8):
 *   key     = (seed & 0xffffffff, seed >> 32)
 *   counter = (e & 0xffffffff, e >> 32, step & 0xffffffff, (step >> 32) | layer << 24)
 * where e = row0 * cols + i is the element's index in the whole (global) batch; word 0 of the output decides:
 * the element is kept iff (uint64) word0 < nncl_dropout_threshold(p). Steps below 2^56 and layers below 256
 * keep the counters distinct.
 */
#ifndef NNCL_PHILOX_IMPL_H
#define NNCL_PHILOX_IMPL_H

#include <math.h>
#include <stdint.h>

#define NNCL_PHILOX_M0 0xD2511F53u /* the round multipliers */
#define NNCL_PHILOX_M1 0xCD9E8D57u
#define NNCL_PHILOX_W0 0x9E3779B9u /* the key's Weyl increments: the golden ratio, sqrt(3) - 1 */
#define NNCL_PHILOX_W1 0xBB67AE85u

/* Ten rounds over ctr[4] with key[2], written into out[4]. Each round multiplies words 0 and 2 by the
 * multipliers into 64 bits, and the next words are (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1,
 * lo(M0 c0)); the key gains the increments between rounds. */
static inline void nncl_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3], k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        if (round > 0) k0 += NNCL_PHILOX_W0, k1 += NNCL_PHILOX_W1;
        const uint64_t p0 = (uint64_t)NNCL_PHILOX_M0 * c0, p1 = (uint64_t)NNCL_PHILOX_M1 * c2;
        const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1, c3 = (uint32_t)p0, c0 = n0, c2 = n2;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

/* The 32 random bits that decide element e of layer `layer` at training step `step` (the layout above). */
static inline uint32_t nncl_dropout_bits(uint64_t seed, uint64_t step, uint32_t layer, uint64_t e) {
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    const uint32_t ctr[4] = {(uint32_t)e, (uint32_t)(e >> 32), (uint32_t)step, (uint32_t)(step >> 32) | layer << 24};
    uint32_t out[4];
    nncl_philox4x32_10(ctr, key, out);
    return out[0];
}

/* Kept iff bits < threshold: round((1 - p) 2^32), in [0, 2^32] (2^32 at p = 0 keeps everything). Computed once
 * per launch on the host in double, and compared as integers on every backend, so they agree exactly. */
static inline uint64_t nncl_dropout_threshold(float p) {
    return (uint64_t)floor((1.0 - (double)p) * 4294967296.0 + 0.5);
}

/* The inverted scaling of kept units, 1 / (1 - p) rounded to float once on the host: every backend multiplies
 * by this same float, one correctly rounded product. */
static inline float nncl_dropout_scale(float p) { return (float)(1.0 / (1.0 - (double)p)); }

/* A 32-bit word carried in an int op parameter (nncl_op_call.ip) and back, without implementation-defined
 * conversions. */
static inline int nncl_u32_to_ip(uint32_t v) {
    return v <= 0x7fffffffu ? (int)v : (int)(v - 0x80000000u) - 0x7fffffff - 1;
}
static inline uint32_t nncl_ip_to_u32(int v) { return (uint32_t)v; }

#endif /* NNCL_PHILOX_IMPL_H */
