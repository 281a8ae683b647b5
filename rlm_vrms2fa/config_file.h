/*
 * config_file.h - the file that holds the database password must not be
 * readable by others: the module (at instantiate) and vrms2fa-admin refuse
 * to start when it is, with the command that fixes it, as the key file
 * check does (core/secretbox.c).
 */
#ifndef VRMS2FA_CONFIG_FILE_H
#define VRMS2FA_CONFIG_FILE_H

#include <stddef.h>
#include <sys/stat.h>

#include <freeradius/radiusd.h>

/*
 * The rule on the mode of a file holding a password: no permission at all
 * for others and no write permission for the group (root:freerad 0640 is
 * the widest it may be).  NULL when st passes, else why ("others may read
 * it", ...).
 */
char const *vrms2fa_secret_mode_problem(struct stat const *st);

/*
 * cs is the vrms2fa section.  When its database { password } is not empty,
 * the file it was read from (the module file, or a file it includes) must
 * pass vrms2fa_secret_mode_problem.  0 ok (or no password); -1 with the
 * problem in err and the command that fixes it in fix (two texts: a log
 * line of radiusd is cut at a few hundred bytes).
 */
int vrms2fa_config_file_check(CONF_SECTION *cs, char *err, size_t errlen, char *fix, size_t fixlen);

#endif
