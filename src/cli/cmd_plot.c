/*
 * cmd_plot.c: `nncl plot METRICS.csv [--out FILE.png|.svg]`: the loss curves of a `nncl train --metrics`
 * run, drawn by gnuplot (Debian's gnuplot-nox): training and validation loss, accuracy, and the learning
 * rate per epoch, one panel each; a panel whose columns hold no number (regression: no accuracy; no
 * validation split) is left out, since gnuplot refuses to plot a column with no defined point.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "runs.h"

static const char *const CMD = "plot";

enum { C_EPOCH, C_TRAIN_LOSS, C_TRAIN_ERR, C_VAL_LOSS, C_VAL_ERR, C_LR, C_COUNT };
static const char *const column_names[C_COUNT] = {"epoch", "train_loss", "train_error", "val_loss", "val_error", "lr"};

static void help(void) {
    printf("usage: nncl plot METRICS.csv [--out FILE.png|FILE.svg] [--title TEXT]\n"
           "  draws training and validation loss, accuracy and the learning rate per epoch of a\n"
           "  `nncl train --metrics` file with gnuplot (default --out: METRICS.csv.png)\n");
}

/* The 1-based column of each name in the header, 0 when absent; and whether any row has a number there. */
static int scan(const char *path, int col[C_COUNT], int has[C_COUNT], size_t *rows) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "nncl plot: %s: cannot open it\n", path);
        return CLI_FAIL;
    }
    char line[2048];
    memset(col, 0, C_COUNT * sizeof *col);
    memset(has, 0, C_COUNT * sizeof *has);
    *rows = 0;
    if (!fgets(line, sizeof line, f)) line[0] = '\0';
    int k = 1;
    for (char *save = NULL, *tok = strtok_r(line, ",\r\n", &save); tok; tok = strtok_r(NULL, ",\r\n", &save), k++) {
        for (int c = 0; c < C_COUNT; c++) {
            if (strcmp(tok, column_names[c]) == 0) col[c] = k;
        }
    }
    if (!col[C_EPOCH] || !col[C_TRAIN_LOSS]) {
        fclose(f);
        fprintf(stderr, "nncl plot: %s: not a metrics file (its header needs epoch and train_loss; write one "
                        "with nncl train --metrics FILE)\n", path);
        return CLI_FAIL;
    }
    while (fgets(line, sizeof line, f)) {
        (*rows)++;
        k = 1;
        for (char *p = line, *end; *p && *p != '\n'; k++) {
            const double v = strtod(p, &end);
            for (int c = 0; c < C_COUNT; c++) {
                if (col[c] == k && end != p && isfinite(v)) has[c] = 1;
            }
            p = strchr(p, ',');
            if (!p) break;
            p++;
        }
    }
    fclose(f);
    if (*rows == 0) {
        fprintf(stderr, "nncl plot: %s has no epochs yet\n", path);
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* A gnuplot string literal (single quotes; a quote is doubled). */
static void put_quoted(FILE *g, const char *s) {
    fputc('\'', g);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', g);
        fputc(*s, g);
    }
    fputc('\'', g);
}

