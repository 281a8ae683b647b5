/*
 * store.c - connections to MySQL/MariaDB and the prepared-statement runner
 * (see store_private.h).  The query functions live beside it: store_login.c
 * for what the module asks per request, store_admin.c for the admin tool.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "store_private.h"

#define STORE_MAX_STATEMENTS	96
#define STORE_MAX_BINDS		40
#define STORE_ERROR_LEN		256
/*
 * A statement run on its own (autocommit) that fails with a deadlock or a
 * Galera certification conflict (STORE_RETRY) was rolled back whole, so it
 * is run again, at most this many times in all.  Inside a transaction the
 * whole transaction is gone: the caller retries it (vrms2fa-admin).
 */
#define STORE_STATEMENT_ATTEMPTS	3

typedef struct {
	char const	*sql;		/* identity: the address of the query's text */
	MYSQL_STMT	*stmt;
} cached_statement_t;

struct store_conn {
	MYSQL			*mysql;
	bool			broken;
	bool			in_transaction;	/* between a begin or start and its commit, rollback or end */
	store_status_t		transaction_failure;	/* the first statement of it that failed (STORE_OK: none) */
	char			error[STORE_ERROR_LEN];
	size_t			nstatements;
	cached_statement_t	statements[STORE_MAX_STATEMENTS];
};

/*
 * Users of libmariadb in this process.  The last one to go ends the library
 * (as rlm_sql_mysql does): radiusd unloads the module, and with it
 * libmariadb, at exit and on a reload, and what mysql_library_init()
 * allocated would otherwise be lost (Valgrind: "definitely lost").  The
 * one mutable global of the project, touched only from radiusd's main
 * thread (instantiate, detach) or the admin tool's only thread.
 */
static unsigned int library_users;

int store_library_init(void)
{
	if (library_users == 0 && mysql_library_init(0, NULL, NULL) != 0) return -1;
	library_users++;
	return 0;
}

void store_library_end(void)
{
	if (library_users == 0) return;
	if (--library_users == 0) mysql_library_end();
}

char const *store_status_name(store_status_t status)
{
	switch (status) {
	case STORE_OK:		return "ok";
	case STORE_NOT_FOUND:	return "not found";
	case STORE_CONFLICT:	return "conflict";
	case STORE_RETRY:	return "retry";
	case STORE_ERROR:	return "error";
	}
	return "unknown";
}

static bool mysql_error_means_broken(unsigned int err)
{
	switch (err) {
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_LOST_EXTENDED:
	case CR_COMMANDS_OUT_OF_SYNC:
	case ER_SERVER_SHUTDOWN:
	case ER_CONNECTION_KILLED:
	case ER_QUERY_INTERRUPTED:
		return true;
	default:
		return err >= 2000 && err < 3000;	/* any other client-side error: do not trust the link */
	}
}

static bool mysql_error_means_retry(unsigned int err)
{
	return err == ER_LOCK_DEADLOCK || err == ER_LOCK_WAIT_TIMEOUT;
}

static store_status_t fail(store_conn_t *conn, unsigned int err, char const *what, char const *msg)
{
	snprintf(conn->error, sizeof(conn->error), "%s: %s (%u)", what, msg ? msg : "unknown error", err);
	if (mysql_error_means_broken(err)) conn->broken = true;
	if (mysql_error_means_retry(err)) return STORE_RETRY;
	if (err == ER_DUP_ENTRY) return STORE_CONFLICT;
	return STORE_ERROR;
}

/*
 * The client library's TLS options from cfg (before mysql_real_connect).
 * TLS 1.2 or 1.3 only; with cfg->tls_enforce the library itself refuses to
 * fall back to a clear connection (MYSQL_OPT_SSL_ENFORCE), and store_open
 * checks the cipher after connecting as well.  0 ok, -1 when an option is
 * refused.
 */
