/*
 * ocl_impl.h: what the OpenCL backend's files share. Internal.
 *
 * The backend owns one context and one in-order command queue on one device. Ops only enqueue
 * (kernels or CLBlast calls) and never wait; nncl_tensor_get and nncl_backend_synchronize are the
 * only blocking calls. Because the queue is in order, launches need no events between them.
 */
#ifndef NNCL_CL_IMPL_H
#define NNCL_CL_IMPL_H

#include <CL/cl.h>

#include "../backend_impl.h"
#include "../status_impl.h"

/* One program per kernels/<file>.cl, each compiled with kernels/common.cl in front, on first use. */
enum ocl_program_id {
    OCL_PROGRAM_ACTIVATIONS,
    OCL_PROGRAM_SOFTMAX,
    OCL_PROGRAM_LOSSES,
    OCL_PROGRAM_ELEMENTWISE,
    OCL_PROGRAM_OPTIM,
    OCL_PROGRAM_COUNT
};

/* Every kernel entry point; the table in ocl_program.c maps each to its program and name. */
enum ocl_kernel_id {
    OCL_KERNEL_ACT_FWD,
    OCL_KERNEL_BIAS_ACT_FWD,
    OCL_KERNEL_ACT_BWD,
    OCL_KERNEL_SOFTMAX_FWD,
    OCL_KERNEL_SOFTMAX_BWD,
    OCL_KERNEL_SOFTMAX_XENT_FWD,
    OCL_KERNEL_SOFTMAX_XENT_BWD,
    OCL_KERNEL_SIGMOID_BCE_FWD,
    OCL_KERNEL_SIGMOID_BCE_BWD,
    OCL_KERNEL_MSE_FWD,
    OCL_KERNEL_MSE_BWD,
    OCL_KERNEL_CLASS_ERROR,
    OCL_KERNEL_BIAS_ADD,
    OCL_KERNEL_BIAS_GRAD,
    OCL_KERNEL_SUM,
    OCL_KERNEL_SUM_PARTIAL,
    OCL_KERNEL_FILL,
    OCL_KERNEL_COPY,
    OCL_KERNEL_SCALE,
    OCL_KERNEL_GATHER_ROWS,
    OCL_KERNEL_SGD_UPDATE,
    OCL_KERNEL_MOMENTUM_UPDATE,
    OCL_KERNEL_ADAM_UPDATE,
    OCL_KERNEL_SUMSQ,
    OCL_KERNEL_SUMSQ_PARTIAL,
    OCL_KERNEL_CLIP_GRAD,
    OCL_KERNEL_NESTEROV_UPDATE,
    OCL_KERNEL_RMSPROP_UPDATE,
    OCL_KERNEL_ADAMW_UPDATE,
    OCL_KERNEL_IRPROP_UPDATE,
    OCL_KERNEL_DROPOUT,
    OCL_KERNEL_COUNT
};

/* The work-group size of nncl_sum (NNCL_SUM_GROUP in kernels/elementwise.cl), and how many groups a
 * large sum is split over before one group adds their partial sums. */
#define OCL_SUM_GROUP 256
#define OCL_SUM_PARTS 64

struct ocl_state {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    cl_program programs[OCL_PROGRAM_COUNT]; /* NULL until first use */
    cl_kernel kernels[OCL_KERNEL_COUNT];    /* NULL until first use */
    size_t max_group_size;                 /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    cl_uint compute_units;
    cl_ulong global_mem, max_alloc;        /* CL_DEVICE_GLOBAL_MEM_SIZE, CL_DEVICE_MAX_MEM_ALLOC_SIZE */
    int is_gpu;
    char device_name[128];
    char platform_name[128];
    char driver_version[64];
    char device_version[128];              /* CL_DEVICE_VERSION: "OpenCL 3.0 CUDA", ... */
    /* profiling (benchmarks): one event per command while `profiling` is set */
    int profiling;
    struct ocl_profiled *profiled;
    size_t n_profiled, cap_profiled;
    cl_event pending;                      /* the slot the command being enqueued fills */
    cl_mem sum_scratch;                    /* OCL_SUM_PARTS partial sums; allocated on the first large sum */
    int oclgrind_workaround;               /* the Oclgrind platform, NNCL_OCLGRIND_WORKAROUND not off: ocl_buffer.c */
    cl_mem *retired;                       /* on Oclgrind, buffers freed by nncl, released with the context */
    size_t n_retired, cap_retired;
};

/* Releases a buffer; on Oclgrind keeps it until ocl_retired_release (ocl_buffer.c says why). */
void ocl_mem_release(struct ocl_state *st, cl_mem mem);
void ocl_retired_release(struct ocl_state *st);

static inline struct ocl_state *ocl_state_of(struct nncl_backend *be) { return (struct ocl_state *)be->context; }
static inline cl_mem ocl_mem_of(const struct nncl_tensor *t) { return (cl_mem)t->buffer->handle; }

/* ---- errors (ocl_errors.c) ---- */

/* "CL_OUT_OF_RESOURCES" for -5; "unknown OpenCL error" otherwise. */
const char *nncl_cl_error_name(cl_int code);
/* "CLBlastInvalidLocalMemUsage" for -2046; falls back to the OpenCL names for OpenCL codes. */
const char *nncl_clblast_error_name(int code);

