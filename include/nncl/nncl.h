/*
 * nncl.h: the umbrella header: includes every public header of the library. Include this one.
 */
#ifndef NNCL_H
#define NNCL_H

#define NNCL_VERSION_MAJOR 0
#define NNCL_VERSION_MINOR 1
#define NNCL_VERSION_PATCH 0
#define NNCL_VERSION_STRING "0.1.0"

#include "nncl_status.h"
#include "nncl_backend.h"
#include "nncl_ops.h"
#include "nncl_data.h"
#include "nncl_model.h"
#include "nncl_train.h"
#include "nncl_opencl.h"
#include "nncl_comm.h"

#endif /* NNCL_H */
