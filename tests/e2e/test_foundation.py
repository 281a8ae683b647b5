"""
End-to-end tests of the first step (doc/design.md: "Data model", "Round 1"): the
password, checked by rlm_vrms2fa inside a real radiusd, driven by radclient.
Every test makes its own company and users (unique names), so the tests
do not depend on each other.
"""
import re
import time

import pytest

import harness as H
from harness import ACCEPT, REJECT, MSG_LOGIN_FAILED, MSG_LOCKED, MSG_SERVICE


def hash_for(fmt, password):
    if fmt == "bcrypt-2y":
        return H.crypt_hash(password, "$2y$", 10)	# PHP password_hash() default
    if fmt == "bcrypt-2b":
        return H.crypt_hash(password, "$2b$", 10)
    if fmt == "sha512-crypt":
        return H.crypt_hash(password, "$6$")			# "$6$salt$": 5000 rounds
    if fmt == "sha512-crypt-rounds":
        return H.crypt_hash(password, "$6$", 1000)		# "$6$rounds=1000$salt$"
    if fmt == "sha512-crypt-odd-salt":
        # '-' and '_' are not in the canonical alphabet: libxcrypt checks it, not core/sha512_crypt.c
        return H.crypt_hash(password, "$6$", setting="$6$rounds=1000$odd-salt_%s$" % H.unique("")[-4:])
    if fmt == "yescrypt":
        return H.crypt_hash(password, "$y$")
    raise ValueError(fmt)


@pytest.mark.parametrize("fmt", ["bcrypt-2y", "bcrypt-2b", "sha512-crypt", "sha512-crypt-rounds",
                                 "sha512-crypt-odd-salt", "yescrypt"])
def test_password_hash_formats(world, radiusd, mariadb, fmt):
    password = "Correct horse 'battery' \"staple\" \\ " + H.unique("")
    u = world.user(password=password, hash=hash_for(fmt, password))
    stored = mariadb.scalar("SELECT password_hash FROM users WHERE login = '%s'" % u.login)
    assert stored.startswith({"bcrypt-2y": "$2y$", "bcrypt-2b": "$2b$", "sha512-crypt": "$6$",
                              "sha512-crypt-rounds": "$6$rounds=1000$", "sha512-crypt-odd-salt": "$6$rounds=1000$odd-salt_",
                              "yescrypt": "$y$"}[fmt])

    r1, _ = radiusd.login(u.login, password)
    assert r1.code == ACCEPT, r1.raw
    assert r1.get("VRMS2FA-Enrolled") == "0"

    for wrong in (password + "x", password[:-1], password.upper(), ""):
        r, _ = radiusd.login(u.login, wrong)
        assert r.code == REJECT, (wrong, r.raw)
        assert r.message == MSG_LOGIN_FAILED


def test_password_argon2id(world, radiusd, mariadb):
    """--password-stdin hashes with argon2id; the same hash given with --password-hash works too."""
    u = world.user()
    stored = mariadb.scalar("SELECT password_hash FROM users WHERE login = '%s'" % u.login)
    assert stored.startswith("$argon2id$"), stored

    r, _ = radiusd.login(u.login, u.password)
    assert r.code == ACCEPT, r.raw
    r, _ = radiusd.login(u.login, u.password + "!")
    assert r.code == REJECT and r.message == MSG_LOGIN_FAILED

    v = world.user(password=u.password, hash=stored, company=u.company)
    r, _ = radiusd.login(v.login, u.password)
    assert r.code == ACCEPT, r.raw
    r, _ = radiusd.login(v.login, "not it")
    assert r.code == REJECT and r.message == MSG_LOGIN_FAILED


def test_password_changed_with_user_set(world, admin, radiusd):
    u = world.user()
    admin("user", "set", u.login, "--password-hash", H.crypt_hash("new password", "$6$"))
    assert radiusd.login(u.login, u.password)[0].code == REJECT
    assert radiusd.login(u.login, "new password")[0].code == ACCEPT


