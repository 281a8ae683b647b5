/*
 * rlm_vrms2fa.c - the FreeRADIUS glue: configuration, the connection pool,
 * and the translation of an Access-Request into a flow_request_t and of a
 * flow_result_t into Access-Accept, Access-Challenge or Access-Reject.
 * The login logic itself lives in flow.c; nothing below decides.
 */
RCSID("$Id$")

#include <freeradius/radiusd.h>
#include <freeradius/modules.h>
#include <freeradius/connection.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "settings.h"
#include "config_file.h"
#include "flow.h"
#include "housekeeping.h"
#include "core/password.h"
#include "core/policy.h"
#include "core/secretbox.h"
#include "core/totp.h"

typedef struct {
	vrms2fa_settings_t	settings;	/* first: the parser table's offsets are relative to it */

	char const		*name;
	int			auth_type;
	DICT_ATTR const		*address_da;
	DICT_ATTR const		*enroll_request_da;
	DICT_ATTR const		*allow_enroll_request_da;
	DICT_ATTR const		*trust_scope_da;
	DICT_ATTR const		*client_mode_da;
	DICT_ATTR const		*trust_unsigned_da;
	DICT_ATTR const		*uri_da;
	DICT_ATTR const		*enrolled_da;
	DICT_ATTR const		*grace_da;
	DICT_ATTR const		*reply_message_da;
	DICT_ATTR const		*approve_device_da;
	DICT_ATTR const		*allow_approve_device_da;

	secretbox_keyring_t	keyring;	/* read-only once instantiated */
	char			dummy_hash[PASSWORD_HASH_MAX + 1];
	store_config_t		store;
	flow_config_t		flow;
	char const		*hook_argv[HOOK_ARGS_MAX + 1];
	hook_gate_t		hook_gate;	/* email hooks running at once (mutable, shared by the threads) */
	dummy_pool_t		dummies;	/* dummy hashes following the site's (mutable, shared) */
	memory_gate_t		memory_gate;	/* memory of the memory-hard password checks at once (mutable, shared) */
	bool			guards_held;	/* dummies and memory_gate initialised, to destroy */
	housekeeping_t		housekeeping;	/* the opportunistic pruning's turn (mutable, shared) */
	fr_connection_pool_t	*pool;
	bool			store_library_held;	/* store_library_init done, store_library_end due */
} rlm_vrms2fa_t;

/* A pooled connection: a talloc wrapper whose destructor closes the MySQL handle. */
typedef struct {
	store_conn_t	*conn;
} pooled_conn_t;

static int pooled_conn_free(pooled_conn_t *pc)
{
	store_close(pc->conn);
	pc->conn = NULL;
	return 0;
}

static void *pool_connect(TALLOC_CTX *ctx, void *instance)
{
	rlm_vrms2fa_t *inst = instance;
	pooled_conn_t *pc;
	char err[512];
	store_conn_t *conn;

	conn = store_open(&inst->store, err, sizeof(err));
	if (!conn) {
		ERROR("rlm_vrms2fa (%s): %s", inst->name, err);
		return NULL;
	}
	pc = talloc_zero(ctx, pooled_conn_t);
	if (!pc) {
		store_close(conn);
		return NULL;
	}
	pc->conn = conn;
	talloc_set_destructor(pc, pooled_conn_free);
	return pc;
}

static int mod_bootstrap(CONF_SECTION *conf, void *instance)
{
	rlm_vrms2fa_t *inst = instance;

	inst->name = cf_section_name2(conf);
	if (!inst->name) inst->name = cf_section_name1(conf);
	return 0;
}

static DICT_ATTR const *need_attribute(CONF_SECTION *conf, char const *name)
{
	DICT_ATTR const *da = dict_attrbyname(name);

	if (!da) cf_log_err_cs(conf, "Attribute '%s' is not in the dictionary: include raddb/dictionary.vrms2fa", name);
	return da;
}

