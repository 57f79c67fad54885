/*
 * optimizer_impl.h: one optimizer step over a parameter arena, the dispatch from enum nncl_optimizer to
 * the update ops. The trainer (src/train.c) and the validator's whole-network step and lockstep
 * (src/check/check_network.c) both call it, so `nncl check` runs exactly the step the trainer runs.
 * Internal; it sits in the core module (only backend ops below it).
 */
#ifndef NNCL_OPTIMIZER_IMPL_H
#define NNCL_OPTIMIZER_IMPL_H

#include "nncl/nncl_backend.h"
#include "nncl/nncl_train.h"

struct optimizer_state {
    struct nncl_buffer *buf;
    struct nncl_tensor m, v;        /* the first and the last state slot (the same one with one slot) */
    struct nncl_buffer *clip_buf;   /* sumsq: ||g||^2 of this step, on the device, for --clip-norm */
    struct nncl_tensor sumsq;
    long step;                      /* optimizer steps taken (Adam's t after the next step is step + 1) */
    float lr;                       /* this step's rate: options.lr through the schedule */
};

/* `slots` state vectors of `n_params` floats on `be`, zeroed (iRPROP-'s step sizes at delta_zero), and the
 * clipping norm's slot; os->lr = o->lr. Free with optimizer_free (also after a failed init). */
enum nncl_status optimizer_init(struct nncl_backend *be, size_t n_params, const struct nncl_train_options *o,
                                size_t slots, struct optimizer_state *os);

/* One step of o->optimizer at rate os->lr: w (the parameter arena) updated from g (its gradient; clipping,
 * when o->clip_norm > 0, may scale g in place). */
enum nncl_status optimizer_step(struct nncl_backend *be, const struct nncl_train_options *o, struct optimizer_state *os,
                                struct nncl_tensor *w, struct nncl_tensor *g);

/* NULL-safe; leaves *os zeroed. */
void optimizer_free(struct optimizer_state *os);

#endif /* NNCL_OPTIMIZER_IMPL_H */
