/*
 * test_safetensors.c: the safetensors reader and writer (src/io/safetensors.c) and the safetensors data
 * loader (src/data/data_safetensors.c).
 *
 * Every input file is written at test time into a fresh mkdtemp folder, the malformed ones byte by byte,
 * so the repository holds no binary fixtures and each case shows exactly which bytes are wrong. Bad
 * files must give NNCL_ERR_FORMAT (or _IO, _NUMERIC) with a message naming the file and the problem;
 * nothing may crash.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fileno, lstat, setuid */

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "nncl/nncl_data.h"
#include "test_util.h"

/* ---- the temporary folder and file helpers ---- */

static char dir[256];

static void rm_rf(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0) return;
    if (S_ISDIR(sb.st_mode)) {
        chmod(path, 0700); /* a test may have made it read-only */
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
                char sub[1024];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                rm_rf(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void make_dir(void) {
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/nncl_st_XXXXXX", base && base[0] ? base : "/tmp");
    cr_assert(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
}

static void setup(void) { make_dir(); }
static void teardown(void) {
    if (dir[0]) rm_rf(dir);
    dir[0] = '\0';
}
TestSuite(safetensors, .init = setup, .fini = teardown);
TestSuite(st_data, .init = setup, .fini = teardown);

/* dir/name into buf. */
static const char *tpath(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", dir, name);
    return buf;
}

static void write_bytes(const char *path, const void *bytes, size_t n) {
    FILE *fp = fopen(path, "wb");
    cr_assert(fp, "open %s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(bytes, 1, n, fp), n, "write %s", path);
    cr_assert_eq(fclose(fp), 0, "close %s", path);
}

/* The whole file into a malloc'd buffer. */
static unsigned char *read_bytes(const char *path, size_t *n) {
    FILE *fp = fopen(path, "rb");
    cr_assert(fp, "open %s: %s", path, strerror(errno));
    cr_assert_eq(fseek(fp, 0, SEEK_END), 0);
    long len = ftell(fp);
    cr_assert(len >= 0);
    cr_assert_eq(fseek(fp, 0, SEEK_SET), 0);
    unsigned char *buf = malloc((size_t)len + 1);
    cr_assert(buf);
    cr_assert_eq(fread(buf, 1, (size_t)len, fp), (size_t)len, "read %s", path);
    cr_assert_eq(fclose(fp), 0);
    *n = (size_t)len;
    return buf;
}

static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* A file of an 8-byte little-endian `header_len`, `header` (header_bytes of it) and `data`. */
static void write_raw_len(const char *path, uint64_t header_len, const char *header, size_t header_bytes,
                          const void *data, size_t data_len) {
    size_t n = 8 + header_bytes + data_len;
    unsigned char *buf = malloc(n + 1);
    cr_assert(buf);
    put_u64(buf, header_len);
    memcpy(buf + 8, header, header_bytes);
    if (data_len) memcpy(buf + 8 + header_bytes, data, data_len);
    write_bytes(path, buf, n);
    free(buf);
}

/* A file with this exact JSON header and `data_len` bytes of data (zeros when data is NULL). */
static void write_raw(const char *path, const char *header, const void *data, size_t data_len) {
    unsigned char *zeros = NULL;
    if (!data && data_len) {
        zeros = calloc(data_len, 1);
        cr_assert(zeros);
        data = zeros;
    }
    write_raw_len(path, strlen(header), header, strlen(header), data, data_len);
    free(zeros);
}

/* One tensor for write_tensors: any dtype, the shape as JSON text ("3,4"), raw little-endian bytes. */
struct raw_tensor {
    const char *name;
    const char *dtype;
    const char *shape;
    const void *data;
    size_t nbytes;
};

/* A valid file (contiguous offsets) from raw tensors: the way to make non-F32 files. */
static void write_tensors(const char *path, const struct raw_tensor *t, size_t n) {
    char header[4096];
    size_t len = 0, offset = 0, total = 0;
    len += (size_t)snprintf(header + len, sizeof header - len, "{");
    for (size_t i = 0; i < n; i++) {
        len += (size_t)snprintf(header + len, sizeof header - len,
                                "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%s],\"data_offsets\":[%zu,%zu]}", i ? "," : "",
                                t[i].name, t[i].dtype, t[i].shape, offset, offset + t[i].nbytes);
        offset += t[i].nbytes;
    }
    snprintf(header + len, sizeof header - len, "}");
    cr_assert(strlen(header) < sizeof header - 1, "write_tensors: header too long");
    total = offset;
    unsigned char *data = malloc(total + 1);
    cr_assert(data);
    offset = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i].nbytes) memcpy(data + offset, t[i].data, t[i].nbytes);
        offset += t[i].nbytes;
    }
    write_raw(path, header, data, total);
    free(data);
}

/* Little-endian bytes of floats and integers, for write_tensors. */
static void le_floats(unsigned char *out, const float *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], 4);
        for (int k = 0; k < 4; k++) out[4 * i + (size_t)k] = (unsigned char)(bits >> (8 * k));
    }
}

static void le_i64(unsigned char *out, const int64_t *v, size_t n) {
    for (size_t i = 0; i < n; i++) put_u64(out + 8 * i, (uint64_t)v[i]);
}

static void le_u16(unsigned char *out, const uint16_t *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = (unsigned char)v[i];
        out[2 * i + 1] = (unsigned char)(v[i] >> 8);
    }
}

static int count_tmp_files(const char *folder) {
    DIR *d = opendir(folder);
    cr_assert(d, "opendir %s: %s", folder, strerror(errno));
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strstr(e->d_name, ".tmp.")) n++;
    }
    closedir(d);
    return n;
}

