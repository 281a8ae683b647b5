"""Retention (issue 15): expired rows are deleted, live ones kept, by
`vrms2fa-admin prune` (and counted, not deleted, by `prune --dry-run`) and
by radiusd itself after logins (retention.prune_interval); a flood of
unknown login names (a login_failures row per name and per name and
address) leaves a bounded number of rows; the prune queries use indexes.

The rule (rlm_vrms2fa/core/retention.h, README "What is kept, and for how
long"): challenges, email confirmations and trusted addresses an hour past
expiry, email sends after a day, failure records quiet for
lockout.reset_after and not locked, pending enrollment secrets of
long-expired challenges, audit rows older than retention.audit_days.
Rows are made expired by writing their timestamps directly in MariaDB.
"""
import time

import harness as H
from harness import REJECT


DAY = 86400


def _uid(mariadb, login):
    return int(mariadb.scalar("SELECT id FROM users WHERE login = '%s'" % login))


def _seed(mariadb, world, admin):
    """Rows of every class, expired and live, that only this call owns.
    Returns {class: (sql counting the expired ones left, sql counting the
    live ones left, how many of each were written)}."""
    tag = H.unique("ret")
    now = int(time.time())
    company = world.company()
    cheap = H.crypt_hash("unused", "$6$")	# their passwords are never checked: no argon2id in the admin tool
    u = world.user(company=company, hash=cheap)
    uid = _uid(mariadb, u.login)
    # pending secrets: one totp_secrets row per user
    p_old, p_new, p_admin, p_active = (world.user(company=company, hash=cheap) for _ in range(4))
    ids = {k: _uid(mariadb, x.login) for k, x in
           (("old", p_old), ("new", p_new), ("admin", p_admin), ("active", p_active))}
    db = mariadb.db
    sql = lambda q: mariadb.sql(q, database=db)

    # challenges: expired 2 h ago (pruned); expired a minute ago, and live (kept)
    for i, exp in enumerate((now - 7200, now - 7100, now - 60, now + 100)):
        sql("INSERT INTO challenges (token_digest, user_id, kind, nas, address, created_at, expires_at,"
            " attempts_left, spent) VALUES (UNHEX(SHA2('%s-ch-%d', 256)), %d, 'code', '127.0.0.1', '',"
            " %d, %d, 3, %d)" % (tag, i, uid, exp - 120, exp, i % 2))
    # email confirmations: the same times
    for i, exp in enumerate((now - 7200, now - 86400 * 3, now - 60, now + 600)):
        sql("INSERT INTO email_confirmations (user_id, address, salt, code_hash, token_hash, created_at,"
            " expires_at, confirmed_at) VALUES (%d, '192.0.2.%d', UNHEX(MD5('%s-%d')), UNHEX(SHA2('%s-c-%d', 256)),"
            " UNHEX(SHA2('%s-t-%d', 256)), %d, %d, %s)"
            % (uid, i + 1, tag, i, tag, i, tag, i, exp - 900, exp, "NULL" if i % 2 else str(exp - 800)))
    # email sends: two days old (pruned); an hour old and a minute old (kept)
    for at in (now - 2 * DAY, now - 2 * DAY - 5, now - 3600, now - 60):
        sql("INSERT INTO email_sends (user_id, sent_at) VALUES (%d, %d)" % (uid, at))
    # failure records (lockout.reset_after = 3600, the default): quiet for two
    # hours and unlocked, or locked long ago (pruned); recent, locked now, or a
    # lock that ended a minute ago (kept)
    failures = [("old-name", "", now - 7200, 0, True), ("old-pair", "192.0.2.9", now - 7200, 0, True),
                ("old-lock", "", now - 9000, now - 7200, True),
                ("recent", "", now - 60, 0, False), ("locked", "192.0.2.9", now - 7200, now + 600, False),
                ("lock-ended", "", now - 7200, now - 60, False)]
    for name, addr, updated, until, _ in failures:
        sql("INSERT INTO login_failures (login, address, failures, lockouts, locked_until, updated_at)"
            " VALUES ('%s-%s', '%s', 3, %d, %d, %d)" % (tag, name, addr, 1 if until else 0, until, updated))
    # trusted addresses: expired two hours ago (pruned); a minute ago, in a day, never (kept)
    for i, exp in enumerate((now - 7200, now - 60, now + DAY, None)):
        sql("INSERT INTO trusted_addresses (user_id, scope, address, kind, how, created_at, proven_at,"
            " last_used_at, expires_at) VALUES (%d, '%s', '198.51.100.%d', 'ipv4', 'code', %d, %d, %d, %s)"
            % (uid, tag[:32], i + 1, now - 40 * DAY, now - 40 * DAY, now - 40 * DAY,
               "NULL" if exp is None else exp))
    # pending secrets: of an enrollment challenge two hours ago (pruned); of one a
    # minute ago, an admin's "enroll begin" of ten days ago, an active secret (kept)
    for key, status, created, digest in (("old", "pending", now - 7200, True), ("new", "pending", now - 60, True),
                                         ("admin", "pending", now - 10 * DAY, False),
                                         ("active", "active", now - 10 * DAY, False)):
        sql("INSERT INTO totp_secrets (user_id, status, sealed, key_id, challenge_digest, created_at)"
            " VALUES (%d, '%s', UNHEX(SHA2('%s-s', 256)), 1, %s, %d)"
            % (ids[key], status, tag, "UNHEX(SHA2('%s-d-%s', 256))" % (tag, key) if digest else "NULL", created))
    # device approvals: expired two hours ago, pending or approved (pruned); a minute ago, in ten minutes (kept)
    for i, (exp, approved) in enumerate(((now - 7200, None), (now - 7300, now - 7400), (now - 60, None),
                                         (now + 600, None))):
        sql("INSERT INTO device_approvals (user_id, scope, address, kind, nas, created_at, last_seen_at, expires_at,"
            " approved_at, approved_by) VALUES (%d, '%s', '02:00:5e:00:53:%02x', 'mac', '192.0.2.1', %d, %d, %d, %s, %s)"
            % (uid, tag[:32], i + 1, exp - 900, exp - 900, exp, "NULL" if approved is None else approved,
               "NULL" if approved is None else "'code'"))
    # audit rows: 400 days old (pruned; retention.audit_days = 365); 300 days and now (kept)
    for i, at in enumerate((now - 400 * DAY, now - 366 * DAY, now - 300 * DAY, now)):
        sql("INSERT INTO audit_log (at, actor, event, detail) VALUES (%d, 'test', '%s', '%d')" % (at, tag[:64], i))

    users = ",".join(str(i) for i in ids.values())
    return {
        "challenges": ("SELECT COUNT(*) FROM challenges WHERE user_id = %d AND expires_at < %d" % (uid, now - 3600),
                       "SELECT COUNT(*) FROM challenges WHERE user_id = %d AND expires_at >= %d" % (uid, now - 3600),
                       2, 2),
        "email_confirmations": ("SELECT COUNT(*) FROM email_confirmations WHERE user_id = %d AND expires_at < %d"
                                % (uid, now - 3600),
                                "SELECT COUNT(*) FROM email_confirmations WHERE user_id = %d AND expires_at >= %d"
                                % (uid, now - 3600), 2, 2),
        "email_sends": ("SELECT COUNT(*) FROM email_sends WHERE user_id = %d AND sent_at < %d" % (uid, now - DAY),
                        "SELECT COUNT(*) FROM email_sends WHERE user_id = %d AND sent_at >= %d" % (uid, now - DAY),
                        2, 2),
        "login_failures": ("SELECT COUNT(*) FROM login_failures WHERE login IN (%s)"
                           % ",".join("'%s-%s'" % (tag, f[0]) for f in failures if f[4]),
                           "SELECT COUNT(*) FROM login_failures WHERE login IN (%s)"
                           % ",".join("'%s-%s'" % (tag, f[0]) for f in failures if not f[4]), 3, 3),
        "trusted_addresses": ("SELECT COUNT(*) FROM trusted_addresses WHERE scope = '%s' AND expires_at < %d"
                              % (tag[:32], now - 3600),
                              "SELECT COUNT(*) FROM trusted_addresses WHERE scope = '%s'"
                              " AND (expires_at IS NULL OR expires_at >= %d)" % (tag[:32], now - 3600), 1, 3),
        "pending_secrets": ("SELECT COUNT(*) FROM totp_secrets WHERE user_id = %d" % ids["old"],
                            "SELECT COUNT(*) FROM totp_secrets WHERE user_id IN (%s) AND user_id <> %d"
                            % (users, ids["old"]), 1, 3),
        "device_approvals": ("SELECT COUNT(*) FROM device_approvals WHERE scope = '%s' AND expires_at < %d"
                             % (tag[:32], now - 3600),
                             "SELECT COUNT(*) FROM device_approvals WHERE scope = '%s' AND expires_at >= %d"
                             % (tag[:32], now - 3600), 2, 2),
        "audit_log": ("SELECT COUNT(*) FROM audit_log WHERE event = '%s' AND at < %d" % (tag[:64], now - 365 * DAY),
                      "SELECT COUNT(*) FROM audit_log WHERE event = '%s' AND at >= %d" % (tag[:64], now - 365 * DAY),
                      2, 2),
    }


