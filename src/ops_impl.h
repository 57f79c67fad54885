/*
 * ops_impl.h: what src/ops.c shares inside the library beyond the public op API. Internal.
 */
#ifndef NNCL_OPS_IMPL_H
#define NNCL_OPS_IMPL_H

#include "nncl/nncl.h"

/*
 * Checks an activation and its parameter against NNCL_ACT_LIST: `act` is an enum nncl_act value
 * (NNCL_ERR_INVALID_ARG), `param` is finite (NNCL_ERR_NUMERIC), and lies in the activation's range when it
 * takes one (NNCL_ERR_INVALID_ARG). Messages begin with `where`. Every op that takes an activation runs it,
 * and so does nncl_model_spec_check(), so a bad parameter fails before training starts.
 */
enum nncl_status nncl_act_check(const char *where, int act, float param);

/* The parameter rule of NNCL_OP_DROPOUT (ops_train.c), run by nncl_op_run()'s checks: p in [0, 1), layer in
 * [0, 255], step below 2^56, row0 >= 0. */
enum nncl_status nncl_dropout_check_params(const struct nncl_op_call *call);

/* For the typed wrappers (ops.c, ops_train.c): NULL tensor arguments become empty tensors, which nncl_op_run()
 * reports by name. */
static inline struct nncl_tensor nncl_tensor_or_empty(const struct nncl_tensor *t) {
    struct nncl_tensor empty = {0};
    return t ? *t : empty;
}
#define CALL_INIT(op_) struct nncl_op_call call = {.op = (op_)}
#define SET_T(i, x) call.t[i] = nncl_tensor_or_empty(x)

#endif /* NNCL_OPS_IMPL_H */
