"""
End-to-end tests of the second step (doc/design.md: "Round 2", "The State", "The trust model"): the
Access-Challenge, the module's own State, TOTP codes (computed by oathtool),
the replay guard, attempts, lockout, recovery codes, single pass, trusted
addresses and the Message-Authenticator rule, clusters and restarts.

Users are enrolled through the admin tool: `enroll begin` gives the secret,
`enroll confirm` is given the code of the PREVIOUS time step, so the current
step's code is still usable by the test (the replay guard refuses any code
of a step at or before the last accepted one).
"""
import os
import re
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import harness as H
from harness import (ACCEPT, REJECT, CHALLENGE, MSG_CODE_FAILED, MSG_CODE_WRONG, MSG_ENTER_CODE,
                     MSG_LOCKED, MSG_LOGIN_FAILED, MSG_STATE_INVALID)


def challenged(radiusd, u, csid=None, src_ip=None):
    """Round 1 for an enrolled user from a new address: must be a challenge."""
    csid = csid or H.new_address()
    r1 = radiusd.round1(u.login, u.password, csid=csid, src_ip=src_ip)
    assert r1.code == CHALLENGE, r1.raw
    assert r1.message == MSG_ENTER_CODE
    assert r1.state is not None
    return r1, csid


def test_challenge_then_accept(world, admin, radiusd):
    u = world.user(enroll=True)
    assert admin.json("user", "show", u.login)["enrolled"] is True
    r1, csid = challenged(radiusd, u)
    assert "Message-Authenticator" in r1.attrs, r1.raw
    assert re.fullmatch(rb"V1[0-9a-f]{32}", r1.state), r1.state	# the module's own State, 128 bits
    assert r1.get("Prompt") == "No-Echo", r1.raw	# a client that prompts must not echo the code
    assert r1.get("VRMS2FA-Enrolled") == "1"

    r2 = radiusd.round2(u.login, u.code(), r1.state, csid=csid)
    assert r2.code == ACCEPT, r2.raw
    assert "Message-Authenticator" in r2.attrs, r2.raw
    assert "State" not in r2.attrs

    # the address is now trusted, by a code
    addrs = admin.json("trusted", "list", u.login)["addresses"]
    assert [(a["address"], a["how"]) for a in addrs] == [(csid, "code")], addrs
    # and the spent State is not usable again
    r3 = radiusd.round2(u.login, u.code(), r1.state, csid=csid)
    assert r3.code == REJECT and r3.message == MSG_STATE_INVALID, r3.raw


def test_wrong_code_then_retry(world, radiusd):
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    r1, csid = challenged(radiusd, u)
    r2 = radiusd.round2(u.login, H.wrong_code(u.secret), r1.state, csid=csid)
    assert r2.code == CHALLENGE, r2.raw
    assert r2.message == MSG_CODE_WRONG
    assert r2.state is not None
    r3 = radiusd.round2(u.login, u.code(), r2.state, csid=csid)
    assert r3.code == ACCEPT, r3.raw


def test_three_wrong_codes_then_reject(world, radiusd):
    """challenge.attempts = 3 (default): the third wrong code ends the challenge."""
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    r, csid = challenged(radiusd, u)
    bad = H.wrong_code(u.secret)
    codes = []
    for i in range(3):
        r = radiusd.round2(u.login, bad, r.state, csid=csid)
        codes.append((r.code, r.message))
        if r.code != CHALLENGE:
            break
    assert codes == [(CHALLENGE, MSG_CODE_WRONG), (CHALLENGE, MSG_CODE_WRONG), (REJECT, MSG_CODE_FAILED)], codes


def test_exhausted_state_is_dead(world, radiusd):
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    r1, csid = challenged(radiusd, u)
    bad = H.wrong_code(u.secret)
    r = r1
    for _ in range(3):
        r = radiusd.round2(u.login, bad, r1.state, csid=csid)
    assert r.code == REJECT, r.raw
    r = radiusd.round2(u.login, u.code(), r1.state, csid=csid)
    assert r.code == REJECT and r.message == MSG_STATE_INVALID, r.raw
    # a new login still works (3 failures < lockout.failures = 5)
    r1, csid = challenged(radiusd, u)
    assert radiusd.round2(u.login, u.code(), r1.state, csid=csid).code == ACCEPT


def test_same_code_twice(world, radiusd):
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    code = u.code()
    r1, csid = challenged(radiusd, u)
    assert radiusd.round2(u.login, code, r1.state, csid=csid).code == ACCEPT

    r1, csid = challenged(radiusd, u)			# another new address: no trusted shortcut
    r2 = radiusd.round2(u.login, code, r1.state, csid=csid)
    assert r2.code != ACCEPT, r2.raw
    assert (r2.code, r2.message) == (CHALLENGE, MSG_CODE_WRONG), r2.raw


def test_older_code_after_newer(world, radiusd):
    """RFC 6238 section 5.2: after the code of step s+1, the codes of s and s-1
    (still inside the +-1 window) are refused."""
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    now = time.time()
    newer, older, oldest = u.code(now, +1), u.code(now, 0), u.code(now, -1)

    r1, csid = challenged(radiusd, u)
    assert radiusd.round2(u.login, newer, r1.state, csid=csid).code == ACCEPT

    for old in (older, oldest):
        if old == newer:
            continue	# one chance in a million: the same digits
        r1, csid = challenged(radiusd, u)
        r2 = radiusd.round2(u.login, old, r1.state, csid=csid)
        assert r2.code != ACCEPT, r2.raw
        assert r2.message == MSG_CODE_WRONG


