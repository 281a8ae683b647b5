"""
test_package.py - the Debian package freeradius-vrms2fa, end to end, as an
operator uses it: built by scripts/build-package.sh (dpkg-buildpackage
inside `unshare -n`, so offline), checked with lintian (an error fails),
installed with `apt-get install ./...deb` into the machine's real FreeRADIUS,
set up by the README's steps ("Install from the package") against the tests'
private MariaDB with the package's own vrms2fa-admin, the system
`freeradius` binary started with the package's module on a free loopback
port (a private copy of /etc/freeradius/3.0, for the listen section), a login
from a trusted address and one with a challenge, then `apt-get purge`: the
configuration must be as it was (no links left in mods-enabled or
sites-enabled, `freeradius -XC` passes, every file as before).

The tests run in file order and share one installation (module fixture
`installed`).  Every change of system state happens while holding an
exclusive lock on /run/lock/vrms2fa-system.lock (the source-install test
takes it too), and the fixture's finalizer purges the package and puts
/etc/freeradius back from a copy even when a test fails.

Needs root.  Environment:
  VRMS2FA_PACKAGE_DEB=FILE   use this .deb instead of building one (quick form)
  VRMS2FA_PACKAGE_CHECK=1    build with debian/rules' unit tests (by default
                             the suite builds with nocheck: it runs them itself)
"""
import fcntl
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import harness as H
from conftest import World
from harness import ACCEPT, CHALLENGE

PKG = "freeradius-vrms2fa"
RADDB = Path("/etc/freeradius/3.0")
MODULE_CONF = RADDB / "mods-available" / "vrms2fa"
SITE_CONF = RADDB / "sites-available" / "vrms2fa"
KEY = RADDB / "vrms2fa.key"
DICT_LINE = "$INCLUDE- /usr/share/freeradius/dictionary.vrms2fa"
PKG_ADMIN = "/usr/sbin/vrms2fa-admin"
LOCK_FILE = "/run/lock/vrms2fa-system.lock"
LOCK_WAIT = 900		# seconds: the other system test may hold it that long
STATE_DIR = Path("/var/lib/freeradius-vrms2fa")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="installs a Debian package: needs root"),
    pytest.mark.skipif(bool(H.RADIUSD_PRELOAD), reason="the package is not built with sanitizers"),
]


def run(cmd, check=True, timeout=600, env=None, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, **kw)
    if check and r.returncode != 0:
        raise AssertionError("%s exited %d\nstdout: %s\nstderr: %s"
                             % (" ".join(map(str, cmd)), r.returncode, r.stdout[-4000:], r.stderr[-4000:]))
    return r


def apt_env():
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    env.pop("VRMS2FA_PURGE_KEY", None)
    return env


def pkg_status():
    r = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", PKG], check=False)
    return r.stdout.strip() if r.returncode == 0 else ""


# --------------------------------------------------------------------------
# Build and lintian
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    """The .deb of freeradius-vrms2fa: built from this tree (about 2-5 min on
    the loaded 2-core machine), or VRMS2FA_PACKAGE_DEB."""
    given = os.environ.get("VRMS2FA_PACKAGE_DEB")
    if given:
        return Path(given).resolve(), None
    out = tmp_path_factory.mktemp("deb")
    env = dict(os.environ)
    if os.environ.get("VRMS2FA_PACKAGE_CHECK") != "1":
        env["VRMS2FA_DEB_NOCHECK"] = "1"
    t0 = time.monotonic()
    r = run([str(H.SRC / "scripts" / "build-package.sh"), str(out)], check=False, timeout=1800, env=env)
    secs = time.monotonic() - t0
    assert r.returncode == 0, "build-package.sh failed:\n%s\n%s" % (r.stdout[-3000:], r.stderr[-3000:])
    assert "without network" in r.stdout, r.stdout
    debs = sorted(out.glob("%s_*.deb" % PKG))
    assert len(debs) == 1, (debs, r.stdout)
    sizes = ", ".join("%s %.0f KiB" % (p.name, p.stat().st_size / 1024) for p in sorted(out.glob("*.deb")))
    H.FIGURES.append("package: built offline in %.0f s: %s" % (secs, sizes))
    return debs[0], out


