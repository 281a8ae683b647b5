-- 009_round2_pass.sql: the writes of a passed second step in one round trip
-- (doc/design.md, "Round 2 in one transaction").
--
-- Round 2 runs in one transaction (rlm_vrms2fa/flow.c, round2).  When the
-- second step passed, the module has decided everything that follows, and
-- what is left are writes whose results it does not need: the attempt it
-- took against the lockout given back, the State spent, the address trusted
-- and the audit row of that trust, then the commit.  Sent one by one they
-- were five round trips, each costing the module and the database more CPU
-- than the write itself; this procedure makes them one (store_round2_pass in
-- rlm_vrms2fa/store/store_login.c).  It decides nothing: the rules (whether
-- the address is trusted, how, until when) stay in the module.
--
-- SQL SECURITY INVOKER: it runs with the privileges of the account that
-- calls it (the module's), and so grants nothing that account lacks; the
-- module's account needs EXECUTE on it (vrms2fa-admin db grants module).
--
-- Result: one row, one column: 1 when the writes are committed; 0 when the
-- State had already been spent (the transaction then rolled back whole: the
-- module runs round 2 again, and its gate refuses the spent State).  An
-- error in any write (a deadlock, a Galera certification conflict at the
-- commit) ends the call with that error, the transaction not committed.
DROP PROCEDURE IF EXISTS round2_pass;
CREATE DEFINER = CURRENT_USER PROCEDURE round2_pass(
	IN p_login		VARBINARY(255),		-- the attempt to give back: the login name, or NULL for none
	IN p_pair		VARCHAR(64),		-- and the address key of its pair record
	IN p_digest		BINARY(32),		-- the State to spend (its challenge's token_digest)
	IN p_trust		TINYINT,		-- 1: trust the address (the columns below), 0: not
	IN p_user		BIGINT UNSIGNED,
	IN p_scope		VARCHAR(32),
	IN p_address		VARCHAR(64),
	IN p_kind		VARCHAR(4),
	IN p_how		VARCHAR(16),
	IN p_now		BIGINT,
	IN p_expires		BIGINT,			-- NULL: never
	IN p_company		BIGINT UNSIGNED,	-- the audit row of the trust
	IN p_actor		VARCHAR(128),
	IN p_detail		VARCHAR(1024),
	IN p_source		VARCHAR(128))
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	-- as store_failure_give_back: records that held only this attempt go,
	-- the others lose one attempt, and those left with nothing go too
	IF p_login IS NOT NULL THEN
		DELETE FROM login_failures WHERE login = p_login AND address IN ('', p_pair)
		   AND failures = 1 AND lockouts = 0 AND locked_until = 0;
		IF ROW_COUNT() <> 2 THEN
			UPDATE login_failures SET failures = IF(failures > 0, failures - 1, 0)
			 WHERE login = p_login AND address IN ('', p_pair)
			   AND NOT (failures = 1 AND lockouts = 0 AND locked_until = 0);
			DELETE FROM login_failures WHERE login = p_login AND address IN ('', p_pair)
			   AND failures = 0 AND lockouts = 0 AND locked_until = 0;
		END IF;
	END IF;

	UPDATE challenges SET spent = 1 WHERE token_digest = p_digest AND spent = 0;
	IF ROW_COUNT() <> 1 THEN
		ROLLBACK;
		SELECT 0;
	ELSE
		IF p_trust = 1 THEN
			INSERT INTO trusted_addresses
				(user_id, scope, address, kind, how, created_at, proven_at, last_used_at, expires_at)
			VALUES (p_user, p_scope, p_address, p_kind, p_how, p_now, p_now, p_now, p_expires)
			ON DUPLICATE KEY UPDATE how = VALUES(how), proven_at = VALUES(proven_at),
				last_used_at = VALUES(last_used_at), expires_at = VALUES(expires_at);
			INSERT INTO audit_log (at, actor, user_id, company_id, event, detail, source)
			VALUES (p_now, p_actor, p_user, p_company, 'address_trusted', p_detail, p_source);
		END IF;
		COMMIT;
		SELECT 1;
	END IF;
END;
