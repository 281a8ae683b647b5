"""
test_admin_exit.py - the ways out of vrms2fa-admin through exit() in the
argument parser (--help of a command, usage errors) give the right status
and text, and leave nothing behind.

Regression test of a leak the sanitized pass found (scripts/test-sanitized.sh):
these paths left the command's talloc context allocated, LeakSanitizer
reported it at exit, and the tool then exited 1 with its usage text lost
(the sanitizer ends the process before stdio is flushed).  In the normal
build this only checks the status and the text; in the sanitized pass a
leak on any of these paths fails it again.  No database is needed: the
arguments are refused before the configuration is read.
"""
import pytest

import harness as H

CASES = [
    (["user", "add", "--help"], 0, "stdout", "usage: vrms2fa-admin user add"),
    (["enroll", "confirm", "-h"], 0, "stdout", "usage: vrms2fa-admin enroll confirm"),
    (["user", "add"], 2, "stderr", "missing argument"),
    (["company", "add", "x", "--grace-days", "-1"], 2, "stderr", "must be a number"),
    (["user", "show", "someone", "--bogus"], 2, "stderr", "unknown option --bogus"),
    (["audit", "--since"], 2, "stderr", "--since needs a value"),
    (["lockout", "show", "a", "b"], 2, "stderr", "unexpected argument"),
]


@pytest.mark.parametrize("args, status, stream, text", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_exit_from_the_argument_parser(built, tmp_path, args, status, stream, text):
    admin = H.Admin(tmp_path / "not-read.conf")
    r = admin.run(*args, check=False)
    out = r.stdout if stream == "stdout" else r.stderr
    assert (r.returncode, text in out) == (status, True), (r.returncode, r.stdout, r.stderr)
