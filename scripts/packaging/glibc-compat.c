/*
 * Linked into the packaged binary only (scripts/package), which is linked
 * against Debian 11's glibc 2.31 so that it starts on glibc 2.31 and later.
 *
 * libstdc++ 12, linked statically, reads this variable that glibc 2.32
 * introduced. 0 means "maybe multi-threaded": libstdc++ then always uses
 * atomic operations, which is correct on every glibc. On 2.32 and later the
 * executable's copy interposes libc's; libc keeps using its own internally.
 */
char __libc_single_threaded = 0;
