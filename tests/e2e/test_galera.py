"""
End-to-end tests of rlm_vrms2fa on a 3-node MariaDB Galera cluster on
loopback (README, "Galera cluster"): Debian's mariadb-server + galera-4,
rsync state transfer, the schema applied through node 1 with
`vrms2fa-admin db migrate`, one radiusd per node pointed at its own node
with database.wsrep_sync_wait = 3.

- a challenge opened on node 1 is answered on node 2, and the same code is
  then refused through node 3;
- one fresh code sent through the three radiusd at once, 50 times: never
  more than one Accept per code (the replay counter under certification
  conflicts);
- a trusted address written through node 1 lets the user in through node 3;
- under load over the three radiusd one node is killed (kill -9): the
  failed logins through the other two are counted, the node rejoins (IST or
  rsync SST) and serves the data written while it was gone.

The group is skipped, with the reason, only where a Galera cluster cannot be
started at all (packages missing, not root); scripts/install-deps.sh
installs what it needs, so on this project's machines it runs.
"""
import subprocess
import threading
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import harness as H
import galera
from conftest import World
from harness import ACCEPT, REJECT, CHALLENGE, MSG_CODE_WRONG, MSG_ENTER_CODE, MSG_STATE_INVALID

# What every radiusd and admin tool of the cluster gets: causal reads (a read
# or an UPDATE/DELETE waits until the node has applied every earlier write of
# the cluster, so round 2 on node 2 sees the challenge round 1 wrote on node 1).
# query_timeout above the time the cluster takes to notice a lost node
# (evs.suspect_timeout, 5 s, plus the view change): until then every node
# holds causal reads and commits, and a login waits instead of failing.
GALERA_CONF = {("database", "wsrep_sync_wait"): 3, ("database", "query_timeout"): 10}


# --------------------------------------------------------------------------
# The cluster, the schema, one radiusd and one admin tool per node
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster(built, request):
    reason = galera.unavailable()
    if reason:
        pytest.skip(reason)
    c = galera.GaleraCluster(3)
    request.addfinalizer(c.stop)	# also when start() fails half-way
    c.start()
    t = c.timings
    H.FIGURES.append("galera: 3 nodes up in %.1f s (install %.1f s, node1 %.1f s, node2 %.1f s, node3 %.1f s, "
                     "rsync SST)" % (t["total"], t["install"], t["node1"] - t["install"], t["node2"], t["node3"]))
    return c


@pytest.fixture(scope="module")
def admins(cluster, workdir, key_file):
    """One admin tool per node (its config names that node); the schema is made through node 1."""
    out = []
    for n in cluster.nodes:
        conf = H.write_module_config(workdir / ("galera-%s.conf" % n.name), n, key_file, GALERA_CONF)
        out.append(H.Admin(conf))
    out[0].migrate()
    return out


@pytest.fixture(scope="module")
def worlds(admins):
    """Companies and users made through node 1, 2 or 3."""
    return [World(a) for a in admins]


@pytest.fixture(scope="module")
def servers(cluster, admins, workdir, key_file, dictdir, outbox, request):
    """radiusd i talks only to node i."""
    conf = dict(GALERA_CONF)
    conf[("email", "enabled")] = "no"
    conf[("email", "hook")] = outbox.hook()
    rs = []
    request.addfinalizer(lambda: [r.stop() for r in rs])
    for n in cluster.nodes:
        r = H.Radiusd(workdir / ("galera-radiusd-%s" % n.name), n, key_file, conf, dictdir=dictdir,
                      name="radiusd-%s" % n.name)
        rs.append(r)
        r.start()
    return rs


_crypt_lock = threading.Lock()	# crypt(3) returns a static buffer


def make_user(world, enroll=True, address=None, company=None):
    """A user with a cheap password hash (sha512-crypt, 1000 rounds): these
    tests are about the cluster, not the password; enrolled by default."""
    password = "Pw %s" % H.unique("")
    with _crypt_lock:
        hashed = H.crypt_hash(password, "$6$", 1000)
    return world.user(password=password, hash=hashed, company=company, enroll=enroll, address=address)


