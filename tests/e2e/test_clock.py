"""
End-to-end test of issue 21, item 4: servers whose clocks disagree give the
same answer for the same row.  From the login lookup on, a login runs on the
database's clock (doc/design.md, "The State"), so a radiusd whose own clock
is five minutes ahead (libfaketime) still accepts the State another radiusd
made a moment ago, and the code of the current time step.
"""
import os
import subprocess
import time

import pytest

import harness as H
from harness import ACCEPT, CHALLENGE, MSG_ENTER_CODE

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
AHEAD = 300	# seconds


def ahead_env(shim):
    # radiusd opens its modules with RTLD_DEEPBIND, which would bind the
    # module's time() to libc's own: the sanitizers' shim drops that flag so
    # that the preloaded libfaketime is the module's clock too.  The
    # monotonic clock stays true: radiusd's timers run on it.
    return {"LD_PRELOAD": "%s %s" % (shim, FAKETIME_LIB), "FAKETIME": "+%d" % AHEAD, "DONT_FAKE_MONOTONIC": "1"}


@pytest.fixture
def two_clocks(new_radiusd, workdir):
    if not os.path.exists(FAKETIME_LIB):
        pytest.fail("libfaketime is not installed (scripts/install-deps.sh installs it)", pytrace=False)
    shim = workdir / "nodeepbind.so"
    if not shim.exists():
        subprocess.run(["gcc", "-std=gnu11", "-O2", "-shared", "-fPIC", "-o", str(shim),
                        str(H.SRC / "tests" / "sanitizers" / "nodeepbind.c"), "-ldl"], check=True)
    env = ahead_env(shim)
    # the preload really moves the clock of a process started like radiusd
    out = subprocess.run(["date", "+%s"], capture_output=True, text=True, env=H.radiusd_env(env), check=True).stdout
    assert abs(int(out) - time.time() - AHEAD) < 30, out
    return new_radiusd(), new_radiusd(env=env)


def test_two_servers_five_minutes_apart_agree(world, admin, two_clocks):
    """Round 1 through one radiusd, round 2 through the other, both ways:
    the State is unexpired and the code is the current one for both; an
    address proven through one is trusted through the other."""
    on_time, ahead = two_clocks
    u = world.user(enroll=True)
    H.wait_step_margin(8)

    csid = H.new_address()
    r1 = on_time.round1(u.login, u.password, csid=csid)
    assert (r1.code, r1.message) == (CHALLENGE, MSG_ENTER_CODE), r1.raw
    r2 = ahead.round2(u.login, u.code(), r1.state, csid=csid)
    assert r2.code == ACCEPT, r2.raw
    assert ahead.round1(u.login, u.password, csid=csid).code == ACCEPT
    assert on_time.round1(u.login, u.password, csid=csid).code == ACCEPT

    csid2 = H.new_address()
    r1 = ahead.round1(u.login, u.password, csid=csid2)
    assert (r1.code, r1.message) == (CHALLENGE, MSG_ENTER_CODE), r1.raw
    r2 = on_time.round2(u.login, u.code(offset=1), r1.state, csid=csid2)
    assert r2.code == ACCEPT, r2.raw
    # what the trust rows say was written on the database's clock, not the fast one
    rows = {a["address"]: a for a in admin.json("trusted", "list", u.login)["addresses"]}
    assert abs(rows[csid]["proven_at"] - time.time()) < 60, rows[csid]
