#!/usr/bin/python3
"""
bench/scale.py - the two long measures of the benchmark (issue #18, items 3
and 4); bench/run.py runs both after its rows, and this file runs them alone:

    bench/scale.py                   # sizes 1,000 / 100,000 / 1,000,000 users, 1,000,000 requests
    bench/scale.py --quick           # sizes 200 / 2,000, 3,000 requests (the test suite, via run.py)
    bench/scale.py --scale 1000,100000 --no-memory

A. Cost as the work grows.  One private MariaDB, grown from the first size to
   the last (users, each with a TOTP secret and 10 trusted addresses; one
   expired challenge and one audit row per user, so 1,000,000 of each at
   1,000,000 users), loaded with bulk inserts (INSERT ... SELECT from
   MariaDB's sequence tables, LOAD DATA LOCAL INFILE for the sealed
   secrets).  At each size, after ANALYZE TABLE: the table sizes, then
   configurations 4 (trusted) and 5 (challenge) of run.py, interleaved, CPU
   per login (radiusd + MariaDB) and p99, medians of the rounds; ratios to
   the first size, target within 10%.  At the largest size: EXPLAIN of every
   statement a trusted and a challenge login ran (read from MariaDB's
   general log), with the full scans flagged.

B. Memory.  One radiusd with rlm_vrms2fa and email confirmation on (a hook
   that exits at once), driven by six generators at once, one per path:
   trusted logins, challenge logins (round 1 + round 2), wrong codes,
   unknown users, the email path (a user without two-step verification
   from a new address; round 2 sends a wrong code) and wrong passwords.
   Its VmRSS after the warm-up, after every tenth of the requests, and
   idle at the end; target: growth < 2 MiB.

Everything listens on 127.0.0.1 only and is stopped on exit (run.py's
machinery: harness.MariaDB, run.Server).
"""
import argparse
import hashlib
import json
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run as R  # noqa: E402  (the benchmark's data makers, radiusd configurations and generator wrapper)

H = R.H
log = R.log

SCALE_TARGET = 0.10		# CPU per login and p99 within 10% of the first size's
CONTROL_USERS = 1000		# the control row's stock database, the same size at every size
MEMORY_TARGET_MIB = 2.0		# RSS growth after the warm-up
TRUSTED_PER_USER = 10
CHUNK = 100000			# users per bulk-insert statement group
MAX_USERS = 1600000		# the trusted addresses are 10.x.y.z of user id * 10 + k: 24 bits
PATHS = ["trusted", "challenge", "wrong-code", "unknown", "email", "wrong-password"]
REQUESTS_PER_LOGIN = {"trusted": 1, "challenge": 2, "wrong-code": 2, "unknown": 1, "email": 2, "wrong-password": 1}


# --------------------------------------------------------------------------
# Options (shared with run.py)
# --------------------------------------------------------------------------

def add_options(p):
    """The options of both measures, on run.py's parser and on this file's."""
    p.add_argument("--scale", metavar="SIZES",
                   help="user counts of the cost-as-the-work-grows measure, growing one database "
                        "(default 1000,100000,1000000; quick 200,2000)")
    p.add_argument("--no-scale", action="store_true", help="skip the cost-as-the-work-grows measure")
    p.add_argument("--scale-prune", action="store_true",
                   help="let the scale measure's radiusd prune the expired rows (retention.prune_interval 60); "
                        "by default they stay in the tables (0: only vrms2fa-admin prune)")
    p.add_argument("--scale-rounds", type=int, help="interleaved rounds per size (default 3; quick 1)")
    p.add_argument("--scale-duration", type=float,
                   help="seconds of each trusted run (default 10; quick 1.5); each challenge run is half "
                        "as many logins as the first size has users, at most 1,000")
    p.add_argument("--memory-requests", type=int,
                   help="requests of the memory measure, over all paths (default 1000000; quick 3000)")
    p.add_argument("--no-memory", action="store_true", help="skip the memory measure")
    p.add_argument("--memory-paths", default=",".join(PATHS),
                   help="the paths of the memory measure, to find which one grows (default all: %s)" % ",".join(PATHS))
    p.add_argument("--buffer-pool-mib", type=int,
                   help="InnoDB buffer pool of the scale database (default: enough for the largest size "
                        "in memory, 256 + 4 MiB per 1,000 users)")


def settle_options(a, p):
    """Defaults of the options above (after --quick is known); p.error on bad values."""
    q = a.quick
    if a.no_scale:
        a.scale = []
    else:
        text = a.scale if a.scale is not None else ("200,2000" if q else "1000,100000,1000000")
        try:
            a.scale = [int(x) for x in text.split(",") if x.strip()]
        except ValueError:
            p.error("--scale: user counts separated by commas")
        if any(n < 10 or n > MAX_USERS for n in a.scale) or a.scale != sorted(set(a.scale)):
            p.error("--scale: growing user counts, 10 to %d" % MAX_USERS)
    a.scale_rounds = a.scale_rounds if a.scale_rounds is not None else (1 if q else 3)
    a.scale_duration = a.scale_duration if a.scale_duration is not None else (1.5 if q else 10.0)
    if a.no_memory:
        a.memory_requests = 0
    elif a.memory_requests is None:
        a.memory_requests = 3000 if q else 1000000
    if a.memory_requests < 0 or (a.memory_requests and a.memory_requests < 1000):
        p.error("--memory-requests: at least 1000 (or --no-memory)")
    a.memory_paths = [x for x in a.memory_paths.split(",") if x.strip()]
    if not a.memory_paths or any(x not in PATHS for x in a.memory_paths):
        p.error("--memory-paths: some of %s" % ",".join(PATHS))
    if a.scale_rounds < 1 or a.scale_duration <= 0:
        p.error("--scale-rounds and --scale-duration must be positive")
    if a.buffer_pool_mib is None:
        users = max(a.scale or [0]) + (5 * memory_users(a.memory_requests) if a.memory_requests else 0)
        a.buffer_pool_mib = 256 + 4 * users // 1000
    return a