def simultaneous(requests, timeout=5):
    """requests: [(radiusd, attrs)].  One radclient per request, all started
    first (each loads its dictionaries and waits on stdin), then every one is
    handed its packet at the same moment: they go out within a millisecond
    or so, to different radiusd, and so to different Galera nodes."""
    procs = []
    try:
        for r, _ in requests:
            cmd = [H.RADCLIENT, "-x", "-t", str(timeout), "-r", "1", "-d", str(r.dictdir),
                   "127.0.0.1:%d" % r.port, "auth", r.secret]
            procs.append(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE))
        time.sleep(0.2)
        datas = [("\n".join(H._lines(attrs, None, True)) + "\n").encode() for _, attrs in requests]
        for p, d in zip(procs, datas):
            p.stdin.write(d)
        t0 = time.monotonic()
        for p in procs:
            p.stdin.close()
            p.stdin = None
        replies = []
        for p, d in zip(procs, datas):
            out, err = p.communicate(timeout=timeout * 2 + 30)
            code, attrs = H.parse_radclient(out.decode("utf-8", "replace"))
            replies.append(H.Reply(code, attrs, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                                   time.monotonic() - t0, d))
        return replies
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


# --------------------------------------------------------------------------
# The cluster itself, and the schema's Galera requirements
# --------------------------------------------------------------------------

def test_cluster_schema_and_servers(cluster, admins, servers):
    for n in cluster.nodes:
        assert n.status("wsrep_cluster_size") == "3", n.name
        assert n.status("wsrep_local_state_comment") == "Synced", n.name
        assert n.status("wsrep_cluster_status") == "Primary", n.name
    # the schema made through node 1 is on node 3, and it is what Galera needs:
    # InnoDB only (Galera replicates only InnoDB), a primary key on every table
    node3 = cluster[2]
    tables = node3.rows(
        "SELECT t.table_name, t.engine,"
        " (SELECT COUNT(*) FROM information_schema.table_constraints k WHERE k.table_schema = t.table_schema"
        "  AND k.table_name = t.table_name AND k.constraint_type = 'PRIMARY KEY')"
        " FROM information_schema.tables t WHERE t.table_schema = 'vrms2fa' AND t.table_type = 'BASE TABLE'"
        " ORDER BY 1")
    names = [t[0] for t in tables]
    for expected in ("users", "companies", "totp_secrets", "trusted_addresses", "challenges", "login_failures",
                     "recovery_codes", "audit_log", "email_confirmations", "email_sends", "schema_version"):
        assert expected in names, tables
    assert [t for t in tables if t[1] != "InnoDB" or t[2] != "1"] == [], tables
    # the backend's view and procedure (sql/007_backend.sql) replicated too
    assert node3.scalar("SELECT COUNT(*) FROM information_schema.views WHERE table_schema = 'vrms2fa'"
                        " AND table_name = 'backend_user_state'") == "1"
    assert node3.scalar("SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = 'vrms2fa'"
                        " AND routine_name = 'backend_email_confirm'") == "1"
    shipped = max(int(p.name[:3]) for p in H.SQL_DIR.glob("[0-9][0-9][0-9]_*.sql"))	# the highest, not the count
    assert node3.scalar("SELECT MAX(version) FROM schema_version") == str(shipped)
    # every radiusd is up, each with its own node
    for r, n in zip(servers, cluster.nodes):
        assert r.running
        assert "port = %d" % n.port in r.module_config.read_text()
        assert "wsrep_sync_wait = 3" in r.module_config.read_text()


# --------------------------------------------------------------------------
# One login over two nodes, the code refused on the third
# --------------------------------------------------------------------------

def test_round1_node1_round2_node2_replay_node3(worlds, servers):
    r1, r2, r3 = servers
    u = make_user(worlds[0])
    H.wait_step_margin(8)
    csid = H.new_address()
    first = r1.round1(u.login, u.password, csid=csid)
    assert first.code == CHALLENGE and first.message == MSG_ENTER_CODE, first.raw
    code = u.code()
    second = r2.round2(u.login, code, first.state, csid=csid)
    assert second.code == ACCEPT, second.raw

    # the same code, through node 3, under a State of its own: the replay guard refuses it
    other = H.new_address()
    again = r3.round1(u.login, u.password, csid=other)
    assert again.code == CHALLENGE, again.raw
    replay = r3.round2(u.login, code, again.state, csid=other)
    assert replay.code != ACCEPT, replay.raw
    assert replay.code == CHALLENGE and replay.message == MSG_CODE_WRONG, replay.raw
    # and node 1's State, spent on node 2, is dead on node 3
    spent = r3.round2(u.login, code, first.state, csid=csid)
    assert spent.code == REJECT and spent.message == MSG_STATE_INVALID, spent.raw