/* Turns a failed OpenCL call into NNCL_ERR_OPENCL (or OOM / NO_DEVICE) with the call, the CL_ name, the
 * source location and a hint. Returns NNCL_OK when code is CL_SUCCESS. */
enum nncl_status nncl_cl_fail(cl_int code, const char *expr, const char *file, int line);

/* Checks one OpenCL call inside a function returning enum nncl_status. */
#define NNCL_CL_CHECK(expr)                                                                                    \
    do {                                                                                                       \
        cl_int nncl_cl_err_ = (expr);                                                                          \
        if (nncl_cl_err_ != CL_SUCCESS) return nncl_cl_fail(nncl_cl_err_, #expr, __FILE__, __LINE__);          \
    } while (0)

/* ---- device (ocl_device.c) ---- */

/* Picks the platform and device from NNCL_OPENCL_PLATFORM / NNCL_OPENCL_DEVICE (index or name
 * substring; the only place these are read) and fills st->platform, st->device and the names. */
enum nncl_status ocl_device_select(struct ocl_state *st);

/* ---- programs and kernels (ocl_program.c) ---- */

/* The kernel, building its program on first use. Errors name the .cl file, device, options and log. */
enum nncl_status ocl_kernel_get(struct ocl_state *st, enum ocl_kernel_id id, cl_kernel *out);
void ocl_programs_release(struct ocl_state *st);
/* FNV-1a over the sources of every program (common.cl first), as this build loads them, and the build
 * options (which carry the activation constants). */
uint64_t ocl_kernel_sources_hash(void);
/* Builds `source` (with kernels/common.cl in front) as if it were kernels/<file>; used by program_get and
 * by the tests of build-failure messages. */
enum nncl_status ocl_program_build(struct ocl_state *st, const char *file, const char *source, cl_program *out);

/* ---- launching (ocl_backend.c) ---- */

/* Argument list for ocl_launch: a kernel's arguments in order. */
struct ocl_arg {
    size_t size;
    const void *value;
};
#define OCL_ARG(x) ((struct ocl_arg){sizeof(x), &(x)})

/*
 * Sets the arguments and enqueues `id` over `work_items` work-items (one per element for an element-wise
 * kernel, one per row for a per-row one; see kernels/common.cl). Never waits. `op` names the op in errors.
 */
enum nncl_status ocl_launch(struct nncl_backend *be, const char *op, enum ocl_kernel_id id, size_t work_items,
                           const struct ocl_arg *args, int n_args);

/* The same over a rows x cols grid: get_global_id(0) the column, get_global_id(1) the row (ROW_COL). */
enum nncl_status ocl_launch_2d(struct nncl_backend *be, const char *op, enum ocl_kernel_id id, size_t rows,
                              size_t cols, const struct ocl_arg *args, int n_args);

/* ---- profiling (ocl_profile.c) ---- */
enum ocl_command_kind { OCL_CMD_KERNEL, OCL_CMD_GEMM, OCL_CMD_TRANSFER };
struct ocl_profiled {
    cl_event event;
    enum ocl_command_kind kind;
    const char *op; /* the op that queued it, for the per-op lines in the log */
};
/* Where a command should put its event: NULL when not profiling (no event is created at all). */
cl_event *ocl_profile_slot(struct ocl_state *st);
/* Files the event just filled in under `kind` (no-op when not profiling or on a failed enqueue). */
void ocl_profile_record(struct ocl_state *st, cl_event *slot, enum ocl_command_kind kind, const char *op);
enum nncl_status ocl_profile_start(struct nncl_backend *be);
enum nncl_status ocl_profile_stop(struct nncl_backend *be, struct nncl_profile *out);
void ocl_profile_release(struct ocl_state *st);

/* ---- ops ---- */
enum nncl_status ocl_gemm(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_act_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_bias_act_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
/* Shared by softmax_xent_fwd and sigmoid_bce_fwd, whose kernels take the same arguments (ocl_ops_losses.c). */
enum nncl_status ocl_fused_loss_fwd(struct nncl_backend *be, const char *op, enum ocl_kernel_id id,
                                   const struct nncl_op_call *call);
enum nncl_status ocl_act_bwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_softmax_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_softmax_bwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_softmax_xent_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_softmax_xent_bwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_sigmoid_bce_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_sigmoid_bce_bwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_mse_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_mse_bwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_class_error(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_bias_add(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_bias_grad(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_sum(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_fill(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_copy(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_scale(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_gather_rows(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_sgd_update(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_momentum_update(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_adam_update(struct nncl_backend *be, const struct nncl_op_call *call);
/* ocl_ops_optim2.c */
enum nncl_status ocl_sumsq(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_clip_grad(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_nesterov_update(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_rmsprop_update(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_adamw_update(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_irprop_update(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status ocl_dropout(struct nncl_backend *be, const struct nncl_op_call *call);

/* Buffer functions of the vtable (ocl_buffer.c). */
enum nncl_status ocl_buffer_alloc(struct nncl_backend *be, struct nncl_buffer *buf);
void ocl_buffer_free(struct nncl_backend *be, struct nncl_buffer *buf);
enum nncl_status ocl_buffer_write(struct nncl_backend *be, struct nncl_buffer *buf, size_t byte_offset,
                                 const void *src, size_t nbytes);
enum nncl_status ocl_buffer_read(struct nncl_backend *be, struct nncl_buffer *buf, size_t byte_offset, void *dst,
                                size_t nbytes);

#endif /* NNCL_CL_IMPL_H */
