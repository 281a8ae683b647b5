"""
End-to-end tests of issue 6 (doc/vrms2fa-admin.8): vrms2fa-admin, complete.
Every command of `vrms2fa-admin --help` in its human and its --json form,
the exit statuses (0 done, 1 refused or failed with one line on stderr,
2 usage), a database that is down, the QR codes of `enroll begin` (decoded
with zbarimg), key rotation while radiusd serves logins, and the audit trail
(every kind of event, and no secret in any of it).
"""
import json
import os
import re
import secrets
import shutil
import stat
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import harness as H
from harness import ACCEPT, CHALLENGE, REJECT, MSG_ENTER_CODE, MSG_LOCKED

EMAIL_ON = {("email", "enabled"): "yes"}
ZBARIMG = shutil.which("zbarimg")

# What `vrms2fa-admin --help` lists (test_help_lists_every_command keeps this true).
COMMANDS = [
    "db migrate", "company add", "company show", "policy set", "user add", "user set", "user show",
    "enroll begin", "enroll confirm", "enroll reset", "recovery-codes", "trusted list", "trusted revoke",
    "trusted add",
    "lockout show", "lockout clear", "email confirm", "audit", "key status", "key rotate",
]
# Commands that report on an installation rather than act (exit 1 with a report
# on stdout, not one line on stderr): tested in test_install.py.
REPORTS = ["check"]
# The backend's commands and the database accounts' (issue 17): tested in
# test_backend_cmds.py and test_grants.py.
BACKEND = ["user list", "user delete", "user sync", "company list", "policy show", "db grants"]
# Retention (issue 15): tested in test_retention.py.
RETENTION = ["prune"]


def help_commands(text):
    """The command words of each line of the usage text."""
    found = []
    for line in text.splitlines():
        if not line.startswith("  ") or not line.strip():
            continue
        synopsis = re.split(r"\s{2,}", line.strip())[0]
        words = []
        for w in synopsis.split():
            if not re.fullmatch(r"[a-z][a-z-]*", w):
                break
            words.append(w)
        found.append(" ".join(words))
    return found


def one_line_refusal(r):
    """Exit 1: nothing on stdout, exactly one non-empty line on stderr."""
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == "", r.stdout
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vrms2fa-admin: ") and len(lines[0]) > 20, r.stderr
    return lines[0]


def not_json(text):
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------

class Ctx:
    def __init__(self, **kw):
        self.__dict__.update(kw)


@pytest.fixture
def ctx(world, admin, mariadb, radiusd, radiusd_pool, outbox, tmp_path):
    return Ctx(world=world, admin=admin, mariadb=mariadb, radiusd=radiusd, email_rad=radiusd_pool.get(EMAIL_ON),
               outbox=outbox, tmp=tmp_path)


@pytest.fixture(scope="module")
def down_conf(workdir, mariadb, key_file):
    """A copy of the module configuration whose database port is closed."""
    closed = H.free_port("tcp")
    return H.write_module_config(workdir / "vrms2fa-db-down.conf", mariadb, key_file,
                                 {("database", "port"): closed, ("database", "connect_timeout"): 2})


def locked_user(ctx):
    u = ctx.world.user()
    addr = H.new_address()	# the lock is per (name, address) at lockout.failures
    for i in range(5):
        ctx.radiusd.round1(u.login, "wrong %d" % i, csid=addr)
    assert ctx.admin.json("lockout", "show", u.login)["locked"] is True
    return u


def email_token(ctx):
    """A user without 2FA logs in from a new address (email on, stub hook):
    the link token of the email, and the user and address."""
    u = ctx.world.user()
    csid = H.new_address()
    r = ctx.email_rad.round1(u.login, u.password, csid=csid)
    assert r.code == CHALLENGE, r.raw
    mail = ctx.outbox.emails(u.login)[-1]
    return u, csid, mail["VRMS2FA_TOKEN"]


def pending_user(ctx):
    u = ctx.world.user()
    u.secret = ctx.admin.json("enroll", "begin", u.login)["secret"]
    return u


# --------------------------------------------------------------------------
# Every command, human and --json
# --------------------------------------------------------------------------

def test_help_lists_every_command(admin):
    r = admin("--help")
    assert r.returncode == 0 and r.stderr == ""
    assert sorted(help_commands(r.stdout)) == sorted(COMMANDS + REPORTS + BACKEND + RETENTION), help_commands(r.stdout)


def cmd_db_migrate(ctx, js):
    version = max(int(p.name[:3]) for p in H.SQL_DIR.glob("[0-9][0-9][0-9]_*.sql"))
    r = ctx.admin.run("db", "migrate", json_out=js)
    if js:
        assert json.loads(r.stdout) == {"version": version, "applied": 0}, r.stdout	# idempotent
    else:
        assert re.search(r"version %d\b.*\b0 migrations applied" % version, r.stdout), r.stdout
    return r


def cmd_company_add(ctx, js):
    name = H.unique("Co ") + " & Sons"
    r = ctx.admin.run("company", "add", name, "--grace-days", "7", json_out=js)
    if js:
        assert json.loads(r.stdout) == {"name": name, "level": "low", "groups": [], "grace_days": 7}
    else:
        assert name in r.stdout and re.search(r"level:\s+low", r.stdout) and re.search(r"grace days:\s+7", r.stdout)
    assert ctx.admin.json("company", "show", name)["grace_days"] == 7
    return r


def cmd_company_show(ctx, js):
    co = ctx.world.company(grace_days=2)
    r = ctx.admin.run("company", "show", co, json_out=js)
    if js:
        assert json.loads(r.stdout) == {"name": co, "level": "low", "groups": [], "grace_days": 2}
    else:
        assert co in r.stdout and re.search(r"groups:\s+\(none\)", r.stdout), r.stdout
    return r


