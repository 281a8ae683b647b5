-- 006_names.sql: names compare without padding (doc/design.md, "Names").
--
-- utf8mb4_bin is a PAD SPACE collation: 'alice ' = 'alice', so a command
-- naming 'alice ' found alice.  utf8mb4_nopad_bin compares the same bytes
-- and counts trailing spaces, so 'alice ' names nobody.  The same column
-- types and NOT NULL; the unique keys stay (no two rows that were distinct
-- before can become equal).  A plain ALTER, the same on one server and on
-- Galera.
ALTER TABLE users
	MODIFY login VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL;
ALTER TABLE companies
	MODIFY name VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL;