static float bits_f(uint32_t bits) {
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint32_t f_bits(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    return bits;
}

/* st_read must fail with `status` naming the file and each needle, and leave `out` empty. */
#define ASSERT_READ_FAILS(path, status, ...)                                                                  \
    do {                                                                                                     \
        struct st_file f_;                                                                                   \
        memset(&f_, 0xab, sizeof f_);                                                                        \
        ASSERT_ERROR(st_read((path), &f_), (status), (path), __VA_ARGS__);                                   \
        cr_assert(f_.n_tensors == 0 && f_.tensors == NULL && f_.bytes == NULL && f_.n_metadata == 0,         \
                  "a failed st_read left data in out");                                                      \
    } while (0)

/* ---- round trip and format ---- */

static const float w_data[12] = {1.0f, -2.5f, 3.25f, 0.0f, -0.0f, 1e-30f, 3.4e38f, -7.0f, 8.5f, 9.0f, 10.0f, 11.0f};
static const float b_data[5] = {0.5f, 0.25f, 0.125f, -1.0f, 2.0f};
static const float s_data[1] = {42.0f};

static void write_sample(const char *path) {
    struct st_write_tensor t[4] = {
        {.name = "w", .ndim = 2, .shape = {3, 4}, .data = w_data},
        {.name = "b", .ndim = 1, .shape = {5}, .data = b_data},
        {.name = "step", .ndim = 0, .data = s_data},
        {.name = "empty", .ndim = 2, .shape = {0, 3}, .data = NULL},
    };
    struct st_metadata_entry meta[2] = {{"format", "nncl"}, {"note", "quote \" and \\ and\nnewline"}};
    tu_ok(st_write(path, t, 4, meta, 2), "st_write");
}

Test(safetensors, round_trip) {
    char path[512];
    tpath(path, sizeof path, "model.safetensors");
    write_sample(path);

    struct st_file f;
    tu_ok(st_read(path, &f), "st_read");
    cr_assert_str_eq(f.path, path);
    cr_assert_eq(f.n_tensors, 4);
    const char *names[4] = {"w", "b", "step", "empty"};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_str_eq(f.tensors[i].name, names[i], "tensors must keep the written order");
        cr_assert_eq(f.tensors[i].dtype, ST_F32);
    }
    const struct st_tensor *w = st_find(&f, "w"), *b = st_find(&f, "b"), *s = st_find(&f, "step");
    const struct st_tensor *e = st_find(&f, "empty");
    cr_assert(w && b && s && e);
    cr_assert(st_find(&f, "nope") == NULL);
    cr_assert(w->ndim == 2 && w->shape[0] == 3 && w->shape[1] == 4 && w->count == 12 && w->nbytes == 48);
    cr_assert(b->ndim == 1 && b->shape[0] == 5 && b->count == 5);
    cr_assert(s->ndim == 0 && s->count == 1 && s->nbytes == 4);
    cr_assert(e->ndim == 2 && e->count == 0 && e->nbytes == 0);

    float wv[12], bv[5], sv[1];
    tu_ok(st_to_float(&f, w, wv, 12, 1), "st_to_float w");
    tu_ok(st_to_float(&f, b, bv, 5, 1), "st_to_float b");
    tu_ok(st_to_float(&f, s, sv, 1, 1), "st_to_float step");
    tu_ok(st_to_float(&f, e, NULL, 0, 1), "st_to_float empty");
    for (size_t i = 0; i < 12; i++) cr_assert_eq(f_bits(wv[i]), f_bits(w_data[i]), "w[%zu]", i);
    for (size_t i = 0; i < 5; i++) cr_assert_eq(f_bits(bv[i]), f_bits(b_data[i]), "b[%zu]", i);
    cr_assert_eq(sv[0], 42.0f);
    ASSERT_ERROR(st_to_float(&f, w, wv, 11, 1), NNCL_ERR_INVALID_ARG, "\"w\"", "12 values, 11 given");

    cr_assert_eq(f.n_metadata, 2);
    cr_assert_str_eq(st_metadata(&f, "format"), "nncl");
    cr_assert_str_eq(st_metadata(&f, "note"), "quote \" and \\ and\nnewline");
    cr_assert(st_metadata(&f, "absent") == NULL);
    st_free(&f);
    st_free(&f); /* zeroed by the first call: a second is harmless */
    st_free(NULL);
}

Test(safetensors, no_tensors_no_metadata) {
    char path[512];
    tpath(path, sizeof path, "empty.safetensors");
    tu_ok(st_write(path, NULL, 0, NULL, 0), "st_write of nothing");
    size_t n;
    unsigned char *bytes = read_bytes(path, &n);
    cr_assert_eq(n, 16, "8 bytes of length + \"{}\" padded to 8");
    cr_assert_eq(memcmp(bytes + 8, "{}      ", 8), 0);
    free(bytes);
    struct st_file f;
    tu_ok(st_read(path, &f), "st_read");
    cr_assert_eq(f.n_tensors, 0);
    cr_assert_eq(f.n_metadata, 0);
    st_free(&f);
}

Test(safetensors, byte_layout) {
    char path[512];
    tpath(path, sizeof path, "layout.safetensors");
    write_sample(path);
    size_t n;
    unsigned char *bytes = read_bytes(path, &n);
    cr_assert(n >= 8);
    uint64_t h = 0;
    for (int i = 0; i < 8; i++) h |= (uint64_t)bytes[i] << (8 * i);
    cr_assert_eq((8 + h) % 8, 0, "8 + header length %llu must be a multiple of 8", (unsigned long long)h);
    cr_assert_eq(n, 8 + h + 48 + 20 + 4, "file size %zu: header %llu + 72 data bytes", n, (unsigned long long)h);

    char *header = malloc(h + 1);
    cr_assert(header);
    memcpy(header, bytes + 8, h);
    header[h] = '\0';
    cr_assert_eq(header[0], '{', "header: %s", header);
    size_t end = h;
    while (end > 0 && header[end - 1] == ' ') end--;
    cr_assert(h - end < 8, "at most 7 bytes of padding");
    cr_assert_eq(header[end - 1], '}', "header: %s", header);
    const char *expect[] = {
        "\"__metadata__\":{\"format\":\"nncl\",\"note\":\"quote \\\" and \\\\ and\\nnewline\"}",
        "\"w\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,48]}",
        "\"b\":{\"dtype\":\"F32\",\"shape\":[5],\"data_offsets\":[48,68]}",
        "\"step\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[68,72]}",
        "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[72,72]}",
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        cr_assert(strstr(header, expect[i]), "header lacks %s: %s", expect[i], header);
    }
    cr_assert(strstr(header, "\"w\"") < strstr(header, "\"b\"") && strstr(header, "\"b\"") < strstr(header, "\"step\""),
              "tensors in the given order: %s", header);

    /* the data: little-endian IEEE floats, w then b then step */
    const unsigned char *data = bytes + 8 + h;
    unsigned char expect_w[48];
    le_floats(expect_w, w_data, 12);
    cr_assert_eq(memcmp(data, expect_w, 48), 0, "w's bytes");
    const unsigned char one_half[4] = {0x00, 0x00, 0x00, 0x3f};
    cr_assert_eq(memcmp(data + 48, one_half, 4), 0, "b[0] = 0.5 is 00 00 00 3f");
    free(header);
    free(bytes);
}

