/*
 * flow.h - one login, from the request's facts to the answer: round 1
 * (lockout, password, the policy decision, trusted addresses, challenges)
 * and round 2 (the module's State, codes, enrollment, recovery codes).
 * It speaks to the storage layer and the decision core, and knows nothing
 * of FreeRADIUS: the glue (rlm_vrms2fa.c) translates packets to a
 * flow_request_t and a flow_result_t back to a reply.
 */
#ifndef VRMS2FA_FLOW_H
#define VRMS2FA_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/address.h"
#include "core/challenge_token.h"
#include "core/lockout.h"
#include "core/otpauth.h"
#include "core/password.h"
#include "core/secretbox.h"
#include "core/totp.h"
#include "hook.h"
#include "password_guard.h"
#include "store/store.h"
#include "store/store_login.h"

#define APPROVAL_LIFETIME	900	/* seconds a device waits for approval */
#define APPROVAL_MAX_PER_HOUR	5	/* approvals a user may request in an hour (new devices) */

typedef struct {
	totp_params_t			totp;			/* for new secrets */
	unsigned			totp_window;
	lockout_config_t		lockout;
	uint32_t			challenge_lifetime;	/* seconds */
	uint32_t			challenge_attempts;
	int64_t				trust_lifetime;		/* seconds; 0 = never expires */
	bool				mac_trust;		/* MAC addresses may be trusted (trust.mac) */
	bool				require_message_authenticator;
	bool				single_pass;
	bool				external_password;	/* another module checked the password */
	char const			*issuer;
	bool				key_in_message;		/* the enrollment key as text in Reply-Message too */
	secretbox_keyring_t const	*keyring;
	char const			*dummy_hash;		/* verified for unknown users when dummies is NULL */
	dummy_pool_t			*dummies;		/* the dummies following the site's hashes (mutable, shared) */
	uint32_t			dummy_refresh;		/* seconds between rebuilds of the dummies */
	uint64_t			max_memory;		/* bytes a memory-hard check may take (password.max_memory) */
	memory_gate_t			*memory_gate;		/* memory of the memory-hard checks at once (mutable, shared); NULL = no limit */
	uint32_t			memory_wait_ms;		/* how long a check waits for the gate */

	bool				email_enabled;		/* confirm new addresses of users without 2FA */
	char const * const		*email_hook_argv;	/* NULL-terminated; argv[0] absolute */
	uint32_t			email_hook_timeout_ms;
	hook_gate_t			*email_gate;		/* hooks running at once (mutable, shared) */
	uint32_t			email_code_lifetime;	/* seconds */
	char const			*email_link_url;	/* with "{token}" */
	uint32_t			email_max_per_hour;
} flow_config_t;

typedef struct {
	uint8_t const	*login;		/* User-Name, not NUL-terminated, may be anything */
	size_t		login_len;
	bool		has_login;
	uint8_t const	*password;	/* User-Password: the password in round 1, the code in round 2 */
	size_t		password_len;
	bool		has_password;
	uint8_t const	*state;		/* State, when the request carries one */
	size_t		state_len;
	bool		has_state;
	char const	*address;	/* the raw address attribute (Calling-Station-Id) */
	size_t		address_len;
	bool		has_address;
	bool		message_authenticator;	/* the request carried a (verified) Message-Authenticator */
	bool		enrollment_requested;	/* VRMS2FA-Enroll-Request = 1 in the request */
	bool		enrollment_client;	/* the operator lets this client ask (control: VRMS2FA-Allow-Enroll-Request) */
	char const	*trust_scope;		/* the operator's trust scope for this client (control: VRMS2FA-Trust-Scope); NULL = "" */
	size_t		trust_scope_len;
	bool		has_client_mode;	/* control: VRMS2FA-Client-Mode is set for this client */
	uint32_t	client_mode;		/* its value (client_mode_t: 1 challenge, 2 single-pass, 3 no-challenge) */
	bool		no_challenge;		/* this client cannot show an Access-Challenge (no-challenge mode, EAP) */
	bool		trust_unsigned;		/* control: VRMS2FA-Trust-Unsigned = 1, unsigned requests may use and earn trust */
	char const	*nas;		/* the client that sent the request (its IP address as text) */
	char const	*approve_device;	/* VRMS2FA-Approve-Device: the pending device to approve (NULL: none) */
	size_t		approve_device_len;
	bool		approval_client;	/* the operator lets this client approve devices (control: VRMS2FA-Allow-Approve-Device) */
	int64_t		now;
} flow_request_t;

