/*
 * cpu_impl.h: what the CPU reference's op files share. Internal.
 *
 * Dimension names used in the CPU files: N rows (examples in a batch), C columns (features, units or
 * classes), and for gemm M x K times K x N.
 */
#ifndef NNCL_CPU_IMPL_H
#define NNCL_CPU_IMPL_H

#include "../backend_impl.h"

/* The host pointer to a tensor's first element: buffers of the CPU backend are malloc'ed floats. */
static inline float *cpu_data(const struct nncl_tensor *t) { return (float *)t->buffer->handle + t->offset; }

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
enum nncl_status cpu_fill(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_copy(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_scale(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cpu_gather_rows(struct nncl_backend *be, const struct nncl_op_call *call);

/* The plain triple loop the blocked gemm is tested against (same arguments as NNCL_OP_GEMM). */
void cpu_gemm_naive(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a,
                    const float *b, float beta, float *c);

#endif /* NNCL_CPU_IMPL_H */
