/*
 * sync_json.c - one line of "user sync" input, parsed with json-c (see
 * sync_json.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sync_json.h"

/* A string member: *out a malloc'd copy, NULL for JSON null when null_ok or when absent and !required. */
static int member(json_object *obj, char const *key, bool required, bool null_ok, bool *given, char **out,
		  char *err, size_t errlen)
{
	json_object *v = NULL;
	char const *text;
	int len;

	*out = NULL;
	if (given) *given = false;
	if (!json_object_object_get_ex(obj, key, &v)) {
		if (!required) return 0;
		snprintf(err, errlen, "\"%s\" is missing", key);
		return -1;
	}
	if (given) *given = true;
	if (json_object_is_type(v, json_type_null)) {
		if (null_ok) return 0;
		snprintf(err, errlen, "\"%s\" must be a string, not null", key);
		return -1;
	}
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "\"%s\" must be a string", key);
		return -1;
	}
	text = json_object_get_string(v);
	len = json_object_get_string_len(v);
	if (len < 0 || memchr(text, '\0', (size_t)len)) {
		snprintf(err, errlen, "\"%s\" holds a NUL character", key);
		return -1;
	}
	*out = strndup(text, (size_t)len);
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void sync_json_free(sync_json_user_t *u)
{
	free(u->login);
	free(u->company);
	free(u->group);
	free(u->email);
	if (u->password_hash) {
		memset(u->password_hash, 0, strlen(u->password_hash));
		free(u->password_hash);
	}
	memset(u, 0, sizeof(*u));
}

int sync_json_parse(char const *text, sync_json_user_t *out, char *err, size_t errlen)
{
	static char const *const known[] = { "login", "company", "group", "email", "password_hash", "disabled" };
	enum json_tokener_error jerr;
	json_object *obj, *v = NULL;
	json_tokener *tok;
	size_t len = strlen(text), end;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ' || text[len - 1] == '\t')) len--;
	if (len > INT32_MAX) {
		snprintf(err, errlen, "line too long");
		return -1;
	}
	tok = json_tokener_new();
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);	/* RFC 8259: no comments, no single quotes, no trailing commas */
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj || jerr != json_tokener_success) {
		if (obj) json_object_put(obj);
		snprintf(err, errlen, "not JSON (%s)", jerr == json_tokener_continue ? "unexpected end of line"
										    : json_tokener_error_desc(jerr));
		return -1;
	}
	if (end != len) {
		json_object_put(obj);
		snprintf(err, errlen, "not JSON (text after the object)");
		return -1;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(err, errlen, "not a JSON object");
		goto done;
	}
	{
		json_object_object_foreach(obj, key, val) {
			size_t k;

			(void)val;
			for (k = 0; k < sizeof(known) / sizeof(known[0]); k++) if (strcmp(key, known[k]) == 0) break;
			if (k == sizeof(known) / sizeof(known[0])) {
				snprintf(err, errlen, "unknown member (login, company, group, email, password_hash, disabled)");
				goto done;
			}
		}
	}
	if (member(obj, "login", true, false, NULL, &out->login, err, errlen) != 0) goto done;
	if (member(obj, "company", true, false, NULL, &out->company, err, errlen) != 0) goto done;
	if (member(obj, "group", true, false, NULL, &out->group, err, errlen) != 0) goto done;
	if (member(obj, "email", false, true, NULL, &out->email, err, errlen) != 0) goto done;
	if (member(obj, "password_hash", false, true, &out->hash_given, &out->password_hash, err, errlen) != 0) goto done;
	if (json_object_object_get_ex(obj, "disabled", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			snprintf(err, errlen, "\"disabled\" must be true or false");
			goto done;
		}
		out->disabled = json_object_get_boolean(v);
	}
	rc = 0;
done:
	json_object_put(obj);
	if (rc != 0) sync_json_free(out);
	return rc;
}
