/*
 * test_db_tls.c - the rule that decides TLS to the database: loopback
 * detection, a network server refused without TLS unless required = no,
 * and the plan handed to the store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "db_tls.h"

static db_tls_input_t base(char const *host)
{
	db_tls_input_t in = { .host = host, .socket = "", .ca_file = "", .cert_file = "", .key_file = "",
			      .verify_server_cert = true, .required = true };
	return in;
}

static void test_loopback(void **state)
{
	(void) state;
	assert_true(db_tls_host_is_loopback(NULL));
	assert_true(db_tls_host_is_loopback(""));
	assert_true(db_tls_host_is_loopback("localhost"));
	assert_true(db_tls_host_is_loopback("LocalHost"));
	assert_true(db_tls_host_is_loopback("127.0.0.1"));
	assert_true(db_tls_host_is_loopback("127.255.3.4"));
	assert_true(db_tls_host_is_loopback("::1"));
	assert_false(db_tls_host_is_loopback("128.0.0.1"));
	assert_false(db_tls_host_is_loopback("10.0.0.5"));
	assert_false(db_tls_host_is_loopback("::2"));
	assert_false(db_tls_host_is_loopback("db.example.com"));
	assert_false(db_tls_host_is_loopback("localhost.example.com"));
	assert_false(db_tls_host_is_loopback("127.0.0.1.example.com"));
	assert_false(db_tls_host_is_loopback("0x7f000001"));
}

static void test_loopback_plain_allowed(void **state)
{
	db_tls_input_t in = base("127.0.0.1");
	db_tls_plan_t plan;
	char const *reason = "x";

	(void) state;
	assert_int_equal(db_tls_decide(&in, &plan, &reason), 0);
	assert_null(reason);
	assert_false(plan.use_tls);
	assert_false(plan.enforce);
	in.host = "";
	in.socket = "/run/mysqld/mysqld.sock";
	assert_int_equal(db_tls_decide(&in, &plan, &reason), 0);
	assert_false(plan.use_tls);
}

static void test_network_needs_tls(void **state)
{
	db_tls_input_t in = base("10.1.2.3");
	db_tls_plan_t plan;
	char const *reason = NULL;

	(void) state;
	assert_int_equal(db_tls_decide(&in, &plan, &reason), -1);
	assert_non_null(reason);
	assert_non_null(strstr(reason, "ca_file"));
	assert_non_null(strstr(reason, "required = no"));

	in.host = "db.example.com";
	assert_int_equal(db_tls_decide(&in, &plan, &reason), -1);

	/* the operator's explicit choice */
	in.required = false;
	assert_int_equal(db_tls_decide(&in, &plan, &reason), 0);
	assert_false(plan.use_tls);
	assert_false(plan.enforce);
}

static void test_network_with_tls(void **state)
{
	db_tls_input_t in = base("10.1.2.3");
	db_tls_plan_t plan;
	char const *reason = NULL;

	(void) state;
	in.ca_file = "/etc/ssl/db-ca.pem";
	assert_int_equal(db_tls_decide(&in, &plan, &reason), 0);
	assert_true(plan.use_tls);
	assert_true(plan.verify);
	assert_true(plan.enforce);

	/* unverified: refused while required */
	in.verify_server_cert = false;
	assert_int_equal(db_tls_decide(&in, &plan, &reason), -1);
	assert_non_null(strstr(reason, "verify_server_cert"));
	in.required = false;
	assert_int_equal(db_tls_decide(&in, &plan, &reason), 0);
	assert_true(plan.use_tls);
	assert_false(plan.verify);
	assert_false(plan.enforce);
}

static void test_loopback_with_tls_enforced(void **state)
{
	db_tls_input_t in = base("127.0.0.1");
	db_tls_plan_t plan;
	char const *reason = NULL;

	(void) state;
	in.ca_file = "/ca.pem";
	assert_int_equal(db_tls_decide(&in, &plan, &reason), 0);
	assert_true(plan.use_tls);
	assert_true(plan.enforce);
	assert_true(plan.verify);
}

static void test_client_cert_pairs(void **state)
{
	db_tls_input_t in = base("127.0.0.1");
	db_tls_plan_t plan;
	char const *reason = NULL;

	(void) state;
	in.cert_file = "/client.pem";
	assert_int_equal(db_tls_decide(&in, &plan, &reason), -1);
	assert_non_null(strstr(reason, "key_file"));
	in.key_file = "/client.key";
	assert_int_equal(db_tls_decide(&in, &plan, &reason), 0);
	assert_true(plan.use_tls);
	in.cert_file = "";
	assert_int_equal(db_tls_decide(&in, &plan, &reason), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_loopback_plain_allowed),
		cmocka_unit_test(test_network_needs_tls),
		cmocka_unit_test(test_network_with_tls),
		cmocka_unit_test(test_loopback_with_tls_enforced),
		cmocka_unit_test(test_client_cert_pairs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