def test_build_is_offline_and_complete(deb):
    """The package has the module, the dictionary where Debian keeps them, the
    conffiles (module file 0640), the hook, the schema, the admin tool and its
    man page, and depends on exactly the freeradius it was built against."""
    path, out = deb
    listing = run(["dpkg-deb", "-c", str(path)]).stdout
    entries = {}
    for line in listing.splitlines():
        f = line.split()
        entries[f[-1].lstrip(".")] = (f[0], f[1])
    for p in ["/usr/lib/freeradius/rlm_vrms2fa.so", "/usr/share/freeradius/dictionary.vrms2fa",
              "/etc/freeradius/3.0/mods-available/vrms2fa", "/etc/freeradius/3.0/sites-available/vrms2fa",
              "/usr/libexec/rlm_vrms2fa/vrms2fa-email-hook", "/usr/share/rlm_vrms2fa/sql/001_initial.sql",
              "/usr/sbin/vrms2fa-admin", "/usr/share/man/man8/vrms2fa-admin.8.gz",
              "/usr/share/doc/freeradius-vrms2fa/README.Debian.gz"]:
        assert p in entries, "%s not in the package:\n%s" % (p, listing)
    assert entries["/etc/freeradius/3.0/mods-available/vrms2fa"][0] == "-rw-r-----"
    assert entries["/usr/libexec/rlm_vrms2fa/vrms2fa-email-hook"][0] == "-rwxr-xr-x"
    assert not any(p.startswith("/etc/freeradius/3.0/mods-enabled") for p in entries), "enabled by default"
    assert not any(p.endswith(".la") or "/frheaders" in p or p.endswith(".h") for p in entries), listing

    conffiles = run(["dpkg-deb", "-I", str(path), "conffiles"]).stdout.split()
    assert sorted(conffiles) == [str(MODULE_CONF), str(SITE_CONF)], conffiles

    depends = run(["dpkg-deb", "-f", str(path), "Depends"]).stdout
    fr = run(["dpkg-query", "-W", "-f=${Version}", "libfreeradius-dev"]).stdout.strip()
    assert "freeradius (= %s)" % fr in depends, depends
    assert "libmariadb3" in depends and "liboath0" in depends, depends	# from ${shlibs:Depends}
    if out is not None:
        # the build ran in a network namespace: the log says so, and the
        # headers came from the second upstream tarball of exactly that version
        log = (out / "build.log").read_text(errors="replace")
        assert log.startswith("network interfaces up for the build (besides lo): 0\n"), log[:300]
        assert "dpkg-buildpackage" in log and "fetch-freeradius-headers" not in log, log[-2000:]
        comp = list(out.glob("%s_*.orig-frheaders.tar.xz" % PKG))
        assert len(comp) == 1, comp
        names = run(["tar", "-tJf", str(comp[0])]).stdout.split()
        assert "frheaders/xlat.h" in names and "frheaders/FREERADIUS_VERSION" in names, names
        ver = run(["tar", "-xOJf", str(comp[0]), "frheaders/FREERADIUS_VERSION"]).stdout.strip()
        assert ver == fr, (ver, fr)


def test_lintian(deb):
    """lintian on the package: no error (each override is justified in
    debian/freeradius-vrms2fa.lintian-overrides)."""
    path, out = deb
    debs = sorted(out.glob("*.deb")) if out is not None else [path]	# with the -dbgsym package
    r = run(["lintian", "--fail-on", "none", "--display-info", "--show-overrides"] + [str(p) for p in debs],
            timeout=600)
    lines = [l for l in r.stdout.splitlines() if l.strip() and not l.startswith("N:")]
    H.FIGURES.append("lintian: %s" % ("; ".join(lines) or "no tags"))
    errors = [l for l in lines if l.startswith("E:")]
    assert not errors, "lintian errors:\n%s" % r.stdout
    warnings = [l for l in lines if l.startswith("W:")]
    assert not warnings, "lintian warnings:\n%s" % r.stdout


# --------------------------------------------------------------------------
# The machine's FreeRADIUS: lock, snapshot, install, and always undo
# --------------------------------------------------------------------------

