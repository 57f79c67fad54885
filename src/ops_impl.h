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

#endif /* NNCL_OPS_IMPL_H */