def cmd_policy_set(ctx, js):
    co = ctx.world.company()
    boss = ctx.world.user(company=co, group="administrator")
    r = ctx.admin.run("policy", "set", co, "--level", "high", "--groups", "owner,company_user", "--by", boss.login,
                      json_out=js, input=boss.password + "\n")
    if js:
        j = json.loads(r.stdout)
        assert j["name"] == co and j["level"] == "high" and sorted(j["groups"]) == ["company_user", "owner"], j
    else:
        assert re.search(r"level:\s+high", r.stdout) and "owner" in r.stdout, r.stdout
    return r


def cmd_user_add(ctx, js):
    co = ctx.world.company()
    login = H.unique("new")
    if js:
        r = ctx.admin.run("user", "add", login, "--company", co, "--group", "owner", "--email", login + "@example.com",
                          "--password-hash", H.crypt_hash("pw", "$6$"), json_out=True)
        j = json.loads(r.stdout)
        assert (j["login"], j["company"], j["group"], j["email"]) == (login, co, "owner", login + "@example.com"), j
        assert j["enrolled"] is False and j["grace_deadline"] is None and j["disabled"] is False, j
    else:
        r = ctx.admin.run("user", "add", login, "--company", co, "--group", "owner", "--email",
                          login + "@example.com", "--password-stdin", input="pw " + login + "\n")
        assert login in r.stdout and re.search(r"group:\s+owner", r.stdout), r.stdout
        assert ctx.radiusd.round1(login, "pw " + login, csid=H.new_address()).code == ACCEPT
    return r


def cmd_user_set(ctx, js):
    u = ctx.world.user()
    new_email = "changed-%s@example.org" % u.login
    r = ctx.admin.run("user", "set", u.login, "--email", new_email, "--group", "supplier", json_out=js)
    if js:
        j = json.loads(r.stdout)
        assert j["email"] == new_email and j["group"] == "supplier", j
    else:
        assert new_email in r.stdout and re.search(r"group:\s+supplier", r.stdout), r.stdout
    r2 = ctx.admin.run("user", "set", u.login, "--disabled", "yes", "--password-stdin", input="other pw\n",
                       json_out=js)
    if js:
        assert json.loads(r2.stdout)["disabled"] is True
    else:
        assert re.search(r"disabled:\s+yes", r2.stdout), r2.stdout
    assert ctx.radiusd.round1(u.login, "other pw", csid=H.new_address()).code == REJECT
    ctx.admin("user", "set", u.login, "--disabled", "no")
    assert ctx.radiusd.round1(u.login, "other pw", csid=H.new_address()).code == ACCEPT
    return r


def cmd_user_show(ctx, js):
    u = ctx.world.user(group="owner")
    r = ctx.admin.run("user", "show", u.login, json_out=js)
    if js:
        j = json.loads(r.stdout)
        for k in ("login", "company", "group", "email", "enrolled", "grace_deadline", "totp_status", "mandatory"):
            assert k in j, (k, j)
        assert (j["login"], j["company"], j["group"], j["enrolled"]) == (u.login, u.company, "owner", False), j
    else:
        assert u.login in r.stdout and u.company in r.stdout and re.search(r"two-step:\s+not set up", r.stdout)
    return r


def cmd_enroll_begin(ctx, js):
    u = ctx.world.user()
    r = ctx.admin.run("enroll", "begin", u.login, json_out=js)
    if js:
        j = json.loads(r.stdout)
        assert re.fullmatch(r"[A-Z2-7]{32}", j["secret"]), j
        assert j["uri"].startswith("otpauth://totp/") and "secret=%s" % j["secret"] in j["uri"], j
        secret = j["secret"]
    else:
        uri = re.search(r"otpauth://\S+", r.stdout).group(0)
        secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
        grouped = re.search(r"Key for manual entry.*?\n\s*\n\s*([A-Z2-7 ]+)\n", r.stdout, re.S).group(1)
        assert grouped.replace(" ", "") == secret, (grouped, secret)
    assert ctx.admin.json("user", "show", u.login)["totp_status"] == "pending"
    H.wait_step_margin(3)
    ctx.admin("enroll", "confirm", u.login, H.totp(secret))		# the printed key is the real one
    return r


def cmd_enroll_confirm(ctx, js):
    u = pending_user(ctx)
    addr = "198.51.100.%d" % (secrets.randbelow(200) + 20)
    H.wait_step_margin(3)
    r = ctx.admin.run("enroll", "confirm", u.login, H.totp(u.secret), "--address", addr, json_out=js)
    if js:
        assert json.loads(r.stdout) == {"login": u.login, "enrolled": True, "trusted_address": addr}, r.stdout
    else:
        assert u.login in r.stdout and addr in r.stdout, r.stdout
    assert ctx.admin.json("user", "show", u.login)["enrolled"] is True
    assert ctx.radiusd.round1(u.login, u.password, csid=addr).code == ACCEPT
    return r


def cmd_enroll_reset(ctx, js):
    u = ctx.world.user(enroll=True, address=H.new_address())
    r = ctx.admin.run("enroll", "reset", u.login, json_out=js)
    if js:
        assert json.loads(r.stdout) == {"login": u.login, "enrolled": False}, r.stdout
    else:
        assert u.login in r.stdout and "removed" in r.stdout, r.stdout
    j = ctx.admin.json("user", "show", u.login)
    assert j["enrolled"] is False and j["totp_status"] == "none" and j["trusted_addresses"] == 0, j
    return r


def cmd_recovery_codes(ctx, js):
    u = ctx.world.user(enroll=True)
    r = ctx.admin.run("recovery-codes", u.login, json_out=js)
    if js:
        codes = json.loads(r.stdout)["codes"]
    else:
        codes = re.findall(r"^\s+([0-9a-z]{5}-[0-9a-z]{5})\s*$", r.stdout, re.M)
    assert len(codes) == 10 and len(set(codes)) == 10, r.stdout
    assert ctx.admin.json("user", "show", u.login)["recovery_codes_left"] == 10
    csid = H.new_address()
    r1 = ctx.radiusd.round1(u.login, u.password, csid=csid)
    assert ctx.radiusd.round2(u.login, codes[3], r1.state, csid=csid).code == ACCEPT	# they work
    return r