static int set_tls_options(MYSQL *mysql, store_config_t const *cfg)
{
	my_bool verify = cfg->tls_verify ? 1 : 0;
	my_bool enforce = cfg->tls_enforce ? 1 : 0;

	if (cfg->tls_ca_file && cfg->tls_ca_file[0] &&
	    mysql_optionsv(mysql, MYSQL_OPT_SSL_CA, cfg->tls_ca_file) != 0) return -1;
	if (cfg->tls_cert_file && cfg->tls_cert_file[0] &&
	    mysql_optionsv(mysql, MYSQL_OPT_SSL_CERT, cfg->tls_cert_file) != 0) return -1;
	if (cfg->tls_key_file && cfg->tls_key_file[0] &&
	    mysql_optionsv(mysql, MYSQL_OPT_SSL_KEY, cfg->tls_key_file) != 0) return -1;
	if (mysql_optionsv(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify) != 0) return -1;
	if (mysql_optionsv(mysql, MYSQL_OPT_SSL_ENFORCE, &enforce) != 0) return -1;
	if (mysql_optionsv(mysql, MARIADB_OPT_TLS_VERSION, "TLSv1.2,TLSv1.3") != 0) return -1;
	return 0;
}

char const *store_tls_cipher(store_conn_t *conn)
{
	return mysql_get_ssl_cipher(conn->mysql);
}

char const *store_tls_version(store_conn_t *conn)
{
	char const *version = NULL;

	if (!mysql_get_ssl_cipher(conn->mysql)) return NULL;
	if (mariadb_get_infov(conn->mysql, MARIADB_CONNECTION_TLS_VERSION, &version) != 0) return NULL;
	return version;
}

