"""
harness.py - the machinery of the end-to-end tests of rlm_vrms2fa: a private
MariaDB, private radiusd instances on free loopback ports, the admin tool,
radclient, and TOTP codes computed independently with oathtool.

Standard library only.  Everything listens on 127.0.0.1 and on ports the
kernel hands out (bind to port 0), never on a fixed or well-known port.
"""
import atexit
import ctypes
import ctypes.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

# --------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------

SRC = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("VRMS2FA_BUILD_DIR", str(SRC))).resolve()
MODULE_DIR = BUILD / ".libs"
MODULE_SO = MODULE_DIR / "rlm_vrms2fa.so"
ADMIN = BUILD / "vrms2fa-admin"
SQL_DIR = SRC / "sql"
RADDB_SRC = SRC / "raddb"
MODULE_CONF_SRC = RADDB_SRC / "mods-available" / "vrms2fa"
SITE_SRC = RADDB_SRC / "sites-available" / "vrms2fa"
DICT_SRC = RADDB_SRC / "dictionary.vrms2fa"
FR_DICTIONARY = "/usr/share/freeradius/dictionary"
FREERADIUS = shutil.which("freeradius") or "/usr/sbin/freeradius"
RADCLIENT = shutil.which("radclient") or "/usr/bin/radclient"
RADTEST = shutil.which("radtest") or "/usr/bin/radtest"
OATHTOOL = shutil.which("oathtool") or "/usr/bin/oathtool"

# Sanitized runs (scripts/test-sanitized.sh, tests/sanitizers/README.md): the
# libraries every radiusd is started with in LD_PRELOAD, in this order: the
# shim that clears RTLD_DEEPBIND, then the sanitizer runtimes.  ASAN_OPTIONS
# and UBSAN_OPTIONS come from the environment as they are.
RADIUSD_PRELOAD = os.environ.get("VRMS2FA_RADIUSD_PRELOAD", "").strip()


def radiusd_env(extra=None):
    """The environment of a radiusd (and of radiusd -XC); extra: more
    variables (an LD_PRELOAD there goes after the sanitizers')."""
    env = dict(os.environ)
    extra = dict(extra or {})
    preload = " ".join(p for p in (RADIUSD_PRELOAD, extra.pop("LD_PRELOAD", ""), env.get("LD_PRELOAD", "")) if p)
    env.update(extra)
    if preload:
        env["LD_PRELOAD"] = preload
    return env


# With AddressSanitizer in the process, UndefinedBehaviorSanitizer prints its
# reports on stderr whatever log_path says: the admin tool's stderr is kept in
# this folder when it has one (radiusd's ends up in its own log files, which
# tests/sanitizers/check_reports.py searches).
SANITIZER_REPORTS = os.environ.get("VRMS2FA_SANITIZER_REPORTS", "")
_SANITIZER_MARK = re.compile(r"runtime error: |==ERROR: (?:Address|Leak|UndefinedBehavior)Sanitizer")


def keep_sanitizer_stderr(program, stderr):
    if SANITIZER_REPORTS and stderr and _SANITIZER_MARK.search(stderr):
        path = Path(SANITIZER_REPORTS) / ("stderr.%s.%s" % (program, uuid.uuid4().hex[:12]))
        path.write_text(stderr)

# The Reply-Message texts of rlm_vrms2fa/flow.h, read from the header so
# that the tests follow the product's wording instead of copying it.
def _read_messages():
    text = (SRC / "rlm_vrms2fa" / "flow.h").read_text()
    return dict(re.findall(r'#define\s+(MSG_[A-Z_]+)\s+"((?:[^"\\]|\\.)*)"', text))


MESSAGES = _read_messages()
MSG_LOGIN_FAILED = MESSAGES["MSG_LOGIN_FAILED"]
MSG_LOCKED = MESSAGES["MSG_LOCKED"]
MSG_ENTER_CODE = MESSAGES["MSG_ENTER_CODE"]
MSG_CODE_WRONG = MESSAGES["MSG_CODE_WRONG"]
MSG_CODE_FAILED = MESSAGES["MSG_CODE_FAILED"]
MSG_STATE_INVALID = MESSAGES["MSG_STATE_INVALID"]
MSG_SERVICE = MESSAGES["MSG_SERVICE"]

ACCEPT = "Access-Accept"
REJECT = "Access-Reject"
CHALLENGE = "Access-Challenge"

# --------------------------------------------------------------------------
# Processes we started: stopped at exit whatever happens
# --------------------------------------------------------------------------

_live = {}


def _track(proc, stop):
    _live[proc.pid] = stop


def _untrack(proc):
    _live.pop(proc.pid, None)


@atexit.register
def _stop_everything():
    for pid, stop in list(_live.items()):
        try:
            stop()
        except Exception:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    _live.clear()


def _terminate(proc, timeout=10.0):
    """SIGTERM our own child, SIGKILL it if it does not go; always reap it.
    Returns its exit status (negative: killed by that signal)."""
    if proc.poll() is None:
        try:
            proc.terminate()
        except OSError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                proc.kill()
            except OSError:
                pass
            proc.wait(timeout=10)
    _untrack(proc)
    return proc.returncode


def tail(path, lines=40):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)


