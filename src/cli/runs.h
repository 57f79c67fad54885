/*
 * runs.h: what `nncl train` needs for long runs, kept apart from the command's option handling: paths
 * checked for writability before any work, the metrics CSV continued on resume, the command line stored
 * in a checkpoint, and the progress line on a terminal.
 */
#ifndef NNCL_CLI_RUNS_H
#define NNCL_CLI_RUNS_H

#include <stdio.h>

#include "nncl/nncl_train.h"

/*
 * 0 when `path` can be written: its folder exists and is writable, and the file, if there, is writable.
 * Otherwise prints "nncl <cmd>: <option> <path>: <why>" and returns CLI_USAGE (exit 2).
 */
int cli_check_writable(const char *cmd, const char *option, const char *path);

/*
 * Keeps the header and the rows of epochs 1..epochs_done of a metrics CSV (rows a run wrote after its
 * last checkpoint go), rewritten atomically, and opens it for appending. NULL on failure (message printed).
 */
FILE *cli_metrics_continue(const char *cmd, const char *path, size_t epochs_done);

/* The arguments as a JSON array (malloc'd), leaving out `--resume FILE`; NULL when out of memory. */
char *cli_args_to_json(int argc, char **argv);
/* The arguments of a JSON array, malloc'd (each and the array; free with cli_args_free); -1 on a bad array. */
int cli_args_from_json(const char *json, char ***out);
void cli_args_free(char **args, int n);

/* The progress line: on a terminal, one line rewritten at most 10 times a second. */
struct cli_progress_line {
    int enabled;          /* stderr is a terminal and not --quiet */
    size_t epochs;        /* of the run */
    double t_run, t_epoch, t_last; /* the run's first step, this epoch's start, the last redraw */
    size_t epoch, steps_at_start;  /* the epoch being drawn; optimizer steps when the run started */
    int drawn;            /* a line is on screen */
};
void cli_progress_step(struct cli_progress_line *p, const struct nncl_step_report *r);
/* Clears the line (before a per-epoch line or a message). */
void cli_progress_clear(struct cli_progress_line *p);

/* `nncl plot`. */
int cmd_plot(int argc, char **argv);

#endif /* NNCL_CLI_RUNS_H */
