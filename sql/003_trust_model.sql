-- 003_trust_model.sql: how trust was earned, and what may never become it
-- (doc/design.md, "The trust model").
--
-- trusted_addresses.scope: the operator's trust scope of the client group
-- the address was proven through ('' = one scope for every client), so that
-- an address proven through the VPN need not be trusted by the Wi-Fi.
-- trusted_addresses.how gains 'admin' (vrms2fa-admin trusted add).
ALTER TABLE trusted_addresses
	ADD COLUMN scope VARCHAR(32) NOT NULL DEFAULT '' AFTER user_id,
	MODIFY COLUMN how ENUM('enrollment','code','email','recovery','admin') NOT NULL,
	DROP PRIMARY KEY,
	ADD PRIMARY KEY (user_id, scope, address);

-- The enrollment challenge that showed a pending secret (SHA-256 of its
-- State); only that challenge may confirm it.  NULL: made by the admin tool
-- ("enroll begin"), confirmed only with the admin tool.
ALTER TABLE totp_secrets
	ADD COLUMN challenge_digest BINARY(32) NULL AFTER last_counter;

-- An email confirmation asked for by a request that may not earn trust (no
-- Message-Authenticator, or an address that cannot be a trust key): its
-- code or link confirms the login, never the address.
-- email_confirmations.scope: the trust scope of the login that asked for it.
ALTER TABLE email_confirmations
	ADD COLUMN may_trust TINYINT(1) NOT NULL DEFAULT 1 AFTER address,
	ADD COLUMN scope VARCHAR(32) NOT NULL DEFAULT '' AFTER may_trust;
