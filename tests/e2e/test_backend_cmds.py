"""test_backend_cmds.py - the admin tool's commands for the VRMS backend
(issue 17): user sync of 10,000 users from JSON lines (twice: the second
run changes nothing; then a changed group, a removed user, a new user, all
reported), --dry-run, refused input; user list with its filters, company
list, policy show, and user delete with every row about the user."""

import json
import time

import pytest

import harness as H

N = 10000


def sync(admin, lines, *args):
    text = "".join(json.dumps(line) + "\n" for line in lines)
    return admin("--json", "user", "sync", *args, input=text, check=False)


@pytest.fixture(scope="module")
def hash_():
    return H.crypt_hash("sync-password", "$6$", setting="$6$rounds=1000$syncsalt$")


@pytest.fixture(scope="module")
def population(admin, hash_):
    a, b = H.unique("sync-a-"), H.unique("sync-b-")
    admin("company", "add", a)
    admin("company", "add", b)
    groups = ["administrator", "company_user", "owner", "supplier"]
    lines = [{"login": "%s-%05d" % (a if i % 2 else b, i), "company": a if i % 2 else b,
              "group": groups[i % 4], "email": "u%05d@%s.example.com" % (i, a), "password_hash": hash_,
              "disabled": False} for i in range(N)]
    return a, b, lines


def test_sync_10000_twice_then_changes(admin, population, figures, mariadb, hash_):
    a, b, lines = population

    t0 = time.monotonic()
    r = sync(admin, lines)
    first = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert len(out["added"]) == N and out["changed"] == [] and out["disabled"] == [], (out["changed"], out["disabled"])
    assert int(mariadb.scalar("SELECT COUNT(*) FROM users u JOIN companies c ON c.id = u.company_id"
                              " WHERE c.name IN ('%s', '%s')" % (a, b))) == N

    t0 = time.monotonic()
    r = sync(admin, lines)
    second = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["added"] == [] and out["changed"] == [] and out["disabled"] == [] and out["unchanged"] == N, out
    assert out["written"] == 0
    figures.append("user sync of %d users: first run %.2f s (all added), second run %.2f s (nothing changed)"
                   % (N, first, second))

    # a changed group, a removed user, a new user
    changed = dict(lines[10], group="owner" if lines[10]["group"] != "owner" else "supplier")
    removed = lines[11]
    new = dict(lines[12], login=H.unique("sync-new-"), email="new@example.com")
    edited = [changed if x is lines[10] else x for x in lines if x is not removed] + [new]
    t0 = time.monotonic()
    r = sync(admin, edited)
    third = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["added"] == [new["login"]], out["added"]
    assert out["changed"] == [{"login": changed["login"], "changes": "group"}], out["changed"]
    assert out["disabled"] == [removed["login"]], out["disabled"]
    figures.append("user sync of %d users with 1 added, 1 changed, 1 disabled: %.2f s" % (N, third))

    u = admin.json("user", "show", removed["login"])
    assert u["disabled"] is True					# disabled, not deleted
    assert admin.json("user", "show", changed["login"])["group"] == changed["group"]
    assert admin.json("user", "show", new["login"])["company"] == new["company"]

    # the text form reports the same
    again = [dict(x, email="changed@example.com") if x is edited[0] else x for x in edited]
    r = admin("user", "sync", input="".join(json.dumps(x) + "\n" for x in again))
    assert "changed %s: email" % again[0]["login"] in r.stdout, r.stdout
    assert "user sync: 0 added, 1 changed, 0 disabled, %d unchanged" % (len(again) - 1) in r.stdout, r.stdout

    # --dry-run reports and writes nothing
    dry = [dict(x, group="supplier" if x["group"] != "supplier" else "owner") if x is again[1] else x for x in again]
    out = json.loads(sync(admin, dry, "--dry-run").stdout)
    assert out["dry_run"] is True and out["changed"] == [{"login": dry[1]["login"], "changes": "group"}], out
    assert admin.json("user", "show", dry[1]["login"])["group"] == again[1]["group"]

    # re-enabled by a line that says so; audited
    back = again + [dict(removed)]
    out = json.loads(sync(admin, back).stdout)
    assert out["changed"] == [{"login": removed["login"], "changes": "disabled"}], out
    assert admin.json("user", "show", removed["login"])["disabled"] is False
    events = [e["event"] for e in admin.json("audit", "--user", removed["login"])["events"]]
    assert "user_disabled" in events and "user_changed" in events and "user_added" in events, events


def test_sync_refuses_bad_input_and_writes_nothing(admin, population, mariadb):
    a, b, lines = population
    before = mariadb.scalar("SELECT COUNT(*) FROM users")
    base = {"login": H.unique("sync-bad-"), "company": a, "group": "owner", "email": None, "password_hash": None}
    cases = [
        ("not JSON", None),
        (json.dumps(base) + " trailing", "not JSON"),
        (json.dumps(base)[:-1], "not JSON"),
        ("{'login': 'x'}", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps(dict(base, company="no-such-company-x")), "no such company"),
        (json.dumps(dict(base, group="boss")), "bad group"),
        (json.dumps(dict(base, password_hash="plaintext")), "unsupported password hash"),
        (json.dumps(dict(base, extra=1)), "unknown member"),
        (json.dumps(dict(base, disabled="no")), "true or false"),
        (json.dumps(dict(base, login="")), "bad login name"),
        (json.dumps(dict(base, login="a\u0000b")), "NUL"),
    ]
    for text, why in cases:
        good = json.dumps(dict(base, login=H.unique("sync-ok-")))
        r = admin("user", "sync", input=good + "\n" + text + "\n", check=False)
        assert r.returncode == 1, (text, r)
        assert "line 2" in r.stderr and (why is None or why in r.stderr), (text, r.stderr)
    dup = json.dumps(base)
    r = admin("user", "sync", input=dup + "\n" + dup + "\n", check=False)
    assert r.returncode == 1 and "same login" in r.stderr, r.stderr
    assert mariadb.scalar("SELECT COUNT(*) FROM users") == before


