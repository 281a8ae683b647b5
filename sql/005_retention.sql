-- 005_retention.sql: indexes for the pruning of expired rows (README,
-- "What is kept, and for how long"; rlm_vrms2fa/core/retention.h).  Each
-- prune is "DELETE ... WHERE <time column> < ? LIMIT n" (or a COUNT(*) of
-- the same, for --dry-run): these indexes make it a range scan of the
-- expired rows only, never a scan of the table.  challenges_expires
-- (001) and audit_log_at (001) serve challenges and audit_log already.
-- Plain ALTERs (InnoDB adds indexes in place), the same on Galera.
ALTER TABLE email_confirmations ADD KEY email_confirmations_expires (expires_at);
ALTER TABLE email_sends ADD KEY email_sends_sent (sent_at);
-- login_failures: a record has decayed when both times are old enough;
-- locked_until in the key lets the range scan test it without the row.
ALTER TABLE login_failures ADD KEY login_failures_quiet (updated_at, locked_until);
ALTER TABLE trusted_addresses ADD KEY trusted_addresses_expires (expires_at);
ALTER TABLE totp_secrets ADD KEY totp_secrets_status_created (status, created_at);