def _parallel(n, fn):
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return fn(i)
    with ThreadPoolExecutor(max_workers=n) as ex:
        return list(ex.map(run, range(n)))


def _few_at_a_time(n, fn, width=4):
    """fn(0..n-1), `width` at a time: set-up requests that need not race
    (20 password checks at once take longer than radclient waits under the
    sanitizers, three test files at a time)."""
    with ThreadPoolExecutor(max_workers=width) as ex:
        return list(ex.map(fn, range(n)))


def _round2_all(radiusd, mode, u, codes, states, csid):
    """The round 2s of `states` with `codes` (one of each per request), all at
    once: radclient processes started together, or one radclient with all of
    them in flight.  csid: one address for all, or a list (one per State)."""
    n = len(states)
    csids = csid if isinstance(csid, list) else [csid] * n
    if mode == "processes":
        return _parallel(n, lambda i: radiusd.round2(u.login, codes[i], states[i], csid=csids[i]))
    replies, _ = radiusd.burst([radiusd.round2_attrs(u.login, codes[i], states[i], csids[i]) for i in range(n)])
    return replies


@pytest.mark.parametrize("mode", ["processes", "burst"])
def test_parallel_same_code_one_state(world, radiusd, figures, mode):
    """20 round 2s at once with one code on one State: exactly one Accept."""
    u = world.user(enroll=True)
    H.wait_step_margin(8)
    code = u.code()
    r1, csid = challenged(radiusd, u)
    replies = _round2_all(radiusd, mode, u, [code] * 20, [r1.state] * 20, csid)
    tally = H.tally(replies)
    figures.append("20 round 2s at once (%s), one code, one State: %s" % (mode, tally))
    assert len(replies) == 20 and all(r.code is not None for r in replies), tally
    assert sum(r.code == ACCEPT for r in replies) == 1, tally


@pytest.mark.parametrize("mode", ["processes", "burst"])
def test_parallel_two_steps_one_state(world, radiusd, figures, mode):
    """20 round 2s at once on one State, half with the code of this time step
    and half with the next one's (both inside the window): exactly one Accept,
    whichever of the State and the replay guard stops the others."""
    u = world.user(enroll=True)
    H.wait_step_margin(8)
    now = time.time()
    this, nxt = u.code(now), u.code(now, +1)
    if this == nxt:
        pytest.skip("the two steps have the same digits (one chance in a million)")
    r1, csid = challenged(radiusd, u)
    replies = _round2_all(radiusd, mode, u, [this, nxt] * 10, [r1.state] * 20, csid)
    tally = H.tally(replies)
    figures.append("20 round 2s at once (%s), two steps' codes, one State: %s" % (mode, tally))
    assert len(replies) == 20 and all(r.code is not None for r in replies), tally
    assert sum(r.code == ACCEPT for r in replies) == 1, tally


@pytest.mark.parametrize("mode", ["processes", "burst"])
def test_parallel_same_code_many_states(world, radiusd, figures, mode):
    """20 challenges of one user, then the same code on all 20 at once: exactly one Accept.
    Each from its own address: from one address, the lockout lets at most
    lockout.failures checks of that (name, address) run at once."""
    u = world.user(enroll=True)
    H.wait_step_margin(12)
    csid = [H.new_address() for _ in range(20)]
    firsts = _few_at_a_time(20, lambda i: radiusd.round1(u.login, u.password, csid=csid[i]))
    assert all(r.code == CHALLENGE for r in firsts), H.tally(firsts)
    states = [r.state for r in firsts]
    assert len(set(states)) == 20
    code = u.code()
    replies = _round2_all(radiusd, mode, u, [code] * len(states), states, csid)
    tally = H.tally(replies)
    figures.append("20 round 2s at once (%s), one code, 20 States of one user: %s" % (mode, tally))
    assert len(replies) == 20 and all(r.code is not None for r in replies), tally
    assert sum(r.code == ACCEPT for r in replies) == 1, tally


