/*
 * tensor_impl.h: tensor checks shared by backend.c and ops.c. Internal.
 */
#ifndef NNCL_TENSOR_IMPL_H
#define NNCL_TENSOR_IMPL_H

#include "nncl/nncl_backend.h"

/** NNCL_OK when `t` is non-NULL, non-empty and lies inside its buffer; otherwise an error naming `where`. */
enum nncl_status nncl_tensor_check(const char *where, const char *name, const struct nncl_tensor *t);

#endif /* NNCL_TENSOR_IMPL_H */