# --------------------------------------------------------------------------
# Ports and names
# --------------------------------------------------------------------------

def free_port(kind="udp"):
    """A port the kernel says is free on 127.0.0.1 right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def unique(prefix="t"):
    return "%s%s" % (prefix, uuid.uuid4().hex[:12])


_addr_counter = [0]


def new_address():
    """A fresh client address for Calling-Station-Id (documentation prefix,
    never contacted: it is only a value in a packet)."""
    _addr_counter[0] += 1
    return "2001:db8:%x::%x" % (0x1000 | (os.getpid() & 0xfff), _addr_counter[0])


# --------------------------------------------------------------------------
# Password hashes, made by libxcrypt (what PHP and Debian's crypt use)
# --------------------------------------------------------------------------

_libcrypt = None


def _crypt_lib():
    global _libcrypt
    if _libcrypt is None:
        lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
        lib.crypt_gensalt.restype = ctypes.c_char_p
        lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
        lib.crypt.restype = ctypes.c_char_p
        lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        _libcrypt = lib
    return _libcrypt


def crypt_hash(password, prefix, count=0, setting=None):
    """prefix: '$2y$', '$2b$', '$6$', '$y$'.  count: the cost (0 = default).
    setting: the whole setting ("$6$rounds=1000$salt$") instead of a random one."""
    lib = _crypt_lib()
    salt = setting.encode() if setting else lib.crypt_gensalt(prefix.encode(), count, None, 0)
    if not salt:
        raise RuntimeError("crypt_gensalt(%s) failed" % prefix)
    out = lib.crypt(password.encode(), salt)
    if not out or out.startswith(b"*"):
        raise RuntimeError("crypt(%s) failed" % prefix)
    out = out.decode()
    assert out.startswith(prefix), out
    return out


# --------------------------------------------------------------------------
# TOTP, computed by oathtool
# --------------------------------------------------------------------------

def totp(secret_b32, t=None, digits=6, algo="sha1", period=30):
    """The code oathtool computes for time t (default: now)."""
    if t is None:
        t = time.time()
    mode = "--totp" if algo.lower() == "sha1" else "--totp=%s" % algo.lower()
    out = subprocess.run(
        [OATHTOOL, "--base32", mode, "--digits=%d" % digits, "--time-step-size=%ds" % period,
         "-N", "@%d" % int(t), secret_b32],
        check=True, capture_output=True, text=True)
    return out.stdout.strip()


def step_of(t=None, period=30):
    return int((time.time() if t is None else t) // period)


def wait_step_margin(margin=3.0, period=30):
    """Make sure at least `margin` seconds are left in the current time step
    (sleeps into the next step otherwise), so that a code computed now is
    still the current one when the server checks it."""
    left = period - (time.time() % period)
    if left < margin:
        time.sleep(left + 0.05)


def wait_next_step(period=30):
    """Sleep until the next time step begins."""
    left = period - (time.time() % period)
    time.sleep(left + 0.05)


def wrong_code(secret_b32, digits=6, t=None):
    """A code that is not valid for any step near t (window is +-1; keep +-2 clear)."""
    t = time.time() if t is None else t
    valid = {totp(secret_b32, t + d * 30, digits) for d in (-2, -1, 0, 1, 2)}
    n = int(totp(secret_b32, t, digits))
    while True:
        n = (n + 1) % (10 ** digits)
        c = "%0*d" % (digits, n)
        if c not in valid:
            return c


# --------------------------------------------------------------------------
# MariaDB
# --------------------------------------------------------------------------

def mariadb_install_db(datadir, user, label):
    """The system tables of a new data folder (mariadb-install-db).  Its
    temporary files go to a folder of its own beside the data folder, not to
    the shared /tmp (where a file left by another server whose pid this one
    reuses makes the bootstrap fail)."""
    tmpdir = Path(datadir).parent / "tmp"
    tmpdir.mkdir(parents=True, exist_ok=True)
    if user != "root":
        shutil.chown(tmpdir, user, user)
    r = subprocess.run(
        ["mariadb-install-db", "--no-defaults", "--datadir=%s" % datadir, "--user=%s" % user,
         "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve",
         "--innodb-buffer-pool-size=64M", "--skip-log-bin", "--tmpdir=%s" % tmpdir],
        capture_output=True, text=True, timeout=180)
    if r.returncode != 0:
        raise RuntimeError("mariadb-install-db (%s) failed:\n%s\n%s" % (label, r.stdout[-3000:], r.stderr[-3000:]))


def mariadb_shutdown(socket, proc, timeout):
    """Ask the mariadbd of proc (listening on socket) to shut down, wait up to
    timeout seconds for it, then make sure it is gone."""
    if proc.poll() is None:
        subprocess.run(["mariadb-admin", "--no-defaults", "-S", socket, "-uroot", "shutdown"],
                       capture_output=True, timeout=timeout)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    _terminate(proc)


class RootSql:
    """SQL as root over the server's socket (self.socket), for MariaDB and
    galera.py's nodes; rows() and scalar() read self.db.  self.label names the
    server in errors."""

    def sql(self, query, database=None, check=True, timeout=60):
        """Run SQL; returns stdout (tab-separated, no headers)."""
        cmd = ["mariadb", "--no-defaults", "-S", self.socket, "-uroot", "-N", "-B"]
        if database:
            cmd.append(database)
        r = subprocess.run(cmd + ["-e", query], capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError("SQL on %s failed (%s): %s\n%s" % (self.label, r.returncode, query, r.stderr))
        return r.stdout

    def rows(self, query):
        out = self.sql(query, database=self.db)
        return [line.split("\t") for line in out.splitlines() if line != ""]

    def scalar(self, query):
        rows = self.rows(query)
        return rows[0][0] if rows else None


class MariaDB(RootSql):
    label = "MariaDB"

    def __init__(self, base, tls=None):
        """tls: None, or {"ca": path, "cert": path, "key": path}: the server
        then speaks TLS with that certificate (--ssl-ca/--ssl-cert/--ssl-key)."""
        self.base = Path(base)
        self.tls = dict(tls) if tls else None
        self.datadir = self.base / "data"
        self.socket = str(self.base / "mysqld.sock")
        self.pidfile = str(self.base / "mysqld.pid")
        self.logfile = str(self.base / "mysqld.log")
        self.port = None
        self.proc = None
        self.db = "vrms2fa"
        self.user = "vrms2fa"
        self.password = secrets.token_hex(16)

    def start(self):
        self.base.mkdir(parents=True, exist_ok=True)
        if len(self.socket) > 100:
            raise RuntimeError("socket path too long for AF_UNIX: %s" % self.socket)
        mariadb_install_db(self.datadir, "root", self.label)
        self.port = free_port("tcp")
        self.launch()
        pw = self.password
        self.sql(
            "CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
            "CREATE USER '%s'@'localhost' IDENTIFIED BY '%s';"
            "CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s';"
            "GRANT ALL ON %s.* TO '%s'@'localhost';"
            "GRANT ALL ON %s.* TO '%s'@'127.0.0.1';"
            % (self.db, self.user, pw, self.user, pw, self.db, self.user, self.db, self.user))
        return self

    def launch(self, timeout=30):
        """Start mariadbd on this data folder and port (again, after a kill)
        and wait until it answers; returns the monotonic time it did."""
        self._log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(
            ["mariadbd", "--no-defaults", "--datadir=%s" % self.datadir, "--socket=%s" % self.socket,
             "--port=%d" % self.port, "--bind-address=127.0.0.1", "--user=root",
             "--pid-file=%s" % self.pidfile, "--log-error=%s" % self.logfile,
             "--tmpdir=%s" % (Path(self.datadir).parent / "tmp"),
             "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M",
             "--innodb-flush-log-at-trx-commit=2", "--skip-log-bin", "--skip-name-resolve",
             "--max-connections=300"]
            + (["--ssl-ca=%s" % self.tls["ca"], "--ssl-cert=%s" % self.tls["cert"],
                "--ssl-key=%s" % self.tls["key"]] if self.tls else []),
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        _track(self.proc, self.stop)
        deadline = time.time() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("mariadbd exited with %s:\n%s" % (self.proc.returncode, tail(self.logfile)))
            p = subprocess.run(["mariadb-admin", "--no-defaults", "-S", self.socket, "-uroot", "ping"],
                               capture_output=True, text=True)
            if p.returncode == 0 and "alive" in p.stdout:
                return time.monotonic()
            if time.time() > deadline:
                self.stop()
                raise RuntimeError("mariadbd did not answer within %d s:\n%s" % (timeout, tail(self.logfile)))
            time.sleep(0.05)

    def stop(self):
        if self.proc is None:
            return
        mariadb_shutdown(self.socket, self.proc, 30)
        try:
            self._log.close()
        except Exception:
            pass
        self.proc = None


# --------------------------------------------------------------------------
# A TCP forwarder on loopback: the database "goes down" when it stops
# --------------------------------------------------------------------------

def trust_row(db, login, address, how="email", at=None):
    """Write a trusted address for login as a proof of `how` would (for the
    enrollment paths, which are offered only from a trusted address).  db: a
    MariaDB (or anything with .sql and .db); address: normalised."""
    at = int(time.time() if at is None else at)
    kind = "mac" if re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", address) else "ipv4" if "." in address else "ipv6"
    db.sql("INSERT INTO trusted_addresses (user_id, scope, address, kind, how, created_at, proven_at,"
           " last_used_at, expires_at) SELECT id, '', '%s', '%s', '%s', %d, %d, %d, NULL FROM users"
           " WHERE login = '%s'" % (address, kind, how, at, at, at, login), database=db.db)


class TcpForwarder:
    """127.0.0.1:port -> 127.0.0.1:upstream.  stop() closes the listener and
    every forwarded connection (the database looks dead: refused, and open
    connections reset); start() listens again on the same port."""

    def __init__(self, upstream_port, port=None):
        import threading
        self._threading = threading
        self.upstream = upstream_port
        self.port = port or free_port("tcp")
        self.listener = None
        self.conns = []
        self.lock = threading.Lock()

    def start(self):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(64)
        self.listener = ls
        self._threading.Thread(target=self._accept, args=(ls,), daemon=True).start()
        return self

    def _accept(self, ls):
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
                u.settimeout(None)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns += [c, u]
            for a, b in ((c, u), (u, c)):
                self._threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        if self.listener is not None:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        with self.lock:
            conns, self.conns = self.conns, []
        for c in conns:
            try:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()


# --------------------------------------------------------------------------
# The module's configuration, with overrides
# --------------------------------------------------------------------------

_ASSIGN = re.compile(r'^(\s*)([A-Za-z0-9_.-]+)(\s*=\s*)("(?:[^"\\]|\\.)*"|[^\s#]*)(.*)$')
_OPEN = re.compile(r'^\s*([A-Za-z0-9_.-]+)(?:\s+[A-Za-z0-9_.-]+)?\s*\{\s*(?:#.*)?$')
_CLOSE = re.compile(r'^\s*\}\s*(?:#.*)?$')


def conf_value(value, quoted):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    value = str(value)
    if quoted or not re.fullmatch(r"[A-Za-z0-9_.:/-]+", value):
        return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')
    return value


def render_module_config(template, overrides):
    """Rewrite the vrms2fa section.  overrides: {(section or None, option): value};
    section None is the vrms2fa section itself.  Options missing from the
    template are added to their section (created if needed)."""
    pending = dict(overrides)
    out = []
    stack = []
    for line in template.splitlines():
        if _OPEN.match(line) and not _ASSIGN.match(line):
            stack.append(_OPEN.match(line).group(1))
            out.append(line)
            continue
        if _CLOSE.match(line):
            if stack:
                section = None if len(stack) == 1 else stack[-1]
                indent = "\t" * len(stack)
                for (sec, opt), val in list(pending.items()):
                    if sec == section and len(stack) <= 3:
                        out.append("%s%s = %s" % (indent, opt, conf_value(val, isinstance(val, str))))
                        del pending[(sec, opt)]
                if len(stack) == 1:
                    # sections that the template does not have at all
                    secs = {}
                    for (sec, opt), val in list(pending.items()):
                        secs.setdefault(sec, []).append((opt, val))
                        del pending[(sec, opt)]
                    for sec, items in secs.items():
                        out.append("\t%s {" % sec)
                        for opt, val in items:
                            out.append("\t\t%s = %s" % (opt, conf_value(val, isinstance(val, str))))
                        out.append("\t}")
                stack.pop()
            out.append(line)
            continue
        m = _ASSIGN.match(line)
        if m and stack and stack[0] == "vrms2fa" and len(stack) <= 3:	# 3: database { tls { } }
            section = None if len(stack) == 1 else stack[-1]
            key = (section, m.group(2))
            if key in pending:
                val = pending.pop(key)
                line = "%s%s%s%s%s" % (m.group(1), m.group(2), m.group(3),
                                       conf_value(val, m.group(4).startswith('"')), m.group(5))
        out.append(line)
    if pending:
        raise ValueError("could not place overrides %r" % pending)
    return "\n".join(out) + "\n"


def write_module_config(path, db, key_file, overrides=None):
    base = {
        ("database", "server"): "127.0.0.1",
        ("database", "port"): db.port,
        ("database", "socket"): "",
        ("database", "login"): db.user,
        ("database", "password"): db.password,
        ("database", "name"): db.db,
        (None, "key_file"): str(key_file),
    }
    base.update(overrides or {})
    text = render_module_config(MODULE_CONF_SRC.read_text(), base)
    Path(path).write_text(text)
    os.chmod(path, 0o600)
    return Path(path)


def write_key_file(path):
    Path(path).write_text("1 %s\n" % secrets.token_hex(32))
    os.chmod(path, 0o600)
    return Path(path)


def write_dictionary_dir(path):
    """A folder with a `dictionary` for radclient and radiusd: FreeRADIUS's and ours."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / "dictionary").write_text("$INCLUDE %s\n$INCLUDE %s\n" % (FR_DICTIONARY, DICT_SRC))
    return path