def test_round2_is_one_transaction(world, mariadb, radiusd):
    """Round 2 is one transaction (doc/design.md, "Round 2"), driven with real
    MariaDB errors from a trigger on the last write of an accepted code, the
    audit row of the address it trusts.  An error there rolls back everything
    before it (the State's attempt, the code's time step, the State spent, the
    trusted address) and answers "service unavailable", not the Accept the
    steps had reached; the same code on the same State then still works.  A
    deadlock reported there runs round 2 again from the start: one Accept, one
    attempt of the State, one audit row."""
    u = world.user(enroll=True)
    uid = mariadb.scalar("SELECT id FROM users WHERE login = '%s'" % u.login)

    def facts():
        return (mariadb.rows("SELECT attempts_left, spent FROM challenges WHERE user_id = %s" % uid),
                mariadb.scalar("SELECT last_counter FROM totp_secrets WHERE user_id = %s" % uid),
                mariadb.scalar("SELECT COUNT(*) FROM trusted_addresses WHERE user_id = %s" % uid),
                mariadb.scalar("SELECT COUNT(*) FROM audit_log WHERE user_id = %s AND event = 'address_trusted'" % uid))

    def trigger(signal):
        mariadb.sql("DROP TRIGGER IF EXISTS test_round2_audit;\nDELIMITER //\n"
                    "CREATE TRIGGER test_round2_audit BEFORE INSERT ON audit_log FOR EACH ROW"
                    " IF NEW.user_id = %s AND NEW.event = 'address_trusted'"
                    "    AND (SELECT n FROM test_round2_fired) = 0 THEN"
                    "  UPDATE test_round2_fired SET n = %s; %s;"
                    " END IF //\nDELIMITER ;" % (uid, "1" if "1213" in signal else "0", signal), database=mariadb.db)

    H.wait_step_margin(10)
    r1, csid = challenged(radiusd, u)
    code = u.code()
    before = facts()
    assert len(before[0]) == 1 and before[0][0][1] == "0", before	# one challenge, not spent
    attempts = int(before[0][0][0])
    # a counter the statement's rollback does not undo (MyISAM): how often the deadlock was reported
    mariadb.sql("CREATE TABLE test_round2_fired (n INT) ENGINE=MyISAM; INSERT INTO test_round2_fired VALUES (0)",
                database=mariadb.db)
    try:
        trigger("SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'")
        r = radiusd.round2(u.login, code, r1.state, csid=csid)
        assert r.code == REJECT and r.message == H.MSG_SERVICE, r.raw
        assert facts() == before, (facts(), before)

        trigger("SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'deadlock made by the test'")
        r = radiusd.round2(u.login, code, r1.state, csid=csid)
        assert r.code == ACCEPT, r.raw
        assert mariadb.scalar("SELECT n FROM test_round2_fired") == "1"	# the first run met the deadlock
        after = facts()
        assert after[0] == [[str(attempts - 1), "1"]], after	# one attempt taken, not two; spent
        assert int(after[1]) > int(before[1]), after			# the code's time step recorded
        assert int(after[2]) == int(before[2]) + 1 and int(after[3]) == int(before[3]) + 1, after
    finally:
        mariadb.sql("DROP TRIGGER IF EXISTS test_round2_audit; DROP TABLE IF EXISTS test_round2_fired",
                    database=mariadb.db)
    assert "refused by the test" in radiusd.log_text()	# the failure is logged with the database's words


def test_forged_and_truncated_state(world, admin, radiusd):
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    r1, csid = challenged(radiusd, u)
    real = r1.state
    forged = [
        b"V1" + os.urandom(16).hex().encode(),		# well-formed, unknown
        real[:-1],					# truncated
        real[:18],
        real + b"0",					# one byte more
        real[:-1] + (b"0" if real[-1:] != b"0" else b"1"),	# one digit changed
        real.upper(),					# not our form
        os.urandom(16),					# binary
        b"\x00" * 34,
        b"V1",
    ]
    for state in forged:
        r = radiusd.round2(u.login, u.code(), state, csid=csid)
        assert r.code == REJECT, (state, r.raw)
        if re.fullmatch(rb"V1[0-9a-f]{32}", state):	# the module's form, not issued by it
            assert r.message == MSG_STATE_INVALID, (state, r.raw)
        else:	# someone else's State: a round 1, where the code is a wrong password
            assert r.message in (MSG_LOGIN_FAILED, MSG_LOCKED), (state, r.raw)
    assert radiusd.running
    admin("lockout", "clear", u.login)	# those password failures may have locked the name here
    # none of that spent the real challenge's attempts
    assert radiusd.round2(u.login, u.code(), real, csid=csid).code == ACCEPT


def test_state_of_another_user(world, radiusd):
    a = world.user(enroll=True)
    b = world.user(enroll=True, company=a.company)
    H.wait_step_margin(5)
    ra, csid = challenged(radiusd, a)
    rb = radiusd.round2(b.login, b.code(), ra.state, csid=csid)	# b's own right code, on a's State
    assert rb.code == REJECT and rb.message == MSG_STATE_INVALID, rb.raw
    rb = radiusd.round2(b.login, a.code(), ra.state, csid=csid)
    assert rb.code == REJECT, rb.raw


def test_state_from_another_nas(world, radiusd):
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    r1, csid = challenged(radiusd, u, src_ip="127.0.0.1")
    r2 = radiusd.round2(u.login, u.code(), r1.state, csid=csid, src_ip="127.0.0.2")
    assert r2.code == REJECT and r2.message == MSG_STATE_INVALID, r2.raw


def test_state_from_another_address(world, radiusd):
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    r1, csid = challenged(radiusd, u)
    r2 = radiusd.round2(u.login, u.code(), r1.state, csid=H.new_address())
    assert r2.code == REJECT and r2.message == MSG_STATE_INVALID, r2.raw


def test_expired_state(world, new_radiusd):
    rad = new_radiusd({("challenge", "lifetime"): 10})
    u = world.user(enroll=True)
    r1, csid = challenged(rad, u)
    time.sleep(11)
    r2 = rad.round2(u.login, u.code(), r1.state, csid=csid)
    assert r2.code == REJECT and r2.message == MSG_STATE_INVALID, r2.raw


def test_round2_on_another_server(world, radiusd, new_radiusd):
    """Two radiusd sharing the database: round 1 on one, round 2 on the other."""
    other = new_radiusd()
    assert other.port != radiusd.port
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    r1, csid = challenged(radiusd, u)
    r2 = other.round2(u.login, u.code(), r1.state, csid=csid)
    assert r2.code == ACCEPT, r2.raw


def test_radiusd_restarted_between_rounds(world, new_radiusd):
    rad = new_radiusd()
    u = world.user(enroll=True)
    r1, csid = challenged(rad, u)
    old_pid = rad.proc.pid
    rad.restart()
    assert rad.proc.pid != old_pid
    H.wait_step_margin(3)
    r2 = rad.round2(u.login, u.code(), r1.state, csid=csid)
    assert r2.code == ACCEPT, r2.raw