class SystemLock:
    """The exclusive lock every test that changes system state takes."""

    def __init__(self):
        self.fd = None

    def acquire(self, timeout=LOCK_WAIT):
        self.fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    self.fd = None
                    raise AssertionError("%s still held after %d s" % (LOCK_FILE, timeout))
                time.sleep(1)

    def release(self):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def tree_state(root):
    """{relative path: (kind, mode, uid, gid, content or link target)} of a tree."""
    state = {}
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            rel = str(p.relative_to(root))
            if p.is_symlink():
                state[rel] = ("link", 0, st.st_uid, st.st_gid, os.readlink(p))
            elif p.is_dir():
                state[rel] = ("dir", st.st_mode, st.st_uid, st.st_gid, None)
            else:
                state[rel] = ("file", st.st_mode, st.st_uid, st.st_gid, p.read_bytes())
    st = root.lstat()
    state["."] = ("dir", st.st_mode, st.st_uid, st.st_gid, None)
    return state


def tree_diff(before, after):
    out = []
    for k in sorted(set(before) | set(after)):
        if k not in after:
            out.append("missing: %s" % k)
        elif k not in before:
            out.append("new: %s" % k)
        elif before[k] != after[k]:
            b, a = before[k], after[k]
            what = [n for n, x, y in zip(("kind", "mode", "uid", "gid", "content"), b, a) if x != y]
            out.append("changed (%s): %s" % (",".join(what), k))
    return out


class Installation:
    """The package installed in the machine's FreeRADIUS, and how to undo it."""

    def __init__(self, deb_path, base):
        self.deb = deb_path
        self.base = Path(base)
        self.backup = self.base / "etc-freeradius-backup"
        self.before = None
        self.install_output = ""
        self.purged = False

    def paths_of_package(self):
        listing = run(["dpkg-deb", "-c", str(self.deb)]).stdout
        return [line.split()[-1].lstrip(".") for line in listing.splitlines()
                if not line.startswith("d")]

    def preconditions(self):
        assert pkg_status() in ("", "un", "pn"), \
            "%s is already installed (%r): the test leaves a machine as it found it, so it does not touch it" \
            % (PKG, pkg_status())
        leftovers = [p for p in self.paths_of_package() + [str(KEY), str(STATE_DIR)] if os.path.lexists(p)]
        assert not leftovers, "files of the package are already on the machine (a source install?): %s" % leftovers
        for d in ("mods-enabled", "sites-enabled"):
            assert not os.path.lexists(RADDB / d / "vrms2fa"), "%s/vrms2fa exists already" % d

    def install(self):
        self.before = tree_state(RADDB.parent)
        run(["cp", "-a", str(RADDB.parent), str(self.backup)])
        r = run(["apt-get", "install", "-y", "--no-install-recommends", str(self.deb)], env=apt_env(), timeout=600)
        self.install_output = r.stdout + r.stderr
        m = re.search(r"NEW packages will be installed:\n((?:  .*\n)+)", r.stdout)
        assert m and m.group(1).split() == [PKG], "apt-get installed more than the package:\n%s" % r.stdout

    def purge(self, env=None):
        r = run(["apt-get", "purge", "-y", PKG], env=env or apt_env(), timeout=600)
        self.purged = True
        return r.stdout + r.stderr

    def undo(self):
        """Whatever happened: package gone, key and dictionary line gone,
        /etc/freeradius as before (put back from the copy if it differs)."""
        problems = []
        if pkg_status() not in ("", "un", "pn"):
            env = dict(apt_env(), VRMS2FA_PURGE_KEY="yes")
            r = run(["apt-get", "purge", "-y", PKG], env=env, check=False, timeout=600)
            if r.returncode != 0:
                problems.append("apt-get purge: %s %s" % (r.stdout[-2000:], r.stderr[-2000:]))
        if self.before is None:
            return problems
        if os.path.lexists(KEY) and "3.0/vrms2fa.key" not in self.before:
            os.unlink(KEY)
        remove_dictionary_line()
        shutil.rmtree(STATE_DIR, ignore_errors=True)
        diff = tree_diff(self.before, tree_state(RADDB.parent))
        if diff:
            problems.append("/etc/freeradius differed after the purge, restored from the copy: %s" % diff)
            run(["rsync", "-a", "--delete", str(self.backup) + "/", str(RADDB.parent) + "/"], check=False)
        return problems


