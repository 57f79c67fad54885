/*
 * train_reduce.c: the gradient of a step of several parts (micro-batches, ranks), summed on the host and over
 * the ranks in buckets that start their reduction while backward goes on (docs/distributed.md, "Overlap").
 *
 * The parameter arena is W1 b1 W2 b2 ... and backward produces the layers last first, so a bucket is a run of
 * adjacent layers taken from the end of the arena: layers are added, last first, until the bucket holds at
 * least bucket_bytes, and the first layer closes the last bucket. Every rank builds the same buckets from the
 * same net and begins and finishes them in the same order (the communicator requires it).
 *
 * A part's gradient is read to the host, scaled by rows / the step's rows and folded into the step's sum
 * (nncl_comm_fold), element by element: cutting the arena into buckets changes no bit of the sum, so the exact
 * reduction of N ranks still gives the bits of --accumulate N. The rank's last part does this per bucket from
 * inside backward (nncl_model_backward_layers): as soon as a bucket's first layer is done, its range is read (on
 * OpenCL a blocking read of that range: the existing host staging, per bucket), folded and its sum begun;
 * between layers nncl_comm_progress lets the sums in flight advance. The update needs the whole gradient (one
 * launch over the arena; the clip norm is global), so train_reduce_finish waits for the buckets in order and
 * writes each back to the device as soon as its sum is there.
 */
#include <stdlib.h>
#include <string.h>

#include "model_impl.h"
#include "status_impl.h"
#include "train_impl.h"
#include "util/util.h"

enum nncl_status train_reduce_init(struct train_reduce *r, struct nncl_model *m, struct nncl_comm *comm,
                                   enum nncl_reduction mode, size_t bucket_bytes, size_t cap) {
    memset(r, 0, sizeof *r);
    r->m = m, r->comm = comm, r->mode = mode;
    const size_t p = m->n_params, min_floats = (bucket_bytes ? bucket_bytes : NNCL_TRAIN_BUCKET_BYTES) / sizeof(float);
    if (cap < p + 1) cap = p + 1;
    r->part = malloc(cap * sizeof(float));
    r->sum = malloc(cap * sizeof(float));
    if (!r->part || !r->sum) return nncl_set_error(NNCL_ERR_OOM, "trainer: out of host memory for the gradient sums");
    const size_t layers = m->spec.n_layers;
    size_t end = p; /* the buckets tile [0, p) from the end */
    for (size_t l = layers; l-- > 0;) {
        NNCL_ASSERT(m->b_off[l] + nncl_layer_out(&m->spec, l) == (l + 1 < layers ? m->w_off[l + 1] : p));
        if (l == 0 || end - m->w_off[l] >= min_floats) {
            r->bucket[r->n_buckets++] = (struct train_bucket){.first_layer = l, .off = m->w_off[l], .n = end - m->w_off[l]};
            end = m->w_off[l];
        }
    }
    r->bucket[0].n++; /* the stop flag travels after the gradient, in the first bucket (the arena's end) */
    return NNCL_OK;
}

void train_reduce_free(struct train_reduce *r) {
    free(r->part);
    free(r->sum);
    r->part = r->sum = NULL;
}

/* Scales a part's gradient to its share of the step's: the same multiplication on every rank and in
 * --accumulate, so the exact reduction of N ranks and --accumulate N sum the same bits. */
static void scale_part(float *g, size_t n, size_t rows, size_t total) {
    const float s = (float)rows / (float)total;
    for (size_t i = 0; i < n; i++) g[i] = g[i] * s;
}

/* The part's gradient over [off, off + n) into the step's sum: read (or zero, for a part without rows), scaled,
 * folded (the first part is the sum). */
static enum nncl_status take(struct train_reduce *r, size_t off, size_t n) {
    float *dst = (r->first_part ? r->sum : r->part) + off;
    if (r->rows == 0) {
        memset(dst, 0, n * sizeof(float));
    } else {
        TRY(nncl_tensor_get(&(struct nncl_tensor){r->m->grads, off, 1, n}, dst, n));
        if (r->rows != r->total) scale_part(dst, n, r->rows, r->total);
    }
    if (!r->first_part) nncl_comm_fold(r->sum + off, r->part + off, n);
    return NNCL_OK;
}

/* Bucket `r->begun` is complete in the sum: its reduction starts. */
static enum nncl_status begin_next(struct train_reduce *r) {
    struct train_bucket *b = &r->bucket[r->begun];
    const size_t grads = b->n - (r->begun == 0); /* the first bucket's last float is the stop flag */
    TRY(take(r, b->off, grads));
    if (r->begun == 0) r->sum[r->m->n_params] = r->stop;
    const double t0 = nncl_now_seconds();
    TRY(nncl_comm_sum_begin(r->comm, r->sum + b->off, b->n, r->mode, &b->req));
    r->comm_seconds += nncl_now_seconds() - t0;
    r->begun++;
    return NNCL_OK;
}

/* nncl_model_backward_layers' hook: layer l is done; when it is its bucket's first layer, the bucket begins. */
static enum nncl_status layer_done(void *user, size_t l) {
    struct train_reduce *r = user;
    if (r->begun < r->n_buckets && r->bucket[r->begun].first_layer == l) TRY(begin_next(r));
    const double t0 = nncl_now_seconds();
    TRY(nncl_comm_progress(r->comm));
    r->comm_seconds += nncl_now_seconds() - t0;
    return NNCL_OK;
}

enum nncl_status train_reduce_part(struct train_reduce *r, const struct nncl_tensor *x, const struct nncl_tensor *t,
                                   size_t rows, size_t total, int first, int last, float stop) {
    r->rows = rows, r->total = total, r->first_part = first;
    if (!last) {
        if (rows) TRY(nncl_model_backward(r->m, x, t));
        return take(r, 0, r->m->n_params);
    }
    r->begun = 0, r->stop = stop;
    if (rows) TRY(nncl_model_backward_layers(r->m, x, t, layer_done, r));
    while (r->begun < r->n_buckets) TRY(begin_next(r)); /* a part without rows: nothing to overlap */
    return NNCL_OK;
}

enum nncl_status train_reduce_finish(struct train_reduce *r, int *stop_agreed) {
    const size_t p = r->m->n_params;
    for (size_t k = 0; k < r->n_buckets; k++) {
        struct train_bucket *b = &r->bucket[k];
        const double t0 = nncl_now_seconds();
        TRY(nncl_comm_sum_end(r->comm, b->req));
        r->comm_seconds += nncl_now_seconds() - t0;
        b->req = NULL;
        const size_t grads = b->n - (k == 0);
        TRY(nncl_tensor_set(&(struct nncl_tensor){r->m->grads, b->off, 1, grads}, r->sum + b->off, grads));
    }
    *stop_agreed = r->sum[p] > 0.0f;
    r->steps++;
    return NNCL_OK;
}
