"""
End-to-end tests of issue 5 (doc/design.md, "Email confirmation") with the REAL email hook
(hook/vrms2fa-email-hook) and a REAL SMTP server: aiosmtpd, started in this
process on 127.0.0.1 and a free port, keeps every message it is given.  A
radiusd with email confirmation on runs the hook, the hook speaks SMTP to
aiosmtpd, and the tests read the delivered messages: the code and the link
the user would get.

Run:  cd <repo> && /usr/bin/python3 -m pytest -q tests/e2e/test_email_smtp.py
"""
import email
import email.policy
import os
import re
import statistics
import threading
import time
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlparse

import pytest

import harness as H
from harness import ACCEPT, CHALLENGE, REJECT, MSG_CODE_WRONG

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
Controller = aiosmtpd_controller.Controller

HOOK = H.SRC / "hook" / "vrms2fa-email-hook"
SENDER = "security@vrms.example.com"
LINK_PREFIX = "https://vrms.example.com/login/confirm?token="	# the shipped email.link_url

MSG_EMAIL_SENT = H.MESSAGES["MSG_EMAIL_SENT"]
MSG_EMAIL_FAILED = H.MESSAGES["MSG_EMAIL_FAILED"]
MSG_EMAIL_LIMIT = H.MESSAGES["MSG_EMAIL_LIMIT"]
MSG_NO_EMAIL = H.MESSAGES["MSG_NO_EMAIL"]


# --------------------------------------------------------------------------
# The SMTP server and the hook's configuration
# --------------------------------------------------------------------------

