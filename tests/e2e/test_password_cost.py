"""Equal work for unknown users, per hash format, and bounded memory-hard
checks (issue 15), through radiusd and MariaDB.

- For each supported format (bcrypt, sha512-crypt with and without
  rounds=, yescrypt, argon2id), a database whose users all have hashes of
  that format: 200 (sha512-crypt: 400) rejects of unknown names against as
  many of known names with a wrong password, interleaved, each name once.  The module reads the profile
  of the users' hashes at its first login and checks unknown names against
  a dummy of the same format and cost.  A disabled user with the right
  password is a third kind.  The medians are within 10% and the p90s within
  20% (printed).
- An argon2id hash of 2 GiB is refused unchecked, with the sizes in the log.
- 20 logins at once of users with 32 MiB argon2id hashes: with
  password.memory_hard_budget = 64 MiB (two checks) radiusd's peak RSS
  grows by about two checks' memory; the same burst against a radiusd with
  256 MiB (eight: its thread pool) grows by several times that (both
  printed, the ratio asserted).
"""
import ctypes
import ctypes.util
import itertools
import random
import re
import secrets
import statistics
import threading

import pytest

import harness as H
import radpkt as R

MSG_LOGIN_FAILED = "Invalid login name or password."
# as long as each other: sha512-crypt's cost grows with the password's length
RIGHT = "right-password-1"
WRONG = "not-the-password"
assert len(RIGHT) == len(WRONG)
MSG_SERVICE = "The service is temporarily unavailable. Try again later."

_argon2 = None