/* Bytes between two tensors' data (a hole, as at the start above) are tolerated too; only overlaps are refused. */
Test(safetensors, a_gap_between_tensors_is_read_like_a_gap_at_the_start) {
    char path[512];
    tpath(path, sizeof path, "gap.safetensors");
    unsigned char data[20] = {0};
    const float a[2] = {1.5f, -3.0f}, b[2] = {0.25f, 8.0f};
    le_floats(data, a, 2);
    le_floats(data + 12, b, 2); /* bytes 8..11 belong to no tensor */
    write_raw(path, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", data, 20);
    struct st_file f;
    tu_ok(st_read(path, &f), "st_read");
    float out[2];
    tu_ok(st_to_float(&f, st_find(&f, "b"), out, 2, 1), "st_to_float");
    cr_assert(out[0] == 0.25f && out[1] == 8.0f);
    st_free(&f);
}

Test(safetensors, reads_unaligned_and_padded_files) {
    /* a foreign writer: a data offset of 1 (unaligned), newlines and spaces around the JSON */
    char path[512];
    tpath(path, sizeof path, "foreign.safetensors");
    unsigned char data[9] = {0xee};
    const float v[2] = {1.5f, -3.0f};
    le_floats(data + 1, v, 2);
    write_raw(path, "\n{ \"x\" : {\"data_offsets\": [1, 9], \"shape\": [2], \"dtype\": \"F32\"} }  \n ", data, 9);
    struct st_file f;
    tu_ok(st_read(path, &f), "st_read");
    float out[2];
    tu_ok(st_to_float(&f, st_find(&f, "x"), out, 2, 1), "st_to_float");
    cr_assert(out[0] == 1.5f && out[1] == -3.0f);
    st_free(&f);
}

Test(safetensors, overwrite_replaces_and_leaves_no_tmp) {
    char path[512];
    tpath(path, sizeof path, "m.safetensors");
    write_sample(path);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0644, "a new file is 0644, not mkstemp's 0600: %o", (unsigned)sb.st_mode);
    cr_assert_eq(chmod(path, 0600), 0);
    const float v[3] = {7, 8, 9};
    struct st_write_tensor t = {.name = "v", .ndim = 1, .shape = {3}, .data = v};
    tu_ok(st_write(path, &t, 1, NULL, 0), "second st_write");
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600, "a replaced file keeps its mode: %o", (unsigned)sb.st_mode);
    struct st_file f;
    tu_ok(st_read(path, &f), "st_read");
    cr_assert_eq(f.n_tensors, 1);
    cr_assert_str_eq(f.tensors[0].name, "v");
    cr_assert_eq(f.n_metadata, 0);
    st_free(&f);
    cr_assert_eq(count_tmp_files(dir), 0);
}

Test(safetensors, write_to_a_folder_fails_cleanly) {
    char sub[512], inner[1024];
    tpath(sub, sizeof sub, "model.safetensors");
    cr_assert_eq(mkdir(sub, 0700), 0);
    snprintf(inner, sizeof inner, "%s/keep", sub);
    write_bytes(inner, "keep", 4);
    const float v[1] = {1};
    struct st_write_tensor t = {.name = "v", .ndim = 1, .shape = {1}, .data = v};
    ASSERT_ERROR(st_write(sub, &t, 1, NULL, 0), NNCL_ERR_IO, sub, "renaming");
    struct stat sb;
    cr_assert(stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode), "the folder must still be there");
    cr_assert(stat(inner, &sb) == 0 && sb.st_size == 4, "and its content");
    cr_assert_eq(count_tmp_files(dir), 0, "no temporary file may be left behind");
    cr_assert_eq(count_tmp_files(sub), 0);
}

Test(safetensors, write_into_missing_folder) {
    char path[512];
    tpath(path, sizeof path, "no/such/folder/m.safetensors");
    const float v[1] = {1};
    struct st_write_tensor t = {.name = "v", .ndim = 1, .shape = {1}, .data = v};
    ASSERT_ERROR(st_write(path, &t, 1, NULL, 0), NNCL_ERR_IO, path, "No such file or directory", "folder");
}