def test_list_company_list_policy_show(admin, population, world):
    a, b, lines = population
    listed = admin.json("user", "list", "--company", a)
    assert listed["count"] >= N // 2 - 1
    assert all(u["company"] == a for u in listed["users"])
    assert all("password" not in k or k == "has_password" for u in listed["users"][:5] for k in u)
    owners = admin.json("user", "list", "--company", b, "--group", "owner")
    assert owners["count"] > 0 and all(u["group"] == "owner" for u in owners["users"])
    r = admin("user", "list", "--company", b, "--status", "none")
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    assert len(rows) == admin.json("user", "list", "--company", b)["count"]
    assert all(row[1] == b and row[4] == "none" for row in rows), rows[:3]
    assert admin("user", "list", "--company", "no-such-company-y", check=False).returncode == 1
    assert admin("user", "list", "--status", "sleepy", check=False).returncode == 2

    # an enrolled user appears under --status active
    c = world.company()
    u = world.user(company=c, enroll=True)
    active = admin.json("user", "list", "--company", c, "--status", "active")
    assert [x["login"] for x in active["users"]] == [u.login]
    assert admin.json("user", "list", "--company", c, "--status", "pending")["count"] == 0

    companies = {x["name"]: x for x in admin.json("company", "list")["companies"]}
    assert companies[c]["users"] == 1 and companies[c]["enrolled"] == 1 and companies[c]["level"] == "low"
    assert companies[b]["users"] == admin.json("user", "list", "--company", b)["count"] >= N // 2
    assert "%s\tlow\t-\t5 days\t1 users\t1 enrolled\t0 disabled" % c in admin("company", "list").stdout

    p = admin.json("policy", "show", c)
    assert p == {"company": c, "level": "low", "groups": [], "grace_days": 5, "users": 1, "mandatory": 0,
                 "enrolled": 0, "in_grace": 0, "past_deadline": 0}, p
    assert "enabled users:  1" in admin("policy", "show", c).stdout
    assert admin("policy", "show", "no-such-company-z", check=False).returncode == 1


def test_user_delete_removes_every_row(admin, world, mariadb, radiusd):
    u = world.user(enroll=True)
    world.recovery_codes(u)
    uid = mariadb.scalar("SELECT id FROM users WHERE login = '%s'" % u.login)
    H.trust_row(mariadb, u.login, "198.51.100.33", how="code")
    # a failure record of the name, through radiusd
    assert radiusd.round1(u.login, "wrong", csid="192.0.2.99").code == H.REJECT
    assert int(mariadb.scalar("SELECT COUNT(*) FROM login_failures WHERE login = '%s'" % u.login)) >= 1

    out = admin.json("user", "delete", u.login)
    assert out["deleted"] == u.login
    removed = out["removed"]
    assert removed["trusted_addresses"] == 1 and removed["totp_secrets"] == 1, removed
    assert removed["recovery_codes"] == 10 and removed["login_failures"] >= 1, removed
    for table in ("users WHERE id", "trusted_addresses WHERE user_id", "totp_secrets WHERE user_id",
                  "recovery_codes WHERE user_id", "challenges WHERE user_id", "email_confirmations WHERE user_id"):
        assert mariadb.scalar("SELECT COUNT(*) FROM %s = %s" % (table, uid)) == "0", table
    assert mariadb.scalar("SELECT COUNT(*) FROM login_failures WHERE login = '%s'" % u.login) == "0"
    assert mariadb.scalar("SELECT COUNT(*) FROM audit_log WHERE user_id = %s AND event = 'user_deleted'" % uid) == "1"
    r = admin("user", "show", u.login, check=False)
    assert r.returncode == 1
    r = admin("user", "delete", u.login, check=False)
    assert r.returncode == 1 and "no such user" in r.stderr, r
    # the login is free again, and radiusd no longer knows the user
    assert radiusd.round1(u.login, u.password, csid="192.0.2.98").code == H.REJECT


BACKEND_ARGS = {
    "user list": ["user", "list"],
    "user delete": ["user", "delete", "x"],
    "company list": ["company", "list"],
    "policy show": ["policy", "show", "x"],
}


@pytest.mark.parametrize("command", sorted(BACKEND_ARGS) + ["user sync"])
def test_help_and_database_down(admin, make_module_conf, command):
    """--help prints the usage (exit 0); with the database down, exit 1 and one line on stderr."""
    args = BACKEND_ARGS.get(command, ["user", "sync"])
    r = admin.run(*(command.split() + ["--help"]), check=False)
    assert r.returncode == 0 and "usage: vrms2fa-admin " + command in r.stdout, r
    down = make_module_conf({("database", "port"): H.free_port("tcp"), ("database", "connect_timeout"): 1})
    line = json.dumps({"login": "x", "company": "y", "group": "owner"}) + "\n"
    r = admin.run(*args, check=False, config=str(down), input=line if command == "user sync" else None)
    assert r.returncode == 1 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1, r
    assert "cannot connect" in r.stderr, r.stderr
