/*
 * settings.c - the parser table and the checks of the vrms2fa section
 * (see settings.h and raddb/mods-available/vrms2fa for each option).
 */
#include "settings.h"
#include "core/db_tls.h"
#include "core/policy.h"

static CONF_PARSER const database_tls_parser[] = {
	{ "ca_file", FR_CONF_OFFSET(PW_TYPE_STRING, vrms2fa_settings_t, db_tls_ca_file), "" },
	{ "cert_file", FR_CONF_OFFSET(PW_TYPE_STRING, vrms2fa_settings_t, db_tls_cert_file), "" },
	{ "key_file", FR_CONF_OFFSET(PW_TYPE_STRING, vrms2fa_settings_t, db_tls_key_file), "" },
	{ "verify_server_cert", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, vrms2fa_settings_t, db_tls_verify_server_cert), "yes" },
	{ "required", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, vrms2fa_settings_t, db_tls_required), "yes" },
	CONF_PARSER_TERMINATOR
};

static CONF_PARSER const database_parser[] = {
	{ "server", FR_CONF_OFFSET(PW_TYPE_STRING, vrms2fa_settings_t, db_server), "" },
	{ "port", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, db_port), "3306" },
	{ "socket", FR_CONF_OFFSET(PW_TYPE_STRING, vrms2fa_settings_t, db_socket), "" },
	{ "login", FR_CONF_OFFSET(PW_TYPE_STRING, vrms2fa_settings_t, db_login), "vrms2fa" },
	{ "password", FR_CONF_OFFSET(PW_TYPE_STRING | PW_TYPE_SECRET, vrms2fa_settings_t, db_password), "" },
	{ "name", FR_CONF_OFFSET(PW_TYPE_STRING | PW_TYPE_NOT_EMPTY, vrms2fa_settings_t, db_name), "vrms2fa" },
	{ "connect_timeout", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, db_connect_timeout), "3" },
	{ "query_timeout", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, db_query_timeout), "5" },
	{ "wsrep_sync_wait", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, db_wsrep_sync_wait), "0" },
	{ "tls", FR_CONF_POINTER(PW_TYPE_SUBSECTION, NULL), (void const *) database_tls_parser },
	{ "admin_login", FR_CONF_OFFSET(PW_TYPE_STRING, vrms2fa_settings_t, db_admin_login), "" },
	{ "admin_password_file", FR_CONF_OFFSET(PW_TYPE_STRING, vrms2fa_settings_t, db_admin_password_file), "" },
	CONF_PARSER_TERMINATOR
};

static CONF_PARSER const totp_parser[] = {
	{ "issuer", FR_CONF_OFFSET(PW_TYPE_STRING | PW_TYPE_NOT_EMPTY, vrms2fa_settings_t, issuer), "VRMS" },
	{ "algorithm", FR_CONF_OFFSET(PW_TYPE_STRING, vrms2fa_settings_t, totp_algorithm), "SHA1" },
	{ "digits", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, totp_digits), "6" },
	{ "period", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, totp_period), "30" },
	{ "window", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, totp_window), "1" },
	{ "key_in_message", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, vrms2fa_settings_t, key_in_message), "yes" },
	CONF_PARSER_TERMINATOR
};

static CONF_PARSER const challenge_parser[] = {
	{ "lifetime", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, challenge_lifetime), "120" },
	{ "attempts", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, challenge_attempts), "3" },
	CONF_PARSER_TERMINATOR
};

static CONF_PARSER const trust_parser[] = {
	{ "address_attribute", FR_CONF_OFFSET(PW_TYPE_STRING, vrms2fa_settings_t, address_attribute), "Calling-Station-Id" },
	{ "lifetime", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, trust_lifetime), "30" },
	{ "mac", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, vrms2fa_settings_t, trust_mac), "yes" },
	{ "require_message_authenticator", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, vrms2fa_settings_t, require_message_authenticator), "yes" },
	CONF_PARSER_TERMINATOR
};

static CONF_PARSER const lockout_parser[] = {
	{ "failures", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, lockout_failures), "5" },
	{ "duration", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, lockout_base), "60" },
	{ "max_duration", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, lockout_max), "3600" },
	{ "name_failures", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, lockout_name_failures), "100" },
	{ "reset_after", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, lockout_reset_after), "3600" },
	CONF_PARSER_TERMINATOR
};

static CONF_PARSER const password_parser[] = {
	{ "max_memory", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, password_max_memory), "256" },
	{ "memory_hard_budget", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, password_memory_hard_budget), "1024" },
	{ "memory_hard_wait", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, password_memory_hard_wait), "1000" },
	{ "dummy_refresh", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, password_dummy_refresh), "3600" },
	CONF_PARSER_TERMINATOR
};

