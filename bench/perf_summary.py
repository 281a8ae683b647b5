#!/usr/bin/python3
"""
perf_summary.py - where radiusd's CPU goes, by rlm_vrms2fa function, from a
`perf record --call-graph dwarf` of radiusd (and MariaDB): run.py --perf
calls it; it also runs alone:

    bench/perf_summary.py perf.data [--module rlm_vrms2fa.so]

Each CPU sample of radiusd is charged to the innermost function of the module
on its stack (the generic query runners store_run/store_exec are skipped, so a
query is charged to the store_* function that made it), and split by where
the CPU actually was: the password hash (libcrypt), the kernel (mostly the
database socket: send, poll, wake-ups), the MariaDB client library, OpenSSL,
liboath, the module's own code, or the rest (libc, talloc, radiusd).
Samples with no module frame are radiusd's own work (packets, requests).
"""
import argparse
import collections
import subprocess
import sys

GENERIC = {"store_run", "store_exec", "bind_params", "bind_results", "statement_for", "store_prepare"}


def where(dso):
    d = dso or ""
    if "kernel" in d:
        return "kernel"
    if "libcrypt." in d:
        return "libcrypt"
    if "libmariadb" in d:
        return "libmariadb"
    if "libcrypto" in d:
        return "openssl"
    if "liboath" in d:
        return "liboath"
    if "libargon2" in d:
        return "argon2"
    if "rlm_vrms2fa" in d:
        return "module"
    return "other"


COLUMNS = ["libcrypt", "kernel", "libmariadb", "openssl", "liboath", "argon2", "module", "other"]


def samples(data):
    p = subprocess.Popen(["perf", "script", "-i", str(data), "-F", "comm,tid,period,ip,sym,dso"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, errors="replace")
    comm, frames = None, []
    for line in p.stdout:
        line = line.rstrip("\n")
        if not line:
            if comm is not None:
                yield comm, frames
            comm, frames = None, []
            continue
        if not line.startswith(("\t", " ")):
            comm = line.split()[0]
            frames = []
            continue
        parts = line.strip().split(None, 1)
        if len(parts) < 2:
            continue
        ip, rest = parts
        if rest.endswith("(inlined)"):
            sym, dso = rest[:-len("(inlined)")].strip(), None
        elif rest.endswith(")") and " (" in rest:
            sym, dso = rest.rsplit(" (", 1)
            dso = dso[:-1]
        else:
            sym, dso = rest, ""
        frames.append([ip, sym, dso])
    if comm is not None:
        yield comm, frames
    p.wait()


def summarise(data, module="rlm_vrms2fa"):
    per_comm = collections.Counter()
    table = collections.defaultdict(collections.Counter)	# function -> where -> samples
    total_radiusd = 0
    for comm, frames in samples(data):
        per_comm[comm] += 1
        if comm != "freeradius":
            continue
        total_radiusd += 1
        # an inlined frame belongs to the object of the next real frame at the same address
        for i, f in enumerate(frames):
            if f[2] is None:
                for g in frames[i + 1:]:
                    if g[2] is not None:
                        f[2] = g[2]
                        break
        leaf = where(frames[0][2]) if frames else "other"
        fn = None
        for ip, sym, dso in frames:
            if dso and module in dso and sym not in GENERIC and not sym.startswith("["):
                fn = sym
                break
        if fn is None:
            fn = "(radiusd, outside the module)"
        table[fn][leaf] += 1
    return per_comm, table, total_radiusd


def report(data, module="rlm_vrms2fa", title=""):
    per_comm, table, total = summarise(data, module)
    lines = []
    all_samples = sum(per_comm.values()) or 1
    lines.append("perf samples%s: %s" % (" of " + title if title else "",
                                          ", ".join("%s %.1f%%" % (c, 100.0 * n / all_samples)
                                                    for c, n in per_comm.most_common())))
    if not total:
        lines.append("(no radiusd samples)")
        return "\n".join(lines)
    lines.append("radiusd's samples (= 100%%, %d) by the innermost rlm_vrms2fa function on the stack, and where"
                 " the CPU was:" % total)
    hdr = "%-36s %6s  " % ("function", "total") + " ".join("%9s" % c for c in COLUMNS)
    lines.append(hdr)
    lines.append("-" * len(hdr))
    rows = sorted(table.items(), key=lambda kv: -sum(kv[1].values()))
    for fn, c in rows:
        n = sum(c.values())
        if 100.0 * n / total < 0.3:
            continue
        lines.append("%-36s %5.1f%%  " % (fn[:36], 100.0 * n / total) +
                     " ".join("%8.1f%%" % (100.0 * c[k] / total) if c[k] else "%9s" % "." for k in COLUMNS))
    tot = collections.Counter()
    for c in table.values():
        tot.update(c)
    lines.append("%-36s %5.1f%%  " % ("all", 100.0) + " ".join("%8.1f%%" % (100.0 * tot[k] / total) for k in COLUMNS))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--module", default="rlm_vrms2fa")
    ap.add_argument("--title", default="")
    a = ap.parse_args()
    print(report(a.data, a.module, a.title))


if __name__ == "__main__":
    sys.exit(main())