def cmd_trusted_list(ctx, js):
    addr = "02:00:5e:%02x:%02x:%02x" % tuple(secrets.token_bytes(3))
    u = ctx.world.user(enroll=True, address=addr)
    r = ctx.admin.run("trusted", "list", u.login, json_out=js)
    if js:
        j = json.loads(r.stdout)
        assert j["login"] == u.login and len(j["addresses"]) == 1, j
        a = j["addresses"][0]
        assert (a["address"], a["kind"], a["how"]) == (addr, "mac", "enrollment"), a
        assert a["expires_at"] > time.time() + 29 * 86400, a
    else:
        assert re.search(r"^%s\s+mac\s+enrollment\s" % re.escape(addr), r.stdout, re.M), r.stdout
    return r


def cmd_trusted_revoke(ctx, js):
    a1, a2 = H.new_address(), "192.0.2.%d" % (secrets.randbelow(200) + 20)
    u = ctx.world.user(enroll=True, address=a1)
    H.wait_step_margin(4)
    r1 = ctx.radiusd.round1(u.login, u.password, csid=a2)
    assert ctx.radiusd.round2(u.login, u.code(), r1.state, csid=a2).code == ACCEPT
    r = ctx.admin.run("trusted", "revoke", u.login, a1.upper(), json_out=js)	# any spelling of it
    if js:
        assert json.loads(r.stdout) == {"login": u.login, "revoked": 1}, r.stdout
    else:
        assert a1 in r.stdout and "1 address revoked" in r.stdout, r.stdout
    assert [a["address"] for a in ctx.admin.json("trusted", "list", u.login)["addresses"]] == [a2]
    r = ctx.admin.run("trusted", "revoke", u.login, "--all", json_out=js)
    if js:
        assert json.loads(r.stdout)["revoked"] == 1
    assert ctx.admin.json("trusted", "list", u.login)["addresses"] == []
    assert ctx.radiusd.round1(u.login, u.password, csid=a1).code == CHALLENGE
    return r


def cmd_trusted_add(ctx, js):
    addr = "02:00:5e:%02x:%02x:%02x" % tuple(secrets.token_bytes(3))
    u = ctx.world.user(enroll=True)
    r = ctx.admin.run("trusted", "add", u.login, addr.upper().replace(":", "-"), "--scope", "wifi", json_out=js)
    if js:
        assert json.loads(r.stdout) == {"login": u.login, "address": addr, "scope": "wifi",
                                        "approved_pending_device": False}, r.stdout
    else:
        assert addr in r.stdout and u.login in r.stdout and "scope wifi" in r.stdout, r.stdout
    [a] = ctx.admin.json("trusted", "list", u.login)["addresses"]
    assert (a["address"], a["kind"], a["how"], a["scope"]) == (addr, "mac", "admin", "wifi"), a
    return r


def cmd_lockout_show(ctx, js):
    u = ctx.world.user()
    ctx.radiusd.round1(u.login, "wrong", csid=H.new_address())
    r = ctx.admin.run("lockout", "show", u.login, json_out=js)
    if js:
        j = json.loads(r.stdout)
        assert (j["login"], j["failures"], j["locked"]) == (u.login, 1, False), j
    else:
        assert "not locked out (1 consecutive failure)" in r.stdout, r.stdout
    return r


def cmd_lockout_clear(ctx, js):
    u = locked_user(ctx)
    r = ctx.admin.run("lockout", "clear", u.login, json_out=js)
    if js:
        j = json.loads(r.stdout)
        assert (j["login"], j["failures"], j["locked"]) == (u.login, 0, False), j
    else:
        assert "not locked out" in r.stdout, r.stdout
    assert ctx.radiusd.round1(u.login, u.password, csid=H.new_address()).code == ACCEPT
    return r


def cmd_email_confirm(ctx, js):
    u, csid, token = email_token(ctx)
    r = ctx.admin.run("email", "confirm", token, json_out=js)
    if js:
        assert json.loads(r.stdout) == {"login": u.login, "address": csid, "confirmed": True, "trusted": True}, r.stdout
    else:
        assert u.login in r.stdout and csid in r.stdout, r.stdout
    assert ctx.email_rad.round1(u.login, u.password, csid=csid).code == ACCEPT
    return r


def cmd_audit(ctx, js):
    u = ctx.world.user(enroll=True)
    r = ctx.admin.run("audit", "--user", u.login, "--since", "1h", json_out=js)
    if js:
        events = json.loads(r.stdout)["events"]
        assert [e["event"] for e in events] == ["user_added", "enrollment_started", "enrollment_confirmed"], events
        for e in events:
            assert set(e) >= {"at", "actor", "user", "event", "detail", "source"}, e
            assert e["user"] == u.login and abs(e["at"] - time.time()) < 120, e
    else:
        lines = r.stdout.splitlines()
        assert len(lines) == 3 and all("user=%s" % u.login in l for l in lines), r.stdout
        assert "enrollment_confirmed" in lines[2], lines
    # --since in the future: nothing; all of it: a JSON list as well
    future = int(time.time()) + 3600
    r2 = ctx.admin.run("audit", "--user", u.login, "--since", str(future), json_out=js)
    assert (json.loads(r2.stdout)["events"] == []) if js else ("No audit events" in r2.stdout), r2.stdout
    if js:
        assert isinstance(ctx.admin.json("audit")["events"], list)
    return r


def cmd_key_status(ctx, js):
    ctx.world.user(enroll=True)
    count = int(ctx.mariadb.scalar("SELECT COUNT(*) FROM totp_secrets"))
    r = ctx.admin.run("key", "status", json_out=js)
    if js:
        j = json.loads(r.stdout)
        assert j["current_key_id"] == 1 and j["keys"] == [{"key_id": 1, "secrets": count}], (j, count)
    else:
        assert re.search(r"^key 1: %d secrets? \(current\)$" % count, r.stdout, re.M), r.stdout
    return r