static CONF_PARSER const retention_parser[] = {
	{ "audit_days", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, retention_audit_days), "365" },
	{ "prune_interval", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, retention_prune_interval), "60" },
	{ "prune_batch", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, retention_prune_batch), "200" },
	CONF_PARSER_TERMINATOR
};

static CONF_PARSER const email_parser[] = {
	{ "enabled", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, vrms2fa_settings_t, email_enabled), "yes" },
	{ "hook", FR_CONF_OFFSET(PW_TYPE_STRING, vrms2fa_settings_t, email_hook),
	  "/usr/libexec/rlm_vrms2fa/vrms2fa-email-hook /etc/freeradius/3.0/vrms2fa-email.conf" },
	{ "hook_timeout", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, email_hook_timeout), "5" },
	{ "max_running_hooks", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, email_max_running_hooks), "4" },
	{ "code_lifetime", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, email_code_lifetime), "900" },
	{ "link_url", FR_CONF_OFFSET(PW_TYPE_STRING, vrms2fa_settings_t, email_link_url),
	  "https://vrms.example.com/login/confirm?token={token}" },
	{ "max_per_hour", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, email_max_per_hour), "5" },
	CONF_PARSER_TERMINATOR
};

static CONF_PARSER const admin_parser[] = {
	{ "operator_group", FR_CONF_OFFSET(PW_TYPE_STRING, vrms2fa_settings_t, admin_operator_group), "" },
	CONF_PARSER_TERMINATOR
};

CONF_PARSER const vrms2fa_settings_parser[] = {
	{ "database", FR_CONF_POINTER(PW_TYPE_SUBSECTION, NULL), (void const *) database_parser },
	{ "key_file", FR_CONF_OFFSET(PW_TYPE_STRING | PW_TYPE_REQUIRED | PW_TYPE_NOT_EMPTY, vrms2fa_settings_t, key_file), NULL },
	{ "key_id", FR_CONF_OFFSET(PW_TYPE_INTEGER, vrms2fa_settings_t, key_id), "1" },
	{ "password_check", FR_CONF_OFFSET(PW_TYPE_STRING, vrms2fa_settings_t, password_check), "internal" },
	{ "single_pass", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, vrms2fa_settings_t, single_pass), "no" },
	{ "password", FR_CONF_POINTER(PW_TYPE_SUBSECTION, NULL), (void const *) password_parser },
	{ "totp", FR_CONF_POINTER(PW_TYPE_SUBSECTION, NULL), (void const *) totp_parser },
	{ "challenge", FR_CONF_POINTER(PW_TYPE_SUBSECTION, NULL), (void const *) challenge_parser },
	{ "trust", FR_CONF_POINTER(PW_TYPE_SUBSECTION, NULL), (void const *) trust_parser },
	{ "email", FR_CONF_POINTER(PW_TYPE_SUBSECTION, NULL), (void const *) email_parser },
	{ "lockout", FR_CONF_POINTER(PW_TYPE_SUBSECTION, NULL), (void const *) lockout_parser },
	{ "retention", FR_CONF_POINTER(PW_TYPE_SUBSECTION, NULL), (void const *) retention_parser },
	{ "admin", FR_CONF_POINTER(PW_TYPE_SUBSECTION, NULL), (void const *) admin_parser },
	CONF_PARSER_TERMINATOR
};

static int out_of_range(CONF_SECTION *cs, char const *option, uint32_t value, char const *why)
{
	cf_log_err_cs(cs, "Invalid value %u for '%s': %s", value, option, why);
	return -1;
}