# --------------------------------------------------------------------------
# Trust written through node 1, used through node 3
# --------------------------------------------------------------------------

def test_trust_written_on_node1_lets_in_on_node3(worlds, admins, servers):
    r1, r2, r3 = servers
    # by the admin tool through node 1 (enroll confirm --address)
    addr = "192.0.2.%d" % (10 + (int(time.time()) % 200))
    u = make_user(worlds[0], address=addr)
    assert [a["address"] for a in admins[0].json("trusted", "list", u.login)["addresses"]] == [addr]
    r = r3.round1(u.login, u.password, csid=addr)
    assert r.code == ACCEPT, r.raw
    r = r3.round1(u.login, u.password, csid=H.new_address())
    assert r.code == CHALLENGE, r.raw	# any other address still needs the code

    # by radiusd 1 (a code proves the address), then used through radiusd 3
    v = make_user(worlds[0])
    H.wait_step_margin(5)
    csid = H.new_address()
    first = r1.round1(v.login, v.password, csid=csid)
    assert first.code == CHALLENGE, first.raw
    assert r1.round2(v.login, v.code(), first.state, csid=csid).code == ACCEPT
    r = r3.round1(v.login, v.password, csid=csid)
    assert r.code == ACCEPT, r.raw


# --------------------------------------------------------------------------
# One code through the three radiusd at once, 50 times
# --------------------------------------------------------------------------

REPETITIONS = 50


def test_one_code_through_three_nodes_at_once(cluster, worlds, servers, figures):
    """For each repetition a fresh user (so each code is the first of its
    time step for that user: valid, never used): round 1 on each radiusd
    gives three States (three challenge rows, written on three nodes), then
    the same code goes to the three radiusd with their own State at the
    same moment.  The only row the three round 2s fight over is the user's
    replay counter (totp_secrets.last_counter), updated on three nodes at
    once: Galera certifies one, the others are refused (retried by the node
    and then finding the counter moved, or aborted and answered as a
    failure).  Never two Accepts."""
    t0 = time.monotonic()
    company = worlds[0].company()
    with ThreadPoolExecutor(max_workers=3) as ex:	# enroll through node 1, 2, 3 in turn
        users = list(ex.map(lambda i: make_user(worlds[i % 3], company=company), range(REPETITIONS)))
    enroll_s = time.monotonic() - t0
    counters = ("wsrep_local_cert_failures", "wsrep_local_bf_aborts")
    before = {k: cluster.status_sum(k) for k in counters}

    t1 = time.monotonic()
    per_code = []
    outcomes = {}
    for u in users:
        csid = H.new_address()
        with ThreadPoolExecutor(max_workers=3) as ex:
            firsts = list(ex.map(lambda r: r.round1(u.login, u.password, csid=csid), servers))
        assert all(f.code == CHALLENGE for f in firsts), H.tally(firsts)
        H.wait_step_margin(3)
        code = u.code()
        replies = simultaneous([(r, r.round2_attrs(u.login, code, f.state, csid))
                                for r, f in zip(servers, firsts)])
        accepts = sum(r.code == ACCEPT for r in replies)
        per_code.append(accepts)
        for k, v in H.tally(replies).items():
            outcomes[k] = outcomes.get(k, 0) + v
    reps_s = time.monotonic() - t1
    after = {k: cluster.status_sum(k) for k in counters}
    dist = {n: per_code.count(n) for n in sorted(set(per_code))}
    figures.append("galera: one code through 3 radiusd at once x %d: Accepts per code %s; replies %s; "
                   "certification failures %d, brute-force aborts %d; %.1f s (+ %.1f s enrolling)"
                   % (REPETITIONS, dist, outcomes, after[counters[0]] - before[counters[0]],
                      after[counters[1]] - before[counters[1]], reps_s, enroll_s))
    assert max(per_code) <= 1, dist
    # the winner of each race is accepted (a conflict never turns into no Accept at all)
    assert per_code.count(1) >= REPETITIONS - 2, dist


