"""
End-to-end tests of issue 17 (the admin tool's side): authorization that
holds (`--by LOGIN` proved by the administrator's password and code on
stdin, checked as the module checks them; without --by only root or
admin.operator_group), one rule for names (the tool refuses, the module
treats such a login as unknown, the columns compare without padding),
secrets on stdin, and no database password in a file others may read (the
tool and the module refuse to start).

The real vrms2fa-admin, MariaDB and radiusd; the non-root user is `nobody`
through runuser, with a copy of the configuration it may read (owned by
nobody, mode 0600) in a folder of its own.

Run:  cd <repo> && /usr/bin/python3 -m pytest -p no:cacheprovider -q tests/e2e/test_admin_auth.py
"""
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import harness as H
from harness import ACCEPT, REJECT


def one_line_refusal(r):
    """Exit 1: nothing on stdout, exactly one non-empty line on stderr; returns it."""
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == "", r.stdout
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vrms2fa-admin: "), r.stderr
    return lines[0]


def events(admin, event, login=None):
    args = ["audit"] + (["--user", login] if login else [])
    return [e for e in admin.json(*args)["events"] if e["event"] == event]


def level(admin, co):
    return admin.json("company", "show", co)["level"]


# --------------------------------------------------------------------------
# --by LOGIN: the administrator proves it
# --------------------------------------------------------------------------

def test_policy_set_needs_the_administrators_password_and_code(world, admin):
    co = world.company()
    boss = world.user(company=co, group="administrator", enroll=True)
    clerk = world.user(company=co, group="company_user")
    H.wait_step_margin(4)

    def policy(by, stdin, env=None):
        cmd = ["policy", "set", co, "--level", "high", "--groups", "owner", "--by", by]
        if env:
            saved = admin.env
            admin.env = dict(saved, **env)
            try:
                return admin.run(*cmd, input=stdin, check=False)
            finally:
                admin.env = saved
        return admin.run(*cmd, input=stdin, check=False)

    refusals = len(events(admin, "policy_change_refused"))
    # not an administrator, even with its own right password
    line = one_line_refusal(policy(clerk.login, clerk.password + "\n"))
    assert "refused" in line and clerk.login in line, line
    # the administrator, a wrong password (the code right)
    line = one_line_refusal(policy(boss.login, "not-" + boss.password + "\n" + boss.code() + "\n"))
    assert "wrong password" in line, line
    # the right password, a wrong code, then no code at all
    line = one_line_refusal(policy(boss.login, boss.password + "\n" + H.wrong_code(boss.secret) + "\n"))
    assert "wrong or expired code" in line, line
    line = one_line_refusal(policy(boss.login, boss.password + "\n"))
    assert "no verification code" in line, line
    assert level(admin, co) == "low"
    refused = events(admin, "policy_change_refused")
    assert len(refused) == refusals + 3, refused
    assert not events(admin, "policy_changed", boss.login)
    assert [e for e in refused if e["actor"] == clerk.login and "not an enabled administrator" in e["detail"]]
    assert [e for e in refused if e["actor"] == boss.login and "wrong password" in e["detail"]]
    assert [e for e in refused if e["actor"] == boss.login and "wrong or expired code" in e["detail"]]
    for e in refused:
        assert boss.password not in str(e) and "os-user=" in e["source"], e

    # right password and code, run by root through sudo: both names in the audit row
    code = boss.code()
    r = policy(boss.login, "%s\n%s\n" % (boss.password, code), env={"SUDO_USER": "opsmarie"})
    assert (r.returncode, r.stderr) == (0, ""), r
    assert level(admin, co) == "high"
    done = events(admin, "policy_changed", boss.login)
    assert len(done) == 1 and done[0]["actor"] == boss.login, done
    assert done[0]["source"].startswith("vrms2fa-admin@") and done[0]["source"].endswith("os-user=opsmarie"), done

    # the same code again: the replay counter the module keeps refuses it
    line = one_line_refusal(policy(boss.login, "%s\n%s\n" % (boss.password, code)))
    assert "already used" in line, line


