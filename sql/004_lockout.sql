-- 004_lockout.sql: failures counted per (login name, address) and per login
-- name (doc/design.md, "Lockout").
--
-- login_failures.address: the normalised address of the pair record, '-'
-- for requests without a usable address, and '' for the record of the name
-- alone (every address together).  Existing rows become name records.
-- updated_at is when the last attempt was taken: counts decay after
-- lockout.reset_after seconds without one (and after the lock ended).
-- A plain ALTER (InnoDB, primary key kept, no table lock statements), so
-- that it runs the same on a single server and on Galera.
ALTER TABLE login_failures
	ADD COLUMN address VARCHAR(64) NOT NULL DEFAULT '' AFTER login,
	DROP PRIMARY KEY,
	ADD PRIMARY KEY (login, address);
