#define _GNU_SOURCE
#include "libsystemd.h"
#include "cdynamic.h"

#define RW_DEFINE(fn) __typeof__(&fn) rw_##fn;
RW_LIBSYSTEMD_FUNCTIONS(RW_DEFINE)

static const struct rw_symbol symbols[] = { RW_LIBSYSTEMD_FUNCTIONS(RW_SYMBOL) };

int rw_load_libsystemd(void)
{
	static int state;

	return RW_DLOPEN("libsystemd.so.0", symbols, &state);
}