# --------------------------------------------------------------------------
# A stub of the email hook: keeps the facts of every email in an outbox
# --------------------------------------------------------------------------

EMAIL_STUB = """#!/bin/sh
# Test stub of the email hook: one file per email with the VRMS2FA_* facts
# the module gave it.  Usage: stub OUTBOX [fail|slow]
outbox="$1"
n="$(date +%s%N)-$$"
env | grep '^VRMS2FA_' | sort > "$outbox/.$n" || exit 3
mv "$outbox/.$n" "$outbox/$n.env"
case "$2" in
fail) echo "stub: the mail server said no" >&2; exit 1 ;;
slow) sleep 30 ;;
esac
exit 0
"""


class EmailOutbox:
    def __init__(self, base):
        self.dir = Path(base)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.stub = self.dir.parent / "email-hook-stub"
        self.stub.write_text(EMAIL_STUB)
        os.chmod(self.stub, 0o755)

    def hook(self, mode=""):
        """The `email.hook` value (no spaces in these paths)."""
        return ("%s %s %s" % (self.stub, self.dir, mode)).strip()

    def emails(self, login=None):
        out = []
        for f in sorted(self.dir.glob("*.env")):
            facts = {}
            for line in f.read_text().splitlines():
                k, _, v = line.partition("=")
                facts[k] = v
            if login is None or facts.get("VRMS2FA_LOGIN") == login:
                out.append(facts)
        return out


