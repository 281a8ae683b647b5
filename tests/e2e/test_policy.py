"""
End-to-end tests of issue 4 (doc/design.md: "Round 1", "The trust model", "Grace deadlines"): the rows of the
login decision table that test_challenge.py does not already cover, trust
per user, grace deadlines (reminder, then enrollment over RADIUS), company
security levels scoped to groups, who may change a company's policy, and the
deadlines that follow users in and out of covered groups.

Logins go through a real radiusd driven by radclient.  Where email
confirmation matters, the radiusd has it on with the harness's stub hook
(the tests read its outbox); test_email_smtp.py covers the real hook.
Each test makes its own companies and users.
"""
import base64
import re
import time
from urllib.parse import parse_qs, unquote, urlparse

import pytest

import harness as H
from harness import ACCEPT, CHALLENGE, MSG_ENTER_CODE

EMAIL_ON = {("email", "enabled"): "yes"}
MSG_EMAIL_SENT = H.MESSAGES["MSG_EMAIL_SENT"]
DAY = 86400


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

@pytest.fixture
def rad(radiusd_pool):
    """The radiusd with email confirmation on (stub hook, outbox)."""
    return radiusd_pool.get(EMAIL_ON)


def masked(email):
    local, _, domain = email.partition("@")
    return "%s\u2026@%s" % (local[0], domain)


def high_company(world, groups=("company_user", "owner"), grace_days=None):
    """A company at the high level for `groups`, and its administrator."""
    co = world.company(grace_days=grace_days)
    boss = world.user(company=co, group="administrator")
    world.policy(co, "high", list(groups), boss.login)
    return co, boss


def set_deadline(mariadb, login, when):
    value = "NULL" if when is None else "%d" % int(when)
    mariadb.sql("UPDATE users SET grace_deadline = %s WHERE login = '%s'" % (value, login), database=mariadb.db)


def deadline_of(admin, login):
    return admin.json("user", "show", login)["grace_deadline"]


def assert_deadline_about(admin, login, seconds_from_now, at=None):
    """The user's deadline is `seconds_from_now` after `at` (default now), within a minute."""
    at = time.time() if at is None else at
    d = deadline_of(admin, login)
    assert d is not None, "%s has no grace deadline" % login
    assert abs(d - (at + seconds_from_now)) <= 60, (login, d, at + seconds_from_now)
    return d


def trust_by_email(rad, outbox, u, csid):
    """Confirm a login of a user without 2FA from csid with the emailed code:
    the address becomes trusted (how = email)."""
    before = len(outbox.emails(u.login))
    r1 = rad.round1(u.login, u.password, csid=csid)
    assert r1.code == CHALLENGE, r1.raw
    assert r1.message == MSG_EMAIL_SENT % masked(u.email), r1.message
    mails = outbox.emails(u.login)
    assert len(mails) == before + 1, mails
    r2 = rad.round2(u.login, mails[-1]["VRMS2FA_CODE"], r1.state, csid=csid)
    assert r2.code == ACCEPT, r2.raw
    return r2


def assert_trusted(admin, login, csid, how):
    addrs = {a["address"]: a["how"] for a in admin.json("trusted", "list", login)["addresses"]}
    assert addrs.get(csid) == how, addrs


def secret_from_uri(uri):
    """The secret= of an otpauth URI, checked to be base32 that decodes (to >= 128 bits)."""
    u = urlparse(uri)
    assert u.scheme == "otpauth" and u.netloc == "totp", uri
    q = parse_qs(u.query)
    assert list(q.get("secret", [])) and len(q["secret"]) == 1, uri
    secret = q["secret"][0]
    raw = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=False)
    assert len(raw) >= 16, (secret, len(raw))
    return secret, u, q


def assert_reminder(r, days=None):
    """An Access-Accept with the "protect your account" reminder; with `days`,
    the days left and VRMS2FA-Grace-Seconds; without, neither."""
    assert r.code == ACCEPT, r.raw
    assert r.message and "Protect your account" in r.message, r.raw
    assert r.get("VRMS2FA-Enrolled") == "0", r.raw
    if days is None:
        assert "left" not in r.message, r.message
        assert r.get("VRMS2FA-Grace-Seconds") is None, r.raw
    else:
        assert re.search(r"\b%d days? left\b" % days, r.message), r.message


