#define _GNU_SOURCE
#include "libsystemd.h"
#include <dlfcn.h>
#include <errno.h>

#define RW_DEFINE(fn) __typeof__(&fn) rw_##fn;
RW_LIBSYSTEMD_FUNCTIONS(RW_DEFINE)

int rw_load_libsystemd(void)
{
	static int state; /* 0 not tried, 1 loaded, negative errno: failed */
	void *lib;

	if (state)
		return state > 0 ? 0 : state;
	lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return state = -ENOENT;
#define RW_LOAD(fn) if (!(rw_##fn = dlsym(lib, #fn))) return state = -ENOSYS;
	RW_LIBSYSTEMD_FUNCTIONS(RW_LOAD)
	state = 1;
	return 0;
}
