/*
 * nncl_export.h: NNCL_API, the mark on every function libnncl exports.
 *
 * The library is built with -fvisibility=hidden, so a symbol is public only when its declaration in
 * include/nncl/ carries NNCL_API: `nm -D --defined-only libnncl.so` lists exactly the nncl_ API, and the
 * internals the command, the tests and the benchmarks use reach them through the internal static library.
 */
#ifndef NNCL_EXPORT_H
#define NNCL_EXPORT_H

#if defined(_WIN32) && defined(NNCL_BUILDING_LIBRARY)
#define NNCL_API __declspec(dllexport)
#elif defined(_WIN32)
#define NNCL_API __declspec(dllimport)
#elif defined(__GNUC__) || defined(__clang__)
#define NNCL_API __attribute__((visibility("default")))
#else
#define NNCL_API
#endif

#endif /* NNCL_EXPORT_H */
