"""
Fixtures of the end-to-end tests: one private MariaDB for the session, the
schema made by the admin tool, radiusd instances on free loopback ports
(shared where their configuration is the same), and helpers that make
companies, users and enrollments through vrms2fa-admin.

Run:  cd <repo> && /usr/bin/python3 -m pytest -q tests/e2e
Build dir: $VRMS2FA_BUILD_DIR (default: the repository root, in-tree build).
Sanitized runs (scripts/test-sanitized.sh): $VRMS2FA_RADIUSD_PRELOAD, the
libraries every radiusd is started with (tests/sanitizers/README.md).
"""
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path
from dataclasses import dataclass, field
from typing import Optional

import pytest

import harness as H


# --------------------------------------------------------------------------
# What the run is made of
# --------------------------------------------------------------------------

# The files whose tests measure time or load the machine (latency bounds,
# timing comparisons, a Galera cluster, the benchmark, floods): the suite runs
# them one at a time, after the others ran in parallel (scripts/test.sh:
# -m "not serial" -n 3 --dist loadfile, then -m serial).
SERIAL_FILES = {
    "test_bench.py", "test_clock.py", "test_email_smtp.py", "test_faults.py",
    "test_galera.py", "test_lockout.py", "test_password_cost.py", "test_valgrind.py",
}
# Single tests of the other files that bound a latency.
SERIAL_TESTS = {
    "test_challenge.py::test_slow_email_hook_does_not_stall_other_logins",
}


def _worker_id(config):
    """The pytest-xdist worker this process is ("gw0" ...), or None."""
    return getattr(config, "workerinput", {}).get("workerid")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SERIAL_FILES or "%s::%s" % (item.path.name, item.name) in SERIAL_TESTS:
            item.add_marker(pytest.mark.serial)


def pytest_configure(config):
    config.addinivalue_line("markers", "serial: measures time or loads the machine: never beside other tests")
    # The figures of parallel workers reach the summary through files.
    if _worker_id(config) is None and "VRMS2FA_FIGURES_DIR" not in os.environ:
        os.environ["VRMS2FA_FIGURES_DIR"] = tempfile.mkdtemp(prefix="vrms2fa-figures-")
        config._vrms2fa_figures_owner = True
    # A run stopped with SIGTERM (a CI timeout, kill PID) still stops the
    # MariaDB and radiusd it started (they run in sessions of their own, so
    # they do not get the terminal's or the process group's signals).
    def on_term(signum, frame):
        H._stop_everything()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, on_term)


@pytest.fixture(scope="session")
def built():
    missing = [str(p) for p in (H.MODULE_SO, H.ADMIN) if not p.exists()]
    if missing:
        pytest.fail("not built (run ./configure && make, or set VRMS2FA_BUILD_DIR): missing %s"
                    % ", ".join(missing), pytrace=False)
    return H.BUILD


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("vrms2fa")


@pytest.fixture(scope="session")
def mariadb(workdir, request):
    db = H.MariaDB(workdir / "mariadb")
    request.addfinalizer(db.stop)	# also when start() fails half-way
    db.start()
    yield db
    db.stop()


@pytest.fixture(scope="session")
def key_file(workdir):
    return H.write_key_file(workdir / "vrms2fa.key")


@pytest.fixture(scope="session")
def module_conf(workdir, mariadb, key_file):
    """The module configuration the admin tool reads (same database and key as every radiusd)."""
    return H.write_module_config(workdir / "vrms2fa.conf", mariadb, key_file)


@pytest.fixture(scope="session")
def make_module_conf(workdir, mariadb, key_file):
    counter = [0]

    def make(overrides=None):
        counter[0] += 1
        return H.write_module_config(workdir / ("vrms2fa-%d.conf" % counter[0]), mariadb, key_file, overrides)
    return make


@pytest.fixture(scope="session")
def schema(built, module_conf, mariadb):
    adm = H.Admin(module_conf)
    adm.migrate()
    return True


@pytest.fixture(scope="session")
def admin(schema, module_conf):
    """admin(*args, input=None, check=True) -> CompletedProcess; admin.json(*args) -> parsed --json output."""
    return H.Admin(module_conf)


@pytest.fixture(scope="session")
def admin_json(admin):
    return admin.json


@pytest.fixture(scope="session")
def dictdir(workdir):
    return H.write_dictionary_dir(workdir / "radclient-dict")


@pytest.fixture(scope="session")
def outbox(workdir):
    """Where the stub email hook leaves the facts of each email it 'sent'."""
    return H.EmailOutbox(workdir / "outbox")


@pytest.fixture(scope="session")
def radiusd_pool(workdir, mariadb, key_file, schema, dictdir, outbox):
    # Email confirmation of new addresses (on in the shipped file) is off
    # unless a test turns it on: users without 2FA then get in with the
    # reminder, which keeps the tests of the password step about the password.
    # When on, the hook is the stub, and the tests read its outbox.
    defaults = {("email", "enabled"): "no", ("email", "hook"): outbox.hook()}
    pool = H.RadiusdPool(workdir, mariadb, key_file, dictdir, defaults)
    yield pool
    pool.stop_all()


