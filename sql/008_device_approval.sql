-- 008_device_approval.sql: devices waiting for out-of-band approval
-- (README, "Wi-Fi (802.1X)"; doc/design.md, "Device approval").
--
-- A user with two-step verification who connects from a new device through
-- a client that cannot show an Access-Challenge (an EAP inner tunnel) is
-- rejected, and the device is recorded here.  A current code sent by the
-- web backend over RADIUS (VRMS2FA-Approve-Device), or the operator
-- (vrms2fa-admin trusted add), approves it: the address then becomes a
-- trusted address of the user in the scope recorded here.
CREATE TABLE device_approvals (
	id		BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	user_id		BIGINT UNSIGNED NOT NULL,
	scope		VARCHAR(32) NOT NULL DEFAULT '',	-- the trust scope of the client that saw the device
	address		VARCHAR(64) NOT NULL,			-- normalised (a MAC over Wi-Fi)
	kind		ENUM('ipv4','ipv6','mac') NOT NULL,
	nas		VARCHAR(64) NOT NULL,			-- the client (access point, controller) it connected through
	created_at	BIGINT NOT NULL,			-- when this request for approval was made (renewed once expired)
	last_seen_at	BIGINT NOT NULL,			-- the device's last attempt
	expires_at	BIGINT NOT NULL,
	approved_at	BIGINT NULL,				-- NULL while pending
	approved_by	ENUM('code','admin') NULL,
	PRIMARY KEY (id),
	UNIQUE KEY device_approvals_device (user_id, scope, address),
	KEY device_approvals_created (user_id, created_at),
	KEY device_approvals_expires (expires_at),		-- retention (vrms2fa-admin prune)
	CONSTRAINT device_approvals_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