def enroll_by_challenge(rad, admin, u, r1, csid):
    """Round 2 of an enrollment challenge with the code oathtool computes from
    the URI's secret; returns the secret."""
    assert r1.code == CHALLENGE, r1.raw
    uri = r1.get("VRMS2FA-OTPAuth-URI")
    assert uri, r1.raw
    secret, _, _ = secret_from_uri(uri)
    assert secret in re.sub(r"\s", "", r1.message or "").upper(), r1.message	# the key, for VPN users
    H.wait_step_margin(3)
    r2 = rad.round2(u.login, H.totp(secret), r1.state, csid=csid)
    assert r2.code == ACCEPT, r2.raw
    assert r2.get("VRMS2FA-Enrolled") == "1", r2.raw
    u.secret = secret
    return secret


POLICIES = ["low", "high", "high-deadline-passed"]


def user_under(world, mariadb, policy, **kw):
    """A user of a company whose policy for the user's group is `policy`:
    low; high (mandatory); high with the deadline already passed."""
    if policy == "low":
        co = world.company()
    else:
        co, _ = high_company(world)
    u = world.user(company=co, group="company_user", **kw)
    if policy == "high-deadline-passed":
        set_deadline(mariadb, u.login, time.time() - 60)
    return u


# --------------------------------------------------------------------------
# doc/design.md, "Round 1": the decision table, row by row
# --------------------------------------------------------------------------

@pytest.mark.parametrize("policy", POLICIES)
def test_row1_2fa_active_trusted_address_any_policy_accepts(world, mariadb, rad, policy):
    """2FA active | trusted | any policy -> Access-Accept, no code asked."""
    csid = H.new_address()
    u = user_under(world, mariadb, policy, enroll=True, address=csid)
    r = rad.round1(u.login, u.password, csid=csid)
    assert r.code == ACCEPT, r.raw
    assert r.get("VRMS2FA-Enrolled") == "1", r.raw
    assert "State" not in r.attrs and r.get("VRMS2FA-OTPAuth-URI") is None, r.raw
    assert not (r.message or "").startswith("Protect your account"), r.raw


@pytest.mark.parametrize("policy", POLICIES)
def test_row2_2fa_active_new_address_any_policy_asks_for_the_code(world, admin, mariadb, rad, outbox, policy):
    """2FA active | new | any policy -> Access-Challenge for the app's code
    (not enrollment, not an email), and the code lets the user in."""
    u = user_under(world, mariadb, policy, enroll=True, address=H.new_address())
    csid = H.new_address()
    H.wait_step_margin(4)
    r1 = rad.round1(u.login, u.password, csid=csid)
    assert (r1.code, r1.message) == (CHALLENGE, MSG_ENTER_CODE), r1.raw
    assert r1.get("VRMS2FA-OTPAuth-URI") is None, r1.raw
    assert outbox.emails(u.login) == []
    r2 = rad.round2(u.login, u.code(), r1.state, csid=csid)
    assert r2.code == ACCEPT, r2.raw
    assert_trusted(admin, u.login, csid, "code")


