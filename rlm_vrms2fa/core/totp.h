/*
 * totp.h - time-based one-time codes (RFC 6238) on top of liboath, with a
 * constant-time comparison (liboath's own compare is strcmp, which exits
 * early).  Knows nothing of users, databases or RADIUS.
 */
#ifndef VRMS2FA_TOTP_H
#define VRMS2FA_TOTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <time.h>

typedef enum {
	TOTP_SHA1 = 0,
	TOTP_SHA256 = 1,
	TOTP_SHA512 = 2
} totp_algo_t;

typedef struct {
	totp_algo_t	algo;
	unsigned	digits;		/* 6, 7 or 8 */
	unsigned	period;		/* seconds per step, 1..300 */
} totp_params_t;

/* Where a user's TOTP secret stands (totp_secrets.status; no row: NONE). */
typedef enum {
	TOTP_STATUS_NONE = 0,
	TOTP_STATUS_PENDING,		/* made, not yet confirmed by a code */
	TOTP_STATUS_ACTIVE
} totp_status_t;

char const *totp_status_name(totp_status_t status);		/* "none", "pending", "active" */
int totp_status_parse(char const *name, totp_status_t *status);	/* "pending"/"active"; 0 ok, -1 anything else */

#define TOTP_DEFAULT_PARAMS ((totp_params_t){ .algo = TOTP_SHA1, .digits = 6, .period = 30 })
#define TOTP_MAX_DIGITS 8
#define TOTP_WINDOW_MAX 10

typedef enum {
	TOTP_MATCH = 0,		/* *matched_counter is the time step that matched */
	TOTP_NO_MATCH,		/* well-formed code, wrong or outside the window */
	TOTP_BAD_INPUT,		/* not exactly 'digits' ASCII digits */
	TOTP_ERROR		/* library failure, bad parameters, bad secret */
} totp_result_t;

/* Call once per process before anything else here (wraps oath_init). 0 on success. */
int totp_library_init(void);
void totp_library_done(void);

bool totp_params_valid(totp_params_t const *params);
char const *totp_algo_name(totp_algo_t algo);			/* "SHA1", "SHA256", "SHA512" */
int totp_algo_parse(char const *name, totp_algo_t *algo);	/* case-insensitive; 0 ok, -1 bad */

/* The time step that 'now' falls in: floor(now / period). */
uint64_t totp_counter_at(totp_params_t const *params, time_t now);

/* Write the code for 'now' (digits chars + NUL) into out. 0 on success, -1 on error. */
int totp_generate(totp_params_t const *params, uint8_t const *secret, size_t secret_len,
		  time_t now, char *out, size_t outlen);

/*
 * Check 'code' (code_len bytes, not NUL-terminated) against the steps
 * now-window .. now+window.  Comparison is constant-time (CRYPTO_memcmp).
 */
totp_result_t totp_verify(totp_params_t const *params, uint8_t const *secret, size_t secret_len,
			  char const *code, size_t code_len, time_t now, unsigned window,
			  uint64_t *matched_counter);

#endif