Test(safetensors, write_rejects_bad_arguments) {
    char path[512];
    tpath(path, sizeof path, "bad.safetensors");
    const float v[2] = {1, 2};
    struct st_write_tensor dup[2] = {{.name = "a", .ndim = 1, .shape = {1}, .data = v},
                                     {.name = "a", .ndim = 1, .shape = {1}, .data = v + 1}};
    ASSERT_ERROR(st_write(path, dup, 2, NULL, 0), NNCL_ERR_INVALID_ARG, "\"a\" is used twice");
    struct st_write_tensor deep = {.name = "d", .ndim = 9, .data = v};
    ASSERT_ERROR(st_write(path, &deep, 1, NULL, 0), NNCL_ERR_INVALID_ARG, "ndim 9");
    struct st_write_tensor nodata = {.name = "n", .ndim = 1, .shape = {2}, .data = NULL};
    ASSERT_ERROR(st_write(path, &nodata, 1, NULL, 0), NNCL_ERR_INVALID_ARG, "\"n\"", "no data");
    /* 2^60 floats: more than the format's offsets hold exactly; refused before any data is read */
    struct st_write_tensor huge = {.name = "h", .ndim = 2, .shape = {1ull << 40, 1ull << 20}, .data = v};
    ASSERT_ERROR(st_write(path, &huge, 1, NULL, 0), NNCL_ERR_INVALID_ARG, "\"h\"", "too large for the format");
    struct st_write_tensor reserved = {.name = "__metadata__", .ndim = 1, .shape = {1}, .data = v};
    ASSERT_ERROR(st_write(path, &reserved, 1, NULL, 0), NNCL_ERR_INVALID_ARG, "reserved");
    struct st_metadata_entry m = {"k", NULL};
    ASSERT_ERROR(st_write(path, NULL, 0, &m, 1), NNCL_ERR_INVALID_ARG, "NULL key or value");
    ASSERT_ERROR(st_write(NULL, NULL, 0, NULL, 0), NNCL_ERR_INVALID_ARG, "path");
    cr_assert(access(path, F_OK) != 0, "nothing may be written on bad arguments");
    cr_assert_eq(count_tmp_files(dir), 0);
}

/* Run as an ordinary user: root writes into read-only folders, so a root test process drops to nobody
 * (only this forked test process changes its identity). */
static int dropped_ok = 1;
static void setup_unprivileged(void) {
    dir[0] = '\0';
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) {
        dropped_ok = 0;
        return;
    }
    snprintf(dir, sizeof dir, "/tmp/nncl_st_XXXXXX");
    if (!mkdtemp(dir)) {
        dir[0] = '\0';
        dropped_ok = 0;
    }
}
TestSuite(st_unprivileged, .init = setup_unprivileged, .fini = teardown);

Test(st_unprivileged, read_only_folder_keeps_the_old_file) {
    if (!dropped_ok) cr_skip_test("cannot run as an unprivileged user with a folder in /tmp");
    char path[512];
    tpath(path, sizeof path, "m.safetensors");
    write_sample(path);
    size_t n_before, n_after;
    unsigned char *before = read_bytes(path, &n_before);
    cr_assert_eq(chmod(dir, 0500), 0, "chmod: %s", strerror(errno));

    const float v[3] = {7, 8, 9};
    struct st_write_tensor t = {.name = "v", .ndim = 1, .shape = {3}, .data = v};
    ASSERT_ERROR(st_write(path, &t, 1, NULL, 0), NNCL_ERR_IO, path, "Permission denied", "writable");

    unsigned char *after = read_bytes(path, &n_after);
    cr_assert(n_before == n_after && memcmp(before, after, n_before) == 0, "the old file must be unchanged");
    cr_assert_eq(count_tmp_files(dir), 0, "no temporary file may be left behind");
    struct st_file f;
    tu_ok(st_read(path, &f), "the old file still reads");
    cr_assert_eq(f.n_tensors, 4);
    st_free(&f);
    free(before);
    free(after);
    cr_assert_eq(chmod(dir, 0700), 0);
}

/* ---- conversions ---- */

Test(safetensors, f16_and_bf16_are_exact) {
    /* F16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), 1023 * 2^-24 (largest subnormal), 2^-14
     * (smallest normal), +inf, -inf, NaN, -0 */
    const uint16_t h[10] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x7e00, 0x8000};
    const float h_ref[10] = {1.0f,    -2.0f,    65504.0f, 0x1p-24f, 0x1.ff8p-15f,
                             0x1p-14f, INFINITY, -INFINITY, NAN,      -0.0f};
    /* BF16: 1, -2, 65280, 2^-133 (a float subnormal), max 0x1.fep127, +inf, -inf, NaN, -0, 2^-126 */
    const uint16_t b[10] = {0x3f80, 0xc000, 0x477f, 0x0001, 0x7f7f, 0x7f80, 0xff80, 0x7fc0, 0x8000, 0x0080};
    const float b_ref[10] = {1.0f, -2.0f, 65280.0f, 0x1p-133f, 0x1.fep127f, INFINITY, -INFINITY, NAN, -0.0f, 0x1p-126f};
    unsigned char hb[20], bb[20];
    le_u16(hb, h, 10);
    le_u16(bb, b, 10);
    char path[512];
    tpath(path, sizeof path, "half.safetensors");
    const struct raw_tensor t[2] = {{"h", "F16", "10", hb, 20}, {"b", "BF16", "2,5", bb, 20}};
    write_tensors(path, t, 2);

    struct st_file f;
    tu_ok(st_read(path, &f), "st_read");
    float out[10];
    tu_ok(st_to_float(&f, st_find(&f, "h"), out, 10, 0), "F16");
    for (int i = 0; i < 10; i++) {
        if (isnan(h_ref[i])) cr_assert(isnan(out[i]), "F16 %04x: NaN expected, got %a", h[i], (double)out[i]);
        else cr_assert_eq(f_bits(out[i]), f_bits(h_ref[i]), "F16 %04x: %a expected, got %a", h[i], (double)h_ref[i],
                          (double)out[i]);
    }
    tu_ok(st_to_float(&f, st_find(&f, "b"), out, 10, 0), "BF16");
    for (int i = 0; i < 10; i++) {
        if (isnan(b_ref[i])) cr_assert(isnan(out[i]), "BF16 %04x: NaN expected", b[i]);
        else cr_assert_eq(f_bits(out[i]), f_bits(b_ref[i]), "BF16 %04x: %a expected, got %a", b[i], (double)b_ref[i],
                          (double)out[i]);
    }
    cr_assert_eq(f_bits(bits_f(0x00010000u)), f_bits(0x1p-133f));
    /* finite = 1: the first non-finite value is reported with its index */
    ASSERT_ERROR(st_to_float(&f, st_find(&f, "h"), out, 10, 1), NNCL_ERR_NUMERIC, path, "\"h\"", "element 6",
                 "infinity");
    ASSERT_ERROR(st_to_float(&f, st_find(&f, "b"), out, 10, 1), NNCL_ERR_NUMERIC, "\"b\"", "element 5",
                 "index [1, 0]");
    st_free(&f);
}

