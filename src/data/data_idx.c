/*
 * data_idx.c: IDX files (the format of MNIST and Fashion-MNIST) into an nncl_dataset, and the
 * Fashion-MNIST folder loader.
 *
 * An IDX file is a big-endian header (magic 0x0000TTDD: element type TT, DD dimensions, then DD 32-bit
 * sizes) followed by the elements. We accept exactly two kinds: images (type 0x08 unsigned byte, 3
 * dimensions N x rows x cols) and labels (type 0x08, 1 dimension N). Files are read through zlib's
 * gzread, which decompresses gzip and passes plain files through unchanged, so one code path serves the
 * .gz files the data sets ship as and the uncompressed copies people make of them. Offsets in messages
 * are in the uncompressed bytes, which is what the header's sizes describe.
 */
#define _POSIX_C_SOURCE 200809L /* access() */

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "nncl/nncl_data.h"
#include "status_impl.h"
#include "util/util.h"

#define IDX_MAGIC_IMAGES 0x00000803u /* unsigned bytes, 3 dimensions */
#define IDX_MAGIC_LABELS 0x00000801u /* unsigned bytes, 1 dimension */
#define IDX_N_CLASSES 10

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
#define FASHION_MNIST_HINT                                                                                 \
    "install the Debian package dataset-fashion-mnist (sudo apt-get install dataset-fashion-mnist, or "    \
    "bash cmake/install_deps.sh), or pass the folder that holds the files"

static const char *const fashion_mnist_classes[IDX_N_CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};
static const char *const digit_classes[IDX_N_CLASSES] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

/* One open IDX file and how far into its (uncompressed) bytes we are, for messages. */
struct idx_reader {
    gzFile gz;
    const char *path;
    uint64_t offset;
};