def remove_dictionary_line():
    d = RADDB / "dictionary"
    text = d.read_text()
    if DICT_LINE in text:
        st = d.stat()
        d.write_text(text.replace("\n" + DICT_LINE + "\n", "\n").replace(DICT_LINE + "\n", ""))
        os.chown(d, st.st_uid, st.st_gid)
        os.chmod(d, st.st_mode & 0o7777)


@pytest.fixture(scope="module")
def installed(deb, request, tmp_path_factory):
    lock = SystemLock()
    lock.acquire()
    inst = Installation(deb[0], tmp_path_factory.mktemp("system"))
    undo_problems = []

    def finish():
        try:
            undo_problems.extend(inst.undo())
        finally:
            lock.release()
        if undo_problems:
            # the purge did not leave the machine as it was (now put right): an error of the run
            raise AssertionError("undoing the installation: %s" % undo_problems)
    request.addfinalizer(finish)
    inst.preconditions()
    inst.install()
    return inst


def test_installed_not_enabled_with_a_key(installed):
    """postinst: module file root:freerad 0640, a key file "1 <64 hex>" owned
    by freerad 0600, the next steps printed, nothing enabled."""
    import grp
    import pwd
    st = MODULE_CONF.stat()
    assert (st.st_mode & 0o7777, pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name) \
        == (0o640, "root", "freerad")
    st = KEY.stat()
    assert (st.st_mode & 0o7777, pwd.getpwuid(st.st_uid).pw_name) == (0o600, "freerad")
    assert re.fullmatch(r"1 [0-9a-f]{64}\n", KEY.read_text())
    assert "Next steps" in installed.install_output and DICT_LINE in installed.install_output, \
        installed.install_output
    assert not os.path.lexists(RADDB / "mods-enabled" / "vrms2fa")
    assert Path("/usr/lib/freeradius/rlm_vrms2fa.so").is_file()


# --------------------------------------------------------------------------
# The README's steps, then the system freeradius with the package's module
# --------------------------------------------------------------------------

class PackageAdmin(H.Admin):
    """The package's vrms2fa-admin with its compiled-in defaults (the
    configuration in /etc, the schema in /usr/share)."""

    def __init__(self):
        self.config = str(MODULE_CONF)
        self.env = dict(os.environ)
        self.env.pop("VRMS2FA_SQLDIR", None)

    def run(self, *args, input=None, check=True, json_out=False, config=None):
        cmd = [PKG_ADMIN] + (["--json"] if json_out else []) + [str(a) for a in args]
        r = subprocess.run(cmd, input=input, capture_output=True, text=True, env=self.env, timeout=120)
        if check and r.returncode != 0:
            raise H.AdminError("%s exited %d\nstdout: %s\nstderr: %s"
                               % (" ".join(cmd), r.returncode, r.stdout.strip(), r.stderr.strip()))
        return r

    __call__ = run


def readme_steps(mariadb, port):
    """'Install from the package' steps 1-3 on the real /etc/freeradius/3.0,
    with the tests' private MariaDB (TCP on loopback)."""
    db = H.unique("pkg")
    user = H.unique("pkg")
    password = H.unique("pw")
    mariadb.sql("CREATE DATABASE %s CHARACTER SET utf8mb4;"
                "CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s';"
                "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES, DROP, CREATE VIEW, SHOW VIEW,"
                " CREATE ROUTINE, ALTER ROUTINE, EXECUTE ON %s.* TO '%s'@'127.0.0.1';"
                % (db, user, password, db, user))
    st = MODULE_CONF.stat()
    MODULE_CONF.write_text(H.render_module_config(MODULE_CONF.read_text(), {
        ("database", "server"): "127.0.0.1", ("database", "port"): mariadb.port,
        ("database", "login"): user, ("database", "password"): password, ("database", "name"): db}))
    assert MODULE_CONF.stat().st_mode == st.st_mode
    adm = PackageAdmin()
    adm("db", "migrate")

    d = RADDB / "dictionary"
    st = d.stat()
    with open(d, "a") as f:
        f.write(DICT_LINE + "\n")
    assert d.stat().st_uid == st.st_uid

    os.symlink("../mods-available/vrms2fa", RADDB / "mods-enabled" / "vrms2fa")
    # the example server, its listen section edited to a free loopback port
    SITE_CONF.write_text(re.sub(r"(\n\s*)port\s*=\s*\d+", r"\g<1>port = %d" % port, SITE_CONF.read_text(), 1))
    os.symlink("../sites-available/vrms2fa", RADDB / "sites-enabled" / "vrms2fa")
    return adm