def test_lockout_across_two_nas_and_release(world, admin, new_radiusd):
    """lockout.failures = 4 from one device (one Calling-Station-Id) spread
    over NAS 127.0.0.1 and 127.0.0.2 (wrong passwords and wrong codes): the
    pair (name, address) locks, and even the right password and code from
    that device are refused through either NAS, while the same user from
    another address is not (the name alone is far from
    lockout.name_failures); after lockout.duration (3 s) the device gets in."""
    rad = new_radiusd({("lockout", "failures"): 4, ("lockout", "duration"): 3, ("lockout", "max_duration"): 3})
    u = world.user(enroll=True)
    bad = H.wrong_code(u.secret)
    device = H.new_address()

    r = rad.round1(u.login, "wrong", csid=device, src_ip="127.0.0.1")
    assert (r.code, r.message) == (REJECT, MSG_LOGIN_FAILED)
    r = rad.round1(u.login, "wrong", csid=device, src_ip="127.0.0.2")
    assert (r.code, r.message) == (REJECT, MSG_LOGIN_FAILED)
    r1, csid = challenged(rad, u, csid=device, src_ip="127.0.0.1")
    r = rad.round2(u.login, bad, r1.state, csid=csid, src_ip="127.0.0.1")
    assert (r.code, r.message) == (CHALLENGE, MSG_CODE_WRONG), r.raw
    r1, csid = challenged(rad, u, csid=device, src_ip="127.0.0.2")
    r = rad.round2(u.login, bad, r1.state, csid=csid, src_ip="127.0.0.2")
    assert (r.code, r.message) == (REJECT, MSG_LOCKED), r.raw
    locked_at = time.time()

    j = admin.json("lockout", "show", u.login)
    assert j["locked"] is True and j["name"]["locked"] is False and j["name"]["failures"] == 4, j
    assert [(a["address"], a["locked"]) for a in j["addresses"]] == [(device, True)], j
    for src in ("127.0.0.1", "127.0.0.2"):
        r = rad.round1(u.login, u.password, csid=device, src_ip=src)
        assert (r.code, r.message) == (REJECT, MSG_LOCKED), r.raw
    # another address of the same user is not locked out by this device's failures
    challenged(rad, u, src_ip="127.0.0.1")

    time.sleep(max(0.0, locked_at + 4.2 - time.time()))
    H.wait_step_margin(3)
    r1, csid = challenged(rad, u, csid=device, src_ip="127.0.0.2")
    r2 = rad.round2(u.login, u.code(), r1.state, csid=csid, src_ip="127.0.0.2")
    assert r2.code == ACCEPT, r2.raw
    j = admin.json("lockout", "show", u.login)
    assert j["locked"] is False and j["failures"] == 0 and j["addresses"] == [], j


def test_recovery_code_once(world, admin, radiusd):
    u = world.user(enroll=True)
    codes = world.recovery_codes(u)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[0-9a-z]{5}-[0-9a-z]{5}", c) for c in codes), codes

    r1, csid = challenged(radiusd, u)
    r2 = radiusd.round2(u.login, codes[0], r1.state, csid=csid)
    assert r2.code == ACCEPT, r2.raw
    assert admin.json("user", "show", u.login).get("recovery_codes_left", 9) == 9

    r1, csid = challenged(radiusd, u)
    r2 = radiusd.round2(u.login, codes[0], r1.state, csid=csid)
    assert r2.code != ACCEPT, r2.raw
    assert (r2.code, r2.message) == (CHALLENGE, MSG_CODE_WRONG)
    r3 = radiusd.round2(u.login, codes[1].upper(), r2.state, csid=csid)	# typed in capitals: same code
    assert r3.code == ACCEPT, r3.raw

    events = [e["event"] for e in admin.json("audit", "--user", u.login)["events"]]
    assert events.count("recovery_code_used") == 2, events


def test_single_pass(world, new_radiusd):
    rad = new_radiusd({(None, "single_pass"): "yes"})
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    r = rad.round1(u.login, u.password + H.wrong_code(u.secret), csid=H.new_address())
    assert r.code == REJECT, r.raw
    assert r.message == MSG_LOGIN_FAILED
    r = rad.round1(u.login, u.password, csid=H.new_address())
    assert r.code == REJECT, r.raw
    r = rad.round1(u.login, "wrong" + u.code(), csid=H.new_address())
    assert r.code == REJECT, r.raw
    r = rad.round1(u.login, u.password + u.code(), csid=H.new_address())
    assert r.code == ACCEPT, r.raw
    # an unenrolled user of a low-level company: the password alone
    v = world.user(company=u.company)
    assert rad.round1(v.login, v.password, csid=H.new_address()).code == ACCEPT


def test_trusted_address_needs_message_authenticator(world, admin, radiusd):
    """A proven address skips the code, but only for requests that carry a
    Message-Authenticator (BlastRADIUS); revoking the trust asks again."""
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    r1, csid = challenged(radiusd, u)
    assert radiusd.round2(u.login, u.code(), r1.state, csid=csid).code == ACCEPT

    r = radiusd.round1(u.login, u.password, csid=csid, ma=True)
    assert r.code == ACCEPT, r.raw
    r = radiusd.round1(u.login, u.password, csid=csid, ma=False)
    assert r.code == CHALLENGE and r.message == MSG_ENTER_CODE, r.raw
    r = radiusd.round1(u.login, "wrong", csid=csid, ma=True)
    assert r.code == REJECT, r.raw

    admin("trusted", "revoke", u.login, csid)
    assert admin.json("trusted", "list", u.login)["addresses"] == []
    r = radiusd.round1(u.login, u.password, csid=csid, ma=True)
    assert r.code == CHALLENGE, r.raw


