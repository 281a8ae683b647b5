"""
test_bench.py - the benchmark works (issue #7): bench/run.py --quick starts
its own MariaDB and six radiusd, drives each with bench/vrms2fa-bench for a
few seconds (closed loop, then the fixed-load open-loop rows), then
(bench/scale.py) the cost at two database sizes and radiusd's memory over
requests on every path, and writes the JSON that runs are compared with.

Only that the machinery works is tested here.  The performance targets are
measured by the benchmark, which prints figures and ratios; they are never
asserted by a timed test (a shared or slow machine would make it flaky).
"""
import json
import subprocess
import sys
import time

import harness as H

RUN = H.SRC / "bench" / "run.py"
BENCH = H.BUILD / "bench" / "vrms2fa-bench"


def test_quick_benchmark_runs_every_configuration(built, tmp_path, figures):
    assert BENCH.exists(), "bench/vrms2fa-bench is not built (make)"
    out = tmp_path / "results"
    t0 = time.monotonic()
    # --compare: configuration 5 again with a module from another folder (here this build's own), as 7
    r = subprocess.run(["/usr/bin/python3", str(RUN), "--quick", "--out", str(out), "--compare", str(H.MODULE_DIR)],
                       capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - t0
    assert r.returncode == 0, "run.py --quick exited %d\n%s\n%s" % (r.returncode, r.stdout[-4000:], r.stderr[-4000:])

    latest = json.loads((out / "latest.json").read_text())
    stamped = [p for p in out.glob("*-quick.json")]
    assert len(stamped) == 1, stamped
    assert json.loads(stamped[0].read_text()) == latest

    configs = latest["configs"]
    assert sorted(configs, key=int) == ["1", "2", "3", "4", "5", "6", "7"]
    names = {k: v["name"] for k, v in configs.items()}
    assert names == {"1": "ceiling", "2": "stock-pap", "3": "stock-totp", "4": "trusted",
                     "5": "challenge", "6": "single-pass", "7": "challenge-compared"}
    for num, c in configs.items():
        t = c["totals"]
        assert t["accepts"] > 0, (num, c)
        assert c["median"]["logins_per_s"] > 0, (num, c)
        assert c["median"]["requests_per_s"] > 0, (num, c)
        for k in ("p50", "p90", "p99", "max"):
            assert c["median"]["latency_ms"][k] >= 0, (num, k, c)
        assert c["rss_kib"]["before"] and c["rss_kib"]["after"], (num, c)
    for num in ("4", "5", "6", "7"):
        t = configs[num]["totals"]
        assert t["rejects"] == 0 and t["timeouts"] == 0, (num, t)
        assert t["logins_failed"] == 0 and t["unexpected"] == 0, (num, t)
        # rlm_vrms2fa signs every reply (BlastRADIUS); the generator verified each one
        assert t["reply_ma_missing"] == 0, (num, t)
    # the full challenge login: one challenge per accepted login, every login two rounds
    for num in ("5", "7"):
        t = configs[num]["totals"]
        assert t["challenges"] == t["accepts"] == t["logins_ok"], (num, t)

    for k in ("4/2", "5/2", "6/3", "4/1", "5/7"):
        assert isinstance(latest["ratios"][k], float) and latest["ratios"][k] > 0, (k, latest["ratios"])
    for k in ("4/2", "5/2", "6/3", "4/1", "5/7"):
        assert k in r.stdout, "the table lacks the ratio %s:\n%s" % (k, r.stdout)
    assert "RSS" in r.stdout
    check_open_loop_rows(latest, r.stdout)
    check_scale(latest["scale"], r.stdout)
    check_memory(latest["memory"], r.stdout)

    figures.append("bench/run.py --quick: %.0f s; logins/s %s; ratios %s; open loop at %s%%: p99 %s ms" % (
        elapsed, ", ".join("%s %.0f" % (v["name"], v["median"]["logins_per_s"])
                           for _, v in sorted(configs.items(), key=lambda kv: int(kv[0]))),
        ", ".join("%s=%.2f" % (k, v) for k, v in latest["ratios"].items()),
        ",".join(str(x) for x in latest["open_loop"]["loads_pct"]),
        ", ".join("%s %.1f" % (row["name"], row["median"]["latency_ms"]["p99"]) for row in latest["open_loop"]["rows"])))
    figures.append("bench/run.py --quick, scale: %s; memory: %d requests, RSS growth %.2f MiB" % (
        "; ".join("%d users: 4 %.0f us p99 %.1f ms, 5 %.0f us p99 %.1f ms" % (
            e["users"], e["configs"]["4"]["cpu_us_per_login"], e["configs"]["4"]["p99_ms"],
            e["configs"]["5"]["cpu_us_per_login"], e["configs"]["5"]["p99_ms"]) for e in latest["scale"]["sizes"]),
        latest["memory"]["sent"], latest["memory"]["growth_kib"] / 1024.0))
    sys.stdout.write(r.stdout)


def check_open_loop_rows(latest, stdout):
    """The fixed-load (open-loop) rows of issue #18: configurations 2 to 6 at
    the quick loads, offered at the stated percentage of stock-pap's
    closed-loop rate of the same run, every arrival sent and answered, the
    achieved rate near the offered one (a generator that sends in bursts
    or falls behind would miss it; 2 s of Poisson arrivals at hundreds per
    second stay within a few percent).  No latency target is asserted."""
    table = latest["open_loop"]
    assert table, "no open-loop table in the JSON"
    stock = latest["configs"]["2"]["median"]["logins_per_s"]
    assert abs(table["reference"]["logins_per_s"] - stock) < 0.01 * stock, (table["reference"], stock)
    loads = table["loads_pct"]
    assert loads and loads == latest["settings"]["open_loop_loads_pct"], (loads, latest["settings"])
    rows = {(row["config"], row["load_pct"]): row for row in table["rows"]}
    assert sorted(rows) == sorted((c, p) for c in (2, 3, 4, 5, 6) for p in loads), sorted(rows)
    for (num, pct), row in rows.items():
        t, m = row["totals"], row["median"]
        assert row["offered_logins_per_s"] == round(stock * pct / 100.0, 1), row["offered_logins_per_s"]
        assert row["valid"] and t["overflow"] == 0 and t["no_user"] == 0, (num, pct, t)
        assert t["arrivals"] > 0 and t["logins_started"] == t["arrivals"], (num, pct, t)
        # every request answered, every login finished
        assert t["timeouts"] == 0 and t["unexpected"] == 0, (num, pct, t)
        assert t["accepts"] + t["challenges"] + t["rejects"] == t["sent"], (num, pct, t)
        assert t["logins_ok"] + t["logins_failed"] == t["arrivals"], (num, pct, t)
        if num == 3:
            # rlm_totp: a code computed just before a step boundary and checked
            # after it may be refused (seen once in 988 on a loaded machine)
            assert t["rejects"] <= max(1, t["arrivals"] // 100), (num, pct, t)
        else:
            assert t["rejects"] == 0 and t["logins_ok"] == t["arrivals"], (num, pct, t)
        offered = row["offered_logins_per_s"]
        assert 0.7 * offered <= m["logins_per_s"] <= 1.3 * offered, (num, pct, offered, m["logins_per_s"])
        assert 0.7 * offered <= m["arrivals_per_s"] <= 1.3 * offered, (num, pct, offered, m["arrivals_per_s"])
        lat = m["latency_ms"]
        assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= row["max_latency_ms"], (num, pct, lat)
        # from the scheduled time, never less than from the actual transmission
        assert lat["p99"] >= m["latency_sent_ms"]["p99"], (num, pct, m)
        assert row["peak_outstanding"] >= 1, row
    for pct in loads:
        five = rows[(5, pct)]["totals"]
        # the challenge row counts per request: one challenge and one accept per login
        assert five["challenges"] == five["accepts"] == five["logins_ok"], five
        assert rows[(5, pct)]["median"]["requests_per_s"] > 1.5 * rows[(5, pct)]["median"]["logins_per_s"]
        for name in ("trusted", "challenge", "single-pass"):
            key = "open_p99_vs_stock_at_%d_%s" % (pct, name)
            assert isinstance(latest["targets"].get(key), bool), (key, latest["targets"])
            assert key in stdout, (key, stdout)
    assert "p99_ms" not in latest["targets"], "the ill-posed target of issue #7 is replaced (issue #18)"
    assert "fixed offered load (open loop)" in stdout


def check_scale(sc, stdout):
    """bench/scale.py's cost-as-the-work-grows section of run.py --quick: two
    sizes of one growing database, configurations 4 and 5 measured at each,
    EXPLAIN of the statements of the logins."""
    assert [e["users"] for e in sc["sizes"]] == [200, 2000], sc["settings"]
    for e in sc["sizes"]:
        t = e["tables"]
        assert t["users"]["rows"] == t["totp_secrets"]["rows"] == e["users"], t
        assert t["trusted_addresses"]["rows"] >= 10 * e["users"], t
        assert t["audit_log"]["rows"] >= e["users"] and t["challenges"]["rows"] > 0, t
        assert all(v["mib"] > 0 for k, v in t.items() if k in ("users", "trusted_addresses")), t
        # measured after InnoDB wrote the load's pages and purged its undo (or waited its 300 s)
        st = e["settled"]
        assert 0 <= st["seconds"] <= 330 and len(st["dirty_pages"]) == len(st["history_length"]) == 2, st
        assert st["dirty_pages"][1] <= 100 or st["seconds"] >= 300, st
        # 2: the control (stock rlm_sql + rlm_pap on data that does not grow), against the machine's drift
        for num, mode in (("2", "stock-pap"), ("4", "trusted"), ("5", "challenge")):
            f = e["configs"][num]
            assert f["name"] == mode, f
            assert f["logins_ok"] > 0 and f["logins_failed"] == 0, (e["users"], f)
            assert f["cpu_us_per_login"] > 0 and f["p99_ms"] > 0, (e["users"], f)
            assert f["ratio"]["cpu"] > 0 and f["ratio"]["p99"] > 0, f
            if e is sc["sizes"][0]:
                assert f["ratio"] == {"cpu": 1.0, "p99": 1.0}, f
            if num == "2":
                assert "ok" not in f and "ratio_vs_control" not in f, f
                continue
            ctl = e["configs"]["2"]["ratio"]
            for k in ("cpu", "p99"):
                assert abs(f["ratio_vs_control"][k] - f["ratio"][k] / ctl[k]) < 0.01, (k, f, ctl)
            assert isinstance(f["ok"], bool), f
            if e is sc["sizes"][0]:
                assert f["ratio_vs_control"] == {"cpu": 1.0, "p99": 1.0} and f["ok"], f
    assert set(sc["targets"]) == {"4@200", "5@200", "4@2000", "5@2000"}, sc["targets"]
    # The statements of a trusted and a challenge login, with their values, each planned: the login
    # lookup (twice: round 1 and the challenge's round 2) finds every row by a key.
    stmts = [x["statement"] for x in sc["explain"]]
    lookups = [x for x in sc["explain"] if "FROM (SELECT 1 AS one) q" in x["statement"]]
    assert len(lookups) >= 2 and all("?" not in x["statement"] for x in lookups), stmts
    for x in lookups:
        assert "error" not in x and x["plan"], x
        for p in x["plan"]:
            if p["table"] != "NULL" and not p["table"].startswith("<"):	# not the derived "SELECT 1"
                assert p["key"] != "NULL" and p["type"] in ("const", "eq_ref", "ref", "system"), x
    # round 2's lookup, with the State's digest as it was sent (binary), finds the challenge round 1 wrote
    ch = [p for x in lookups for p in x["plan"] if p["table"] == "ch"]
    assert ch and all(p["rows"] == "1" and "not found" not in p["Extra"] for p in ch), ch
    assert any(s.startswith("UPDATE totp_secrets SET last_counter") for s in stmts), stmts
    assert any(s.startswith("INSERT INTO challenges") for s in stmts), stmts
    assert isinstance(sc["full_scans"], list)
    for text in ("cost as the work grows", "within 10% of the first size", "EXPLAIN at 2000 users", "full scans:",
                 "control"):
        assert text in stdout, text


def check_memory(m, stdout):
    """bench/scale.py's memory section of run.py --quick: requests over every
    path at once, each path answered as it should be, RSS read along."""
    assert m["requests"] == 3000 and m["sent"] >= 2900, m
    assert len(m["points"]) == 10, m["points"]
    assert [p["requests"] for p in m["points"]] == sorted(p["requests"] for p in m["points"])
    assert m["after_warmup_kib"] > 0 and m["final_idle_kib"] > 0 and all(p["rss_kib"] > 0 for p in m["points"])
    assert m["growth_kib"] == m["final_idle_kib"] - m["after_warmup_kib"] and isinstance(m["ok"], bool)
    p = m["paths"]
    assert p["trusted"]["accepts"] > 0 and p["trusted"]["rejects"] == p["trusted"]["challenges"] == 0, p
    assert p["challenge"]["logins_ok"] > 0 and p["challenge"]["accepts"] == p["challenge"]["logins_ok"], p
    assert p["challenge"]["rejects"] == 0, p
    for name in ("wrong-code", "email"):
        # round 1 challenged; round 2's wrong code is challenged again (attempts left), never accepted
        assert p[name]["challenges"] > 0 and p[name]["accepts"] == 0, (name, p)
    for name in ("unknown", "wrong-password"):
        assert p[name]["rejects"] > 0 and p[name]["accepts"] == p[name]["challenges"] == 0, (name, p)
    assert m["emails_sent"] > 0 and m["audit_events"].get("email_sent", 0) > 0, m
    assert m["audit_events"].get("address_trusted", 0) > 0, m
    for text in ("memory: radiusd's RSS", "growth after the warm-up"):
        assert text in stdout, text


def test_quick_reject_timing_benchmark_runs(built, tmp_path, figures):
    """bench/reject_timing.py --quick measures two formats and writes its
    JSON; whether the targets are met is for a quiet machine (exit 1 when
    missed is a result, not a failure of the machinery)."""
    out = tmp_path / "timing.json"
    r = subprocess.run(["/usr/bin/python3", str(H.SRC / "bench" / "reject_timing.py"), "--quick", "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode in (0, 1), "reject_timing.py exited %d\n%s\n%s" % (r.returncode, r.stdout[-4000:],
                                                                          r.stderr[-4000:])
    results = json.loads(out.read_text())["results"]
    assert [x["format"] for x in results] == ["sha512-crypt (5000 rounds, no rounds=)", "argon2id m=4 MiB t=2"]
    for x in results:
        assert x["samples"] == 30
        assert set(x["median_ms"]) == {"unknown", "known", "disabled"}
        assert all(v > 0 for v in x["median_ms"].values()), x
        assert x["ok"] == (x["median_spread"] < 0.10 and x["p90_spread"] < 0.20)
    assert ("%d missed" % sum(not x["ok"] for x in results)) in r.stdout
    assert (r.returncode == 0) == all(x["ok"] for x in results)
    figures.append("bench/reject_timing.py --quick: " + r.stdout.strip().splitlines()[-1])