static int mod_instantiate(CONF_SECTION *conf, void *instance)
{
	rlm_vrms2fa_t *inst = instance;
	vrms2fa_settings_t const *s = &inst->settings;
	DICT_VALUE const *dval;
	char err[512];
	uint8_t random_bytes[16];
	char random_password[2 * sizeof(random_bytes) + 1];
	size_t i;

	if (vrms2fa_settings_check(s, conf, &inst->flow, &inst->store) != 0) return -1;
	{
		char fix[sizeof(err)];

		if (vrms2fa_config_file_check(conf, err, sizeof(err), fix, sizeof(fix)) != 0) {
			cf_log_err_cs(conf, "Refusing to start: %s", err);
			cf_log_err_cs(conf, "Fix: %s", fix);
			return -1;
		}
	}

	inst->address_da = dict_attrbyname(s->address_attribute);
	if (!inst->address_da) {
		cf_log_err_cs(conf, "Invalid value \"%s\" for 'trust.address_attribute': no such attribute",
			      s->address_attribute);
		return -1;
	}
	/* Only a string is read as the address: any other type would silently switch trust off. */
	if (inst->address_da->type != PW_TYPE_STRING) {
		cf_log_err_cs(conf, "Invalid value \"%s\" for 'trust.address_attribute': it is of type %s, "
			      "not string (the address is read as text, as in Calling-Station-Id)",
			      s->address_attribute, fr_int2str(dict_attr_types, inst->address_da->type, "unknown"));
		return -1;
	}
	if (!(inst->enroll_request_da = need_attribute(conf, "VRMS2FA-Enroll-Request")) ||
	    !(inst->allow_enroll_request_da = need_attribute(conf, "VRMS2FA-Allow-Enroll-Request")) ||
	    !(inst->trust_scope_da = need_attribute(conf, "VRMS2FA-Trust-Scope")) ||
	    !(inst->client_mode_da = need_attribute(conf, "VRMS2FA-Client-Mode")) ||
	    !(inst->trust_unsigned_da = need_attribute(conf, "VRMS2FA-Trust-Unsigned")) ||
	    !(inst->uri_da = need_attribute(conf, "VRMS2FA-OTPAuth-URI")) ||
	    !(inst->enrolled_da = need_attribute(conf, "VRMS2FA-Enrolled")) ||
	    !(inst->grace_da = need_attribute(conf, "VRMS2FA-Grace-Seconds")) ||
	    !(inst->reply_message_da = need_attribute(conf, "Reply-Message")) ||
	    !(inst->approve_device_da = need_attribute(conf, "VRMS2FA-Approve-Device")) ||
	    !(inst->allow_approve_device_da = need_attribute(conf, "VRMS2FA-Allow-Approve-Device"))) {
		return -1;
	}

	dval = dict_valbyname(PW_AUTH_TYPE, 0, inst->name);
	if (!dval) {
		cf_log_err_cs(conf, "No 'Auth-Type %s' section in authenticate {}: see raddb/sites-available/vrms2fa",
			      inst->name);
		return -1;
	}
	inst->auth_type = dval->value;

	if (secretbox_keyring_load(s->key_file, s->key_id, &inst->keyring, err, sizeof(err)) != 0) {
		cf_log_err_cs(conf, "Invalid 'key_file': %s", err);
		return -1;
	}
	if (totp_library_init() != 0) {
		cf_log_err_cs(conf, "liboath failed to initialise");
		return -1;
	}

	/* Unknown users are checked against this hash so that they take as long as known ones. */
	if (RAND_bytes(random_bytes, sizeof(random_bytes)) != 1) {
		cf_log_err_cs(conf, "The random generator failed");
		return -1;
	}
	for (i = 0; i < sizeof(random_bytes); i++) {
		snprintf(random_password + 2 * i, 3, "%02x", random_bytes[i]);
	}
	if (password_hash_new(random_password, strlen(random_password), inst->dummy_hash, sizeof(inst->dummy_hash)) != 0) {
		cf_log_err_cs(conf, "Cannot make the dummy password hash");
		return -1;
	}
	OPENSSL_cleanse(random_bytes, sizeof(random_bytes));
	OPENSSL_cleanse(random_password, sizeof(random_password));

	inst->flow.keyring = &inst->keyring;
	inst->flow.dummy_hash = inst->dummy_hash;

	/*
	 * Until the first login reads the profiles of the users' hashes, the
	 * argon2id dummy stands for all of them.  The choice among dummies is
	 * keyed by the key file: servers sharing it choose alike.
	 */
	{
		uint8_t pick_key[DUMMY_SET_KEY_LEN];
		dummy_set_t initial;

		if (secretbox_derive(&inst->keyring, "vrms2fa dummy hash choice v1", pick_key) != 0) {
			cf_log_err_cs(conf, "Cannot derive the key of the dummy hashes");
			return -1;
		}
		dummy_set_init(&initial, pick_key);
		OPENSSL_cleanse(pick_key, sizeof(pick_key));
		if (dummy_set_add(&initial, inst->dummy_hash, 1) != 0 || dummy_pool_init(&inst->dummies, &initial) != 0) {
			cf_log_err_cs(conf, "Cannot set up the dummy hashes");
			return -1;
		}
		OPENSSL_cleanse(&initial, sizeof(initial));
		if (memory_gate_init(&inst->memory_gate, (uint64_t) s->password_memory_hard_budget << 20) != 0) {
			dummy_pool_destroy(&inst->dummies);
			cf_log_err_cs(conf, "Cannot set up the gate of memory-hard password checks");
			return -1;
		}
		inst->guards_held = true;
		inst->flow.dummies = &inst->dummies;
		inst->flow.memory_gate = &inst->memory_gate;
	}

	if (s->email_enabled && vrms2fa_hook_argv(inst, conf, s->email_hook, inst->hook_argv) != 0) return -1;
	inst->flow.email_hook_argv = inst->hook_argv;
	hook_gate_init(&inst->hook_gate, s->email_max_running_hooks);
	inst->flow.email_gate = &inst->hook_gate;

	{
		retention_config_t retention;

		vrms2fa_settings_retention(s, &retention);
		housekeeping_init(&inst->housekeeping, &retention, s->retention_prune_interval, s->retention_prune_batch);
	}

	if (store_library_init() != 0) {
		cf_log_err_cs(conf, "The MySQL/MariaDB client library failed to initialise");
		return -1;
	}
	inst->store_library_held = true;
	inst->pool = fr_connection_pool_module_init(conf, inst, pool_connect, NULL, NULL);
	if (!inst->pool) return -1;
	return 0;
}

