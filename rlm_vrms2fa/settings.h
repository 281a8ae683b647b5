/*
 * settings.h - the vrms2fa configuration section: the settings struct,
 * the CONF_PARSER table that fills it, and the checks that name the bad
 * option.  Shared by the module (radiusd parses the section into the module
 * instance, whose first member is this struct) and by vrms2fa-admin, which
 * reads the same file with the same table through libfreeradius-server.
 */
#ifndef VRMS2FA_MODULE_CONFIG_H
#define VRMS2FA_MODULE_CONFIG_H

#include <freeradius/radiusd.h>

#include "core/lockout.h"
#include "core/retention.h"
#include "core/totp.h"
#include "flow.h"
#include "store/store.h"

typedef struct {
	/* database { } */
	char const	*db_server;
	uint32_t	db_port;
	char const	*db_socket;
	char const	*db_login;
	char const	*db_password;
	char const	*db_name;
	uint32_t	db_connect_timeout;
	uint32_t	db_query_timeout;
	uint32_t	db_wsrep_sync_wait;
	char const	*db_tls_ca_file;	/* database { tls { } } */
	char const	*db_tls_cert_file;
	char const	*db_tls_key_file;
	bool		db_tls_verify_server_cert;
	bool		db_tls_required;
	char const	*db_admin_login;	/* vrms2fa-admin's own account ("": the module's) */
	char const	*db_admin_password_file;	/* its password, in a file only root may read */

	/* secrets */
	char const	*key_file;
	uint32_t	key_id;

	/* first step */
	char const	*password_check;	/* "internal" or "external" */
	bool		single_pass;
	uint32_t	password_max_memory;		/* MiB an argon2id or yescrypt check may take */
	uint32_t	password_memory_hard_budget;	/* MiB such checks may hold together */
	uint32_t	password_memory_hard_wait;	/* ms a check waits for its turn */
	uint32_t	password_dummy_refresh;		/* seconds between rebuilds of the dummy hashes */

	/* second step */
	char const	*issuer;
	char const	*totp_algorithm;
	uint32_t	totp_digits;
	uint32_t	totp_period;
	uint32_t	totp_window;
	bool		key_in_message;		/* the enrollment key in Reply-Message, beside the URI */
	uint32_t	challenge_lifetime;
	uint32_t	challenge_attempts;

	/* trusted addresses */
	char const	*address_attribute;
	uint32_t	trust_lifetime;		/* days; 0 = never expires */
	bool		trust_mac;		/* MAC addresses may be trusted */
	bool		require_message_authenticator;

	/* email confirmation of new addresses */
	bool		email_enabled;
	char const	*email_hook;
	uint32_t	email_hook_timeout;
	uint32_t	email_max_running_hooks;
	uint32_t	email_code_lifetime;
	char const	*email_link_url;
	uint32_t	email_max_per_hour;

	/* lockout */
	uint32_t	lockout_failures;
	uint32_t	lockout_base;
	uint32_t	lockout_max;
	uint32_t	lockout_name_failures;	/* failures of a login name from every address together */
	uint32_t	lockout_reset_after;	/* seconds without a failure after which the counts decay; 0: never */

	/* retention of expired rows (core/retention.h) */
	uint32_t	retention_audit_days;		/* days the audit log is kept; 0: forever */
	uint32_t	retention_prune_interval;	/* seconds between the module's prunes; 0: never (cron only) */
	uint32_t	retention_prune_batch;		/* rows per table and prune */
	/* admin { }: read by vrms2fa-admin only */
	char const	*admin_operator_group;	/* members may run operator commands without --by; "" root only */
} vrms2fa_settings_t;

extern CONF_PARSER const vrms2fa_settings_parser[];

#define HOOK_ARGS_MAX 16

/*
 * Split the email hook command on spaces into argv (no shell, no
 * expansion); argv[0] must be an absolute path.  0 ok, -1 after logging.
 */
int vrms2fa_hook_argv(TALLOC_CTX *ctx, CONF_SECTION *cs, char const *command, char const *argv[HOOK_ARGS_MAX + 1]);

/*
 * Range and consistency checks after parsing (logs the offending option
 * through cf_log_err_cs and returns -1), then the one derivation of the
 * settings that the module and the admin tool share: every plain field of
 * *flow (the run-time ones, keyring, dummy hash, hook argv and gate, stay
 * as they were: the module fills them) and the whole of *store.  0 ok.
 */
int vrms2fa_settings_check(vrms2fa_settings_t const *settings, CONF_SECTION *cs,
			   flow_config_t *flow, store_config_t *store);

/*
 * The retention rule's settings (retention.* and lockout.reset_after), for
 * retention_cutoffs; after vrms2fa_settings_check has accepted them.
 */
void vrms2fa_settings_retention(vrms2fa_settings_t const *settings, retention_config_t *out);

#endif