# --------------------------------------------------------------------------
# Conflicts the module and the admin tool must absorb, not answer
# --------------------------------------------------------------------------

CONFLICT_COUNTERS = ("wsrep_local_cert_failures", "wsrep_local_bf_aborts")


def conflicts_since(cluster, before):
    return {k.replace("wsrep_local_", ""): cluster.status_sum(k) - before[k] for k in CONFLICT_COUNTERS}


def test_expired_challenge_pruning_on_three_nodes_fails_no_login(cluster, worlds, servers, figures):
    """Each round 1 that opens a challenge first deletes up to 100 challenges
    expired for an hour.  Three nodes doing it at once delete the same rows:
    Galera certifies one delete and aborts the others.  That housekeeping
    conflict must not fail the login (it did: "The service is temporarily
    unavailable" for the loser, before store_challenge_create let the prune
    go on a STORE_RETRY)."""
    company = worlds[0].company()
    users = [make_user(worlds[i % 3], company=company) for i in range(6)]
    uid = cluster[0].scalar("SELECT id FROM users WHERE login = '%s'" % users[0].login)
    now = int(time.time())
    cluster[0].sql(
        "INSERT INTO challenges"
        " (token_digest, user_id, kind, nas, address, created_at, expires_at, attempts_left, spent)"
        " SELECT UNHEX(SHA2(CONCAT(seq, '-%d'), 256)), %s, 'code', '127.0.0.1', '', %d, %d, 3, 0"
        " FROM seq_1_to_3000"		# 3000 challenges expired two hours ago
        % (now, uid, now - 9000, now - 8000), database="vrms2fa")
    before = {k: cluster.status_sum(k) for k in CONFLICT_COUNTERS}
    outcomes, sent, pruning = {}, 0, 0
    # A challenge prunes when its digest's first byte is below 4 (one in 64,
    # store_challenge_create): go on until several have, six round 1s at a time.
    while (pruning < 6 or sent < 60) and sent < 1200:
        requests = [(servers[i // 2], [("User-Name", u.login), ("User-Password", u.password),
                                       ("Calling-Station-Id", H.new_address()), ("NAS-IP-Address", H.Raw("127.0.0.1"))])
                    for i, u in enumerate(users)]		# two users per radiusd, six round 1s at once
        replies = simultaneous(requests)
        sent += len(requests)
        for k, v in H.tally(replies).items():
            outcomes[k] = outcomes.get(k, 0) + v
        for r in replies:
            if r.state is not None:		# "V1" + 32 hex digits: the 16 random bytes
                raw = bytes.fromhex(r.state[2:].decode())
                pruning += hashlib.sha256(raw).digest()[0] < 4
    left = int(cluster[1].scalar("SELECT COUNT(*) FROM challenges WHERE expires_at < %d" % (now - 3600)))
    figures.append("galera: %d round 1s (6 at once over 3 radiusd), %d of them pruning 3000 expired challenges: %s; "
                   "%d expired left; %s" % (sent, pruning, outcomes, left, conflicts_since(cluster, before)))
    assert outcomes == {"%s (%s)" % (CHALLENGE, MSG_ENTER_CODE): sent}, outcomes
    assert pruning >= 6
    assert left < 3000