Test(safetensors, integer_and_f64_conversions) {
    const int64_t i64[3] = {-5, 0, INT64_C(1) << 40};
    const int8_t i8[4] = {-128, -1, 0, 127};
    const uint8_t u8[3] = {0, 200, 255};
    const unsigned char i32[8] = {0xfe, 0xff, 0xff, 0xff, 0x07, 0x00, 0x00, 0x00}; /* -2, 7 */
    const unsigned char i16[4] = {0x00, 0x80, 0x34, 0x12};                         /* -32768, 0x1234 */
    const unsigned char bl[3] = {0, 1, 1};
    const double f64[2] = {0.1, -1e300};
    unsigned char i64b[24], f64b[16];
    le_i64(i64b, i64, 3);
    uint64_t bits[2];
    memcpy(bits, f64, 16);
    put_u64(f64b, bits[0]);
    put_u64(f64b + 8, bits[1]);
    const struct raw_tensor t[7] = {{"i64", "I64", "3", i64b, 24}, {"i8", "I8", "4", i8, 4},
                                    {"u8", "U8", "3", u8, 3},      {"i32", "I32", "2", i32, 8},
                                    {"i16", "I16", "2", i16, 4},   {"bool", "BOOL", "3", bl, 3},
                                    {"f64", "F64", "2", f64b, 16}};
    char path[512];
    tpath(path, sizeof path, "ints.safetensors");
    write_tensors(path, t, 7);
    struct st_file f;
    tu_ok(st_read(path, &f), "st_read");
    int64_t iv[4];
    float fv[4];
    tu_ok(st_to_int64(&f, st_find(&f, "i64"), iv, 3), "I64");
    cr_assert(iv[0] == -5 && iv[1] == 0 && iv[2] == (INT64_C(1) << 40));
    tu_ok(st_to_int64(&f, st_find(&f, "i8"), iv, 4), "I8");
    cr_assert(iv[0] == -128 && iv[1] == -1 && iv[2] == 0 && iv[3] == 127);
    tu_ok(st_to_int64(&f, st_find(&f, "u8"), iv, 3), "U8");
    cr_assert(iv[0] == 0 && iv[1] == 200 && iv[2] == 255);
    tu_ok(st_to_int64(&f, st_find(&f, "i32"), iv, 2), "I32");
    cr_assert(iv[0] == -2 && iv[1] == 7);
    tu_ok(st_to_int64(&f, st_find(&f, "i16"), iv, 2), "I16");
    cr_assert(iv[0] == -32768 && iv[1] == 0x1234);
    tu_ok(st_to_float(&f, st_find(&f, "i8"), fv, 4, 1), "I8 to float");
    cr_assert(fv[0] == -128.0f && fv[3] == 127.0f);
    tu_ok(st_to_float(&f, st_find(&f, "bool"), fv, 3, 1), "BOOL to float");
    cr_assert(fv[0] == 0.0f && fv[1] == 1.0f && fv[2] == 1.0f);
    tu_ok(st_to_float(&f, st_find(&f, "f64"), fv, 2, 0), "F64 without the finite check");
    cr_assert(fv[0] == 0.1f && isinf(fv[1]) && fv[1] < 0);
    ASSERT_ERROR(st_to_float(&f, st_find(&f, "f64"), fv, 2, 1), NNCL_ERR_NUMERIC, "\"f64\"", "element 1",
                 "outside the float range");
    ASSERT_ERROR(st_to_int64(&f, st_find(&f, "f64"), iv, 2), NNCL_ERR_FORMAT, "\"f64\"", "F64", "integers");
    st_free(&f);
}

/* ---- malformed files ---- */

Test(safetensors, missing_file_and_folder) {
    char path[512];
    tpath(path, sizeof path, "absent.safetensors");
    ASSERT_READ_FAILS(path, NNCL_ERR_IO, "No such file or directory");
    ASSERT_READ_FAILS(dir, NNCL_ERR_IO, "not a regular file");
}

Test(safetensors, truncated_header_length) {
    char path[512];
    tpath(path, sizeof path, "short.safetensors");
    write_bytes(path, "\x10\x00\x00\x00\x00", 5);
    ASSERT_READ_FAILS(path, NNCL_ERR_FORMAT, "5 bytes", "too short for the 8-byte header length");
    write_bytes(path, "", 0);
    ASSERT_READ_FAILS(path, NNCL_ERR_FORMAT, "0 bytes");
}

Test(safetensors, header_length_beyond_the_file) {
    char path[512];
    tpath(path, sizeof path, "long.safetensors");
    write_raw_len(path, 4000, "{}", 2, NULL, 0);
    ASSERT_READ_FAILS(path, NNCL_ERR_FORMAT, "header length 4000 exceeds the file size 10");
    write_raw_len(path, UINT64_C(1) << 40, "{}", 2, NULL, 0);
    ASSERT_READ_FAILS(path, NNCL_ERR_FORMAT, "header length 1099511627776 exceeds the 100 MB limit");
    write_raw_len(path, UINT64_MAX, "{}", 2, NULL, 0);
    ASSERT_READ_FAILS(path, NNCL_ERR_FORMAT, "exceeds the 100 MB limit");
    write_raw_len(path, 1, "{}", 2, NULL, 0);
    ASSERT_READ_FAILS(path, NNCL_ERR_FORMAT, "header length 1 is too small");
}

/* Each header must fail with NNCL_ERR_FORMAT, naming the file and containing `needle`. */
struct bad_case {
    const char *header;
    size_t data_len;
    const char *needle;
};

