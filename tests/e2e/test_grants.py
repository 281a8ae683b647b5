"""test_grants.py - the database accounts of least privilege (issue 17):
`vrms2fa-admin db grants --apply` as the database's root gives three
accounts exactly what they need, then

- radiusd logs in with the module's account only: a code login, a login
  from an address the code made trusted, an email confirmation by code and
  by link, a lockout; the module's account cannot change a hash or read the
  audit trail (the server refuses);
- the admin tool works with its own account (database.admin_login and a
  password file only root may read), and refuses a password file others
  may read;
- the backend's account confirms an emailed link through its procedure and
  reads user state through its view, and cannot insert a trusted address,
  read the users table or call anything else (the server refuses)."""

import json
import os
import secrets
import subprocess
import time

import pytest

import harness as H
from conftest import World
from test_policy import EMAIL_ON, MSG_EMAIL_SENT, masked

HOST = "127.0.0.1"	# the harness's configuration reaches MariaDB over TCP on loopback


class Accounts:
    def __init__(self, mariadb):
        self.db = mariadb
        suffix = secrets.token_hex(3)
        self.module = ("m_" + suffix, secrets.token_hex(16))
        self.admin = ("a_" + suffix, secrets.token_hex(16))
        self.backend = ("b_" + suffix, secrets.token_hex(16))

    def create(self):
        for user, pw in (self.module, self.admin, self.backend):
            self.db.sql("CREATE USER '%s'@'%s' IDENTIFIED BY '%s'" % (user, HOST, pw))

    def drop(self):
        for user, _ in (self.module, self.admin, self.backend):
            self.db.sql("DROP USER IF EXISTS '%s'@'%s'" % (user, HOST), check=False)

    def sql_as(self, account, query):
        """Run query as account over TCP; returns the CompletedProcess (not checked)."""
        user, pw = account
        return subprocess.run(["mariadb", "--no-defaults", "-h", HOST, "-P", str(self.db.port), "-u", user,
                               "-p%s" % pw, "-N", "-B", self.db.db, "-e", query],
                              capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def accounts(mariadb, schema, module_conf, admin, workdir, key_file):
    acc = Accounts(mariadb)
    acc.create()
    try:
        r = admin("db", "grants", "--apply", "--socket", mariadb.socket, "--host", HOST,
                  "--module-user", acc.module[0], "--admin-user", acc.admin[0], "--backend-user", acc.backend[0])
        assert "granted: module account '%s'@'%s'" % (acc.module[0], HOST) in r.stdout, r.stdout
        # the admin tool's own account: the password in a file only root may read
        pwfile = workdir / ("admin-db-password-%s" % acc.admin[0])
        pwfile.write_text(acc.admin[1] + "\n")
        os.chmod(pwfile, 0o600)
        acc.pwfile = pwfile
        acc.tool_conf = H.write_module_config(workdir / ("grants-admin-%s.conf" % acc.admin[0]), mariadb,
                                              key_file,
                                              {("database", "admin_login"): acc.admin[0],
                                               ("database", "admin_password_file"): str(pwfile),
                                               ("database", "login"): acc.module[0],
                                               ("database", "password"): acc.module[1]})
        yield acc
    finally:
        acc.drop()


@pytest.fixture(scope="module")
def tool(accounts):
    return H.Admin(accounts.tool_conf)


@pytest.fixture(scope="module")
def module_rad(accounts, radiusd_pool):
    conf = dict(EMAIL_ON)
    conf.update({("database", "login"): accounts.module[0], ("database", "password"): accounts.module[1],
                 ("lockout", "failures"): 3})
    return radiusd_pool.get(conf)


def test_grants_as_applied(mariadb, accounts):
    grants = mariadb.sql("SHOW GRANTS FOR '%s'@'%s'" % (accounts.module[0], HOST))
    assert "`%s`.*" % mariadb.db not in grants, grants		# table by table, not the database
    assert "CREATE" not in grants and "ALTER" not in grants and "DROP" not in grants, grants
    assert "UPDATE (`grace_deadline`) ON `%s`.`users`" % mariadb.db in grants, grants
    backend = mariadb.sql("SHOW GRANTS FOR '%s'@'%s'" % (accounts.backend[0], HOST))
    assert "EXECUTE ON PROCEDURE `%s`.`backend_email_confirm`" % mariadb.db in backend, backend
    assert "SELECT ON `%s`.`backend_user_state`" % mariadb.db in backend, backend
    assert "INSERT" not in backend and "UPDATE" not in backend, backend


def test_module_account_cannot_write_hashes_or_read_audit(accounts):
    r = accounts.sql_as(accounts.module, "UPDATE users SET password_hash = 'x' WHERE id = 0")
    assert r.returncode != 0 and "denied" in r.stderr, r
    r = accounts.sql_as(accounts.module, "SELECT COUNT(*) FROM audit_log")
    assert r.returncode != 0 and "denied" in r.stderr, r
    r = accounts.sql_as(accounts.module, "CREATE TABLE x (a INT)")
    assert r.returncode != 0 and "denied" in r.stderr, r
    # and the account is usable: the login lookup's tables
    r = accounts.sql_as(accounts.module, "SELECT COUNT(*) FROM users")
    assert r.returncode == 0, r


def test_tool_with_its_own_account(accounts, tool, mariadb):
    world = World(tool)
    u = world.user(enroll=True)
    assert tool.json("user", "show", u.login)["login"] == u.login
    # it was the tool's account that wrote the audit rows
    assert tool.json("audit", "--user", u.login)
    # a password file that others may read is refused
    os.chmod(accounts.pwfile, 0o644)
    try:
        r = tool("user", "show", u.login, check=False)
        assert r.returncode == 1 and "chmod 0600" in r.stderr, r
    finally:
        os.chmod(accounts.pwfile, 0o600)


def test_logins_with_the_module_account(accounts, tool, module_rad, outbox, mariadb):
    world = World(tool)
    rad = module_rad

    # a code login, then the address it proved is trusted
    u = world.user(enroll=True)
    csid = H.new_address()
    H.wait_step_margin(3)
    r1, r2 = rad.login(u.login, u.password, code=u.code, csid=csid)
    assert r1.code == H.CHALLENGE, r1
    assert r2.code == H.ACCEPT, r2
    r1, _ = rad.login(u.login, u.password, csid=csid)
    assert r1.code == H.ACCEPT, r1

    # a recovery code in place of the code (recovery_codes.used_at)
    codes = world.recovery_codes(u)
    r1, r2 = rad.login(u.login, u.password, code=codes[0], csid=H.new_address())
    assert r1.code == H.CHALLENGE and r2.code == H.ACCEPT, (r1, r2)

    # email confirmation by code
    v = world.user()
    csid = H.new_address()
    r1 = rad.round1(v.login, v.password, csid=csid)
    assert r1.code == H.CHALLENGE and r1.message == MSG_EMAIL_SENT % masked(v.email), r1.raw
    mail = outbox.emails(v.login)[-1]
    r2 = rad.round2(v.login, mail["VRMS2FA_CODE"], r1.state, csid=csid)
    assert r2.code == H.ACCEPT, r2

    # a lockout (lockout.failures = 3), and the module wrote it
    w = world.user()
    csid = H.new_address()
    for _ in range(3):
        assert rad.round1(w.login, "wrong", csid=csid).code == H.REJECT
    r = rad.round1(w.login, w.password, csid=csid)
    assert r.code == H.REJECT, r
    locked = int(mariadb.scalar("SELECT MAX(locked_until) FROM login_failures WHERE login = '%s'" % w.login))
    assert locked > time.time()
    assert "command denied" not in rad.log_text()


def test_backend_confirms_a_link_and_nothing_more(accounts, tool, module_rad, outbox, mariadb):
    world = World(tool)
    rad = module_rad
    v = world.user()
    csid = H.new_address()
    r1 = rad.round1(v.login, v.password, csid=csid)
    assert r1.code == H.CHALLENGE, r1.raw
    token = outbox.emails(v.login)[-1]["VRMS2FA_TOKEN"]

    # a wrong token and a malformed one: unknown
    r = accounts.sql_as(accounts.backend, "CALL backend_email_confirm('%s', 30)" % ("0" * 32))
    assert r.returncode == 0 and r.stdout.split("\t")[0] == "unknown", r
    r = accounts.sql_as(accounts.backend, "CALL backend_email_confirm('%s', 30)" % token.upper())
    assert r.stdout.split("\t")[0] == "unknown", r

    r = accounts.sql_as(accounts.backend, "CALL backend_email_confirm('%s', 30)" % token)
    assert r.returncode == 0, r
    assert r.stdout.split() == ["trusted", v.login], r
    # used once
    r = accounts.sql_as(accounts.backend, "CALL backend_email_confirm('%s', 30)" % token)
    assert r.stdout.split("\t")[0] == "unknown", r

    # the address is trusted (how 'email'), audited as the backend, and the user gets in
    assert {a["address"]: a["how"] for a in tool.json("trusted", "list", v.login)["addresses"]} == {csid: "email"}
    events = mariadb.rows("SELECT actor, event FROM audit_log WHERE user_id = (SELECT id FROM users WHERE login = '%s')"
                          " AND actor = 'backend'" % v.login)
    assert ["backend", "email_confirmed"] in events and ["backend", "address_trusted"] in events, events
    r1, _ = rad.login(v.login, v.password, csid=csid)
    assert r1.code == H.ACCEPT, r1

    # the user's state through the view
    r = accounts.sql_as(accounts.backend, "SELECT login, twofa, disabled, trusted_addresses FROM backend_user_state"
                                          " WHERE login = '%s'" % v.login)
    assert r.returncode == 0 and r.stdout.split() == [v.login, "none", "0", "1"], r

    # and nothing else: the server refuses
    uid = mariadb.scalar("SELECT id FROM users WHERE login = '%s'" % v.login)
    r = accounts.sql_as(accounts.backend, "INSERT INTO trusted_addresses (user_id, scope, address, kind, how,"
                        " created_at, proven_at, last_used_at) VALUES (%s, '', '198.51.100.9', 'ipv4', 'code', 1, 1, 1)"
                        % uid)
    assert r.returncode != 0 and "INSERT command denied" in r.stderr, r
    assert mariadb.scalar("SELECT COUNT(*) FROM trusted_addresses WHERE address = '198.51.100.9'") == "0"
    for query in ("SELECT password_hash FROM users", "UPDATE users SET disabled = 0",
                  "SELECT * FROM email_confirmations", "DELETE FROM audit_log"):
        r = accounts.sql_as(accounts.backend, query)
        assert r.returncode != 0 and "denied" in r.stderr, (query, r)


def test_grants_refused_for_a_missing_account(admin, mariadb, schema):
    r = admin("db", "grants", "--apply", "--socket", mariadb.socket, "--host", HOST, "--module-user", "nobody_here",
              "--admin-user", "nobody_admin", "--backend-user", "nobody_backend", check=False)
    assert r.returncode == 1 and "does not exist" in r.stderr and "CREATE USER" in r.stderr, r
    r = admin("db", "grants", "--module-user", "bad'name", check=False)
    assert r.returncode == 1 and "only letters" in r.stderr, r


def test_check_accepts_the_table_grants_and_names_a_missing_one(accounts, tool, admin, mariadb):
    def grants_row():
        r = tool.run("check", "--json", check=False)
        return {c["check"]: c for c in json.loads(r.stdout)["checks"]}["grants"]

    row = grants_row()		# check connects as the module's account (database.login)
    assert row["ok"] and "privileges on the tables" in row["detail"], row
    r = tool.run("check", "--json", check=False)
    schema = {c["check"]: c for c in json.loads(r.stdout)["checks"]}["schema"]
    assert schema["ok"], schema			# the module's account may read schema_version
    mariadb.sql("REVOKE DELETE ON %s.challenges FROM '%s'@'%s'" % (mariadb.db, accounts.module[0], HOST))
    try:
        row = grants_row()
        assert not row["ok"], row
    finally:
        admin("db", "grants", "--apply", "--socket", mariadb.socket, "--host", HOST,
              "--module-user", accounts.module[0], "--admin-user", accounts.admin[0],
              "--backend-user", accounts.backend[0])
    assert grants_row()["ok"]