store_conn_t *store_open(store_config_t const *cfg, char *err, size_t errlen)
{
	store_conn_t *conn;
	unsigned int timeout;
	char const *host = (cfg->host && cfg->host[0]) ? cfg->host : NULL;
	char const *sock = (cfg->socket && cfg->socket[0]) ? cfg->socket : NULL;

	conn = calloc(1, sizeof(*conn));
	if (!conn) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	conn->mysql = mysql_init(NULL);
	if (!conn->mysql) {
		snprintf(err, errlen, "mysql_init failed");
		free(conn);
		return NULL;
	}

	timeout = cfg->connect_timeout ? cfg->connect_timeout : 3;
	if (mysql_options(conn->mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout) != 0) goto options_failed;
	timeout = cfg->read_timeout ? cfg->read_timeout : 5;
	if (mysql_options(conn->mysql, MYSQL_OPT_READ_TIMEOUT, &timeout) != 0) goto options_failed;
	timeout = cfg->write_timeout ? cfg->write_timeout : 5;
	if (mysql_options(conn->mysql, MYSQL_OPT_WRITE_TIMEOUT, &timeout) != 0) goto options_failed;
	if (mysql_options(conn->mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0) goto options_failed;
	if (cfg->tls && set_tls_options(conn->mysql, cfg) != 0) goto options_failed;

	if (!mysql_real_connect(conn->mysql, host, cfg->user, cfg->password, cfg->database,
				cfg->port, sock, cfg->multi_statements ? CLIENT_MULTI_STATEMENTS : 0)) {
		unsigned int code = mysql_errno(conn->mysql);

		snprintf(err, errlen, "cannot connect to database '%s' at %s: %s%s",
			 cfg->database ? cfg->database : "", sock ? sock : (host ? host : "localhost"),
			 mysql_error(conn->mysql),
			 cfg->tls && code == CR_SSL_CONNECTION_ERROR
			 ? (cfg->tls_verify ? " (TLS: is the server's certificate signed by database.tls.ca_file "
					      "and made out to database.server?)"
					    : " (TLS: does the server accept TLS?)")
			 : "");
		mysql_close(conn->mysql);
		free(conn);
		return NULL;
	}
	if (cfg->tls_enforce && !mysql_get_ssl_cipher(conn->mysql)) {
		snprintf(err, errlen, "database connection to %s is not encrypted and database.tls.required = yes: "
			 "enable TLS on the server (ssl_cert, ssl_key) or connect over the network, not a socket",
			 sock ? sock : (host ? host : "localhost"));
		mysql_close(conn->mysql);
		free(conn);
		return NULL;
	}
	if (cfg->wsrep_sync_wait) {
		char sql[64];

		/* a number we range-checked, not outside data */
		snprintf(sql, sizeof(sql), "SET SESSION wsrep_sync_wait = %u", cfg->wsrep_sync_wait & 15u);
		if (mysql_real_query(conn->mysql, sql, strlen(sql)) != 0) {
			snprintf(err, errlen, "cannot set wsrep_sync_wait: %s", mysql_error(conn->mysql));
			mysql_close(conn->mysql);
			free(conn);
			return NULL;
		}
	}
	return conn;

options_failed:
	snprintf(err, errlen, "mysql_options failed: %s", mysql_error(conn->mysql));
	mysql_close(conn->mysql);
	free(conn);
	return NULL;
}

void store_close(store_conn_t *conn)
{
	size_t i;

	if (!conn) return;
	for (i = 0; i < conn->nstatements; i++) mysql_stmt_close(conn->statements[i].stmt);
	mysql_close(conn->mysql);
	free(conn);
}

bool store_conn_broken(store_conn_t const *conn)
{
	return conn->broken;
}

char const *store_last_error(store_conn_t const *conn)
{
	return conn->error;
}

uint64_t store_insert_id(store_conn_t *conn)
{
	return mysql_insert_id(conn->mysql);
}

/* NULL with *status set on failure (STORE_RETRY when a deadlock or a Galera conflict surfaced here). */
static MYSQL_STMT *statement_for(store_conn_t *conn, char const *sql, store_status_t *status)
{
	MYSQL_STMT *stmt;
	size_t i;

	*status = STORE_ERROR;
	for (i = 0; i < conn->nstatements; i++) {
		if (conn->statements[i].sql == sql) return conn->statements[i].stmt;
	}
	if (conn->nstatements == STORE_MAX_STATEMENTS) {
		snprintf(conn->error, sizeof(conn->error), "statement cache full");
		return NULL;
	}
	stmt = mysql_stmt_init(conn->mysql);
	if (!stmt) {
		*status = fail(conn, mysql_errno(conn->mysql), "mysql_stmt_init", mysql_error(conn->mysql));
		return NULL;
	}
	if (mysql_stmt_prepare(stmt, sql, strlen(sql)) != 0) {
		*status = fail(conn, mysql_stmt_errno(stmt), "prepare", mysql_stmt_error(stmt));
		mysql_stmt_close(stmt);
		return NULL;
	}
	conn->statements[conn->nstatements].sql = sql;
	conn->statements[conn->nstatements].stmt = stmt;
	conn->nstatements++;
	return stmt;
}

static void bind_param(MYSQL_BIND *b, store_param_t const *p)
{
	memset(b, 0, sizeof(*b));
	switch (p->type) {
	case SV_I64:
		b->buffer_type = MYSQL_TYPE_LONGLONG;
		b->buffer = (void *)(uintptr_t)&p->i64;
		break;
	case SV_U64:
		b->buffer_type = MYSQL_TYPE_LONGLONG;
		b->buffer = (void *)(uintptr_t)&p->u64;
		b->is_unsigned = 1;
		break;
	case SV_TEXT:
		b->buffer_type = MYSQL_TYPE_STRING;
		b->buffer = (void *)(uintptr_t)p->ptr;
		b->buffer_length = p->len;
		b->length_value = p->len;
		break;
	case SV_BLOB:
		b->buffer_type = MYSQL_TYPE_BLOB;
		b->buffer = (void *)(uintptr_t)p->ptr;
		b->buffer_length = p->len;
		b->length_value = p->len;
		break;
	case SV_NULL:
		b->buffer_type = MYSQL_TYPE_NULL;
		break;
	}
}

typedef struct {
	unsigned long	length;
	my_bool		is_null;
	my_bool		error;
} column_state_t;

static void bind_column(MYSQL_BIND *b, column_state_t *st, store_col_t const *c)
{
	memset(b, 0, sizeof(*b));
	b->length = &st->length;
	b->is_null = &st->is_null;
	b->error = &st->error;
	switch (c->type) {
	case SV_I64:
		b->buffer_type = MYSQL_TYPE_LONGLONG;
		b->buffer = c->ptr;
		break;
	case SV_U64:
		b->buffer_type = MYSQL_TYPE_LONGLONG;
		b->buffer = c->ptr;
		b->is_unsigned = 1;
		break;
	case SV_TEXT:
		b->buffer_type = MYSQL_TYPE_STRING;
		b->buffer = c->ptr;
		b->buffer_length = c->cap;	/* the client adds the NUL when it fits */
		break;
	case SV_BLOB:
	case SV_NULL:
		b->buffer_type = MYSQL_TYPE_BLOB;
		b->buffer = c->ptr;
		b->buffer_length = c->cap;
		break;
	}
}

/* After a fetch: NUL-terminate text, hand lengths and NULL flags back, refuse truncation. */
static int finish_columns(store_col_t const *cols, column_state_t const *st, size_t ncols)
{
	size_t i;

	for (i = 0; i < ncols; i++) {
		store_col_t const *c = &cols[i];

		if (c->is_null) *c->is_null = st[i].is_null;
		if (st[i].error) return -1;
		switch (c->type) {
		case SV_TEXT:
			if (st[i].is_null) {
				((char *)c->ptr)[0] = '\0';
				if (c->len) *c->len = 0;
				break;
			}
			if (st[i].length >= c->cap) return -1;
			((char *)c->ptr)[st[i].length] = '\0';
			if (c->len) *c->len = st[i].length;
			break;
		case SV_BLOB:
			if (st[i].is_null) {
				if (c->len) *c->len = 0;
				break;
			}
			if (st[i].length > c->cap) return -1;
			if (c->len) *c->len = st[i].length;
			break;
		case SV_I64:
			if (st[i].is_null) *(int64_t *)c->ptr = 0;
			break;
		case SV_U64:
			if (st[i].is_null) *(uint64_t *)c->ptr = 0;
			break;
		case SV_NULL:
			break;
		}
	}
	return 0;
}

static store_status_t run_statement(store_conn_t *conn, char const *sql,
				    store_param_t const *params, size_t nparams,
				    store_col_t const *cols, size_t ncols,
				    store_row_fn row_fn, void *arg,
				    uint64_t *rows, uint64_t *affected)
{
	MYSQL_BIND pbind[STORE_MAX_BINDS], cbind[STORE_MAX_BINDS];
	column_state_t cstate[STORE_MAX_BINDS];
	MYSQL_STMT *stmt;
	store_status_t status = STORE_OK;
	uint64_t nrows = 0;
	size_t i;
	int rc;

	if (rows) *rows = 0;
	if (affected) *affected = 0;
	if (conn->broken) return STORE_ERROR;
	if (nparams > STORE_MAX_BINDS || ncols > STORE_MAX_BINDS) {
		snprintf(conn->error, sizeof(conn->error), "too many bind values");
		return STORE_ERROR;
	}

	stmt = statement_for(conn, sql, &status);
	if (!stmt) return status;
	status = STORE_OK;

	if (mysql_stmt_param_count(stmt) != nparams) {
		snprintf(conn->error, sizeof(conn->error), "statement expects %lu parameters, %zu given",
			 mysql_stmt_param_count(stmt), nparams);
		return STORE_ERROR;
	}
	for (i = 0; i < nparams; i++) bind_param(&pbind[i], &params[i]);
	if (nparams && mysql_stmt_bind_param(stmt, pbind) != 0) {
		return fail(conn, mysql_stmt_errno(stmt), "bind", mysql_stmt_error(stmt));
	}
	if (mysql_stmt_execute(stmt) != 0) {
		return fail(conn, mysql_stmt_errno(stmt), "execute", mysql_stmt_error(stmt));
	}
	if (affected) *affected = mysql_stmt_affected_rows(stmt);

	if (mysql_stmt_field_count(stmt) == 0) return STORE_OK;

	if (mysql_stmt_field_count(stmt) != ncols) {
		snprintf(conn->error, sizeof(conn->error), "statement returns %u columns, %zu expected",
			 mysql_stmt_field_count(stmt), ncols);
		mysql_stmt_free_result(stmt);
		mysql_stmt_reset(stmt);
		return STORE_ERROR;
	}
	memset(cstate, 0, sizeof(cstate));
	for (i = 0; i < ncols; i++) bind_column(&cbind[i], &cstate[i], &cols[i]);
	if (mysql_stmt_bind_result(stmt, cbind) != 0) {
		status = fail(conn, mysql_stmt_errno(stmt), "bind result", mysql_stmt_error(stmt));
		goto done;
	}
	if (mysql_stmt_store_result(stmt) != 0) {
		status = fail(conn, mysql_stmt_errno(stmt), "store result", mysql_stmt_error(stmt));
		goto done;
	}
	for (;;) {
		rc = mysql_stmt_fetch(stmt);
		if (rc == MYSQL_NO_DATA) break;
		if (rc == 1) {
			status = fail(conn, mysql_stmt_errno(stmt), "fetch", mysql_stmt_error(stmt));
			goto done;
		}
		/* rc 0 or MYSQL_DATA_TRUNCATED: finish_columns refuses any truncated column */
		if (finish_columns(cols, cstate, ncols) != 0) {
			snprintf(conn->error, sizeof(conn->error), "a value from the database does not fit its buffer");
			status = STORE_ERROR;
			goto done;
		}
		nrows++;
		if (!row_fn) break;
		if (row_fn(arg) != 0) {
			snprintf(conn->error, sizeof(conn->error), "row handler refused a row");
			status = STORE_ERROR;
			goto done;
		}
	}

done:
	if (rows) *rows = nrows;
	/*
	 * mysql_stmt_store_result read the whole result into the client, so
	 * freeing it leaves the statement ready to execute again: a reset
	 * would only cost one more round trip per SELECT.  After an error the
	 * server's side may still hold a result: reset it then.
	 */
	mysql_stmt_free_result(stmt);
	if (status != STORE_OK && !conn->broken && mysql_stmt_reset(stmt) != 0) {
		(void) fail(conn, mysql_stmt_errno(stmt), "reset", mysql_stmt_error(stmt));
		conn->broken = true;	/* a statement we cannot reset: start afresh */
	}
	return status;
}

/*
 * Inside a transaction, a statement that failed (an error, or a deadlock or
 * certification conflict, which rolled the whole transaction back) fails
 * the transaction: the statements after it are not run (they would run on
 * their own, outside it), and its end reports that first failure.  A
 * duplicate key (STORE_CONFLICT) undoes only its own statement.
 */
store_status_t store_run(store_conn_t *conn, char const *sql,
			 store_param_t const *params, size_t nparams,
			 store_col_t const *cols, size_t ncols,
			 store_row_fn row_fn, void *arg,
			 uint64_t *rows, uint64_t *affected)
{
	store_status_t status;

	if (conn->in_transaction && conn->transaction_failure != STORE_OK) {
		if (rows) *rows = 0;
		if (affected) *affected = 0;
		return conn->transaction_failure;
	}
	status = run_statement(conn, sql, params, nparams, cols, ncols, row_fn, arg, rows, affected);
	if (conn->in_transaction && (status == STORE_RETRY || status == STORE_ERROR)) {
		conn->transaction_failure = status;
	}
	return status;
}

store_status_t store_write(store_conn_t *conn, char const *sql,
			   store_param_t const *params, size_t nparams,
			   store_col_t const *cols, size_t ncols,
			   store_row_fn row_fn, void *arg,
			   uint64_t *rows, uint64_t *affected)
{
	store_status_t status;
	unsigned attempt;

	for (attempt = 1; ; attempt++) {
		status = store_run(conn, sql, params, nparams, cols, ncols, row_fn, arg, rows, affected);
		if (status != STORE_RETRY || conn->in_transaction || attempt == STORE_STATEMENT_ATTEMPTS) return status;
		/*
		 * Rolled back whole: run it again from scratch.  A conditional
		 * UPDATE is judged again against the row the winner wrote (on
		 * Galera, wsrep_sync_wait's UPDATE bit makes this node apply it
		 * first; without it, a stale run would fail certification again).
		 */
		{
			struct timespec pause = { 0, (long)attempt * 2000000L };	/* 2 ms, 4 ms */

			nanosleep(&pause, NULL);
		}
	}
}

store_status_t store_exec(store_conn_t *conn, char const *sql, store_param_t const *params, size_t nparams,
			  uint64_t *affected)
{
	return store_write(conn, sql, params, nparams, NULL, 0, NULL, NULL, NULL, affected);
}

store_status_t store_exec_one(store_conn_t *conn, char const *sql, store_param_t const *params, size_t nparams)
{
	store_status_t rc;
	uint64_t affected = 0;

	rc = store_exec(conn, sql, params, nparams, &affected);
	if (rc != STORE_OK) return rc;
	return affected == 1 ? STORE_OK : STORE_CONFLICT;
}

store_status_t store_exec_script(store_conn_t *conn, char const *script)
{
	MYSQL_RES *res;
	int rc;

	if (conn->broken) return STORE_ERROR;
	if (mysql_real_query(conn->mysql, script, strlen(script)) != 0) {
		return fail(conn, mysql_errno(conn->mysql), "script", mysql_error(conn->mysql));
	}
	do {
		res = mysql_store_result(conn->mysql);
		if (res) mysql_free_result(res);
		else if (mysql_field_count(conn->mysql) != 0) {
			return fail(conn, mysql_errno(conn->mysql), "script result", mysql_error(conn->mysql));
		}
		rc = mysql_next_result(conn->mysql);
		if (rc > 0) return fail(conn, mysql_errno(conn->mysql), "script", mysql_error(conn->mysql));
	} while (rc == 0);
	return STORE_OK;
}

store_status_t store_secret_fill(store_secret_t *out, char const *status, char const *algo, int64_t key_id,
				 int64_t digits, int64_t period)
{
	if (totp_status_parse(status, &out->status) != 0) return STORE_ERROR;
	if (totp_algo_parse(algo, &out->params.algo) != 0) return STORE_ERROR;
	if (key_id < 0 || key_id > UINT32_MAX || digits < 0 || digits > 10 || period < 0 || period > 3600) {
		return STORE_ERROR;
	}
	out->key_id = (uint32_t)key_id;
	out->params.digits = (unsigned)digits;
	out->params.period = (unsigned)period;
	return totp_params_valid(&out->params) ? STORE_OK : STORE_ERROR;
}

store_status_t store_begin(store_conn_t *conn)
{
	if (conn->broken) return STORE_ERROR;
	if (conn->in_transaction) {
		snprintf(conn->error, sizeof(conn->error), "a transaction is already open");
		return STORE_ERROR;
	}
	if (mysql_autocommit(conn->mysql, 0) != 0) {
		return fail(conn, mysql_errno(conn->mysql), "begin", mysql_error(conn->mysql));
	}
	conn->in_transaction = true;
	conn->transaction_failure = STORE_OK;
	return STORE_OK;
}

store_status_t store_commit(store_conn_t *conn)
{
	store_status_t status = conn->transaction_failure;

	conn->in_transaction = false;
	conn->transaction_failure = STORE_OK;
	if (conn->broken) return STORE_ERROR;
	if (status == STORE_OK && mysql_commit(conn->mysql) != 0) {
		status = fail(conn, mysql_errno(conn->mysql), "commit", mysql_error(conn->mysql));
	}
	if (status != STORE_OK) mysql_rollback(conn->mysql);
	if (mysql_autocommit(conn->mysql, 1) != 0 && status == STORE_OK) {
		status = fail(conn, mysql_errno(conn->mysql), "autocommit", mysql_error(conn->mysql));
	}
	return status;
}

void store_rollback(store_conn_t *conn)
{
	conn->in_transaction = false;
	conn->transaction_failure = STORE_OK;
	if (conn->broken) return;
	if (mysql_rollback(conn->mysql) != 0) {
		fail(conn, mysql_errno(conn->mysql), "rollback", mysql_error(conn->mysql));
		return;
	}
	if (mysql_autocommit(conn->mysql, 1) != 0) {
		fail(conn, mysql_errno(conn->mysql), "autocommit", mysql_error(conn->mysql));
	}
}

/*
 * The module's transactions (store_login.h): prepared statements, one
 * round trip each, autocommit left on (after COMMIT or ROLLBACK each
 * statement is its own transaction again), against store_begin's three
 * (autocommit off, COMMIT, autocommit on).
 */
static char const SQL_TRANSACTION_START[] = "START TRANSACTION";
static char const SQL_TRANSACTION_COMMIT[] = "COMMIT";
static char const SQL_TRANSACTION_ROLLBACK[] = "ROLLBACK";

store_status_t store_transaction_start(store_conn_t *conn)
{
	store_status_t status;

	if (conn->in_transaction) {
		snprintf(conn->error, sizeof(conn->error), "a transaction is already open");
		return STORE_ERROR;
	}
	status = run_statement(conn, SQL_TRANSACTION_START, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL);
	if (status != STORE_OK) return status;
	conn->in_transaction = true;
	conn->transaction_failure = STORE_OK;
	return STORE_OK;
}

store_status_t store_transaction_end(store_conn_t *conn)
{
	store_status_t status = conn->transaction_failure;

	if (!conn->in_transaction) {
		snprintf(conn->error, sizeof(conn->error), "no transaction to end");
		return STORE_ERROR;
	}
	conn->in_transaction = false;
	conn->transaction_failure = STORE_OK;
	if (status == STORE_OK) {
		status = run_statement(conn, SQL_TRANSACTION_COMMIT, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL);
		if (status == STORE_OK) return STORE_OK;
	}
	/* keeps the first failure's message; a connection that cannot roll back is not used again */
	if (!conn->broken &&
	    run_statement(conn, SQL_TRANSACTION_ROLLBACK, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL) != STORE_OK) {
		conn->broken = true;
	}
	return status;
}