def cmd_key_rotate(ctx, js):
    ctx.world.user(enroll=True)
    r = ctx.admin.run("key", "rotate", json_out=js)		# everything is under key 1 already
    if js:
        j = json.loads(r.stdout)
        assert (j["key_id"], j["reencrypted"]) == (1, 0), j
    else:
        assert re.search(r"\b0 secrets re-encrypted under key 1\b", r.stdout), r.stdout
    return r


RUNNERS = {
    "db migrate": cmd_db_migrate, "company add": cmd_company_add, "company show": cmd_company_show,
    "policy set": cmd_policy_set, "user add": cmd_user_add, "user set": cmd_user_set, "user show": cmd_user_show,
    "enroll begin": cmd_enroll_begin, "enroll confirm": cmd_enroll_confirm, "enroll reset": cmd_enroll_reset,
    "recovery-codes": cmd_recovery_codes, "trusted list": cmd_trusted_list, "trusted revoke": cmd_trusted_revoke,
    "trusted add": cmd_trusted_add,
    "lockout show": cmd_lockout_show, "lockout clear": cmd_lockout_clear, "email confirm": cmd_email_confirm,
    "audit": cmd_audit, "key status": cmd_key_status, "key rotate": cmd_key_rotate,
}
assert sorted(RUNNERS) == sorted(COMMANDS)


@pytest.mark.parametrize("form", ["human", "json"])
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command(ctx, command, form):
    """Each command done for real, in its human form and in its --json form
    (the output parsed and checked against the effect)."""
    r = RUNNERS[command](ctx, form == "json")
    assert r.returncode == 0 and r.stderr == "", (r.returncode, r.stderr)
    assert r.stdout.strip(), "no output"
    if form == "json":
        json.loads(r.stdout)
        assert r.stdout.count("\n") == 1, "one JSON document on one line: %r" % r.stdout[:200]
    else:
        assert not_json(r.stdout), r.stdout


# --------------------------------------------------------------------------
# Exit statuses
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def someone(world):
    u = world.user()
    return u


NOBODY = "nobody-" + secrets.token_hex(4)
NOCO = "no company " + secrets.token_hex(4)
HASH = "$6$saltsalt$" + "x" * 86

REFUSED = [	# exit 1, one line on stderr
    ("user set email without local part", ["user", "set", "{login}", "--email", "@"]),
    ("user set email with space", ["user", "set", "{login}", "--email", "a b@example.com"]),
    ("user set email with two at", ["user", "set", "{login}", "--email", "a@b@example.com"]),
    ("user add email without domain", ["user", "add", H.unique("x"), "--company", "{company}", "--group", "owner",
                                       "--email", "x@", "--password-hash", HASH]),
    ("company show unknown", ["company", "show", NOCO]),
    ("company add existing", ["company", "add", "{company}"]),
    ("policy set unknown company", ["policy", "set", NOCO, "--level", "high", "--by", "{login}"]),
    ("user add unknown company", ["user", "add", H.unique("x"), "--company", NOCO, "--group", "owner",
                                  "--email", "x@example.com", "--password-hash", HASH]),
    ("user add existing", ["user", "add", "{login}", "--company", "{company}", "--group", "owner",
                           "--email", "x@example.com", "--password-hash", HASH]),
    ("user add bad hash", ["user", "add", H.unique("x"), "--company", "{company}", "--group", "owner",
                           "--email", "x@example.com", "--password-hash", "plain text"]),
    ("user show unknown", ["user", "show", NOBODY]),
    ("user set unknown", ["user", "set", NOBODY, "--group", "owner"]),
    ("enroll begin unknown", ["enroll", "begin", NOBODY]),
    ("enroll confirm unknown", ["enroll", "confirm", NOBODY, "123456"]),
    ("enroll confirm not pending", ["enroll", "confirm", "{login}", "123456"]),
    ("enroll reset unknown", ["enroll", "reset", NOBODY]),
    ("recovery-codes unknown", ["recovery-codes", NOBODY]),
    ("recovery-codes not enrolled", ["recovery-codes", "{login}"]),
    ("trusted list unknown", ["trusted", "list", NOBODY]),
    ("trusted revoke unknown user", ["trusted", "revoke", NOBODY, "--all"]),
    ("trusted revoke not trusted", ["trusted", "revoke", "{login}", "192.0.2.1"]),
    ("trusted add unknown user", ["trusted", "add", NOBODY, "192.0.2.1"]),
    ("trusted add not an address", ["trusted", "add", "{login}", "not-an-address"]),
    ("trusted add placeholder address", ["trusted", "add", "{login}", "00:00:00:00:00:00"]),
    ("email confirm unknown token", ["email", "confirm", "0" * 32]),
    ("email confirm malformed token", ["email", "confirm", "not-a-token"]),
    ("audit unknown user", ["audit", "--user", NOBODY]),
]