@pytest.fixture(scope="session")
def radiusd(radiusd_pool):
    """The shared radiusd with the shipped defaults."""
    return radiusd_pool.get()


@pytest.fixture
def new_radiusd(radiusd_pool):
    """Factory of private radiusd instances, stopped when the test ends:
    new_radiusd({("challenge", "lifetime"): 10}, debug=False, authorize_unlang="")."""
    mine = []

    def make(overrides=None, debug=False, authorize_unlang="", env=None):
        r = radiusd_pool.new(overrides, debug=debug, authorize_unlang=authorize_unlang, env=env)
        mine.append(r)
        return r
    yield make
    for r in mine:
        r.stop()


# --------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------

@dataclass
class User:
    login: str
    password: Optional[str]
    company: str
    group: str = "company_user"
    email: str = ""
    secret: Optional[str] = None
    recovery: list = field(default_factory=list)

    def code(self, t=None, offset=0):
        """The TOTP code (oathtool) for time t (default now) + offset steps."""
        return H.totp(self.secret, (time.time() if t is None else t) + 30 * offset)


class World:
    def __init__(self, admin):
        self.admin = admin
        self.people = {}	# login -> User, for the proof of `--by` (proof_input)

    def proof_input(self, login):
        """What `--by LOGIN` reads on stdin: the password, then a current code when enrolled."""
        u = self.people.get(login)
        if u is None:
            return ""
        return u.password + "\n" + (u.code() + "\n" if u.secret else "")

    def company(self, grace_days=None, level=None, groups=None, by=None):
        name = H.unique("co-")
        args = ["company", "add", name]
        if grace_days is not None:
            args += ["--grace-days", grace_days]
        self.admin(*args)
        if level is not None:
            self.policy(name, level, groups, by)
        return name

    def policy(self, company, level, groups, by):
        """policy set, judged by its effect (company show): the exit status
        of policy set itself is tested in test_foundation.py."""
        pargs = ["policy", "set", company, "--level", level, "--by", by]
        if groups:
            pargs += ["--groups", ",".join(groups)]
        r = self.admin(*pargs, check=False, input=self.proof_input(by))
        j = self.admin.json("company", "show", company)
        assert j["level"] == level, (r, j)
        if groups:
            assert sorted(j["groups"]) == sorted(groups), (r, j)
        return j

    def user(self, password=None, login=None, company=None, group="company_user", hash=None,
             email=None, enroll=False, address=None):
        company = company or self.company()
        login = login or H.unique("u")
        if password is None:
            # quotes, a backslash and a space: the escaping of every layer is tested too
            password = "Pw '%s\" \\ %s" % (H.unique(""), "x")
        email = email or "%s@example.com" % login.replace("'", "").replace('"', "")[:40]
        args = ["user", "add", login, "--company", company, "--group", group, "--email", email]
        if hash is not None:
            self.admin(*args, "--password-hash", hash)
        else:
            self.admin(*args, "--password-stdin", input=password + "\n")
        u = User(login=login, password=password, company=company, group=group, email=email)
        self.people[login] = u
        if enroll:
            self.enroll(u, address=address)
        return u

    def enroll(self, u, address=None):
        """enroll begin -> secret; confirm with the code of the PREVIOUS time
        step, so the current step's code stays usable by the test (the replay
        guard refuses codes of a step <= the last accepted one)."""
        j = self.admin.json("enroll", "begin", u.login)
        u.secret = j["secret"]
        H.wait_step_margin(3)
        code = H.totp(u.secret, time.time() - 30)
        args = ["enroll", "confirm", u.login, code]
        if address:
            args += ["--address", address]
        self.admin(*args)
        return u.secret

    def recovery_codes(self, u):
        u.recovery = self.admin.json("recovery-codes", u.login)["codes"]
        return u.recovery


@pytest.fixture(scope="session")
def world(admin):
    return World(admin)


# --------------------------------------------------------------------------
# Figures worth reading in the summary (the parallel tests)
# --------------------------------------------------------------------------

FIGURES = H.FIGURES


@pytest.fixture(scope="session")
def figures():
    return FIGURES


def pytest_sessionfinish(session):
    wid = _worker_id(session.config)
    d = os.environ.get("VRMS2FA_FIGURES_DIR")
    if wid and d and FIGURES:
        (Path(d) / ("%s.txt" % wid)).write_text("".join(line + "\n" for line in FIGURES))


def pytest_terminal_summary(terminalreporter, config):
    lines = list(FIGURES)
    d = os.environ.get("VRMS2FA_FIGURES_DIR")
    if d and getattr(config, "_vrms2fa_figures_owner", False):
        for f in sorted(Path(d).glob("*.txt")):
            lines += f.read_text().splitlines()
        shutil.rmtree(d, ignore_errors=True)
    if lines:
        terminalreporter.section("vrms2fa e2e figures")
        for line in lines:
            terminalreporter.write_line(line)