def test_unknown_disabled_wrong_look_the_same(world, admin, radiusd, figures):
    u = world.user()
    d = world.user(company=u.company)
    admin("user", "set", d.login, "--disabled", "yes")
    assert admin.json("user", "show", d.login)["disabled"] is True

    wrong = radiusd.login(u.login, "wrong password")[0]
    unknown = radiusd.login(H.unique("nobody"), "wrong password")[0]
    disabled_right = radiusd.login(d.login, d.password)[0]
    disabled_wrong = radiusd.login(d.login, "wrong password")[0]

    replies = {"wrong": wrong, "unknown": unknown, "disabled (right password)": disabled_right,
               "disabled (wrong password)": disabled_wrong}
    for what, r in replies.items():
        assert r.code == REJECT, (what, r.raw)
        assert r.message == MSG_LOGIN_FAILED, (what, r.raw)
    shapes = {what: sorted(k for k in r.attrs if k != "Message-Authenticator") for what, r in replies.items()}
    assert len({tuple(s) for s in shapes.values()}) == 1, shapes
    figures.append("reject timings (s): " + ", ".join("%s %.3f" % (k, r.elapsed) for k, r in replies.items()))

    # enabled again: the right password works
    admin("user", "set", d.login, "--disabled", "no")
    assert radiusd.login(d.login, d.password)[0].code == ACCEPT


def test_missing_user_password(world, radiusd):
    u = world.user()
    r = radiusd.request([("User-Name", u.login), ("Calling-Station-Id", "192.0.2.10"),
                         ("NAS-IP-Address", H.Raw("127.0.0.1"))])
    assert r.code == REJECT, r.raw
    assert r.message == MSG_LOGIN_FAILED


def test_missing_user_name(radiusd):
    r = radiusd.request([("User-Password", "whatever"), ("Calling-Station-Id", "192.0.2.10"),
                         ("NAS-IP-Address", H.Raw("127.0.0.1"))])
    assert r.code == REJECT, r.raw
    assert radiusd.running


def test_overlong_name(world, radiusd):
    u = world.user()
    for name in ("a" * 200, u.login + "x" * (200 - len(u.login)), "a" * 65):
        r, _ = radiusd.login(name, u.password)
        assert r.code == REJECT, r.raw
        assert r.message == MSG_LOGIN_FAILED
    assert radiusd.running
    assert radiusd.login(u.login, u.password)[0].code == ACCEPT


def test_non_utf8_and_nul_in_name(world, radiusd):
    u = world.user()
    login = u.login.encode()
    names = [b"\xff\xfe", b"\xff\xfe" + login, login + b"\xff", login + b"\xc0\xaf",	# invalid, overlong '/'
             login + b"\x00", login + b"\x00x", b"\x00" + login, login + b"\x01", b" " + login, login + b" "]
    for name in names:
        r, _ = radiusd.login(name, u.password)
        assert r.code == REJECT, (name, r.raw)
        assert r.message == MSG_LOGIN_FAILED, (name, r.raw)
    assert radiusd.running
    assert radiusd.login(u.login, u.password)[0].code == ACCEPT


@pytest.mark.parametrize("name", [
    "a' OR '1'='1",
    "x\"; DROP TABLE users; --",
    "' OR 1=1 -- ",
    "admin'--",
    "%",
    "_",
    "\\",
    "x' UNION SELECT 1,2,3 -- ",
])
def test_sql_metacharacters_in_name(world, radiusd, mariadb, name):
    world.user()	# at least one user exists
    before = int(mariadb.scalar("SELECT COUNT(*) FROM users"))
    for password in ("x", "' OR '1'='1", "\") OR 1=1 --"):
        r, _ = radiusd.login(name, password)
        assert r.code == REJECT, (name, password, r.raw)
        assert r.message in (MSG_LOGIN_FAILED, MSG_LOCKED), r.raw
    tables = {row[0] for row in mariadb.rows("SHOW TABLES")}
    assert {"users", "companies", "totp_secrets", "challenges"} <= tables
    assert int(mariadb.scalar("SELECT COUNT(*) FROM users")) == before
    assert radiusd.running


def test_login_with_quotes_is_a_plain_name(world, radiusd):
    """A real login with SQL metacharacters works exactly (bound, not pasted into SQL)."""
    login = "o'brien\"%s%%_" % H.unique("")
    u = world.user(login=login)
    assert radiusd.login(login, u.password)[0].code == ACCEPT
    assert radiusd.login(login.replace("'", "''"), u.password)[0].code == REJECT
    assert radiusd.login(login.replace("%_", "%%"), u.password)[0].code == REJECT


def test_radtest(world, radiusd):
    password = "plain" + H.unique("")
    u = world.user(password=password)
    r = radiusd.radtest(u.login, password)
    assert "Received Access-Accept" in r.stdout, r.stdout + r.stderr
    r = radiusd.radtest(u.login, password + "x")
    assert "Received Access-Reject" in r.stdout, r.stdout + r.stderr


