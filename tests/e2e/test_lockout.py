"""Lockout that an outsider cannot turn against a user (issue 15), through
radiusd and MariaDB: failures counted per (login name, address) and per
login name, the name's lock sparing the user's trusted address, counts taken
before the check so that parallel requests cannot outrun the threshold,
decay after a quiet period, and "lockout show/clear" of both dimensions.

How the password checks are counted: radiusd logs one "Login incorrect"
line per reject (auth = yes), with the module's reason in parentheses; a
check that ran and failed reads "rlm_vrms2fa: wrong password", a request
refused before its check reads "rlm_vrms2fa: too many attempts ..." or
"rlm_vrms2fa: locked out ...".
"""
import re
import time

import harness as H
from harness import ACCEPT, REJECT, CHALLENGE, MSG_LOGIN_FAILED, MSG_LOCKED, MSG_ENTER_CODE


def _checks_ran(rad, login):
    """Password checks that ran and failed for `login`, from radiusd's log."""
    return sum(1 for line in rad.log_text().splitlines()
               if "rlm_vrms2fa: wrong password" in line and "[%s]" % login in line)


def _refused_unchecked(rad, login):
    """Rejects of `login` refused by the lockout before any check ran."""
    return sum(1 for line in rad.log_text().splitlines()
               if "[%s]" % login in line and
               re.search(r"rlm_vrms2fa: (too many attempts|locked out)", line))