def _left(mariadb, seeded):
    """{class: (expired rows left, live rows left)}."""
    return {cls: (int(mariadb.scalar(e)), int(mariadb.scalar(l))) for cls, (e, l, _, _) in seeded.items()}


def _written(seeded):
    return {cls: (ne, nl) for cls, (_, _, ne, nl) in seeded.items()}


def _pruned_audit_rows(mariadb):
    return int(mariadb.scalar("SELECT COUNT(*) FROM audit_log WHERE event = 'pruned'"))


def test_prune_deletes_expired_keeps_live_and_dry_run_counts(mariadb, world, admin, figures):
    """`prune --dry-run` deletes nothing and counts what `prune` then
    deletes, table by table; after `prune` the expired rows of every class
    are gone and the live ones are all there; one audit row per prune."""
    seeded = _seed(mariadb, world, admin)
    assert _left(mariadb, seeded) == _written(seeded)
    audits = _pruned_audit_rows(mariadb)

    dry = admin.json("prune", "--dry-run")
    assert dry["dry_run"] is True
    assert _left(mariadb, seeded) == _written(seeded), "--dry-run deleted rows"
    assert _pruned_audit_rows(mariadb) == audits, "a dry run wrote an audit row"

    t0 = time.monotonic()
    done = admin.json("prune")
    seconds = time.monotonic() - t0
    assert done["dry_run"] is False
    left = _left(mariadb, seeded)
    assert left == {cls: (0, live) for cls, (_, live) in _written(seeded).items()}, left
    assert _pruned_audit_rows(mariadb) == audits + 1

    counted = {t["table"]: t["rows"] for t in dry["tables"]}
    removed = {t["table"]: t["rows"] for t in done["tables"]}
    assert set(removed) == set(seeded), removed
    assert removed == counted, (counted, removed)
    for cls, (_, _, expired, _) in seeded.items():
        assert removed[cls] >= expired, (cls, removed)
    assert all(t["enabled"] for t in done["tables"])
    assert done["total"] == sum(removed.values())
    figures.append("retention: prune --dry-run counted %s; prune removed the same in %.2f s; "
                   "every live row kept" % (removed, seconds))

    # the text output names every table; a second dry run finds none of ours
    r = admin("prune", "--dry-run")
    for cls in seeded:
        assert cls in r.stdout, r.stdout
    assert "dry run: nothing deleted" in r.stdout