def test_unenrolled_low_level_user_gets_reminder(world, admin, radiusd):
    u = world.user()
    assert admin.json("company", "show", u.company)["level"] == "low"
    r, _ = radiusd.login(u.login, u.password)
    assert r.code == ACCEPT
    assert r.message and "Protect your account" in r.message
    assert r.get("VRMS2FA-Enrolled") == "0"
    assert "Message-Authenticator" in r.attrs


def test_lockout_known_user(world, admin, radiusd):
    """After lockout.failures (default 5) wrong passwords, even the right one is
    refused with the lockout message; lockout clear releases it."""
    failures = 5
    u = world.user()
    msgs = [radiusd.login(u.login, "wrong %d" % i)[0].message for i in range(failures)]
    assert msgs[:failures - 1] == [MSG_LOGIN_FAILED] * (failures - 1), msgs
    assert msgs[-1] == MSG_LOCKED, msgs

    r, _ = radiusd.login(u.login, u.password)
    assert r.code == REJECT and r.message == MSG_LOCKED, r.raw
    j = admin.json("lockout", "show", u.login)
    assert j["locked"] is True and j["lockouts"] >= 1, j

    admin("lockout", "clear", u.login)
    assert admin.json("lockout", "show", u.login)["locked"] is False
    r, _ = radiusd.login(u.login, u.password)
    assert r.code == ACCEPT, r.raw


def test_lockout_unknown_name_looks_the_same(world, admin, radiusd):
    """Failures count per name and address, known or not: an unknown name
    locks the same way, so lockout reveals neither the password nor which
    accounts exist."""
    failures = 5
    unknown = H.unique("ghost")
    known = world.user()
    seen = {}
    for name in (unknown, known.login):
        seen[name] = [radiusd.login(name, "wrong %d" % i)[0] for i in range(failures)]
    for name, replies in seen.items():
        assert [r.code for r in replies] == [REJECT] * failures
        assert [r.message for r in replies] == [MSG_LOGIN_FAILED] * (failures - 1) + [MSG_LOCKED], name
    r_unknown = radiusd.login(unknown, "anything")[0]
    r_known = radiusd.login(known.login, known.password)[0]
    assert r_unknown.code == r_known.code == REJECT
    assert r_unknown.message == r_known.message == MSG_LOCKED
    assert admin.json("lockout", "show", unknown)["locked"] is True

    admin("lockout", "clear", unknown)
    assert radiusd.login(unknown, "anything")[0].message == MSG_LOGIN_FAILED


def _until(fn, ok, seconds=10.0):
    deadline = time.time() + seconds
    while True:
        r = fn()
        if ok(r) or time.time() > deadline:
            return r
        time.sleep(0.3)


def test_database_down_rejects_and_recovers(world, mariadb, new_radiusd):
    """radiusd starts while the database is down, answers Access-Reject (never
    Accept) while it is down, and recovers by itself when it is back.  The
    database is reached through a loopback forwarder that the test stops."""
    fwd = H.TcpForwarder(mariadb.port)		# not started yet: connections are refused
    rad = new_radiusd({("database", "port"): fwd.port, ("database", "connect_timeout"): 2,
                       ("database", "query_timeout"): 2})
    u = world.user()
    try:
        for _ in range(3):
            r = rad.login(u.login, u.password)[0]
            assert r.code == REJECT, r.raw
            assert r.message == MSG_SERVICE, r.raw

        fwd.start()
        r = _until(lambda: rad.login(u.login, u.password)[0], lambda r: r.code == ACCEPT)
        assert r.code == ACCEPT, r.raw

        fwd.stop()				# open connections are reset, new ones refused
        for _ in range(3):
            r = rad.login(u.login, u.password)[0]
            assert r.code == REJECT, r.raw
            assert r.message == MSG_SERVICE, r.raw
        assert rad.running

        fwd.start()
        r = _until(lambda: rad.login(u.login, u.password)[0], lambda r: r.code == ACCEPT)
        assert r.code == ACCEPT, r.raw
        assert rad.login(u.login, "wrong")[0].code == REJECT
    finally:
        fwd.stop()
    log = rad.log_text()
    assert re.search(r"rlm_vrms2fa.*(cannot connect to database|database connection lost)", log), \
        "no clear log line about the database"


