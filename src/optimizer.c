/*
 * optimizer.c: one optimizer step over a parameter arena (optimizer_impl.h): the state buffers and the
 * dispatch from enum nncl_optimizer to the update ops. A case per NNCL_OPTIMIZER_LIST entry and no
 * default, so -Wall names a new optimizer that is missing here.
 */
#include <string.h>

#include "optimizer_impl.h"
#include "status_impl.h"
#include "util/util.h"

enum nncl_status optimizer_init(struct nncl_backend *be, size_t n_params, const struct nncl_train_options *o,
                                size_t slots, struct optimizer_state *os) {
    memset(os, 0, sizeof *os);
    os->lr = o->lr;
    TRY(nncl_buffer_alloc(be, sizeof(float), &os->clip_buf));
    os->sumsq = nncl_tensor_view(os->clip_buf, 0, 1, 1);
    TRY(nncl_op_fill(be, 0.0f, &os->sumsq));
    if (!slots) return NNCL_OK;
    TRY(nncl_buffer_alloc(be, slots * n_params * sizeof(float), &os->buf));
    struct nncl_tensor all = nncl_tensor_view(os->buf, 0, 1, slots * n_params);
    TRY(nncl_op_fill(be, 0.0f, &all));
    os->m = nncl_tensor_view(os->buf, 0, 1, n_params);
    os->v = nncl_tensor_view(os->buf, (slots - 1) * n_params, 1, n_params);
    /* iRPROP-'s step sizes start at delta_zero (its previous gradients at 0) */
    if (o->optimizer == NNCL_OPT_IRPROP) TRY(nncl_op_fill(be, o->rprop_delta_zero, &os->v));
    return NNCL_OK;
}

enum nncl_status optimizer_step(struct nncl_backend *be, const struct nncl_train_options *o, struct optimizer_state *os,
                                struct nncl_tensor *w, struct nncl_tensor *g) {
    os->step++;
    const float clip = o->clip_norm;
    if (clip > 0.0f) TRY(nncl_op_sumsq(be, g, &os->sumsq)); /* stays on the device: the updates read it */
    switch (o->optimizer) {
    case NNCL_OPT_SGD:
        if (clip > 0.0f) TRY(nncl_op_clip_grad(be, clip, g, &os->sumsq));
        return nncl_op_sgd_update(be, os->lr, o->weight_decay, w, g);
    case NNCL_OPT_MOMENTUM:
        if (clip > 0.0f) TRY(nncl_op_clip_grad(be, clip, g, &os->sumsq));
        return nncl_op_momentum_update(be, os->lr, o->momentum, o->weight_decay, w, g, &os->v);
    case NNCL_OPT_ADAM:
        if (clip > 0.0f) TRY(nncl_op_clip_grad(be, clip, g, &os->sumsq));
        return nncl_op_adam_update(be, os->lr, o->beta1, o->beta2, o->eps, o->weight_decay, os->step, w, g, &os->m,
                                   &os->v);
    case NNCL_OPT_NESTEROV:
        return nncl_op_nesterov_update(be, os->lr, o->momentum, o->weight_decay, clip, w, g, &os->v, &os->sumsq);
    case NNCL_OPT_RMSPROP:
        return nncl_op_rmsprop_update(be, os->lr, o->rmsprop_alpha, o->eps, o->weight_decay, o->rmsprop_momentum, clip,
                                      w, g, &os->m, &os->v, &os->sumsq);
    case NNCL_OPT_ADAMW:
        return nncl_op_adamw_update(be, os->lr, o->beta1, o->beta2, o->eps, o->weight_decay, os->step, clip, w, g,
                                    &os->m, &os->v, &os->sumsq);
    case NNCL_OPT_IRPROP: /* the step sizes are its rate: lr and the schedule do not apply */
        return nncl_op_irprop_update(be, o->rprop_increase, o->rprop_decrease, o->rprop_delta_min, o->rprop_delta_max,
                                     o->weight_decay, clip, w, g, &os->m, &os->v, &os->sumsq);
    case NNCL_OPT_COUNT: break;
    }
    return nncl_set_error(NNCL_ERR_INVALID_ARG, "optimizer %d is not an enum nncl_optimizer value", (int)o->optimizer);
}

void optimizer_free(struct optimizer_state *os) {
    if (!os) return;
    nncl_buffer_free(os->buf);
    nncl_buffer_free(os->clip_buf);
    memset(os, 0, sizeof *os);
}
