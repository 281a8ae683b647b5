/*
 * db_account.c - the admin tool's own database account: with
 * database { admin_login admin_password_file } set, vrms2fa-admin connects
 * as that account (which may change the schema, see store_grants.h) and
 * not as the module's, whose file radiusd's group can read.  The password
 * file must not be readable, writable or executable by group or others.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "admin.h"

#define DB_PASSWORD_MAX 256

/*
 * Read the first line of path (without its newline) into out.  0 ok, else
 * an exit status after a message naming the problem and its fix.
 */
static int read_password_file(char const *path, char *out, size_t outlen)
{
	struct stat st;
	ssize_t n;
	size_t len;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) return admin_fail("cannot open database.admin_password_file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return admin_fail("database.admin_password_file %s is not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return admin_fail("database.admin_password_file %s is accessible by group or others (mode %04o): "
				  "chmod 0600 %s", path, (unsigned)(st.st_mode & 07777), path);
	}
	n = read(fd, out, outlen - 1);
	close(fd);
	if (n < 0) return admin_fail("cannot read database.admin_password_file %s: %s", path, strerror(errno));
	out[n] = '\0';
	if (memchr(out, '\0', (size_t)n)) {
		OPENSSL_cleanse(out, outlen);
		return admin_fail("database.admin_password_file %s holds a NUL byte", path);
	}
	len = strcspn(out, "\r\n");
	if ((size_t)n == outlen - 1 && len == (size_t)n) {
		OPENSSL_cleanse(out, outlen);
		return admin_fail("database.admin_password_file %s: password too long (at most %d bytes)", path,
				  DB_PASSWORD_MAX - 1);
	}
	out[len] = '\0';
	if (len == 0) return admin_fail("database.admin_password_file %s is empty", path);
	return 0;
}

int admin_use_admin_account(admin_t *a)
{
	char const *login = a->settings.db_admin_login;
	char const *file = a->settings.db_admin_password_file;
	char password[DB_PASSWORD_MAX];
	char *copy;
	int rc;

	if (!login || !login[0]) {
		if (file && file[0]) return admin_fail("database.admin_password_file is set but admin_login is not");
		return 0;
	}
	if (!file || !file[0]) return admin_fail("database.admin_login is set but admin_password_file is not");
	rc = read_password_file(file, password, sizeof(password));
	if (rc) return rc;
	copy = talloc_strdup(a->ctx, password);
	OPENSSL_cleanse(password, sizeof(password));
	if (!copy) return admin_fail("out of memory");
	a->store.user = login;
	a->store.password = copy;
	return 0;
}
