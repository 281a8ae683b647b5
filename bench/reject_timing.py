#!/usr/bin/python3
"""
bench/reject_timing.py - does the time of an Access-Reject tell whether a
login name exists?  The comparison of tests/e2e/test_password_cost.py, with
more samples, for a quiet machine (issue 15).

    bench/reject_timing.py                  # 1000 of each kind per format
    bench/reject_timing.py --samples 300    # fewer
    bench/reject_timing.py --quick          # 30 of each, two formats (the test suite runs this)

For each hash format the module checks (bcrypt, sha512-crypt with and
without rounds=, yescrypt, argon2id) it makes a database whose users all
have a hash of that format, starts radiusd on it, and sends interleaved,
each name once: unknown names, known names with a wrong password (the
baseline), disabled users with their right password.  It prints per format
the median and p90 of each kind in milliseconds, the ratio of each kind to
the baseline, and ok/MISSED against the targets of the issue: medians
within 10% of each other, p90s within 20%.

Everything runs on 127.0.0.1 with a private MariaDB under /tmp; every
process started here is stopped on exit.
"""
import argparse
import atexit
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent
sys.path.insert(0, str(SRC / "tests" / "e2e"))
import harness as H  # noqa: E402  (the e2e tests' machinery)
import test_password_cost as T  # noqa: E402  (the formats and the measurement itself)

MEDIAN_TARGET = 0.10
P90_TARGET = 0.20
QUICK_FORMATS = ["sha512-crypt (5000 rounds, no rounds=)", "argon2id m=4 MiB t=2"]


def parse_args(argv):
    p = argparse.ArgumentParser(description="Reject timing of unknown, known and disabled login names, per hash format.")
    p.add_argument("--samples", type=int, default=1000, help="rejects of each kind per format (default 1000)")
    p.add_argument("--quick", action="store_true", help="30 of each kind, two formats")
    p.add_argument("--formats", help="comma-separated names of formats (default all): " + "; ".join(T.FORMATS))
    p.add_argument("--out", help="also write the results as JSON to this file")
    args = p.parse_args(argv)
    if args.quick:
        args.samples = 30
    args.format_list = (args.formats.split(",") if args.formats else QUICK_FORMATS if args.quick else list(T.FORMATS))
    for f in args.format_list:
        if f not in T.FORMATS:
            p.error("unknown format %r" % f)
    if args.samples < 10:
        p.error("--samples must be at least 10")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    work = Path(tempfile.mkdtemp(prefix="vrms2fa-timing-", dir="/tmp"))
    state = {"db": None, "pool": None}

    def cleanup():
        if state["pool"]:
            state["pool"].stop_all()
        if state["db"]:
            state["db"].stop()
        shutil.rmtree(work, ignore_errors=True)
    atexit.register(cleanup)

    t0 = time.monotonic()
    db = state["db"] = H.MariaDB(work / "mariadb").start()
    key_file = H.write_key_file(work / "vrms2fa.key")
    H.Admin(H.write_module_config(work / "vrms2fa.conf", db, key_file)).migrate()
    counter = [0]

    def make_conf(overrides=None):
        counter[0] += 1
        return H.write_module_config(work / ("vrms2fa-%d.conf" % counter[0]), db, key_file, overrides)
    pool = state["pool"] = H.RadiusdPool(work, db, key_file, H.write_dictionary_dir(work / "dict"),
                                         {("email", "enabled"): "no"})

    results = []
    print("reject timing, %d of each kind per format, each name once (ms)" % args.samples)
    print("%-40s %17s %17s %17s %13s %13s  %s" % ("format", "unknown med/p90", "known med/p90", "disabled med/p90",
                                                "unknown/known", "disabled/kn.", "targets"))
    missed = 0
    for fmt in args.format_list:
        samples, rad = T.measure_reject_timing(db, make_conf, pool, fmt, args.samples)
        rad.stop()
        med, q90, med_diff, p90_diff = T.timing_summary(samples)
        ok = med_diff < MEDIAN_TARGET and p90_diff < P90_TARGET
        missed += not ok
        print("%-40s %8.2f/%-8.2f %8.2f/%-8.2f %8.2f/%-8.2f %6.3f/%-6.3f %6.3f/%-6.3f  %s (medians %.1f%%, p90s %.1f%%)"
              % (fmt, 1000 * med["unknown"], 1000 * q90["unknown"], 1000 * med["known"], 1000 * q90["known"],
                 1000 * med["disabled"], 1000 * q90["disabled"], med["unknown"] / med["known"],
                 q90["unknown"] / q90["known"], med["disabled"] / med["known"], q90["disabled"] / q90["known"],
                 "ok" if ok else "MISSED", 100 * med_diff, 100 * p90_diff))
        sys.stdout.flush()
        results.append({"format": fmt, "samples": args.samples, "median_ms": {k: 1000 * v for k, v in med.items()},
                        "p90_ms": {k: 1000 * v for k, v in q90.items()}, "median_spread": med_diff,
                        "p90_spread": p90_diff, "ok": ok})
    print("%d formats, %d within the targets (medians within %d%%, p90s within %d%%), %d missed; %.0f s"
          % (len(results), len(results) - missed, 100 * MEDIAN_TARGET, 100 * P90_TARGET, missed,
             time.monotonic() - t0))
    if args.out:
        Path(args.out).write_text(json.dumps({"results": results}, indent=2) + "\n")
    return 0 if missed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