@pytest.mark.parametrize("address", ["trusted-by-email", "new"])
def test_row3_no_2fa_mandatory_deadline_passed_any_address_enrollment_only(world, admin, mariadb, rad, outbox,
                                                                            address):
    """no 2FA | mandatory, deadline passed -> no access without enrollment.
    From a trusted address (confirmed by email before): the enrollment
    challenge at once, no email.  From a new address: the email first (the
    password alone never binds an authenticator), and its code leads to the
    enrollment challenge.  A wrong code gets nothing."""
    co, _ = high_company(world)
    u = world.user(company=co, group="owner")
    csid = H.new_address()
    if address == "trusted-by-email":
        trust_by_email(rad, outbox, u, csid)
        assert_trusted(admin, u.login, csid, "email")
    emails = len(outbox.emails(u.login))
    set_deadline(mariadb, u.login, time.time() - 60)

    r1 = rad.round1(u.login, u.password, csid=csid)
    if address == "new":
        assert r1.code == CHALLENGE and r1.message == MSG_EMAIL_SENT % masked(u.email), r1.raw
        assert r1.get("VRMS2FA-OTPAuth-URI") is None, r1.raw
        mails = outbox.emails(u.login)
        assert len(mails) == emails + 1, mails
        r1 = rad.round2(u.login, mails[-1]["VRMS2FA_CODE"], r1.state, csid=csid)
        emails += 1
    assert r1.code == CHALLENGE, r1.raw
    assert r1.get("VRMS2FA-OTPAuth-URI"), r1.raw
    assert len(outbox.emails(u.login)) == emails, "an email was sent instead of enrollment"
    # a wrong code gets nothing
    r_bad = rad.round2(u.login, H.wrong_code(secret_from_uri(r1.get("VRMS2FA-OTPAuth-URI"))[0]), r1.state,
                       csid=csid)
    assert r_bad.code != ACCEPT, r_bad.raw
    assert admin.json("user", "show", u.login)["enrolled"] is False
    # nor does a new round 1 from the (now) trusted address: enrollment again, a new key
    r1 = rad.round1(u.login, u.password, csid=csid)
    assert r1.code == CHALLENGE and r1.get("VRMS2FA-OTPAuth-URI"), r1.raw
    enroll_by_challenge(rad, admin, u, r1, csid)
    j = admin.json("user", "show", u.login)
    assert j["enrolled"] is True and j["grace_deadline"] is None, j


@pytest.mark.parametrize("optional", ["low-company", "high-company-group-not-covered"])
def test_row4_no_2fa_trusted_address_optional_accepts_with_reminder(world, admin, rad, outbox, optional):
    """no 2FA | trusted (confirmed by email) | optional -> Access-Accept with
    the reminder, without days left, and no new email."""
    if optional == "low-company":
        co = world.company()
    else:
        co, _ = high_company(world, groups=("owner",))
    u = world.user(company=co, group="supplier")
    assert admin.json("user", "show", u.login)["mandatory"] is False
    csid = H.new_address()
    r2 = trust_by_email(rad, outbox, u, csid)
    assert_reminder(r2)
    assert_trusted(admin, u.login, csid, "email")
    emails = len(outbox.emails(u.login))

    r = rad.round1(u.login, u.password, csid=csid)
    assert_reminder(r)
    assert len(outbox.emails(u.login)) == emails


def test_row4_no_2fa_trusted_address_mandatory_within_grace_accepts_with_days_left(world, admin, rad, outbox):
    """no 2FA | trusted (confirmed by email) | mandatory within grace ->
    Access-Accept with the reminder and the days left (VRMS2FA-Grace-Seconds)."""
    co, _ = high_company(world, grace_days=5)
    u = world.user(company=co, group="company_user")
    assert_deadline_about(admin, u.login, 5 * DAY)
    csid = H.new_address()
    assert_reminder(trust_by_email(rad, outbox, u, csid), days=5)
    emails = len(outbox.emails(u.login))

    r = rad.round1(u.login, u.password, csid=csid)
    assert_reminder(r, days=5)
    assert 4 * DAY < int(r.get("VRMS2FA-Grace-Seconds")) <= 5 * DAY, r.raw
    assert len(outbox.emails(u.login)) == emails


def test_row4_needs_message_authenticator(world, admin, rad, outbox):
    """The trusted-address row needs a Message-Authenticator (BlastRADIUS):
    without one, a user without 2FA at a trusted address is treated as at a
    new address (an email), never accepted on the address alone."""
    u = world.user()
    csid = H.new_address()
    trust_by_email(rad, outbox, u, csid)
    assert_reminder(rad.round1(u.login, u.password, csid=csid, ma=True))
    r = rad.round1(u.login, u.password, csid=csid, ma=False)
    assert r.code == CHALLENGE and r.message == MSG_EMAIL_SENT % masked(u.email), r.raw


def test_grace_days_zero_means_enrollment_at_once(world, admin, rad, outbox):
    """A company with 0 grace days: a user it covers must enroll at the first
    login (after the email that proves the new address)."""
    co, _ = high_company(world, groups=("company_user",), grace_days=0)
    u = world.user(company=co, group="company_user")
    assert_deadline_about(admin, u.login, 0)
    csid = H.new_address()
    r1 = rad.round1(u.login, u.password, csid=csid)
    assert r1.code == CHALLENGE and r1.get("VRMS2FA-OTPAuth-URI") is None, r1.raw
    r1 = rad.round2(u.login, outbox.emails(u.login)[-1]["VRMS2FA_CODE"], r1.state, csid=csid)
    assert r1.code == CHALLENGE and r1.get("VRMS2FA-OTPAuth-URI"), r1.raw
    enroll_by_challenge(rad, admin, u, r1, csid)