static const struct bad_case bad_cases[] = {
    {"{\"x\": {\"dtype\": \"F32\",", 0, "not valid JSON"},
    {"{\"x\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}", 4, "not valid JSON"},
    {"{} x", 0, "unexpected bytes after the JSON header"},
    {"[1, 2, 3]", 0, "the header is not a JSON object"},
    {"\"hello\"", 0, "the header is not a JSON object"},
    {"{\"x\": 5}", 0, "tensor \"x\": entry is not a JSON object"},
    {"{\"x\": [0, 4]}", 4, "tensor \"x\": entry is not a JSON object"},
    {"{\"x\":{\"dtype\":\"F99\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor \"x\": dtype \"F99\" unknown"},
    {"{\"x\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "\"dtype\" is missing or not a string"},
    {"{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "\"dtype\" is missing"},
    {"{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "\"shape\" is missing"},
    {"{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "\"data_offsets\" is missing"},
    {"{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "\"data_offsets\" is missing"},
    {"{\"x\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,40]}}", 48,
     "tensor \"x\": shape [3, 4] needs 48 bytes but data_offsets give 40"},
    {"{\"x\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,8]}}", 8, "shape [] needs 4 bytes"},
    {"{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
     "tensor \"x\": data_offsets [0, 8] are out of range: the data section holds 4 bytes"},
    {"{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "end before they begin"},
    {"{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8, "data_offsets begin is -4"},
    {"{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", 8, "data_offsets end is not a number"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
     12, "data_offsets of \"a\" and \"b\" overlap"},
    {"{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
     "\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
     16, "data_offsets of \"a\" and \"b\" overlap"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
     "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
     8, "tensor \"a\" appears twice"},
    {"{\"x\":{\"dtype\":\"F32\",\"shape\":[-3],\"data_offsets\":[0,0]}}", 0, "shape dimension 0 is -3"},
    {"{\"x\":{\"dtype\":\"F32\",\"shape\":[2, 2.5],\"data_offsets\":[0,20]}}", 20, "shape dimension 1 is 2.5, not an integer"},
    {"{\"x\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8, "shape dimension 0 is not a number"},
    {"{\"x\":{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,8]}}", 8, "larger than 2^53"},
    {"{\"x\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,2],\"data_offsets\":[0,8]}}", 8,
     "product of the shape overflows"},
    {"{\"x\":{\"dtype\":\"F64\",\"shape\":[4294967296,536870912],\"data_offsets\":[0,8]}}", 8,
     "needs more bytes than fit in 64 bits"},
    {"{\"x\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1, "more than 8 dimensions"},
    {"{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ entry \"k\" is not a string"},
    {"{\"__metadata__\":[\"k\"]}", 0, "\"__metadata__\" is not a JSON object"},
    {"{\"__metadata__\":{},\"__metadata__\":{}}", 0, "\"__metadata__\" appears twice"},
};

Test(safetensors, malformed_headers) {
    char path[512];
    tpath(path, sizeof path, "bad.safetensors");
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        write_raw(path, bad_cases[i].header, NULL, bad_cases[i].data_len);
        ASSERT_READ_FAILS(path, NNCL_ERR_FORMAT, bad_cases[i].needle);
    }
}

Test(safetensors, long_tensor_name) {
    char path[512], header[1024], name[301];
    memset(name, 'n', 300);
    name[300] = '\0';
    snprintf(header, sizeof header, "{\"%s\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", name);
    tpath(path, sizeof path, "name.safetensors");
    write_raw(path, header, NULL, 1);
    ASSERT_READ_FAILS(path, NNCL_ERR_FORMAT, "300 bytes long");
}

Test(safetensors, embedded_nul_in_header) {
    char path[512];
    tpath(path, sizeof path, "nul.safetensors");
    write_raw_len(path, 8, "{}\0\0    ", 8, NULL, 0);
    ASSERT_READ_FAILS(path, NNCL_ERR_FORMAT, "unexpected bytes");
}

/* Every truncation and many single-byte corruptions of a valid file: OK or a clean error, never a crash. */
Test(safetensors, corrupted_files_never_crash) {
    char good[512], bad[512];
    tpath(good, sizeof good, "good.safetensors");
    tpath(bad, sizeof bad, "bad.safetensors");
    write_sample(good);
    size_t n;
    unsigned char *bytes = read_bytes(good, &n);
    unsigned char *copy = malloc(n);
    cr_assert(copy);
    for (size_t len = 0; len < n; len++) {
        write_bytes(bad, bytes, len);
        struct st_file f;
        enum nncl_status st = st_read(bad, &f);
        cr_assert_eq(st, NNCL_ERR_FORMAT, "truncated to %zu: %s", len, nncl_status_string(st));
        cr_assert(strstr(nncl_last_error(), bad), "the message names the file: %s", nncl_last_error());
        st_free(&f);
    }
    static const unsigned char values[] = {0x00, 0x22, 0x2c, 0x5b, 0x5d, 0x7b, 0x7d, 0x2d, 0x39, 0xff};
    for (size_t pos = 0; pos < n - 72; pos++) {
        for (size_t k = 0; k < sizeof values; k++) {
            memcpy(copy, bytes, n);
            copy[pos] = values[k];
            write_bytes(bad, copy, n);
            struct st_file f;
            enum nncl_status st = st_read(bad, &f);
            cr_assert(st == NNCL_OK || st == NNCL_ERR_FORMAT, "byte %zu = %02x: %s: %s", pos, values[k],
                      nncl_status_string(st), nncl_last_error());
            if (st == NNCL_OK) {
                /* whatever parsed must be usable */
                for (size_t i = 0; i < f.n_tensors; i++) {
                    float *v = malloc(f.tensors[i].count * sizeof *v + 1);
                    cr_assert(v);
                    enum nncl_status cs = st_to_float(&f, &f.tensors[i], v, f.tensors[i].count, 0);
                    cr_assert_eq(cs, NNCL_OK, "%s", nncl_last_error());
                    free(v);
                }
            }
            st_free(&f);
        }
    }
    free(copy);
    free(bytes);
}

/* ---- the data loader ---- */

static const float x4x3[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static void write_xy(const char *path, const char *y_dtype, const char *y_shape, const void *y_bytes, size_t y_len) {
    unsigned char xb[48];
    le_floats(xb, x4x3, 12);
    const struct raw_tensor t[2] = {{"x", "F32", "4,3", xb, 48}, {"y", y_dtype, y_shape, y_bytes, y_len}};
    write_tensors(path, t, 2);
}

Test(st_data, integer_labels_become_one_hot) {
    char path[512];
    tpath(path, sizeof path, "cls.safetensors");
    const int64_t labels[4] = {2, 0, 1, 2};
    unsigned char yb[32];
    le_i64(yb, labels, 4);
    write_xy(path, "I64", "4", yb, 32);

    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 0, &ds), "load");
    cr_assert_eq(ds.n, 4);
    cr_assert_eq(ds.n_inputs, 3);
    cr_assert_eq(ds.n_outputs, 3);
    cr_assert_eq(ds.task, NNCL_TASK_CLASSIFICATION);
    cr_assert_eq(ds.n_classes, 3);
    cr_assert(ds.class_names == NULL);
    cr_assert_eq(ds.preprocess.n_columns, 0);
    cr_assert_str_eq(ds.source, path);
    for (size_t i = 0; i < 12; i++) cr_assert_eq(ds.x[i], x4x3[i], "x used as given, no standardisation");
    for (size_t r = 0; r < 4; r++) {
        for (size_t c = 0; c < 3; c++) {
            cr_assert_eq(ds.y[r * 3 + c], c == (size_t)labels[r] ? 1.0f : 0.0f, "y[%zu, %zu]", r, c);
        }
        cr_assert_eq(nncl_dataset_label(&ds, r), (size_t)labels[r]);
    }
    nncl_dataset_free(&ds);
    cr_assert(ds.x == NULL && ds.y == NULL && ds.n == 0);

    /* n_classes larger than the labels show */
    tu_ok(nncl_dataset_load_safetensors(path, NNCL_TASK_CLASSIFICATION, 10, &ds), "load with 10 classes");
    cr_assert_eq(ds.n_outputs, 10);
    cr_assert_eq(ds.n_classes, 10);
    cr_assert_eq(nncl_dataset_label(&ds, 0), 2);
    nncl_dataset_free(&ds);
}

Test(st_data, i32_labels_of_shape_n_by_1) {
    char path[512];
    tpath(path, sizeof path, "cls32.safetensors");
    const unsigned char yb[16] = {1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}; /* 1, 0, 1, 0 */
    write_xy(path, "I32", "4,1", yb, 16);
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 0, &ds), "load");
    cr_assert_eq(ds.task, NNCL_TASK_CLASSIFICATION);
    cr_assert_eq(ds.n_outputs, 2);
    cr_assert_eq(nncl_dataset_label(&ds, 0), 1);
    cr_assert_eq(nncl_dataset_label(&ds, 1), 0);
    nncl_dataset_free(&ds);
    /* the same labels for a binary task: one 0/1 column */
    tu_ok(nncl_dataset_load_safetensors(path, NNCL_TASK_BINARY, 0, &ds), "load binary");
    cr_assert_eq(ds.task, NNCL_TASK_BINARY);
    cr_assert_eq(ds.n_outputs, 1);
    cr_assert_eq(ds.n_classes, 2);
    cr_assert(ds.y[0] == 1.0f && ds.y[1] == 0.0f);
    cr_assert_eq(nncl_dataset_label(&ds, 2), 1);
    nncl_dataset_free(&ds);
}