static int mod_detach(void *instance)
{
	rlm_vrms2fa_t *inst = instance;

	if (inst->pool) fr_connection_pool_free(inst->pool);
	inst->pool = NULL;
	if (inst->store_library_held) store_library_end();	/* after the last connection closed */
	inst->store_library_held = false;
	secretbox_keyring_wipe(&inst->keyring);
	if (inst->guards_held) {
		dummy_pool_destroy(&inst->dummies);
		memory_gate_destroy(&inst->memory_gate);
		inst->guards_held = false;
	}
	return 0;
}

static rlm_rcode_t CC_HINT(nonnull) mod_authorize(void *instance, REQUEST *request)
{
	rlm_vrms2fa_t *inst = instance;
	VALUE_PAIR *vp;

	if (!inst->auth_type) return RLM_MODULE_NOOP;
	if (fr_pair_find_by_num(request->config, PW_AUTH_TYPE, 0, TAG_ANY)) return RLM_MODULE_NOOP;
	vp = radius_pair_create(request, &request->config, PW_AUTH_TYPE, 0);
	if (!vp) return RLM_MODULE_FAIL;
	vp->vp_integer = inst->auth_type;
	return RLM_MODULE_UPDATED;
}

static void client_address(REQUEST *request, char *out, size_t outlen)
{
	fr_ipaddr_t const *ip = &request->packet->src_ipaddr;

	if (!inet_ntop(ip->af, &ip->ipaddr, out, outlen)) snprintf(out, outlen, "unknown");
}

/*
 * The outer Access-Request when this request runs in an EAP inner tunnel
 * (PEAP, TTLS), else NULL.  FreeRADIUS 3.2 runs the tunnelled request as a
 * fake request whose parent is the outer request (request_alloc_fake, in
 * rlm_eap_peap and rlm_eap_ttls); the outer one carries the EAP-Message.
 */
static REQUEST *eap_outer_request(REQUEST *request)
{
	REQUEST *outer = request->parent;

	if (!outer || !outer->packet || outer->packet->code != PW_CODE_ACCESS_REQUEST) return NULL;
	if (!fr_pair_find_by_num(outer->packet->vps, PW_EAP_MESSAGE, 0, TAG_ANY)) return NULL;
	return outer;
}

