/*
 * test_parity.c: every op case of src/check/op_cases.c on every non-CPU backend, against the CPU reference.
 *
 * How to add an op: give it cases in src/check/op_cases.c (a 1x1 case, a prime-sized case, one larger than a
 * work-group; large magnitudes where the op has an exp or a log), its shapes in op_case_shapes() and a
 * tolerance family in tolerance_kind(); document the tolerance in docs/testing.md. Nothing in this file
 * changes.
 *
 * The comparison itself is check_op_case() in src/check/check_ops.c, the same code `nncl check` runs on a
 * user's device. For each case both backends get the same inputs. Every tensor lives in a buffer of its
 * own with 16 floats of a canary value on both sides, so a kernel that writes out of bounds fails even if its
 * results compare equal. Outputs that a correct op never reads (write-only outputs, gradients with
 * beta = 0) start as NaN; outputs it must read (beta = 1, optimizer state) start with the same random
 * values on both backends, so overwrite-versus-accumulate mismatches fail. Inputs must come back
 * unchanged. A failure names the op, the shapes and parameters, the backend and device, the tensor, the
 * worst index and both values.
 *
 * Without an OpenCL device the test is skipped, with the reason, except under CI=true, where it fails:
 * CI runs on PoCL precisely so that these tests run.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "test_util.h"

ParameterizedTestParameters(parity, op_case) {
    return cr_make_param_array(struct op_case, op_cases, op_case_count);
}

ParameterizedTest(const struct op_case *c, parity, op_case) {
    struct nncl_backend *dev = tu_device_or_skip();
    struct nncl_backend *cpu = tu_backend("cpu");
    struct check_result r;
    enum nncl_status st = check_op_case(cpu, dev, c, 0, &r);
    cr_assert(st == NNCL_OK, "%s could not run on %s: %s: %s", r.what, nncl_backend_device(dev), nncl_status_string(st),
              nncl_last_error());
    cr_assert(r.pass, "%s\n  backend %s (%s)", r.message, nncl_backend_name(dev), nncl_backend_device(dev));
    nncl_backend_free(dev);
    tu_free_all();
}