Test(st_data, float_targets_are_regression) {
    char path[512];
    tpath(path, sizeof path, "reg.safetensors");
    const float y[8] = {0.5f, -1.0f, 2.0f, 3.5f, 1e-3f, 7.0f, -8.0f, 9.0f};
    unsigned char yb[32];
    le_floats(yb, y, 8);
    write_xy(path, "F32", "4,2", yb, 32);
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 0, &ds), "load");
    cr_assert_eq(ds.task, NNCL_TASK_REGRESSION);
    cr_assert_eq(ds.n_outputs, 2);
    cr_assert_eq(ds.n_classes, 0);
    for (size_t i = 0; i < 8; i++) cr_assert_eq(ds.y[i], y[i], "y used as given");
    nncl_dataset_free(&ds);
    /* a binary task needs one 0/1 column */
    ASSERT_ERROR(nncl_dataset_load_safetensors(path, NNCL_TASK_BINARY, 0, &ds), NNCL_ERR_FORMAT, path,
                 "2 columns", "binary");
    cr_assert(ds.x == NULL && ds.y == NULL, "out is empty after a failure");
}

Test(st_data, float_binary_targets) {
    char path[512];
    tpath(path, sizeof path, "bin.safetensors");
    const float y[4] = {0, 1, 1, 0};
    unsigned char yb[16];
    le_floats(yb, y, 4);
    write_xy(path, "F32", "4,1", yb, 16);
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_safetensors(path, NNCL_TASK_BINARY, 0, &ds), "load");
    cr_assert_eq(ds.task, NNCL_TASK_BINARY);
    cr_assert_eq(ds.n_classes, 2);
    cr_assert_eq(nncl_dataset_label(&ds, 1), 1);
    cr_assert_eq(nncl_dataset_label(&ds, 3), 0);
    nncl_dataset_free(&ds);

    const float y2[4] = {0, 1, 2, 0};
    le_floats(yb, y2, 4);
    write_xy(path, "F32", "4,1", yb, 16);
    ASSERT_ERROR(nncl_dataset_load_safetensors(path, NNCL_TASK_BINARY, 0, &ds), NNCL_ERR_FORMAT, path, "y[2] is 2");
}