/*
 * In an EAP inner tunnel the facts of the device are the outer request's:
 * the inner request has no Calling-Station-Id (unless the operator copies
 * it in) and no Message-Authenticator, while the outer one carries the
 * station's MAC and is signed (radiusd drops an EAP request without a
 * valid Message-Authenticator, RFC 3579).  No EAP method can carry a code
 * (PEAP/MS-CHAPv2 has no room, FreeRADIUS's GTC is one round, wpa_supplicant
 * drops a tunnelled TTLS/PAP challenge): no_challenge.  The module never
 * challenges in a tunnel, so a State there is the EAP session's: ignored.
 */
static void fill_inner_tunnel(rlm_vrms2fa_t const *inst, REQUEST *outer, flow_request_t *req, char *nas, size_t naslen)
{
	VALUE_PAIR *vp;

	req->no_challenge = true;
	req->has_state = false;
	req->state = NULL;
	req->state_len = 0;
	client_address(outer, nas, naslen);
	req->nas = nas;
	req->has_address = false;
	req->address = NULL;
	req->address_len = 0;
	vp = fr_pair_find_by_da(outer->packet->vps, inst->address_da, TAG_ANY);
	if (vp && vp->da->type == PW_TYPE_STRING) {
		req->has_address = true;
		req->address = vp->vp_strvalue;
		req->address_len = vp->vp_length;
	}
	req->message_authenticator = fr_pair_find_by_num(outer->packet->vps, PW_MESSAGE_AUTHENTICATOR, 0, TAG_ANY) != NULL;
}

/* A device approval from the web backend (VRMS2FA-Approve-Device), and whether the operator allows this client to send one. */
static void fill_approval(rlm_vrms2fa_t const *inst, REQUEST *request, flow_request_t *req)
{
	VALUE_PAIR *vp;

	vp = fr_pair_find_by_da(request->packet->vps, inst->approve_device_da, TAG_ANY);
	if (vp && vp->da->type == PW_TYPE_STRING) {
		req->approve_device = vp->vp_strvalue;
		req->approve_device_len = vp->vp_length;
	}
	vp = fr_pair_find_by_da(request->config, inst->allow_approve_device_da, TAG_ANY);
	req->approval_client = vp && vp->vp_integer != 0;
}

static void fill_request(rlm_vrms2fa_t const *inst, REQUEST *request, flow_request_t *req, char *nas, size_t naslen)
{
	REQUEST *outer;

	VALUE_PAIR *vps = request->packet->vps;
	VALUE_PAIR *vp;

	memset(req, 0, sizeof(*req));
	req->now = (int64_t)time(NULL);
	client_address(request, nas, naslen);
	req->nas = nas;

	vp = fr_pair_find_by_num(vps, PW_USER_NAME, 0, TAG_ANY);
	if (vp && vp->da->type == PW_TYPE_STRING) {
		req->has_login = true;
		req->login = (uint8_t const *)vp->vp_strvalue;
		req->login_len = vp->vp_length;
	}
	vp = fr_pair_find_by_num(vps, PW_USER_PASSWORD, 0, TAG_ANY);
	if (vp) {
		req->has_password = true;
		req->password = (uint8_t const *)vp->vp_strvalue;
		req->password_len = vp->vp_length;
	}
	vp = fr_pair_find_by_num(vps, PW_STATE, 0, TAG_ANY);
	if (vp) {
		req->has_state = true;
		req->state = vp->vp_octets;
		req->state_len = vp->vp_length;
	}
	vp = fr_pair_find_by_da(vps, inst->address_da, TAG_ANY);
	if (vp && vp->da->type == PW_TYPE_STRING) {
		req->has_address = true;
		req->address = vp->vp_strvalue;
		req->address_len = vp->vp_length;
	}
	/* radiusd has already verified a Message-Authenticator that is present, and dropped a bad one. */
	req->message_authenticator = fr_pair_find_by_num(vps, PW_MESSAGE_AUTHENTICATOR, 0, TAG_ANY) != NULL;
	vp = fr_pair_find_by_da(vps, inst->enroll_request_da, TAG_ANY);
	req->enrollment_requested = vp && vp->vp_integer != 0;

	/* What the operator's unlang says of this client: read from the control list only. */
	vp = fr_pair_find_by_da(request->config, inst->allow_enroll_request_da, TAG_ANY);
	req->enrollment_client = vp && vp->vp_integer != 0;
	vp = fr_pair_find_by_da(request->config, inst->trust_scope_da, TAG_ANY);
	if (vp) {
		req->trust_scope = vp->vp_strvalue;
		req->trust_scope_len = vp->vp_length;
	}
	vp = fr_pair_find_by_da(request->config, inst->client_mode_da, TAG_ANY);
	if (vp) {
		req->has_client_mode = true;
		req->client_mode = vp->vp_integer;	/* the flow refuses a value that is not a mode */
		if (vp->vp_integer == CLIENT_MODE_NO_CHALLENGE) req->no_challenge = true;
	}
	vp = fr_pair_find_by_da(request->config, inst->trust_unsigned_da, TAG_ANY);
	req->trust_unsigned = vp && vp->vp_integer == 1;
	fill_approval(inst, request, req);
	outer = eap_outer_request(request);
	if (outer) fill_inner_tunnel(inst, outer, req, nas, naslen);
}

