/*
 * preprocess_json.h: the CSV transform (struct nncl_preprocess) as JSON text, so a model file can carry
 * it and prediction applies exactly the transform the model was trained with; its invariants; a deep
 * copy. Internal.
 *
 * The text is one object:
 *   {"columns": [{"name": "age", "kind": "numeric", "mean": 37, "std": 12.2},
 *                {"name": "major", "kind": "categorical", "categories": ["Art", "Engineer"]}],
 *    "target": "income_class", "target_mean": 0, "target_std": 1}
 * Numbers are written with enough digits to read back bit for bit.
 */
#ifndef NNCL_PREPROCESS_JSON_H
#define NNCL_PREPROCESS_JSON_H

#include "nncl/nncl_data.h"

/**
 * @param pp a valid transform (see nncl_preprocess_check); n_columns 0 gives an empty column list
 * @return malloc'ed NUL-terminated JSON (free() it), or NULL with nncl_last_error() set
 *         (NNCL_ERR_INVALID_ARG for an invalid transform, NNCL_ERR_OOM)
 */
char *nncl_preprocess_to_json(const struct nncl_preprocess *pp);

/* Adds `value` under `key` with 17 significant digits, which read back to the same double (cJSON's own
 * number printing keeps 15); a non-finite value becomes null. 0 when out of memory. */
struct cJSON;
int nncl_json_add_double(struct cJSON *obj, const char *key, double value);

/**
 * Parses and validates text written by nncl_preprocess_to_json.
 * @param json   NUL-terminated text
 * @param source what the text came from (a model file's path), named in every message; NULL: "preprocess JSON"
 * @param out    filled on success (free with nncl_preprocess_free); zeroed on failure
 * @return NNCL_OK, NNCL_ERR_FORMAT naming `source` and the offending field, NNCL_ERR_OOM or NNCL_ERR_INVALID_ARG
 */
enum nncl_status nncl_preprocess_from_json(const char *json, const char *source, struct nncl_preprocess *out);

/**
 * Checks a transform's invariants: column names non-empty, NUL-terminated and unique, and different from
 * the target; numeric columns with a finite mean and a finite std > 0; categorical columns with at least
 * one category, all non-empty and strictly sorted by strcmp (the CSV loader looks them up by bisection).
 * @return NNCL_OK, or `status` with a message that starts with `source`
 */
enum nncl_status nncl_preprocess_check(const struct nncl_preprocess *pp, const char *source, enum nncl_status status);

/**
 * A deep copy of `src` into `dst` (free it with nncl_preprocess_free, also after a failure: what was
 * copied by then is owned by `dst`). For the model and the CSV loader, which each keep their own.
 * @return NNCL_OK or NNCL_ERR_OOM
 */
enum nncl_status nncl_preprocess_copy(const struct nncl_preprocess *src, struct nncl_preprocess *dst);

#endif /* NNCL_PREPROCESS_JSON_H */