static enum nncl_status idx_open(struct idx_reader *r, const char *path) {
    r->path = path;
    r->offset = 0;
    errno = 0;
    r->gz = gzopen(path, "rb");
    if (!r->gz) {
        /* gzopen leaves errno 0 when it is zlib's own allocation that failed */
        if (errno == 0) return nncl_set_error(NNCL_ERR_OOM, "%s: out of memory opening the file", path);
        return nncl_set_error(NNCL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    /* A larger buffer than zlib's 8 KiB default: the images file of Fashion-MNIST is 47 MB. */
    gzbuffer(r->gz, 1u << 17);
    return NNCL_OK;
}

/* Closes the file; on the success path a failing close (a read error zlib only notices now) counts. */
static enum nncl_status idx_close(struct idx_reader *r) {
    if (!r->gz) return NNCL_OK;
    int rc = gzclose_r(r->gz);
    r->gz = NULL;
    if (rc == Z_ERRNO) return nncl_set_error(NNCL_ERR_IO, "%s: closing failed: %s", r->path, strerror(errno));
    return NNCL_OK;
}

/*
 * Reads exactly n bytes of `what`. A short read is a truncated file: the message gives the offset where
 * the data ran out and how many bytes were expected from where.
 */
static enum nncl_status idx_read(struct idx_reader *r, void *dst, size_t n, const char *what) {
    unsigned char *p = dst;
    size_t done = 0;
    while (done < n) {
        /* gzread takes an unsigned count and returns an int: read in chunks well below INT_MAX */
        size_t chunk = n - done < (1u << 30) ? n - done : (1u << 30);
        errno = 0;
        int got = gzread(r->gz, p + done, (unsigned)chunk);
        if (got < 0) {
            int zerr = Z_OK;
            const char *zmsg = gzerror(r->gz, &zerr);
            if (zerr == Z_ERRNO) {
                return nncl_set_error(NNCL_ERR_IO, "%s: reading %s at byte %llu failed: %s", r->path, what,
                                      (unsigned long long)(r->offset + done), strerror(errno));
            }
            if (zerr != Z_BUF_ERROR) {
                return nncl_set_error(NNCL_ERR_FORMAT, "%s: corrupt gzip data while reading %s at "
                                      "(uncompressed) byte %llu: %s; re-download the file",
                                      r->path, what, (unsigned long long)(r->offset + done), zmsg);
            }
            got = 0; /* Z_BUF_ERROR: the compressed stream itself was cut short: the same as a truncation */
        }
        if (got == 0) {
            return nncl_set_error(NNCL_ERR_FORMAT, "%s: truncated: the data ends at byte %llu, but %s needs "
                                  "%zu bytes from byte %llu (%zu missing); the file is incomplete, "
                                  "re-download or re-extract it",
                                  r->path, (unsigned long long)(r->offset + done), what, n,
                                  (unsigned long long)r->offset, n - done);
        }
        done += (size_t)got;
    }
    r->offset += n;
    return NNCL_OK;
}

/* After the last element the file must end: extra bytes mean the header's sizes are wrong. */
static enum nncl_status idx_expect_end(struct idx_reader *r) {
    unsigned char extra[4096];
    uint64_t n_extra = 0;
    for (;;) {
        int got = gzread(r->gz, extra, sizeof extra);
        if (got < 0) {
            int zerr = Z_OK;
            const char *zmsg = gzerror(r->gz, &zerr);
            if (zerr == Z_ERRNO) {
                return nncl_set_error(NNCL_ERR_IO, "%s: reading past byte %llu failed: %s", r->path,
                                      (unsigned long long)r->offset, strerror(errno));
            }
            if (zerr == Z_BUF_ERROR) {
                return nncl_set_error(NNCL_ERR_FORMAT, "%s: truncated: the gzip stream stops after byte %llu "
                                      "without its end marker; the file is incomplete, re-download it",
                                      r->path, (unsigned long long)r->offset);
            }
            return nncl_set_error(NNCL_ERR_FORMAT, "%s: corrupt gzip data after byte %llu: %s", r->path,
                                  (unsigned long long)r->offset, zmsg);
        }
        if (got == 0) break;
        n_extra += (uint64_t)got;
    }
    if (n_extra) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: %llu unexpected bytes after byte %llu, where the header's "
                              "sizes say the data ends; the file is not a single IDX array, or its header "
                              "is wrong",
                              r->path, (unsigned long long)n_extra, (unsigned long long)r->offset);
    }
    return NNCL_OK;
}

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/*
 * Refuses, before anything is allocated, a header whose sizes need more than `n` bytes from the current
 * offset when the file cannot hold them: a damaged 16-byte header can ask for 2^60 bytes, and malloc would
 * then fail (a misleading "out of memory") or succeed lazily for a file that is only truncated. A plain
 * file holds its size, and the message is the one idx_read would give; a gzip file decompresses to at
 * most 1032 times its size (deflate's largest ratio, from the zlib FAQ). A file that is not regular (a
 * pipe) gives no bound; idx_read then reports its short read.
 */
static enum nncl_status idx_check_size(struct idx_reader *r, size_t n, const char *what) {
    struct stat sb;
    if (stat(r->path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 0) return NNCL_OK;
    const uint64_t size = (uint64_t)sb.st_size;
    if (gzdirect(r->gz)) {
        if (size >= r->offset && n <= size - r->offset) return NNCL_OK;
        const uint64_t have = size > r->offset ? size - r->offset : 0;
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: truncated: the data ends at byte %llu, but %s needs "
                              "%zu bytes from byte %llu (%zu missing); the file is incomplete, "
                              "re-download or re-extract it",
                              r->path, (unsigned long long)size, what, n, (unsigned long long)r->offset,
                              n - (size_t)have);
    }
    if (size > UINT64_MAX / 1032) return NNCL_OK;
    const uint64_t most = size * 1032;
    if (r->offset <= most && n <= most - r->offset) return NNCL_OK;
    return nncl_set_error(NNCL_ERR_FORMAT, "%s: truncated, or its header is damaged: %s needs %zu bytes from "
                          "byte %llu, but %llu bytes of gzip data decompress to at most %llu bytes; "
                          "re-download or re-extract it",
                          r->path, what, n, (unsigned long long)r->offset, (unsigned long long)size,
                          (unsigned long long)most);
}

