/*
 * ocl_profile.c: device-side timing of queued commands, for the benchmarks' step breakdown (CLBlast
 * GEMM, our kernels, transfers, idle gaps). Off by default: then no command gets an event at all.
 */
#include <stdlib.h>

#include "ocl_impl.h"

/* Commands are enqueued and recorded one at a time, in queue order, so one slot per backend suffices. */
cl_event *ocl_profile_slot(struct ocl_state *st) {
    if (!st->profiling) return NULL;
    st->pending = NULL;
    return &st->pending;
}

void ocl_profile_record(struct ocl_state *st, cl_event *slot, enum ocl_command_kind kind, const char *op) {
    if (!slot || !*slot) return;
    if (st->n_profiled == st->cap_profiled) {
        const size_t cap = st->cap_profiled ? 2 * st->cap_profiled : 1024;
        struct ocl_profiled *grown = realloc(st->profiled, cap * sizeof *grown);
        if (!grown) { /* a lost sample, not a failed op: the profile is best effort */
            clReleaseEvent(*slot);
            *slot = NULL;
            return;
        }
        st->profiled = grown;
        st->cap_profiled = cap;
    }
    st->profiled[st->n_profiled++] = (struct ocl_profiled){*slot, kind, op};
    *slot = NULL;
}

void ocl_profile_release(struct ocl_state *st) {
    for (size_t i = 0; i < st->n_profiled; i++) clReleaseEvent(st->profiled[i].event);
    st->n_profiled = 0;
}

enum nncl_status ocl_profile_start(struct nncl_backend *be) {
    struct ocl_state *st = ocl_state_of(be);
    NNCL_CL_CHECK(clFinish(st->queue)); /* earlier work must not land in the profile */
    ocl_profile_release(st);
    st->profiling = 1;
    return NNCL_OK;
}

enum nncl_status ocl_profile_stop(struct nncl_backend *be, struct nncl_profile *out) {
    struct ocl_state *st = ocl_state_of(be);
    st->profiling = 0;
    NNCL_CL_CHECK(clFinish(st->queue));
    *out = (struct nncl_profile){0};
    cl_ulong first = 0, last = 0, previous_end = 0;
    double busy = 0;
    struct {
        const char *op;
        size_t count;
        double ms;
    } totals[32] = {{0}};
    for (size_t i = 0; i < st->n_profiled; i++) {
        cl_ulong start = 0, end = 0;
        NNCL_CL_CHECK(clGetEventProfilingInfo(st->profiled[i].event, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL));
        NNCL_CL_CHECK(clGetEventProfilingInfo(st->profiled[i].event, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL));
        if (i == 0) first = start, previous_end = start;
        if (end > last) last = end;
        double ms = 1e-6 * (double)(end - start);
        switch (st->profiled[i].kind) {
        case OCL_CMD_GEMM:
            /* CLBlast's event is its last kernel; in an in-order queue everything since the previous
             * command's end belongs to it (its padding and transposing kernels) */
            ms = 1e-6 * (double)(end - (previous_end < end ? previous_end : start));
            out->gemm_ms += ms, out->gemm_calls++;
            break;
        case OCL_CMD_KERNEL: out->kernel_ms += ms, out->kernel_launches++; break;
        case OCL_CMD_TRANSFER: out->transfer_ms += ms, out->transfers++; break;
        }
        busy += ms;
        previous_end = end;
        /* per-op totals for the log (NNCL_LOG_LEVEL=info): which kernels the time goes to */
        for (size_t j = 0; j < sizeof totals / sizeof totals[0]; j++) {
            if (!totals[j].op || totals[j].op == st->profiled[i].op) {
                totals[j].op = st->profiled[i].op;
                totals[j].ms += ms;
                totals[j].count++;
                break;
            }
        }
    }
    for (size_t j = 0; j < sizeof totals / sizeof totals[0] && totals[j].op; j++) {
        nncl_log(NNCL_LOG_INFO, "profile: %-18s %6zu commands %10.3f ms", totals[j].op, totals[j].count, totals[j].ms);
    }
    out->span_ms = 1e-6 * (double)(last - first);
    out->idle_ms = out->span_ms > busy ? out->span_ms - busy : 0;
    ocl_profile_release(st);
    return NNCL_OK;
}