def test_admin_transactions_retried_on_conflicts(cluster, worlds, admins, figures):
    """`user set` (one transaction of several UPDATEs) on one user through the
    three nodes at once, 20 times: certification conflicts abort all but one
    transaction of each round, at a statement or at the commit.  The admin
    tool runs an aborted transaction again (at most 5 times): every command
    succeeds (before that, 18 of 60 failed with "Deadlock found")."""
    u = make_user(worlds[0], enroll=False)
    groups = ["owner", "supplier", "administrator"]
    before = {k: cluster.status_sum(k) for k in CONFLICT_COUNTERS}
    results = {}
    last = None
    for rep in range(20):
        def run(i):
            return admins[i]("user", "set", u.login, "--email", "r%d-n%d@example.com" % (rep, i + 1),
                             "--group", groups[i], "--disabled", "no", check=False)
        with ThreadPoolExecutor(max_workers=3) as ex:
            rs = list(ex.map(run, range(3)))
        for r in rs:
            k = "exit %d%s" % (r.returncode, ": " + r.stderr.strip()[:90] if r.returncode else "")
            results[k] = results.get(k, 0) + 1
        last = rep
    figures.append("galera: `user set` on one user through 3 nodes at once x 20: %s; %s"
                   % (results, conflicts_since(cluster, before)))
    assert results == {"exit 0": 60}, results
    # every node has the same row, and it is one writer's whole transaction
    rows = {tuple(n.rows("SELECT email, user_group FROM users WHERE login = '%s'" % u.login)[0])
            for n in cluster.nodes}
    assert len(rows) == 1, rows
    email, group = rows.pop()
    writer = int(email.split("-n")[1].split("@")[0])
    assert email.startswith("r%d-" % last) and group == groups[writer - 1], (email, group)


# --------------------------------------------------------------------------
# A node lost under load, and its return
# --------------------------------------------------------------------------

class Load:
    """Threads doing trusted-address logins (one round, Access-Accept
    expected) through the three radiusd, recording every answer."""

    timeout = 3
    tries = 3

    def __init__(self, servers, users):
        self.servers = servers
        self.users = users		# [(server index, user, trusted address)]
        self.events = []		# (start, end, server index, code, message)
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i, u, a), daemon=True) for i, u, a in users]

    def _run(self, i, u, addr):
        r = self.servers[i]
        attrs = [("User-Name", u.login), ("User-Password", u.password), ("Calling-Station-Id", addr),
                 ("NAS-IP-Address", H.Raw("127.0.0.1"))]
        while not self.stop_flag.is_set():
            t = time.monotonic()
            # like a NAS: 3 s timeout, 3 tries of the same packet (radiusd answers
            # a retransmission of a request it is still working on when it is done)
            rep = r.request(attrs, timeout=self.timeout, retries=self.tries)
            e = time.monotonic()
            with self.lock:
                self.events.append((t, e, i, rep.code, rep.message))
            self.stop_flag.wait(0.05 if rep.code == ACCEPT else 0.25)

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=30)