def test_enroll_confirm_with_address_trusts_it(world, admin, radiusd):
    csid = "198.51.100.%d" % (os.getpid() % 200 + 20)
    u = world.user(enroll=True, address=csid)
    addrs = admin.json("trusted", "list", u.login)["addresses"]
    assert [(a["address"], a["how"]) for a in addrs] == [(csid, "enrollment")], addrs
    assert radiusd.round1(u.login, u.password, csid=csid).code == ACCEPT
    assert radiusd.round1(u.login, u.password, csid="::ffff:" + csid).code == ACCEPT	# normalised
    assert radiusd.round1(u.login, u.password, csid=H.new_address()).code == CHALLENGE
    admin("enroll", "reset", u.login)
    assert admin.json("trusted", "list", u.login)["addresses"] == []
    r = radiusd.round1(u.login, u.password, csid=csid)
    assert r.code == ACCEPT and r.get("VRMS2FA-Enrolled") == "0", r.raw


def test_no_secret_in_debug_log(world, new_radiusd):
    """A radiusd -X (log { suppress_secrets = yes }) that ran full logins, with
    a code and with a recovery code: no password, secret or code in its log."""
    rad = new_radiusd(debug=True)
    u = world.user(enroll=True)
    codes = world.recovery_codes(u)
    H.wait_step_margin(5)
    used = []

    r1, csid = challenged(rad, u)
    bad = H.wrong_code(u.secret)
    used.append(bad)
    r2 = rad.round2(u.login, bad, r1.state, csid=csid)
    assert r2.code == CHALLENGE
    code = u.code()
    used.append(code)
    assert rad.round2(u.login, code, r2.state, csid=csid).code == ACCEPT

    r1, csid = challenged(rad, u)
    used.append(codes[0])
    assert rad.round2(u.login, codes[0], r1.state, csid=csid).code == ACCEPT
    assert rad.round1(u.login, "Not" + u.password, csid=H.new_address()).code == REJECT
    rad.stop()

    log = rad.log_text()
    assert "Received Access-Request" in log and u.login in log, "not a debug log?"
    needles = {"password": u.password, "wrong password": "Not" + u.password, "secret": u.secret,
               "secret (lower case)": u.secret.lower()}
    needles.update({"code %s" % c: c for c in used})
    for c in codes:
        needles["recovery code %s" % c] = c
        needles["recovery code %s (no hyphen)" % c] = c.replace("-", "")
    leaks = [what for what, s in needles.items() if s and s in log and
             (not s.isdigit() or re.search(r"(?<![0-9A-Za-z])%s(?![0-9A-Za-z])" % s, log))]
    assert not leaks, "found in %s: %s" % (rad.logfile, leaks)


def _high_level_company(world, admin, grace_days=None):
    co = world.company(grace_days=grace_days)
    boss = world.user(company=co, group="administrator")
    world.policy(co, "high", ["company_user", "owner"], boss.login)
    return co


def _secret_from_uri(uri):
    m = re.search(r"[?&]secret=([A-Z2-7]+)", uri)
    assert m, uri
    return m.group(1)


ALLOW_BACKEND = """
	if (&Packet-Src-IP-Address == 127.0.0.2) {
		update control {
			&VRMS2FA-Allow-Enroll-Request := 1
		}
	}
"""


def _enroll_over_radius(radiusd, admin, u, r1, csid, src_ip=None):
    """Round 2 of an enrollment challenge, with the code of the key it gave."""
    assert r1.code == CHALLENGE, r1.raw
    uri = r1.get("VRMS2FA-OTPAuth-URI")
    assert uri and uri.startswith("otpauth://totp/"), r1.raw
    secret = _secret_from_uri(uri)
    grouped = re.sub(r"\s", "", r1.message or "")
    assert secret in grouped.upper(), r1.message		# the key is in the Reply-Message too (VPN users)
    assert admin.json("user", "show", u.login)["totp_status"] == "pending"
    H.wait_step_margin(3)
    r2 = radiusd.round2(u.login, H.totp(secret), r1.state, csid=csid, src_ip=src_ip)
    assert r2.code == ACCEPT, r2.raw
    assert r2.get("VRMS2FA-Enrolled") == "1"
    u.secret = secret
    j = admin.json("user", "show", u.login)
    assert j["enrolled"] is True and j["totp_status"] == "active" and j["grace_deadline"] is None, j
    addrs = admin.json("trusted", "list", u.login)["addresses"]
    assert [(a["address"], a["how"]) for a in addrs] == [(csid, "enrollment")], addrs
    return secret


def test_mandatory_within_grace_gets_reminder(world, admin, radiusd):
    co = _high_level_company(world, admin, grace_days=5)
    u = world.user(company=co, group="company_user")
    j = admin.json("user", "show", u.login)
    assert j["grace_deadline"] and j["grace_deadline"] > time.time() + 4 * 86400, j
    r = radiusd.round1(u.login, u.password, csid=H.new_address())
    assert r.code == ACCEPT, r.raw
    assert "Protect your account" in (r.message or "") and "5 days left" in r.message, r.message
    assert 4 * 86400 < int(r.get("VRMS2FA-Grace-Seconds")) <= 5 * 86400, r.raw
    # a group the level does not apply to: no deadline
    s = world.user(company=co, group="supplier")
    assert admin.json("user", "show", s.login)["grace_deadline"] is None