Test(st_data, nan_in_x_is_numeric_error) {
    char path[512];
    tpath(path, sizeof path, "nan.safetensors");
    float x[12];
    memcpy(x, x4x3, sizeof x);
    x[7] = NAN;
    unsigned char xb[48], yb[32];
    le_floats(xb, x, 12);
    const int64_t labels[4] = {0, 1, 0, 1};
    le_i64(yb, labels, 4);
    const struct raw_tensor t[2] = {{"x", "F32", "4,3", xb, 48}, {"y", "I64", "4", yb, 32}};
    write_tensors(path, t, 2);
    struct nncl_dataset ds;
    ASSERT_ERROR(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 0, &ds), NNCL_ERR_NUMERIC, path,
                 "tensor \"x\"", "element 7 (index [2, 1]) is NaN");
    cr_assert(ds.x == NULL && ds.y == NULL && ds.n == 0, "out is empty after a failure");
}

Test(st_data, inf_in_y_is_numeric_error) {
    char path[512];
    tpath(path, sizeof path, "inf.safetensors");
    const float y[4] = {0, 1, INFINITY, 0};
    unsigned char yb[16];
    le_floats(yb, y, 4);
    write_xy(path, "F32", "4,1", yb, 16);
    struct nncl_dataset ds;
    ASSERT_ERROR(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 0, &ds), NNCL_ERR_NUMERIC, path,
                 "tensor \"y\"", "element 2", "infinity");
}

Test(st_data, row_count_mismatch) {
    char path[512];
    tpath(path, sizeof path, "mismatch.safetensors");
    const int64_t labels[3] = {0, 1, 0};
    unsigned char yb[24];
    le_i64(yb, labels, 3);
    write_xy(path, "I64", "3", yb, 24);
    struct nncl_dataset ds;
    ASSERT_ERROR(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 0, &ds), NNCL_ERR_FORMAT, path,
                 "\"x\" has 4 rows but \"y\" has 3");
}

Test(st_data, missing_tensors_and_wrong_rank) {
    char path[512];
    tpath(path, sizeof path, "missing.safetensors");
    unsigned char xb[48];
    le_floats(xb, x4x3, 12);
    const struct raw_tensor only_x[1] = {{"x", "F32", "4,3", xb, 48}};
    write_tensors(path, only_x, 1);
    struct nncl_dataset ds;
    ASSERT_ERROR(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 0, &ds), NNCL_ERR_FORMAT, path,
                 "no tensor \"y\"", "holds tensors \"x\"");

    const struct raw_tensor only_inputs[1] = {{"inputs", "F32", "4,3", xb, 48}};
    write_tensors(path, only_inputs, 1);
    ASSERT_ERROR(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 0, &ds), NNCL_ERR_FORMAT, path,
                 "no tensor \"x\"", "\"inputs\"");

    const struct raw_tensor flat_x[2] = {{"x", "F32", "12", xb, 48}, {"y", "F32", "12", xb, 48}};
    write_tensors(path, flat_x, 2);
    ASSERT_ERROR(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 0, &ds), NNCL_ERR_FORMAT, path,
                 "tensor \"x\" has 1 dimensions");

    const struct raw_tensor flat_y[2] = {{"x", "F32", "4,3", xb, 48}, {"y", "F32", "2,2,3", xb, 48}};
    write_tensors(path, flat_y, 2);
    ASSERT_ERROR(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 0, &ds), NNCL_ERR_FORMAT, path,
                 "tensor \"y\" (F32) has 3 dimensions");

    const unsigned char u8x[12] = {0};
    const struct raw_tensor int_x[2] = {{"x", "U8", "4,3", u8x, 12}, {"y", "F32", "4,3", xb, 48}};
    write_tensors(path, int_x, 2);
    ASSERT_ERROR(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 0, &ds), NNCL_ERR_FORMAT, path,
                 "tensor \"x\" has dtype U8");

    ASSERT_ERROR(nncl_dataset_load_safetensors(dir, NNCL_TASK_AUTO, 0, &ds), NNCL_ERR_IO, dir);
    cr_assert(ds.x == NULL && ds.n == 0);
}

Test(st_data, negative_and_single_class_labels) {
    char path[512];
    tpath(path, sizeof path, "neg.safetensors");
    const int64_t labels[4] = {0, -1, 2, 1};
    unsigned char yb[32];
    le_i64(yb, labels, 4);
    write_xy(path, "I64", "4", yb, 32);
    struct nncl_dataset ds;
    ASSERT_ERROR(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 0, &ds), NNCL_ERR_FORMAT, path,
                 "label y[1] is -1", ">= 0");

    const int64_t zeros[4] = {0, 0, 0, 0};
    le_i64(yb, zeros, 4);
    write_xy(path, "I64", "4", yb, 32);
    ASSERT_ERROR(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 0, &ds), NNCL_ERR_FORMAT, path,
                 "at least 2 classes");
    tu_ok(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 2, &ds), "one class seen, two declared");
    cr_assert_eq(ds.n_outputs, 2);
    nncl_dataset_free(&ds);

    const int64_t huge[4] = {0, 1, INT64_C(1) << 50, 1};
    le_i64(yb, huge, 4);
    write_xy(path, "I64", "4", yb, 32);
    ASSERT_ERROR(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 0, &ds), NNCL_ERR_FORMAT, path, "label y[2]");
}

Test(st_data, f16_inputs_and_free_is_null_safe) {
    char path[512];
    tpath(path, sizeof path, "half.safetensors");
    const uint16_t h[4] = {0x3c00, 0xc000, 0x3800, 0x0000}; /* 1, -2, 0.5, 0 */
    unsigned char hb[8], yb[16];
    le_u16(hb, h, 4);
    const int64_t labels[2] = {1, 0};
    le_i64(yb, labels, 2);
    const struct raw_tensor t[2] = {{"x", "F16", "2,2", hb, 8}, {"y", "I64", "2,1", yb, 16}};
    write_tensors(path, t, 2);
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 0, &ds), "load");
    cr_assert(ds.x[0] == 1.0f && ds.x[1] == -2.0f && ds.x[2] == 0.5f && ds.x[3] == 0.0f);
    nncl_dataset_free(&ds);
    nncl_dataset_free(&ds);
    nncl_dataset_free(NULL);
    nncl_preprocess_free(NULL);
}