int vrms2fa_settings_check(vrms2fa_settings_t const *s, CONF_SECTION *cs, flow_config_t *flow, store_config_t *store)
{
	char const *reason = NULL;
	db_tls_plan_t tls_plan;

	if (s->db_port == 0 || s->db_port > 65535) return out_of_range(cs, "database.port", s->db_port, "must be 1..65535");
	if (s->db_connect_timeout == 0 || s->db_connect_timeout > 60) {
		return out_of_range(cs, "database.connect_timeout", s->db_connect_timeout, "must be 1..60 seconds");
	}
	if (s->db_query_timeout == 0 || s->db_query_timeout > 60) {
		return out_of_range(cs, "database.query_timeout", s->db_query_timeout, "must be 1..60 seconds");
	}
	if (s->db_wsrep_sync_wait > 15) {
		return out_of_range(cs, "database.wsrep_sync_wait", s->db_wsrep_sync_wait, "must be 0..15 (Galera: 3)");
	}
	{
		db_tls_input_t tls_in = {
			.host = s->db_server, .socket = s->db_socket, .ca_file = s->db_tls_ca_file,
			.cert_file = s->db_tls_cert_file, .key_file = s->db_tls_key_file,
			.verify_server_cert = s->db_tls_verify_server_cert, .required = s->db_tls_required
		};

		if (db_tls_decide(&tls_in, &tls_plan, &reason) != 0) {
			cf_log_err_cs(cs, "Invalid database settings (server \"%s\"): %s",
				      s->db_server ? s->db_server : "", reason);
			return -1;
		}
		reason = NULL;
	}
	if (s->key_id == 0) return out_of_range(cs, "key_id", s->key_id, "must be a key id from key_file (1 or more)");

	if (strcmp(s->password_check, "internal") != 0 && strcmp(s->password_check, "external") != 0) {
		cf_log_err_cs(cs, "Invalid value \"%s\" for 'password_check': must be \"internal\" or \"external\"",
			      s->password_check);
		return -1;
	}
	if (s->password_max_memory < 32 || s->password_max_memory > 1024) {
		return out_of_range(cs, "password.max_memory", s->password_max_memory, "must be 32..1024 MiB");
	}
	if (s->password_memory_hard_budget < s->password_max_memory || s->password_memory_hard_budget > 65536) {
		return out_of_range(cs, "password.memory_hard_budget", s->password_memory_hard_budget,
				    "must be password.max_memory..65536 MiB (a check of the largest hash must fit)");
	}
	if (s->password_memory_hard_wait > 10000) {
		return out_of_range(cs, "password.memory_hard_wait", s->password_memory_hard_wait, "must be 0..10000 ms");
	}
	if (s->password_dummy_refresh < 10 || s->password_dummy_refresh > 86400) {
		return out_of_range(cs, "password.dummy_refresh", s->password_dummy_refresh, "must be 10..86400 seconds");
	}
	if (strchr(s->issuer, ':')) {
		cf_log_err_cs(cs, "Invalid value \"%s\" for 'totp.issuer': must not contain ':'", s->issuer);
		return -1;
	}

	totp_params_t totp = TOTP_DEFAULT_PARAMS;
	lockout_config_t lockout;

	if (totp_algo_parse(s->totp_algorithm, &totp.algo) != 0) {
		cf_log_err_cs(cs, "Invalid value \"%s\" for 'totp.algorithm': must be SHA1, SHA256 or SHA512",
			      s->totp_algorithm);
		return -1;
	}
	totp.digits = s->totp_digits;
	totp.period = s->totp_period;
	if (s->totp_digits < 6 || s->totp_digits > 8) return out_of_range(cs, "totp.digits", s->totp_digits, "must be 6, 7 or 8");
	if (!totp_params_valid(&totp)) return out_of_range(cs, "totp.period", s->totp_period, "must be 1..300 seconds");
	if (s->totp_window > 3) {
		return out_of_range(cs, "totp.window", s->totp_window, "must be 0..3 steps (RFC 6238 recommends 1)");
	}
	if (s->challenge_lifetime < 10 || s->challenge_lifetime > 900) {
		return out_of_range(cs, "challenge.lifetime", s->challenge_lifetime, "must be 10..900 seconds");
	}
	if (s->challenge_attempts < 1 || s->challenge_attempts > 10) {
		return out_of_range(cs, "challenge.attempts", s->challenge_attempts, "must be 1..10");
	}
	if (s->trust_lifetime > 3650) return out_of_range(cs, "trust.lifetime", s->trust_lifetime, "must be 0..3650 days");

	if (s->email_hook_timeout < 1 || s->email_hook_timeout > 30) {
		return out_of_range(cs, "email.hook_timeout", s->email_hook_timeout, "must be 1..30 seconds");
	}
	if (s->email_max_running_hooks < 1 || s->email_max_running_hooks > 64) {
		return out_of_range(cs, "email.max_running_hooks", s->email_max_running_hooks,
				    "must be 1..64 (well below the thread pool's max_servers)");
	}
	if (s->email_code_lifetime < 60 || s->email_code_lifetime > 86400) {
		return out_of_range(cs, "email.code_lifetime", s->email_code_lifetime, "must be 60..86400 seconds");
	}
	if (s->email_max_per_hour < 1 || s->email_max_per_hour > 100) {
		return out_of_range(cs, "email.max_per_hour", s->email_max_per_hour, "must be 1..100");
	}
	if (!strstr(s->email_link_url, "{token}")) {
		cf_log_err_cs(cs, "Invalid value \"%s\" for 'email.link_url': must contain {token}", s->email_link_url);
		return -1;
	}

	if (s->lockout_failures < 1 || s->lockout_failures > 100) {
		return out_of_range(cs, "lockout.failures", s->lockout_failures, "must be 1..100 (NIST SP 800-63B allows 100)");
	}
	if (s->lockout_name_failures < s->lockout_failures || s->lockout_name_failures > 100) {
		return out_of_range(cs, "lockout.name_failures", s->lockout_name_failures,
				    "must be lockout.failures..100 (NIST SP 800-63B allows 100)");
	}
	if (s->lockout_base < 1) return out_of_range(cs, "lockout.duration", s->lockout_base, "must be at least 1 second");
	if (s->lockout_max < s->lockout_base) {
		return out_of_range(cs, "lockout.max_duration", s->lockout_max, "must be at least lockout.duration");
	}

	lockout.max_failures = s->lockout_failures;
	lockout.base_seconds = s->lockout_base;
	lockout.max_seconds = s->lockout_max;
	lockout.name_max_failures = s->lockout_name_failures;
	lockout.reset_after_seconds = s->lockout_reset_after;
	if (lockout_config_check(&lockout, &reason) != 0) {
		cf_log_err_cs(cs, "Invalid lockout settings: %s", reason ? reason : "out of range");
		return -1;
	}

	if (s->retention_audit_days > RETENTION_AUDIT_DAYS_MAX) {
		return out_of_range(cs, "retention.audit_days", s->retention_audit_days, "must be 0..36500 days (0: forever)");
	}
	if (s->retention_prune_interval > 86400) {
		return out_of_range(cs, "retention.prune_interval", s->retention_prune_interval,
				    "must be 0..86400 seconds (0: only vrms2fa-admin prune)");
	}
	if (s->retention_prune_batch < 1 || s->retention_prune_batch > 10000) {
		return out_of_range(cs, "retention.prune_batch", s->retention_prune_batch, "must be 1..10000 rows");
	}

	flow->totp = totp;
	flow->totp_window = s->totp_window;
	flow->lockout = lockout;
	flow->challenge_lifetime = s->challenge_lifetime;
	flow->challenge_attempts = s->challenge_attempts;
	flow->trust_lifetime = policy_days_to_seconds(s->trust_lifetime);
	flow->require_message_authenticator = s->require_message_authenticator;
	flow->mac_trust = s->trust_mac;
	flow->key_in_message = s->key_in_message;
	flow->single_pass = s->single_pass;
	flow->external_password = strcmp(s->password_check, "external") == 0;
	flow->max_memory = (uint64_t) s->password_max_memory << 20;
	flow->memory_wait_ms = s->password_memory_hard_wait;
	flow->dummy_refresh = s->password_dummy_refresh;
	flow->issuer = s->issuer;
	flow->email_enabled = s->email_enabled;
	flow->email_hook_timeout_ms = s->email_hook_timeout * 1000;
	flow->email_code_lifetime = s->email_code_lifetime;
	flow->email_link_url = s->email_link_url;
	flow->email_max_per_hour = s->email_max_per_hour;

	memset(store, 0, sizeof(*store));
	store->host = s->db_server;
	store->port = s->db_port;
	store->socket = s->db_socket;
	store->user = s->db_login;
	store->password = s->db_password;
	store->database = s->db_name;
	store->connect_timeout = s->db_connect_timeout;
	store->read_timeout = s->db_query_timeout;
	store->write_timeout = s->db_query_timeout;
	store->wsrep_sync_wait = s->db_wsrep_sync_wait;
	store->tls = tls_plan.use_tls;
	store->tls_verify = tls_plan.verify;
	store->tls_enforce = tls_plan.enforce;
	store->tls_ca_file = s->db_tls_ca_file;
	store->tls_cert_file = s->db_tls_cert_file;
	store->tls_key_file = s->db_tls_key_file;
	return 0;
}

void vrms2fa_settings_retention(vrms2fa_settings_t const *s, retention_config_t *out)
{
	out->audit_days = s->retention_audit_days;
	out->lockout_reset_after = s->lockout_reset_after;
}

int vrms2fa_hook_argv(TALLOC_CTX *ctx, CONF_SECTION *cs, char const *command, char const *argv[HOOK_ARGS_MAX + 1])
{
	char const *p = command;
	int argc = 0;

	while (*p) {
		size_t n;

		while (*p == ' ' || *p == '\t') p++;
		if (!*p) break;
		n = strcspn(p, " \t");
		if (argc == HOOK_ARGS_MAX) {
			cf_log_err_cs(cs, "Invalid value for 'email.hook': more than %d words", HOOK_ARGS_MAX);
			return -1;
		}
		argv[argc] = talloc_strndup(ctx, p, n);
		if (!argv[argc]) return -1;
		argc++;
		p += n;
	}
	argv[argc] = NULL;
	if (argc == 0 || argv[0][0] != '/') {
		cf_log_err_cs(cs, "Invalid value \"%s\" for 'email.hook': must start with an absolute path", command);
		return -1;
	}
	return 0;
}