def test_grace_passed_enrollment_over_radius(world, admin, mariadb, radiusd):
    """Mandatory and past the deadline: with email confirmation off, a new
    address gets no key (nothing but the password would prove it); from a
    trusted address the only way in is enrollment by challenge, and a valid
    code activates 2FA and trusts the address."""
    co = _high_level_company(world, admin)
    u = world.user(company=co, group="owner")
    mariadb.sql("UPDATE users SET grace_deadline = %d WHERE login = '%s'" % (int(time.time()) - 1, u.login),
                database=mariadb.db)
    r = radiusd.round1(u.login, u.password, csid=H.new_address())
    assert r.code == REJECT and r.get("VRMS2FA-OTPAuth-URI") is None, r.raw
    csid = H.new_address()
    H.trust_row(mariadb, u.login, csid)
    r1 = radiusd.round1(u.login, u.password, csid=csid)
    assert r1.code == CHALLENGE, r1.raw
    # a wrong code does not activate anything
    r_bad = radiusd.round2(u.login, "000000", r1.state, csid=csid)
    assert r_bad.code in (CHALLENGE, REJECT) and r_bad.code != ACCEPT
    assert admin.json("user", "show", u.login)["enrolled"] is False
    r1 = radiusd.round1(u.login, u.password, csid=csid)
    _enroll_over_radius(radiusd, admin, u, r1, csid)
    # from the enrollment address: trusted; from another: the code is asked
    assert radiusd.round1(u.login, u.password, csid=csid).code == ACCEPT
    r, csid2 = challenged(radiusd, u)
    assert radiusd.round2(u.login, u.code(offset=1), r.state, csid=csid2).code == ACCEPT


def test_enrollment_requested_by_backend(world, admin, mariadb, new_radiusd):
    """VRMS2FA-Enroll-Request = 1 from the backend (the "Protect your account"
    pop-up; the client the operator allows in unlang), from a trusted address,
    gets the otpauth URI, for a low-level user too."""
    rad = new_radiusd(authorize_unlang=ALLOW_BACKEND)
    u = world.user()
    csid = H.new_address()
    H.trust_row(mariadb, u.login, csid)
    r1 = rad.round1(u.login, u.password, csid=csid, src_ip="127.0.0.2", extra=[("VRMS2FA-Enroll-Request", 1)])
    _enroll_over_radius(rad, admin, u, r1, csid, src_ip="127.0.0.2")


# --------------------------------------------------------------------------
# Users without 2FA from a new address: email confirmation (doc/design.md, "Email confirmation"),
# with the stub hook of the harness (it keeps each email's facts in an outbox)
# --------------------------------------------------------------------------

EMAIL_ON = {("email", "enabled"): "yes"}


def _masked(email):
    local, _, domain = email.partition("@")
    return "%s\u2026@%s" % (local[0], domain)


def _email_challenge(rad, outbox, u, csid, emails_before=0):
    r1 = rad.round1(u.login, u.password, csid=csid)
    assert r1.code == CHALLENGE, r1.raw
    assert r1.message == H.MESSAGES["MSG_EMAIL_SENT"] % _masked(u.email), r1.message
    mails = outbox.emails(u.login)
    assert len(mails) == emails_before + 1, mails
    return r1, mails[-1]


def test_email_confirmation_by_code(world, admin, radiusd_pool, outbox):
    rad = radiusd_pool.get(EMAIL_ON)
    u = world.user()
    csid = H.new_address()
    r1, mail = _email_challenge(rad, outbox, u, csid)
    assert mail["VRMS2FA_EMAIL"] == u.email and mail["VRMS2FA_COMPANY"] == u.company, mail
    assert mail["VRMS2FA_ADDRESS"] == csid and mail["VRMS2FA_NAS"] == "127.0.0.1", mail
    assert re.fullmatch(r"[0-9]{6}", mail["VRMS2FA_CODE"]), mail
    assert mail["VRMS2FA_TOKEN"] in mail["VRMS2FA_LINK"], mail
    assert int(mail["VRMS2FA_EXPIRES"]) > time.time(), mail

    # a retry within the code's lifetime reuses the pending confirmation: no second email
    r1b = rad.round1(u.login, u.password, csid=csid)
    assert r1b.code == CHALLENGE and len(outbox.emails(u.login)) == 1

    code = mail["VRMS2FA_CODE"]
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    r2 = rad.round2(u.login, wrong, r1b.state, csid=csid)
    assert (r2.code, r2.message) == (CHALLENGE, MSG_CODE_WRONG), r2.raw
    r3 = rad.round2(u.login, code, r2.state, csid=csid)
    assert r3.code == ACCEPT, r3.raw
    assert "Protect your account" in (r3.message or "") and r3.get("VRMS2FA-Enrolled") == "0", r3.raw

    addrs = admin.json("trusted", "list", u.login)["addresses"]
    assert [(a["address"], a["how"]) for a in addrs] == [(csid, "email")], addrs
    r = rad.round1(u.login, u.password, csid=csid)
    assert r.code == ACCEPT and len(outbox.emails(u.login)) == 1, r.raw
    # the emailed code is single-use
    r1, _ = _email_challenge(rad, outbox, u, H.new_address(), emails_before=1)
    assert rad.round2(u.login, code, r1.state, csid=csid).code == REJECT