@pytest.mark.parametrize("policy", ["high-company-group-not-covered", "mandatory-within-grace"])
def test_row5_no_2fa_new_address_optional_or_within_grace_confirms_by_email(world, admin, rad, outbox, policy):
    """no 2FA | new | optional or mandatory within grace -> an email with a
    code and a link, and Access-Challenge naming the masked address; the code
    lets the user in with the reminder.  (A low company: test_challenge.py.)"""
    if policy == "high-company-group-not-covered":
        co, _ = high_company(world, groups=("owner",))
        u = world.user(company=co, group="supplier")
    else:
        co, _ = high_company(world, groups=("owner",), grace_days=3)
        u = world.user(company=co, group="owner")
    csid = H.new_address()
    r1 = rad.round1(u.login, u.password, csid=csid)
    assert r1.code == CHALLENGE, r1.raw
    assert r1.message == MSG_EMAIL_SENT % masked(u.email), r1.message
    assert r1.get("VRMS2FA-OTPAuth-URI") is None, r1.raw
    mails = outbox.emails(u.login)
    assert len(mails) == 1, mails
    assert mails[0]["VRMS2FA_ADDRESS"] == csid and mails[0]["VRMS2FA_TOKEN"] in mails[0]["VRMS2FA_LINK"], mails
    r2 = rad.round2(u.login, mails[0]["VRMS2FA_CODE"], r1.state, csid=csid)
    assert_reminder(r2, days=None if policy == "high-company-group-not-covered" else 3)
    assert_trusted(admin, u.login, csid, "email")


# --------------------------------------------------------------------------
# doc/design.md, "The trust model": trust is per user
# --------------------------------------------------------------------------

def test_trust_is_per_user_with_2fa(world, admin, rad):
    """User A's trusted address does not let user B skip the code."""
    csid = H.new_address()
    a = world.user(enroll=True, address=csid)
    b = world.user(enroll=True, company=a.company)
    assert rad.round1(a.login, a.password, csid=csid).code == ACCEPT
    r = rad.round1(b.login, b.password, csid=csid)
    assert (r.code, r.message) == (CHALLENGE, MSG_ENTER_CODE), r.raw
    assert admin.json("trusted", "list", b.login)["addresses"] == []
    # and B proving it does not change A's trust
    H.wait_step_margin(4)
    assert rad.round2(b.login, b.code(), r.state, csid=csid).code == ACCEPT
    assert_trusted(admin, b.login, csid, "code")
    assert_trusted(admin, a.login, csid, "enrollment")


def test_trust_is_per_user_without_2fa(world, admin, rad, outbox):
    """An address user A confirmed by email is new for user B: B gets an
    email of B's own, not A's reminder-accept."""
    a = world.user()
    b = world.user(company=a.company)
    csid = H.new_address()
    trust_by_email(rad, outbox, a, csid)
    assert_reminder(rad.round1(a.login, a.password, csid=csid))
    r = rad.round1(b.login, b.password, csid=csid)
    assert r.code == CHALLENGE and r.message == MSG_EMAIL_SENT % masked(b.email), r.raw
    assert len(outbox.emails(b.login)) == 1
    assert admin.json("trusted", "list", b.login)["addresses"] == []


def test_revoking_one_users_trust_leaves_the_other(world, admin, rad):
    csid = H.new_address()
    a = world.user(enroll=True, address=csid)
    b = world.user(enroll=True, company=a.company, address=csid)
    admin("trusted", "revoke", a.login, csid)
    assert rad.round1(a.login, a.password, csid=csid).code == CHALLENGE
    assert rad.round1(b.login, b.password, csid=csid).code == ACCEPT


# --------------------------------------------------------------------------
# doc/design.md, "Grace deadlines"
# --------------------------------------------------------------------------