typedef enum {
	FLOW_REJECT = 0,
	FLOW_ACCEPT,
	FLOW_CHALLENGE,
	FLOW_FAIL		/* internal or database failure: answered as a reject */
} flow_code_t;

#define FLOW_MESSAGE_MAX 512
/*
 * The longest otpauth URI sent in VRMS2FA-OTPAuth-URI.  The attribute is
 * encrypted like Tunnel-Password (RFC 2868 salt encryption): 253 bytes of
 * value hold a 2-byte salt and 15 blocks of 16, the first byte of which is
 * the length, so 239 bytes of text.  A longer URI is not sent (the key is
 * still in Reply-Message).
 */
#define FLOW_URI_WIRE_MAX 239
#define FLOW_SCOPE_MAX 32	/* bytes of a trust scope (trusted_addresses.scope) */
#define FLOW_LOG_MAX 256

typedef struct {
	flow_code_t	code;
	char		message[FLOW_MESSAGE_MAX];		/* Reply-Message ("" = none) */
	char		state[CHALLENGE_TOKEN_TEXT_LEN + 1];	/* for challenges */
	bool		has_uri;
	char		uri[OTPAUTH_URI_MAX];			/* enrollment: the otpauth URI */
	int		enrolled;				/* 1, 0, or -1 when unknown */
	bool		has_grace;
	int64_t		grace_seconds;				/* seconds of grace left */
	char		log[FLOW_LOG_MAX];			/* why, for the server log: never a secret */
	char		trust_refused[128];			/* the address sent cannot be trusted, and why ("" none) */
} flow_result_t;

void flow_login(flow_config_t const *cfg, store_conn_t *conn, flow_request_t const *req, flow_result_t *res);

/* Reply-Message texts (also what the tests look for). */
#define MSG_LOGIN_FAILED	"Invalid login name or password."
#define MSG_LOCKED		"Too many attempts, try again later."
#define MSG_ENTER_CODE		"Enter the verification code from your authentication app."
#define MSG_CODE_WRONG		"The code is incorrect or has expired. Try again."
#define MSG_CODE_FAILED		"The code is incorrect or has expired."
#define MSG_STATE_INVALID	"The verification has expired or is not valid. Log in again."
#define MSG_SERVICE		"The service is temporarily unavailable. Try again later."
#define MSG_EMAIL_SENT		"We sent a confirmation code to %s. Enter it to continue."
#define MSG_EMAIL_FAILED	"We could not send the confirmation email. Try again later."
#define MSG_EMAIL_LIMIT		"Too many confirmation emails were sent. Try again later."
#define MSG_NO_EMAIL		"Your account has no email address to confirm this login. Contact your administrator."
#define MSG_EMAIL_LINK_ONLY	"We sent you an email. Confirm this login with its link, then log in again."
#define MSG_ENROLLED		"Two-step verification is now active on your account."
#define MSG_CODE_REQUIRED	"A verification code is required: enter your password followed by the code from your authentication app."
#define MSG_MUST_ENROLL_HERE	"Two-step verification must be set up before you can log in here."
#define MSG_ENROLL_UNPROVEN	"Two-step verification must be set up. Log in from an address you used before, or ask your administrator."
#define MSG_ENROLL_KEY		"Two-step verification must be set up. Add this key to your authentication app: %s - then enter the code the app shows."
#define MSG_DEVICE_APPROVAL	"This device needs approval: enter a code from your authentication app in the portal to approve it, then connect again."
#define MSG_DEVICE_APPROVAL_LIMIT	"Too many devices are waiting for approval. Try again later."
#define MSG_DEVICE_UNAPPROVABLE	"This device cannot be approved: it sends no usable address. Contact your administrator."
#define MSG_DEVICE_APPROVED	"The device is approved."
#define MSG_APPROVAL_REFUSED	"Device approval is not allowed from this client."
#define MSG_APPROVAL_NONE	"No device is waiting for approval under this name."
#define MSG_ENROLL_NO_KEY	"Two-step verification must be set up. Scan the QR code with your authentication app, then enter the code the app shows."

#endif
