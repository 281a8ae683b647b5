#!/usr/bin/env python3
"""
check_reports.py - read every AddressSanitizer, LeakSanitizer and
UndefinedBehaviorSanitizer report of a sanitized test run and decide
(tests/sanitizers/README.md):

  * every ASan error (heap overflow, use after free, SEGV, ...) and every
    UBSan "runtime error" counts, whatever code it is in;
  * a leak (one "Direct leak" or "Indirect leak" block of LeakSanitizer)
    counts when a frame of its allocation stack is in OUR code: a source
    file under BUILD/rlm_vrms2fa/ or BUILD/admin/ (or such a relative
    path), or the module rlm_vrms2fa.so or the vrms2fa-admin binary of
    BUILD.  Leaks of FreeRADIUS, talloc, libmariadb, OpenSSL... on paths
    our code is not on are listed as foreign and do not count.

Where the reports are:
  LOG_DIR      ASan's log_path files (asan.PROGRAM.PID: errors and leaks), and
               stderr.* files the harness keeps (the admin tool's stderr when
               it had a sanitizer report in it);
  --stderr DIR every *.log file under DIR (the pytest folder: radiusd's
               stdout.log and debug radius.log), for what was printed on
               stderr: with ASan in the process, UBSan ignores log_path.
From the stderr files only the report blocks are taken.

Usage: check_reports.py --build BUILD_DIR [--stderr DIR]... LOG_DIR
Prints every counted report in full, one line per foreign leak, and ends
with "sanitizer reports: N counted (...)".  Exit status 0 when N is 0.
Standard library only.
"""
import argparse
import os
import re
import sys
from pathlib import Path

ERROR_HEAD = re.compile(r"^==(?:[^=\s]+==)?\d+==ERROR: (\w+): (.*)$")
LEAK_HEAD = re.compile(r"^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object\(s\) allocated from:")
FRAME = re.compile(r"^\s*#\d+ 0x[0-9a-f]+ (?:in (\S+) ?)?(.*)$")
UBSAN = re.compile(r"^\S+:\d+(?::\d+)?: runtime error: ")


def is_ours(frame_rest, build):
    """frame_rest: what follows "in FUNC" in a frame line: "FILE:LINE[:COL]" or "(MODULE+0xOFF)"."""
    m = re.match(r"^\(?([^\s()+]+)", frame_rest.strip())
    if not m:
        return False
    path = re.sub(r":\d+(?::\d+)?$", "", m.group(1))
    if not os.path.isabs(path):
        return path.startswith(("rlm_vrms2fa/", "admin/"))
    path = os.path.normpath(path)
    for sub in ("rlm_vrms2fa", "admin"):
        if path.startswith(os.path.join(build, sub) + os.sep):
            return True
    return path in (os.path.join(build, ".libs", "rlm_vrms2fa.so"), os.path.join(build, "vrms2fa-admin"),
                    os.path.join(build, ".libs", "vrms2fa-admin"))


def frames(block):
    return [m for m in (FRAME.match(line) for line in block) if m]


def split_leaks(lines):
    """The leak blocks of one LeakSanitizer report: lists of lines."""
    blocks, cur = [], None
    for line in lines:
        if LEAK_HEAD.match(line):
            cur = [line]
            blocks.append(cur)
        elif cur is not None:
            if line.strip() == "" or line.startswith("SUMMARY:"):
                cur = None
            else:
                cur.append(line)
    return blocks


def read_reports(lines, blocks_only=False):
    """(kind, lines) of one file; kind: 'leaks', 'error', 'ubsan', 'other'.
    blocks_only: a stderr or log file: only the sanitizer report blocks."""
    reports, cur = [], None
    for line in lines:
        head = ERROR_HEAD.match(line)
        if head:
            cur = ("leaks" if head.group(1) == "LeakSanitizer" else "error", [line])
            reports.append(cur)
            continue
        if UBSAN.match(line):
            cur = ("ubsan", [line])
            reports.append(cur)
            continue
        if blocks_only:
            # a report goes on with frames, blank lines and its own lines, up to SUMMARY
            if cur is not None and (FRAME.match(line) or line.strip() == "" or line.startswith(
                    ("SUMMARY:", "Direct leak", "Indirect leak", "READ of", "WRITE of", "0x", "freed by",
                     "previously allocated", "allocated by", "Shadow", "  ", "==", "HINT"))):
                cur[1].append(line)
                if line.startswith("SUMMARY:"):
                    cur = None
            else:
                cur = None
            continue
        if line.startswith("=" * 20):
            continue
        if cur is None:
            if line.strip():
                cur = ("other", [line])
                reports.append(cur)
            continue
        cur[1].append(line)
    return reports


def lines_of(path, need=None):
    """The lines of a file; with need (a compiled regex), [] unless it occurs (big logs, quickly)."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    if need is not None and not need.search(data):
        return []
    return data.decode("utf-8", "replace").splitlines()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="the sanitized build folder (VRMS2FA_BUILD_DIR)")
    ap.add_argument("--stderr", action="append", default=[], help="a folder of *.log files to search")
    ap.add_argument("logdir")
    a = ap.parse_args()
    build = os.path.normpath(os.path.abspath(a.build))
    logdir = Path(a.logdir)

    sources = []	# (path, lines, blocks_only)
    if logdir.is_dir():
        for p in sorted(x for x in logdir.iterdir() if x.is_file()):
            sources.append((p, lines_of(p), p.name.startswith("stderr.")))
    marker = re.compile(rb"runtime error: |==ERROR: (?:Address|Leak|UndefinedBehavior)Sanitizer")
    for d in a.stderr:
        for p in sorted(Path(d).rglob("*.log")):
            lines = lines_of(p, marker)
            if lines:
                sources.append((p, lines, True))

    counted, foreign, notes = [], [], []
    for f, lines, blocks_only in sources:
        for kind, block in read_reports(lines, blocks_only):
            if kind == "leaks":
                for leak in split_leaks(block):
                    fr = frames(leak)
                    if any(is_ours(m.group(2), build) for m in fr):
                        counted.append(("leak in our code", f, leak))
                    else:
                        names = [m.group(1) for m in fr[1:] if m.group(1)][:4] or ["?"]
                        foreign.append("%s: %s, in %s" % (f.name, leak[0].replace(" allocated from:", ""),
                                                          " < ".join(names)))
            elif kind in ("error", "ubsan"):
                counted.append(("ASan error" if kind == "error" else "UBSan error", f, block))
            else:
                notes.append((f, block))

    for what, f, block in counted:
        print("---- %s (%s) ----" % (what, f))
        print("\n".join(block[:80]))
        if len(block) > 80:
            print("... (%d more lines in %s)" % (len(block) - 80, f))
    for f, block in notes:
        print("---- note (%s, not counted) ----" % f)
        print("\n".join(block[:20]))
    if foreign:
        print("foreign leaks (no frame of rlm_vrms2fa or vrms2fa-admin; not counted): %d" % len(foreign))
        for line in foreign[:40]:
            print("  " + line)
        if len(foreign) > 40:
            print("  ... and %d more" % (len(foreign) - 40))
    n_err = sum(1 for w, _, _ in counted if w != "leak in our code")
    print("sanitizer reports: %d counted (%d errors, %d leaks in our code), %d foreign leaks not counted, "
          "%d files read" % (len(counted), n_err, len(counted) - n_err, len(foreign), len(sources)))
    return 1 if counted else 0


if __name__ == "__main__":
    sys.exit(main())
