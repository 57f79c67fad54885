/*
 * atomic_file.c: nncl_atomic_replace (see atomic_file.h).
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fsync, fileno, fdopen, fchmod, O_DIRECTORY in ISO C mode */

#include "util/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "status_impl.h"

/* fsync of the folder holding `path`, so the rename is on disk too. Best effort: some file systems refuse
 * fsync on a folder (EINVAL), and by now the new file is in place, so a failure here is not an error. */
static void sync_folder(const char *path) {
    const char *slash = strrchr(path, '/');
    char dir[1024];
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    const int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return;
    (void)fsync(fd);
    close(fd);
}

enum nncl_status nncl_atomic_replace(const char *path, const char *who, nncl_write_fn write, const void *user) {
    if (!who) who = "";
    const size_t path_len = strlen(path);
    char *tmp = malloc(path_len + sizeof ".tmp.XXXXXX");
    if (!tmp) return nncl_set_error(NNCL_ERR_OOM, "%scannot write \"%s\": out of memory", who, path);
    memcpy(tmp, path, path_len);
    memcpy(tmp + path_len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");

    enum nncl_status st = NNCL_OK;
    const int fd = mkstemp(tmp);
    if (fd < 0) {
        st = nncl_set_error(NNCL_ERR_IO,
                            "%scannot write \"%s\": creating a temporary file next to it failed: %s (check that the "
                            "folder exists and is writable)",
                            who, path, strerror(errno));
        free(tmp);
        return st;
    }
    /* mkstemp makes the file 0600. A new file gets 0644 like other outputs (the umask cannot be read without
     * changing it, which is not thread-safe). A failure here (a file system without modes) leaves a correct
     * file: not an error. */
    struct stat old;
    mode_t mode = S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH;
    if (stat(path, &old) == 0 && S_ISREG(old.st_mode)) mode = old.st_mode & 0777;
    (void)fchmod(fd, mode);
    FILE *fp = fdopen(fd, "wb");
    if (!fp) {
        st = nncl_set_error(NNCL_ERR_IO, "%scannot write \"%s\": fdopen of the temporary file failed: %s", who, path,
                            strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return st;
    }
    int ok = write(fp, user);
    if (ok && fflush(fp) != 0) ok = 0;
    if (ok && fsync(fileno(fp)) != 0) ok = 0;
    int saved = errno;
    if (fclose(fp) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        st = nncl_set_error(NNCL_ERR_IO, "%scannot write \"%s\": writing the temporary file \"%s\" failed: %s (disk "
                            "full?); the previous file is unchanged",
                            who, path, tmp, strerror(saved));
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        st = nncl_set_error(NNCL_ERR_IO, "%scannot write \"%s\": renaming the temporary file onto it failed: %s; the "
                            "previous file is unchanged",
                            who, path, strerror(errno));
        unlink(tmp);
    } else {
        sync_folder(path);
    }
    free(tmp);
    return st;
}