# --------------------------------------------------------------------------
# The admin tool
# --------------------------------------------------------------------------

class AdminError(AssertionError):
    pass


class Admin:
    def __init__(self, config):
        self.config = str(config)
        self.env = dict(os.environ, VRMS2FA_SQLDIR=str(SQL_DIR))

    def run(self, *args, input=None, check=True, json_out=False, config=None):
        cmd = [str(ADMIN), "--config", config or self.config]
        if json_out:
            cmd.append("--json")
        cmd += [str(a) for a in args]
        r = subprocess.run(cmd, input=input, capture_output=True, text=True, env=self.env, timeout=120)
        keep_sanitizer_stderr("vrms2fa-admin", r.stderr)
        if check and r.returncode != 0:
            raise AdminError("%s exited %d\nstdout: %s\nstderr: %s"
                             % (" ".join(cmd[1:]), r.returncode, r.stdout.strip(), r.stderr.strip()))
        return r

    __call__ = run

    def json(self, *args, input=None, check=True, config=None):
        r = self.run(*args, input=input, check=check, json_out=True, config=config)
        try:
            return json.loads(r.stdout)
        except ValueError:
            raise AdminError("%s: stdout is not JSON: %r (stderr %r)" % (args, r.stdout, r.stderr))

    def migrate(self):
        r = self.run("--sql-dir", str(SQL_DIR), "db", "migrate", check=False)
        if r.returncode == 2:	# no --sql-dir option: the environment variable names the folder
            r = self.run("db", "migrate", check=False)
        if r.returncode != 0:
            raise AdminError("db migrate exited %d: %s %s" % (r.returncode, r.stdout, r.stderr))
        return r