USAGE = [	# exit 2
    ("no command", []),
    ("unknown command", ["frobnicate"]),
    ("unknown global option", ["--frob", "user", "show", "x"]),
    ("db unknown", ["db", "drop"]),
    ("company unknown", ["company", "delete", "x"]),
    ("company add no name", ["company", "add"]),
    ("company add bad grace", ["company", "add", "x", "--grace-days", "many"]),
    ("company add negative grace", ["company", "add", "x", "--grace-days", "-1"]),
    ("policy set bad level", ["policy", "set", "{company}", "--level", "medium", "--by", "{login}"]),
    ("policy set bad group", ["policy", "set", "{company}", "--level", "high", "--groups", "owner,boss",
                              "--by", "{login}"]),
    ("policy set repeated group", ["policy", "set", "{company}", "--level", "high", "--groups", "owner,owner",
                                   "--by", "{login}"]),
    ("user add bad group", ["user", "add", H.unique("x"), "--company", "{company}", "--group", "boss",
                            "--email", "x@example.com", "--password-hash", HASH]),
    ("user add missing options", ["user", "add", H.unique("x"), "--company", "{company}"]),
    ("user add two passwords", ["user", "add", H.unique("x"), "--company", "{company}", "--group", "owner",
                                "--email", "x@example.com", "--password-hash", HASH, "--password-stdin"]),
    ("user set bad group", ["user", "set", "{login}", "--group", "Owners"]),
    ("user set bad disabled", ["user", "set", "{login}", "--disabled", "maybe"]),
    ("user show extra argument", ["user", "show", "{login}", "extra"]),
    ("user unknown option", ["user", "show", "{login}", "--verbose"]),
    ("enroll begin bad qr", ["enroll", "begin", "{login}", "--qr", "gif"]),
    ("enroll begin png without out", ["enroll", "begin", "{login}", "--qr", "png"]),
    ("enroll begin out without qr", ["enroll", "begin", "{login}", "--out", "/nonexistent/x.png"]),
    ("enroll confirm no code", ["enroll", "confirm", "{login}"]),
    ("enroll unknown", ["enroll", "finish", "{login}"]),
    ("trusted revoke neither", ["trusted", "revoke", "{login}"]),
    ("trusted revoke both", ["trusted", "revoke", "{login}", "192.0.2.1", "--all"]),
    ("trusted unknown", ["trusted", "show", "{login}"]),
    ("lockout unknown", ["lockout", "reset", "{login}"]),
    ("lockout no login", ["lockout", "show"]),
    ("email unknown", ["email", "send", "x"]),
    ("audit bad since", ["audit", "--since", "yesterday"]),
    ("audit option without value", ["audit", "--user"]),
    ("key unknown", ["key", "spin"]),
    ("key nothing", ["key"]),
    ("option needs a value", ["--config"]),
]


def _fill(args, u):
    return [a.replace("{login}", u.login).replace("{company}", u.company) for a in args]


@pytest.mark.parametrize("args", [a for _, a in REFUSED], ids=[i for i, _ in REFUSED])
def test_exit_1_refused(admin, someone, args):
    for js in (False, True):
        r = admin.run(*_fill(args, someone), check=False, json_out=js)
        one_line_refusal(r)


@pytest.mark.parametrize("args", [a for _, a in USAGE], ids=[i for i, _ in USAGE])
def test_exit_2_usage(admin, someone, args):
    r = admin.run(*_fill(args, someone), check=False)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == "" and r.stderr.strip(), (r.stdout, r.stderr)
    assert "usage" in r.stderr.lower(), r.stderr


@pytest.mark.parametrize("group", ["Administrator", "admin", "owners", "", "owner,", "supplier;owner"])
def test_bad_group_name_is_a_usage_error(admin, someone, group):
    for args in (["user", "add", H.unique("x"), "--company", someone.company, "--group", group,
                  "--email", "x@example.com", "--password-hash", HASH],
                 ["user", "set", someone.login, "--group", group]):
        r = admin.run(*args, check=False)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
    r = admin.run("policy", "set", someone.company, "--level", "high", "--groups", group or ",", "--by",
                  someone.login, check=False)
    assert r.returncode == 2, (group, r.returncode, r.stderr)
    assert admin.json("user", "show", someone.login)["group"] == "company_user"
    assert admin.json("company", "show", someone.company)["level"] == "low"


def test_wrong_confirmation_code_is_refused(world, admin):
    u = world.user()
    secret = admin.json("enroll", "begin", u.login)["secret"]
    for code in (H.wrong_code(secret), "abcdef", "1234567"):
        for js in (False, True):
            one_line_refusal(admin.run("enroll", "confirm", u.login, code, check=False, json_out=js))
    assert admin.json("user", "show", u.login)["totp_status"] == "pending"
    H.wait_step_margin(3)
    admin("enroll", "confirm", u.login, H.totp(secret))
    # the same code again: nothing pending any more
    one_line_refusal(admin.run("enroll", "confirm", u.login, H.totp(secret), check=False))


HELP_ARGS = [["--help"], ["-h"]] + [c.split() + ["--help"] for c in COMMANDS] + \
    [[w, "--help"] for w in sorted({c.split()[0] for c in COMMANDS if " " in c})]


@pytest.mark.parametrize("args", HELP_ARGS, ids=[" ".join(a) for a in HELP_ARGS])
def test_help_on_every_command(admin, down_conf, args):
    """--help answers 0 with the usage on stdout, without needing the
    database (the configuration used here points at a closed port)."""
    r = admin.run(*args, check=False, config=str(down_conf))
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert "usage" in r.stdout.lower() and r.stderr == "", (r.stdout, r.stderr)
    words = [a for a in args if not a.startswith("-")]
    assert all(w in r.stdout for w in words), r.stdout


DB_ARGS = {
    "db migrate": ["db", "migrate"],
    "company add": ["company", "add", "x"],
    "company show": ["company", "show", "x"],
    "policy set": ["policy", "set", "x", "--level", "high", "--by", "y"],
    "user add": ["user", "add", "x", "--company", "y", "--group", "owner", "--email", "x@example.com",
                 "--password-hash", HASH],
    "user set": ["user", "set", "x", "--email", "x@example.com"],
    "user show": ["user", "show", "x"],
    "enroll begin": ["enroll", "begin", "x"],
    "enroll confirm": ["enroll", "confirm", "x", "123456"],
    "enroll reset": ["enroll", "reset", "x"],
    "recovery-codes": ["recovery-codes", "x"],
    "trusted list": ["trusted", "list", "x"],
    "trusted revoke": ["trusted", "revoke", "x", "--all"],
    "trusted add": ["trusted", "add", "x", "192.0.2.1"],
    "lockout show": ["lockout", "show", "x"],
    "lockout clear": ["lockout", "clear", "x"],
    "email confirm": ["email", "confirm", "0" * 32],
    "audit": ["audit"],
    "key status": ["key", "status"],
    "key rotate": ["key", "rotate"],
}
assert sorted(DB_ARGS) == sorted(COMMANDS)