def _wait_logged(rad, login, n, seconds=10.0):
    """Wait until radiusd has logged the rejects of `n` answered requests of
    `login` (the log is written after the answer is sent)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if sum(1 for line in rad.log_text().splitlines()
               if "Login incorrect" in line and "[%s]" % login in line) >= n:
            return
        time.sleep(0.1)


def _tally(replies):
    out = {}
    for r in replies:
        key = "%s (%s)" % (r.code, r.message) if r.message else str(r.code)
        out[key] = out.get(key, 0) + 1
    return out


def test_thousand_wrong_passwords_from_ten_addresses(world, admin, new_radiusd, figures):
    """An attacker sends 1,000 wrong passwords for a user from 10 untrusted
    addresses (100 each, in bursts of 100 interleaved over the addresses).
    Each (name, address) pair locks after lockout.failures = 5; the name
    alone (lockout.name_failures = 100) does not: the user still logs in
    from their trusted address with the password only, and from a new
    address with a code.  lockout.duration is 600 s here (default 60 s) so
    that a slow machine cannot let the pair locks end during the attack."""
    rad = new_radiusd({("lockout", "duration"): 600})
    home = H.new_address()
    u = world.user(enroll=True, address=home)
    attackers = [H.new_address() for _ in range(10)]

    t0 = time.monotonic()
    replies, sent = [], 0
    for burst in range(10):
        packets = []
        for a in attackers:
            for k in range(10):
                packets.append([("User-Name", u.login), ("User-Password", "guess-%d-%d" % (burst, k)),
                                ("Calling-Station-Id", a), ("NAS-IP-Address", H.Raw("127.0.0.1"))])
        got, _ = rad.burst(packets)
        sent += len(packets)
        replies += got
    elapsed = time.monotonic() - t0
    _wait_logged(rad, u.login, len(replies))
    tally = _tally(replies)
    checks = _checks_ran(rad, u.login)
    j = admin.json("lockout", "show", u.login)
    figures.append("lockout: 1,000 wrong passwords from 10 addresses in %.1f s: %s; password checks ran: %d;"
                   " name failures %d, pairs locked %d of %d"
                   % (elapsed, tally, checks, j["name"]["failures"], sum(a["locked"] for a in j["addresses"]),
                      len(j["addresses"])))
    assert sent == 1000
    assert len(replies) >= 990, tally	# radclient -p 100: a dropped answer or two on a loaded machine
    assert all(r.code == REJECT for r in replies), tally
    assert tally.get("%s (%s)" % (REJECT, MSG_LOGIN_FAILED), 0) + tally.get("%s (%s)" % (REJECT, MSG_LOCKED), 0) \
        == len(replies), tally
    # at most 5 checks per pair ran, and every pair locked
    assert checks <= 50, checks
    assert sorted(a["address"] for a in j["addresses"]) == sorted(attackers), j
    assert all(a["locked"] for a in j["addresses"]), j
    assert j["name"]["locked"] is False and j["name"]["failures"] == checks, j

    # the user, from their trusted address: the password alone
    r = rad.round1(u.login, u.password, csid=home)
    assert r.code == ACCEPT, r.raw
    # and from a new address: password, then the code
    H.wait_step_margin(3)
    elsewhere = H.new_address()
    r1 = rad.round1(u.login, u.password, csid=elsewhere)
    assert (r1.code, r1.message) == (CHALLENGE, MSG_ENTER_CODE), r1.raw
    r2 = rad.round2(u.login, u.code(), r1.state, csid=elsewhere)
    assert r2.code == ACCEPT, r2.raw
    # the attacker's addresses stay locked
    r = rad.round1(u.login, u.password, csid=attackers[0])
    assert (r.code, r.message) == (REJECT, MSG_LOCKED), r.raw


def test_fifty_parallel_wrong_passwords_run_at_most_the_threshold(world, admin, new_radiusd, figures):
    """50 wrong passwords for one name from one address, all in flight at
    once (one radclient, -p 50): an attempt is taken before the password
    check, so at most lockout.failures = 5 checks ran (counted in radiusd's
    log); the others are refused without one."""
    rad = new_radiusd({("lockout", "duration"): 600})
    u = world.user()
    addr = H.new_address()
    packets = [[("User-Name", u.login), ("User-Password", "parallel-%d" % i), ("Calling-Station-Id", addr),
                ("NAS-IP-Address", H.Raw("127.0.0.1"))] for i in range(50)]
    replies, elapsed = rad.burst(packets)
    _wait_logged(rad, u.login, len(replies))
    tally = _tally(replies)
    checks = _checks_ran(rad, u.login)
    refused = _refused_unchecked(rad, u.login)
    figures.append("lockout: 50 parallel wrong passwords, one name, one address, in %.2f s: %s;"
                   " password checks ran: %d, refused before a check: %d" % (elapsed, tally, checks, refused))
    assert len(replies) == 50 and all(r.code == REJECT for r in replies), tally
    assert 1 <= checks <= 5, (checks, tally)
    assert checks + refused == 50, (checks, refused)
    assert tally.get("%s (%s)" % (REJECT, MSG_LOGIN_FAILED), 0) <= 5, tally
    j = admin.json("lockout", "show", u.login)
    assert j["addresses"][0]["address"] == addr and j["name"]["failures"] == checks, j
    # the count handed back by the refused attempts: the pair holds exactly the failed checks (or was locked by them)
    assert j["addresses"][0]["failures"] == (0 if j["addresses"][0]["locked"] else checks), j


def test_name_lock_spares_the_trusted_address(world, admin, new_radiusd):
    """lockout.failures = 2, lockout.name_failures = 6: failures from three
    addresses lock the name.  The user's trusted address with
    Message-Authenticator is not refused by that lock (password only, as
    always from there); the same address without Message-Authenticator and
    a new address are.  The trusted address's own pair lock still refuses it."""
    rad = new_radiusd({("lockout", "failures"): 2, ("lockout", "name_failures"): 6, ("lockout", "duration"): 600})
    home = H.new_address()
    u = world.user(enroll=True, address=home)
    for a in [H.new_address() for _ in range(3)]:
        for k in range(2):
            r = rad.round1(u.login, "wrong %d" % k, csid=a)
            assert r.code == REJECT, r.raw
    j = admin.json("lockout", "show", u.login)
    assert j["name"]["locked"] is True and j["name"]["failures"] == 0 and j["name"]["lockouts"] == 1, j

    r = rad.round1(u.login, u.password, csid=home)
    assert r.code == ACCEPT, r.raw
    r = rad.round1(u.login, u.password, csid=home, ma=False)
    assert (r.code, r.message) == (REJECT, MSG_LOCKED), r.raw
    r = rad.round1(u.login, u.password, csid=H.new_address())
    assert (r.code, r.message) == (REJECT, MSG_LOCKED), r.raw
    # the Accept did not lift a lock of the name earned by others
    assert admin.json("lockout", "show", u.login)["name"]["locked"] is True

    # two wrong passwords from home lock home's pair: then home is refused too
    for k in range(2):
        r = rad.round1(u.login, "typo %d" % k, csid=home)
        assert r.code == REJECT, r.raw
    assert (r.message) == MSG_LOCKED, r.raw
    r = rad.round1(u.login, u.password, csid=home)
    assert (r.code, r.message) == (REJECT, MSG_LOCKED), r.raw


