/*
 * db_tls.c - whether a database connection uses TLS, and whether it may go
 * without (see db_tls.h for the rule).
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "db_tls.h"

static bool is_set(char const *s)
{
	return s && s[0];
}

bool db_tls_host_is_loopback(char const *host)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (!is_set(host) || strcasecmp(host, "localhost") == 0) return true;
	if (inet_pton(AF_INET, host, &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
	return false;	/* any other name: it may resolve anywhere */
}

int db_tls_decide(db_tls_input_t const *in, db_tls_plan_t *plan, char const **reason)
{
	bool loopback = db_tls_host_is_loopback(in->host);

	memset(plan, 0, sizeof(*plan));
	*reason = NULL;
	if (is_set(in->cert_file) != is_set(in->key_file)) {
		*reason = "database.tls.cert_file and database.tls.key_file go together (a client certificate and its key)";
		return -1;
	}
	plan->use_tls = is_set(in->ca_file) || is_set(in->cert_file);
	plan->verify = plan->use_tls && in->verify_server_cert;
	plan->enforce = plan->use_tls && in->required;
	if (loopback || !in->required) return 0;

	/* a server over the network, and TLS required */
	if (!is_set(in->ca_file)) {
		*reason = "the database server is not on this machine and database.tls.ca_file is not set: set it "
			  "(the CA of the server's certificate) to use TLS, or database.tls.required = no to send "
			  "hashes and trust rows in clear";
		return -1;
	}
	if (!in->verify_server_cert) {
		*reason = "the database server is not on this machine and database.tls.verify_server_cert = no: an "
			  "unverified server can be impersonated; set it to yes, or database.tls.required = no";
		return -1;
	}
	return 0;
}
