/*
 * bench_comm.c: the communicator's sum of a host buffer (nncl_comm_sum), exact and fast, over a range of
 * sizes: seconds per sum and the bus bandwidth 2 (N-1)/N x bytes / seconds (docs/distributed.md).
 *   mpirun -n 2 --oversubscribe --mca btl self,tcp build/bench/bench_comm [MAX_FLOATS] [ROUNDS]
 * Sizes 1024, 4096, ... up to MAX_FLOATS, and MAX_FLOATS itself (e.g. a net's parameter count).
 */
#include <stdio.h>
#include <stdlib.h>

#include "nncl/nncl.h"
#include "util/util.h"

int main(int argc, char **argv) {
    const size_t max = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : (size_t)1 << 25;
    const int rounds = argc > 2 ? atoi(argv[2]) : 5;
    struct nncl_comm *c = NULL;
    if (nncl_comm_open("auto", &c)) return fprintf(stderr, "bench_comm: %s\n", nncl_last_error()), 1;
    const int rank = nncl_comm_rank(c), n = nncl_comm_size(c);
    float *buf = malloc(max * sizeof(float));
    if (!buf) return 1;
    for (size_t i = 0; i < max; i++) buf[i] = (float)(i % 97) * 1e-3f;
    if (rank == 0) printf("# %d ranks (%s)\n# floats      mode   seconds/sum   bus GB/s\n", n, nncl_comm_name(c));
    for (size_t len = 1024; len <= max; len = len * 4 > max && len < max ? max : len * 4) {
        for (int mode = 0; mode < NNCL_REDUCE_COUNT; mode++) {
            nncl_comm_sum(c, buf, len, (enum nncl_reduction)mode); /* warm-up */
            const double t0 = nncl_now_seconds();
            for (int r = 0; r < rounds; r++) nncl_comm_sum(c, buf, len, (enum nncl_reduction)mode);
            const double s = (nncl_now_seconds() - t0) / rounds;
            const double bus = n > 1 ? 2.0 * (n - 1) / n * (double)len * 4 / s / 1e9 : 0.0;
            if (rank == 0) printf("%10zu  %6s  %12.6f  %9.3f\n", len, nncl_reduction_name((enum nncl_reduction)mode), s, bus);
        }
    }
    free(buf);
    nncl_comm_free(c);
    return 0;
}