# --------------------------------------------------------------------------
# radclient
# --------------------------------------------------------------------------

OCTETS_ATTRS = {"State", "Message-Authenticator", "Class", "CHAP-Password", "CHAP-Challenge", "Proxy-State"}


def quote_bytes(b):
    """A radclient double-quoted string carrying exactly the bytes b."""
    out = []
    for c in b:
        if c == 0x22:
            out.append('\\"')
        elif c == 0x5c:
            out.append("\\\\")
        elif 0x20 <= c < 0x7f:
            out.append(chr(c))
        else:
            out.append("\\%03o" % c)
    return '"' + "".join(out) + '"'


def format_value(name, value):
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        if name in OCTETS_ATTRS:
            return "0x" + bytes(value).hex()
        return quote_bytes(bytes(value))
    value = str(value)
    if name in OCTETS_ATTRS and value.startswith("0x"):
        return value
    if name in ("NAS-IP-Address", "Packet-Src-IP-Address"):
        return value
    return quote_bytes(value.encode("utf-8"))


class Raw(str):
    """A value written to radclient exactly as given."""


def _unescape(s):
    """radclient's printed string (inside the quotes) -> bytes."""
    out = bytearray()
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if re.fullmatch(r"[0-7]{3}", s[i + 1:i + 4]):
                out.append(int(s[i + 1:i + 4], 8) & 0xff)
                i += 4
                continue
            out += {"n": b"\n", "r": b"\r", "t": b"\t"}.get(n, n.encode())
            i += 2
            continue
        out += ch.encode("utf-8")
        i += 1
    return bytes(out)


class Reply:
    def __init__(self, code, attrs, raw, stderr, elapsed, sent):
        self.code = code		# "Access-Accept" ... or None (no reply)
        self.attrs = attrs		# name -> [values]; strings unquoted, octets as "0x.."
        self.raw = raw
        self.stderr = stderr
        self.elapsed = elapsed
        self.sent = sent

    def get(self, name, default=None):
        v = self.attrs.get(name)
        return v[0] if v else default

    @property
    def message(self):
        v = self.attrs.get("Reply-Message")
        return "".join(v) if v else None

    @property
    def state(self):
        """The State as bytes (None when there is none)."""
        v = self.get("State")
        if v is None:
            return None
        return bytes.fromhex(v[2:]) if v.startswith("0x") else v.encode()

    @property
    def state_hex(self):
        return self.get("State")

    def __repr__(self):
        return "<Reply %s %r in %.3fs>" % (self.code, self.attrs, self.elapsed)


def tally(replies):
    """{"Access-Reject (message)": count, ...} of many replies, for assertions and figures."""
    t = {}
    for r in replies:
        key = "%s%s" % (r.code or "no reply", " (%s)" % r.message if r.message else "")
        t[key] = t.get(key, 0) + 1
    return t


def parse_radclient_all(stdout):
    """Every reply radclient printed: a list of (code, attrs)."""
    replies = []
    block = None
    for line in stdout.splitlines():
        m = re.match(r"^Received (Access-[A-Za-z]+|[A-Za-z-]+) Id ", line)
        if m:
            block = {}
            replies.append((m.group(1), block))
            continue
        if line.startswith("Sent "):
            block = None
            continue
        if block is not None and line.startswith(("\t", " ")):
            am = re.match(r'^\s+([^\s=]+)\s*[:+]?=\s*(.*)$', line)
            if not am:
                continue
            name, value = am.group(1), am.group(2).strip()
            if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
                value = _unescape(value[1:-1]).decode("utf-8", "surrogateescape")
            block.setdefault(name, []).append(value)
        elif block is not None and line.strip():
            block = None
    return replies