/*
 * Reads the magic number and the `ndim` sizes, checking the magic against `magic` (what = "images" or
 * "labels", for the message) and that no size is zero.
 */
static enum nncl_status idx_read_header(struct idx_reader *r, uint32_t magic, int ndim, const char *what,
                                        uint32_t *dims) {
    unsigned char b[4];
    enum nncl_status st = idx_read(r, b, 4, "the magic number");
    if (st) return st;
    uint32_t got = be32(b);
    if (got != magic) {
        const char *hint = "";
        if (got == IDX_MAGIC_IMAGES || got == IDX_MAGIC_LABELS) {
            hint = got == IDX_MAGIC_IMAGES ? "; this is an IDX images file: are the images and labels paths "
                                             "swapped?"
                                           : "; this is an IDX labels file: are the images and labels paths "
                                             "swapped?";
        }
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: bad magic number 0x%08X at byte 0, expected 0x%08X (IDX %s: "
                              "unsigned bytes, %d dimension%s, big-endian)%s",
                              r->path, (unsigned)got, (unsigned)magic, what, ndim, ndim == 1 ? "" : "s", hint);
    }
    for (int i = 0; i < ndim; i++) {
        char name[32];
        snprintf(name, sizeof name, "size of dimension %d", i);
        st = idx_read(r, b, 4, name);
        if (st) return st;
        dims[i] = be32(b);
        if (dims[i] == 0) {
            return nncl_set_error(NNCL_ERR_FORMAT, "%s: dimension %d (at byte %llu) is 0; an IDX %s file needs "
                                  "at least one element in every dimension",
                                  r->path, i, (unsigned long long)(r->offset - 4), what);
        }
    }
    return NNCL_OK;
}

/* Images: N x rows x cols bytes, returned as N rows of rows*cols floats in [0, 1]. */
static enum nncl_status idx_load_images(const char *path, size_t *n_out, size_t *n_pixels_out, float **x_out) {
    struct idx_reader r = {0};
    enum nncl_status st = idx_open(&r, path);
    if (st) return st;
    uint32_t dims[3];
    unsigned char *bytes = NULL;
    float *x = NULL;
    st = idx_read_header(&r, IDX_MAGIC_IMAGES, 3, "images", dims);
    if (st) goto fail;
    /* 3 x 32 bits can overflow size_t on 64-bit hosts too: check before multiplying */
    size_t n = dims[0], n_pixels = (size_t)dims[1] * dims[2];
    if (n_pixels > SIZE_MAX / sizeof(float) / n) {
        st = nncl_set_error(NNCL_ERR_FORMAT, "%s: the header's sizes %u x %u x %u are too large for this "
                            "machine's memory", path, (unsigned)dims[0], (unsigned)dims[1], (unsigned)dims[2]);
        goto fail;
    }
    char what[96];
    snprintf(what, sizeof what, "the pixels of %zu images of %ux%u", n, (unsigned)dims[1], (unsigned)dims[2]);
    st = idx_check_size(&r, n * n_pixels, what);
    if (st) goto fail;
    bytes = malloc(n * n_pixels);
    x = malloc(n * n_pixels * sizeof *x);
    if (!bytes || !x) {
        st = nncl_set_error(NNCL_ERR_OOM, "%s: out of memory for %zu images of %ux%u pixels", path, n,
                            (unsigned)dims[1], (unsigned)dims[2]);
        goto fail;
    }
    st = idx_read(&r, bytes, n * n_pixels, what);
    if (st) goto fail;
    st = idx_expect_end(&r);
    if (st) goto fail;
    st = idx_close(&r);
    if (st) goto fail;
    for (size_t i = 0; i < n * n_pixels; i++) x[i] = (float)bytes[i] / 255.0f;
    free(bytes);
    *n_out = n;
    *n_pixels_out = n_pixels;
    *x_out = x;
    return NNCL_OK;
fail:
    if (r.gz) gzclose_r(r.gz); /* the error being reported matters more than a failing close */
    free(bytes);
    free(x);
    return st;
}

