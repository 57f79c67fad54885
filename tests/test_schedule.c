/*
 * test_schedule.c: learning-rate schedules against their closed forms, and the checks of their fields.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "nncl/nncl_train.h"

#define NEAR(a, b) cr_assert(fabs((a) - (b)) <= 1e-12 * fabs(b) + 1e-15, "%.17g != %.17g", (double)(a), (double)(b))

Test(schedule, constant_and_warmup) {
    struct nncl_lr_schedule s = {.warmup_epochs = 4};
    for (size_t e = 1; e <= 4; e++) NEAR(nncl_lr_at(&s, 0.1, e, 10), 0.1 * (double)e / 4.0);
    for (size_t e = 5; e <= 10; e++) NEAR(nncl_lr_at(&s, 0.1, e, 10), 0.1);
}

Test(schedule, step_decay) {
    struct nncl_lr_schedule s = {.decay = NNCL_LR_STEP, .step_epochs = 3, .gamma = 0.5f};
    for (size_t e = 1; e <= 12; e++) NEAR(nncl_lr_at(&s, 0.2, e, 12), 0.2 * pow(0.5, floor((double)(e - 1) / 3.0)));
}

Test(schedule, exponential_after_warmup) {
    struct nncl_lr_schedule s = {.decay = NNCL_LR_EXP, .gamma = 0.9f, .warmup_epochs = 2};
    NEAR(nncl_lr_at(&s, 1.0, 1, 10), 0.5);
    NEAR(nncl_lr_at(&s, 1.0, 2, 10), 1.0);
    for (size_t e = 3; e <= 10; e++) NEAR(nncl_lr_at(&s, 1.0, e, 10), pow((double)0.9f, (double)(e - 3)));
}

Test(schedule, cosine_to_floor) {
    struct nncl_lr_schedule s = {.decay = NNCL_LR_COSINE, .min_lr = 0.01f};
    const double pi = 3.14159265358979323846, lo = (double)0.01f;
    for (size_t e = 1; e <= 11; e++) {
        NEAR(nncl_lr_at(&s, 0.1, e, 10), lo + (0.1 - lo) * 0.5 * (1 + cos(pi * fmin((double)(e - 1), 10.0) / 10.0)));
    }
    NEAR(nncl_lr_at(&s, 0.1, 1, 10), 0.1);
    NEAR(nncl_lr_at(&s, 0.1, 11, 10), lo); /* past the end: the floor */
    s.cosine_epochs = 4;                   /* an explicit length does not depend on the run's epochs */
    NEAR(nncl_lr_at(&s, 0.1, 3, 10), nncl_lr_at(&s, 0.1, 3, 99));
}

Test(schedule, names_and_checks) {
    enum nncl_lr_decay d;
    for (int i = 0; i < NNCL_LR_DECAY_COUNT; i++) {
        cr_assert_eq(nncl_lr_decay_from_name(nncl_lr_decay_name((enum nncl_lr_decay)i), &d), NNCL_OK);
        cr_assert_eq((int)d, i);
    }
    cr_assert_neq(nncl_lr_decay_from_name("zigzag", &d), NNCL_OK);
    cr_assert_neq(nncl_lr_schedule_check(&(struct nncl_lr_schedule){.decay = NNCL_LR_STEP, .gamma = 0.5f}), NNCL_OK);
    cr_assert_neq(nncl_lr_schedule_check(&(struct nncl_lr_schedule){.decay = NNCL_LR_EXP, .gamma = 1.5f}), NNCL_OK);
    cr_assert_eq(nncl_lr_schedule_check(&(struct nncl_lr_schedule){0}), NNCL_OK);
}