def argon2id_hash(password, m_kib, t=1, p=1):
    """An argon2id hash made with libargon2 (the module's own library)."""
    global _argon2
    if _argon2 is None:
        _argon2 = ctypes.CDLL(ctypes.util.find_library("argon2") or "libargon2.so.1")
        _argon2.argon2id_hash_encoded.argtypes = [
            ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t,
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
        _argon2.argon2id_hash_encoded.restype = ctypes.c_int
    pw = password.encode()
    salt = secrets.token_bytes(16)
    out = ctypes.create_string_buffer(256)
    rc = _argon2.argon2id_hash_encoded(t, m_kib, p, pw, len(pw), salt, len(salt), 32, out, len(out))
    assert rc == 0, rc
    return out.value.decode()


# name: (a function making a hash of the given password in that format and
# cost, the samples per kind).  The cheap sha512-crypt checks leave the
# database's and the network's noise larger beside them: more samples.
FORMATS = {
    "bcrypt cost 8": (lambda pw: H.crypt_hash(pw, "$2b$", 8), 200),
    "sha512-crypt (5000 rounds, no rounds=)": (lambda pw: H.crypt_hash(pw, "$6$", 0), 400),
    "sha512-crypt rounds=20000": (lambda pw: H.crypt_hash(pw, "$6$", 20000), 400),
    "yescrypt $y$ cost 3": (lambda pw: H.crypt_hash(pw, "$y$", 3), 200),
    "argon2id m=4 MiB t=2": (lambda pw: argon2id_hash(pw, 4096, t=2), 200),
}


class Site:
    """A database of its own (same MariaDB), migrated, with a config file for the tool and radiusd."""

    def __init__(self, mariadb, make_module_conf, name, extra=None):
        self.db = "vrms2fa_" + name
        mariadb.sql("CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
                    "GRANT ALL ON %s.* TO '%s'@'localhost'; GRANT ALL ON %s.* TO '%s'@'127.0.0.1';"
                    % (self.db, self.db, mariadb.user, self.db, mariadb.user))
        self.overrides = {("database", "name"): self.db}
        self.overrides.update(extra or {})
        self.conf = make_module_conf(self.overrides)
        self.admin = H.Admin(self.conf)
        self.admin.migrate()
        self.company = H.unique("co-")
        self.admin("company", "add", self.company)

    def user(self, login, hash):
        self.admin("user", "add", login, "--company", self.company, "--group", "company_user",
                   "--email", "%s@example.com" % login, "--password-hash", hash)


def _p90(xs):
    return sorted(xs)[int(0.9 * (len(xs) - 1))]


def measure_reject_timing(mariadb, make_module_conf, radiusd_pool, fmt, samples_each, seed=15):
    """Interleaved rejects of unknown names, known names with a wrong
    password and disabled users with the right one, each name once, as an
    attacker probing names would: every kind pays a first failure's writes
    (the lockout records of a name and of a pair are new for each), so only
    the password check could tell them apart.  The known users (all with the
    same hash: the same cost) are inserted in bulk.  Returns ({kind: [seconds]},
    the radiusd)."""
    make = FORMATS[fmt][0]
    site = Site(mariadb, make_module_conf, re.sub(r"[^a-z0-9]+", "_", fmt.lower())[:40] + H.unique("_")[-6:])
    site.user(H.unique("first"), make(RIGHT))	# through the tool once: the company and a real row
    hash_ = make(RIGHT)
    prefix = H.unique("k")
    people = " UNION ALL ".join("SELECT '%s-%s-%d' AS login, %d AS d" % (prefix, kind, i, kind == "off")
                                for kind in ("on", "off") for i in range(samples_each + 6))
    mariadb.sql("INSERT INTO users (login, company_id, user_group, email, password_hash, disabled, created_at)"
                " SELECT v.login, c.id, 'company_user', NULL, '%s', v.d, 0 FROM companies c JOIN (%s) v"
                " WHERE c.name = '%s'" % (hash_, people, site.company), database=site.db)
    rad = radiusd_pool.new(site.overrides)
    c = R.Client(rad.port, rad.secret, timeout=10)
    samples = {"unknown": [], "known": [], "disabled": []}
    try:
        # warm up: the first login reads the users' hash profiles and makes the dummy
        for i in range(6):
            for name in (H.unique("warm"), "%s-on-%d" % (prefix, samples_each + i),
                         "%s-off-%d" % (prefix, samples_each + i)):
                r = c.send([(R.USER_NAME, name), (R.USER_PASSWORD, "x")])
                assert r is not None and r.code == R.ACCESS_REJECT
        rng = random.Random(seed)
        kinds = ["unknown", "known", "disabled"]
        for i in range(samples_each):
            rng.shuffle(kinds)
            for kind in kinds:
                name = {"unknown": H.unique("ghost"), "known": "%s-on-%d" % (prefix, i),
                        "disabled": "%s-off-%d" % (prefix, i)}[kind]
                pw = RIGHT if kind == "disabled" else WRONG
                r = c.send([(R.USER_NAME, name), (R.USER_PASSWORD, pw)])
                assert r is not None and r.code == R.ACCESS_REJECT, (kind, r)
                assert r.message == MSG_LOGIN_FAILED, (kind, r.message)
                samples[kind].append(r.elapsed)
    finally:
        c.close()
    return samples, rad


def timing_summary(samples):
    """Medians and p90s per kind, and how far apart the kinds are (max/min - 1)."""
    med = {k: statistics.median(v) for k, v in samples.items()}
    q90 = {k: _p90(v) for k, v in samples.items()}
    return (med, q90, (max(med.values()) - min(med.values())) / min(med.values()),
            (max(q90.values()) - min(q90.values())) / min(q90.values()))


def paired_diff(samples):
    """The largest difference between two kinds, sample by sample: the median
    of a[i] - b[i] over the median of b, for every pair of kinds.  Sample i
    of each kind was taken in the same shuffled triple, moments apart, so a
    machine that changes speed during the run (this VM does, in steps of
    20%) moves both sides of a pair: it can split the plain medians of two
    kinds that cost the same, not the medians of their differences, while a
    real difference of cost shows in every pair."""
    return max(abs(statistics.median(x - y for x, y in zip(samples[a], samples[b]))) / statistics.median(samples[b])
               for a, b in itertools.permutations(samples, 2))


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_unknown_names_cost_what_known_ones_do(fmt, mariadb, make_module_conf, radiusd_pool, figures):
    samples_each = FORMATS[fmt][1]
    samples, rad = measure_reject_timing(mariadb, make_module_conf, radiusd_pool, fmt, samples_each)
    rad.stop()
    med, q90, med_diff, p90_diff = timing_summary(samples)
    paired = paired_diff(samples)
    figures.append("reject timing, %s, %d each (ms, median/p90): unknown %.2f/%.2f, known with a wrong password "
                   "%.2f/%.2f, disabled with the right one %.2f/%.2f; medians differ %.1f%%, p90s %.1f%%, "
                   "paired %.1f%%"
                   % (fmt, samples_each, 1000 * med["unknown"], 1000 * q90["unknown"], 1000 * med["known"],
                      1000 * q90["known"], 1000 * med["disabled"], 1000 * q90["disabled"],
                      100 * med_diff, 100 * p90_diff, 100 * paired))
    # sample by sample (paired_diff): a step in the machine's speed cannot split two kinds that cost the same
    assert paired < 0.10, (paired, med, q90)
    assert p90_diff < 0.20, (med, q90)


def _peak_rss_kib(pid):
    """VmHWM: the highest resident set size the process has had."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM for pid %d" % pid)


def _reset_peak_rss(pid):
    """Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+)."""
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")


@pytest.fixture(scope="module")
def heavy_site(mariadb, make_module_conf):
    site = Site(mariadb, make_module_conf, "memory_hard",
                {("password", "max_memory"): 32, ("password", "memory_hard_wait"): 10000,
                 ("lockout", "failures"): 100, ("lockout", "name_failures"): 100})
    site.users = []
    for i in range(20):
        login = H.unique("heavy")
        site.user(login, argon2id_hash("pw-" + login, 32768, t=1))	# 32 MiB: at the cap
        site.users.append(login)
    return site


def _burst(rad, logins):
    """Every login at once (one thread each); the replies."""
    replies = [None] * len(logins)

    def one(i):
        c = R.Client(rad.port, rad.secret, timeout=30)
        try:
            replies[i] = c.send([(R.USER_NAME, logins[i]), (R.USER_PASSWORD, "wrong")])
        finally:
            c.close()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(logins))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return replies


def test_memory_hard_checks_bounded(heavy_site, radiusd_pool, figures):
    peaks = {}
    for limit in (8, 2):	# 8: radiusd's thread pool (max_servers), as if there were no gate
        over = dict(heavy_site.overrides)
        over[("password", "memory_hard_budget")] = 32 * limit	# MiB: room for 'limit' checks of 32 MiB
        rad = radiusd_pool.new(over)
        pid = rad.proc.pid
        warm = _burst(rad, heavy_site.users[:1])	# one check: its arena is mapped once
        assert warm[0].code == R.ACCESS_REJECT
        rss0 = _peak_rss_kib(pid)
        _reset_peak_rss(pid)
        base = _peak_rss_kib(pid)
        replies = _burst(rad, heavy_site.users)
        peak = _peak_rss_kib(pid)
        assert all(r is not None and r.code == R.ACCESS_REJECT and r.message == MSG_LOGIN_FAILED
                   for r in replies), replies
        peaks[limit] = (peak - base) / 1024.0
        figures.append("memory-hard: 20 argon2id checks of 32 MiB at once, memory_hard_budget for %d: radiusd "
                       "peak RSS %.0f MiB (+%.0f MiB over %.0f MiB before the burst; first check's peak %.0f MiB)"
                       % (limit, peak / 1024.0, peaks[limit], base / 1024.0, rss0 / 1024.0))
        rad.stop()
    # each check holds 32 MiB while it runs: at most 2 at once is about 64 MiB above the base
    assert peaks[2] < 3 * 32 + 16, peaks
    assert peaks[8] > 1.5 * peaks[2], peaks
    figures.append("memory-hard: peak growth, limit 8 / limit 2 = %.1f" % (peaks[8] / max(peaks[2], 1.0)))


def test_memory_hard_gate_full_answers_service_unavailable(heavy_site, radiusd_pool):
    """Room for one check and no wait: of 6 logins at once, some find the gate full
    and get the service-unavailable reply (not counted against them), and the
    reason is in radiusd's log."""
    over = dict(heavy_site.overrides)
    over[("password", "memory_hard_budget")] = 32	# one check of 32 MiB
    over[("password", "memory_hard_wait")] = 0
    rad = radiusd_pool.new(over)
    replies = _burst(rad, heavy_site.users[:6])
    messages = [r.message for r in replies if r is not None]
    assert len(messages) == 6, replies
    assert MSG_SERVICE in messages, messages
    assert MSG_LOGIN_FAILED in messages, messages
    assert "memory-hard password checks at their limit" in rad.log_text()
    rad.stop()


def test_hash_over_memory_cap_refused_with_reason(heavy_site, radiusd_pool):
    login = H.unique("huge")
    heavy_site.user(login, "$argon2id$v=19$m=2097152,t=1,p=1$c29tZXNhbHQ$"
                    "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")
    rad = radiusd_pool.get(heavy_site.overrides)
    r = rad.round1(login, "whatever")
    assert (r.code, r.message) == ("Access-Reject", MSG_LOGIN_FAILED), r.raw
    assert "needs 2048 MiB, over password.max_memory (32 MiB)" in rad.log_text()
