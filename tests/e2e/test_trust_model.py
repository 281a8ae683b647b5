"""
End-to-end tests of the trust model (doc/design.md, "The trust model";
doc/threat-model.md): the paths on which an attacker who has a user's
password, or who sits on the NAS path, once reached an Access-Accept or
bound an authenticator of their own.  Each test runs the attack through a
real radiusd and asserts that it ends without an Accept and without a usable
seed, then runs the legitimate path beside it.

Where email confirmation matters, radiusd has it on with the harness's stub
hook (the tests read its outbox).
"""
import re
import time

import pytest

import harness as H
import radpkt
from harness import ACCEPT, CHALLENGE, REJECT, MSG_ENTER_CODE
from test_policy import (EMAIL_ON, MSG_EMAIL_SENT, assert_trusted, enroll_by_challenge, high_company, masked,
                         secret_from_uri, set_deadline, trust_by_email)

MSG_ENROLL_UNPROVEN = H.MESSAGES["MSG_ENROLL_UNPROVEN"]
BACKEND = "127.0.0.2"		# the client the operator allows to ask for enrollment
ALLOW_BACKEND = """
	if (&Packet-Src-IP-Address == %s) {
		update control {
			&VRMS2FA-Allow-Enroll-Request := 1
		}
	}
""" % BACKEND
ENROLL_REQUEST = [("VRMS2FA-Enroll-Request", 1)]


@pytest.fixture
def rad(radiusd_pool):
    return radiusd_pool.get(EMAIL_ON)


@pytest.fixture
def backend_rad(new_radiusd):
    """radiusd whose unlang lets the backend (127.0.0.2) ask for enrollment."""
    return new_radiusd(EMAIL_ON, authorize_unlang=ALLOW_BACKEND)


def trusted(admin, login):
    return {a["address"]: a["how"] for a in admin.json("trusted", "list", login)["addresses"]}


def email_challenge(rad, outbox, u, csid, src_ip=None, ma=True, extra=()):
    """Round 1 of a user without 2FA from a new address: the email challenge, and the email."""
    before = len(outbox.emails(u.login))
    r1 = rad.round1(u.login, u.password, csid=csid, src_ip=src_ip, ma=ma, extra=extra)
    assert r1.code == CHALLENGE and r1.message == MSG_EMAIL_SENT % masked(u.email), r1.raw
    assert r1.get("VRMS2FA-OTPAuth-URI") is None, r1.raw
    mails = outbox.emails(u.login)
    assert len(mails) == before + 1, mails
    return r1, mails[-1]


# --------------------------------------------------------------------------
# Hole 1: enrollment on request skipped the email confirmation
# --------------------------------------------------------------------------

def test_enroll_request_from_any_client_is_ignored(world, admin, rad, outbox):
    """Attacker with the password sends VRMS2FA-Enroll-Request from a client
    the operator did not allow: no key, the email confirmation as for any
    new address, and no authenticator bound."""
    u = world.user()
    csid = H.new_address()
    r1, mail = email_challenge(rad, outbox, u, csid, extra=ENROLL_REQUEST)
    # even with the emailed code (the attacker does not have it): the reminder, never a key
    assert admin.json("user", "show", u.login)["totp_status"] == "none"
    # from the now trusted address the request is still ignored from this client
    r2 = rad.round2(u.login, mail["VRMS2FA_CODE"], r1.state, csid=csid)
    assert r2.code == ACCEPT and "Protect your account" in r2.message, r2.raw
    r = rad.round1(u.login, u.password, csid=csid, extra=ENROLL_REQUEST)
    assert r.code == ACCEPT and r.get("VRMS2FA-OTPAuth-URI") is None, r.raw
    assert admin.json("user", "show", u.login)["totp_status"] == "none"