def test_database_down(admin, down_conf, figures):
    """Every command, the database port closed: exit 1 and one clear line
    (human and --json), quickly."""
    slowest = 0.0
    for command in COMMANDS:
        for js in (False, True):
            t0 = time.monotonic()
            r = admin.run(*DB_ARGS[command], check=False, json_out=js, config=str(down_conf))
            slowest = max(slowest, time.monotonic() - t0)
            line = one_line_refusal(r)
            assert re.search(r"database", line, re.I) and "127.0.0.1" in line, (command, line)
    assert slowest < 10, slowest
    figures.append("admin tool, database down: every command exits 1 within %.2f s" % slowest)


def test_unreadable_config_is_one_line(admin, tmp_path):
    r = admin.run("user", "show", "x", check=False, config=str(tmp_path / "missing.conf"))
    assert "missing.conf" in one_line_refusal(r)


# --------------------------------------------------------------------------
# QR codes
# --------------------------------------------------------------------------

def _pgm(matrix, path, scale=4):
    """Write a 0/1 module matrix (1 = dark) as a binary PGM image."""
    h, w = len(matrix), max(len(r) for r in matrix)
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (w * scale, h * scale))
        for row in matrix:
            line = bytes(0 if x < len(row) and row[x] else 255 for x in range(w) for _ in range(scale))
            f.write(line * scale)
    return path