# --------------------------------------------------------------------------
# The data: bulk inserts
# --------------------------------------------------------------------------

class Data:
    """The users of the scale database: user id i (1..count) has login
    s0000i, the same password and sha512-crypt hash (rounds=1000) as all the
    others (hashing 1,000,000 passwords one by one takes ~3 minutes of both
    cores; the cost of a check is the same), a TOTP secret derived from a
    per-run seed, and 10 trusted addresses 10.x.y.z (x.y.z = i * 10 + k)."""

    def __init__(self, db, key_file, work):
        self.db = db
        self.work = Path(work)
        self.key_id, self.key = R.read_key(key_file)
        self.seed = secrets.token_bytes(16)
        self.password = "P%s" % secrets.token_hex(8)
        self.hash = H.crypt_hash(self.password, "$6$", R.CRYPT_ROUNDS)
        self.count = 0
        self.now = int(time.time())
        self.load_seconds = []

    @staticmethod
    def login(i):
        return "s%07d" % i

    def secret(self, i):
        return hashlib.sha1(self.seed + i.to_bytes(8, "big")).digest()

    @staticmethod
    def address(i, k):
        a = i * TRUSTED_PER_USER + k
        return "10.%d.%d.%d" % ((a >> 16) & 255, (a >> 8) & 255, a & 255)

    def mysql(self, text, timeout=3600):
        """A script as root over the socket, LOAD DATA LOCAL allowed."""
        r = subprocess.run(["mariadb", "--no-defaults", "--local-infile=1", "-S", self.db.socket, "-uroot",
                            self.db.db], input=text, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("bulk load failed: %s" % r.stderr[-2000:])

    def start(self):
        """The company (once)."""
        self.mysql("INSERT INTO companies (id, name, security_level, group_mask, grace_days, created_at)"
                   " VALUES (1, 'Bench Rentals', 'low', 0, 5, %d);" % self.now)

    def grow(self, to):
        """Add users count+1 .. to with their secrets, trusted addresses, one
        expired challenge and one audit row each (the rows the module writes)."""
        t0 = time.monotonic()
        now = int(time.time())
        while self.count < to:
            a, b = self.count + 1, min(self.count + CHUNK, to)
            secrets_file = self.work / "secrets.tsv"
            with open(secrets_file, "w") as f:
                for i in range(a, b + 1):
                    f.write("%d\t%s\n" % (i, R.seal(self.key, self.key_id, i, self.secret(i)).hex()))
            seq = "seq_%d_to_%d" % (a, b)
            self.mysql("""
SET SESSION foreign_key_checks = 0, unique_checks = 0;
INSERT INTO users (id, login, company_id, user_group, email, password_hash, disabled, grace_deadline, created_at)
  SELECT seq, CONCAT('s', LPAD(seq, 7, '0')), 1, 'company_user', CONCAT('s', LPAD(seq, 7, '0'), '@example.com'),
         '{hash}', 0, NULL, {now} - seq % 31536000 FROM {seq};
LOAD DATA LOCAL INFILE '{secrets}' INTO TABLE totp_secrets FIELDS TERMINATED BY '\\t' (user_id, @sealed)
  SET status = 'active', sealed = UNHEX(@sealed), key_id = {key_id}, algorithm = 'SHA1', digits = 6, period = 30,
      last_counter = 0, challenge_digest = NULL, created_at = {now}, activated_at = {now};
INSERT INTO trusted_addresses (user_id, scope, address, kind, how, created_at, proven_at, last_used_at, expires_at)
  SELECT u.seq, '', CONCAT('10.', ((u.seq * {per} + k.seq) >> 16) & 255, '.', ((u.seq * {per} + k.seq) >> 8) & 255,
         '.', (u.seq * {per} + k.seq) & 255), 'ipv4', 'code',
         {now} - (u.seq * 7 + k.seq * 86413) % 2505600, {now} - (u.seq * 7 + k.seq * 86413) % 2505600, {now},
         {now} - (u.seq * 7 + k.seq * 86413) % 2505600 + 2592000
  FROM {seq} u, seq_0_to_{last_k} k;
INSERT INTO challenges (token_digest, user_id, kind, nas, address, created_at, expires_at, attempts_left, spent)
  SELECT UNHEX(SHA2(CONCAT('{seed}', seq), 256)), seq, 'code', '127.0.0.1',
         CONCAT('2001:db8:', HEX(seq >> 16), ':', HEX(seq & 65535), '::1'),
         {now} - 86400 - seq % 604800, {now} - 86400 - seq % 604800 + 120, 2 + seq % 2, seq % 2 FROM {seq};
INSERT INTO audit_log (at, actor, user_id, company_id, event, detail, source)
  SELECT {now} - seq % 31536000, 'radiusd', seq, 1, ELT(1 + seq % 2, 'address_trusted', 'email_sent'),
         ELT(1 + seq % 2, 'address trusted by code', 'login confirmation'),
         CONCAT('2001:db8:', HEX(seq >> 16), ':', HEX(seq & 65535), '::1') FROM {seq};
""".format(hash=self.hash, now=now, seq=seq, secrets=secrets_file, key_id=self.key_id, per=TRUSTED_PER_USER,
           last_k=TRUSTED_PER_USER - 1, seed=self.seed.hex()))
            secrets_file.unlink()
            self.count = b
        self.db.sql("ANALYZE TABLE users, totp_secrets, trusted_addresses, challenges, audit_log, login_failures",
                    database=self.db.db, timeout=3600)
        secs = round(time.monotonic() - t0, 1)
        self.load_seconds.append({"to": to, "seconds": secs})
        return secs

    def refresh_trust(self, ids):
        """last_used_at of these users' addresses = now: the trusted login's
        touch (at most once an hour) then writes nothing, as in run.py."""
        ids = sorted(ids)
        now = int(time.time())
        stmts = ["UPDATE trusted_addresses SET last_used_at = %d WHERE user_id IN (%s);"
                 % (now, ",".join(str(i) for i in ids[j:j + 1000])) for j in range(0, len(ids), 1000)]
        self.mysql("\n".join(stmts))

    def write_users(self, path, ids, trusted=True, password=None, secret=True, login=None, address=None):
        """A users file of the generator: login, password, secret (hex), address."""
        with open(path, "w") as f:
            for i in ids:
                f.write("%s\t%s\t%s\t%s\n" % (
                    login(i) if login else self.login(i), password or self.password,
                    (self.secret(i) if secret is True else secrets.token_bytes(20)).hex(),
                    address(i) if address else self.address(i, random.randrange(TRUSTED_PER_USER))))
        return path


def table_sizes(db):
    """Rows (exact COUNT(*)) and data + index MiB (information_schema) of the tables that grow."""
    out = {}
    for t in ("users", "totp_secrets", "trusted_addresses", "challenges", "audit_log", "login_failures",
              "email_confirmations", "email_sends"):
        rows = int(db.scalar("SELECT COUNT(*) FROM %s" % t))
        mib = db.scalar("SELECT ROUND((data_length + index_length) / 1048576, 1) FROM information_schema.tables"
                        " WHERE table_schema = '%s' AND table_name = '%s'" % (db.db, t))
        out[t] = {"rows": rows, "mib": float(mib)}
    return out


def innodb_backlog(db):
    """(dirty pages, undo history length): InnoDB's work still owed after a bulk load."""
    dirty = int(db.scalar("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
                          " WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_PAGES_DIRTY'") or 0)
    status = db.sql("SHOW ENGINE INNODB STATUS")
    m = re.search(r"History list length (\d+)", status.replace("\\n", "\n"))
    return dirty, int(m.group(1)) if m else 0


def settle(db, timeout=300.0):
    """Wait until InnoDB has written the pages and purged the undo a load left
    (at most timeout s): MariaDB's CPU per login is read from its process, and
    its page cleaner and purge threads, flushing and purging gigabytes of a
    load, would count as the logins' cost.  Returns what it waited and saw."""
    t0 = time.monotonic()
    default_pct = db.scalar("SELECT @@GLOBAL.innodb_max_dirty_pages_pct")
    default_io = db.rows("SELECT @@GLOBAL.innodb_io_capacity, @@GLOBAL.innodb_io_capacity_max")[0]
    # the page cleaner writes everything, now, and as fast as the disk takes it (its default pace, 200
    # pages a second, would take a quarter of an hour over the pages of 1,000,000 users)
    db.sql("SET GLOBAL innodb_io_capacity_max = 100000; SET GLOBAL innodb_io_capacity = 50000;"
           " SET GLOBAL innodb_max_dirty_pages_pct = 0")
    try:
        first = dirty, history = innodb_backlog(db)
        while (dirty > 100 or history > 1000) and time.monotonic() - t0 <= timeout:
            time.sleep(1.0)
            dirty, history = innodb_backlog(db)
    finally:
        db.sql("SET GLOBAL innodb_max_dirty_pages_pct = %s; SET GLOBAL innodb_io_capacity = %s;"
               " SET GLOBAL innodb_io_capacity_max = %s" % (default_pct, default_io[0], default_io[1]))
    return {"seconds": round(time.monotonic() - t0, 1), "dirty_pages": [first[0], dirty],
            "history_length": [first[1], history]}


def start_db(work, buffer_pool_mib):
    db = H.MariaDB(Path(work) / "mariadb")
    db.start()
    db.sql("SET GLOBAL innodb_buffer_pool_size = %d" % (buffer_pool_mib * 1024 * 1024))
    # the harness's 16 MiB redo log would make a bulk load of gigabytes one long checkpoint
    db.sql("SET GLOBAL innodb_log_file_size = %d" % (512 * 1024 * 1024))
    R.DB_PID[0] = db.proc.pid
    R.DB[0] = db
    return db


# --------------------------------------------------------------------------
# A. Cost as the work grows
# --------------------------------------------------------------------------

def explain_logins(db, data, cfgs, args):
    """EXPLAIN of every statement one trusted and one challenge login ran,
    read from MariaDB's general log (the prepared statements with their
    values).  A full scan (type ALL or index over more than 100 rows) is
    flagged; "bounded" when the statement has a LIMIT (a prune of expired
    rows: when nearly all rows are expired, as in this data, a scan that
    stops after LIMIT matches is the cheaper plan), "by design" for the
    module's scan of users for the dummy hashes (once per
    password.dummy_refresh)."""
    db.sql("SET GLOBAL log_output = 'TABLE'; TRUNCATE TABLE mysql.general_log; SET GLOBAL general_log = 1")
    try:
        # MariaDB logs an executed statement with its values only when the log was on as it was prepared:
        # new radiusd, new connections, statements prepared again.
        for c in cfgs:
            c.server.stop()
            c.server.start()
            R.generate(c, args, count=1, label="explain %d" % c.num)
    finally:
        db.sql("SET GLOBAL general_log = 0")
    out = db.sql("SELECT HEX(argument) FROM mysql.general_log WHERE command_type = 'Execute'"
                 " AND user_host LIKE '%s%%' ORDER BY event_time" % db.user, timeout=120)
    stmts = []
    for line in out.split():
        text = sql_with_hex_literals(bytes.fromhex(line))
        if text not in stmts:
            stmts.append(text)
    result = []
    for text in stmts:
        verb = text.split(None, 1)[0].upper()
        entry = {"statement": text, "plan": [], "full_scan": False}
        if verb in ("SELECT", "UPDATE", "DELETE") or (verb == "INSERT" and " SELECT " in text.upper()):
            r = subprocess.run(["mariadb", "--no-defaults", "-S", db.socket, "-uroot", "-B", db.db],
                               input="EXPLAIN " + text + ";\n", capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                entry["error"] = r.stderr.strip()[-500:]
            else:
                lines = r.stdout.splitlines()
                cols = lines[0].split("\t") if lines else []
                for row in lines[1:]:
                    p = dict(zip(cols, row.split("\t")))
                    entry["plan"].append(p)
                    rows = int(p.get("rows") or 0) if (p.get("rows") or "NULL") != "NULL" else 0
                    if p.get("type") in ("ALL", "index") and not (p.get("table") or "").startswith("<") \
                            and rows > 100:
                        entry["full_scan"] = True
        if entry["full_scan"]:
            if text.startswith("SELECT MIN(password_hash), COUNT(*) FROM users"):
                entry["scan_note"] = "by design"
            elif " LIMIT " in text.upper() and verb in ("DELETE", "UPDATE"):
                entry["scan_note"] = "bounded"
        result.append(entry)
    return result


def sql_with_hex_literals(raw):
    """The general log's text of an executed statement, with each string
    literal that holds binary bytes written as X'hex', so that it can be
    sent back as text.  MariaDB logs such a value with each byte that is
    not valid UTF-8 as the four characters \\xHH, then quoted with backslash
    escapes; the other literals are kept as they are.  (A backslash byte
    followed by x and two hex digits would be read wrongly: one plan in 10^5.)"""
    hexdigits = b"0123456789abcdefABCDEF"
    esc = {ord("0"): 0, ord("n"): 10, ord("r"): 13, ord("Z"): 26, ord("b"): 8, ord("t"): 9}
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] != 0x27:	# '
            out.append(raw[i])
            i += 1
            continue
        start = i
        i += 1
        text = bytearray()
        while i < len(raw):
            c = raw[i]
            if c == 0x5c and i + 1 < len(raw):	# backslash escape of the literal
                text.append(esc.get(raw[i + 1], raw[i + 1]))
                i += 2
            elif c == 0x27 and raw[i + 1:i + 2] == b"'":
                text.append(0x27)
                i += 2
            elif c == 0x27:
                i += 1
                break
            else:
                text.append(c)
                i += 1
        val = bytearray()
        binary = any(c < 0x20 for c in text)
        k = 0
        while k < len(text):
            if text[k] == 0x5c and text[k + 1:k + 2] == b"x" and k + 3 < len(text) + 0 \
                    and text[k + 2] in hexdigits and text[k + 3] in hexdigits:
                val.append(int(text[k + 2:k + 4], 16))
                binary = True
                k += 4
            else:
                val.append(text[k])
                k += 1
        if binary:
            out += b"X'" + val.hex().encode() + b"'"
        else:
            out += raw[start:i]
    return out.decode("utf-8", errors="replace")


def run_scale(args, work, db, data, key_file):
    """Measure configurations 4 and 5 at each size of args.scale; returns the JSON section."""
    cfgs = [R.Config(4, "trusted", "trusted", "rlm_vrms2fa, trusted address (1 round)"),
            R.Config(5, "challenge", "challenge", "rlm_vrms2fa, new address (2 rounds)")]
    # The control: stock rlm_sql + rlm_pap on the same MariaDB, its own 1,000 users at every size.  The
    # sizes run one after the other, minutes apart, and this machine's speed drifts by more than 10%
    # in minutes (bench/README.md): what the control's figures move by is the machine, not the data.
    control = R.Config(2, "stock-pap", "password", "rlm_sql + rlm_pap, control (its data does not grow)")
    stock_users = R.Users(CONTROL_USERS)
    R.create_stock_db(db, "radius")
    R.load_stock(db, "radius", stock_users, CONTROL_USERS, with_totp=False)
    control.users_file = stock_users.write_file(work / "scale-stock.tsv", CONTROL_USERS)
    servers = []
    section = {"sizes": [], "settings": {"sizes": args.scale, "rounds": args.scale_rounds,
                                         "trusted_duration": args.scale_duration,
                                         "challenge_logins": challenge_count(args),
                                         "buffer_pool_mib": args.buffer_pool_mib,
                                         "radiusd_prunes": args.scale_prune,
                                         "trusted_per_user": TRUSTED_PER_USER}}
    challenge_logins = challenge_count(args)
    try:
        for size in args.scale:
            log("scale: growing the database to %d users ..." % size)
            secs = data.grow(size)
            settled = settle(db)
            log("  settled in %.0f s: dirty pages %d -> %d, undo history %d -> %d" % (
                settled["seconds"], settled["dirty_pages"][0], settled["dirty_pages"][1],
                settled["history_length"][0], settled["history_length"][1]))
            sizes = table_sizes(db)
            log("  %.1f s; %s" % (secs, ", ".join("%s %d rows %.1f MiB" % (t, v["rows"], v["mib"])
                                                   for t, v in sizes.items() if v["rows"])))
            if not servers:
                for c in cfgs:
                    c.server = R.Server(work / ("scale-radiusd-%d-%s" % (c.num, c.name)), c, db, key_file,
                                        args.threads_start, args.threads_max)
                    # run.py's configuration 4 and 5 module file; the expired rows stay in the tables
                    # (retention.prune_interval = 0: pruned only by vrms2fa-admin prune) unless --scale-prune
                    overrides = {("email", "enabled"): "no", ("pool", "max"): args.threads_max}
                    if not args.scale_prune:
                        overrides[("retention", "prune_interval")] = 0
                    H.write_module_config(c.server.raddb / "mods-enabled" / "vrms2fa", db, key_file, overrides)
                    servers.append(c.server)
                    c.server.start()
                control.server = R.Server(work / "scale-radiusd-2-stock-pap", control, db, key_file,
                                          args.threads_start, args.threads_max)
                servers.append(control.server)
                control.server.start()
            # The users that log in, spread over the whole table.
            rng = random.Random(size)
            trusted_ids = rng.sample(range(1, size + 1), min(size, 10000))
            data.refresh_trust(trusted_ids)
            cfgs[0].users_file = data.write_users(work / "scale-trusted.tsv", trusted_ids)
            cfgs[1].users_file = data.write_users(work / "scale-challenge.tsv",
                                                  rng.sample(range(1, size + 1), min(size, 4 * challenge_logins)))
            cfgs[1].state_file = work / "scale-state.tsv"	# across the sizes: the users of the last one are in
            budget = StepBudget(min(size, 4 * challenge_logins))
            for c in cfgs + [control]:
                c.runs = []
                R.check_probe(c, R.generate(c, args, count=1, label="probe %d %s" % (c.num, c.name)))
            # Warm-up: the buffer pool's pages of this size, the threads, the connections.
            w = R.generate(cfgs[0], args, duration=max(args.warmup, 1.0), label="warm-up 4 trusted")
            log("  " + w["line"])
            budget.take(challenge_logins + 1)	# + the probe
            w = R.generate(cfgs[1], args, count=challenge_logins, label="warm-up 5 challenge")
            log("  " + w["line"])
            w = R.generate(control, args, duration=max(args.warmup, 1.0), label="warm-up 2 stock-pap")
            log("  " + w["line"])
            for rnd in range(args.scale_rounds):
                res = R.generate(control, args, duration=args.scale_duration,
                                 label="%d users, 2 stock-pap (control)" % size, measured=True)
                control.runs.append(res)
                log("  " + res["line"])
                res = R.generate(cfgs[0], args, duration=args.scale_duration,
                                 label="%d users, 4 trusted" % size, measured=True)
                cfgs[0].runs.append(res)
                log("  " + res["line"])
                budget.take(challenge_logins)
                res = R.generate(cfgs[1], args, count=challenge_logins,
                                 label="%d users, 5 challenge" % size, measured=True)
                cfgs[1].runs.append(res)
                log("  " + res["line"])
            entry = {"users": size, "load_seconds": secs, "settled": settled, "tables": sizes, "configs": {}}
            for c in cfgs + [control]:
                entry["configs"][str(c.num)] = figures(c)
            entry["tables_after"] = table_sizes(db)
            section["sizes"].append(entry)
        log("scale: EXPLAIN of a trusted and a challenge login's statements at %d users ..." % args.scale[-1])
        section["explain"] = explain_logins(db, data, cfgs, args)
    finally:
        for s in servers:
            s.stop()
    base = section["sizes"][0]["configs"]
    tg = {}
    for entry in section["sizes"]:
        for num, f in entry["configs"].items():
            b = base[num]
            f["ratio"] = {"cpu": R.ratio(f["cpu_us_per_login"], b["cpu_us_per_login"]),
                          "p99": R.ratio(f["p99_ms"], b["p99_ms"])}
        ctl = entry["configs"]["2"]["ratio"]
        for num, f in entry["configs"].items():
            if num == "2":
                continue
            # the ratio with the machine's drift taken out: over the control's own ratio at this size
            f["ratio_vs_control"] = {k: R.ratio(f["ratio"][k], ctl[k]) if f["ratio"][k] and ctl[k] else None
                                     for k in ("cpu", "p99")}
            f["ok"] = all(v is not None and v <= 1.0 + SCALE_TARGET for v in f["ratio_vs_control"].values())
            tg["%s@%d" % (num, entry["users"])] = f["ok"]
    section["targets"] = tg
    section["full_scans"] = [e["statement"] for e in section["explain"] if e["full_scan"] and not e.get("scan_note")]
    section["other_scans"] = [{"statement": e["statement"], "note": e["scan_note"]} for e in section["explain"]
                              if e["full_scan"] and e.get("scan_note")]
    section["load_seconds"] = data.load_seconds
    return section


def challenge_count(args):
    """Logins of each challenge run: the same at every size, and two runs fit
    in one 30 s step of the first size's users (a code is good once per user
    per step)."""
    return max(5, (min(args.scale[0], 2000) - 10) // 2)	# 10 to spare: the probe logins


class StepBudget:
    """Fresh users of the challenge runs: each user once per TOTP step.
    take(n) waits for the next step when fewer than n are left in this one
    (the generator would wait too, but inside a measured run)."""

    def __init__(self, users):
        self.users = users
        self.step = None
        self.used = 0

    def take(self, n):
        step = int(time.time() // R.TOTP_PERIOD)
        if step == self.step and self.used + n > self.users:
            wait = (step + 1) * R.TOTP_PERIOD - time.time() + 0.2
            log("  (waiting %.0f s for the next TOTP step: fresh codes for the challenge run)" % wait)
            time.sleep(max(0.0, wait))
            step = int(time.time() // R.TOTP_PERIOD)
        if step != self.step:
            self.step, self.used = step, 0
        self.used += n


def figures(c):
    """The medians of a configuration's rounds at one size."""
    runs = c.runs
    cpu = [(r["cpu_us_per_login"]["radiusd"] or 0) + (r["cpu_us_per_login"]["mariadb"] or 0) for r in runs]
    return {
        "name": c.name,
        "cpu_us_per_login": round(statistics.median(cpu), 1),
        "radiusd_us": statistics.median(r["cpu_us_per_login"]["radiusd"] or 0 for r in runs),
        "mariadb_us": statistics.median(r["cpu_us_per_login"]["mariadb"] or 0 for r in runs),
        "p99_ms": statistics.median(r["latency_ms"]["p99"] for r in runs),
        "p50_ms": statistics.median(r["latency_ms"]["p50"] for r in runs),
        "logins_per_s": statistics.median(r["logins_per_s"] for r in runs),
        "logins_ok": sum(r["logins_ok"] for r in runs),
        "logins_failed": sum(r["logins_failed"] for r in runs),
        "timeouts": sum(r["timeouts"] for r in runs),
        "other_cpu_pct": max((r["other_cpu_pct"] or 0) for r in runs),
        "db_per_login": {k: statistics.median(r["db_per_login"][k] for r in runs)
                         for k in ("Questions", "Handler_commit", "Handler_read_key", "Handler_read_next")}
        if all(r.get("db_per_login") for r in runs) else None,
    }


# --------------------------------------------------------------------------
# B. Memory
# --------------------------------------------------------------------------

HOOK = "#!/bin/sh\n# The email hook of the memory measure (bench/scale.py): sends nothing, exits at once.\nexit 0\n"


def memory_users(requests):
    """Users per path: each code path can use a user once per 30 s step, and
    every failing path stays under the lockout's 100 failures per name."""
    return max(2000, min(10000, requests // 100))


def run_memory(args, work, db, data, key_file):
    """radiusd's VmRSS over args.memory_requests requests mixed over all paths; the JSON section."""
    k = memory_users(args.memory_requests)
    # new users, never logged in by the scale measure (a code is good once per user per step)
    base = data.count
    log("memory: %d more users ..." % (5 * k))
    data.grow(base + 5 * k)
    ranges = {p: list(range(base + 1 + j * k, base + 1 + (j + 1) * k)) for j, p in
              enumerate(["trusted", "challenge", "wrong-code", "wrong-password", "email"])}
    e = ranges["email"]
    # the email path's users have no two-step verification
    data.mysql("DELETE FROM totp_secrets WHERE user_id BETWEEN %d AND %d;" % (e[0], e[-1]))
    data.refresh_trust(ranges["trusted"])
    hook = work / "email-hook"
    hook.write_text(HOOK)
    os.chmod(hook, 0o755)
    cfg = R.Config(4, "memory", "trusted", "rlm_vrms2fa, all paths, email on")
    server = R.Server(work / "memory-radiusd", cfg, db, key_file, args.threads_start, args.threads_max)
    cfg.server = server
    # run.Server wrote configuration 4's module file: email confirmation on, through the hook
    H.write_module_config(server.raddb / "mods-enabled" / "vrms2fa", db, key_file, {
        ("email", "enabled"): "yes", ("email", "hook"): str(hook), ("email", "max_per_hour"): 100,
        ("email", "max_running_hooks"): args.threads_max, ("pool", "max"): args.threads_max})
    unknown = lambda i: "nobody%07d" % i  # noqa: E731
    new_addr = lambda i: "-"  # noqa: E731  (the code modes send a new address per login)
    files = {
        "trusted": data.write_users(work / "mem-trusted.tsv", ranges["trusted"]),
        "challenge": data.write_users(work / "mem-challenge.tsv", ranges["challenge"], address=new_addr),
        "wrong-code": data.write_users(work / "mem-wrong-code.tsv", ranges["wrong-code"], secret=False,
                                       address=new_addr),
        "unknown": data.write_users(work / "mem-unknown.tsv", range(1, k + 1), secret=False, login=unknown,
                                    address=new_addr),
        "email": data.write_users(work / "mem-email.tsv", e, secret=False, address=new_addr),
        "wrong-password": data.write_users(work / "mem-wrong-password.tsv", ranges["wrong-password"],
                                           password=data.password + "x", secret=False, address=new_addr),
    }
    # trusted: one round from the user's trusted address; all others: challenge mode, a new address per
    # login (round 1; round 2 with the code when round 1 was answered with a challenge)
    paths = args.memory_paths
    modes = {p: ("trusted" if p == "trusted" else "challenge") for p in paths}
    inflight = max(2, args.inflight // len(paths))
    section = {"requests": args.memory_requests, "users_per_path": k, "inflight_per_path": inflight,
               "points": [], "paths": {p: {} for p in paths}}
    try:
        server.start()

        def mixed(requests, label):
            """All six paths at once, requests spread evenly; the totals of each."""
            procs = {}
            for p in paths:
                logins = max(1, int(round(requests / len(paths) / REQUESTS_PER_LOGIN[p])))
                cmd = [str(R.BENCH), "--server", "127.0.0.1:%d" % server.port, "--secret", server.secret,
                       "--mode", modes[p], "--users", str(files[p]), "--inflight", str(inflight),
                       "--sockets", "1", "--timeout-ms", str(args.timeout_ms), "--retries", str(args.retries),
                       "--json", "--label", "%s %s" % (label, p), "--count", str(logins)]
                if modes[p] == "challenge":
                    cmd += ["--state", str(work / ("mem-state-%s.tsv" % p))]
                procs[p] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            out = {}
            for p, proc in procs.items():
                stdout, stderr = proc.communicate(timeout=3600)
                if proc.returncode != 0:
                    raise RuntimeError("vrms2fa-bench (%s) failed (%d): %s" % (p, proc.returncode, stderr.strip()))
                out[p] = json.loads(stdout)
                section["paths"][p]["elapsed"] = round(section["paths"][p].get("elapsed", 0) + out[p]["elapsed"], 2)
            return out

        def add(totals):
            for p, r in totals.items():
                t = section["paths"][p]
                for key in ("sent", "accepts", "challenges", "rejects", "timeouts", "logins_ok", "logins_failed",
                            "unexpected", "bad_replies"):
                    t[key] = t.get(key, 0) + r[key]

        t0 = time.monotonic()
        # RSS is read idle (after cleanup_delay, 5 s: the last requests freed) after the warm-up and at the
        # end; --quick reads it at once after both (the same load behind both figures), 12 s shorter
        idle_wait = 0 if args.quick else 6
        section["idle_wait_s"] = idle_wait
        first_audit = int(db.scalar("SELECT COALESCE(MAX(id), 0) FROM audit_log"))
        warm = max(300 if args.quick else 1000, args.memory_requests // 20)
        log("memory: warm-up, %d requests over the six paths ..." % warm)
        mixed(warm, "warm-up")
        time.sleep(idle_wait)
        before = server.rss_kib()
        section["after_warmup_kib"] = before
        log("  RSS after the warm-up (idle): %s MiB" % R.mib(before))
        done = 0
        for tenth in range(1, 11):
            n = int(round(args.memory_requests * tenth / 10.0)) - done
            res = mixed(n, "memory %d0%%" % tenth)
            add(res)
            done += sum(r["sent"] for r in res.values())	# first transmissions (retransmits apart)
            rss = server.rss_kib()
            section["points"].append({"requests": done, "rss_kib": rss})
            log("  %3d%%: %8d requests, RSS %s MiB (%+.2f)" % (tenth * 10, done, R.mib(rss),
                                                               (rss - before) / 1024.0))
        time.sleep(idle_wait)
        after = server.rss_kib()
        section["final_idle_kib"] = after
        section["sent"] = done
        section["growth_kib"] = after - before
        section["ok"] = section["growth_kib"] < MEMORY_TARGET_MIB * 1024
        section["seconds"] = round(time.monotonic() - t0, 1)
        section["emails_sent"] = int(db.scalar("SELECT COUNT(*) FROM email_sends"))
        # what the module did, from its audit rows (warm-up included)
        section["audit_events"] = {ev: int(n) for ev, n in db.rows(
            "SELECT event, COUNT(*) FROM audit_log WHERE id > %d GROUP BY event ORDER BY event" % first_audit)}
        section["threads"] = server.threads()
        log("  idle at the end: %s MiB; growth %.2f MiB" % (R.mib(after), section["growth_kib"] / 1024.0))
    finally:
        server.stop()
    return section


# --------------------------------------------------------------------------
# Both, and their tables
# --------------------------------------------------------------------------

def run(args, work):
    """Both measures (each skipped when off) on one private MariaDB; returns
    {"scale": section or None, "memory": section or None}."""
    out = {"scale": None, "memory": None}
    if not args.scale and not args.memory_requests:
        return out
    work = Path(work)
    db = start_db(work / "scale", args.buffer_pool_mib)
    try:
        key_file = H.write_key_file(work / "scale.key")
        admin_conf = H.write_module_config(work / "scale-admin.conf", db, key_file)
        H.Admin(admin_conf).migrate()
        data = Data(db, key_file, work)
        data.start()
        if args.scale:
            out["scale"] = run_scale(args, work, db, data, key_file)
        if args.memory_requests:
            out["memory"] = run_memory(args, work, db, data, key_file)
    finally:
        db.stop()
        R.DB[0] = None
        R.DB_PID[0] = None
    return out


def print_results(result):
    """The tables of both sections of a result (run.py's JSON)."""
    s = result.get("scale")
    if s:
        log("cost as the work grows: CPU per login (radiusd + MariaDB, us) and p99 (ms), medians of %d round(s);"
            % s["settings"]["rounds"])
        log("each user with %d trusted addresses, one expired challenge and one audit row per user; %s"
            % (s["settings"]["trusted_per_user"],
               "radiusd prunes the expired rows" if s["settings"].get("radiusd_prunes")
               else "the expired rows stay (radiusd does not prune: retention.prune_interval = 0)"))
        for e in s["sizes"]:
            log("  %d users: %s; after the runs %d challenges" % (
                e["users"], ", ".join("%s %d rows %.1f MiB" % (t, v["rows"], v["mib"])
                                      for t, v in e["tables"].items() if v["rows"]),
                e["tables_after"]["challenges"]["rows"]))
        log("x: the figure over the first size's; /2: that over the control's own x at the same size (row 2,")
        log("stock rlm_sql + rlm_pap on 1,000 users of its own: the machine's drift between sizes)")
        hdr = "%-2s %-10s %9s %9s %7s %7s %9s %8s %7s %8s  %s" % (
            "#", "config", "users", "CPU us", "x", "/2", "p99 ms", "x", "/2", "logins/s", "/2 within 10% of the first size")
        log(hdr)
        log("-" * len(hdr))
        for num in ("2", "4", "5"):
            for e in s["sizes"]:
                f = e["configs"].get(num)
                if f is None:
                    continue
                vs = f.get("ratio_vs_control") or {}
                log("%-2s %-10s %9d %9.0f %7.2f %7s %9.2f %8.2f %7s %8.0f  %s" % (
                    num, f["name"], e["users"], f["cpu_us_per_login"], f["ratio"]["cpu"] or 0,
                    "%.2f" % vs["cpu"] if vs.get("cpu") else "-", f["p99_ms"], f["ratio"]["p99"] or 0,
                    "%.2f" % vs["p99"] if vs.get("p99") else "-", f["logins_per_s"],
                    "control" if num == "2" else ("ok" if f["ok"] else "MISSED")))
        last = s["sizes"][-1]["users"]
        log("EXPLAIN at %d users, statements of a trusted and a challenge login:" % last)
        for x in s["explain"]:
            plan = "; ".join("%s %s key=%s rows=%s" % (p.get("table"), p.get("type"), p.get("key"), p.get("rows"))
                             for p in x["plan"]) or x.get("error", "(no plan: INSERT)")
            flag = ""
            if x["full_scan"]:
                flag = "FULL SCAN (%s) " % x["scan_note"] if x.get("scan_note") else "FULL SCAN "
            log("  %s%s" % (flag, x["statement"][:110]))
            log("      %s" % plan[:220])
        log("full scans: %s%s" % (len(s["full_scans"]) or "none",
                                  "; bounded or by design: %d" % len(s["other_scans"]) if s["other_scans"] else ""))
        log()
    m = result.get("memory")
    if m:
        log("memory: radiusd's RSS over %d requests mixed over %s (%d users per path, %d in flight each)"
            % (m["sent"], ", ".join(m["paths"]), m["users_per_path"], m["inflight_per_path"]))
        log("  after the warm-up %s MiB; %s; idle at the end %s MiB" % (
            R.mib(m["after_warmup_kib"]), ", ".join("%d: %s" % (p["requests"], R.mib(p["rss_kib"]))
                                                    for p in m["points"]), R.mib(m["final_idle_kib"])))
        log("  answers: %s" % "; ".join("%s %d accept %d challenge %d reject %d timeout" % (
            p, t["accepts"], t["challenges"], t["rejects"], t["timeouts"]) for p, t in m["paths"].items()))
        log("  audit rows written: %s; emails sent (hook run): %d" % (
            ", ".join("%s %d" % kv for kv in m["audit_events"].items()) or "none", m["emails_sent"]))
        log("  growth after the warm-up: %.2f MiB   target < %.0f MiB  %s%s" % (
            m["growth_kib"] / 1024.0, MEMORY_TARGET_MIB, "ok" if m["ok"] else "MISSED",
            "  (a short run: the pools still fill, not a result)" if m["requests"] < 100000 else ""))
        log()


def main(argv=None):
    p = argparse.ArgumentParser(description="Cost from 1,000 to 1,000,000 users, and radiusd's memory over "
                                            "1,000,000 requests (also run by bench/run.py).")
    p.add_argument("--quick", action="store_true", help="sizes 200 and 2,000, 3,000 memory requests")
    p.add_argument("--inflight", type=int, default=64, help="requests in flight (default 64)")
    p.add_argument("--sockets", type=int, default=4, help="UDP sockets of the generator (default 4)")
    p.add_argument("--timeout-ms", type=int, default=1000, help="retransmission timeout (default 1000)")
    p.add_argument("--retries", type=int, default=3, help="retransmissions before a timeout (default 3)")
    p.add_argument("--threads-start", type=int, default=8, help="radiusd thread pool start_servers (default 8)")
    p.add_argument("--threads-max", type=int, default=8, help="radiusd max_servers (default 8)")
    p.add_argument("--warmup", type=float, help="seconds of warm-up at each size (default 3; quick 1)")
    p.add_argument("--wait-idle", type=float, help="wait up to this long for an idle machine before each "
                                                   "measured run (default 120; quick 0)")
    p.add_argument("--out", help="folder of the JSON result (default bench/results)")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    add_options(p)
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0)
    args.wait_idle = args.wait_idle if args.wait_idle is not None else (0.0 if args.quick else 120.0)
    settle_options(args, p)
    for path in (R.BENCH, H.MODULE_SO, H.ADMIN):
        if not Path(path).exists():
            sys.exit("scale.py: missing %s (make)" % path)
    work = Path(tempfile.mkdtemp(prefix="vrms2fa-scale-", dir="/tmp"))
    t0 = time.monotonic()
    try:
        log("work folder %s%s" % (work, " (kept)" if args.keep else ""))
        result = {"benchmark": "rlm_vrms2fa scale and memory", "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                  "git": R.git_describe(), "machine": R.machine()}
        result.update(run(args, work))
        result["elapsed_s"] = round(time.monotonic() - t0, 1)
        log()
        print_results(result)
        out = Path(args.out) if args.out else HERE / "results"
        out.mkdir(parents=True, exist_ok=True)
        path = out / ("%s-scale%s.json" % (time.strftime("%Y%m%d-%H%M%S"), "-quick" if args.quick else ""))
        path.write_text(json.dumps(result, indent=2) + "\n")
        log("results: %s; %.0f s in all" % (path, result["elapsed_s"]))
        return 0
    except Exception as e:
        log("scale.py: %s" % e)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
