/*
 * nncl_data.h: data sets in host memory, and the loaders that fill them (IDX, CSV, safetensors).
 *
 * A data set is N examples as two row-major float32 matrices: inputs x (N x n_inputs) and targets
 * y (N x n_outputs). Classes are one-hot rows of y (or a single 0/1 column for a binary task); a
 * regression target is a value per output. Loaders never crash on bad input: they return
 * NNCL_ERR_IO or NNCL_ERR_FORMAT (or NNCL_ERR_NUMERIC for NaN and infinities) with a message that names
 * the file and the line, column or byte offset, and what was expected (nncl_last_error()).
 */
#ifndef NNCL_DATA_H
#define NNCL_DATA_H

#include <stddef.h>

#include "nncl_status.h"

#ifdef __cplusplus
extern "C" {
#endif

enum nncl_task {
    NNCL_TASK_AUTO = 0,       /* loaders: infer from the target */
    NNCL_TASK_REGRESSION,     /* y holds values: identity head + mean squared error */
    NNCL_TASK_BINARY,         /* y is one 0/1 column: sigmoid head + binary cross-entropy */
    NNCL_TASK_CLASSIFICATION, /* y is one-hot over n_outputs >= 2 classes: softmax + cross-entropy */
};

/* How one raw CSV column becomes input features. */
struct nncl_column {
    char name[64];
    int categorical;   /* 0: numeric, standardised as (v - mean) / std; 1: one-hot over categories */
    double mean, std;  /* numeric: statistics of the training data (std 1 when the column is constant) */
    size_t n_categories;
    char **categories; /* categorical: the values seen in the training data, sorted; owned */
};

/*
 * The transform from raw CSV columns to x and y, taken from the training data and stored in the model
 * file, so that prediction applies exactly the same one. Empty (n_columns = 0) for IDX and safetensors
 * data, which are used as given (IDX pixels are scaled to [0, 1]).
 */
struct nncl_preprocess {
    size_t n_columns;              /* input columns in file order */
    struct nncl_column *columns;   /* owned */
    char target[64];               /* the target column's name ("" when none) */
    double target_mean, target_std; /* CSV regression targets are standardised: y' = (y - target_mean) / target_std
                                       is what the model learns and outputs; 0 and 1 when they are raw */
};

struct nncl_dataset {
    size_t n;         /* examples */
    size_t n_inputs;  /* columns of x */
    size_t n_outputs; /* columns of y */
    float *x;         /* n x n_inputs, owned */
    float *y;         /* n x n_outputs, owned; NULL when the data has no targets (prediction input) */
    enum nncl_task task;
    size_t n_classes;     /* NNCL_TASK_BINARY: 2; NNCL_TASK_CLASSIFICATION: n_outputs; else 0 */
    char **class_names;   /* n_classes names (owned), or NULL when the labels are plain indices */
    struct nncl_preprocess preprocess;
    char source[256];     /* the file(s) it came from, for messages */
    char delimiter;       /* CSV: the field separator read (given, or detected from the header line); 0 otherwise */
};

/** Frees everything the data set owns and zeroes it. NULL-safe. */
NNCL_API void nncl_dataset_free(struct nncl_dataset *ds);
NNCL_API void nncl_preprocess_free(struct nncl_preprocess *pp);

/**
 * IDX files as MNIST and Fashion-MNIST ship them, plain or gzip-compressed (detected by content):
 * images (magic 0x00000803, N x rows x cols unsigned bytes) scaled to [0, 1], and labels (magic
 * 0x00000801, N bytes) one-hot over 10 classes. The counts must agree. `labels_path` NULL loads the
 * images alone (y NULL, 10 outputs): prediction input.
 */
NNCL_API enum nncl_status nncl_dataset_load_idx(const char *images_path, const char *labels_path, struct nncl_dataset *out);

/**
 * Fashion-MNIST from a folder holding {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]; `dir` NULL
 * means the Debian package's /usr/share/datasets/fashion-mnist. `split` is "train" or "test". When the
 * files are missing the message says to install the package dataset-fashion-mnist. Class names are
 * Fashion-MNIST's ("T-shirt/top", "Trouser", ...).
 */
NNCL_API enum nncl_status nncl_dataset_load_fashion_mnist(const char *dir, const char *split, struct nncl_dataset *out);

struct nncl_csv_options {
    const char *target;       /* the target column's name; NULL: the last column */
    enum nncl_task task;      /* NNCL_TASK_AUTO infers: a non-numeric target is a class label (2 classes:
                                 binary, more: classification), a numeric one is regression */
    const struct nncl_preprocess *apply; /* NULL: compute the transform from this file (training data);
                                 else apply this one (from a model file) and refuse unknown columns or
                                 categories with a message */
    int require_target;       /* 0: a file without the target column loads with y = NULL (prediction) */
    const char *const *class_names; /* with `apply`: the model's class names, so labels map the same way */
    size_t n_class_names;
    const char *ignore;       /* training data: comma-separated columns that are not inputs (an id, or a
                                 second target such as the Income table's income next to income_class) */
    int standardize_targets;  /* training data: 1 standardises a regression target and records its mean and std
                                 in the preprocess transform (what nncl train does by default); 0 keeps the
                                 values as given */
    char delimiter;           /* the field separator; 0 detects it from the header line: ',' when the header
                                 holds a comma (outside quotes) or no separator at all, else ';' or a tab,
                                 whichever it holds more of. The chosen one is in nncl_dataset.delimiter */
};

/**
 * A CSV file with a header row; comma-separated (or `delimiter`: ';', a tab, ...; detected from the header
 * when not given), optional double quotes around fields, blank lines ignored. Numeric columns are standardised; non-numeric columns are one-hot encoded. A regression target
 * is standardised too with `standardize_targets` (y holds (value - target_mean) / target_std, see the preprocess). Every row must
 * have as many fields as the header; an empty or non-numeric value in a numeric column, NaN and infinity
 * are errors that name the file, line and column.
 */
NNCL_API enum nncl_status nncl_dataset_load_csv(const char *path, const struct nncl_csv_options *opts, struct nncl_dataset *out);

/**
 * A safetensors file holding `x` (N x n_inputs, F32) and `y`: (N x n_outputs, F32) targets, used as
 * given (task from `task`, AUTO meaning regression), or N labels (I64 or I32, shape (N) or (N, 1)),
 * one-hot encoded over max(label) + 1 classes (or `n_classes` when it is larger), task classification.
 * No standardisation is applied, so results compare number for number with another framework.
 */
NNCL_API enum nncl_status nncl_dataset_load_safetensors(const char *path, enum nncl_task task, size_t n_classes,
                                               struct nncl_dataset *out);

/** As nncl_dataset_load_safetensors, but a file without `y` loads its inputs alone (y NULL): prediction input. */
NNCL_API enum nncl_status nncl_dataset_load_safetensors_inputs(const char *path, enum nncl_task task, size_t n_classes,
                                                      struct nncl_dataset *out);

/** Index of the largest value of a row of y (the class), or, for one column, y >= 0.5. */
NNCL_API size_t nncl_dataset_label(const struct nncl_dataset *ds, size_t row);

#ifdef __cplusplus
}
#endif

#endif /* NNCL_DATA_H */