class Inbox:
    """aiosmtpd handler: keeps every message (envelope and parsed message)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append({"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                                  "msg": msg, "at": time.time()})
        return "250 2.0.0 Queued"

    def to(self, address):
        with self.lock:
            return [m for m in self.messages if address in m["rcpt_tos"]]

    def count(self):
        with self.lock:
            return len(self.messages)


@pytest.fixture(scope="module")
def smtp():
    inbox = Inbox()
    for _ in range(5):
        port = H.free_port("tcp")
        c = Controller(inbox, hostname="127.0.0.1", port=port, server_hostname="smtp.test", ready_timeout=10)
        try:
            c.start()
        except OSError:		# taken in between: another port
            continue
        c.inbox = inbox
        break
    else:
        pytest.fail("cannot start aiosmtpd on a free loopback port")
    yield c
    c.stop()


@pytest.fixture(scope="module")
def hookdir(tmp_path_factory):
    return tmp_path_factory.mktemp("smtp-hook")


def write_hook_config(path, port):
    """The shipped example, pointed at 127.0.0.1:port (and a short timeout)."""
    text = (H.SRC / "hook" / "vrms2fa-email.conf.example").read_text()
    text = text.replace("host = localhost", "host = 127.0.0.1")
    text = text.replace("#port = 25", "port = %d" % port)
    text = text.replace("#timeout = 10", "timeout = 3")
    text = text.replace("#helo = radius1.example.com", "helo = radius.test")
    text = text.replace("from = security@example.com", "from = %s" % SENDER)
    assert "port = %d" % port in text and "from = %s" % SENDER in text, "the example changed"
    path.write_text(text)
    return path


HOOK_TIMEOUT_DEFAULT = 5.0	# email.hook_timeout when not set


def email_conf(hook, **over):
    conf = {("email", "enabled"): "yes", ("email", "hook"): hook}
    conf.update({("email", k): v for k, v in over.items()})
    return conf


@pytest.fixture(scope="module")
def hook_ok(smtp, hookdir):
    cfg = write_hook_config(hookdir / "vrms2fa-email.conf", smtp.port)
    return "%s %s" % (HOOK, cfg)


@pytest.fixture(scope="module")
def rad(radiusd_pool, hook_ok):
    """radiusd with email confirmation through the real hook and aiosmtpd."""
    return radiusd_pool.get(email_conf(hook_ok))


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def masked(addr):
    local, _, domain = addr.partition("@")
    return "%s\u2026@%s" % (local[0], domain)


def read_mail(m):
    """(code, link, token, body) of a delivered confirmation message."""
    body = m["msg"].get_content()
    lines = [l.strip() for l in body.splitlines()]
    codes = [l for l in lines if re.fullmatch(r"[0-9]{6}", l)]
    links = [l for l in lines if l.startswith("https://")]
    assert len(codes) == 1 and len(links) == 1, body
    token = parse_qs(urlparse(links[0]).query).get("token", [None])[0]
    assert token and re.fullmatch(r"[0-9a-f]{32}", token), links[0]
    return codes[0], links[0], token, body


def email_challenge(rad, smtp, u, csid, before=0):
    """Round 1 from a new address: the challenge names the masked address and
    exactly one more message reached the SMTP server for the user."""
    r1 = rad.round1(u.login, u.password, csid=csid, timeout=10)
    assert r1.code == CHALLENGE, r1.raw
    assert r1.message == MSG_EMAIL_SENT % masked(u.email), r1.message
    mails = smtp.inbox.to(u.email)
    assert len(mails) == before + 1, mails
    return r1, mails[-1]


def user_id(mariadb, login):
    return int(mariadb.scalar("SELECT id FROM users WHERE login = '%s'" % login))


# --------------------------------------------------------------------------
# Delivery, the code, the link
# --------------------------------------------------------------------------

def test_code_from_the_delivered_email_lets_the_user_in(world, admin, rad, smtp):
    u = world.user()
    csid = H.new_address()
    t0 = time.time()
    r1, m = email_challenge(rad, smtp, u, csid)
    code, link, token, body = read_mail(m)

    # the message itself
    msg = m["msg"]
    assert m["mail_from"] == SENDER and m["rcpt_tos"] == [u.email], m
    assert msg["To"].addresses[0].addr_spec == u.email
    assert msg["From"].addresses[0].addr_spec == SENDER
    assert code not in str(msg["Subject"])
    assert link.startswith(LINK_PREFIX), link
    assert u.login in body and u.company in body and csid in body, body
    exp = re.search(r"expire at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", body)
    assert exp, body
    expires = datetime.strptime(exp.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    assert t0 + 900 - 30 <= expires <= time.time() + 900 + 30, (exp.group(1), t0)	# code_lifetime 900 s

    r2 = rad.round2(u.login, code, r1.state, csid=csid)
    assert r2.code == ACCEPT, r2.raw
    assert r2.get("VRMS2FA-Enrolled") == "0"
    addrs = admin.json("trusted", "list", u.login)["addresses"]
    assert [(a["address"], a["how"]) for a in addrs] == [(csid, "email")], addrs
    assert abs(addrs[0]["expires_at"] - (time.time() + 30 * 86400)) < 120, addrs	# trust.lifetime 30 days

    # the next login from that address: in, and no new email
    r = rad.round1(u.login, u.password, csid=csid)
    assert r.code == ACCEPT, r.raw
    assert len(smtp.inbox.to(u.email)) == 1
    # the code was single-use: from another address it is asked again, by a new email
    r1b, m2 = email_challenge(rad, smtp, u, H.new_address(), before=1)
    assert read_mail(m2)[0] != code or read_mail(m2)[2] != token


def test_link_confirms_out_of_band(world, admin, rad, smtp):
    u = world.user()
    csid = H.new_address()
    _, m = email_challenge(rad, smtp, u, csid)
    _, link, token, _ = read_mail(m)
    assert link == LINK_PREFIX + token, link

    r = admin("email", "confirm", token, check=False)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert u.login in r.stdout and csid in r.stdout, r.stdout
    r = rad.round1(u.login, u.password, csid=csid)
    assert r.code == ACCEPT, r.raw
    assert "State" not in r.attrs
    assert len(smtp.inbox.to(u.email)) == 1
    addrs = admin.json("trusted", "list", u.login)["addresses"]
    assert [(a["address"], a["how"]) for a in addrs] == [(csid, "email")], addrs
    assert abs(addrs[0]["expires_at"] - (time.time() + 30 * 86400)) < 120, addrs	# trust.lifetime 30 days
    # a link works once
    assert admin("email", "confirm", token, check=False).returncode == 1


def test_expired_code_is_not_accepted(world, admin, mariadb, radiusd_pool, hook_ok, smtp):
    """email.code_lifetime = 60: the email says so; once the confirmation has
    expired (expires_at moved into the past) the right code does not let the
    user in, nor does the link, and a new login sends a new email."""
    rad = radiusd_pool.get(email_conf(hook_ok, code_lifetime=60))
    u = world.user()
    csid = H.new_address()
    t0 = time.time()
    r1, m = email_challenge(rad, smtp, u, csid)
    code, _, token, body = read_mail(m)
    exp = re.search(r"expire at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", body)
    expires = datetime.strptime(exp.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    assert t0 + 60 - 10 <= expires <= time.time() + 60 + 10, (exp.group(1), t0)

    uid = user_id(mariadb, u.login)
    mariadb.sql("UPDATE email_confirmations SET expires_at = UNIX_TIMESTAMP() - 1 WHERE user_id = %d" % uid,
                database=mariadb.db)
    r2 = rad.round2(u.login, code, r1.state, csid=csid)
    assert r2.code != ACCEPT, r2.raw
    assert r2.code in (CHALLENGE, REJECT), r2.raw
    assert admin.json("trusted", "list", u.login)["addresses"] == []
    assert admin("email", "confirm", token, check=False).returncode == 1
    r = rad.round1(u.login, u.password, csid=csid, timeout=10)
    assert r.code == CHALLENGE and len(smtp.inbox.to(u.email)) == 2, r.raw


def test_wrong_code_challenges_again_and_counts_toward_lockout(world, admin, rad, smtp):
    u = world.user()
    csid = H.new_address()
    r1, m = email_challenge(rad, smtp, u, csid)
    code = read_mail(m)[0]
    assert admin.json("lockout", "show", u.login)["failures"] == 0
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    r2 = rad.round2(u.login, wrong, r1.state, csid=csid)
    assert (r2.code, r2.message) == (CHALLENGE, MSG_CODE_WRONG), r2.raw
    assert admin.json("lockout", "show", u.login)["failures"] == 1
    r3 = rad.round2(u.login, "12345", r2.state, csid=csid)		# not even six digits
    assert (r3.code, r3.message) == (CHALLENGE, MSG_CODE_WRONG), r3.raw
    assert admin.json("lockout", "show", u.login)["failures"] == 2
    assert admin.json("trusted", "list", u.login)["addresses"] == []
    r4 = rad.round2(u.login, code, r3.state, csid=csid)
    assert r4.code == ACCEPT, r4.raw
    assert admin.json("lockout", "show", u.login)["failures"] == 0	# success resets it
    assert len(smtp.inbox.to(u.email)) == 1


def test_retry_while_pending_sends_one_email(world, rad, smtp):
    u = world.user()
    csid = H.new_address()
    r1, m = email_challenge(rad, smtp, u, csid)
    for _ in range(2):
        r = rad.round1(u.login, u.password, csid=csid)
        assert r.code == CHALLENGE and r.message == MSG_EMAIL_SENT % masked(u.email), r.raw
    assert len(smtp.inbox.to(u.email)) == 1
    # the one email's code answers the latest challenge
    r2 = rad.round2(u.login, read_mail(m)[0], r.state, csid=csid)
    assert r2.code == ACCEPT, r2.raw


def test_rate_limit(world, radiusd_pool, hook_ok, smtp):
    """email.max_per_hour = 2: the third new address in the hour gets a clear
    Reply-Message and no email."""
    rad = radiusd_pool.get(email_conf(hook_ok, max_per_hour=2))
    u = world.user()
    sent = []
    for i in range(2):
        csid = H.new_address()
        sent.append((csid,) + email_challenge(rad, smtp, u, csid, before=i))
    for _ in range(2):
        r = rad.round1(u.login, u.password, csid=H.new_address())
        assert (r.code, r.message) == (REJECT, MSG_EMAIL_LIMIT), r.raw
    assert len(smtp.inbox.to(u.email)) == 2
    # a confirmation already pending is still usable: its retry sends nothing, its code works
    csid, _, m = sent[0]
    r = rad.round1(u.login, u.password, csid=csid)
    assert r.code == CHALLENGE and r.message == MSG_EMAIL_SENT % masked(u.email), r.raw
    assert rad.round2(u.login, read_mail(m)[0], r.state, csid=csid).code == ACCEPT
    assert len(smtp.inbox.to(u.email)) == 2


def test_user_without_email_address(world, mariadb, rad, smtp):
    u = world.user()
    mariadb.sql("UPDATE users SET email = NULL WHERE login = '%s'" % u.login, database=mariadb.db)
    before = smtp.inbox.count()
    r = rad.round1(u.login, u.password, csid=H.new_address())
    assert (r.code, r.message) == (REJECT, MSG_NO_EMAIL), r.raw
    assert smtp.inbox.count() == before


# --------------------------------------------------------------------------
# A hook that fails, a hook that hangs
# --------------------------------------------------------------------------

def test_hook_fails_smtp_down(world, admin, mariadb, radiusd_pool, smtp, hookdir):
    """The hook's SMTP server is a closed port: the user is told the email
    could not be sent, radiusd's log has the hook's reason, nothing is
    trusted, and the pending confirmation is kept (and used by the retry
    once the mail server is back)."""
    closed = H.free_port("tcp")
    cfg = write_hook_config(hookdir / "down.conf", closed)
    rad = radiusd_pool.get(email_conf("%s %s" % (HOOK, cfg)))
    u = world.user()
    csid = H.new_address()
    r = rad.round1(u.login, u.password, csid=csid, timeout=10)
    assert (r.code, r.message) == (REJECT, MSG_EMAIL_FAILED), r.raw
    assert smtp.inbox.to(u.email) == []
    assert admin.json("trusted", "list", u.login)["addresses"] == []

    log = rad.log_text()
    lines = [l for l in log.splitlines() if "email hook failed" in l]
    assert lines, H.tail(rad.logfile)
    assert any("cannot connect to smtp 127.0.0.1:%d" % closed in l for l in lines), lines

    uid = user_id(mariadb, u.login)
    rows = mariadb.rows("SELECT address, sent_at IS NULL, confirmed_at IS NULL, expires_at > UNIX_TIMESTAMP()"
                        " FROM email_confirmations WHERE user_id = %d" % uid)
    assert rows == [[csid, "1", "1", "1"]], rows
    events = [e["event"] for e in admin.json("audit", "--user", u.login)["events"]]
    assert "email_failed" in events and "email_sent" not in events, events

    # the mail server is back: the retry sends the pending confirmation
    write_hook_config(cfg, smtp.port)
    r1, m = email_challenge(rad, smtp, u, csid)
    rows = mariadb.rows("SELECT COUNT(*), SUM(sent_at IS NOT NULL) FROM email_confirmations WHERE user_id = %d" % uid)
    assert rows == [["1", "1"]], rows
    assert rad.round2(u.login, read_mail(m)[0], r1.state, csid=csid).code == ACCEPT


SLOW_HOOK = """#!/bin/sh
# A hook that hangs: records its pid, then sleeps 30 s.
echo $$ > "$1/hook.pid"
exec sleep 30
"""


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_slow_hook_does_not_stall_other_logins(world, admin, mariadb, radiusd_pool, hookdir, figures):
    """A hook that sleeps 30 s (email.hook_timeout at its default, 5 s):
    while it sleeps another user's ordinary login through the same radiusd
    is answered in under a second; the sleeping user gets "could not send"
    after about hook_timeout, and the hook is killed."""
    d = hookdir / "slow"
    d.mkdir()
    script = d / "slow-hook"
    script.write_text(SLOW_HOOK)
    os.chmod(script, 0o755)
    rad = radiusd_pool.get(email_conf("%s %s" % (script, d)))

    trusted = H.new_address()
    fast = world.user(enroll=True, address=trusted)
    slow = world.user(company=fast.company)
    assert rad.round1(fast.login, fast.password, csid=trusted).code == ACCEPT	# warm

    result = {}

    def slow_login():
        result["r"] = rad.round1(slow.login, slow.password, csid=H.new_address(), timeout=20)
    t = threading.Thread(target=slow_login)
    t0 = time.monotonic()
    t.start()
    deadline = time.monotonic() + 4
    while not (d / "hook.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (d / "hook.pid").exists(), "the hook never started"
    pid = int((d / "hook.pid").read_text())

    quick = []
    while len(quick) < 5:
        quick.append(rad.round1(fast.login, fast.password, csid=trusted))
    during = time.monotonic() - t0
    assert t.is_alive() and _alive(pid), "the slow hook was already over: nothing was measured"
    t.join(30)
    assert not t.is_alive(), "the slow login never returned"

    lat = [q.elapsed for q in quick]
    figures.append("slow email hook (sleeps 30 s, hook_timeout 5 s): other logins meanwhile %s s "
                   "(max %.3f, median %.3f); the slow login answered in %.2f s"
                   % (", ".join("%.3f" % x for x in lat), max(lat), statistics.median(lat), result["r"].elapsed))
    assert [q.code for q in quick] == [ACCEPT] * 5, quick
    assert max(lat) < HOOK_TIMEOUT_DEFAULT / 2, lat	# stalled would be >= 5 s
    assert during < 4.5, during

    r = result["r"]
    assert (r.code, r.message) == (REJECT, MSG_EMAIL_FAILED), r.raw
    assert 4.5 <= r.elapsed <= 10, r.elapsed
    assert "timed out" in rad.log_text() or "did not finish" in rad.log_text()
    assert admin.json("trusted", "list", slow.login)["addresses"] == []
    rows = mariadb.rows("SELECT COUNT(*), SUM(sent_at IS NULL) FROM email_confirmations WHERE user_id = %d"
                        % user_id(mariadb, slow.login))
    assert rows == [["1", "1"]], rows		# kept, not sent
    time.sleep(0.3)
    assert not _alive(pid), "the hung hook (pid %d) was not killed" % pid


MANY_SLOW_HOOK = """#!/bin/sh
# A hook that hangs: one pid file per run, then sleeps 30 s.
echo $$ > "$1/$$.pid"
exec sleep 30
"""


def test_hung_mail_server_with_a_burst_of_new_addresses_does_not_stall_other_logins(world, radiusd_pool, hookdir,
                                                                                     figures):
    """A hung mail server and more new-address logins at once than radiusd
    has worker threads (thread pool max_servers of the test radiusd.conf):
    an enrolled user's login from a trusted address must still be answered
    well before a hook could time out (email.max_running_hooks caps the
    threads hooks hold). A login that waited for a hook's thread would take
    at least hook_timeout (5 s); the bound is half of it so that a loaded
    CI machine (1.6 s seen) does not fail a test about stalls, not speed."""
    max_servers = int(re.search(r"max_servers\s*=\s*(\d+)", H.RADIUSD_CONF).group(1))
    d = hookdir / "many-slow"
    d.mkdir()
    script = d / "slow-hook"
    script.write_text(MANY_SLOW_HOOK)
    os.chmod(script, 0o755)
    rad = radiusd_pool.get(email_conf("%s %s" % (script, d)))
    trusted = H.new_address()
    fast = world.user(enroll=True, address=trusted)
    slows = [world.user(company=fast.company) for _ in range(max_servers + 2)]
    assert rad.round1(fast.login, fast.password, csid=trusted).code == ACCEPT	# warm

    replies = []
    threads = [threading.Thread(target=lambda s=s: replies.append(
        rad.round1(s.login, s.password, csid=H.new_address(), timeout=40))) for s in slows]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 4
        while len(list(d.glob("*.pid"))) < max_servers and time.monotonic() < deadline:
            time.sleep(0.02)
        hooks = len(list(d.glob("*.pid")))
        q = rad.round1(fast.login, fast.password, csid=trusted, timeout=20)
    finally:
        for t in threads:
            t.join(60)
    figures.append("hung mail server, %d new-address logins at once (%d hooks running, radiusd max_servers %d): "
                   "a trusted-address login meanwhile took %.3f s" % (len(slows), hooks, max_servers, q.elapsed))
    assert q.code == ACCEPT, q.raw
    assert all(r.message == MSG_EMAIL_FAILED for r in replies), replies
    assert q.elapsed < HOOK_TIMEOUT_DEFAULT / 2, q.elapsed