/* Labels: N bytes, each a class 0..9. */
static enum nncl_status idx_load_labels(const char *path, size_t *n_out, unsigned char **labels_out) {
    struct idx_reader r = {0};
    enum nncl_status st = idx_open(&r, path);
    if (st) return st;
    uint32_t n32 = 0;
    unsigned char *labels = NULL;
    st = idx_read_header(&r, IDX_MAGIC_LABELS, 1, "labels", &n32);
    if (st) goto fail;
    size_t n = n32;
    char what[64];
    snprintf(what, sizeof what, "%zu labels", n);
    st = idx_check_size(&r, n, what);
    if (st) goto fail;
    labels = malloc(n);
    if (!labels) {
        st = nncl_set_error(NNCL_ERR_OOM, "%s: out of memory for %zu labels", path, n);
        goto fail;
    }
    st = idx_read(&r, labels, n, what);
    if (st) goto fail;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] >= IDX_N_CLASSES) {
            st = nncl_set_error(NNCL_ERR_FORMAT, "%s: label %u of example %zu (byte %llu) is not a class 0..%d",
                                path, (unsigned)labels[i], i, (unsigned long long)(r.offset - n + i),
                                IDX_N_CLASSES - 1);
            goto fail;
        }
    }
    st = idx_expect_end(&r);
    if (st) goto fail;
    st = idx_close(&r);
    if (st) goto fail;
    *n_out = n;
    *labels_out = labels;
    return NNCL_OK;
fail:
    if (r.gz) gzclose_r(r.gz);
    free(labels);
    return st;
}

/* Replaces ds->class_names with copies of `names` (IDX_N_CLASSES of them). */
static enum nncl_status set_class_names(struct nncl_dataset *ds, const char *const *names) {
    char **copy = calloc(IDX_N_CLASSES, sizeof *copy);
    if (!copy) return nncl_set_error(NNCL_ERR_OOM, "out of memory for class names");
    for (size_t i = 0; i < IDX_N_CLASSES; i++) {
        copy[i] = nncl_strdup(names[i]);
        if (!copy[i]) {
            while (i) free(copy[--i]);
            free(copy);
            return nncl_set_error(NNCL_ERR_OOM, "out of memory for class names");
        }
    }
    if (ds->class_names) {
        for (size_t i = 0; i < ds->n_classes; i++) free(ds->class_names[i]);
        free(ds->class_names);
    }
    ds->class_names = copy;
    ds->n_classes = IDX_N_CLASSES;
    return NNCL_OK;
}

enum nncl_status nncl_dataset_load_idx(const char *images_path, const char *labels_path, struct nncl_dataset *out) {
    if (!out) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_dataset_load_idx: out is NULL");
    memset(out, 0, sizeof *out);
    if (!images_path) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_dataset_load_idx: the images path is NULL");
    struct nncl_dataset ds = {0};
    size_t n_images = 0, n_labels = 0;
    unsigned char *labels = NULL;
    enum nncl_status st = idx_load_images(images_path, &n_images, &ds.n_inputs, &ds.x);
    if (st) return st;
    if (!labels_path) { /* prediction input: the images alone, y NULL */
        ds.n = n_images;
        ds.n_outputs = IDX_N_CLASSES;
        ds.task = NNCL_TASK_CLASSIFICATION;
        st = set_class_names(&ds, digit_classes);
        if (st) goto fail;
        snprintf(ds.source, sizeof ds.source, "%s", images_path);
        *out = ds;
        return NNCL_OK;
    }
    st = idx_load_labels(labels_path, &n_labels, &labels);
    if (st) goto fail;
    if (n_images != n_labels) {
        st = nncl_set_error(NNCL_ERR_FORMAT, "%s holds %zu images but %s holds %zu labels; the counts must agree "
                            "(are the files from the same split?)",
                            images_path, n_images, labels_path, n_labels);
        goto fail;
    }
    ds.n = n_images;
    ds.n_outputs = IDX_N_CLASSES;
    ds.y = calloc(ds.n * IDX_N_CLASSES, sizeof *ds.y);
    if (!ds.y) {
        st = nncl_set_error(NNCL_ERR_OOM, "%s: out of memory for %zu one-hot labels", labels_path, ds.n);
        goto fail;
    }
    for (size_t i = 0; i < ds.n; i++) ds.y[i * IDX_N_CLASSES + labels[i]] = 1.0f;
    free(labels);
    labels = NULL;
    ds.task = NNCL_TASK_CLASSIFICATION;
    st = set_class_names(&ds, digit_classes);
    if (st) goto fail;
    snprintf(ds.source, sizeof ds.source, "%s + %s", images_path, labels_path);
    *out = ds;
    return NNCL_OK;
fail:
    free(labels);
    nncl_dataset_free(&ds);
    return st;
}

