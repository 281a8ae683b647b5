/*
 * fuzz_names.c - feeds arbitrary bytes to the name rule (core/names.h):
 * names_login_problem, names_company_problem and names_describe.
 *
 * Checks: no crash or UB, no read out of bounds (an exact-size copy); a
 * usable login name is also a usable company name and passes the module's
 * older syntax check (text_login_name_valid), has no ':', no edge space;
 * a refusal names a code point only when one is at fault, and that code
 * point is not a plain letter or digit; names_describe always terminates
 * its output and never copies the name.
 */
#include "fuzz_util.h"
#include "names.h"
#include "text.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size);

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	uint8_t *in = fuzz_memdup(data, size);
	uint32_t cp = 0, ccp = 0;
	char const *login = names_login_problem(in, size, &cp);
	char const *company = names_company_problem(in, size, &ccp);
	char out[96];

	if (!login) {
		FUZZ_CHECK(cp == NAMES_NO_CODE_POINT);
		FUZZ_CHECK(company == NULL);
		FUZZ_CHECK(text_login_name_valid(in, size, TEXT_LOGIN_MAX));
		FUZZ_CHECK(memchr(in, ':', size) == NULL);
		FUZZ_CHECK(in[0] != ' ' && in[size - 1] != ' ');
	} else if (cp != NAMES_NO_CODE_POINT) {
		FUZZ_CHECK(cp <= 0x10ffff);
		FUZZ_CHECK(!((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9')));
	}
	if (!company) {
		FUZZ_CHECK(size >= 1 && size <= NAMES_COMPANY_MAX && text_is_clean_utf8(in, size));
	}
	memset(out, 'Q', sizeof(out));
	names_describe("login name", login, cp, out, sizeof(out) - (size % 64));
	FUZZ_CHECK(memchr(out, '\0', sizeof(out)) != NULL);
	FUZZ_CHECK(strlen(out) < sizeof(out) - (size % 64));
	free(in);
	return 0;
}