def test_enroll_request_from_the_backend_needs_email_then_message_authenticator(world, admin, backend_rad, outbox):
    """The allowed backend, new address: the email first (no key on the
    password alone); unsigned: ignored; from the address proven by email,
    signed: the enrollment challenge, and the user enrolls."""
    rad = backend_rad
    u = world.user()
    csid = H.new_address()
    r1, mail = email_challenge(rad, outbox, u, csid, src_ip=BACKEND, extra=ENROLL_REQUEST)
    assert admin.json("user", "show", u.login)["totp_status"] == "none"
    r2 = rad.round2(u.login, mail["VRMS2FA_CODE"], r1.state, csid=csid, src_ip=BACKEND)
    assert r2.code == ACCEPT, r2.raw
    assert_trusted(admin, u.login, csid, "email")

    # unsigned: the request is not honoured (and the unsigned request cannot use the trust either)
    r = rad.round1(u.login, u.password, csid=csid, src_ip=BACKEND, ma=False, extra=ENROLL_REQUEST)
    assert r.get("VRMS2FA-OTPAuth-URI") is None, r.raw
    # another client, signed: ignored
    r = rad.round1(u.login, u.password, csid=csid, src_ip="127.0.0.1", extra=ENROLL_REQUEST)
    assert r.code == ACCEPT and r.get("VRMS2FA-OTPAuth-URI") is None, r.raw
    assert admin.json("user", "show", u.login)["totp_status"] == "none"

    # the legitimate path: the backend, signed, from the trusted address
    r1 = rad.round1(u.login, u.password, csid=csid, src_ip=BACKEND, extra=ENROLL_REQUEST)
    assert r1.code == CHALLENGE, r1.raw
    secret = secret_from_uri(r1.get("VRMS2FA-OTPAuth-URI"))[0]
    H.wait_step_margin(3)
    r2 = rad.round2(u.login, H.totp(secret), r1.state, csid=csid, src_ip=BACKEND)
    assert r2.code == ACCEPT and r2.get("VRMS2FA-Enrolled") == "1", r2.raw
    assert admin.json("user", "show", u.login)["totp_status"] == "active"


# --------------------------------------------------------------------------
# Hole 2: a pending secret was shown to whoever presented the password
# --------------------------------------------------------------------------

def test_pending_secret_is_never_shown_again(world, admin, mariadb, rad, outbox):
    """A pending secret made by "enroll begin" (or by an earlier challenge)
    is never sent over RADIUS: each enrollment challenge shows a fresh one,
    and only the challenge that showed a secret can confirm it."""
    co, _ = high_company(world)
    u = world.user(company=co, group="owner")
    csid = H.new_address()
    trust_by_email(rad, outbox, u, csid)
    set_deadline(mariadb, u.login, time.time() - 60)
    pending = admin.json("enroll", "begin", u.login)["secret"]

    attacker = rad.round1(u.login, u.password, csid=csid)
    assert attacker.code == CHALLENGE, attacker.raw
    seen_by_attacker = secret_from_uri(attacker.get("VRMS2FA-OTPAuth-URI"))[0]
    assert seen_by_attacker != pending
    assert pending not in re.sub(r"\s", "", attacker.message or "").upper()

    owner = rad.round1(u.login, u.password, csid=csid)
    seen_by_owner = secret_from_uri(owner.get("VRMS2FA-OTPAuth-URI"))[0]
    assert seen_by_owner not in (seen_by_attacker, pending)

    # the attacker's code, on the attacker's State, no longer confirms anything
    H.wait_step_margin(3)
    r = rad.round2(u.login, H.totp(seen_by_attacker), attacker.state, csid=csid)
    assert r.code != ACCEPT, r.raw
    # nor does the owner's code on the attacker's State (the secret is bound to its challenge)
    attacker2 = rad.round1(u.login, u.password, csid=csid)
    r = rad.round2(u.login, H.totp(secret_from_uri(owner.get("VRMS2FA-OTPAuth-URI"))[0]), attacker.state,
                   csid=csid)
    assert r.code != ACCEPT, r.raw
    assert admin.json("user", "show", u.login)["totp_status"] == "pending"
    # the latest challenge, answered with its own secret, enrolls
    enroll_by_challenge(rad, admin, u, attacker2, csid)


def test_admin_enroll_begin_then_confirm_still_works(world, admin):
    """The legitimate path of a pending secret: "enroll begin", then the
    user's code through "enroll confirm"."""
    u = world.user()
    secret = admin.json("enroll", "begin", u.login)["secret"]
    H.wait_step_margin(3)
    admin("enroll", "confirm", u.login, H.totp(secret))
    assert admin.json("user", "show", u.login)["totp_status"] == "active"


# --------------------------------------------------------------------------
# Hole 3: past the grace deadline, a new address got the key on the password alone
# --------------------------------------------------------------------------

