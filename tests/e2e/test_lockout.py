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