def test_email_confirmation_by_link(world, admin, radiusd_pool, outbox):
    rad = radiusd_pool.get(EMAIL_ON)
    u = world.user()
    csid = H.new_address()
    _, mail = _email_challenge(rad, outbox, u, csid)
    assert admin("email", "confirm", "0" * 32, check=False).returncode == 1
    j = admin.json("email", "confirm", mail["VRMS2FA_TOKEN"])
    assert j["login"] == u.login and j["address"] == csid and j["confirmed"] is True, j
    r = rad.round1(u.login, u.password, csid=csid)
    assert r.code == ACCEPT, r.raw
    assert admin("email", "confirm", mail["VRMS2FA_TOKEN"], check=False).returncode == 1	# used up


def test_email_rate_limit(world, radiusd_pool, outbox):
    """email.max_per_hour = 5 (default): the sixth new address in the hour is refused."""
    rad = radiusd_pool.get(EMAIL_ON)
    u = world.user()
    for i in range(5):
        _email_challenge(rad, outbox, u, H.new_address(), emails_before=i)
    r = rad.round1(u.login, u.password, csid=H.new_address())
    assert (r.code, r.message) == (REJECT, H.MESSAGES["MSG_EMAIL_LIMIT"]), r.raw
    assert len(outbox.emails(u.login)) == 5


def test_email_hook_fails(world, admin, new_radiusd, outbox):
    rad = new_radiusd({("email", "enabled"): "yes", ("email", "hook"): outbox.hook("fail")})
    u = world.user()
    csid = H.new_address()
    r = rad.round1(u.login, u.password, csid=csid)
    assert (r.code, r.message) == (REJECT, H.MESSAGES["MSG_EMAIL_FAILED"]), r.raw
    assert len(outbox.emails(u.login)) == 1		# it was tried
    assert admin.json("trusted", "list", u.login)["addresses"] == []
    assert "email hook failed" in rad.log_text()


def test_slow_email_hook_does_not_stall_other_logins(world, new_radiusd, outbox):
    """A hook that hangs is cut at hook_timeout; meanwhile other logins are answered."""
    rad = new_radiusd({("email", "enabled"): "yes", ("email", "hook"): outbox.hook("slow"),
                       ("email", "hook_timeout"): 2})
    slow = world.user()
    other = world.user(company=slow.company, enroll=True)	# asked for a code: no email, no hook
    result = {}

    def slow_login():
        result["r"] = rad.round1(slow.login, slow.password, csid=H.new_address(), timeout=10)
    t = threading.Thread(target=slow_login)
    t.start()
    time.sleep(0.5)
    quick = [rad.round1(other.login, other.password, csid=H.new_address()) for _ in range(3)]
    t.join(30)
    assert [(q.code, q.message) for q in quick] == [(CHALLENGE, MSG_ENTER_CODE)] * 3, quick
    assert max(q.elapsed for q in quick) < 2.0, [q.elapsed for q in quick]
    assert "r" in result, "the slow login never returned"
    r = result["r"]
    assert (r.code, r.message) == (REJECT, H.MESSAGES["MSG_EMAIL_FAILED"]), r.raw
    assert 1.5 < r.elapsed < 8, r.elapsed
    time.sleep(0.5)
    stub = str(outbox.stub)
    left = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    if stub.encode() in f.read():
                        left.append(pid)
            except OSError:
                pass
    assert not left, "the hung hook was not killed: pids %s" % left


@pytest.mark.parametrize("csid", [None, "", "not an address", "192.0.2.300", "fe80::1%eth0", "12:34",
                                  "192.0.2.1\x00", "a" * 120, "02-00-00-00-00"],
                         ids=["missing", "empty", "words", "bad-ipv4", "zone-id", "short", "nul", "long", "short-mac"])
def test_malformed_address_is_never_trusted(world, admin, radiusd, csid):
    """A missing or unparsable address: the code still lets the user in, but
    nothing is trusted, and the next login is asked for a code again."""
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    r1 = radiusd.round1(u.login, u.password, csid=csid)
    assert r1.code == CHALLENGE and r1.message == MSG_ENTER_CODE, r1.raw
    r2 = radiusd.round2(u.login, u.code(), r1.state, csid=csid)
    assert r2.code == ACCEPT, r2.raw
    assert admin.json("trusted", "list", u.login)["addresses"] == []
    r3 = radiusd.round1(u.login, u.password, csid=csid)
    assert r3.code == CHALLENGE, r3.raw


def test_address_forms_are_normalised(world, admin, radiusd):
    """The same host in other spellings is the same trusted address (MAC
    separators and case, IPv6 case and zeros, IPv4-mapped IPv6)."""
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    r1 = radiusd.round1(u.login, u.password, csid="02-AB-cd-00-00-01")
    assert radiusd.round2(u.login, u.code(), r1.state, csid="02-AB-cd-00-00-01").code == ACCEPT
    addrs = admin.json("trusted", "list", u.login)["addresses"]
    assert [(a["address"], a["kind"]) for a in addrs] == [("02:ab:cd:00:00:01", "mac")], addrs
    for form in ("02:ab:cd:00:00:01", "02ab.cd00.0001", "02ABCD000001", " 02-ab-cd-00-00-01 "):
        r = radiusd.round1(u.login, u.password, csid=form)
        assert r.code == ACCEPT, (form, r.raw)
    assert radiusd.round1(u.login, u.password, csid="02:ab:cd:00:00:02").code == CHALLENGE