def test_prune_settings_zero_keep_forever(mariadb, world, admin, make_module_conf):
    """retention.audit_days = 0 keeps the audit log, lockout.reset_after = 0
    the failure records: prune reports them kept and deletes none of them,
    and still prunes the other tables."""
    seeded = _seed(mariadb, world, admin)
    conf = make_module_conf({("retention", "audit_days"): 0, ("lockout", "reset_after"): 0})
    done = admin.json("prune", config=str(conf))
    tables = {t["table"]: t for t in done["tables"]}
    assert tables["audit_log"]["enabled"] is False and tables["audit_log"]["rows"] == 0
    assert tables["login_failures"]["enabled"] is False and tables["login_failures"]["rows"] == 0
    left = _left(mariadb, seeded)
    assert left["audit_log"] == (2, 2) and left["login_failures"] == (3, 3), left
    assert left["challenges"] == (0, 2) and left["trusted_addresses"] == (0, 3), left
    r = admin("prune", "--dry-run", config=str(conf))
    assert "retention.audit_days = 0" in r.stdout and "lockout.reset_after = 0" in r.stdout, r.stdout


def test_prune_queries_use_indexes(mariadb):
    """Each prune is a range scan of an index (sql/005_retention.sql), not a
    scan of the table: EXPLAIN of each DELETE names the index."""
    now = int(time.time())
    # enough rows that the optimizer's choice is the one of a real table
    mariadb.sql("INSERT IGNORE INTO login_failures (login, address, failures, lockouts, locked_until, updated_at)"
                " SELECT CONCAT('explain-', seq), '', 1, 0, 0, %d - seq FROM seq_1_to_2000" % now,
                database=mariadb.db)
    expect = {
        "challenges WHERE expires_at < %d" % (now - 3600): "challenges_expires",
        "email_confirmations WHERE expires_at < %d" % (now - 3600): "email_confirmations_expires",
        "email_sends WHERE sent_at < %d" % (now - DAY): "email_sends_sent",
        "login_failures WHERE updated_at < %d AND locked_until < %d" % (now - 3599, now - 3599):
            "login_failures_quiet",
        "trusted_addresses WHERE expires_at < %d" % (now - 3600): "trusted_addresses_expires",
        "totp_secrets WHERE status = 'pending' AND created_at < %d AND challenge_digest IS NOT NULL"
        % (now - 4500): "totp_secrets_status_created",
        "device_approvals WHERE expires_at < %d" % (now - 3600): "device_approvals_expires",
        "audit_log WHERE at < %d" % (now - 365 * DAY): "audit_log_at",
    }
    for where, index in expect.items():
        out = mariadb.sql("EXPLAIN DELETE FROM %s LIMIT 200" % where, database=mariadb.db)
        cols = out.strip().split("\t")	# id select_type table type possible_keys key key_len ref rows Extra
        assert cols[3] == "range" and cols[5] == index, (where, out)
    mariadb.sql("DELETE FROM login_failures WHERE login LIKE 'explain-%'", database=mariadb.db)


