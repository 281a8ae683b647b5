"""test_faults.py - faults under load (issue 8): MariaDB killed while logins
run, radiusd started while MariaDB is down, radiusd killed between the
rounds, and two radiusd sharing one MariaDB under concurrent load.  These
tests have a MariaDB of their own, since they kill it."""

import os
import signal
import threading
import time

import pytest

import harness as H
import radpkt as R
from conftest import World


class KillableMariaDB(H.MariaDB):
    """A private MariaDB that can be killed (SIGKILL, no shutdown) and
    brought back on the same data folder and port (MariaDB.launch)."""

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def relaunch(self):
        return self.launch(timeout=60)


@pytest.fixture(scope="module")
def faultdb(workdir, key_file):
    db = KillableMariaDB(workdir / "faultdb").start()
    conf = H.write_module_config(workdir / "faultdb" / "vrms2fa.conf", db, key_file,
                                 {("email", "enabled"): "no"})
    admin = H.Admin(conf)
    admin.migrate()
    yield db, admin
    db.stop()


@pytest.fixture
def fault_radiusd(workdir, faultdb, key_file, dictdir):
    db, _ = faultdb
    made = []

    def make(overrides=None, start=True):
        conf = {("email", "enabled"): "no"}
        conf.update(overrides or {})
        r = H.Radiusd(workdir / ("fault-radiusd-%d-%d" % (os.getpid(), len(made) + int(time.time() * 1000) % 100000)),
                      db, key_file, conf, dictdir=dictdir)
        made.append(r)
        return r.start() if start else r
    yield make
    for r in made:
        r.stop()


def _trusted_login(c, u, csid):
    return c.send([(R.USER_NAME, u.login), (R.USER_PASSWORD, u.password), (R.CALLING_STATION_ID, csid)])


class Load:
    """Threads doing trusted-address logins of enrolled users; every reply
    is recorded as (sent, answered, code)."""

    def __init__(self, rad, users, threads=4):
        self.rad, self.users, self.threads = rad, users, threads
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.log = []
        self.workers = []

    def _run(self, k):
        c = R.Client(self.rad.port, self.rad.secret, timeout=2)
        i = k
        try:
            while not self.stop_flag.is_set():
                u = self.users[i % len(self.users)]
                i += self.threads
                sent = time.monotonic()
                r = _trusted_login(c, u, "192.0.2.%d" % (100 + self.users.index(u)))
                with self.lock:
                    self.log.append((sent, time.monotonic(), r.code if r else None))
        finally:
            c.close()

    def __enter__(self):
        for k in range(self.threads):
            t = threading.Thread(target=self._run, args=(k,), daemon=True)
            t.start()
            self.workers.append(t)
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for t in self.workers:
            t.join(timeout=10)


def test_mariadb_killed_under_load(faultdb, fault_radiusd, figures):
    db, admin = faultdb
    world = World(admin)
    rad = fault_radiusd()
    users = [world.user(enroll=True) for _ in range(6)]
    for n, u in enumerate(users):
        admin("trusted", "list", u.login)
        assert rad.login(u.login, u.password, code=u.code, csid="192.0.2.%d" % (100 + n))[1].code == "Access-Accept"
    # state written before the kill: trust, replay counters, a lockout counter
    counters = dict(db.rows("SELECT user_id, last_counter FROM totp_secrets"))
    victim = world.user()
    for _ in range(2):
        rad.round1(victim.login, "wrong")
    failures_before = int(db.scalar("SELECT failures FROM login_failures WHERE login = '%s'" % victim.login))

    with Load(rad, users) as load:
        time.sleep(1.0)
        killed = time.monotonic()
        db.kill()
        time.sleep(4.0)
        restarted = time.monotonic()
        back = db.relaunch()
        time.sleep(6.0)
    log = load.log
    while_down = [e for e in log if e[0] > killed + 0.05 and e[1] < restarted]
    accepts_down = sum(1 for e in while_down if e[2] == R.ACCESS_ACCEPT)
    after = sorted(e for e in log if e[0] > back and e[2] == R.ACCESS_ACCEPT)
    recovery = (after[0][1] - back) if after else None
    figures.append("MariaDB killed under load: %d answers while down, %d Accepts among them; first Accept %.2f s "
                   "after MariaDB answered again; %d logins in all"
                   % (len(while_down), accepts_down, recovery if recovery is not None else -1, len(log)))
    assert len(while_down) > 0
    assert accepts_down == 0
    assert recovery is not None and recovery < 5.0
    assert rad.running
    assert "database" in rad.log_text().lower()
    # nothing written before the kill was lost
    assert dict(db.rows("SELECT user_id, last_counter FROM totp_secrets")) == counters
    for n, u in enumerate(users):
        addrs = [a["address"] for a in admin.json("trusted", "list", u.login)["addresses"]]
        assert "192.0.2.%d" % (100 + n) in addrs
    assert int(db.scalar("SELECT failures FROM login_failures WHERE login = '%s'" % victim.login)) == failures_before