def test_disabled_between_rounds(world, admin, radiusd):
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    r1, csid = challenged(radiusd, u)
    admin("user", "set", u.login, "--disabled", "yes")
    r2 = radiusd.round2(u.login, u.code(), r1.state, csid=csid)
    assert r2.code == REJECT, r2.raw
    assert admin.json("trusted", "list", u.login)["addresses"] == []


def test_trust_expires(world, admin, mariadb, radiusd, radiusd_pool):
    """A trusted address stops being trusted when it expires (trust.lifetime
    days after it was proven; 0 = never)."""
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    r1, csid = challenged(radiusd, u)
    assert radiusd.round2(u.login, u.code(), r1.state, csid=csid).code == ACCEPT
    a = admin.json("trusted", "list", u.login)["addresses"][0]
    assert 29 * 86400 < a["expires_at"] - time.time() <= 30 * 86400, a	# trust.lifetime = 30 (days)
    assert radiusd.round1(u.login, u.password, csid=csid).code == ACCEPT
    mariadb.sql("UPDATE trusted_addresses SET expires_at = %d WHERE address = '%s'" % (int(time.time()) - 1, csid),
                database=mariadb.db)
    r = radiusd.round1(u.login, u.password, csid=csid)
    assert (r.code, r.message) == (CHALLENGE, MSG_ENTER_CODE), r.raw

    forever = radiusd_pool.get({("trust", "lifetime"): 0})
    r2 = forever.round2(u.login, u.code(offset=1), r.state, csid=csid)
    assert r2.code == ACCEPT, r2.raw
    a = admin.json("trusted", "list", u.login)["addresses"][0]
    assert a["expires_at"] in (None, 0), a


def test_parallel_enrollment_code(world, admin, mariadb, new_radiusd, figures):
    """20 round 2s at once on one enrollment challenge: one Accept, one activation."""
    radiusd = new_radiusd(authorize_unlang=ALLOW_BACKEND)
    u = world.user()
    csid = H.new_address()
    H.trust_row(mariadb, u.login, csid)
    r1 = radiusd.round1(u.login, u.password, csid=csid, src_ip="127.0.0.2", extra=[("VRMS2FA-Enroll-Request", 1)])
    assert r1.code == CHALLENGE, r1.raw
    secret = _secret_from_uri(r1.get("VRMS2FA-OTPAuth-URI"))
    H.wait_step_margin(5)
    replies, _ = radiusd.burst([radiusd.round2_attrs(u.login, H.totp(secret), r1.state, csid)] * 20,
                               src_ip="127.0.0.2")
    tally = H.tally(replies)
    figures.append("20 round 2s at once (burst), one enrollment code, one State: %s" % tally)
    assert len(replies) == 20 and sum(r.code == ACCEPT for r in replies) == 1, tally
    assert admin.json("user", "show", u.login)["totp_status"] == "active"


def test_parallel_emailed_code(world, radiusd_pool, outbox, figures):
    """20 round 2s at once with the emailed code: one Accept."""
    rad = radiusd_pool.get(EMAIL_ON)
    u = world.user()
    csid = H.new_address()
    r1, mail = _email_challenge(rad, outbox, u, csid)
    replies, _ = rad.burst([rad.round2_attrs(u.login, mail["VRMS2FA_CODE"], r1.state, csid)] * 20)
    tally = H.tally(replies)
    figures.append("20 round 2s at once (burst), one emailed code, one State: %s" % tally)
    assert len(replies) == 20 and sum(r.code == ACCEPT for r in replies) == 1, tally


def test_nothing_secret_in_database(world, admin, mariadb, radiusd_pool, outbox):
    """A dump of the database holds no TOTP secret (nor its raw bytes), no
    recovery code, no password, no code that was used, no emailed code or link
    token: TOTP secrets are sealed, the rest is hashed."""
    import base64
    rad = radiusd_pool.get(EMAIL_ON)
    u = world.user(enroll=True)
    codes = world.recovery_codes(u)
    H.wait_step_margin(5)
    r1, csid = challenged(rad, u)
    used = [u.code(), codes[0]]
    assert rad.round2(u.login, used[0], r1.state, csid=csid).code == ACCEPT
    r1, csid = challenged(rad, u)
    assert rad.round2(u.login, used[1], r1.state, csid=csid).code == ACCEPT
    v = world.user()
    _, mail = _email_challenge(rad, outbox, v, H.new_address())

    dump = subprocess.run(["mariadb-dump", "--no-defaults", "-S", mariadb.socket, "-uroot", "--hex-blob",
                           "--skip-extended-insert", mariadb.db], capture_output=True, text=True, check=True).stdout
    assert u.login in dump and "INSERT INTO `totp_secrets`" in dump
    raw = base64.b32decode(u.secret + "=" * (-len(u.secret) % 8))
    needles = {"secret (base32)": u.secret, "secret (base32, lower)": u.secret.lower(),
               "secret (raw, hex)": raw.hex().upper(), "password": u.password, "password of v": v.password,
               "password (its unique part)": re.search(r"[0-9a-f]{12}", u.password).group(0),
               "emailed code": mail["VRMS2FA_CODE"], "link token": mail["VRMS2FA_TOKEN"],
               "link token (hex of text)": mail["VRMS2FA_TOKEN"].encode().hex().upper()}
    for c in codes:
        needles["recovery code " + c] = c
        needles["recovery code (no hyphen) " + c] = c.replace("-", "")
    found = [what for what, s in needles.items()
             if (re.search(r"(?<![0-9A-Za-z])%s(?![0-9A-Za-z])" % re.escape(s), dump) if s.isdigit() else s in dump)]
    assert not found, found