int cmd_plot(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *title = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help();
            return CLI_OK;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--title") == 0 && i + 1 < argc) {
            title = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error(CMD, "unknown or incomplete option \"%s\"", argv[i]);
        } else if (!in) {
            in = argv[i];
        } else {
            return cli_usage_error(CMD, "unexpected argument \"%s\"", argv[i]);
        }
    }
    if (!in) return cli_usage_error(CMD, "which metrics file? nncl plot METRICS.csv [--out FILE.png]");
    char out_default[4096];
    if (!out) snprintf(out_default, sizeof out_default, "%s.png", in), out = out_default;
    const size_t len = strlen(out);
    const int svg = len > 4 && strcmp(out + len - 4, ".svg") == 0;
    if (!svg && !(len > 4 && strcmp(out + len - 4, ".png") == 0)) {
        return cli_usage_error(CMD, "--out %s: the name must end in .png or .svg", out);
    }
    int rc = cli_check_writable(CMD, "--out", out);
    if (rc) return rc;
    int col[C_COUNT], has[C_COUNT];
    size_t rows;
    if ((rc = scan(in, col, has, &rows))) return rc;
    const int acc = has[C_TRAIN_ERR] || has[C_VAL_ERR], lr = has[C_LR];
    const int panels = 1 + acc + lr;
    FILE *g = popen("gnuplot 2>&1", "w");
    if (!g) {
        fprintf(stderr, "nncl plot: cannot start gnuplot; install it (Debian: apt-get install gnuplot-nox)\n");
        return CLI_FAIL;
    }
    const int height = 300 + 260 * (panels - 1);
    if (svg) fprintf(g, "set terminal svg size 900,%d dynamic enhanced font 'Sans,12' background '#ffffff'\n", height);
    else fprintf(g, "set terminal pngcairo size 900,%d enhanced font 'Sans,11' background '#ffffff'\n", height);
    fputs("set output ", g);
    put_quoted(g, out);
    fputs("\nset datafile separator ','\nset datafile missing 'nan'\nset key top right box opaque\n"
          "set grid lc rgb '#dddddd'\nset border lc rgb '#555555'\nset tics nomirror\n"
          "set style line 1 lc rgb '#1f77b4' lw 2 pt 7 ps 0.5\nset style line 2 lc rgb '#d62728' lw 2 pt 5 ps 0.5\n"
          "set style line 3 lc rgb '#2ca02c' lw 2 pt 9 ps 0.5\nset xlabel 'epoch'\n", g);
    if (rows < 2) fputs("set offsets 0.5, 0.5, 0, 0\n", g);
    fprintf(g, "set multiplot layout %d,1 title ", panels);
    put_quoted(g, title ? title : in);
    fputs(" font ',13'\n", g);
    fputs("set title 'loss'\nset ylabel 'loss (mean per example)'\n", g);
    fprintf(g, "plot ");
    put_quoted(g, in);
    fprintf(g, " using %d:%d with linespoints ls 1 title 'training'", col[C_EPOCH], col[C_TRAIN_LOSS]);
    if (has[C_VAL_LOSS]) fprintf(g, ", '' using %d:%d with linespoints ls 2 title 'validation'", col[C_EPOCH],
                                 col[C_VAL_LOSS]);
    fputc('\n', g);
    if (acc) {
        fputs("set key bottom right\nset title 'accuracy'\nset ylabel 'accuracy (%)'\nplot ", g);
        put_quoted(g, in);
        const char *sep = "";
        if (has[C_TRAIN_ERR]) {
            fprintf(g, " using %d:(100*(1-$%d)) with linespoints ls 1 title 'training'", col[C_EPOCH],
                    col[C_TRAIN_ERR]);
            sep = ", ''";
        }
        if (has[C_VAL_ERR]) fprintf(g, "%s using %d:(100*(1-$%d)) with linespoints ls 2 title 'validation'",
                                    sep, col[C_EPOCH], col[C_VAL_ERR]);
        fputc('\n', g);
    }
    if (lr) {
        fputs("set title 'learning rate'\nset ylabel 'rate'\nset format y '%g'\nplot ", g);
        put_quoted(g, in);
        fprintf(g, " using %d:%d with steps ls 3 title 'lr'\n", col[C_EPOCH], col[C_LR]);
    }
    fputs("unset multiplot\nset output\n", g);
    const int status = pclose(g);
    if (status != 0) {
        fprintf(stderr, "nncl plot: gnuplot failed (status %d); is it installed? (Debian: apt-get install "
                        "gnuplot-nox)\n", status);
        return CLI_FAIL;
    }
    fprintf(stderr, "nncl plot: %zu epochs drawn to %s\n", rows, out);
    return CLI_OK;
}
