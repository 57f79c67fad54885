// common.cl: the prelude compiled in front of every nncl kernel file.
//
// Conventions of every kernel: tensors arrive as (global buffer, ulong element offset) pairs, as in
// CLBlast's C API, so many tensors can live in one cl_mem; sizes are ulong; kernels with one work-item per
// row use a grid-stride loop, element-wise ones one work-item per element (below); none may write past n.

#define GRID_STRIDE_LOOP(i, n) for (ulong i = get_global_id(0) + NNCL_PERTURB_SHIFT; i < (n); i += get_global_size(0))

// Element-wise kernels take one element per work-item instead, with a body free of loops: PoCL (and other
// CPU drivers) vectorise across the work-items of a group only when the body has no loop, and the Adam
// update written as a grid-stride loop ran 4.7 times slower on PoCL. The launch covers all n items
// (ocl_launch); ROW_COL is the same over a rows x cols tensor in a 2D launch (ocl_launch_2d), which spares
// the per-element division that finding a column in a flat index would cost.
#define ELEMENT(i, n)                                                                                        \
    const ulong i = get_global_id(0) + NNCL_PERTURB_SHIFT;                                                   \
    if (i >= (n)) return
#define ROW_COL(r, c, rows, cols)                                                                            \
    const ulong c = get_global_id(0) + NNCL_PERTURB_SHIFT, r = get_global_id(1);                             \
    if (c >= (cols) || r >= (rows)) return

// Fault injection (`nncl check --self-test`, docs/validation.md): a build with -DNNCL_PERTURB=<kind> plants
// the same bug in every kernel, through the three places every kernel goes through, so the check must fail
// for every op. 1: wrong sign (every stored value negated); 2: the stored value scaled by NNCL_PERTURB_FACTOR
// (1 + k x the op's bound, from the host); 3: off by one (every work-item index shifted by one, so the first
// element is never written and the last index reads past the end); 4: dropped barrier (the reductions'
// barrier(), the only ones our kernels have, become no-ops). 0 or unset: the kernels as written.
#ifndef NNCL_PERTURB
#define NNCL_PERTURB 0
#endif
#if NNCL_PERTURB == 1
#define OUT(v) (-(v))
#elif NNCL_PERTURB == 2
#define OUT(v) ((v) * (float)(NNCL_PERTURB_FACTOR))
#else
#define OUT(v) (v)
#endif
#define NNCL_PERTURB_SHIFT (NNCL_PERTURB == 3 ? 1 : 0)
#if NNCL_PERTURB == 4
#define BARRIER(flags) ((void)0)
#else
#define BARRIER(flags) barrier(flags)
#endif

// Activation kinds (NNCL_ACT_IDENTITY, NNCL_ACT_RELU, ...) are not defined here: the host passes the values
// of enum nncl_act as build options generated from NNCL_ACT_LIST (src/opencl/ocl_program.c), so the kernels
// cannot drift from the C side. A build without them stops here instead of miscomputing.
#ifndef NNCL_ACT_IDENTITY
#error "build with the options of src/opencl/ocl_program.c: -DNNCL_ACT_<NAME>=<value> for every activation"
#endif

// dst = g + beta * dst, where beta == 0 never reads dst (it may hold NaN, or never have been written), as
// the CPU reference does. The branch comes before the read: a helper taking dst's value as an argument
// reads it whatever beta is, which Oclgrind reports and a GPU compiler may turn into a real read.
#define AXPBY_STORE(dst, g, beta)                                                                            \
    do {                                                                                                     \
        if ((beta) == 0.0f) (dst) = OUT(g);                                                                  \
        else (dst) = OUT((g) + (beta) * (dst));                                                              \
    } while (0)

// Numerically stable logistic function: exp never overflows.
inline float nncl_sigmoid(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + exp(-x));
    const float e = exp(x);
    return e / (1.0f + e);
}
