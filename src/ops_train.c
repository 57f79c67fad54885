/*
 * ops_train.c: the typed wrappers of the training-only ops: gradient clipping, the newer optimizers (Nesterov,
 * RMSprop, AdamW, iRPROP-) and dropout, with dropout's parameter rule. Split from ops.c, which keeps the op
 * table, the checks of nncl_op_run() and the older wrappers.
 */
#include "ops_impl.h"
#include "philox_impl.h"
#include "status_impl.h"

enum nncl_status nncl_op_sumsq(struct nncl_backend *be, const struct nncl_tensor *x, const struct nncl_tensor *out) {
    CALL_INIT(NNCL_OP_SUMSQ);
    SET_T(0, x); SET_T(1, out);
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_clip_grad(struct nncl_backend *be, float max_norm, const struct nncl_tensor *g,
                                   const struct nncl_tensor *sumsq) {
    CALL_INIT(NNCL_OP_CLIP_GRAD);
    SET_T(0, g); SET_T(1, sumsq);
    call.p[0] = max_norm;
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_nesterov_update(struct nncl_backend *be, float lr, float momentum, float weight_decay,
                                         float max_norm, const struct nncl_tensor *w, const struct nncl_tensor *g,
                                         const struct nncl_tensor *v, const struct nncl_tensor *sumsq) {
    CALL_INIT(NNCL_OP_NESTEROV_UPDATE);
    SET_T(0, w); SET_T(1, g); SET_T(2, v); SET_T(3, sumsq);
    call.p[0] = lr; call.p[1] = momentum; call.p[2] = weight_decay; call.p[3] = max_norm;
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_rmsprop_update(struct nncl_backend *be, float lr, float alpha, float eps, float weight_decay,
                                        float momentum, float max_norm, const struct nncl_tensor *w,
                                        const struct nncl_tensor *g, const struct nncl_tensor *sq,
                                        const struct nncl_tensor *buf, const struct nncl_tensor *sumsq) {
    CALL_INIT(NNCL_OP_RMSPROP_UPDATE);
    SET_T(0, w); SET_T(1, g); SET_T(2, sq); SET_T(3, buf); SET_T(4, sumsq);
    call.p[0] = lr; call.p[1] = alpha; call.p[2] = eps; call.p[3] = weight_decay; call.p[4] = momentum;
    call.p[5] = max_norm;
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_adamw_update(struct nncl_backend *be, float lr, float beta1, float beta2, float eps,
                                      float weight_decay, long step, float max_norm, const struct nncl_tensor *w,
                                      const struct nncl_tensor *g, const struct nncl_tensor *m,
                                      const struct nncl_tensor *v, const struct nncl_tensor *sumsq) {
    if (step < 1) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "adamw_update: step is %ld; steps count from 1", step);
    }
    CALL_INIT(NNCL_OP_ADAMW_UPDATE);
    SET_T(0, w); SET_T(1, g); SET_T(2, m); SET_T(3, v); SET_T(4, sumsq);
    call.p[0] = lr; call.p[1] = beta1; call.p[2] = beta2; call.p[3] = eps; call.p[4] = weight_decay;
    call.p[5] = (float)(1.0 - pow((double)beta1, (double)step)); /* in double, as Adam's */
    call.p[6] = (float)(1.0 - pow((double)beta2, (double)step));
    call.p[7] = max_norm;
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_irprop_update(struct nncl_backend *be, float increase, float decrease, float delta_min,
                                       float delta_max, float weight_decay, float max_norm,
                                       const struct nncl_tensor *w, const struct nncl_tensor *g,
                                       const struct nncl_tensor *gprev, const struct nncl_tensor *delta,
                                       const struct nncl_tensor *sumsq) {
    CALL_INIT(NNCL_OP_IRPROP_UPDATE);
    SET_T(0, w); SET_T(1, g); SET_T(2, gprev); SET_T(3, delta); SET_T(4, sumsq);
    call.p[0] = increase; call.p[1] = decrease; call.p[2] = delta_min; call.p[3] = delta_max;
    call.p[4] = weight_decay; call.p[5] = max_norm;
    return nncl_op_run(be, &call);
}

/* ---- dropout ------------------------------------------------------------------------------------------ */

enum nncl_status nncl_dropout_check_params(const struct nncl_op_call *call) {
    const int *ip = call->ip;
    if (!(call->p[0] >= 0.0f && call->p[0] < 1.0f)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "dropout: p %g must be in [0, 1) (the fraction of units dropped)",
                              (double)call->p[0]);
    }
    if (ip[4] < 0 || ip[4] > 255) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "dropout: layer %d must be in [0, 255]", ip[4]);
    }
    if (nncl_ip_to_u32(ip[3]) >= (1u << 24)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "dropout: step_hi %u must be below 2^24 (steps below 2^56)",
                              nncl_ip_to_u32(ip[3]));
    }
    if (ip[5] < 0) return nncl_set_error(NNCL_ERR_INVALID_ARG, "dropout: row0 %d must be 0 or more", ip[5]);
    return NNCL_OK;
}

enum nncl_status nncl_op_dropout(struct nncl_backend *be, float p, uint64_t seed, uint64_t step, int layer,
                                 size_t row0, const struct nncl_tensor *x, const struct nncl_tensor *y) {
    if (step >> 56) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "dropout: step %llu must be below 2^56", (unsigned long long)step);
    }
    if (row0 > 0x7fffffffu) return nncl_set_error(NNCL_ERR_INVALID_ARG, "dropout: row0 %zu must be below 2^31", row0);
    CALL_INIT(NNCL_OP_DROPOUT);
    SET_T(0, x); SET_T(1, y);
    call.p[0] = p;
    call.ip[0] = nncl_u32_to_ip((uint32_t)seed), call.ip[1] = nncl_u32_to_ip((uint32_t)(seed >> 32));
    call.ip[2] = nncl_u32_to_ip((uint32_t)step), call.ip[3] = nncl_u32_to_ip((uint32_t)(step >> 32));
    call.ip[4] = layer, call.ip[5] = (int)row0;
    return nncl_op_run(be, &call);
}
