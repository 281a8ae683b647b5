/*
 * db_tls.h - the rule that decides whether a database connection uses TLS
 * and whether it may go without: pure (no SQL, no FreeRADIUS), shared by
 * the settings check of the module and of vrms2fa-admin, unit-tested in
 * tests/unit/test_db_tls.c.
 *
 * The rule:
 *  - a loopback server (a local socket, "localhost", 127.0.0.0/8, ::1)
 *    needs no TLS: the traffic never leaves the machine;
 *  - any other server needs TLS with the server's certificate verified
 *    (tls.ca_file set, tls.verify_server_cert = yes) unless the operator
 *    says tls.required = no;
 *  - TLS is used whenever tls.ca_file or tls.cert_file is set, and with
 *    tls.required = yes a connection that did not end up encrypted is
 *    refused (the store checks the cipher after connecting);
 *  - cert_file and key_file go together (a client certificate).
 */
#ifndef VRMS2FA_DB_TLS_H
#define VRMS2FA_DB_TLS_H

#include <stdbool.h>

typedef struct {
	char const	*host;		/* database.server (NULL or "" with socket: local socket) */
	char const	*socket;	/* database.socket */
	char const	*ca_file;	/* NULL or "": none */
	char const	*cert_file;
	char const	*key_file;
	bool		verify_server_cert;
	bool		required;
} db_tls_input_t;

typedef struct {
	bool	use_tls;	/* set the client library's TLS options */
	bool	enforce;	/* refuse a connection that is not encrypted */
	bool	verify;	/* verify the server's certificate and name */
} db_tls_plan_t;

/*
 * True when the connection described by host/socket stays on this machine:
 * host NULL, "" or "localhost" (the client library then uses the socket),
 * an IPv4 address in 127.0.0.0/8 written as a dotted quad, or "::1".
 */
bool db_tls_host_is_loopback(char const *host);

/*
 * Decide the TLS plan of in.  0 with *plan filled, or -1 with *reason set
 * to a sentence naming the option to change (a static string).
 */
int db_tls_decide(db_tls_input_t const *in, db_tls_plan_t *plan, char const **reason);

#endif