def test_grace_deadline_reminder_then_enrollment_over_radius(world, admin, mariadb, rad, outbox):
    """Deadline in a minute: Access-Accept with the reminder (1 day left,
    VRMS2FA-Grace-Seconds 1..60).  Deadline a minute ago: enrollment by
    challenge (the key in Reply-Message, the otpauth URI), and a valid code
    (oathtool, from the URI's secret) activates 2FA, clears the deadline and
    trusts the address: the next login from it needs no code."""
    co, _ = high_company(world, groups=("owner",))
    u = world.user(company=co, group="owner")
    csid = H.new_address()
    trust_by_email(rad, outbox, u, csid)

    set_deadline(mariadb, u.login, time.time() + 60)
    r = rad.round1(u.login, u.password, csid=csid)
    assert_reminder(r, days=1)
    assert 1 <= int(r.get("VRMS2FA-Grace-Seconds")) <= 60, r.raw

    set_deadline(mariadb, u.login, time.time() - 60)
    r1 = rad.round1(u.login, u.password, csid=csid)
    assert r1.code == CHALLENGE, r1.raw
    uri = r1.get("VRMS2FA-OTPAuth-URI")
    assert uri and uri.startswith("otpauth://totp/"), r1.raw
    secret, parsed, query = secret_from_uri(uri)
    assert u.login in unquote(parsed.path), uri
    assert query.get("issuer") == ["VRMS"], uri
    key_in_message = re.sub(r"\s", "", r1.message or "").upper()
    assert secret in key_in_message, r1.message
    assert r1.get("VRMS2FA-Enrolled") == "0", r1.raw
    assert admin.json("user", "show", u.login)["totp_status"] == "pending"

    H.wait_step_margin(3)
    code = H.totp(secret)
    r2 = rad.round2(u.login, code, r1.state, csid=csid)
    assert r2.code == ACCEPT, r2.raw
    assert r2.get("VRMS2FA-Enrolled") == "1", r2.raw

    j = admin.json("user", "show", u.login)
    assert j["enrolled"] is True and j["totp_status"] == "active" and j["grace_deadline"] is None, j
    human = admin("user", "show", u.login).stdout
    assert re.search(r"grace deadline:\s+\(none\)", human), human
    assert_trusted(admin, u.login, csid, "enrollment")

    r = rad.round1(u.login, u.password, csid=csid)
    assert r.code == ACCEPT and r.get("VRMS2FA-Enrolled") == "1", r.raw
    assert not (r.message or "").startswith("Protect your account"), r.raw
    # from elsewhere, the app's code is asked now, with the enrolled secret
    csid2 = H.new_address()
    r1 = rad.round1(u.login, u.password, csid=csid2)
    assert (r1.code, r1.message) == (CHALLENGE, MSG_ENTER_CODE), r1.raw
    assert rad.round2(u.login, H.totp(secret, time.time() + 30), r1.state, csid=csid2).code == ACCEPT


def test_grace_deadline_from_the_company_grace_days(world, admin):
    """A user created into a covered group: deadline = now + the company's
    grace days (3 here, 5 by default)."""
    co, _ = high_company(world, groups=("company_user",), grace_days=3)
    u = world.user(company=co, group="company_user")
    assert_deadline_about(admin, u.login, 3 * DAY)
    co5, _ = high_company(world, groups=("company_user",))
    assert admin.json("company", "show", co5)["grace_days"] == 5
    v = world.user(company=co5, group="company_user")
    assert_deadline_about(admin, v.login, 5 * DAY)


