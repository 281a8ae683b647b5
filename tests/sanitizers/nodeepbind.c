/*
 * nodeepbind.c - LD_PRELOAD shim for running a module built with
 * AddressSanitizer inside a radiusd that is not: FreeRADIUS 3.2 opens
 * modules with RTLD_DEEPBIND, which the sanitizer runtime refuses ("You are
 * trying to dlopen a shared library with RTLD_DEEPBIND flag which is
 * incompatible with sanitizer runtime").  This dlopen() clears that flag
 * and calls the next dlopen (the sanitizer's interceptor, then libc's).
 * It also adds RTLD_NODELETE: radiusd unloads its modules before it exits,
 * and LeakSanitizer, which reports at exit, could then not name the library
 * of a frame ("<unknown module>") nor tell our code from anyone else's.
 *
 * Preload it BEFORE the sanitizer runtime, with
 * ASAN_OPTIONS=verify_asan_link_order=0 (see scripts/build-sanitized.sh and
 * tests/sanitizers/README.md).  Test-only code: never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

typedef void *(*dlopen_fn)(char const *, int);

static dlopen_fn next_dlopen;

/* The dlopen() after this one: the sanitizer's interceptor, then libc's. */
static dlopen_fn find_next(void)
{
	void *sym = dlsym(RTLD_NEXT, "dlopen");
	dlopen_fn fn;

	/* POSIX's way from dlsym() to a function pointer (a cast is not ISO C) */
	memcpy(&fn, &sym, sizeof(fn));
	return fn;
}

/* Found before radiusd's main() runs, so that no two threads race for it. */
static void __attribute__((constructor)) init(void)
{
	next_dlopen = find_next();
}

void *dlopen(char const *file, int mode)
{
	dlopen_fn next = next_dlopen ? next_dlopen : find_next();

	if (!next) return NULL;
	return next(file, (mode & ~RTLD_DEEPBIND) | RTLD_NODELETE);
}
