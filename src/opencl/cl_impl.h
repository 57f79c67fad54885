/*
 * cl_impl.h: what the OpenCL backend's files share. Internal.
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
enum cl_program_id {
    CL_PROGRAM_ACTIVATIONS,
    CL_PROGRAM_SOFTMAX,
    CL_PROGRAM_LOSSES,
    CL_PROGRAM_ELEMENTWISE,
    CL_PROGRAM_OPTIM,
    CL_PROGRAM_COUNT
};

/* Every kernel entry point; the table in cl_program.c maps each to its program and name. */
enum cl_kernel_id {
    CL_KERNEL_ACT_FWD,
    CL_KERNEL_BIAS_ACT_FWD,
    CL_KERNEL_ACT_BWD,
    CL_KERNEL_SOFTMAX_FWD,
    CL_KERNEL_SOFTMAX_BWD,
    CL_KERNEL_SOFTMAX_XENT_FWD,
    CL_KERNEL_SOFTMAX_XENT_BWD,
    CL_KERNEL_SIGMOID_BCE_FWD,
    CL_KERNEL_SIGMOID_BCE_BWD,
    CL_KERNEL_MSE_FWD,
    CL_KERNEL_MSE_BWD,
    CL_KERNEL_CLASS_ERROR,
    CL_KERNEL_BIAS_ADD,
    CL_KERNEL_BIAS_GRAD,
    CL_KERNEL_SUM,
    CL_KERNEL_SUM_PARTIAL,
    CL_KERNEL_FILL,
    CL_KERNEL_COPY,
    CL_KERNEL_SCALE,
    CL_KERNEL_GATHER_ROWS,
    CL_KERNEL_SGD_UPDATE,
    CL_KERNEL_MOMENTUM_UPDATE,
    CL_KERNEL_ADAM_UPDATE,
    CL_KERNEL_COUNT
};

/* The work-group size of nncl_sum (NNCL_SUM_GROUP in kernels/elementwise.cl), and how many groups a
 * large sum is split over before one group adds their partial sums. */
#define CL_SUM_GROUP 256
#define CL_SUM_PARTS 64

struct cl_state {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    cl_program programs[CL_PROGRAM_COUNT]; /* NULL until first use */
    cl_kernel kernels[CL_KERNEL_COUNT];    /* NULL until first use */
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
    struct cl_profiled *profiled;
    size_t n_profiled, cap_profiled;
    cl_event pending;                      /* the slot the command being enqueued fills */
    cl_mem sum_scratch;                    /* CL_SUM_PARTS partial sums; allocated on the first large sum */
};

static inline struct cl_state *cl_state_of(struct nncl_backend *be) { return (struct cl_state *)be->context; }
static inline cl_mem cl_mem_of(const struct nncl_tensor *t) { return (cl_mem)t->buffer->handle; }

/* ---- errors (cl_errors.c) ---- */

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

/* ---- device (cl_device.c) ---- */

/* Picks the platform and device from NNCL_OPENCL_PLATFORM / NNCL_OPENCL_DEVICE (index or name
 * substring; the only place these are read) and fills st->platform, st->device and the names. */
enum nncl_status cl_device_select(struct cl_state *st);

/* ---- programs and kernels (cl_program.c) ---- */

/* The kernel, building its program on first use. Errors name the .cl file, device, options and log. */
enum nncl_status cl_kernel_get(struct cl_state *st, enum cl_kernel_id id, cl_kernel *out);
void cl_programs_release(struct cl_state *st);
/* FNV-1a over the sources of every program (common.cl first), as this build loads them. */
uint64_t cl_kernel_sources_hash(void);
/* Builds `source` (with kernels/common.cl in front) as if it were kernels/<file>; used by program_get and
 * by the tests of build-failure messages. */
enum nncl_status cl_program_build(struct cl_state *st, const char *file, const char *source, cl_program *out);

/* ---- launching (cl_backend.c) ---- */

/* Argument list for cl_launch: a kernel's arguments in order. */
struct cl_arg {
    size_t size;
    const void *value;
};
#define CL_ARG(x) ((struct cl_arg){sizeof(x), &(x)})

/*
 * Sets the arguments and enqueues `id` over `work_items` work-items (one per element for an element-wise
 * kernel, one per row for a per-row one; see kernels/common.cl). Never waits. `op` names the op in errors.
 */
enum nncl_status cl_launch(struct nncl_backend *be, const char *op, enum cl_kernel_id id, size_t work_items,
                           const struct cl_arg *args, int n_args);

/* The same over a rows x cols grid: get_global_id(0) the column, get_global_id(1) the row (ROW_COL). */
enum nncl_status cl_launch_2d(struct nncl_backend *be, const char *op, enum cl_kernel_id id, size_t rows,
                              size_t cols, const struct cl_arg *args, int n_args);

/* ---- profiling (cl_profile.c) ---- */
enum cl_command_kind { CL_CMD_KERNEL, CL_CMD_GEMM, CL_CMD_TRANSFER };
struct cl_profiled {
    cl_event event;
    enum cl_command_kind kind;
    const char *op; /* the op that queued it, for the per-op lines in the log */
};
/* Where a command should put its event: NULL when not profiling (no event is created at all). */
cl_event *cl_profile_slot(struct cl_state *st);
/* Files the event just filled in under `kind` (no-op when not profiling or on a failed enqueue). */
void cl_profile_record(struct cl_state *st, cl_event *slot, enum cl_command_kind kind, const char *op);
enum nncl_status cl_profile_start(struct nncl_backend *be);
enum nncl_status cl_profile_stop(struct nncl_backend *be, struct nncl_profile *out);
void cl_profile_release(struct cl_state *st);

/* ---- ops ---- */
enum nncl_status cl_gemm(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_act_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_bias_act_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
/* Shared by softmax_xent_fwd and sigmoid_bce_fwd, whose kernels take the same arguments (cl_ops_losses.c). */
enum nncl_status cl_fused_loss_fwd(struct nncl_backend *be, const char *op, enum cl_kernel_id id,
                                   const struct nncl_op_call *call);
enum nncl_status cl_act_bwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_softmax_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_softmax_bwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_softmax_xent_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_softmax_xent_bwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_sigmoid_bce_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_sigmoid_bce_bwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_mse_fwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_mse_bwd(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_class_error(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_bias_add(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_bias_grad(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_sum(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_fill(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_copy(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_scale(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_gather_rows(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_sgd_update(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_momentum_update(struct nncl_backend *be, const struct nncl_op_call *call);
enum nncl_status cl_adam_update(struct nncl_backend *be, const struct nncl_op_call *call);

/* Buffer functions of the vtable (cl_buffer.c). */
enum nncl_status cl_buffer_alloc(struct nncl_backend *be, struct nncl_buffer *buf);
void cl_buffer_free(struct nncl_backend *be, struct nncl_buffer *buf);
enum nncl_status cl_buffer_write(struct nncl_backend *be, struct nncl_buffer *buf, size_t byte_offset,
                                 const void *src, size_t nbytes);
enum nncl_status cl_buffer_read(struct nncl_backend *be, struct nncl_buffer *buf, size_t byte_offset, void *dst,
                                size_t nbytes);

#endif /* NNCL_CL_IMPL_H */
