#define _GNU_SOURCE
#include "libsystemd.h"
#include "cdynamic.h"
#include <stdio.h>

#define RW_DEFINE(fn) __typeof__(&fn) rw_##fn;
RW_LIBSYSTEMD_FUNCTIONS(RW_DEFINE)

static const struct rw_symbol symbols[] = { RW_LIBSYSTEMD_FUNCTIONS(RW_SYMBOL) };

int rw_load_libsystemd(void)
{
	static int state;

	return RW_DLOPEN("libsystemd.so.0", symbols, &state);
}

int rw_require_libsystemd(char *message, int message_size)
{
	int rc = rw_load_libsystemd();

	if (rc < 0)
		snprintf(message, message_size, "libsystemd.so.0 is not installed");
	return rc;
}