def test_radiusd_prunes_expired_rows_without_the_tool(mariadb, world, admin, new_radiusd, figures):
    """With retention.prune_interval = 1, logins through radiusd (here
    unknown names, the cheapest) delete the expired rows of every class
    within a few seconds, but the audit log (the module's account may only
    add audit rows: vrms2fa-admin prune deletes old ones); the live ones stay."""
    rad = new_radiusd({("retention", "prune_interval"): 1})
    seeded = _seed(mariadb, world, admin)
    assert _left(mariadb, seeded) == _written(seeded)
    want = {cls: (expired if cls == "audit_log" else 0, live) for cls, (expired, live) in _written(seeded).items()}
    t0 = time.monotonic()
    sent, left = 0, None
    while time.monotonic() - t0 < 20:
        r = rad.request([("User-Name", H.unique("nobody-")), ("User-Password", "x"),
                         ("Calling-Station-Id", H.new_address())])
        assert r.code == REJECT, r
        sent += 1
        left = _left(mariadb, seeded)
        if left == want:
            break
        time.sleep(0.3)
    figures.append("retention: radiusd (prune_interval 1 s) pruned every expired class after %d logins, %.1f s"
                   % (sent, time.monotonic() - t0))
    assert left == want, left


def test_unknown_name_flood_leaves_bounded_rows(mariadb, new_radiusd, figures):
    """A flood of 10,000 unknown login names: each failed login writes two
    login_failures rows (the name, and the name from its address).  Most of
    the flood is written in bulk as it would have left the table (quiet for
    longer than lockout.reset_after); a few hundred more names go through
    radiusd.  radiusd prunes a full batch again at the next login while
    there is a backlog: once the flood is over and reset_after and the
    interval have passed, the flood's rows are gone but for the last few."""
    # a batch of 2000: a dozen turns clear the flood, however few logins win a turn in a
    # burst (one thread prunes at a time; the others go on) on a loaded machine
    reset_after, interval, batch = 2, 1, 2000
    rad = new_radiusd({("lockout", "reset_after"): reset_after, ("retention", "prune_interval"): interval,
                       ("retention", "prune_batch"): batch})
    tag = H.unique("flood")
    # under the sanitizers (scripts/test-sanitized.sh) a login is several times slower: fewer through radiusd
    live = 60 if H.RADIUSD_PRELOAD else 200
    bulk = 10000 - live
    now = int(time.time())
    t0 = time.monotonic()
    for first in range(1, bulk + 1, 5000):
        last = min(first + 4999, bulk)
        mariadb.sql("INSERT INTO login_failures (login, address, failures, lockouts, locked_until, updated_at)"
                    " SELECT CONCAT('%s-', seq), a.address, 1, 0, 0, %d - (seq %% 60)"
                    " FROM seq_%d_to_%d, (SELECT '' AS address UNION ALL SELECT '203.0.113.7') a"
                    % (tag, now - 10, first, last), database=mariadb.db)
    count = lambda: int(mariadb.scalar("SELECT COUNT(*) FROM login_failures WHERE login LIKE '%s-%%'" % tag))
    before = count()
    assert before == 2 * bulk
    bulk_seconds = time.monotonic() - t0

    t0 = time.monotonic()
    replies = []
    for start in range(0, live, 20):
        packets = [[("User-Name", "%s-r%d" % (tag, start + k)), ("User-Password", "guess"),
                    ("Calling-Station-Id", H.new_address()), ("NAS-IP-Address", H.Raw("127.0.0.1"))]
                   for k in range(20)]
        got, _ = rad.burst(packets)
        replies += got
    flood_seconds = time.monotonic() - t0
    after_flood = count()
    # every answer a reject (a loaded machine may leave some unanswered within radclient's
    # timeout; radiusd still runs them: the rows below are what counts)
    tally = H.tally(replies)
    assert set(tally) == {"%s (%s)" % (REJECT, H.MSG_LOGIN_FAILED)}, tally

    # the flood is over: wait out reset_after and the interval, then a few logins prune the rest
    time.sleep(reset_after + interval + 0.5)
    t1 = time.monotonic()
    probes, left = 0, after_flood
    while time.monotonic() - t1 < 30:
        r = rad.request([("User-Name", "%s-p%d" % (tag, probes)), ("User-Password", "guess"),
                         ("Calling-Station-Id", H.new_address())])
        assert r.code == REJECT, r
        probes += 1
        left = count()
        if left <= 2 * probes:
            break
        time.sleep(interval + 0.1)
    figures.append("retention: flood of %d unknown names (%d in bulk in %.1f s, %d through radiusd in %.1f s, "
                   "%d answered): "
                   "login_failures rows %d before, %d at the end of the flood, %d after %d more logins "
                   "(reset_after %d s, prune_interval %d s, prune_batch %d)"
                   % (bulk + live, bulk, bulk_seconds, live, flood_seconds, len(replies), before, after_flood, left, probes,
                      reset_after, interval, batch))
    # bounded: only the rows of the logins of the last reset_after seconds are left
    assert left <= 2 * probes, (left, probes)


