/*
 * challenge_token.h - the module's own RADIUS State value.
 *
 * A State is "V1" followed by 32 lower-case hex digits: 128 bits from
 * RAND_bytes.  It is printable (some NASes truncate State at a NUL byte)
 * and reveals nothing.  The database keeps only SHA-256 of the 16 raw
 * bytes, so a copy of the challenge table cannot be replayed as States.
 */
#ifndef VRMS2FA_CHALLENGE_TOKEN_H
#define VRMS2FA_CHALLENGE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHALLENGE_TOKEN_RAW_LEN		16
#define CHALLENGE_TOKEN_TEXT_LEN	34	/* "V1" + 32 hex */
#define CHALLENGE_TOKEN_DIGEST_LEN	32

/* Fresh token.  0 ok, -1 if the random generator fails. */
int challenge_token_new(uint8_t raw[CHALLENGE_TOKEN_RAW_LEN], char text[CHALLENGE_TOKEN_TEXT_LEN + 1]);

/* Parse a State from the wire (len bytes, anything).  0 ok, -1 malformed. */
int challenge_token_parse(uint8_t const *state, size_t len, uint8_t raw[CHALLENGE_TOKEN_RAW_LEN]);

/*
 * Is this State one of this module's ("V1" + 32 lower-case hex digits,
 * exactly challenge_token_parse's form)?  Any other State belongs to
 * someone else: an EAP session in an inner tunnel, a proxy.  Whether the
 * module issued it is a question for the database (round 2's gate).
 */
bool challenge_token_recognised(uint8_t const *state, size_t len);

/* SHA-256 of the raw bytes: the database key of the challenge. 0 ok, -1 error. */
int challenge_token_digest(uint8_t const raw[CHALLENGE_TOKEN_RAW_LEN], uint8_t digest[CHALLENGE_TOKEN_DIGEST_LEN]);

#endif