def test_counts_decay_after_a_quiet_period(world, admin, new_radiusd, make_module_conf):
    """lockout.reset_after = 3 s: failures (and earlier lockouts) older than
    that, counted from the later of the last failure and the end of the lock,
    no longer count, so the next lock is the base duration again.  The admin
    tool reads the same settings, so that "lockout show" says what radiusd counts."""
    overrides = {("lockout", "failures"): 3, ("lockout", "duration"): 2, ("lockout", "max_duration"): 16,
                 ("lockout", "reset_after"): 3}
    rad = new_radiusd(overrides)
    conf = make_module_conf(overrides)
    u = world.user()
    addr = H.new_address()

    def wrong(n):
        return [rad.round1(u.login, "wrong %d" % k, csid=addr).message for k in range(n)]

    def show():
        return admin.json("lockout", "show", u.login, config=conf)

    assert wrong(2) == [MSG_LOGIN_FAILED] * 2
    assert show()["addresses"][0]["failures"] == 2
    time.sleep(3.5)
    j = show()
    assert j["addresses"][0]["decayed"] is True and j["addresses"][0]["failures"] == 0, j
    # counting starts again: two more are not yet a lock (without decay the first would have been the third)
    assert wrong(2) == [MSG_LOGIN_FAILED] * 2
    assert wrong(1) == [MSG_LOCKED]
    a = show()["addresses"][0]
    assert a["lockouts"] == 1 and a["locked_until"] - a["last_failure_at"] == 2, a

    # after the lock (2 s) and the quiet period (3 s) the lockouts are forgotten too: the next lock is 2 s again
    time.sleep(max(0.0, a["locked_until"] + 3.5 - time.time()))
    assert show()["addresses"][0]["decayed"] is True
    assert wrong(3) == [MSG_LOGIN_FAILED] * 2 + [MSG_LOCKED]
    a = show()["addresses"][0]
    assert a["lockouts"] == 1 and a["locked_until"] - a["last_failure_at"] == 2, a

    # without the quiet period, a lock that ended is followed by a longer one
    time.sleep(max(0.0, a["locked_until"] + 0.5 - time.time()))
    assert wrong(3) == [MSG_LOGIN_FAILED] * 2 + [MSG_LOCKED]
    a = show()["addresses"][0]
    assert a["lockouts"] == 2 and a["locked_until"] - a["last_failure_at"] == 4, a


def test_lockout_show_and_clear_both_dimensions(world, admin, new_radiusd):
    """show lists the name's record and each address's; clear deletes them all."""
    rad = new_radiusd({("lockout", "failures"): 2, ("lockout", "duration"): 600})
    u = world.user()
    locked, failed = H.new_address(), H.new_address()
    for k in range(2):
        rad.round1(u.login, "wrong %d" % k, csid=locked)
    rad.round1(u.login, "wrong", csid=failed)
    rad.round1(u.login, "wrong")	# no Calling-Station-Id

    j = admin.json("lockout", "show", u.login)
    assert j["locked"] is True and j["failures"] == 4 and j["name"]["failures"] == 4, j
    assert j["name"]["locked"] is False, j
    by = {a["address"]: a for a in j["addresses"]}
    assert set(by) == {locked, failed, "-"}, j
    assert by[locked]["locked"] is True and by[locked]["lockouts"] == 1 and by[locked]["failures"] == 0, j
    assert by[failed]["locked"] is False and by[failed]["failures"] == 1, j
    assert by["-"]["failures"] == 1, j
    text = admin("lockout", "show", u.login).stdout
    assert "%s (the name, every address): not locked out (4 consecutive failures)" % u.login in text, text
    assert "%s from %s: locked out until" % (u.login, locked) in text, text
    assert "%s from %s: not locked out (1 consecutive failure)" % (u.login, failed) in text, text
    assert "%s from requests without an address: not locked out (1 consecutive failure)" % u.login in text, text

    r = rad.round1(u.login, u.password, csid=locked)
    assert (r.code, r.message) == (REJECT, MSG_LOCKED), r.raw
    admin("lockout", "clear", u.login)
    j = admin.json("lockout", "show", u.login)
    assert j["locked"] is False and j["failures"] == 0 and j["addresses"] == [] and j["name"]["lockouts"] == 0, j
    assert "is not locked out (no failures recorded)" in admin("lockout", "show", u.login).stdout
    r = rad.round1(u.login, u.password, csid=locked)
    assert r.code == ACCEPT, r.raw


def test_concurrent_logins_of_one_user_do_not_fail_each_other(world, radiusd, figures):
    """A user's logins at once (the VPN and the Wi-Fi, several devices): each
    takes an attempt before its check and clears the records after its
    success; one success clearing the records while another login is between
    its take and its read must not make that login fail (it did, under
    Valgrind's slowness: "database error: lockout count").  8 trusted logins
    at once (4 from each of two trusted addresses: fewer than the 5 attempts
    a pair may have in flight, which counting before the check caps), 12
    times: all accepted."""
    u = world.user(enroll=True)
    addresses = [H.new_address(), H.new_address()]
    H.wait_step_margin(5)
    for i, csid in enumerate(addresses):
        r1 = radiusd.round1(u.login, u.password, csid=csid)
        assert r1.code == CHALLENGE, r1.raw
        assert radiusd.round2(u.login, u.code(offset=i), r1.state, csid=csid).code == ACCEPT
    packets = [[("User-Name", u.login), ("User-Password", u.password), ("Calling-Station-Id", addresses[i % 2])]
               for i in range(8)]
    total = {}
    for _ in range(12):
        replies, _ = radiusd.burst(packets)
        for k, v in _tally(replies).items():
            total[k] = total.get(k, 0) + v
        assert len(replies) == 8, replies
    figures.append("8 trusted logins of one user at once (2 addresses), 12 times: %s" % total)
    assert total == {ACCEPT: 96}, total
