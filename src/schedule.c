/*
 * schedule.c: learning-rate schedules (linear warm-up + one decay: step, exponential, cosine to a floor),
 * per epoch, in closed form: the rate of an epoch depends on its number alone, so a resumed run needs no
 * schedule state beyond the epoch, and both backends see the same float each step.
 */
#include <math.h>
#include <string.h>

#include "nncl/nncl_train.h"
#include "status_impl.h"

#define NNCL_LR_DECAY_NAME_(id, name) [id] = name,
static const char *const decay_names[NNCL_LR_DECAY_COUNT] = {NNCL_LR_DECAY_LIST(NNCL_LR_DECAY_NAME_)};
#undef NNCL_LR_DECAY_NAME_

const char *nncl_lr_decay_name(enum nncl_lr_decay decay) {
    return (unsigned)decay < NNCL_LR_DECAY_COUNT ? decay_names[decay] : "unknown schedule";
}

enum nncl_status nncl_lr_decay_from_name(const char *name, enum nncl_lr_decay *out) {
    for (int i = 0; name && i < NNCL_LR_DECAY_COUNT; i++) {
        if (strcmp(name, decay_names[i]) == 0) return *out = (enum nncl_lr_decay)i, NNCL_OK;
    }
    return nncl_set_error(NNCL_ERR_INVALID_ARG, "unknown learning-rate schedule \"%s\"; choose constant, step, exp "
                          "or cosine", name ? name : "");
}

enum nncl_status nncl_lr_schedule_check(const struct nncl_lr_schedule *s) {
    if (!s) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_lr_schedule_check: NULL schedule");
    switch (s->decay) {
    case NNCL_LR_CONSTANT: return NNCL_OK;
    case NNCL_LR_STEP:
        if (s->step_epochs == 0) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "step decay: the step (epochs per decay) must be 1 or more");
        }
        return nncl_lr_schedule_check(&(struct nncl_lr_schedule){.decay = NNCL_LR_EXP, .gamma = s->gamma});
    case NNCL_LR_EXP:
        if (!(s->gamma > 0.0f && s->gamma <= 1.0f)) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s decay: gamma %g must be in (0, 1]",
                                  nncl_lr_decay_name(s->decay), (double)s->gamma);
        }
        return NNCL_OK;
    case NNCL_LR_COSINE:
        if (!(s->min_lr >= 0.0f) || !isfinite(s->min_lr)) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "cosine decay: the floor %g must be 0 or more",
                                  (double)s->min_lr);
        }
        return NNCL_OK;
    case NNCL_LR_DECAY_COUNT: break;
    }
    return nncl_set_error(NNCL_ERR_INVALID_ARG, "invalid learning-rate schedule %d", (int)s->decay);
}

double nncl_lr_at(const struct nncl_lr_schedule *s, double lr, size_t epoch, size_t epochs) {
    if (!s || epoch == 0) return lr;
    const size_t w = s->warmup_epochs;
    if (epoch <= w) return lr * (double)epoch / (double)w;
    const double t = (double)(epoch - 1 - w);
    switch (s->decay) {
    case NNCL_LR_STEP: return lr * pow((double)s->gamma, floor(t / (double)(s->step_epochs ? s->step_epochs : 1)));
    case NNCL_LR_EXP: return lr * pow((double)s->gamma, t);
    case NNCL_LR_COSINE: {
        const size_t len = s->cosine_epochs ? s->cosine_epochs : epochs > w ? epochs - w : 1;
        const double T = (double)len, x = t < T ? t : T, floor_lr = (double)s->min_lr;
        return floor_lr + (lr - floor_lr) * 0.5 * (1.0 + cos(3.14159265358979323846 * x / T));
    }
    case NNCL_LR_CONSTANT:
    case NNCL_LR_DECAY_COUNT: break;
    }
    return lr;
}