static int add_reply_string(REQUEST *request, DICT_ATTR const *da, char const *value)
{
	VALUE_PAIR *vp = fr_pair_afrom_da(request->reply, da);

	if (!vp) return -1;
	fr_pair_value_strcpy(vp, value);
	fr_pair_add(&request->reply->vps, vp);
	return 0;
}

static int add_reply_integer(REQUEST *request, DICT_ATTR const *da, uint32_t value)
{
	VALUE_PAIR *vp = fr_pair_afrom_da(request->reply, da);

	if (!vp) return -1;
	vp->vp_integer = value;
	fr_pair_add(&request->reply->vps, vp);
	return 0;
}

/* The server signs a zeroed Message-Authenticator while encoding (3.2.1 does not add one itself). */
static int add_message_authenticator(REQUEST *request)
{
	static uint8_t const zero[16];
	VALUE_PAIR *vp;

	fr_pair_delete_by_num(&request->reply->vps, PW_MESSAGE_AUTHENTICATOR, 0, TAG_ANY);
	vp = fr_pair_afrom_num(request->reply, PW_MESSAGE_AUTHENTICATOR, 0);
	if (!vp) return -1;
	fr_pair_value_memcpy(vp, zero, sizeof(zero));
	fr_pair_add(&request->reply->vps, vp);
	return 0;
}

static rlm_rcode_t reply(rlm_vrms2fa_t const *inst, REQUEST *request, flow_result_t const *res)
{
	VALUE_PAIR *vp;
	int failed = 0;

	fr_pair_delete_by_num(&request->reply->vps, PW_REPLY_MESSAGE, 0, TAG_ANY);
	if (res->message[0]) failed |= add_reply_string(request, inst->reply_message_da, res->message);
	if (res->enrolled >= 0 && res->code != FLOW_REJECT && res->code != FLOW_FAIL) {
		failed |= add_reply_integer(request, inst->enrolled_da, (uint32_t)res->enrolled);
	}
	if (res->has_grace && res->grace_seconds > 0) {
		failed |= add_reply_integer(request, inst->grace_da,
					    res->grace_seconds > UINT32_MAX ? UINT32_MAX : (uint32_t)res->grace_seconds);
	}
	/* the outer reply of an EAP tunnel is signed by the EAP module; the inner one goes nowhere on the wire */
	if (!eap_outer_request(request)) failed |= add_message_authenticator(request);

	switch (res->code) {
	case FLOW_ACCEPT:
		if (failed) return RLM_MODULE_FAIL;
		return RLM_MODULE_OK;

	case FLOW_CHALLENGE:
		if (res->has_uri) failed |= add_reply_string(request, inst->uri_da, res->uri);
		/* the answer is a code: a client that shows a prompt (pam_radius_auth) must not echo it */
		fr_pair_delete_by_num(&request->reply->vps, PW_PROMPT, 0, TAG_ANY);
		vp = fr_pair_afrom_num(request->reply, PW_PROMPT, 0);
		if (!vp) return RLM_MODULE_FAIL;
		vp->vp_integer = 0;	/* No-Echo */
		fr_pair_add(&request->reply->vps, vp);
		vp = fr_pair_afrom_num(request->reply, PW_STATE, 0);
		if (!vp) return RLM_MODULE_FAIL;
		fr_pair_value_memcpy(vp, (uint8_t const *)res->state, strlen(res->state));
		fr_pair_delete_by_num(&request->reply->vps, PW_STATE, 0, TAG_ANY);
		fr_pair_add(&request->reply->vps, vp);
		if (failed) return RLM_MODULE_FAIL;
		request->reply->code = PW_CODE_ACCESS_CHALLENGE;
		return RLM_MODULE_HANDLED;

	case FLOW_FAIL:
		return RLM_MODULE_FAIL;

	case FLOW_REJECT:
		break;
	}
	return RLM_MODULE_REJECT;
}