def test_node_killed_under_load_then_rejoins(cluster, worlds, admins, servers, figures):
    """Trusted-address logins through the three radiusd (two threads each,
    like a NAS: 3 s timeout, 3 tries); node 3's mariadbd is killed (-9);
    ten seconds later it is started again and rejoins (IST from the gcache,
    or rsync SST).  Through radiusd 1 and 2 the logins go on (they wait
    while the cluster notices the loss: every node holds causal reads and
    commits until then); radiusd 3 rejects while its node is gone and
    serves again, with what was written meanwhile, once it is back."""
    victim = 2				# node 3 and its radiusd
    survivors = [0, 1]
    users = []
    for i in range(3):
        for k in range(2):
            addr = "198.51.100.%d" % (10 + 10 * i + k)
            users.append((i, make_user(worlds[i], address=addr), addr))
    for i, u, addr in users:		# every load user gets in, through every radiusd
        for r in servers:
            rep = r.round1(u.login, u.password, csid=addr)
            assert rep.code == ACCEPT, rep.raw

    t_load = time.monotonic()
    load = Load(servers, users).start()
    try:
        time.sleep(3)
        t_kill = time.monotonic()
        cluster[victim].kill()
        # the survivors notice (evs.suspect_timeout, 5 s by default) and go on as a 2-node Primary
        cluster.wait_size(2, timeout=30, nodes=[cluster[i] for i in survivors])
        t_evicted = time.monotonic()

        # written while node 3 is gone, through node 1: a user, enrolled, with a trusted address
        addr_new = "203.0.113.77"
        t_w = time.monotonic()
        newcomer = make_user(worlds[0], address=addr_new)
        write_s = time.monotonic() - t_w
        new_email = "rejoin-%s@example.com" % newcomer.login[:20]
        admins[0]("user", "set", newcomer.login, "--email", new_email)

        time.sleep(max(0.0, t_kill + 10 - time.monotonic()))
        t_restart = time.monotonic()
        log_mark = len(cluster[victim].log_text())
        cluster[victim].start()
        t_synced = time.monotonic()
        cluster.wait_size(3)
        rejoin_log = cluster[victim].log_text()[log_mark:]
        transfer = "IST" if "IST received" in rejoin_log else "SST" if "SST received" in rejoin_log else "?"

        # node 3's radiusd serves logins again, with the data written meanwhile
        deadline = time.monotonic() + 20
        while True:
            rep = servers[victim].round1(newcomer.login, newcomer.password, csid=addr_new)
            if rep.code == ACCEPT or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        t_back = time.monotonic()
        assert rep.code == ACCEPT, ("the newcomer through the rejoined node", rep.raw)
        assert cluster[victim].scalar("SELECT email FROM users WHERE login = '%s'" % newcomer.login) == new_email
        rep = servers[victim].round1(newcomer.login, newcomer.password, csid="203.0.113.78")
        assert rep.code == CHALLENGE, rep.raw	# an untrusted address: the code is asked
        time.sleep(2)
    finally:
        load.stop()
    t_end = time.monotonic()

    ev = load.events
    surv = [e for e in ev if e[2] in survivors and e[0] >= t_kill]
    surv_fail = [e for e in surv if e[3] != ACCEPT]
    surv_before = [e for e in ev if e[2] in survivors and e[1] < t_kill]
    surv_slow = [e for e in surv if e[1] - e[0] > Load.timeout]
    vic = [e for e in ev if e[2] == victim and e[0] >= t_kill]
    vic_fail = [e for e in vic if e[3] != ACCEPT]

    def span(events):
        if not events:
            return "none"
        return "%.1f-%.1f s after the kill" % (min(e[0] for e in events) - t_kill, max(e[1] for e in events) - t_kill)

    figures.append(
        "galera: node 3 killed (-9) under load (%d logins over %.0f s): through radiusd 1+2 %d logins after the kill, "
        "%d failed%s (%s), %d waited > %d s (%s, slowest %.1f s); node 3 evicted %.1f s after the kill"
        % (len(ev), t_end - t_load, len(surv), len(surv_fail),
           " %s" % tally_events(surv_fail) if surv_fail else "", span(surv_fail),
           len(surv_slow), Load.timeout, span(surv_slow), max((e[1] - e[0] for e in surv), default=0.0),
           t_evicted - t_kill))
    figures.append(
        "galera: through radiusd 3 (its node gone) %d of %d failed %s, until it served again %.1f s after the kill; "
        "a user written through node 1 meanwhile in %.1f s; node 3 Synced %.1f s after its restart (%s), "
        "radiusd 3 accepting that user %.1f s later"
        % (len(vic_fail), len(vic), tally_events(vic_fail), t_back - t_kill, write_s, t_synced - t_restart,
           transfer, t_back - t_synced))

    assert all(e[3] == ACCEPT for e in surv_before), tally_events(surv_before)
    # logins through the surviving nodes keep succeeding: at most the ones in
    # flight while the cluster notices the loss may fail, none after
    assert len(surv_fail) <= 2 * len(survivors), tally_events(surv_fail)
    assert all(e[0] < t_evicted for e in surv_fail), span(surv_fail)
    assert all(e[3] == ACCEPT for e in surv if e[0] >= t_evicted + 1), tally_events(surv)
    assert sum(e[0] >= t_evicted for e in surv) > 10
    # the killed node's radiusd never accepts without its database
    assert not [e for e in vic if t_kill + 0.2 < e[0] and e[1] < t_restart and e[3] == ACCEPT]
    # and after the rejoin it accepts again
    assert any(e[3] == ACCEPT and e[0] >= t_back for e in vic), tally_events(vic)


def tally_events(events):
    t = {}
    for e in events:
        k = "%s (%s)" % (e[3], e[4]) if e[4] else str(e[3])
        t[k] = t.get(k, 0) + 1
    return t
