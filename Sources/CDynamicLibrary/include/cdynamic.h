/* Libraries loaded with dlopen when first needed, never linked, so that the
 * binary starts where they are missing (libsystemd, libauparse,
 * libarchive). One loader for all of them: each shim lists its functions
 * once (an X-macro) and reaches them through typed rw_ pointers. */
#ifndef CDYNAMIC_H
#define CDYNAMIC_H

#include <stddef.h>

struct rw_symbol {
	const char *name;
	void **slot;
};

/* X-macro entry: the file's typed pointer to fn, rw_fn. */
#define RW_DECLARE(fn) static __typeof__(&fn) rw_##fn;

/* X-macro entry: { "fn", &rw_fn }. */
#define RW_SYMBOL(fn) { #fn, (void **)&rw_##fn },

/* Loads `soname` and every symbol into its slot, once: `*state` (0 at
 * first) keeps the outcome for later calls. 0, or -ENOENT (no such
 * library), -ENOSYS (a library without one of the symbols). */
int rw_dlopen_symbols(const char *soname, const struct rw_symbol *symbols, size_t count, int *state);

/* The same, for a file's array of symbols. */
#define RW_DLOPEN(soname, symbols, state) \
	rw_dlopen_symbols((soname), (symbols), sizeof(symbols) / sizeof((symbols)[0]), (state))

#endif