def private_raddb(base, secret):
    """A copy of /etc/freeradius/3.0 to run the system freeradius from: its
    own log and run folders, only the vrms2fa server (Debian's default and
    inner-tunnel listen on fixed ports, and eap needs the default server), one
    client on loopback.  The module
    (/usr/lib/freeradius/rlm_vrms2fa.so), the dictionary and the key are the
    package's; radiusd still switches to user freerad."""
    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)
    raddb = base / "raddb"
    run(["cp", "-a", str(RADDB), str(raddb)])
    for name in os.listdir(raddb / "sites-enabled"):
        if name != "vrms2fa":
            os.unlink(raddb / "sites-enabled" / name)
    # eap refuses to start without the Auth-Type EAP of the default server
    if os.path.lexists(raddb / "mods-enabled" / "eap"):
        os.unlink(raddb / "mods-enabled" / "eap")
    logdir, rundir = base / "log", base / "run"
    for d in (logdir, rundir):
        d.mkdir()
        shutil.chown(d, "freerad", "freerad")
    conf = (raddb / "radiusd.conf").read_text()
    for name, value in (("raddbdir", raddb), ("logdir", logdir), ("run_dir", rundir), ("db_dir", rundir)):
        conf, n = re.subn(r"(?m)^%s\s*=.*$" % name, "%s = %s" % (name, value), conf, 1)
        assert n == 1, name
    (raddb / "radiusd.conf").write_text(conf)
    (raddb / "clients.conf").write_text(
        "client loopback {\n\tipaddr = 127.0.0.0/8\n\tsecret = %s\n\trequire_message_authenticator = yes\n}\n"
        % secret)
    return raddb, logdir