def zbar(path):
    if not ZBARIMG:
        pytest.skip("zbarimg (zbar-tools) is not installed")
    r = subprocess.run([ZBARIMG, "-q", "--raw", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (r.returncode, r.stderr)
    return r.stdout.rstrip("\n")


def test_qr_png(world, admin, tmp_path):
    u = world.user()
    out = tmp_path / "qr.png"
    out.write_text("something else, readable by all")
    os.chmod(out, 0o644)
    j = admin.json("enroll", "begin", u.login, "--qr", "png", "--out", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600, oct(out.stat().st_mode)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert zbar(out) == j["uri"]
    assert j.get("qr_file", str(out)) == str(out)
    # the human form: the file, and the URI it prints is the one in the file
    r = admin("enroll", "begin", u.login, "--qr", "png", "--out", str(out))
    printed = re.search(r"otpauth://\S+", r.stdout).group(0)
    assert str(out) in r.stdout and zbar(out) == printed != j["uri"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_qr_svg(world, admin, tmp_path):
    u = world.user()
    out = tmp_path / "qr.svg"
    j = admin.json("enroll", "begin", u.login, "--qr", "svg", "--out", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    root = ET.parse(out).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
    # draw it (its path is unit squares "Mx yh1v1h-1z") and read it back
    size = int(root.get("viewBox").split()[2])
    d = " ".join(p.get("d", "") for p in root.iter("{http://www.w3.org/2000/svg}path"))
    cells = re.findall(r"M(\d+) (\d+)h1v1h-1z", d)
    assert cells, d[:200]
    matrix = [[0] * size for _ in range(size)]
    for x, y in cells:
        matrix[int(y)][int(x)] = 1
    assert zbar(_pgm(matrix, tmp_path / "svg.pgm")) == j["uri"]


def test_qr_ansi(world, admin, tmp_path):
    u = world.user()
    r = admin("enroll", "begin", u.login, "--qr", "ansi")
    uri = re.search(r"otpauth://\S+", r.stdout).group(0)
    text = re.sub(r"\x1b\[[0-9;]*m", "", r.stdout)
    blocks = [l for l in text.splitlines() if re.search("[\u2580\u2584\u2588]", l)]
    assert len(blocks) >= 10, r.stdout
    lines = [l for l in text.splitlines() if len(l) > 20 and set(l) <= set(" \u2580\u2584\u2588")]
    assert len({len(l) for l in lines}) == 1, lines		# a rectangle of half blocks
    assert len(lines) >= len(lines[0]) // 2 - 1, lines
    # two modules per character: upper half, lower half
    matrix = []
    for l in lines:
        matrix.append([1 if c in "\u2580\u2588" else 0 for c in l])
        matrix.append([1 if c in "\u2584\u2588" else 0 for c in l])
    assert zbar(_pgm(matrix, tmp_path / "ansi.pgm")) == uri
    # and to a file
    out = tmp_path / "qr.txt"
    admin("enroll", "begin", u.login, "--qr", "ansi", "--out", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "\u2580" in out.read_text() or "\u2584" in out.read_text()


# --------------------------------------------------------------------------
# Key rotation while radiusd serves logins
# --------------------------------------------------------------------------

@pytest.fixture
def rotation_db(mariadb, workdir, key_file, radiusd_pool, request):
    """A database of its own (the rotation must not touch the other tests'
    secrets), a key file with keys 1 and 2, admin configurations for
    key_id = 1 and 2, and a radiusd sealing with key 2."""
    name = "vrms2fa_rot_%s" % secrets.token_hex(4)
    mariadb.sql("CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
                "GRANT ALL ON %s.* TO '%s'@'localhost'; GRANT ALL ON %s.* TO '%s'@'127.0.0.1';"
                % (name, name, mariadb.user, name, mariadb.user))
    base = workdir / name
    base.mkdir()
    keys = base / "vrms2fa.key"
    keys.write_text(Path(key_file).read_text().strip() + "\n2 %s\n" % secrets.token_hex(32))
    os.chmod(keys, 0o600)
    db = {("database", "name"): name}
    conf1 = H.write_module_config(base / "key1.conf", mariadb, keys, {**db, (None, "key_id"): 1})
    conf2 = H.write_module_config(base / "key2.conf", mariadb, keys, {**db, (None, "key_id"): 2})
    admin1, admin2 = H.Admin(conf1), H.Admin(conf2)
    admin1.migrate()
    overrides = dict(radiusd_pool.defaults)
    overrides.update(db)
    overrides[(None, "key_id")] = 2
    rad = H.Radiusd(base / "radiusd", mariadb, keys, overrides, dictdir=radiusd_pool.dictdir)
    request.addfinalizer(rad.stop)
    rad.start()
    return Ctx(name=name, admin1=admin1, admin2=admin2, rad=rad, mariadb=mariadb, conf_dir=base)


def test_key_rotation_while_logins_run(rotation_db, figures):
    from conftest import World
    R = rotation_db
    world = World(R.admin1)			# secrets sealed under key 1
    co = world.company()
    users = []
    for _ in range(5):
        addr = H.new_address()
        u = world.user(company=co, enroll=True, address=addr)
        u.trusted = addr
        users.append(u)
    pw_hash = H.crypt_hash("unused", "$6$")
    pending = []
    for _ in range(20):			# volume: pending enrollments are secrets too
        p = world.user(company=co, hash=pw_hash, password="unused")
        p.secret = R.admin1.json("enroll", "begin", p.login)["secret"]
        pending.append(p)
    total = int(R.mariadb.scalar("SELECT COUNT(*) FROM %s.totp_secrets" % R.name))
    assert total == 25
    assert R.admin1.json("key", "status")["keys"] == [{"key_id": 1, "secrets": 25}]

    last_step = {u.login: H.step_of() - 1 for u in users}	# world.enroll used the previous step's code
    failures, counts = [], {"trusted": 0, "code": 0}
    stop = threading.Event()

    def logins():
        i = 0
        while not stop.is_set():
            u = users[i % len(users)]
            i += 1
            r = R.rad.round1(u.login, u.password, csid=u.trusted)
            counts["trusted"] += 1
            if r.code != ACCEPT:
                failures.append(("trusted", u.login, r.code, r.message))
            step = H.step_of()
            if last_step[u.login] < step and 30 - time.time() % 30 > 3:
                csid = H.new_address()
                r1 = R.rad.round1(u.login, u.password, csid=csid)
                if (r1.code, r1.message) != (CHALLENGE, MSG_ENTER_CODE):
                    failures.append(("challenge", u.login, r1.code, r1.message))
                    continue
                r2 = R.rad.round2(u.login, H.totp(u.secret, step * 30 + 1), r1.state, csid=csid)
                last_step[u.login] = step
                counts["code"] += 1
                if r2.code != ACCEPT:
                    failures.append(("code", u.login, r2.code, r2.message))

    t = threading.Thread(target=logins)
    t.start()
    rotations, moved = 0, 0
    try:
        t_end = time.monotonic() + 8
        while time.monotonic() < t_end or (counts["code"] < len(users) and time.monotonic() < t_end + 25):
            for adm in (R.admin2, R.admin1):	# to key 2 and back: the secrets keep moving under the logins
                j = adm.json("key", "rotate")
                rotations += 1
                moved += j["reencrypted"]
        j = R.admin2.json("key", "rotate")
        rotations += 1
    finally:
        stop.set()
        t.join(60)
    figures.append("key rotation under load: %d rotations (%d secrets re-encrypted) during %d trusted-address "
                   "and %d code logins, %d failed" % (rotations, moved + j["reencrypted"], counts["trusted"],
                                                     counts["code"], len(failures)))
    assert not failures, failures
    assert counts["code"] >= len(users) and counts["trusted"] >= 10, counts
    assert j["key_id"] == 2 and j["reencrypted"] == 25, j

    # every secret under key 2
    status = R.admin2.json("key", "status")
    assert status == {"current_key_id": 2, "keys": [{"key_id": 2, "secrets": 25}]}, status
    human = R.admin2("key", "status").stdout
    assert re.search(r"^key 2: 25 secrets \(current\)$", human, re.M) and "key 1" not in human, human
    assert R.mariadb.rows("SELECT DISTINCT key_id FROM %s.totp_secrets" % R.name) == [["2"]]
    assert any(e["event"] == "key_rotated" for e in R.admin2.json("audit")["events"])

    # every user still logs in with a code (and from the trusted address without one)
    H.wait_step_margin(3)
    for u in users:
        step = max(H.step_of(), last_step[u.login] + 1)
        csid = H.new_address()
        r1 = R.rad.round1(u.login, u.password, csid=csid)
        assert (r1.code, r1.message) == (CHALLENGE, MSG_ENTER_CODE), r1.raw
        r2 = R.rad.round2(u.login, H.totp(u.secret, step * 30 + 1), r1.state, csid=csid)
        assert r2.code == ACCEPT, (u.login, r2.raw)
        assert R.rad.round1(u.login, u.password, csid=u.trusted).code == ACCEPT
    # and a pending enrollment still confirms with its key
    p = pending[0]
    R.admin2("enroll", "confirm", p.login, H.totp(p.secret))
    assert R.admin2.json("user", "show", p.login)["enrolled"] is True

    # a key file that lacks the secrets' key: key rotate refuses (one line), nothing changes
    other = R.conf_dir / "other.key"
    other.write_text("3 %s\n" % secrets.token_hex(32))
    os.chmod(other, 0o600)
    conf3 = H.write_module_config(R.conf_dir / "key3.conf", R.mariadb, other,
                                  {("database", "name"): R.name, (None, "key_id"): 3})
    line = one_line_refusal(H.Admin(conf3).run("key", "rotate", check=False))
    assert "key" in line, line
    assert R.admin2.json("key", "status")["keys"] == [{"key_id": 2, "secrets": 25}]
    assert R.rad.round1(users[0].login, users[0].password, csid=users[0].trusted).code == ACCEPT


# --------------------------------------------------------------------------
# The audit trail
# --------------------------------------------------------------------------

def test_audit_trail_complete_and_without_secrets(world, admin, mariadb, radiusd, radiusd_pool, outbox):
    email_rad = radiusd_pool.get(EMAIL_ON)
    t0 = int(time.time())
    needles = {}		# what must never appear in an audit row

    # a: enrolled by the admin tool, from an address; then a code, a recovery code, a revocation, a reset
    a1 = H.new_address()
    a = world.user(enroll=True, address=a1)
    needles.update({"password a": a.password, "secret a": a.secret, "secret a (lower)": a.secret.lower()})
    codes = world.recovery_codes(a)
    for c in codes:
        needles["recovery " + c] = c
        needles["recovery (no hyphen) " + c] = c.replace("-", "")
    H.wait_step_margin(4)
    a2 = H.new_address()
    r1 = radiusd.round1(a.login, a.password, csid=a2)
    code = a.code()
    needles["code a"] = code
    assert radiusd.round2(a.login, code, r1.state, csid=a2).code == ACCEPT
    a3 = H.new_address()
    r1 = radiusd.round1(a.login, a.password, csid=a3)
    wrong = H.wrong_code(a.secret)
    needles["wrong code a"] = wrong
    r2 = radiusd.round2(a.login, wrong, r1.state, csid=a3)
    assert r2.code == CHALLENGE
    assert radiusd.round2(a.login, codes[0], r2.state, csid=a3).code == ACCEPT
    admin("trusted", "revoke", a.login, a1)
    admin("enroll", "reset", a.login)

    # b: mandatory, deadline passed: enrollment over RADIUS; the policy change by the company's administrator
    co = world.company()
    boss = world.user(company=co, group="administrator")
    needles["password boss"] = boss.password
    world.policy(co, "high", ["owner"], boss.login)
    b = world.user(company=co, group="owner")
    needles["password b"] = b.password
    mariadb.sql("UPDATE users SET grace_deadline = %d WHERE login = '%s'" % (t0 - 60, b.login), database=mariadb.db)
    bcsid = H.new_address()
    # enrollment is offered only from a trusted address (as an email confirmation would make it)
    H.trust_row(mariadb, b.login, bcsid, at=t0)
    r1 = radiusd.round1(b.login, b.password, csid=bcsid)
    b_secret = re.search(r"secret=([A-Z2-7]+)", r1.get("VRMS2FA-OTPAuth-URI")).group(1)
    needles.update({"secret b": b_secret, "secret b (lower)": b_secret.lower()})
    H.wait_step_margin(3)
    bcode = H.totp(b_secret)
    needles["code b"] = bcode
    assert radiusd.round2(b.login, bcode, r1.state, csid=bcsid).code == ACCEPT

    # c: no 2FA, email confirmation by code and by link
    c = world.user()
    needles["password c"] = c.password
    ccsid = H.new_address()
    r1 = email_rad.round1(c.login, c.password, csid=ccsid)
    mail = outbox.emails(c.login)[-1]
    assert email_rad.round2(c.login, mail["VRMS2FA_CODE"], r1.state, csid=ccsid).code == ACCEPT
    ccsid2 = H.new_address()
    email_rad.round1(c.login, c.password, csid=ccsid2)
    mail2 = outbox.emails(c.login)[-1]
    admin("email", "confirm", mail2["VRMS2FA_TOKEN"])
    for i, m in enumerate((mail, mail2)):
        needles.update({"emailed code %d" % i: m["VRMS2FA_CODE"], "token %d" % i: m["VRMS2FA_TOKEN"],
                        "link %d" % i: m["VRMS2FA_LINK"]})

    # d: locked out by wrong passwords, released
    d = world.user()
    needles["password d"] = d.password
    d_addr = H.new_address()	# the lock is per (name, address) at lockout.failures
    for i in range(5):
        wrong_pw = "Wrong-%s-%d" % (secrets.token_hex(4), i)
        needles["wrong password %d" % i] = wrong_pw
        r = radiusd.round1(d.login, wrong_pw, csid=d_addr)
    assert r.message == MSG_LOCKED
    admin("lockout", "clear", d.login)

    def events(login):
        return admin.json("audit", "--user", login, "--since", str(t0 - 1))["events"]

    ea, eb, ec, ed = events(a.login), events(b.login), events(c.login), events(d.login)
    pairs = lambda es: [(e["event"], e["detail"]) for e in es]
    for want in [("enrollment_started", "by the admin tool"), ("enrollment_confirmed", "by the admin tool"),
                 ("address_trusted", "address trusted by enrollment"), ("recovery_codes_issued", None),
                 ("address_trusted", "address trusted by code"), ("recovery_code_used", None),
                 ("address_trusted", "address trusted by recovery"), ("address_revoked", None),
                 ("enrollment_reset", None)]:
        assert any(e == want[0] and (want[1] is None or want[1] == dd) for e, dd in pairs(ea)), (want, pairs(ea))
    revoked = [dd for e, dd in pairs(ea) if e == "address_revoked"]
    assert any(a1 in dd for dd in revoked), revoked
    for want in [("enrollment_started", "over RADIUS"), ("enrollment_confirmed", "over RADIUS"),
                 ("address_trusted", "address trusted by enrollment")]:
        assert want in pairs(eb), (want, pairs(eb))
    for want in [("email_sent", None), ("email_confirmed", "by code"), ("email_confirmed", "by link"),
                 ("address_trusted", "address trusted by email")]:
        assert any(e == want[0] and (want[1] is None or want[1] == dd) for e, dd in pairs(ec)), (want, pairs(ec))
    assert [e for e, _ in pairs(ec)].count("email_sent") == 2, pairs(ec)
    assert "lockout" in [e for e, _ in pairs(ed)] and "lockout_released" in [e for e, _ in pairs(ed)], pairs(ed)
    policy = [e for e in admin.json("audit", "--since", str(t0 - 1))["events"]
              if e["event"] == "policy_changed" and e["actor"] == boss.login]
    assert len(policy) == 1 and "high" in policy[0]["detail"], policy
    # radiusd's rows name radiusd and the client address; the tool's name the tool
    assert any(e["actor"] == "radiusd" and e["source"] == bcsid for e in eb), eb
    assert all(e["source"].startswith("vrms2fa-admin") for e in ea if e["event"] == "enrollment_reset"), ea

    # nothing secret anywhere in the trail (JSON and human forms)
    everything = admin.json("audit", "--since", str(t0 - 1))["events"]
    text = "\n".join("%s\t%s\t%s\t%s" % (e["actor"], e["user"], e["detail"], e["source"]) for e in everything)
    text += "\n" + admin("audit", "--since", str(t0 - 1)).stdout

    def found(s):
        if s.isdigit():
            return re.search(r"(?<![0-9A-Za-z])%s(?![0-9A-Za-z])" % s, text) is not None
        return s in text
    leaks = [what for what, s in needles.items() if s and found(s)]
    assert not leaks, leaks
