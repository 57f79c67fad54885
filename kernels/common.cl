// common.cl: the prelude compiled in front of every nncl kernel file.
//
// Conventions of every kernel: tensors arrive as (global buffer, ulong element offset) pairs, as in
// CLBlast's C API, so many tensors can live in one cl_mem; sizes are ulong; element-wise kernels use a
// grid-stride loop, so any global size is correct and none may write past n.

#define GRID_STRIDE_LOOP(i, n) for (ulong i = get_global_id(0); i < (n); i += get_global_size(0))

// Activation kinds: the values of enum nncl_act in include/nncl/nncl_ops.h.
#define NNCL_ACT_IDENTITY 0
#define NNCL_ACT_SIGMOID 1
#define NNCL_ACT_TANH 2
#define NNCL_ACT_RELU 3
#define NNCL_ACT_LEAKY_RELU 4
#define NNCL_ACT_ELU 5

// out = g + beta * out, where beta == 0 never reads out (it may hold NaN), as the CPU reference does.
inline float nncl_axpby_out(float g, float beta, float out) { return beta == 0.0f ? g : g + beta * out; }

// Numerically stable logistic function: exp never overflows.
inline float nncl_sigmoid(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + exp(-x));
    const float e = exp(x);
    return e / (1.0f + e);
}
