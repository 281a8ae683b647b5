/*
 * fuzz_keyfile.c - feeds arbitrary file contents to secretbox_keyring_load
 * (the key file "KEYID HEX64" per line).  The input is written to one
 * temporary file of mode 0600, made once per process and rewritten for
 * every input; the current key id is 1.
 *
 * Checks: no crash, UB or leak; on failure the keyring is wiped (all
 * zero) and the one-line reason names the file and holds no key material
 * (no run of 16 or more hex digits, no newline); a short error buffer is
 * still a NUL-terminated string; on success there are 1..16 keys with
 * distinct non-zero ids, the current id is 1, the ids and key bytes are
 * exactly those a reference parser written here reads from the file, and
 * a seal/open round trip works.  A file the reference finds well-formed,
 * with 1..16 distinct ids including 1 and no NUL, must load.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "secretbox.h"

static char path[64];
static int fd = -1;

static void remove_file(void)
{
	unlink(path);
}

static void make_file(void)
{
	if (fd >= 0) return;
	strcpy(path, "/tmp/vrms2fa-fuzz-keys-XXXXXX");
	fd = mkstemp(path);	/* mode 0600 */
	if (fd < 0) abort();
	atexit(remove_file);
}

static int is_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/*
 * Reference: "KEYID HEX64" per line, blanks (space, tab, CR) around and
 * between, blank lines and '#' lines skipped.  Fills keys[] (up to 64) and
 * returns how many, or -1 if some line is malformed.
 */
static int ref_keys(uint8_t const *data, size_t size, secretbox_key_t *keys, size_t cap)
{
	size_t i = 0, n = 0;

	while (i < size) {
		size_t j = i, eol, digits = 0, k;
		uint64_t id = 0;

		eol = j;
		while (eol < size && data[eol] != '\n') eol++;
		while (j < eol && is_blank(data[j])) j++;
		if (j == eol || data[j] == '#') {
			i = eol + 1;
			continue;
		}
		while (j < eol && data[j] >= '0' && data[j] <= '9') {
			if (++digits > 10) return -1;
			id = id * 10 + (data[j++] - '0');
		}
		if (digits == 0 || id == 0 || id > UINT32_MAX) return -1;
		if (j == eol || !is_blank(data[j])) return -1;
		while (j < eol && is_blank(data[j])) j++;
		if (eol - j < 64 || n == cap) return -1;
		keys[n].id = (uint32_t) id;
		for (k = 0; k < 32; k++) {
			int hi = hexval(data[j + 2 * k]), lo = hexval(data[j + 2 * k + 1]);

			if (hi < 0 || lo < 0) return -1;
			keys[n].key[k] = (uint8_t) (hi << 4 | lo);
		}
		j += 64;
		while (j < eol && is_blank(data[j])) j++;
		if (j != eol) return -1;
		n++;
		i = eol + 1;
	}
	return (int) n;
}

static void check_error(char const *err)
{
	size_t i, run = 0;

	FUZZ_CHECK(strstr(err, path) != NULL);
	FUZZ_CHECK(strchr(err, '\n') == NULL);
	for (i = 0; err[i]; i++) {
		char c = err[i];

		run = ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) ? run + 1 : 0;
		FUZZ_CHECK(run < 16);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static secretbox_keyring_t const ZERO;
	secretbox_keyring_t ring;
	char err[512], tiny[12];
	uint8_t box[64], pt[32];
	size_t i, j, boxlen = 0, ptlen = 0;
	int rc;

	if (size > 70000) return 0;	/* the core refuses > 64 KiB; keep runs fast */
	make_file();
	if (ftruncate(fd, 0) != 0) abort();
	if (size > 0 && pwrite(fd, data, size, 0) != (ssize_t) size) abort();

	memset(&ring, 0x5a, sizeof(ring));
	memset(err, 'E', sizeof(err));
	rc = secretbox_keyring_load(path, 1, &ring, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (rc != 0) {
		secretbox_key_t ref[64];
		int n = size < 65536 && !memchr(data, '\0', size) ? ref_keys(data, size, ref, 64) : -1;
		int has1 = 0, dup = 0, k, l;

		for (k = 0; k < n; k++) {
			has1 |= ref[k].id == 1;
			for (l = k + 1; l < n; l++) dup |= ref[k].id == ref[l].id;
		}
		FUZZ_CHECK(!(n >= 1 && n <= SECRETBOX_MAX_KEYS && has1 && !dup));
		FUZZ_CHECK(memcmp(&ring, &ZERO, sizeof(ring)) == 0);
		check_error(err);
		memset(tiny, 'E', sizeof(tiny));
		FUZZ_CHECK(secretbox_keyring_load(path, 1, &ring, tiny, sizeof(tiny)) == -1);
		FUZZ_CHECK(memchr(tiny, '\0', sizeof(tiny)) != NULL);
		return 0;
	}

	FUZZ_CHECK(err[0] == '\0');
	FUZZ_CHECK(ring.count >= 1 && ring.count <= SECRETBOX_MAX_KEYS);
	{
		secretbox_key_t ref[64];
		int n = ref_keys(data, size, ref, 64);

		FUZZ_CHECK(n >= 0 && (size_t) n == ring.count);
		for (i = 0; i < ring.count; i++) {
			FUZZ_CHECK(ring.keys[i].id == ref[i].id);
			FUZZ_CHECK(memcmp(ring.keys[i].key, ref[i].key, SECRETBOX_KEY_LEN) == 0);
		}
	}
	FUZZ_CHECK(ring.current_id == 1);
	for (i = 0; i < ring.count; i++) {
		FUZZ_CHECK(ring.keys[i].id != 0);
		for (j = i + 1; j < ring.count; j++) FUZZ_CHECK(ring.keys[i].id != ring.keys[j].id);
	}
	FUZZ_CHECK(secretbox_seal(&ring, 99, (uint8_t const *) "secret", 6, box, sizeof(box), &boxlen) == 0);
	FUZZ_CHECK(secretbox_open(&ring, 99, box, boxlen, pt, sizeof(pt), &ptlen) == 0);
	FUZZ_CHECK(ptlen == 6 && memcmp(pt, "secret", 6) == 0);
	secretbox_keyring_wipe(&ring);
	FUZZ_CHECK(memcmp(&ring, &ZERO, sizeof(ring)) == 0);
	return 0;
}
