-- 007_backend.sql: what the VRMS web backend's database account may use,
-- and nothing else (README, "Database accounts"; vrms2fa-admin db grants).
-- The backend account holds only SELECT on the view and EXECUTE on the
-- procedure below: both run with the rights of their definer (the admin
-- tool's account that ran this migration), so the backend can confirm an
-- emailed link and read a user's state, but cannot write a trusted address,
-- a hash or a secret itself.

-- A user's state, without any hash, secret or code: login, company, group,
-- email, disabled, whether a password is set here, the 2FA status
-- ('none', 'pending', 'active'), the grace deadline, the company's level,
-- and the count of trusted addresses that have not expired.
CREATE OR REPLACE SQL SECURITY DEFINER VIEW backend_user_state AS
	SELECT u.login AS login, c.name AS company, u.user_group AS user_group, u.email AS email,
	       u.disabled AS disabled, (u.password_hash IS NOT NULL) AS has_password,
	       COALESCE(s.status, 'none') AS twofa, u.grace_deadline AS grace_deadline,
	       c.security_level AS security_level,
	       (SELECT COUNT(*) FROM trusted_addresses t
		 WHERE t.user_id = u.id AND (t.expires_at IS NULL OR t.expires_at > UNIX_TIMESTAMP())) AS trusted_addresses
	FROM users u
	JOIN companies c ON c.id = u.company_id
	LEFT JOIN totp_secrets s ON s.user_id = u.id;

-- Confirm a login by its emailed link, as "vrms2fa-admin email confirm
-- TOKEN" does (rlm_vrms2fa/account.c, account_email_confirm_link): the
-- token (32 lowercase hex digits, stored only as its SHA-256), sent, not
-- expired, not used; a disabled user or one with 2FA active is refused;
-- the confirmation that may trust its address trusts it (how 'email') for
-- p_trust_days days (the module's trust.lifetime; 0: no expiry; at most
-- 3650).  The clock is the database server's.  Returns one row:
--   result  'trusted' (confirmed, address trusted), 'confirmed' (the login
--           only), 'refused' (user disabled or 2FA active), 'unknown' (no
--           such token, expired, already used, or not a token)
--   login   the user's login, NULL when unknown
-- Audited as the admin tool's command is ('email_confirmed', 'address_trusted'),
-- actor 'backend'.
DROP PROCEDURE IF EXISTS backend_email_confirm;
CREATE DEFINER = CURRENT_USER PROCEDURE backend_email_confirm(IN p_token VARCHAR(64), IN p_trust_days INT)
	MODIFIES SQL DATA
	SQL SECURITY DEFINER
BEGIN
	DECLARE v_now BIGINT DEFAULT UNIX_TIMESTAMP();
	DECLARE v_id BIGINT UNSIGNED DEFAULT NULL;
	DECLARE v_user BIGINT UNSIGNED DEFAULT NULL;
	DECLARE v_company BIGINT UNSIGNED DEFAULT NULL;
	DECLARE v_login VARCHAR(64) DEFAULT NULL;
	DECLARE v_scope VARCHAR(32) DEFAULT '';
	DECLARE v_address VARCHAR(64) DEFAULT '';
	DECLARE v_may_trust TINYINT DEFAULT 0;
	DECLARE v_disabled TINYINT DEFAULT 1;
	DECLARE v_active TINYINT DEFAULT 1;
	DECLARE v_kind VARCHAR(4);
	DECLARE v_result VARCHAR(16) DEFAULT 'unknown';
	DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_id = NULL;

	IF p_token IS NOT NULL AND CHAR_LENGTH(p_token) = 32
	   AND CAST(p_token AS BINARY) REGEXP '^[0-9a-f]{32}$'
	   AND p_trust_days IS NOT NULL AND p_trust_days BETWEEN 0 AND 3650 THEN
		SELECT e.id, e.user_id, u.company_id, u.login, e.scope, e.address, e.may_trust, u.disabled,
		       COALESCE(s.status = 'active', 0)
		  INTO v_id, v_user, v_company, v_login, v_scope, v_address, v_may_trust, v_disabled, v_active
		  FROM email_confirmations e
		  JOIN users u ON u.id = e.user_id
		  LEFT JOIN totp_secrets s ON s.user_id = e.user_id
		 WHERE e.token_hash = UNHEX(SHA2(p_token, 256)) AND e.expires_at > v_now
		   AND e.confirmed_at IS NULL AND e.sent_at IS NOT NULL;
		IF v_id IS NULL THEN
			SET v_login = NULL;
		ELSEIF v_disabled <> 0 OR v_active <> 0 THEN
			SET v_result = 'refused';
		ELSE
			UPDATE email_confirmations SET confirmed_at = v_now, confirmed_by = 'link'
			 WHERE id = v_id AND confirmed_at IS NULL AND expires_at > v_now;
			IF ROW_COUNT() = 1 THEN
				SET v_result = 'confirmed';
				IF v_may_trust <> 0 AND v_address <> '' THEN
					SET v_kind = CASE
						WHEN CAST(v_address AS BINARY) REGEXP '^([0-9a-f]{2}:){5}[0-9a-f]{2}$' THEN 'mac'
						WHEN v_address LIKE '%:%' THEN 'ipv6'
						ELSE 'ipv4' END;
					INSERT INTO trusted_addresses (user_id, scope, address, kind, how, created_at, proven_at,
								       last_used_at, expires_at)
					VALUES (v_user, v_scope, v_address, v_kind, 'email', v_now, v_now, v_now,
						IF(p_trust_days > 0, v_now + p_trust_days * 86400, NULL))
					ON DUPLICATE KEY UPDATE how = VALUES(how), proven_at = VALUES(proven_at),
						last_used_at = VALUES(last_used_at), expires_at = VALUES(expires_at);
					SET v_result = 'trusted';
				END IF;
				INSERT INTO audit_log (at, actor, user_id, company_id, event, detail, source)
				VALUES (v_now, 'backend', v_user, v_company, 'email_confirmed', 'by link', '');
				IF v_result = 'trusted' THEN
					INSERT INTO audit_log (at, actor, user_id, company_id, event, detail, source)
					VALUES (v_now, 'backend', v_user, v_company, 'address_trusted', 'address trusted by email', '');
				END IF;
			ELSE
				SET v_login = NULL;
			END IF;
		END IF;
	END IF;
	SELECT v_result AS result, v_login AS login;
END;