def test_group_scoping_owner_mandatory_supplier_optional(world, admin, mariadb, radiusd, rad, outbox):
    """Company high with --groups owner: owners get a deadline, suppliers of
    the same company none.  After the owner's deadline passes the owner is
    asked to enroll; the supplier follows the optional rows."""
    co = world.company()
    boss = world.user(company=co, group="administrator")
    owner_before = world.user(company=co, group="owner")		# there before the policy
    supplier = world.user(company=co, group="supplier")
    t0 = time.time()
    world.policy(co, "high", ["owner"], boss.login)
    owner_after = world.user(company=co, group="owner")		# created under it

    for o in (owner_before, owner_after):
        j = admin.json("user", "show", o.login)
        assert j["mandatory"] is True, j
        assert_deadline_about(admin, o.login, 5 * DAY, at=t0)
    j = admin.json("user", "show", supplier.login)
    assert j["mandatory"] is False and j["grace_deadline"] is None, j
    assert admin.json("user", "show", boss.login)["grace_deadline"] is None

    # within grace: both in, the owner with the days left, the supplier without
    assert_reminder(radiusd.round1(owner_before.login, owner_before.password, csid=H.new_address()), days=5)
    assert_reminder(radiusd.round1(supplier.login, supplier.password, csid=H.new_address()))

    set_deadline(mariadb, owner_before.login, time.time() - 1)
    # from a new address: the email first, its code leads to the enrollment challenge, never the reminder
    csid = H.new_address()
    r1 = rad.round1(owner_before.login, owner_before.password, csid=csid)
    assert r1.code == CHALLENGE and r1.get("VRMS2FA-OTPAuth-URI") is None, r1.raw
    assert len(outbox.emails(owner_before.login)) == 1
    r_owner = rad.round2(owner_before.login, outbox.emails(owner_before.login)[-1]["VRMS2FA_CODE"], r1.state,
                         csid=csid)
    assert r_owner.code == CHALLENGE and r_owner.get("VRMS2FA-OTPAuth-URI"), r_owner.raw
    # with email confirmation off, a new address is refused: no key on the password alone
    r = radiusd.round1(owner_before.login, owner_before.password, csid=H.new_address())
    assert r.code != ACCEPT and r.get("VRMS2FA-OTPAuth-URI") is None, r.raw
    # from the address the email proved: enrollment again (a new pending key, the earlier one is void)
    ocsid = csid
    r_owner = radiusd.round1(owner_before.login, owner_before.password, csid=ocsid)
    assert r_owner.code == CHALLENGE and r_owner.get("VRMS2FA-OTPAuth-URI"), r_owner.raw

    # the supplier: optional rows (email for a new address, then the reminder)
    scsid = H.new_address()
    r2 = trust_by_email(rad, outbox, supplier, scsid)
    assert_reminder(r2)
    assert_reminder(rad.round1(supplier.login, supplier.password, csid=scsid))
    assert_reminder(radiusd.round1(supplier.login, supplier.password, csid=H.new_address()))
    # the other owner, still within grace, is not affected
    assert_reminder(radiusd.round1(owner_after.login, owner_after.password, csid=H.new_address()), days=5)

    enroll_by_challenge(radiusd, admin, owner_before, r_owner, ocsid)
    assert deadline_of(admin, owner_before.login) is None


# --------------------------------------------------------------------------
# Only an enabled administrator of the company
# --------------------------------------------------------------------------

def _policy_events(admin):
    return [e for e in admin.json("audit")["events"] if e["event"] == "policy_changed"]


@pytest.mark.parametrize("who", ["company_user", "owner", "disabled-administrator",
                                 "administrator-of-another-company", "unknown-login"])
def test_policy_set_refused_for_non_administrators(world, admin, who):
    co = world.company()
    world.user(company=co, group="administrator")		# the company has a real administrator
    if who in ("company_user", "owner"):
        by = world.user(company=co, group=who).login
    elif who == "disabled-administrator":
        by = world.user(company=co, group="administrator").login
        admin("user", "set", by, "--disabled", "yes")
    elif who == "administrator-of-another-company":
        by = world.user(company=world.company(), group="administrator").login
    else:
        by = H.unique("nobody")
    before = admin.json("company", "show", co)
    events_before = _policy_events(admin)

    r = admin("policy", "set", co, "--level", "high", "--groups", "owner,supplier", "--by", by, check=False)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].strip(), r.stderr
    assert "refused" in lines[0] or "administrator" in lines[0], lines[0]
    assert r.stdout == "", r.stdout

    after = admin.json("company", "show", co)
    assert after == before, (before, after)
    assert after["level"] == "low"
    events_after = _policy_events(admin)
    assert len(events_after) == len(events_before), [e for e in events_after if e not in events_before]
    assert not [e for e in events_after if e["actor"] == by]