/* "<dir>/<name><suffix>" in a new malloc'ed string, or NULL when out of memory. */
static char *join_path(const char *dir, const char *name, const char *suffix) {
    size_t len = strlen(dir) + 1 + strlen(name) + strlen(suffix) + 1;
    char *p = malloc(len);
    if (p) snprintf(p, len, "%s/%s%s", dir, name, suffix);
    return p;
}

/* The .gz file when it exists, else the plain one when it exists, else NULL (and *oom = 0). */
static char *find_idx_file(const char *dir, const char *name, int *oom) {
    *oom = 0;
    const char *const suffixes[] = {".gz", ""};
    for (size_t i = 0; i < 2; i++) {
        char *p = join_path(dir, name, suffixes[i]);
        if (!p) {
            *oom = 1;
            return NULL;
        }
        if (access(p, F_OK) == 0) return p;
        free(p);
    }
    return NULL;
}

enum nncl_status nncl_dataset_load_fashion_mnist(const char *dir, const char *split, struct nncl_dataset *out) {
    if (!out) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_dataset_load_fashion_mnist: out is NULL");
    memset(out, 0, sizeof *out);
    if (!dir) dir = FASHION_MNIST_DIR;
    const char *prefix;
    if (split && strcmp(split, "train") == 0) {
        prefix = "train";
    } else if (split && strcmp(split, "test") == 0) {
        prefix = "t10k"; /* the file names of the original release */
    } else {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "Fashion-MNIST: unknown split \"%s\"; choose train or test",
                              split ? split : "(null)");
    }
    char images_name[64], labels_name[64];
    snprintf(images_name, sizeof images_name, "%s-images-idx3-ubyte", prefix);
    snprintf(labels_name, sizeof labels_name, "%s-labels-idx1-ubyte", prefix);

    int oom_images = 0, oom_labels = 0;
    char *images = find_idx_file(dir, images_name, &oom_images);
    char *labels = find_idx_file(dir, labels_name, &oom_labels);
    enum nncl_status st;
    if (oom_images || oom_labels) {
        st = nncl_set_error(NNCL_ERR_OOM, "Fashion-MNIST: out of memory for a file name");
    } else if (!images || !labels) {
        const char *missing = !images ? images_name : labels_name;
        int dir_exists = access(dir, F_OK) == 0;
        st = nncl_set_error(NNCL_ERR_IO, "Fashion-MNIST (%s split) not found: %s%s has neither %s.gz nor %s; %s",
                            split, dir, dir_exists ? "" : " does not exist, so it", missing, missing,
                            FASHION_MNIST_HINT);
    } else {
        st = nncl_dataset_load_idx(images, labels, out);
        if (st == NNCL_OK) st = set_class_names(out, fashion_mnist_classes);
        if (st == NNCL_OK) snprintf(out->source, sizeof out->source, "Fashion-MNIST %s (%s)", split, dir);
        if (st) nncl_dataset_free(out);
    }
    free(images);
    free(labels);
    return st;
}
