/*
 * cpu_dropout.c: the CPU reference of inverted dropout (NNCL_OP_DROPOUT). Each element's keep decision is
 * Philox4x32-10 of its own counter (src/philox_impl.h), so the result does not depend on how the elements are
 * split over threads; the OpenCL kernel nncl_dropout computes the same bits.
 */
#include "cpu_impl.h"
#include "philox_impl.h"

/* Elements [lo, hi) of x and y; e0 is the batch index of element 0 (row0 * cols). */
static void dropout_range(const float *x, float *y, size_t lo, size_t hi, uint64_t e0, uint64_t seed, uint64_t step,
                          uint32_t layer, uint64_t threshold, float scale) {
    for (size_t i = lo; i < hi; i++) {
        const uint32_t bits = nncl_dropout_bits(seed, step, layer, e0 + i);
        y[i] = (uint64_t)bits < threshold ? x[i] * scale : 0.0f;
    }
}

/*
 * x, y (N x C; y may be x); p; seed_lo, seed_hi, step_lo, step_hi, layer, row0:
 *   y[i] = keep(e) ? x[i] * scale : 0,  e = row0 C + i,  keep(e) = bits(seed, step, layer, e) < round((1 - p) 2^32),
 *   scale = (float)(1 / (1 - p)).
 * Its backward is the same call on the delta (dx = keep ? dy * scale : 0).
 */
enum nncl_status cpu_dropout(struct nncl_backend *be, const struct nncl_op_call *call) {
    const float *x = cpu_data(&call->t[0]);
    float *y = cpu_data(&call->t[1]);
    const int *ip = call->ip;
    const uint64_t seed = (uint64_t)nncl_ip_to_u32(ip[1]) << 32 | nncl_ip_to_u32(ip[0]);
    const uint64_t step = (uint64_t)nncl_ip_to_u32(ip[3]) << 32 | nncl_ip_to_u32(ip[2]);
    const uint32_t layer = (uint32_t)ip[4];
    const uint64_t e0 = (uint64_t)ip[5] * call->t[0].cols, threshold = nncl_dropout_threshold(call->p[0]);
    const float scale = nncl_dropout_scale(call->p[0]);
    const size_t count = nncl_tensor_count(&call->t[0]);
    CPU_SPLIT(count, cpu_threads_for(be, count), lo, hi,
              dropout_range(x, y, lo, hi, e0, seed, step, layer, threshold, scale));
    return NNCL_OK;
}