def test_policy_set_by_administrator_is_applied_and_audited(world, admin):
    co = world.company()
    boss = world.user(company=co, group="administrator")
    t0 = time.time()
    r = admin("policy", "set", co, "--level", "high", "--groups", "owner,supplier", "--by", boss.login, check=False,
              input=boss.password + "\n")
    assert (r.returncode, r.stderr) == (0, ""), r
    j = admin.json("company", "show", co)
    assert j["level"] == "high" and sorted(j["groups"]) == ["owner", "supplier"], j

    r = admin("policy", "set", co, "--level", "low", "--by", boss.login, check=False, input=boss.password + "\n")
    assert (r.returncode, r.stderr) == (0, ""), r
    assert admin.json("company", "show", co)["level"] == "low"

    events = [e for e in admin.json("audit", "--user", boss.login)["events"] if e["event"] == "policy_changed"]
    assert len(events) == 2, events
    for e in events:
        assert e["actor"] == boss.login, e			# who
        assert t0 - 5 <= e["at"] <= time.time() + 5, e		# when
    # from what, to what
    up = [e for e in events if re.search(r"\blow\b\s*->\s*\bhigh\b", e["detail"])]
    down = [e for e in events if re.search(r"\bhigh\b\s*->\s*\blow\b", e["detail"])]
    assert len(up) == 1 and len(down) == 1, events
    assert re.search(r"\[\s*\]\s*->\s*\[[^]]*owner[^]]*\]", up[0]["detail"]) and "supplier" in up[0]["detail"], up
    human = admin("audit", "--user", boss.login).stdout
    assert "policy_changed" in human and "actor=%s" % boss.login in human, human


# --------------------------------------------------------------------------
# doc/design.md, "Grace deadlines": deadlines follow users in and out of covered groups
# --------------------------------------------------------------------------

def test_deadlines_follow_group_moves_and_level_switches(world, admin, radiusd):
    co = world.company(grace_days=4)
    boss = world.user(company=co, group="administrator")
    world.policy(co, "high", ["owner"], boss.login)
    mover = world.user(company=co, group="supplier")
    owner = world.user(company=co, group="owner")
    enrolled_owner = world.user(company=co, group="owner", enroll=True)
    assert deadline_of(admin, mover.login) is None
    assert deadline_of(admin, enrolled_owner.login) is None	# enrolling cleared it
    assert_deadline_about(admin, owner.login, 4 * DAY)

    # into a covered group: a deadline starts now
    j = admin.json("user", "set", mover.login, "--group", "owner")
    assert j["group"] == "owner" and j["mandatory"] is True, j
    assert_deadline_about(admin, mover.login, 4 * DAY)
    assert_reminder(radiusd.round1(mover.login, mover.password, csid=H.new_address()), days=4)
    # out of it: lifted
    j = admin.json("user", "set", mover.login, "--group", "company_user")
    assert j["group"] == "company_user" and j["mandatory"] is False and j["grace_deadline"] is None, j
    assert_reminder(radiusd.round1(mover.login, mover.password, csid=H.new_address()))
    # and in again: a new deadline
    admin("user", "set", mover.login, "--group", "owner")
    assert_deadline_about(admin, mover.login, 4 * DAY)

    # the company to low: every deadline lifted
    world.policy(co, "low", None, boss.login)
    for u in (mover, owner, enrolled_owner):
        j = admin.json("user", "show", u.login)
        assert j["grace_deadline"] is None and j["mandatory"] is False, j
    assert_reminder(radiusd.round1(owner.login, owner.password, csid=H.new_address()))

    # back to high: new deadlines, now + grace days (not the old ones back)
    time.sleep(1.1)
    t1 = time.time()
    world.policy(co, "high", ["owner"], boss.login)
    for u in (mover, owner):
        d = assert_deadline_about(admin, u.login, 4 * DAY, at=t1)
        assert d >= int(t1) + 4 * DAY - 1, (u.login, d, t1)
    assert deadline_of(admin, enrolled_owner.login) is None	# enrolled: nothing to set up
    assert_reminder(radiusd.round1(owner.login, owner.password, csid=H.new_address()), days=4)

    # a group added to the covered set starts its users' deadlines too
    clerk = world.user(company=co, group="company_user")
    assert deadline_of(admin, clerk.login) is None
    t2 = time.time()
    world.policy(co, "high", ["owner", "company_user"], boss.login)
    assert_deadline_about(admin, clerk.login, 4 * DAY, at=t2)
    # and removed from it: lifted, while the owners keep theirs
    world.policy(co, "high", ["owner"], boss.login)
    assert deadline_of(admin, clerk.login) is None
    assert_deadline_about(admin, owner.login, 4 * DAY, at=t1)
