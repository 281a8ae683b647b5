/*
 * fuzz_util.h - helpers shared by the libFuzzer targets in this folder
 * (see README.md).  A broken property is reported with FUZZ_CHECK, which
 * prints where and aborts: libFuzzer then saves the input as a crash.
 */
#ifndef VRMS2FA_FUZZ_UTIL_H
#define VRMS2FA_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* A NUL-terminated heap copy of data[0..size) (which may itself hold NULs). */
static inline char *fuzz_strndup(uint8_t const *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s) abort();
	if (size > 0) memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* An exact-size heap copy, so that ASan sees any read past the end. */
static inline uint8_t *fuzz_memdup(uint8_t const *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);

	if (!p) abort();
	if (size > 0) memcpy(p, data, size);
	return p;
}

#endif
