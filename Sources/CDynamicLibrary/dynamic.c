#define _GNU_SOURCE
#include "cdynamic.h"
#include <dlfcn.h>
#include <errno.h>

int rw_dlopen_symbols(const char *soname, const struct rw_symbol *symbols, size_t count, int *state)
{
	void *lib;

	if (*state) /* 1 loaded, negative errno: failed */
		return *state > 0 ? 0 : *state;
	lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return *state = -ENOENT;
	for (size_t i = 0; i < count; i++) {
		if (!(*symbols[i].slot = dlsym(lib, symbols[i].name)))
			return *state = -ENOSYS;
	}
	*state = 1;
	return 0;
}