class SystemRadiusd:
    """The system freeradius binary on a private copy of the configuration."""

    def __init__(self, raddb, logdir):
        self.raddb, self.logfile = raddb, logdir / "radius.log"
        self.proc = None

    def start(self, timeout=30):
        self.out = open(self.logfile.parent / "stdout.log", "ab")
        self.proc = subprocess.Popen([H.FREERADIUS, "-f", "-xx", "-l", str(self.logfile), "-d", str(self.raddb)],
                                     stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        H._track(self.proc, self.stop)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("freeradius exited with %s:\n%s" % (self.proc.returncode, H.tail(self.logfile)))
            if self.logfile.exists() and "Ready to process requests" in self.logfile.read_text(errors="replace"):
                return self
            time.sleep(0.1)
        self.stop()
        raise AssertionError("freeradius not ready in %d s:\n%s" % (timeout, H.tail(self.logfile)))

    def stop(self):
        if self.proc is not None:
            H._terminate(self.proc)
            self.proc = None
            self.out.close()


def test_readme_steps_and_logins(installed, mariadb, tmp_path_factory):
    """The README's steps with the package's admin tool, `freeradius -XC` on
    the real configuration, then the system freeradius answers: Accept from a
    trusted address, Access-Challenge then Accept with the code from a new
    one, and the module in use is the package's."""
    port = H.free_port("udp")
    adm = readme_steps(mariadb, port)
    r = run([H.FREERADIUS, "-XC"], check=False, timeout=120)
    assert r.returncode == 0 and "Configuration appears to be OK" in r.stdout, r.stdout[-4000:] + r.stderr

    secret = H.unique("s")
    # radiusd runs as freerad: its folder must not be under pytest's 0700 one
    base = Path(tempfile.mkdtemp(prefix="vrms2fa-package-"))
    dictdir = tmp_path_factory.mktemp("dict")
    (dictdir / "dictionary").write_text("$INCLUDE %s\n%s\n" % (H.FR_DICTIONARY, DICT_LINE))
    radiusd = None
    try:
        raddb, logdir = private_raddb(base, secret)
        radiusd = SystemRadiusd(raddb, logdir)
        radiusd.start()
        pid = radiusd.proc.pid
        maps = Path("/proc/%d/maps" % pid).read_text()
        assert "/usr/lib/freeradius/rlm_vrms2fa.so" in maps, "the package's module is not loaded"
        status = Path("/proc/%d/status" % pid).read_text()
        freerad_uid = int(run(["id", "-u", "freerad"]).stdout)
        assert re.search(r"(?m)^Uid:\s+\d+\s+%d\b" % freerad_uid, status), "radiusd did not switch to freerad"

        world = World(adm)
        trusted = H.new_address()
        u = world.user(enroll=True, address=trusted)

        nas = ("NAS-IP-Address", H.Raw("127.0.0.1"))
        rep = H.radius(port, secret, [("User-Name", u.login), ("User-Password", u.password),
                                      ("Calling-Station-Id", trusted), nas], dictdir=dictdir)
        assert rep.code == ACCEPT, (rep, H.tail(radiusd.logfile))
        assert rep.get("VRMS2FA-Enrolled") == "1", rep

        new = H.new_address()
        rep = H.radius(port, secret, [("User-Name", u.login), ("User-Password", u.password),
                                      ("Calling-Station-Id", new), nas], dictdir=dictdir)
        assert rep.code == CHALLENGE and rep.message == H.MSG_ENTER_CODE, rep
        rep2 = H.radius(port, secret, H.Radiusd.round2_attrs(u.login, u.code(), rep.state, csid=new),
                        dictdir=dictdir)
        assert rep2.code == ACCEPT, (rep2, H.tail(radiusd.logfile))
        addrs = {a["address"] for a in adm.json("trusted", "list", u.login)["addresses"]}
        assert addrs == {trusted, new}, addrs
    finally:
        if radiusd is not None:
            radiusd.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_remove_disables_and_reinstall_enables_again(installed):
    """apt-get remove: the module is gone, so its mods-enabled/sites-enabled
    links go too (FreeRADIUS would not start) and `freeradius -XC` passes;
    the conffiles and the key stay; installing again puts the links back and
    never replaces the key file (here one postinst did not make)."""
    links = {d: os.readlink(RADDB / d / "vrms2fa") for d in ("mods-enabled", "sites-enabled")}
    key = "7 %s\n" % ("ab" * 32)
    KEY.write_text(key)
    run(["apt-get", "remove", "-y", PKG], env=apt_env())
    assert pkg_status() == "rc", pkg_status()
    assert not Path("/usr/lib/freeradius/rlm_vrms2fa.so").exists()
    for d in links:
        assert not os.path.lexists(RADDB / d / "vrms2fa"), d
    assert MODULE_CONF.exists() and KEY.read_text() == key
    r = run([H.FREERADIUS, "-XC"], check=False, timeout=120)
    assert r.returncode == 0 and "Configuration appears to be OK" in r.stdout, r.stdout[-4000:] + r.stderr

    run(["apt-get", "install", "-y", "--no-install-recommends", str(installed.deb)], env=apt_env())
    assert pkg_status() == "ii", pkg_status()
    assert {d: os.readlink(RADDB / d / "vrms2fa") for d in links} == links
    assert KEY.read_text() == key
    st = KEY.stat()
    assert st.st_mode & 0o7777 == 0o600


def test_purge_restores_the_configuration(installed):
    """apt-get purge: the links to the package's files are gone, the key file
    is kept (and said so), `freeradius -XC` passes with the $INCLUDE- line
    still there; after the README's last step (delete the key and the line
    by hand) /etc/freeradius is exactly what it was, and no file of the
    package is left."""
    paths = installed.paths_of_package()
    out = installed.purge()
    assert pkg_status() in ("", "un", "pn"), pkg_status()
    for d in ("mods-enabled", "sites-enabled"):
        assert not os.path.lexists(RADDB / d / "vrms2fa"), "%s/vrms2fa left behind" % d
    assert KEY.exists() and "kept %s" % KEY in out, out
    assert not STATE_DIR.exists()
    left = [p for p in paths if os.path.lexists(p)]
    assert not left, left
    r = run([H.FREERADIUS, "-XC"], check=False, timeout=120)
    assert r.returncode == 0 and "Configuration appears to be OK" in r.stdout, r.stdout[-4000:] + r.stderr

    os.unlink(KEY)
    remove_dictionary_line()
    diff = tree_diff(installed.before, tree_state(RADDB.parent))
    assert not diff, diff
