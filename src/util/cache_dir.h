/*
 * cache_dir.h: nncl's directory in the user's cache, shared by everything nncl remembers between runs
 * (the CLBlast guard's "verified" marks, `nncl tune`'s parameters), so they move together with
 * XDG_CACHE_HOME. Internal.
 */
#ifndef NNCL_CACHE_DIR_H
#define NNCL_CACHE_DIR_H

#include <stddef.h>

#include "nncl/nncl_status.h"

/* $XDG_CACHE_HOME/nncl, else $HOME/.cache/nncl, else /tmp/nncl-cache; with "/sub" appended when `sub`
 * is not NULL. */
void nncl_cache_dir(const char *sub, char *out, size_t cap);

/* mkdir -p `dir`. NNCL_ERR_IO naming the directory and the hint to set XDG_CACHE_HOME. */
enum nncl_status nncl_make_dirs(const char *dir);

#endif /* NNCL_CACHE_DIR_H */
