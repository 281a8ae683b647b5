/*
 * sync_json.h - one line of "user sync" input read with json-c, into plain
 * C strings.  Apart from admin.h, whose json_* writer's names json-c's
 * header also uses.
 */
#ifndef VRMS2FA_SYNC_JSON_H
#define VRMS2FA_SYNC_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
	char	*login;		/* required strings */
	char	*company;
	char	*group;
	char	*email;		/* NULL: null or absent */
	bool	hash_given;	/* "password_hash" was there (a string or null) */
	char	*password_hash;	/* NULL: null or absent */
	bool	disabled;	/* absent: false */
} sync_json_user_t;

/*
 * Parse text (one JSON object: login, company, group, email,
 * password_hash, disabled; no other member) into *out.  0 ok; -1 with the
 * reason in err (never a value of the line) and nothing to free.  The
 * strings are malloc'd: sync_json_free.  Strings holding NUL are refused.
 */
int sync_json_parse(char const *text, sync_json_user_t *out, char *err, size_t errlen);
void sync_json_free(sync_json_user_t *u);

#endif