def test_radiusd_starts_while_mariadb_is_down(faultdb, fault_radiusd, figures):
    db, admin = faultdb
    world = World(admin)
    u = world.user()
    db.kill()
    try:
        rad = fault_radiusd()	# starts: the pool opens no connection at start
        r = rad.round1(u.login, u.password)
        assert r.code == "Access-Reject", r
    finally:
        back = db.relaunch()
    deadline = back + 10
    while time.monotonic() < deadline:
        r = rad.round1(u.login, u.password)
        if r.code == "Access-Accept":
            break
        time.sleep(0.2)
    figures.append("radiusd started with MariaDB down: first Accept %.2f s after MariaDB answered"
                   % (time.monotonic() - back))
    assert r.code == "Access-Accept", r
    assert time.monotonic() - back < 5.0


def test_radiusd_killed_between_rounds(faultdb, fault_radiusd):
    db, admin = faultdb
    world = World(admin)
    rad = fault_radiusd()
    u = world.user(enroll=True)
    r1 = rad.round1(u.login, u.password, csid="192.0.2.77")
    assert r1.code == "Access-Challenge"
    os.killpg(rad.proc.pid, signal.SIGKILL)
    rad.proc.wait(timeout=10)
    rad.proc = None
    rad.start()
    r2 = rad.round2(u.login, u.code(), r1.state, csid="192.0.2.77")
    assert r2.code == "Access-Accept", r2


def test_two_servers_under_concurrent_load(faultdb, fault_radiusd, figures):
    """Round 1 on one server, round 2 on the other, many users at once:
    every login accepted once, a replayed code never, trust written by either
    is seen by both, and failures on both count toward one lockout."""
    db, admin = faultdb
    world = World(admin)
    a = fault_radiusd()
    b = fault_radiusd()
    users = [world.user(enroll=True) for _ in range(12)]
    H.wait_step_margin(6)
    results, lock = [], threading.Lock()

    def one(n, u):
        first, second = (a, b) if n % 2 == 0 else (b, a)
        csid = "198.51.100.%d" % (n + 1)
        r1 = first.round1(u.login, u.password, csid=csid)
        code = u.code()
        r2 = second.round2(u.login, code, r1.state, csid=csid)
        # the same code again, on a fresh challenge of the first server: refused
        r3 = first.round1(u.login, u.password, csid="198.51.100.%d" % (n + 101))
        r4 = first.round2(u.login, code, r3.state, csid="198.51.100.%d" % (n + 101))
        # and the trusted address works on both
        r5 = first.round1(u.login, u.password, csid=csid)
        r6 = second.round1(u.login, u.password, csid=csid)
        with lock:
            results.append((r1.code, r2.code, r4.code, r5.code, r6.code))

    threads = [threading.Thread(target=one, args=(n, u)) for n, u in enumerate(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    figures.append("two servers, %d users at once: %s" % (len(users), sorted(set(results))))
    assert len(results) == len(users)
    for r1, r2, r4, r5, r6 in results:
        assert (r1, r2) == ("Access-Challenge", "Access-Accept")
        assert r4 != "Access-Accept"
        assert (r5, r6) == ("Access-Accept", "Access-Accept")

    victim = world.user()
    for i in range(4):
        (a if i % 2 else b).round1(victim.login, "wrong-%d" % i)
    r = a.round1(victim.login, "wrong-5")
    assert r.code == "Access-Reject"
    r = b.round1(victim.login, victim.password)
    assert r.message == "Too many attempts, try again later.", r