def test_wrong_proofs_count_against_the_lockout(world, admin):
    """A wrong --by proof counts like a failed login without an address:
    lockout.failures (5) of them lock the name there, and then the right
    password is refused too, until the lock is cleared."""
    co = world.company()
    boss = world.user(company=co, group="administrator")

    def policy(password):
        return admin.run("policy", "set", co, "--level", "high", "--by", boss.login, input=password + "\n",
                         check=False)
    for _ in range(5):
        assert "wrong password" in one_line_refusal(policy("wrong"))
    line = one_line_refusal(policy(boss.password))
    assert "locked out" in line, line
    assert level(admin, co) == "low"
    j = admin.json("lockout", "show", boss.login)
    assert j["locked"] and [a for a in j["addresses"] if a["address"] == "-" and a["locked"]], j
    admin("lockout", "clear", boss.login)
    r = policy(boss.password)
    assert (r.returncode, r.stderr) == (0, ""), r
    assert level(admin, co) == "high"
    assert not admin.json("lockout", "show", boss.login)["locked"]	# the success gave its attempt back


def test_by_for_the_other_commands(world, admin, mariadb):
    """user add/set, trusted revoke, lockout clear, enroll reset: by an
    administrator of the user's company with the password (no 2FA: no code
    line), refused for an administrator of another company."""
    co = world.company()
    boss = world.user(company=co, group="administrator")
    other_boss = world.user(company=world.company(), group="administrator")
    u = world.user(company=co, enroll=True)
    proof = boss.password + "\n"

    new = H.unique("n")
    admin("user", "add", new, "--company", co, "--group", "owner", "--email", new + "@example.com",
          "--password-stdin", "--by", boss.login, input=proof + "New pw 1\n")
    assert events(admin, "user_added", new)[0]["actor"] == boss.login
    admin("user", "set", new, "--group", "supplier", "--by", boss.login, input=proof)
    assert admin.json("user", "show", new)["group"] == "supplier"
    H.trust_row(mariadb, u.login, "192.0.2.77")
    admin("trusted", "revoke", u.login, "--all", "--by", boss.login, input=proof)
    admin("lockout", "clear", u.login, "--by", boss.login, input=proof)
    admin("enroll", "reset", u.login, "--by", boss.login, input=proof)
    assert admin.json("user", "show", u.login)["totp_status"] == "none"
    for ev in ("address_revoked", "lockout_released", "enrollment_reset", "user_changed"):
        assert [e for e in events(admin, ev) if e["actor"] == boss.login], ev

    # another company's administrator, right password: refused, nothing changed
    before = admin.json("user", "show", new)
    for args in (["user", "set", new, "--group", "owner"], ["enroll", "reset", new],
                 ["trusted", "revoke", new, "--all"], ["lockout", "clear", new]):
        line = one_line_refusal(admin.run(*args, "--by", other_boss.login, input=other_boss.password + "\n",
                                          check=False))
        assert "refused" in line, (args, line)
    assert admin.json("user", "show", new) == before
    line = one_line_refusal(admin.run("user", "add", H.unique("n"), "--company", co, "--group", "owner",
                                      "--email", "x@example.com", "--password-stdin", "--by", other_boss.login,
                                      input=other_boss.password + "\nNew pw 2\n", check=False))
    assert "refused" in line, line


# --------------------------------------------------------------------------
# Without --by: root or admin.operator_group
# --------------------------------------------------------------------------

@pytest.fixture
def nobody_conf(module_conf):
    """A copy of the configuration that nobody may read (its owner, 0600), in a folder it may enter;
    make(overrides) writes it again with overrides."""
    base = Path(tempfile.mkdtemp(prefix="vrms2fa-nobody-"))
    os.chmod(base, 0o755)
    nobody = pwd.getpwnam("nobody")
    text = Path(module_conf).read_text()
    path = base / "vrms2fa.conf"

    def make(overrides=None):
        path.write_text(H.render_module_config(text, overrides or {}))
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
        os.chmod(path, 0o600)
        return path
    make()
    yield make
    shutil.rmtree(base, ignore_errors=True)