def test_past_deadline_new_address_email_before_enrollment(world, admin, mariadb, rad, outbox):
    """Mandatory, deadline passed, new address: the email first; a wrong
    emailed code gets no key; the right one leads to the enrollment challenge
    in the same login, and its code to the Accept."""
    co, _ = high_company(world)
    u = world.user(company=co, group="owner")
    set_deadline(mariadb, u.login, time.time() - 60)
    csid = H.new_address()
    r1, mail = email_challenge(rad, outbox, u, csid)
    bad = "%06d" % ((int(mail["VRMS2FA_CODE"]) + 1) % 1000000)
    r = rad.round2(u.login, bad, r1.state, csid=csid)
    assert r.code != ACCEPT and r.get("VRMS2FA-OTPAuth-URI") is None, r.raw

    r2 = rad.round2(u.login, mail["VRMS2FA_CODE"], r1.state, csid=csid)
    assert r2.code == CHALLENGE and r2.get("VRMS2FA-OTPAuth-URI"), r2.raw
    assert r2.state and r2.state != r1.state
    assert_trusted(admin, u.login, csid, "email")
    enroll_by_challenge(rad, admin, u, r2, csid)
    j = admin.json("user", "show", u.login)
    assert j["enrolled"] is True and j["grace_deadline"] is None, j
    assert_trusted(admin, u.login, csid, "enrollment")


def test_past_deadline_new_address_email_off_refused(world, mariadb, new_radiusd):
    """With email confirmation off, nothing but the password would prove a
    new address: refused, with the reason, and no key."""
    rad = new_radiusd({("email", "enabled"): "no"})
    co, _ = high_company(world)
    u = world.user(company=co, group="owner")
    set_deadline(mariadb, u.login, time.time() - 60)
    r = rad.round1(u.login, u.password, csid=H.new_address())
    assert (r.code, r.message) == (REJECT, MSG_ENROLL_UNPROVEN), r.raw
    assert r.get("VRMS2FA-OTPAuth-URI") is None, r.raw


# --------------------------------------------------------------------------
# Hole 4: trust proven by email outlived the switch to 2FA
# --------------------------------------------------------------------------

def test_email_trust_does_not_skip_the_code_after_2fa(world, admin, rad, outbox):
    """An address confirmed by email, then 2FA set up: from that address the
    code is asked (the mailbox is not the authenticator); the code then earns
    trust that counts."""
    u = world.user()
    csid = H.new_address()
    trust_by_email(rad, outbox, u, csid)
    world.enroll(u)
    H.wait_step_margin(4)
    r1 = rad.round1(u.login, u.password, csid=csid)
    assert (r1.code, r1.message) == (CHALLENGE, MSG_ENTER_CODE), r1.raw
    assert rad.round2(u.login, u.code(), r1.state, csid=csid).code == ACCEPT
    assert_trusted(admin, u.login, csid, "code")
    assert rad.round1(u.login, u.password, csid=csid).code == ACCEPT


def test_pending_email_void_after_2fa_and_state_changes(world, admin, rad, outbox):
    """A confirmation pending when the user's state changes is void: after
    2FA is activated (code and link refused), after "trusted revoke --all",
    a password change, and a disable (link refused)."""
    u = world.user()
    csid = H.new_address()
    r1, mail = email_challenge(rad, outbox, u, csid)
    world.enroll(u)
    r = rad.round2(u.login, mail["VRMS2FA_CODE"], r1.state, csid=csid)
    assert r.code != ACCEPT, r.raw
    r = admin("email", "confirm", mail["VRMS2FA_TOKEN"], check=False)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert csid not in trusted(admin, u.login)

    for change in (["trusted", "revoke", "--all"], ["user", "set", "--password-stdin"], ["user", "set", "--disabled", "yes"]):
        v = world.user()
        _, mail = email_challenge(rad, outbox, v, H.new_address())
        args = change[:2] + [v.login] + change[2:]
        admin(*args, input="N3w pass word\n" if "--password-stdin" in change else None)
        r = admin("email", "confirm", mail["VRMS2FA_TOKEN"], check=False)
        assert r.returncode == 1, (change, r.stdout, r.stderr)
        assert trusted(admin, v.login) == {}, change


# --------------------------------------------------------------------------
# Hole 5: the seed crossed the NAS link in clear
# --------------------------------------------------------------------------

def enrollment_over_radpkt(rad, u, csid, source="127.0.0.1"):
    c = radpkt.Client(rad.port, rad.secret, source=source)
    try:
        pkt, auth = c.packet([(radpkt.USER_NAME, u.login), (radpkt.USER_PASSWORD, u.password),
                              (radpkt.CALLING_STATION_ID, csid)])
        reply = c.send(None, raw=(pkt, auth))
    finally:
        c.close()
    assert reply is not None and reply.code == radpkt.ACCESS_CHALLENGE, reply and reply.attrs
    wire = b"".join(bytes([t, len(v) + 2]) + v for t, v in reply.attrs)
    uri = [v[6:] for v in reply.get(radpkt.VENDOR_SPECIFIC) if v[:4] == (radpkt.VRMS2FA_VENDOR).to_bytes(4, "big")
           and v[4] == 2]
    assert len(uri) == 1, reply.attrs
    return reply, wire, uri[0], auth


