/*
 * test_errors.c: bad calls return the right status and a message that names the op, the tensors and
 * their shapes, and says what to do. Nothing here may crash.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "test_util.h"

static struct nncl_backend *be;
static void setup(void) { be = tu_backend("cpu"); }
static void teardown(void) { tu_free_all(); }
TestSuite(errors, .init = setup, .fini = teardown);

Test(errors, gemm_inner_dimension_mismatch) {
    struct nncl_tensor a = tu_tensor(be, 3, 4, NULL), b = tu_tensor(be, 5, 2, NULL), c = tu_tensor(be, 3, 2, NULL);
    ASSERT_ERROR(nncl_op_gemm(be, 0, 0, 1.0f, &a, &b, 0.0f, &c), NNCL_ERR_SHAPE, "gemm", "a 3x4", "b 5x2",
                 "c 3x2", "inner dimensions 4 and 5");
}

Test(errors, gemm_output_shape) {
    struct nncl_tensor a = tu_tensor(be, 3, 4, NULL), b = tu_tensor(be, 4, 2, NULL), c = tu_tensor(be, 2, 3, NULL);
    ASSERT_ERROR(nncl_op_gemm(be, 0, 0, 1.0f, &a, &b, 0.0f, &c), NNCL_ERR_SHAPE, "gemm", "c must be 3x2");
    ASSERT_ERROR(nncl_op_gemm(be, 2, 0, 1.0f, &a, &b, 0.0f, &c), NNCL_ERR_INVALID_ARG, "trans_a");
}

Test(errors, elementwise_shape_mismatch) {
    struct nncl_tensor x = tu_tensor(be, 2, 3, NULL), y = tu_tensor(be, 3, 2, NULL);
    ASSERT_ERROR(nncl_op_act_fwd(be, NNCL_ACT_TANH, 0.0f, &x, &y), NNCL_ERR_SHAPE, "act_fwd", "x 2x3", "y 3x2",
                 "same shape");
}

Test(errors, loss_rows_must_be_one_per_example) {
    struct nncl_tensor z = tu_tensor(be, 4, 3, NULL), t = tu_tensor(be, 4, 3, NULL);
    struct nncl_tensor p = tu_tensor(be, 4, 3, NULL), loss = tu_tensor(be, 1, 4, NULL);
    ASSERT_ERROR(nncl_op_softmax_xent_fwd(be, &z, &t, &p, &loss), NNCL_ERR_SHAPE, "softmax_xent_fwd",
                 "loss must be 4x1", "loss 1x4");
}

Test(errors, bias_must_match_columns) {
    struct nncl_tensor y = tu_tensor(be, 4, 3, NULL), b = tu_tensor(be, 1, 4, NULL);
    ASSERT_ERROR(nncl_op_bias_add(be, &y, &b), NNCL_ERR_SHAPE, "bias_add", "bias must be 1x3");
    struct nncl_tensor out = tu_tensor(be, 4, 3, NULL), wide = tu_tensor(be, 4, 4, NULL), b3 = tu_tensor(be, 1, 3, NULL);
    ASSERT_ERROR(nncl_op_bias_act_fwd(be, NNCL_ACT_TANH, 0.0f, &y, &b, &out), NNCL_ERR_SHAPE, "bias_act_fwd",
                 "bias must be 1x3");
    ASSERT_ERROR(nncl_op_bias_act_fwd(be, NNCL_ACT_TANH, 0.0f, &y, &b3, &wide), NNCL_ERR_SHAPE, "bias_act_fwd");
}

Test(errors, null_tensor) {
    struct nncl_tensor y = tu_tensor(be, 4, 3, NULL);
    ASSERT_ERROR(nncl_op_act_fwd(be, NNCL_ACT_RELU, 0.0f, NULL, &y), NNCL_ERR_INVALID_ARG, "act_fwd",
                 "tensor x is NULL");
    ASSERT_ERROR(nncl_op_fill(NULL, 0.0f, &y), NNCL_ERR_INVALID_ARG, "NULL");
    ASSERT_ERROR(nncl_tensor_set(NULL, NULL, 0), NNCL_ERR_INVALID_ARG, "nncl_tensor_set");
}

Test(errors, tensor_outside_its_buffer) {
    struct nncl_buffer *buf = NULL;
    tu_ok(nncl_buffer_alloc(be, 8 * sizeof(float), &buf), "alloc");
    struct nncl_tensor t = nncl_tensor_view(buf, 4, 2, 3);
    ASSERT_ERROR(nncl_op_fill(be, 1.0f, &t), NNCL_ERR_SHAPE, "fill", "does not fit its buffer of 8 floats");
    float host[6] = {0};
    ASSERT_ERROR(nncl_tensor_set(&t, host, 6), NNCL_ERR_SHAPE, "nncl_tensor_set");
    struct nncl_tensor ok = nncl_tensor_view(buf, 2, 2, 3);
    ASSERT_ERROR(nncl_tensor_get(&ok, host, 5), NNCL_ERR_SHAPE, "5 floats given for a 2x3 tensor");
    nncl_buffer_free(buf);
}

Test(errors, non_finite_parameters) {
    struct nncl_tensor w = tu_tensor(be, 1, 3, NULL), g = tu_tensor(be, 1, 3, NULL);
    ASSERT_ERROR(nncl_op_sgd_update(be, NAN, 0.0f, &w, &g), NNCL_ERR_NUMERIC, "sgd_update", "lr");
    ASSERT_ERROR(nncl_op_scale(be, INFINITY, &w), NNCL_ERR_NUMERIC, "scale", "alpha");
    struct nncl_tensor m = tu_tensor(be, 1, 3, NULL), v = tu_tensor(be, 1, 3, NULL);
    ASSERT_ERROR(nncl_op_adam_update(be, 0.1f, 1.0f, 0.999f, 1e-8f, 0.0f, 1, &w, &g, &m, &v), NNCL_ERR_INVALID_ARG,
                 "adam_update", "beta1");
    ASSERT_ERROR(nncl_op_adam_update(be, 0.1f, 0.9f, 0.999f, 1e-8f, 0.0f, 0, &w, &g, &m, &v), NNCL_ERR_INVALID_ARG,
                 "adam_update", "step");
}

Test(errors, unknown_activation_and_op) {
    struct nncl_tensor x = tu_tensor(be, 1, 3, NULL);
    ASSERT_ERROR(nncl_op_act_fwd(be, (enum nncl_act)42, 0.0f, &x, &x), NNCL_ERR_INVALID_ARG, "act_fwd", "42");
    struct nncl_op_call call = {.op = (enum nncl_op)999};
    ASSERT_ERROR(nncl_op_run(be, &call), NNCL_ERR_INVALID_ARG, "999");
}

Test(errors, tensor_from_another_backend) {
    struct nncl_backend *other = tu_backend("cpu");
    struct nncl_tensor x = tu_tensor(other, 1, 3, NULL);
    ASSERT_ERROR(nncl_op_fill(be, 1.0f, &x), NNCL_ERR_INVALID_ARG, "fill", "tensor x lives on backend");
}

Test(errors, unknown_backend_name) {
    struct nncl_backend *b = (struct nncl_backend *)1;
    ASSERT_ERROR(nncl_backend_init("cuda", &b), NNCL_ERR_INVALID_ARG, "unknown backend \"cuda\"", "cpu, opencl");
    cr_assert_null(b, "out is NULL after a failure");
    ASSERT_ERROR(nncl_backend_init(NULL, &b), NNCL_ERR_INVALID_ARG, "name is NULL");
}

Test(errors, zero_size_buffer) {
    struct nncl_buffer *buf = NULL;
    ASSERT_ERROR(nncl_buffer_alloc(be, 0, &buf), NNCL_ERR_INVALID_ARG, "0 bytes");
    nncl_buffer_free(NULL); /* NULL-safe */
    nncl_backend_free(NULL);
}

Test(errors, every_status_has_a_string) {
    for (int s = 0; s < NNCL_STATUS_COUNT; s++) {
        cr_assert(strlen(nncl_status_string((enum nncl_status)s)) > 0, "status %d", s);
        cr_assert(strcmp(nncl_status_string((enum nncl_status)s), "unknown status") != 0, "status %d", s);
    }
    cr_assert_str_eq(nncl_status_string((enum nncl_status)-1), "unknown status");
    for (int op = 0; op < NNCL_OP_COUNT; op++) {
        const struct nncl_op_info *info = nncl_op_get_info((enum nncl_op)op);
        cr_assert(info && info->name && info->n_tensors > 0, "op %d has no description", op);
        for (int i = 0; i < info->n_tensors; i++) cr_assert(info->tensor_names[i], "op %s tensor %d", info->name, i);
        for (int i = 0; i < info->n_params; i++) cr_assert(info->param_names[i], "op %s param %d", info->name, i);
    }
}
