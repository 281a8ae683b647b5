/*
 * config_file.c - refuse a database password in a file others may read
 * (see config_file.h).  Shared by the module and vrms2fa-admin.
 */
#include <errno.h>
#include <string.h>

#include "config_file.h"

char const *vrms2fa_secret_mode_problem(struct stat const *st)
{
	if (!S_ISREG(st->st_mode)) return "it is not a regular file";
	if ((st->st_mode & 004) != 0) return "others may read it";
	if ((st->st_mode & 003) != 0) return "others may change it";
	if ((st->st_mode & 020) != 0) return "its group may change it";
	return NULL;
}

int vrms2fa_config_file_check(CONF_SECTION *cs, char *err, size_t errlen, char *fix, size_t fixlen)
{
	CONF_SECTION *db = cf_section_sub_find(cs, "database");
	CONF_PAIR *cp = db ? cf_pair_find(db, "password") : NULL;
	char const *value = cp ? cf_pair_value(cp) : NULL;
	char const *path, *why;
	struct stat st;

	if (!value || value[0] == '\0') return 0;	/* no password here: nothing to protect */
	path = cf_pair_filename(cp);
	if (!path || path[0] == '\0') return 0;		/* not from a file */
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s holds the database password and cannot be checked: %s", path, strerror(errno));
		snprintf(fix, fixlen, "check that %s exists", path);
		return -1;
	}
	why = vrms2fa_secret_mode_problem(&st);
	if (!why) return 0;
	snprintf(err, errlen, "%s holds the database password and %s (mode %04o)", path, why,
		 (unsigned)(st.st_mode & 07777));
	snprintf(fix, fixlen, "chown root:freerad %s && chmod 0640 %s", path, path);
	return -1;
}
