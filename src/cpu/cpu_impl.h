/*
 * cpu_impl.h: what the CPU reference's op files share. Internal.
 *
 * Dimension names used in the CPU files: N rows (examples in a batch), C columns (features, units or
 * classes), and for gemm M x K times K x N.
 */
#ifndef NNCL_CPU_IMPL_H
#define NNCL_CPU_IMPL_H

#include "../backend_impl.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* The host pointer to a tensor's first element: buffers of the CPU backend are malloc'ed floats. */
static inline float *cpu_data(const struct nncl_tensor *t) { return (float *)t->buffer->handle + t->offset; }

/*
 * Threads for the element-wise ops. Below CPU_PARALLEL_MIN elements an op runs on the calling thread:
 * handing half of it to a second thread costs about as much as it saves (a few microseconds). Every fast
 * op splits its range so that an element's value, and every sum's order, is the same for any count.
 */
enum { CPU_PARALLEL_MIN = 1 << 14 };
static inline int cpu_threads_for(const struct nncl_backend *be, size_t elements) {
    return elements >= CPU_PARALLEL_MIN && be->threads > 1 ? be->threads : 1;
}
#ifdef _OPENMP
static inline int cpu_thread_num(void) { return omp_get_thread_num(); }
static inline int cpu_num_threads(void) { return omp_get_num_threads(); }
/* (reads the variable nt_ of CPU_SPLIT: a _Pragma string takes no macro arguments) */
#define CPU_OMP_PARALLEL _Pragma("omp parallel num_threads(nt_) if (nt_ > 1)")
#else
static inline int cpu_thread_num(void) { return 0; }
static inline int cpu_num_threads(void) { return 1; }
#define CPU_OMP_PARALLEL
#endif

/* Runs BODY once per thread of `threads` with [lo, hi) that thread's contiguous share of [0, n):
 * [n t / T, n (t + 1) / T). One parallel region per op. */
#define CPU_SPLIT(n, threads, lo, hi, BODY)                                                                   \
    do {                                                                                                     \
        const int nt_ = (threads);                                                                           \
        (void)nt_; /* (read only by CPU_OMP_PARALLEL, which is empty without OpenMP) */                       \
        const size_t n_ = (n);                                                                               \
        CPU_OMP_PARALLEL                                                                                     \
        {                                                                                                    \
            const size_t t_ = (size_t)cpu_thread_num(), tn_ = (size_t)cpu_num_threads();                     \
            const size_t lo = n_ * t_ / tn_, hi = n_ * (t_ + 1) / tn_;                                       \
            BODY;                                                                                            \
        }                                                                                                    \
    } while (0)

/* One function per op; each checks nothing (ops.c did) and returns NNCL_OK. */
enum nncl_status cpu_gemm(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_bias_add(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_bias_grad(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_act_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_bias_act_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_act_bwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_softmax_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_softmax_bwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_softmax_xent_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_softmax_xent_bwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_sigmoid_bce_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_sigmoid_bce_bwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_mse_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_mse_bwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_class_error(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_sum(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_sgd_update(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_momentum_update(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_adam_update(struct nncl_backend *be, const struct nncl_op_call *call);
/* cpu_optim2.c */
enum nncl_status cpu_sumsq(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_clip_grad(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_nesterov_update(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_rmsprop_update(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_adamw_update(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_irprop_update(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_dropout(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_fill(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_copy(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_scale(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_gather_rows(struct nncl_backend *be, const struct nncl_op_call *call);

/* The plain loops the fast element-wise ops are tested against bit for bit (tests/test_cpu_fast.c);
 * same arguments as the op. */
enum nncl_status cpu_act_fwd_plain(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_bias_act_fwd_plain(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_act_bwd_plain(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_bias_add_plain(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_bias_grad_plain(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_gather_rows_plain(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_sgd_update_plain(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_momentum_update_plain(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_softmax_xent_fwd_plain(struct nncl_backend *be, const struct nncl_op_call *call);

/* The plain triple loop the blocked gemm is tested against (same arguments as NNCL_OP_GEMM). */
void cpu_gemm_naive(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a,
                    const float *b, float beta, float *c);

#endif /* NNCL_CPU_IMPL_H */
