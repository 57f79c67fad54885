// common.cl: the prelude compiled in front of every nncl kernel file.
//
// Conventions of every kernel: tensors arrive as (global buffer, ulong element offset) pairs, as in
// CLBlast's C API, so many tensors can live in one cl_mem; sizes are ulong; kernels with one work-item per
// row use a grid-stride loop, element-wise ones one work-item per element (below); none may write past n.

#define GRID_STRIDE_LOOP(i, n) for (ulong i = get_global_id(0); i < (n); i += get_global_size(0))

// Element-wise kernels take one element per work-item instead, with a body free of loops: PoCL (and other
// CPU drivers) vectorise across the work-items of a group only when the body has no loop, and the Adam
// update written as a grid-stride loop ran 4.7 times slower on PoCL. The launch covers all n items
// (ocl_launch); ROW_COL is the same over a rows x cols tensor in a 2D launch (ocl_launch_2d), which spares
// the per-element division that finding a column in a flat index would cost.
#define ELEMENT(i, n)                                                                                        \
    const ulong i = get_global_id(0);                                                                        \
    if (i >= (n)) return
#define ROW_COL(r, c, rows, cols)                                                                            \
    const ulong c = get_global_id(0), r = get_global_id(1);                                                  \
    if (c >= (cols) || r >= (rows)) return

// Activation kinds (NNCL_ACT_IDENTITY, NNCL_ACT_RELU, ...) are not defined here: the host passes the values
// of enum nncl_act as build options generated from NNCL_ACT_LIST (src/opencl/ocl_program.c), so the kernels
// cannot drift from the C side. A build without them stops here instead of miscomputing.
#ifndef NNCL_ACT_IDENTITY
#error "build with the options of src/opencl/ocl_program.c: -DNNCL_ACT_<NAME>=<value> for every activation"
#endif

// out = g + beta * out, where beta == 0 never reads out (it may hold NaN), as the CPU reference does.
inline float nncl_axpby_out(float g, float beta, float out) { return beta == 0.0f ? g : g + beta * out; }

// Numerically stable logistic function: exp never overflows.
inline float nncl_sigmoid(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + exp(-x));
    const float e = exp(x);
    return e / (1.0f + e);
}