/* After a login, on its connection: this instance's turn of opportunistic pruning, if due (housekeeping.h). */
static void prune_expired(rlm_vrms2fa_t *inst, REQUEST *request, store_conn_t *conn, int64_t now)
{
	housekeeping_result_t hk;

	if (!housekeeping_claim(&inst->housekeeping, now)) return;
	housekeeping_run(&inst->housekeeping, conn, now, &hk);
	if (hk.status != STORE_OK) {
		/* at most once per interval: seen in the log without flooding it */
		WARN("rlm_vrms2fa (%s): pruning expired rows failed, tried again in %u s: %s", inst->name,
		     inst->housekeeping.interval, store_last_error(conn));
	} else if (hk.total) {
		RDEBUG2("Pruned %llu expired rows%s", (unsigned long long)hk.total, hk.backlog ? ", more to do" : "");
	}
}

static rlm_rcode_t CC_HINT(nonnull) mod_authenticate(void *instance, REQUEST *request)
{
	rlm_vrms2fa_t *inst = instance;
	flow_request_t req;
	flow_result_t res;
	pooled_conn_t *pc;
	char nas[INET6_ADDRSTRLEN + 1];
	rlm_rcode_t rcode;

	fill_request(inst, request, &req, nas, sizeof(nas));

	pc = fr_connection_get(inst->pool);
	if (!pc) {
		REDEBUG("No database connection available: rejecting");
		memset(&res, 0, sizeof(res));
		res.code = FLOW_FAIL;
		res.enrolled = -1;
		snprintf(res.message, sizeof(res.message), "%s", MSG_SERVICE);
		return reply(inst, request, &res);
	}

	flow_login(&inst->flow, pc->conn, &req, &res);
	if (!store_conn_broken(pc->conn)) prune_expired(inst, request, pc->conn, req.now);

	if (store_conn_broken(pc->conn)) {
		ERROR("rlm_vrms2fa (%s): database connection lost: %s", inst->name, store_last_error(pc->conn));
		fr_connection_close(inst->pool, pc, "database connection lost");
	} else {
		fr_connection_release(inst->pool, pc);
	}

	if (res.trust_refused[0]) RWARN("%s", res.trust_refused);
	if (res.code == FLOW_FAIL) {
		RERROR("%s", res.log);	/* not the user's doing: always in the log */
	} else if (res.log[0]) {
		RDEBUG("%s", res.log);
	}
	if (res.code == FLOW_REJECT && res.log[0]) module_failure_msg(request, "rlm_vrms2fa: %s", res.log);

	rcode = reply(inst, request, &res);
	OPENSSL_cleanse(&res, sizeof(res));
	return rcode;
}

extern module_t rlm_vrms2fa;
module_t rlm_vrms2fa = {
	.magic		= RLM_MODULE_INIT,
	.name		= "vrms2fa",
	.type		= RLM_TYPE_THREAD_SAFE | RLM_TYPE_HUP_SAFE,
	.inst_size	= sizeof(rlm_vrms2fa_t),
	.config		= vrms2fa_settings_parser,
	.bootstrap	= mod_bootstrap,
	.instantiate	= mod_instantiate,
	.detach		= mod_detach,
	.methods = {
		[MOD_AUTHENTICATE]	= mod_authenticate,
		[MOD_AUTHORIZE]		= mod_authorize,
	},
};