def as_nobody(conf, *args, input=None, env=None):
    cmd = ["runuser", "-u", "nobody", "--", str(H.ADMIN), "--config", str(conf)] + [str(a) for a in args]
    env = dict({"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}, **(env or {}))
    return subprocess.run(cmd, input=input, capture_output=True, text=True, env=env, timeout=60)


def test_operator_commands_without_by_need_root_or_the_operator_group(world, admin, nobody_conf):
    co = world.company()
    u = world.user(company=co)
    conf = nobody_conf()
    r = as_nobody(conf, "user", "show", u.login)		# reading is not an operator command
    assert r.returncode == 0, r.stderr

    refusals = len(events(admin, "policy_change_refused"))
    line = one_line_refusal(as_nobody(conf, "policy", "set", co, "--level", "high"))
    assert "refused" in line and "operator_group" in line and "nobody" in line, line
    for args in (["user", "set", u.login, "--group", "owner"], ["enroll", "reset", u.login],
                 ["lockout", "clear", u.login], ["trusted", "revoke", u.login, "--all"],
                 ["user", "add", H.unique("n"), "--company", co, "--group", "owner", "--email", "x@example.com",
                  "--password-hash", "$6$saltsalt$" + "x" * 86]):
        one_line_refusal(as_nobody(conf, *args))
    assert level(admin, co) == "low"
    assert admin.json("user", "show", u.login)["group"] == "company_user"
    refused = events(admin, "policy_change_refused")
    assert len(refused) == refusals + 1 and "OS user nobody" in refused[-1]["detail"], refused
    assert refused[-1]["source"].endswith("os-user=nobody"), refused[-1]
    assert [e for e in events(admin, "authorization_refused", u.login) if "lockout clear" in e["detail"]]

    # a member of admin.operator_group may (nobody's group)
    group = __import__("grp").getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
    conf = nobody_conf({("admin", "operator_group"): group})
    # (SUDO_USER counts only when root runs the tool: anyone else could set it)
    r = as_nobody(conf, "policy", "set", co, "--level", "high", env={"SUDO_USER": "mallory"})
    assert r.returncode == 0, r.stderr
    assert level(admin, co) == "high"
    done = [e for e in events(admin, "policy_changed") if e["source"].endswith("os-user=nobody")]
    assert done and done[-1]["actor"] == "vrms2fa-admin", done
    assert not [e for e in events(admin, "policy_changed") if "mallory" in e["source"]]

    # root, without --by: an operator
    admin("policy", "set", co, "--level", "low")
    assert level(admin, co) == "low"


# --------------------------------------------------------------------------
# One rule for names
# --------------------------------------------------------------------------

BAD_LOGINS = [
    ("empty", "", "empty"),
    ("too long", "a" * 65, "longer than 64"),
    ("leading space", " alice", "starts with a space"),
    ("trailing space", "alice ", "ends with a space"),
    ("colon", "alice:x", "':'"),
    ("newline", "ali\nce", "control character"),
    ("escape", "ali\x1bce", "control character"),
    ("C1", "ali\x85ce", "control character"),
    ("zero width space", "ali\u200bce", "invisible character (U+200B)"),
    ("zero width joiner", "ali\u200dce", "invisible character (U+200D)"),
    ("soft hyphen", "ali\u00adce", "invisible character (U+00AD)"),
    ("BOM", "\ufeffalice", "invisible character (U+FEFF)"),
    ("tag", "alice\U000e0041", "invisible character (U+E0041)"),
    ("right-to-left override", "ali\u202ece", "bidirectional control character (U+202E)"),
    ("right-to-left mark", "ali\u200fce", "bidirectional control character (U+200F)"),
    ("isolate", "ali\u2066ce", "bidirectional control character (U+2066)"),
    ("no-break space", "ali\u00a0ce", "space other than the plain space (U+00A0)"),
    ("ideographic space", "ali\u3000ce", "space other than the plain space (U+3000)"),
    ("noncharacter", "ali\ufdd0ce", "noncharacter"),
    ("private use", "ali\ue000ce", "private-use"),
]


@pytest.mark.parametrize("name,reason", [(n, w) for _, n, w in BAD_LOGINS], ids=[i for i, _, _ in BAD_LOGINS])
def test_every_name_rule_is_refused_by_the_tool(world, admin, name, reason):
    co = world.company()
    r = admin.run("user", "add", name, "--company", co, "--group", "owner", "--email", "x@example.com",
                  "--password-hash", "$6$saltsalt$" + "x" * 86, check=False)
    line = one_line_refusal(r)
    assert "bad login name" in line and reason in line, line
    if reason != "':'" and "longer" not in reason:
        line = one_line_refusal(admin.run("company", "add", name, check=False))
        assert "bad company name" in line and reason in line, line
    for args in (["user", "show", name], ["lockout", "clear", name], ["trusted", "list", name],
                 ["enroll", "begin", name], ["policy", "set", co, "--level", "high", "--by", name]):
        line = one_line_refusal(admin.run(*args, check=False))
        assert "bad login name" in line and reason in line, (args, line)


def test_names_compare_without_padding(world, admin, mariadb):
    """'alice ' names nobody in the database (NO PAD collation), so a command
    cannot act on alice through it; a company name likewise."""
    u = world.user()
    cols = mariadb.rows("SELECT TABLE_NAME, COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '%s'"
                        " AND ((TABLE_NAME = 'users' AND COLUMN_NAME = 'login') OR"
                        " (TABLE_NAME = 'companies' AND COLUMN_NAME = 'name'))" % mariadb.db)
    assert sorted(tuple(c) for c in cols) == [("companies", "utf8mb4_nopad_bin"), ("users", "utf8mb4_nopad_bin")], cols
    assert mariadb.scalar("SELECT COUNT(*) FROM users WHERE login = '%s '" % u.login) == "0"
    assert mariadb.scalar("SELECT COUNT(*) FROM users WHERE login = '%s'" % u.login) == "1"
    assert mariadb.scalar("SELECT COUNT(*) FROM companies WHERE name = '%s '" % u.company) == "0"
    line = one_line_refusal(admin.run("lockout", "clear", u.login + " ", check=False))
    assert "ends with a space" in line, line


def test_module_treats_a_name_breaking_the_rule_as_unknown(world, admin, mariadb, radiusd):
    """A user stored (by hand, as an older tool could) under a name that breaks
    the rule: the right password is refused as for an unknown user."""
    co = world.company()
    good = world.user(company=co)
    bad = good.login[:20] + "\u200bx"
    mariadb.sql("INSERT INTO users (login, company_id, user_group, email, password_hash, created_at) "
                "SELECT '%s', company_id, user_group, email, password_hash, created_at FROM users WHERE login = '%s'"
                % (bad, good.login), database=mariadb.db)
    r1, _ = radiusd.login(good.login, good.password)
    assert r1.code == ACCEPT, r1
    r1, _ = radiusd.login(bad, good.password)
    assert r1.code == REJECT and r1.message == H.MSG_LOGIN_FAILED, r1
    unknown, _ = radiusd.login(H.unique("nobody"), good.password)
    assert unknown.code == REJECT and unknown.message == r1.message


# --------------------------------------------------------------------------
# Secrets on stdin
# --------------------------------------------------------------------------

def test_secrets_on_stdin(world, admin, radiusd):
    co = world.company()
    # a password hash on stdin: the user logs in with its password
    login = H.unique("h")
    pw = "Stdin pw " + H.unique("")
    admin("user", "add", login, "--company", co, "--group", "owner", "--email", login + "@example.com",
          "--password-hash", "-", input=H.crypt_hash(pw, "$6$") + "\n")
    r1, _ = radiusd.login(login, pw)
    assert r1.code == ACCEPT, r1
    admin("user", "set", login, "--password-hash", "-", input=H.crypt_hash(pw + "2", "$6$") + "\n")
    assert radiusd.login(login, pw + "2")[0].code == ACCEPT

    # the enrollment code on stdin, as '-' and as --stdin
    for form in (["-"], ["--stdin"]):
        u = world.user(company=co)
        secret = admin.json("enroll", "begin", u.login)["secret"]
        H.wait_step_margin(3)
        admin("enroll", "confirm", u.login, *form, input=H.totp(secret) + "\n")
        assert admin.json("user", "show", u.login)["totp_status"] == "active"
    # a token on stdin: read, hashed, looked up
    line = one_line_refusal(admin.run("email", "confirm", "-", input="0" * 32 + "\n", check=False))
    assert "unknown, expired or already used" in line, line
    line = one_line_refusal(admin.run("email", "confirm", "--stdin", input="nothex\n", check=False))
    assert "not a confirmation token" in line, line
    assert admin.run("email", "confirm", check=False).returncode == 2


@pytest.mark.parametrize("args", [["--password-stdin"], ["--password-hash", "-"]], ids=["password", "hash"])
def test_nul_on_stdin_is_refused(world, admin, args):
    co = world.company()
    login = H.unique("z")
    secret = "Before\0after" if args == ["--password-stdin"] else H.crypt_hash("x", "$6$") + "\0"
    r = admin.run("user", "add", login, "--company", co, "--group", "owner", "--email", login + "@example.com",
                  *args, input=secret + "\n", check=False)
    line = one_line_refusal(r)
    assert "NUL" in line, line
    assert admin.run("user", "show", login, check=False).returncode == 1	# not created


# --------------------------------------------------------------------------
# No database password in a file others may read
# --------------------------------------------------------------------------

def test_tool_refuses_a_config_others_may_read(schema, module_conf, tmp_path):
    conf = tmp_path / "vrms2fa.conf"
    shutil.copy(module_conf, conf)
    # (world-writable: FreeRADIUS's own parser refuses it first)
    for mode, why in ((0o644, "others may read it"), (0o604, "others may read it"), (0o660, "its group may change it")):
        os.chmod(conf, mode)
        r = H.Admin(conf).run("company", "show", "x", check=False)
        line = one_line_refusal(r)
        assert why in line and str(conf) in line, line
        assert "chmod 0640 %s" % conf in line and "chown root:freerad %s" % conf in line, line
    os.chmod(conf, 0o640)
    r = H.Admin(conf).run("company", "show", H.unique("none"), check=False)
    assert r.returncode == 1 and "no such company" in r.stderr, r.stderr	# ran, reached the database


def test_tool_refuses_a_password_included_from_a_file_others_may_read(schema, module_conf, tmp_path):
    """The password in a file the module file includes: that file is the one checked."""
    text = Path(module_conf).read_text()
    m = re.search(r'(?m)^(\s*)(password = "[^"]*")\s*$', text)
    incl = tmp_path / "dbpass.conf"
    incl.write_text(m.group(2) + "\n")
    conf = tmp_path / "vrms2fa.conf"
    conf.write_text(text[:m.start()] + m.group(1) + "$INCLUDE " + str(incl) + text[m.end():])
    os.chmod(conf, 0o600)
    os.chmod(incl, 0o644)
    line = one_line_refusal(H.Admin(conf).run("company", "show", "x", check=False))
    assert "%s holds the database password and others may read it" % incl in line, line
    os.chmod(incl, 0o600)
    os.chmod(conf, 0o644)		# the module file no longer holds the password itself
    r = H.Admin(conf).run("company", "show", H.unique("none"), check=False)
    assert r.returncode == 1 and "no such company" in r.stderr, r.stderr


def test_module_refuses_to_start_with_a_config_others_may_read(workdir, mariadb, key_file, schema, dictdir):
    rad = H.Radiusd(workdir / ("radiusd-%s" % H.unique("mode")), mariadb, key_file, dictdir=dictdir,
                    overrides={("email", "enabled"): "no"})
    os.chmod(rad.module_config, 0o644)
    with pytest.raises(H.StartFailed) as e:
        rad.start()
    log = e.value.log if hasattr(e.value, "log") else str(e.value)
    assert "holds the database password and others may read it" in str(e.value) + log, str(e.value)
    assert "Fix: chown root:freerad %s && chmod 0640 %s" % (rad.module_config, rad.module_config) in log, log
    os.chmod(rad.module_config, 0o640)
    try:
        rad.start()
        assert rad.running
    finally:
        rad.stop()


def test_password_on_stdin_up_to_256_bytes(world, admin):
    co = world.company()
    ok, long = H.unique("p"), H.unique("p")
    admin("user", "add", ok, "--company", co, "--group", "owner", "--email", "x@example.com", "--password-stdin",
          input="a" * 256 + "\n")
    r = admin.run("user", "add", long, "--company", co, "--group", "owner", "--email", "x@example.com",
                  "--password-stdin", input="a" * 257 + "\n", check=False)
    assert "too long (at most 256 bytes)" in one_line_refusal(r)
    assert admin.run("user", "show", long, check=False).returncode == 1