@pytest.mark.parametrize("key_in_message", ["yes", "no"])
def test_otpauth_uri_encrypted_on_the_wire(world, admin, mariadb, outbox, new_radiusd, key_in_message):
    """The enrollment reply carries the otpauth URI salt-encrypted with the
    shared secret: nothing of the secret is readable on the wire except, when
    the operator keeps it, the key in Reply-Message; radclient (with the
    dictionary) and an RFC 2868 decryption recover the same URI."""
    rad = new_radiusd({**EMAIL_ON, ("totp", "key_in_message"): key_in_message})
    co, _ = high_company(world)
    u = world.user(company=co, group="owner")
    csid = H.new_address()
    trust_by_email(rad, outbox, u, csid)
    set_deadline(mariadb, u.login, time.time() - 60)

    reply, wire, encrypted, auth = enrollment_over_radpkt(rad, u, csid)
    uri = radpkt.salt_decrypt(encrypted, rad.secret.encode(), auth).decode()
    secret = secret_from_uri(uri)[0]
    assert b"otpauth" not in wire and b"secret=" not in wire
    assert secret.encode() not in encrypted
    message = re.sub(r"\s", "", reply.message).upper()
    if key_in_message == "yes":
        assert secret in message, reply.message
    else:
        assert secret not in message and "QR" in reply.message, reply.message
        assert secret.encode() not in wire.upper()

    # radclient, with the dictionary, decrypts it (what a backend library does); a fresh secret each time
    r1 = rad.round1(u.login, u.password, csid=csid)
    assert r1.code == CHALLENGE, r1.raw
    again = secret_from_uri(r1.get("VRMS2FA-OTPAuth-URI"))[0]
    assert again != secret
    H.wait_step_margin(3)
    r2 = rad.round2(u.login, H.totp(again), r1.state, csid=csid)
    assert r2.code == ACCEPT and r2.get("VRMS2FA-Enrolled") == "1", r2.raw


# --------------------------------------------------------------------------
# Hole 6: placeholder addresses became trusted; MAC trust off; trust scopes
# --------------------------------------------------------------------------

PLACEHOLDERS = ["0.0.0.0", "::", "127.0.0.1", "224.0.0.1", "255.255.255.255", "00:00:00:00:00:00",
                "ff:ff:ff:ff:ff:ff", "::1"]


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_placeholder_address_is_never_trusted(world, admin, radiusd, placeholder):
    """A right code from a placeholder address lets that login in but trusts
    nothing: the next login sending the same placeholder is asked again; the
    log names the address and the reason."""
    u = world.user(enroll=True)
    H.wait_step_margin(4)
    r1 = radiusd.round1(u.login, u.password, csid=placeholder)
    assert (r1.code, r1.message) == (CHALLENGE, MSG_ENTER_CODE), r1.raw
    assert radiusd.round2(u.login, u.code(), r1.state, csid=placeholder).code == ACCEPT
    assert trusted(admin, u.login) == {}
    r = radiusd.round1(u.login, u.password, csid=placeholder)
    assert r.code == CHALLENGE, r.raw
    assert re.search(r"cannot earn or use trust", radiusd.log_text()), H.tail(radiusd.logfile)


def test_mac_trust_off(world, admin, new_radiusd):
    """trust.mac = no: a MAC proven with a code is not trusted; an IP still is."""
    rad = new_radiusd({("trust", "mac"): "no"})
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    mac = "02:00:5e:%02x:%02x:01" % (int(time.time()) % 256, id(u) % 256)
    r1 = rad.round1(u.login, u.password, csid=mac)
    assert rad.round2(u.login, u.code(), r1.state, csid=mac).code == ACCEPT
    assert trusted(admin, u.login) == {}
    assert rad.round1(u.login, u.password, csid=mac).code == CHALLENGE
    ip = H.new_address()
    r1 = rad.round1(u.login, u.password, csid=ip)
    assert rad.round2(u.login, u.code(offset=1), r1.state, csid=ip).code == ACCEPT
    assert rad.round1(u.login, u.password, csid=ip).code == ACCEPT


