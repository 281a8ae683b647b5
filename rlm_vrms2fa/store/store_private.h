/*
 * store_private.h - the statement runner shared by the store_*.c files:
 * typed parameters and result columns, bound to a server-side prepared
 * statement that is prepared once per connection (keyed by the address of
 * its SQL text) and reused.  Nothing outside rlm_vrms2fa/store includes it.
 */
#ifndef VRMS2FA_STORE_PRIVATE_H
#define VRMS2FA_STORE_PRIVATE_H

#include <string.h>
#include "store.h"

typedef enum {
	SV_I64 = 1,
	SV_U64,
	SV_TEXT,	/* parameter: bytes; column: NUL-terminated text, refused if it does not fit */
	SV_BLOB,	/* bytes with a length */
	SV_NULL		/* parameter only */
} store_value_type_t;

typedef struct {
	store_value_type_t	type;
	int64_t			i64;
	uint64_t		u64;
	void const		*ptr;
	size_t			len;
} store_param_t;

#define P_I64(v)	((store_param_t){ .type = SV_I64, .i64 = (int64_t)(v) })
#define P_U64(v)	((store_param_t){ .type = SV_U64, .u64 = (uint64_t)(v) })
#define P_TEXT(s)	((store_param_t){ .type = SV_TEXT, .ptr = (s), .len = strlen(s) })
#define P_TEXTN(s, n)	((store_param_t){ .type = SV_TEXT, .ptr = (s), .len = (n) })
#define P_BLOB(p, n)	((store_param_t){ .type = SV_BLOB, .ptr = (p), .len = (n) })
#define P_NULL()	((store_param_t){ .type = SV_NULL })

typedef struct {
	store_value_type_t	type;
	void			*ptr;
	size_t			cap;		/* TEXT: bytes including the NUL; BLOB: bytes */
	size_t			*len;		/* BLOB/TEXT: length received (may be NULL for TEXT) */
	bool			*is_null;	/* may be NULL: then a NULL reads as 0 / "" */
} store_col_t;

#define C_I64(p, n)		((store_col_t){ .type = SV_I64, .ptr = (p), .is_null = (n) })
#define C_U64(p, n)		((store_col_t){ .type = SV_U64, .ptr = (p), .is_null = (n) })
#define C_TEXT(buf, size, n)	((store_col_t){ .type = SV_TEXT, .ptr = (buf), .cap = (size), .is_null = (n) })
#define C_BLOB(buf, size, l, n)	((store_col_t){ .type = SV_BLOB, .ptr = (buf), .cap = (size), .len = (l), .is_null = (n) })

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Called after each fetched row; return 0 to go on, -1 to stop with STORE_ERROR. */
typedef int (*store_row_fn)(void *arg);

/*
 * Run one prepared statement.  With row_fn NULL at most the first row is
 * kept in the column buffers.  rows (may be NULL) receives the number of
 * rows fetched, affected (may be NULL) the number of rows changed.
 */
store_status_t store_run(store_conn_t *conn, char const *sql,
			 store_param_t const *params, size_t nparams,
			 store_col_t const *cols, size_t ncols,
			 store_row_fn row_fn, void *arg,
			 uint64_t *rows, uint64_t *affected);

/*
 * store_run for a write, which may also return rows (INSERT ... RETURNING):
 * run on its own (autocommit), a write rolled back by a deadlock or a
 * Galera certification conflict is run again, up to
 * STORE_STATEMENT_ATTEMPTS times (row_fn sees only the rows of the run that
 * succeeded, and of a failed one before it: it must start afresh on the
 * first row it is given).  Inside a transaction it runs once.
 */
store_status_t store_write(store_conn_t *conn, char const *sql,
			   store_param_t const *params, size_t nparams,
			   store_col_t const *cols, size_t ncols,
			   store_row_fn row_fn, void *arg,
			   uint64_t *rows, uint64_t *affected);

/* A write whose only interest is how many rows it changed (store_write without rows). */
store_status_t store_exec(store_conn_t *conn, char const *sql, store_param_t const *params, size_t nparams,
			  uint64_t *affected);

/*
 * A conditional write judged by the rows it changed: STORE_OK when exactly
 * one changed, STORE_CONFLICT when none did (used, raced, refused).
 */
store_status_t store_exec_one(store_conn_t *conn, char const *sql, store_param_t const *params, size_t nparams);

/* Plain text SQL without parameters (schema migrations only; never with outside data). */
store_status_t store_exec_script(store_conn_t *conn, char const *script);

/*
 * The columns of a totp_secrets row (status, algorithm, key_id, digits,
 * period) into *out, which already holds sealed and last_counter.  A value
 * the schema does not allow is STORE_ERROR (fail closed).
 */
store_status_t store_secret_fill(store_secret_t *out, char const *status, char const *algo, int64_t key_id,
				 int64_t digits, int64_t period);

/* Last AUTO_INCREMENT id of this connection. */
uint64_t store_insert_id(store_conn_t *conn);

#endif