def parse_radclient(stdout):
    """The last reply radclient printed: (code or None, attrs)."""
    replies = parse_radclient_all(stdout)
    return replies[-1] if replies else (None, {})


def _lines(attrs, src_ip, ma):
    items = list(attrs.items()) if isinstance(attrs, dict) else list(attrs)
    lines = ["%s = %s" % (n, format_value(n, v)) for n, v in items if v is not None]
    if ma and not any(n == "Message-Authenticator" for n, _ in items):
        lines.append("Message-Authenticator = 0x00")
    if src_ip:
        lines.append("Packet-Src-IP-Address = %s" % src_ip)
    return lines


def radius_burst(port, secret, packets, src_ip=None, ma=True, dictdir=None, timeout=5):
    """Send all packets at once from ONE radclient (-p N: all in flight
    together, one socket, distinct Ids).  Returns (replies, elapsed): one
    Reply per answer received, in the order they came."""
    data = "\n".join("\n".join(_lines(p, src_ip, ma)) + "\n" for p in packets)
    cmd = [RADCLIENT, "-x", "-p", str(len(packets)), "-t", str(timeout), "-r", "1"]
    if dictdir:
        cmd += ["-d", str(dictdir)]
    cmd += ["127.0.0.1:%d" % port, "auth", secret]
    t0 = time.monotonic()
    r = subprocess.run(cmd, input=data.encode("utf-8", "surrogateescape"), capture_output=True,
                       timeout=timeout * 2 + 30)
    elapsed = time.monotonic() - t0
    out = r.stdout.decode("utf-8", "replace")
    err = r.stderr.decode("utf-8", "replace")
    return [Reply(code, attrs, out, err, elapsed, data) for code, attrs in parse_radclient_all(out)], elapsed


def radius(port, secret, attrs, src_ip=None, ma=True, dictdir=None, timeout=3, retries=1):
    """Send one Access-Request with radclient and parse the answer.
    attrs: a list of (name, value) pairs or a dict.  Strings are sent quoted
    (any bytes: give bytes), State as hex.  Message-Authenticator is added
    unless ma=False; src_ip binds the source address (Packet-Src-IP-Address)."""
    lines = _lines(attrs, src_ip, ma)
    cmd = [RADCLIENT, "-x", "-t", str(timeout), "-r", str(retries)]
    if dictdir:
        cmd += ["-d", str(dictdir)]
    cmd += ["127.0.0.1:%d" % port, "auth", secret]
    data = "\n".join(lines) + "\n"
    t0 = time.monotonic()
    r = subprocess.run(cmd, input=data.encode("utf-8", "surrogateescape"), capture_output=True,
                       timeout=timeout * (retries + 1) + 15)
    elapsed = time.monotonic() - t0
    out = r.stdout.decode("utf-8", "replace")
    code, reply_attrs = parse_radclient(out)
    return Reply(code, reply_attrs, out, r.stderr.decode("utf-8", "replace"), elapsed, data)


# --------------------------------------------------------------------------
# radiusd
# --------------------------------------------------------------------------

RADIUSD_CONF = """\
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
raddbdir = {raddb}
confdir = ${{raddbdir}}
logdir = {logdir}
run_dir = {rundir}
db_dir = {rundir}
radacctdir = {logdir}
pidfile = ${{run_dir}}/radiusd.pid
libdir = {libdir}
name = radiusd
correct_escapes = true
max_request_time = 30
cleanup_delay = 5
max_requests = 4096
hostname_lookups = no

log {{
	destination = files
	file = {logfile}
	colourise = no
	syslog_facility = daemon
	stripped_names = no
	auth = yes
	auth_badpass = no
	auth_goodpass = no
	suppress_secrets = {suppress}
}}

security {{
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = no
}}

thread pool {{
	start_servers = 4
	max_servers = 8
	min_spare_servers = 2
	max_spare_servers = 4
	max_requests_per_server = 0
	auto_limit_acct = no
}}

client localhost {{
	ipaddr = 127.0.0.0/8
	secret = {secret}
	require_message_authenticator = no
	nas_type = other
}}

modules {{
	$INCLUDE ${{raddbdir}}/mods-enabled/
}}

policy {{
}}

$INCLUDE ${{raddbdir}}/sites-enabled/
"""


def render_site(port, authorize_unlang=""):
    """The shipped site, listening on 127.0.0.1:port only; authorize_unlang
    (the operator's per-client rules) goes first in authorize { }."""
    text = SITE_SRC.read_text()
    if authorize_unlang:
        text, n = re.subn(r"(\n\s*authorize\s*\{)", lambda m: m.group(1) + "\n" + authorize_unlang, text, count=1)
        if n != 1:
            raise ValueError("no authorize section in %s" % SITE_SRC)
    m = re.search(r"listen\s*\{[^}]*\}", text)
    if not m:
        raise ValueError("no listen section in %s" % SITE_SRC)
    listen = m.group(0)
    new = re.sub(r"(\n\s*)port\s*=\s*\S+", r"\g<1>port = %d" % port, listen)
    new = re.sub(r"(\n\s*)ipaddr\s*=\s*\S+", r"\g<1>ipaddr = 127.0.0.1", new)
    if "ipaddr" not in new:
        new = new.replace("{", "{\n\t\tipaddr = 127.0.0.1", 1)
    if not re.search(r"port\s*=", new):
        new = new.replace("{", "{\n\t\tport = %d" % port, 1)
    return text[:m.start()] + new + text[m.end():]


