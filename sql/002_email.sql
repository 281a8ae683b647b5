-- 002_email.sql: email confirmation of new addresses for users without
-- two-step verification (doc/design.md, "Email confirmation").  The code and the link token
-- are stored only as hashes.
CREATE TABLE email_confirmations (
	id		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	user_id		BIGINT UNSIGNED NOT NULL,
	address		VARCHAR(64) NOT NULL,			-- normalised; the confirmation trusts only this address
	salt		BINARY(16) NOT NULL,
	code_hash	BINARY(32) NOT NULL,			-- PBKDF2-HMAC-SHA256 of the 6-digit code
	token_hash	BINARY(32) NOT NULL,			-- SHA-256 of the 128-bit link token
	created_at	BIGINT NOT NULL,
	expires_at	BIGINT NOT NULL,
	sent_at		BIGINT NULL,				-- NULL until the hook reported success
	send_attempts	INT UNSIGNED NOT NULL DEFAULT 0,
	confirmed_at	BIGINT NULL,				-- by code or by link
	confirmed_by	ENUM('code','link') NULL,
	PRIMARY KEY (id),
	UNIQUE KEY email_confirmations_token (token_hash),
	KEY email_confirmations_user (user_id, address, expires_at),
	KEY email_confirmations_created (user_id, created_at),
	CONSTRAINT email_confirmations_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Each send (or attempt) counts toward the per-user hourly limit.
CREATE TABLE email_sends (
	user_id		BIGINT UNSIGNED NOT NULL,
	sent_at		BIGINT NOT NULL,
	seq		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	PRIMARY KEY (seq),
	KEY email_sends_user (user_id, sent_at),
	CONSTRAINT email_sends_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;
