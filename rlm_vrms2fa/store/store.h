/*
 * store.h - the storage layer: the only code in the project that speaks
 * SQL.  Every statement is a server-side prepared statement, prepared once
 * per connection and reused; values from the network are only ever bound
 * as parameters.  The types here are plain C: callers (the FreeRADIUS glue
 * and the admin tool) never see a MYSQL handle.
 *
 * This header is what every consumer needs: connections, statuses, the
 * stored secret and the audit trail.  The queries are split by consumer:
 * store_login.h (what a login asks, used by the module's flow and by the
 * account layer) and store_admin.h (what only the admin tool asks,
 * transactions included).
 *
 * Functions return STORE_OK, or one of the other store_status_t values.
 * STORE_ERROR means the query failed; store_conn_broken() then says whether
 * the connection is unusable (the caller should drop it and take another).
 */
#ifndef VRMS2FA_STORE_H
#define VRMS2FA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/totp.h"

typedef enum {
	STORE_OK = 0,
	STORE_NOT_FOUND,	/* no such row */
	STORE_CONFLICT,		/* a conditional write changed nothing (already used, raced, refused) */
	STORE_RETRY,		/* deadlock or cluster certification conflict, after store_exec's own retries
				   of a statement on its own; in a transaction: run it again from the start */
	STORE_ERROR		/* the query failed; see store_last_error() */
} store_status_t;

typedef struct {
	char const	*host;		/* NULL or "" with socket: local socket */
	uint32_t	port;
	char const	*socket;
	char const	*user;
	char const	*password;
	char const	*database;
	uint32_t	connect_timeout;	/* seconds */
	uint32_t	read_timeout;
	uint32_t	write_timeout;
	uint32_t	wsrep_sync_wait;	/* Galera: SET SESSION wsrep_sync_wait (0: leave the server's) */
	bool		multi_statements;	/* CLIENT_MULTI_STATEMENTS: only the admin tool's migration
						   connection (a schema file is several statements); off for
						   the module, so that no text can ever carry a second statement */
	/* TLS (database.tls, decided by core/db_tls.c) */
	bool		tls;			/* set the client library's TLS options */
	bool		tls_verify;		/* verify the server's certificate and host name */
	bool		tls_enforce;		/* refuse a connection that is not encrypted */
	char const	*tls_ca_file;
	char const	*tls_cert_file;		/* NULL or "": no client certificate */
	char const	*tls_key_file;
} store_config_t;

typedef struct store_conn store_conn_t;

/*
 * The client library, once per process before the first store_open and
 * after the last store_close.  Counted: each module instance (and the admin
 * tool) calls init once and end once; the last end releases the library.
 * 0 ok, -1 when the library cannot start.  Call from one thread only
 * (radiusd's main thread: instantiate and detach).
 */
int store_library_init(void);
void store_library_end(void);

/*
 * Connect with cfg (utf8mb4, the timeouts, wsrep_sync_wait, TLS: with
 * cfg->tls_enforce a connection without a cipher is closed and refused).  One statement
 * per query unless cfg->multi_statements.  NULL on failure, with the reason
 * in err (never the password).
 */
store_conn_t *store_open(store_config_t const *cfg, char *err, size_t errlen);
void store_close(store_conn_t *conn);
bool store_conn_broken(store_conn_t const *conn);
char const *store_last_error(store_conn_t const *conn);	/* never contains bound values */
char const *store_status_name(store_status_t status);

/*
 * The TLS cipher of the connection ("TLS_AES_256_GCM_SHA384") and its
 * protocol version ("TLSv1.3"), or NULL for both when it is not encrypted.
 */
char const *store_tls_cipher(store_conn_t *conn);
char const *store_tls_version(store_conn_t *conn);

#define STORE_COMPANY_MAX	128
#define STORE_EMAIL_MAX		254

/* A TOTP secret as stored. */
#define STORE_SEALED_MAX 255
typedef struct {
	totp_status_t	status;
	uint8_t		sealed[STORE_SEALED_MAX];
	size_t		sealed_len;
	uint32_t	key_id;
	totp_params_t	params;
	uint64_t	last_counter;
	bool		has_challenge_digest;	/* pending: made for an enrollment challenge */
	uint8_t		challenge_digest[32];	/* that challenge's State digest */
} store_secret_t;

/* Audit trail.  detail and source must never hold a secret or a code. */
store_status_t store_audit(store_conn_t *conn, int64_t now, char const *actor, uint64_t user_id,
			   uint64_t company_id, char const *event, char const *detail, char const *source);

#endif
