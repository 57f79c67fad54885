/*
 * compare_safetensors.c: compares every tensor of two safetensors files (as `nncl grad` writes them)
 * element by element: |b - a| <= abs + rel |a|. Prints the worst element of each tensor; exits 0 when
 * all are within tolerance, 1 otherwise (or on a missing tensor or a shape mismatch), 2 on usage.
 *
 *   compare_safetensors A.safetensors B.safetensors ABS REL
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "nncl/nncl.h"

static int compare_tensor(const struct st_file *a, const struct st_file *b, const struct st_tensor *ta, double abs_tol,
                          double rel_tol) {
    const struct st_tensor *tb = st_find(b, ta->name);
    if (!tb || tb->count != ta->count || tb->ndim != ta->ndim) {
        printf("%s: missing or of another shape in %s\n", ta->name, b->path);
        return 1;
    }
    float *va = malloc(ta->count * sizeof(float) + 1), *vb = malloc(ta->count * sizeof(float) + 1);
    if (!va || !vb || st_to_float(a, ta, va, ta->count, 0) || st_to_float(b, tb, vb, tb->count, 0)) {
        printf("%s: cannot read: %s\n", ta->name, nncl_last_error());
        free(va), free(vb);
        return 1;
    }
    size_t worst = 0;
    double worst_excess = -1;
    for (size_t i = 0; i < ta->count; i++) {
        const double bound = abs_tol + rel_tol * fabs((double)va[i]);
        const double excess = isnan(va[i]) || isnan(vb[i]) ? INFINITY : fabs((double)vb[i] - va[i]) / bound;
        if (excess > worst_excess) worst_excess = excess, worst = i;
    }
    const int ok = worst_excess <= 1.0;
    printf("%-20s %8llu values  worst index %zu: %.9g vs %.9g (%.2f of the bound) %s\n", ta->name,
           (unsigned long long)ta->count, worst, (double)va[worst], (double)vb[worst], worst_excess, ok ? "ok" : "FAIL");
    free(va), free(vb);
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: compare_safetensors A.safetensors B.safetensors ABS REL\n");
        return 2;
    }
    struct st_file a, b;
    if (st_read(argv[1], &a) || st_read(argv[2], &b)) {
        fprintf(stderr, "compare_safetensors: %s\n", nncl_last_error());
        return 1;
    }
    int failures = 0;
    for (size_t i = 0; i < a.n_tensors; i++) failures += compare_tensor(&a, &b, &a.tensors[i], atof(argv[3]), atof(argv[4]));
    if (a.n_tensors != b.n_tensors) {
        printf("%s has %zu tensors, %s has %zu\n", argv[1], a.n_tensors, argv[2], b.n_tensors);
        failures++;
    }
    st_free(&a);
    st_free(&b);
    return failures ? 1 : 0;
}