class StartFailed(RuntimeError):
    def __init__(self, message, log):
        RuntimeError.__init__(self, message)
        self.log = log


# Lines for the summary at the end of the run (conftest prints them).
FIGURES = []


class Radiusd:
    """One private radiusd: its own raddb, log, port and shared secret.
    wrapper: a command radiusd runs under (valgrind ...); quiet: without -xx.
    Under sanitizers or a wrapper, stop() waits longer for the exit, whose
    leak check must run: exit_status is radiusd's status after stop().
    extra_mods, extra_sites: {file name: text} written to mods-enabled and
    sites-enabled next to the module and the shipped site (test_eap.py: eap,
    files, pap, mschap, the inner tunnel)."""

    def __init__(self, base, db, key_file, overrides=None, debug=False, dictdir=None, name="radiusd",
                 wrapper=None, quiet=False, authorize_unlang="", env=None, extra_mods=None, extra_sites=None):
        self.base = Path(base)
        self.db = db
        self.key_file = key_file
        self.overrides = dict(overrides or {})
        self.debug = debug
        self.name = name
        self.raddb = self.base / "raddb"
        self.logdir = self.base / "log"
        self.rundir = self.base / "run"
        self.logfile = self.logdir / "radius.log"
        self.port = free_port("udp")
        self.secret = "s" + secrets.token_hex(12)
        self.proc = None
        self.dictdir = dictdir
        self.wrapper = list(wrapper or [])
        self.quiet = quiet
        self.authorize_unlang = authorize_unlang
        self.env = dict(env or {})
        self.extra_mods = dict(extra_mods or {})
        self.extra_sites = dict(extra_sites or {})
        self.stop_timeout = 120.0 if self.wrapper else 60.0 if RADIUSD_PRELOAD else 10.0
        self.exit_status = None
        self._write()

    def _write(self):
        for d in (self.raddb / "mods-enabled", self.raddb / "sites-enabled", self.logdir, self.rundir):
            d.mkdir(parents=True, exist_ok=True)
        (self.raddb / "dictionary").write_text("$INCLUDE %s\n$INCLUDE %s\n" % (FR_DICTIONARY, DICT_SRC))
        self.module_config = write_module_config(self.raddb / "mods-enabled" / "vrms2fa", self.db,
                                                 self.key_file, self.overrides)
        (self.raddb / "sites-enabled" / "vrms2fa").write_text(render_site(self.port, self.authorize_unlang))
        for name, text in self.extra_mods.items():
            (self.raddb / "mods-enabled" / name).write_text(text)
        for name, text in self.extra_sites.items():
            (self.raddb / "sites-enabled" / name).write_text(text)
        (self.raddb / "radiusd.conf").write_text(RADIUSD_CONF.format(
            raddb=self.raddb, logdir=self.logdir, rundir=self.rundir,
            libdir="%s:/usr/lib/freeradius" % MODULE_DIR, logfile=self.logfile,
            secret=self.secret, suppress="yes" if self.debug else "no"))
        if self.dictdir is None:
            self.dictdir = write_dictionary_dir(self.base / "radclient-dict")

    def start(self, timeout=20):
        """Start and wait for "Ready to process requests"."""
        return self._start_once(timeout)

    def _start_once(self, timeout):
        if self.proc is not None and self.proc.poll() is None:
            return self
        self._mark = self.logfile.stat().st_size if self.logfile.exists() else 0
        self._out = open(self.base / "stdout.log", "ab")
        if self.debug:
            # -X: one thread, full debug, everything on stdout, kept in the log file
            self._dbg = open(self.logfile, "ab")
            cmd = [FREERADIUS, "-X", "-d", str(self.raddb)]
            out = self._dbg
        else:
            cmd = [FREERADIUS, "-f"] + ([] if self.quiet else ["-xx"]) + ["-l", str(self.logfile),
                                                                          "-d", str(self.raddb)]
            out = self._out
        self.proc = subprocess.Popen(self.wrapper + cmd, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True, env=radiusd_env(self.env))
        _track(self.proc, self.stop)
        deadline = time.time() + timeout
        while True:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.stop()
                raise StartFailed("radiusd exited with %s at start:\n%s\n%s"
                                  % (rc, tail(self.logfile), tail(self.base / "stdout.log")),
                                  self._log_since_mark())
            if self._ready():
                self._check_preload()
                return self
            if time.time() > deadline:
                self.stop()
                raise RuntimeError("radiusd not ready within %d s:\n%s" % (timeout, tail(self.logfile)))
            time.sleep(0.1)

    def _check_preload(self):
        """Under sanitizers: the runtimes really are in radiusd (else nothing would be checked)."""
        if not RADIUSD_PRELOAD or self.wrapper:
            return
        maps = Path("/proc/%d/maps" % self.proc.pid).read_text()
        missing = [lib for lib in RADIUSD_PRELOAD.split() if os.path.basename(lib) not in maps]
        if missing:
            self.stop()
            raise RuntimeError("radiusd runs without the preloaded %s" % ", ".join(missing))

    def _log_since_mark(self):
        text = ""
        for f in (self.logfile, self.base / "stdout.log"):
            try:
                with open(f, "rb") as fh:
                    if f == self.logfile:
                        fh.seek(self._mark)
                    text += fh.read().decode("utf-8", "replace")
            except OSError:
                pass
        return text

    def _ready(self):
        try:
            with open(self.logfile, "rb") as f:
                f.seek(self._mark)
                return b"Ready to process requests" in f.read()
        except OSError:
            return False

    def stop(self):
        if self.proc is None:
            return
        self.exit_status = _terminate(self.proc, self.stop_timeout)
        self.proc = None
        for f in ("_out", "_dbg"):
            fh = getattr(self, f, None)
            if fh:
                try:
                    fh.close()
                except Exception:
                    pass
                setattr(self, f, None)

    def check_config(self):
        """radiusd -XC on this instance's configuration (modules instantiated, nothing served)."""
        return subprocess.run([FREERADIUS, "-XC", "-d", str(self.raddb)], capture_output=True, text=True,
                              timeout=60, env=radiusd_env())

    def restart(self):
        self.stop()
        return self.start()

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    # --- requests ---

    def request(self, attrs, src_ip=None, ma=True, timeout=3, retries=1):
        return radius(self.port, self.secret, attrs, src_ip=src_ip, ma=ma, dictdir=self.dictdir,
                      timeout=timeout, retries=retries)

    def burst(self, packets, src_ip=None, ma=True):
        return radius_burst(self.port, self.secret, packets, src_ip=src_ip, ma=ma, dictdir=self.dictdir)

    @staticmethod
    def round2_attrs(user, code, state, csid=None, nas_ip="127.0.0.1"):
        attrs = [("User-Name", user), ("User-Password", code)]
        if csid is not None:
            attrs.append(("Calling-Station-Id", csid))
        if nas_ip:
            attrs.append(("NAS-IP-Address", Raw(nas_ip)))
        attrs.append(("State", state if isinstance(state, (bytes, Raw)) else Raw(state)))
        return attrs

    def round1(self, user, password, csid=None, nas_ip="127.0.0.1", src_ip=None, ma=True, extra=(), timeout=3):
        attrs = [("User-Name", user), ("User-Password", password)]
        if csid is not None:
            attrs.append(("Calling-Station-Id", csid))
        if nas_ip:
            attrs.append(("NAS-IP-Address", Raw(nas_ip)))
        attrs += list(extra)
        return self.request(attrs, src_ip=src_ip, ma=ma, timeout=timeout)

    def round2(self, user, code, state, csid=None, nas_ip="127.0.0.1", src_ip=None, ma=True):
        return self.request(self.round2_attrs(user, code, state, csid, nas_ip), src_ip=src_ip, ma=ma)

    def login(self, user, password, code=None, csid=None, src_ip=None, src_ip2=None, ma=True):
        """Round 1, then (when challenged and a code is given) round 2 with the
        State.  code may be a callable, called after round 1.  Returns (r1, r2)."""
        if csid is None:
            csid = "192.0.2.10"
        r1 = self.round1(user, password, csid=csid, src_ip=src_ip, ma=ma)
        if r1.code != CHALLENGE or code is None:
            return r1, None
        if callable(code):
            code = code()
        r2 = self.round2(user, code, r1.state, csid=csid, src_ip=src_ip2 or src_ip, ma=ma)
        return r1, r2

    def radtest(self, user, password):
        r = subprocess.run([RADTEST, "-t", "pap", user, password, "127.0.0.1:%d" % self.port, "0", self.secret],
                           capture_output=True, text=True, timeout=30)
        return r


class RadiusdPool:
    """Creates radiusd instances; shares those whose configuration is the same."""

    def __init__(self, base, db, key_file, dictdir, defaults=None):
        self.base = Path(base)
        self.db = db
        self.key_file = key_file
        self.dictdir = dictdir
        self.defaults = dict(defaults or {})	# under every instance's own overrides
        self.shared = {}
        self.all = []

    def new(self, overrides=None, debug=False, authorize_unlang="", env=None):
        d = self.base / ("radiusd-%d" % len(self.all))
        conf = dict(self.defaults)
        conf.update(overrides or {})
        r = Radiusd(d, self.db, self.key_file, conf, debug=debug, dictdir=self.dictdir,
                    authorize_unlang=authorize_unlang, env=env)
        self.all.append(r)
        return r.start()

    def get(self, overrides=None):
        key = tuple(sorted(((s or ""), o, str(v)) for (s, o), v in (overrides or {}).items()))
        r = self.shared.get(key)
        if r is None or not r.running:
            r = self.new(overrides)
            self.shared[key] = r
        return r

    def stop_all(self):
        for r in self.all:
            r.stop()
