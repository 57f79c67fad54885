/*
 * cache_dir.c: nncl's directory in the user's cache (see cache_dir.h).
 */
#define _POSIX_C_SOURCE 200809L /* mkdir in ISO C mode */

#include "util/cache_dir.h"

#include "status_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void nncl_cache_dir(const char *sub, char *out, size_t cap) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    const char *slash = sub ? "/" : "", *tail = sub ? sub : "";
    if (xdg && *xdg) snprintf(out, cap, "%s/nncl%s%s", xdg, slash, tail);
    else if (home && *home) snprintf(out, cap, "%s/.cache/nncl%s%s", home, slash, tail);
    else snprintf(out, cap, "/tmp/nncl-cache%s%s", slash, tail);
}

enum nncl_status nncl_make_dirs(const char *dir) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s/", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            return nncl_set_error(NNCL_ERR_IO, "cannot create directory %s: %s; set XDG_CACHE_HOME to a writable "
                                  "directory", buf, strerror(errno));
        }
        *p = '/';
    }
    return NNCL_OK;
}