def test_admin_exit_codes(world, admin):
    """The contract other programs rely on: 0 ok, 1 refused (one line on stderr), 2 usage."""
    co = world.company()
    boss = world.user(company=co, group="administrator")
    clerk = world.user(company=co, group="company_user")
    r = admin("policy", "set", co, "--level", "high", "--by", clerk.login, check=False)
    assert r.returncode == 1, r
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    admin("user", "set", boss.login, "--disabled", "yes")
    r = admin("policy", "set", co, "--level", "high", "--by", boss.login, check=False)
    assert r.returncode == 1, r
    admin("user", "set", boss.login, "--disabled", "no")
    assert admin.json("company", "show", co)["level"] == "low"

    other = world.company()
    r = admin("policy", "set", other, "--level", "high", "--by", boss.login, check=False)
    assert r.returncode == 1, r	# an administrator of another company

    assert admin("user", "show", H.unique("nobody"), check=False).returncode == 1
    assert admin("no-such-command", check=False).returncode == 2
    assert admin("user", "add", H.unique("u"), "--company", co, check=False).returncode == 2
    assert admin("policy", "set", co, "--level", "medium", "--by", boss.login, check=False).returncode == 2


def test_policy_set_by_administrator(world, admin):
    co = world.company()
    boss = world.user(company=co, group="administrator")
    r = admin("policy", "set", co, "--level", "high", "--groups", "owner,supplier", "--by", boss.login,
              check=False, input=boss.password + "\n")
    j = admin.json("company", "show", co)
    assert j["level"] == "high" and sorted(j["groups"]) == ["owner", "supplier"], j	# applied
    assert (r.returncode, r.stderr) == (0, ""), r
    events = [e for e in admin.json("audit")["events"] if e["event"] == "policy_changed"]
    assert any(e["actor"] == boss.login for e in events), events


def test_radiusd_starts_every_time(radiusd_pool):
    """The same valid configuration must instantiate every time: 100 radiusd
    -XC runs (they instantiate the module, dummy hash included)."""
    rad = H.Radiusd(radiusd_pool.base / "radiusd-xc", radiusd_pool.db, radiusd_pool.key_file,
                    radiusd_pool.defaults, dictdir=radiusd_pool.dictdir)
    for n in range(1, 101):
        r = rad.check_config()
        if r.returncode != 0:
            why = [l for l in (r.stdout + r.stderr).splitlines() if "vrms2fa" in l and "[" in l][-2:]
            pytest.fail("radiusd -XC run %d of 100 failed: %s" % (n, why))
    rad.start()
    rad.stop()


def _bad_lockout(option, value):
    return pytest.param(("lockout", option), value, id="lockout.%s=%s" % (option, value))


@pytest.mark.parametrize("option,value", [
    (("challenge", "lifetime"), 5),
    (("challenge", "attempts"), 0),
    (("totp", "digits"), 9),
    (("totp", "period"), 0),
    (("totp", "window"), 4),
    (("totp", "algorithm"), "MD5"),
    (("totp", "issuer"), "a:b"),
    (("database", "port"), 0),
    (("database", "port"), "abc"),
    ((None, "key_file"), "/nonexistent/vrms2fa.key"),
    ((None, "password_check"), "ldap"),
    (("trust", "lifetime"), 5000),
    (("trust", "address_attribute"), "Not-In-Any-Dictionary"),
    (("email", "hook"), "relative/hook"),
    (("email", "link_url"), "https://vrms.example.com/confirm"),
    (("email", "max_per_hour"), 0),
    _bad_lockout("failures", 0),
    _bad_lockout("failures", 101),
    _bad_lockout("duration", 0),
    _bad_lockout("max_duration", 1),
])
def test_bad_configuration_is_named(radiusd_pool, option, value):
    """radiusd -XC refuses a bad option and names it (section.option)."""
    conf = dict(radiusd_pool.defaults)
    conf.update({("email", "enabled"): "yes", option: value})
    rad = H.Radiusd(radiusd_pool.base / ("radiusd-bad-%s" % H.unique("")), radiusd_pool.db,
                    radiusd_pool.key_file, conf, dictdir=radiusd_pool.dictdir)
    r = rad.check_config()
    assert r.returncode != 0, r.stdout[-2000:]
    name = option[1] if option[0] is None else "%s.%s" % option
    errors = [l for l in (r.stdout + r.stderr).splitlines() if "vrms2fa[" in l]
    assert any("'%s'" % name in l for l in errors), errors
