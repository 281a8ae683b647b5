-- 001_initial.sql: the schema of rlm_vrms2fa (doc/design.md, "Data model").
-- Times are Unix epoch seconds (BIGINT) written by the module's and the
-- admin tool's clocks, the same clock the TOTP codes use.
-- Every table is InnoDB, utf8mb4, and has a primary key (Galera needs one).

CREATE TABLE companies (
	id		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	name		VARCHAR(128) NOT NULL,
	security_level	ENUM('low','high') NOT NULL DEFAULT 'low',
	group_mask	TINYINT UNSIGNED NOT NULL DEFAULT 0,	-- bit 0 administrator, 1 company_user, 2 owner, 3 supplier
	grace_days	INT UNSIGNED NOT NULL DEFAULT 5,
	created_at	BIGINT NOT NULL,
	PRIMARY KEY (id),
	UNIQUE KEY companies_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE users (
	id		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	login		VARCHAR(64) NOT NULL,			-- exact, byte-wise match
	company_id	BIGINT UNSIGNED NOT NULL,
	user_group	ENUM('administrator','company_user','owner','supplier') NOT NULL,
	email		VARCHAR(254) NULL,
	password_hash	VARCHAR(512) NULL,			-- NULL: no password here (external check)
	disabled	TINYINT(1) NOT NULL DEFAULT 0,
	grace_deadline	BIGINT NULL,				-- set when the user becomes subject to the high level
	created_at	BIGINT NOT NULL,
	PRIMARY KEY (id),
	UNIQUE KEY users_login (login),
	KEY users_company (company_id),
	CONSTRAINT users_company_fk FOREIGN KEY (company_id) REFERENCES companies (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One TOTP secret per user: pending until a code confirms it, then active.
CREATE TABLE totp_secrets (
	user_id		BIGINT UNSIGNED NOT NULL,
	status		ENUM('pending','active') NOT NULL,
	sealed		VARBINARY(255) NOT NULL,		-- AES-256-GCM, see secretbox.h
	key_id		INT UNSIGNED NOT NULL,			-- the key that sealed it (rotation)
	algorithm	ENUM('SHA1','SHA256','SHA512') NOT NULL DEFAULT 'SHA1',
	digits		TINYINT UNSIGNED NOT NULL DEFAULT 6,
	period		SMALLINT UNSIGNED NOT NULL DEFAULT 30,
	last_counter	BIGINT UNSIGNED NOT NULL DEFAULT 0,	-- last accepted time step (replay guard)
	created_at	BIGINT NOT NULL,
	activated_at	BIGINT NULL,
	PRIMARY KEY (user_id),
	KEY totp_secrets_key (key_id),
	CONSTRAINT totp_secrets_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE recovery_codes (
	user_id		BIGINT UNSIGNED NOT NULL,
	slot		TINYINT UNSIGNED NOT NULL,
	salt		BINARY(16) NOT NULL,
	code_hash	BINARY(32) NOT NULL,			-- PBKDF2-HMAC-SHA256, see recovery.h
	used_at		BIGINT NULL,
	PRIMARY KEY (user_id, slot),
	CONSTRAINT recovery_codes_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE trusted_addresses (
	user_id		BIGINT UNSIGNED NOT NULL,
	address		VARCHAR(64) NOT NULL,			-- normalised, see address.h
	kind		ENUM('ipv4','ipv6','mac') NOT NULL,
	how		ENUM('enrollment','code','email','recovery') NOT NULL,
	created_at	BIGINT NOT NULL,
	proven_at	BIGINT NOT NULL,
	last_used_at	BIGINT NOT NULL,
	expires_at	BIGINT NULL,				-- NULL: never
	PRIMARY KEY (user_id, address),
	CONSTRAINT trusted_addresses_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Open Access-Challenges.  The key is SHA-256 of the State's 128 random bits.
CREATE TABLE challenges (
	token_digest	BINARY(32) NOT NULL,
	user_id		BIGINT UNSIGNED NOT NULL,
	kind		ENUM('code','enroll','email') NOT NULL,
	nas		VARCHAR(64) NOT NULL,			-- the client the challenge was sent to
	address		VARCHAR(64) NOT NULL,			-- normalised, '' when there was none
	created_at	BIGINT NOT NULL,
	expires_at	BIGINT NOT NULL,
	attempts_left	TINYINT UNSIGNED NOT NULL,
	spent		TINYINT(1) NOT NULL DEFAULT 0,
	PRIMARY KEY (token_digest),
	KEY challenges_expires (expires_at),
	CONSTRAINT challenges_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Consecutive failures per login name, known or not (lockout).
CREATE TABLE login_failures (
	login		VARBINARY(255) NOT NULL,
	failures	INT UNSIGNED NOT NULL DEFAULT 0,
	lockouts	INT UNSIGNED NOT NULL DEFAULT 0,
	locked_until	BIGINT NOT NULL DEFAULT 0,
	updated_at	BIGINT NOT NULL,
	PRIMARY KEY (login)
) ENGINE=InnoDB;

CREATE TABLE audit_log (
	id		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	at		BIGINT NOT NULL,
	actor		VARCHAR(128) NOT NULL,			-- a login, or 'radiusd', or 'vrms2fa-admin'
	user_id		BIGINT UNSIGNED NULL,
	company_id	BIGINT UNSIGNED NULL,
	event		VARCHAR(64) NOT NULL,
	detail		VARCHAR(1024) NOT NULL DEFAULT '',	-- never a secret or a code
	source		VARCHAR(128) NOT NULL DEFAULT '',	-- address, NAS or host
	PRIMARY KEY (id),
	KEY audit_log_user (user_id, at),
	KEY audit_log_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
