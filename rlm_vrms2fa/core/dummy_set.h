/*
 * dummy_set.h - the dummy password hashes unknown users are checked
 * against, so that "no such user" costs what "wrong password" does.
 *
 * A site's users may have hashes of several formats and costs (profiles:
 * password_profile).  The set holds one dummy per profile, weighted by how
 * many users have it.  An unknown login name is given one of them by a
 * keyed hash of the name: the same name always gets the same dummy (asking
 * again does not average it out), and the names spread over the dummies as
 * the users spread over the profiles.  To someone who does not know which
 * format a given user's hash has, the time of a reject for an unknown name
 * is drawn from the same distribution as for a known one.
 */
#ifndef VRMS2FA_DUMMY_SET_H
#define VRMS2FA_DUMMY_SET_H

#include <stddef.h>
#include <stdint.h>

#include "password.h"

#define DUMMY_SET_MAX		8	/* profiles kept: the most common ones */
#define DUMMY_SET_KEY_LEN	32

typedef struct {
	char		hash[PASSWORD_HASH_MAX + 1];
	uint64_t	weight;		/* users with this profile */
} dummy_entry_t;

typedef struct {
	dummy_entry_t	entry[DUMMY_SET_MAX];
	size_t		count;
	uint64_t	total;		/* sum of the weights */
	uint8_t		key[DUMMY_SET_KEY_LEN];	/* keys the choice; secret, stable across restarts */
} dummy_set_t;

/* An empty set whose choices are keyed by key. */
void dummy_set_init(dummy_set_t *set, uint8_t const key[DUMMY_SET_KEY_LEN]);

/* Add a dummy hash standing for weight users.  0 ok, -1 full, weight 0, or hash too long. */
int dummy_set_add(dummy_set_t *set, char const *hash, uint64_t weight);

/*
 * The dummy for login (login_len bytes): entry i with probability
 * weight_i / total over names, always the same for one name and key.
 * NULL when the set is empty.
 */
char const *dummy_set_pick(dummy_set_t const *set, uint8_t const *login, size_t login_len);

#endif