def test_trust_scope_per_client_group(world, admin, new_radiusd):
    """Clients of the "wifi" scope (127.0.0.2 here) do not honour an address
    proven through the default scope (the VPN, 127.0.0.1), and the other way
    round; each scope's own proof counts in it."""
    rad = new_radiusd(authorize_unlang="""
	if (&Packet-Src-IP-Address == 127.0.0.2) {
		update control {
			&VRMS2FA-Trust-Scope := "wifi"
		}
	}
""")
    u = world.user(enroll=True)
    csid = H.new_address()
    H.wait_step_margin(5)
    r1 = rad.round1(u.login, u.password, csid=csid, src_ip="127.0.0.1")
    assert rad.round2(u.login, u.code(), r1.state, csid=csid, src_ip="127.0.0.1").code == ACCEPT
    assert rad.round1(u.login, u.password, csid=csid, src_ip="127.0.0.1").code == ACCEPT
    r1 = rad.round1(u.login, u.password, csid=csid, src_ip="127.0.0.2")
    assert r1.code == CHALLENGE, r1.raw
    assert rad.round2(u.login, u.code(offset=1), r1.state, csid=csid, src_ip="127.0.0.2").code == ACCEPT
    assert rad.round1(u.login, u.password, csid=csid, src_ip="127.0.0.2").code == ACCEPT
    scopes = sorted(a["scope"] for a in admin.json("trusted", "list", u.login)["addresses"])
    assert scopes == ["", "wifi"], scopes


# --------------------------------------------------------------------------
# Hole 7: an email confirmation of an unsigned request trusted the address
# --------------------------------------------------------------------------

def test_unsigned_request_email_confirms_login_but_never_trusts(world, admin, rad, outbox):
    """A request without Message-Authenticator (an attacker on the NAS path
    can forge one): its email's link confirms, but trusts nothing; the next
    login from that address gets an email again."""
    u = world.user()
    csid = H.new_address()
    _, mail = email_challenge(rad, outbox, u, csid, ma=False)
    r = admin("email", "confirm", mail["VRMS2FA_TOKEN"])
    assert "not trusted" in r.stdout, r.stdout
    assert trusted(admin, u.login) == {}
    email_challenge(rad, outbox, u, csid)


def test_uri_too_long_for_the_attribute_key_still_given(world, admin, mariadb, backend_rad, outbox):
    """An otpauth URI longer than VRMS2FA-OTPAuth-URI can carry encrypted
    (239 bytes: a long non-ASCII login) is not sent cut short: the attribute
    is left out, the key is in Reply-Message, the log says why, and the code
    of that key enrolls (issue 21, item 5)."""
    rad = backend_rad
    tag = H.unique("")[-4:]
    u = world.user(login="\u00e9" * 30 + tag, email="long%s@example.com" % tag)	# 64 bytes; each \u00e9 is 6 in the URI
    csid = H.new_address()
    trust_by_email(rad, outbox, u, csid)
    r1 = rad.round1(u.login, u.password, csid=csid, src_ip=BACKEND, extra=ENROLL_REQUEST)
    assert r1.code == CHALLENGE and r1.get("VRMS2FA-OTPAuth-URI") is None, r1.raw
    m = re.search(r"authentication app: ([A-Z2-7 ]+) -", r1.message or "")
    assert m, r1.message
    assert re.search(r"otpauth URI \(\d+ bytes\) is longer than the 239 bytes", rad.log_text()), H.tail(rad.logfile)
    H.wait_step_margin(3)
    r2 = rad.round2(u.login, H.totp(m.group(1).replace(" ", "")), r1.state, csid=csid, src_ip=BACKEND)
    assert r2.code == ACCEPT and r2.get("VRMS2FA-Enrolled") == "1", r2.raw


@pytest.mark.parametrize("change", [["trusted", "revoke", "--all"], ["user", "set", "--password-stdin"],
                                    ["user", "set", "--disabled", "yes"], ["enroll", "reset"]])
def test_pending_enrollment_secret_void_after_state_changes(world, admin, mariadb, rad, outbox, change):
    """A key shown by an enrollment challenge is void once the operator
    revokes the user's trust, changes the password, disables the user or
    resets the enrollment: its code on its own State activates nothing."""
    co, _ = high_company(world)
    u = world.user(company=co, group="owner")
    csid = H.new_address()
    trust_by_email(rad, outbox, u, csid)
    set_deadline(mariadb, u.login, time.time() - 60)
    r1 = rad.round1(u.login, u.password, csid=csid)
    assert r1.code == CHALLENGE, r1.raw
    secret = secret_from_uri(r1.get("VRMS2FA-OTPAuth-URI"))[0]
    assert admin.json("user", "show", u.login)["totp_status"] == "pending"
    admin(*(change[:2] + [u.login] + change[2:]), input="N3w pass word\n" if "--password-stdin" in change else None)
    assert admin.json("user", "show", u.login)["totp_status"] == "none"
    H.wait_step_margin(3)
    r2 = rad.round2(u.login, H.totp(secret), r1.state, csid=csid)
    assert r2.code != ACCEPT, r2.raw
    assert admin.json("user", "show", u.login)["totp_status"] == "none"