def test_radiusd_prunes_once_per_interval_and_again_while_behind(mariadb, world, admin, new_radiusd, figures):
    """Cheap on the login path: with the default retention.prune_interval
    (60 s) and prune_batch = 10, the first login prunes one batch, and the
    next login prunes again only while the last batch came back full (25
    expired challenges: 10, 10, 5); after that, expired rows wait for the
    interval, however many logins come."""
    rad = new_radiusd({("retention", "prune_batch"): 10})
    company = world.company()
    u = world.user(company=company, hash=H.crypt_hash("unused", "$6$"))
    uid = _uid(mariadb, u.login)
    admin("prune")		# nothing else expired is left to fill this radiusd's batches
    tag = H.unique("once")
    now = int(time.time())

    def expire(first, n):
        mariadb.sql("INSERT INTO challenges (token_digest, user_id, kind, nas, address, created_at, expires_at,"
                    " attempts_left, spent) SELECT UNHEX(SHA2(CONCAT('%s-', seq), 256)), %d, 'code', '127.0.0.1',"
                    " '', %d, %d, 3, 0 FROM seq_%d_to_%d" % (tag, uid, now - 7300, now - 7200, first, first + n - 1),
                    database=mariadb.db)

    left = lambda: int(mariadb.scalar("SELECT COUNT(*) FROM challenges WHERE user_id = %d" % uid))

    def login():
        r = rad.request([("User-Name", H.unique("nobody-")), ("User-Password", "x"),
                         ("Calling-Station-Id", H.new_address())])
        assert r.code == REJECT, r
        return left()

    expire(1, 25)
    assert left() == 25
    seen = [login() for _ in range(3)]
    expire(100, 5)
    later = [login() for _ in range(3)]
    figures.append("retention: prune_batch 10, 25 expired: left after each login %s; 5 more expired: left %s "
                   "(within prune_interval 60 s)" % (seen, later))
    assert seen == [15, 5, 0], seen
    assert later == [5, 5, 5], later
