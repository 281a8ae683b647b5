"""
End-to-end tests of issue 20: the README's "Install on an existing
FreeRADIUS (Debian 12)" run as written, and what `vrms2fa-admin check`
claims to find.

test_readme_install_first_logins_uninstall takes the indented code blocks
of that README section that are marked `<!-- install-test: run -->` and runs
them with bash, in order, as root: the build and `make install` (into the
real /usr: the machine's FreeRADIUS 3.2.1 loads the installed module),
every configuration step in a throw-away copy of /etc/freeradius/3.0 (the
README's $RADDB), with a MariaDB of its own, then `freeradius -XC` and
`vrms2fa-admin check` (every line ok), radiusd started from the copy, the
three first logins of "First login" through the real radclient, and the
uninstall: `make uninstall` and nothing of the product left in /usr or in
the copy.  What the test puts between the README and the machine, and
nothing else:

- RADDB names the copy; SERVER and SECRET its radiusd (loopback, free port);
- on PATH: `mariadb` (the test's server, as root), `vrms2fa-admin` (the
  installed one, with --config naming the copy's module file), `editor`
  (makes the change the README's comment names: see EDITOR);
- in the copy, before the steps: the listeners on 127.0.0.1 and free ports,
  log and run folders of its own (so nothing listens on 1812);
- the codes an operator would type (`read`) on the blocks' stdin: from
  oathtool, and from the email the SMTP server (aiosmtpd) received.

Every change of system state (make install, radiusd from the copy, make
uninstall) happens under flock /run/lock/vrms2fa-system.lock, which the
Debian package's test takes too; the finally clause uninstalls and removes
whatever the README's steps left, even when the test fails.

The other tests build a FreeRADIUS folder of their own and break one thing
each, for the faults `check` claims to find.

Run:  cd <repo> && /usr/bin/python3 -m pytest -p no:cacheprovider -q tests/e2e/test_install.py
"""
import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

import harness as H
from test_email_smtp import read_mail, smtp, write_hook_config  # noqa: F401 (smtp: the aiosmtpd fixture)

README = H.SRC / "README.md"
LOCK = "/run/lock/vrms2fa-system.lock"
ETC_RADDB = Path("/etc/freeradius/3.0")

# What make install puts on the machine (configure --prefix=/usr --libexecdir=/usr/libexec).
PRODUCT_PATHS = [
    Path("/usr/lib/freeradius/rlm_vrms2fa.so"),
    Path("/usr/lib/freeradius/rlm_vrms2fa.la"),
    Path("/usr/sbin/vrms2fa-admin"),
    Path("/usr/share/rlm_vrms2fa"),
    Path("/usr/libexec/rlm_vrms2fa"),
    Path("/usr/share/man/man8/vrms2fa-admin.8"),
    Path("/usr/share/man/man8/vrms2fa-admin.8.gz"),
]
# Where a leftover of the product would be (searched for *vrms2fa*).
PRODUCT_DIRS = ["/usr/lib/freeradius", "/usr/sbin", "/usr/share/man/man8", "/usr/libexec"]


# --------------------------------------------------------------------------
# The README's blocks
# --------------------------------------------------------------------------

MARK = re.compile(r"^(\s*)<!-- install-test: (run|skip)(?: \((.*)\))? -->\s*$")


def readme_blocks():
    """[(kind, reason, code)] of the marked blocks of the install section, in order."""
    text = README.read_text()
    start = text.index("## Install on an existing FreeRADIUS (Debian 12)")
    end = text.index("\n## ", start + 10)
    lines = text[start:end].splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        m = MARK.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        indent = len(lines[j]) - len(lines[j].lstrip())
        assert indent >= len(m.group(1)) + 4, "no code block after the mark on line %r" % lines[i]
        body = []
        while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) >= indent):
            body.append(lines[j][indent:])
            j += 1
        blocks.append((m.group(2), m.group(3), "\n".join(body).strip() + "\n"))
        i = j
    return blocks


# --------------------------------------------------------------------------
# The test's stand-ins on PATH
# --------------------------------------------------------------------------

# The editor: the change each README comment names, for the copy.  It exits 1
# when the change finds nothing to change (the README and the file drifted).
EDITOR = r'''#!/usr/bin/python3
import json, os, re, sys
sys.path.insert(0, %(harness_dir)r)
import harness as H
P = json.loads(%(params)r)
path = sys.argv[1]
name = os.path.basename(path)
text = open(path).read()
if name == "vrms2fa" and "mods-available" in path:
    # database { socket }: the test's server; key_file and the hook's
    # configuration in the copy (the shipped file names /etc/freeradius/3.0)
    new = H.render_module_config(text, {
        ("database", "socket"): P["socket"],
        (None, "key_file"): P["raddb"] + "/vrms2fa.key",
        ("email", "hook"): "/usr/libexec/rlm_vrms2fa/vrms2fa-email-hook " + P["raddb"] + "/vrms2fa-email.conf",
    })
elif name == "vrms2fa-email.conf":
    new = text.replace("host = localhost", "host = 127.0.0.1").replace("#port = 25", "port = %%d" %% P["smtp_port"])
elif name == "default":
    if "vrms2fa" in text:       # the uninstall: take both out again
        new = text.replace("\tvrms2fa\n\tpap\n", "\tpap\n", 1)
        new = new.replace("\tAuth-Type vrms2fa {\n\t\tvrms2fa\n\t}\n", "", 1)
    else:                       # authorize: vrms2fa before pap; authenticate: Auth-Type vrms2fa
        a = text.index("\nauthorize {")
        p = text.index("\n\tpap\n", a)
        new = text[:p] + "\n\tvrms2fa" + text[p:]
        new = new.replace("\nauthenticate {\n", "\nauthenticate {\n\tAuth-Type vrms2fa {\n\t\tvrms2fa\n\t}\n", 1)
elif name == "clients.conf":
    new = re.sub(r"require_message_authenticator = no", "require_message_authenticator = yes", text)
elif name == "radiusd.conf":
    new = text.replace("#\tsuppress_secrets = no", "\tsuppress_secrets = yes", 1)
else:
    sys.exit("test editor: no change known for %%s" %% path)
if new == text:
    sys.exit("test editor: nothing to change in %%s" %% path)
with open(path, "w") as f:      # in place: mode and owner stay
    f.write(new)
'''


def write_shims(bindir, raddb, db, smtp_port):
    bindir.mkdir()
    (bindir / "mariadb").write_text('#!/bin/sh\nexec /usr/bin/mariadb --no-defaults -S %s -uroot "$@"\n' % db.socket)
    (bindir / "vrms2fa-admin").write_text(
        '#!/bin/sh\nexec /usr/sbin/vrms2fa-admin --config %s/mods-available/vrms2fa "$@"\n' % raddb)
    params = json.dumps({"socket": db.socket, "raddb": str(raddb), "smtp_port": smtp_port})
    (bindir / "editor").write_text(EDITOR % {"harness_dir": str(Path(H.__file__).parent), "params": params})
    for f in bindir.iterdir():
        os.chmod(f, 0o755)


# --------------------------------------------------------------------------
# The copy of /etc/freeradius/3.0
# --------------------------------------------------------------------------

def listen_on_loopback(path):
    """Every listen { } of a site on 127.0.0.1 and a free port of its own; returns
    the ports of the auth listeners."""
    text = path.read_text()
    auth_ports = []

    def fix(m):
        block = m.group(0)
        port = H.free_port("udp")
        block = re.sub(r"\n(\s*)ipv6addr\s*=\s*\S+", r"\n\1ipaddr = 127.0.0.1", block)
        block = re.sub(r"\n(\s*)ipaddr\s*=\s*\S+", r"\n\1ipaddr = 127.0.0.1", block)
        block = re.sub(r"\n(\s*)port\s*=\s*\S+", r"\n\g<1>port = %d" % port, block)
        if re.search(r"\n\s*type\s*=\s*auth\b", block):
            auth_ports.append(port)
        return block
    # listen blocks hold no nested braces other than limit { }: match up to the
    # closing brace at the listen's own indentation
    text = re.sub(r"(?ms)^(\s*)listen \{.*?^\1\}", fix, text)
    path.write_text(text)
    return auth_ports


def prepare_raddb_copy(base):
    """cp -a of /etc/freeradius/3.0, listening on loopback only, with its own
    log and run folders (owned by freerad).  Returns (raddb, auth port)."""
    raddb = base / "raddb"
    subprocess.run(["cp", "-a", str(ETC_RADDB), str(raddb)], check=True)
    for d in ("log", "run"):
        (base / d).mkdir()
        shutil.chown(base / d, "freerad", "freerad")
    conf = raddb / "radiusd.conf"
    text = conf.read_text()
    text = re.sub(r"(?m)^logdir = .*$", "logdir = %s" % (base / "log"), text, count=1)
    text = re.sub(r"(?m)^run_dir = .*$", "run_dir = %s" % (base / "run"), text, count=1)
    conf.write_text(text)
    ports = []
    for site in ("default", "inner-tunnel"):
        ports += listen_on_loopback(raddb / "sites-available" / site)
    return raddb, ports[0]


def product_leftovers():
    found = [str(p) for p in PRODUCT_PATHS if p.exists() or p.is_symlink()]
    for d in PRODUCT_DIRS:
        r = subprocess.run(["find", d, "-name", "*vrms2fa*"], capture_output=True, text=True)
        found += [l for l in r.stdout.splitlines() if l and l not in found]
    return found


class SystemLock:
    """flock of the lock file the Debian package's test takes too."""

    def __enter__(self):
        self.fd = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def copy_source(dest):
    """The repository's files (git ls-files, the working tree's content) and the
    header cache, so the build fetches nothing it already has."""
    r = subprocess.run(["git", "-C", str(H.SRC), "ls-files", "-z"], capture_output=True, check=True)
    for name in r.stdout.decode().split("\0"):
        if not name or not (H.SRC / name).exists():
            continue
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(H.SRC / name, dest / name)
    cache = H.SRC / ".fr-src-cache"
    if cache.is_dir():
        shutil.copytree(cache, dest / ".fr-src-cache", symlinks=True)


# --------------------------------------------------------------------------
# Running the blocks
# --------------------------------------------------------------------------

class Steps:
    """Runs README blocks with bash -e, one after the other, keeping the shell
    variables of one block (DBPASS, CODE...) for the next."""

    def __init__(self, workdir, srcdir, env):
        self.srcdir = srcdir
        self.state = workdir / "shell-state"
        self.env = env
        self.log = []

    def run(self, code, input=None, timeout=900):
        script = "set -ae\ncd %s\n[ ! -f %s ] || . %s\n%s\nexport -p > %s\n" % (
            self.srcdir, self.state, self.state, code, self.state)
        r = subprocess.run(["bash", "-c", script], input=input, capture_output=True, text=True,
                           env=self.env, timeout=timeout)
        self.log.append((code, r))
        assert r.returncode == 0, "README block failed (exit %d):\n%s\nstdout:\n%s\nstderr:\n%s" % (
            r.returncode, code, r.stdout[-4000:], r.stderr[-4000:])
        return r


def radclient_codes(text):
    return re.findall(r"Received (Access-\w+)", text)


def radclient_messages(text):
    return re.findall(r'Reply-Message = "(.*)"', text)


def start_radiusd(base, raddb, port):
    out = open(base / "radiusd.out", "ab")
    proc = subprocess.Popen([H.FREERADIUS, "-X", "-d", str(raddb)], stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True, env=H.radiusd_env())
    H._track(proc, lambda: H._terminate(proc))
    deadline = time.time() + 60
    while b"Ready to process requests" not in (base / "radiusd.out").read_bytes():
        if proc.poll() is not None or time.time() > deadline:
            H._terminate(proc)
            pytest.fail("radiusd from the copy did not start:\n%s" % H.tail(base / "radiusd.out", 60))
        time.sleep(0.2)
    return proc, out


# --------------------------------------------------------------------------
# The install, as written
# --------------------------------------------------------------------------

def test_readme_blocks_are_marked():
    """Every indented code block of the install section is marked run or skip,
    and the run ones hold the steps the issue names."""
    blocks = readme_blocks()
    run = "\n".join(code for kind, _, code in blocks if kind == "run")
    for needle in ("make install", "db migrate", "vrms2fa-email.conf", "dictionary.vrms2fa",
                   "sites-available/default", "freeradius -XC", "vrms2fa-admin check", "enroll confirm",
                   "radclient", "make uninstall"):
        assert needle in run, needle
    assert all(reason for kind, reason, _ in blocks if kind == "skip")
    text = README.read_text()
    section = text[text.index("## Install on an existing"):text.index("## Configuration reference")]
    code_blocks = len(re.findall(r"\n\n( {4,})\S.*\n", section))
    assert code_blocks >= len(blocks)


def test_readme_sudo_rule_is_valid(tmp_path):
    """The sudo rule of step 7, as written, passes visudo."""
    if not shutil.which("visudo"):
        pytest.skip("visudo missing (apt-get install sudo, scripts/install-deps.sh)")
    block = [code for kind, _, code in readme_blocks() if "/etc/sudoers.d/vrms2fa" in code and "echo" in code]
    assert len(block) == 1
    rule = re.search(r"echo '([^']*)' > /etc/sudoers.d/vrms2fa", block[0]).group(1)
    f = tmp_path / "vrms2fa"
    f.write_text(rule + "\n")
    os.chmod(f, 0o440)
    r = subprocess.run(["visudo", "-c", "-f", str(f)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert rule.startswith("www-data ALL=(root) NOPASSWD: /usr/sbin/vrms2fa-admin email confirm ")


@pytest.mark.skipif(os.geteuid() != 0, reason="installs into /usr and runs radiusd as freerad: needs root")
def test_readme_install_first_logins_uninstall(smtp):
    base = Path(tempfile.mkdtemp(prefix="readme-install-", dir="/tmp"))
    os.chmod(base, 0o755)		# radiusd reads the copy as freerad
    srcdir = base / "src"
    srcdir.mkdir()
    db = None
    radiusd = None
    installed = False
    uninstalled = False
    with SystemLock():
        try:
            before = product_leftovers()
            if before:
                pytest.skip("the product is installed on this machine (%s): the test needs a machine without it"
                            % ", ".join(before))
            copy_source(srcdir)
            db = H.MariaDB(base / "mariadb")
            db.start()
            # the README makes the database and the account itself
            db.sql("DROP DATABASE vrms2fa; DROP USER 'vrms2fa'@'localhost'; DROP USER 'vrms2fa'@'127.0.0.1';")
            raddb, port = prepare_raddb_copy(base)
            assert not subprocess.run(["grep", "-rl", "vrms2fa", str(raddb)], capture_output=True).stdout, \
                "the copy of /etc/freeradius/3.0 already holds vrms2fa pieces"
            names_before = sorted(str(p.relative_to(raddb)) for p in raddb.rglob("*"))
            bindir = base / "bin"
            write_shims(bindir, raddb, db, smtp.port)
            env = {"PATH": "%s:/usr/sbin:/usr/bin:/sbin:/bin" % bindir, "HOME": str(base), "LANG": "C.UTF-8",
                   "RADDB": str(raddb), "SERVER": "127.0.0.1:%d" % port, "SECRET": "testing123",
                   "MAKEFLAGS": "-j%d" % max(2, os.cpu_count() or 2)}
            steps = Steps(base, srcdir, env)
            secret = None
            started = time.monotonic()
            seen = []
            for kind, reason, code in readme_blocks():
                if kind == "skip":
                    continue
                if "make install" in code:
                    installed = True	# from here on the finally clause uninstalls
                    steps.run(code)
                    assert Path("/usr/lib/freeradius/rlm_vrms2fa.so").exists()
                    assert not Path("/usr/lib/freeradius/rlm_vrms2fa.la").exists(), "the .la was left behind"
                    for f in ("raddb/mods-available/vrms2fa", "raddb/sites-available/vrms2fa",
                              "raddb/dictionary.vrms2fa", "sql/001_initial.sql", "vrms2fa-email.conf.example"):
                        assert (Path("/usr/share/rlm_vrms2fa") / f).is_file(), f
                    continue
                if "vrms2fa-admin check" in code:
                    r = steps.run(code)
                    report = json.loads(steps.run("vrms2fa-admin check --json").stdout)
                    assert report["ok"] is True, r.stdout
                    names = [c["check"] for c in report["checks"]]
                    assert names == ["config file", "database", "database tls", "schema", "grants", "key file", "email hook",
                                     "module enabled", "dictionary", "virtual server"], names
                    assert "Configuration appears to be OK" in r.stdout + r.stderr
                    lines = [l for l in r.stdout.splitlines() if re.match(r"(ok|FAIL)  |\s+fix: |\d+ of \d+ checks ok", l)]
                    H.FIGURES.append("install: vrms2fa-admin check on the README's install:\n" + "\n".join(lines))
                    radiusd, radiusd_out = start_radiusd(base, raddb, port)
                    continue
                if "enroll begin" in code:
                    r = steps.run(code)
                    uri = re.search(r"otpauth://\S+", r.stdout).group(0)
                    secret = parse_qs(urlparse(uri).query)["secret"][0]
                    continue
                if "enroll confirm" in code:
                    # the code of the previous time step: the current one stays free for round 2
                    H.wait_step_margin(5)
                    r = steps.run(code, input=H.totp(secret, time.time() - 30) + "\n")
                    assert "Two-step verification is active for alice" in r.stdout
                    continue
                if "radclient" in code and '"alice"' in code and "read -r" not in code:
                    r = steps.run(code)
                    assert radclient_codes(r.stdout) == [H.ACCEPT], r.stdout + r.stderr
                    seen.append("alice, trusted address: Access-Accept")
                    continue
                if "radclient" in code and '"alice"' in code:
                    H.wait_step_margin(5)
                    r = steps.run(code, input=H.totp(secret) + "\n")
                    assert radclient_codes(r.stderr) == [H.CHALLENGE], r.stderr
                    assert radclient_messages(r.stderr) == [H.MSG_ENTER_CODE], r.stderr
                    assert radclient_codes(r.stdout) == [H.ACCEPT], r.stdout + r.stderr
                    seen.append("alice, new address: Access-Challenge, then the code and the State: Access-Accept")
                    continue
                if "radclient" in code and '"bob"' in code:
                    # round 1 runs, the hook mails the code, the operator types it
                    proc = subprocess.Popen(["bash", "-c", "set -ae\ncd %s\n. %s\n%s" % (srcdir, steps.state, code)],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                            text=True, env=env)
                    deadline = time.time() + 30
                    while not smtp.inbox.to("bob@example.com") and time.time() < deadline and proc.poll() is None:
                        time.sleep(0.1)
                    mails = smtp.inbox.to("bob@example.com")
                    code_sent = read_mail(mails[0])[0] if mails else "000000"
                    out, err = proc.communicate(code_sent + "\n", timeout=60)
                    assert proc.returncode == 0, out + err
                    assert len(mails) == 1, "no email reached the SMTP server:\n" + err
                    assert radclient_codes(err) == [H.CHALLENGE], err
                    assert "b\u2026@example.com" in radclient_messages(err)[0], err
                    assert radclient_codes(out) == [H.ACCEPT], out + err
                    assert any(m.startswith("Protect your account") for m in radclient_messages(out)), out
                    seen.append("bob (no 2FA), new address: Access-Challenge (email sent), then the emailed code: "
                                "Access-Accept with the reminder")
                    continue
                if "make uninstall" in code:
                    H._terminate(radiusd)
                    radiusd = None
                    steps.run(code)
                    uninstalled = True
                    continue
                steps.run(code)
            assert uninstalled, "the README has no uninstall block"
            left = product_leftovers()
            assert not left, "left on the machine after make uninstall: %s" % left
            r = subprocess.run(["grep", "-rl", "vrms2fa", str(raddb)], capture_output=True, text=True)
            assert r.stdout == "", "left in the FreeRADIUS folder: %s" % r.stdout
            names_after = sorted(str(p.relative_to(raddb)) for p in raddb.rglob("*"))
            assert names_after == names_before, set(names_after) ^ set(names_before)
            assert len(seen) == 3, seen
            H.FIGURES.append("install: the README's steps, build to uninstall, in %.0f s; first logins: %s"
                             % (time.monotonic() - started, "; ".join(seen)))
        finally:
            if radiusd is not None:
                H._terminate(radiusd)
            if installed and not uninstalled:
                subprocess.run(["make", "uninstall"], cwd=srcdir, capture_output=True, timeout=300)
            if installed:
                for p in PRODUCT_PATHS:	# only what the install made: none of them existed before
                    if p.is_dir() and not p.is_symlink():
                        shutil.rmtree(p, ignore_errors=True)
                    elif p.exists() or p.is_symlink():
                        p.unlink()
            if db is not None:
                db.stop()
            shutil.rmtree(base, ignore_errors=True)	# the copy holds a database password and a key


# --------------------------------------------------------------------------
# check: one fault at a time
# --------------------------------------------------------------------------

SITE_OK = """server default {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = 0
	}
	authorize {
		preprocess
		# vrms2fa in a comment does not count
		vrms2fa
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
		Auth-Type vrms2fa {
			vrms2fa
		}
	}
}
"""
SITE_NO_AUTHORIZE = SITE_OK.replace("\t\tvrms2fa\n\t\tpap", "\t\tpap")

ALL_CHECKS = ["config file", "database", "database tls", "schema", "grants", "key file", "email hook", "module enabled",
              "dictionary", "virtual server"]


class Setup:
    """A FreeRADIUS folder of its own around the tests' database: radiusd.conf
    without a user (radiusd would run as root, the owner check's expectation),
    the module file in mods-available and enabled, the dictionary, a site, the
    shipped hook pointed at aiosmtpd."""

    def __init__(self, base, mariadb, key_file, smtp_port):
        self.base = base
        self.raddb = base / "raddb"
        for d in ("mods-available", "mods-enabled", "sites-enabled"):
            (self.raddb / d).mkdir(parents=True)
        (self.raddb / "radiusd.conf").write_text("# no user: radiusd runs as root\n")
        (self.raddb / "dictionary").write_text("$INCLUDE %s\n$INCLUDE %s\n" % (H.FR_DICTIONARY, H.DICT_SRC))
        self.site = self.raddb / "sites-enabled" / "default"
        self.site.write_text(SITE_OK)
        self.mariadb = mariadb
        self.key_file = key_file
        self.hook_conf = write_hook_config(base / "vrms2fa-email.conf", smtp_port)
        self.config = self.raddb / "mods-available" / "vrms2fa"
        self.write()
        (self.raddb / "mods-enabled" / "vrms2fa").symlink_to("../mods-available/vrms2fa")

    def write(self, overrides=None, hook_conf=None):
        conf = {("email", "enabled"): "yes",
                ("email", "hook"): "%s %s" % (H.SRC / "hook" / "vrms2fa-email-hook", hook_conf or self.hook_conf)}
        conf.update(overrides or {})
        H.write_module_config(self.config, self.mariadb, self.key_file, conf)

    def check(self):
        r = H.Admin(self.config).run("check", check=False)
        j = H.Admin(self.config).run("check", "--json", check=False)
        report = json.loads(j.stdout)
        assert j.returncode == r.returncode
        return r, report


@pytest.fixture
def setup(tmp_path, mariadb, key_file, schema, smtp):
    return Setup(tmp_path, mariadb, key_file, smtp.port)


def only_failure(r, report, name):
    """Exactly check `name` fails, with a fix; the exit status is 1."""
    failed = [c for c in report["checks"] if not c["ok"]]
    assert r.returncode == 1, r.stdout + r.stderr
    assert report["ok"] is False
    assert [c["check"] for c in failed] == [name], r.stdout
    assert failed[0]["fix"], failed[0]
    assert re.search(r"(?m)^FAIL  %s " % re.escape(name), r.stdout), r.stdout
    assert re.search(r"(?m)^ +fix: \S", r.stdout), r.stdout
    return failed[0]


def test_check_all_ok(setup):
    r, report = setup.check()
    assert r.returncode == 0, r.stdout + r.stderr
    assert report["ok"] is True
    assert [c["check"] for c in report["checks"]] == ALL_CHECKS
    assert all(c["ok"] and c["fix"] is None for c in report["checks"])
    assert r.stdout.count("\nok  ") + r.stdout.startswith("ok  ") == len(ALL_CHECKS), r.stdout
    H.FIGURES.append("install: vrms2fa-admin check, all ok:\n" + r.stdout.rstrip())


def test_check_wrong_database_password(setup):
    setup.write({("database", "password"): "not-the-password"})
    r, report = setup.check()
    f = only_failure(r, report, "database")
    assert "Access denied" in f["detail"], f
    assert "not-the-password" not in r.stdout + r.stderr
    # with no database, what needs it is not reported as fine or failed: left out
    assert [c["check"] for c in report["checks"]] == [c for c in ALL_CHECKS if c not in ("database tls", "schema", "grants")]


def test_check_missing_grant(setup, mariadb):
    login = H.unique("chk")
    pw = H.unique("pw")
    mariadb.sql("CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s'; GRANT SELECT, INSERT, UPDATE ON %s.* TO '%s'@'127.0.0.1';"
                % (login, pw, mariadb.db, login))
    try:
        setup.write({("database", "login"): login, ("database", "password"): pw})
        r, report = setup.check()
        f = only_failure(r, report, "grants")
        assert "lacks DELETE" in f["detail"], f
        assert f["fix"] == "GRANT SELECT, INSERT, UPDATE, DELETE ON `%s`.* TO '%s'@'127.0.0.1';" % (mariadb.db, login)
        H.FIGURES.append("install: vrms2fa-admin check, a grant missing:\n" + r.stdout.rstrip())
        # the fix, as printed, makes it hold
        mariadb.sql(f["fix"])
        r, report = setup.check()
        assert r.returncode == 0, r.stdout
    finally:
        mariadb.sql("DROP USER '%s'@'127.0.0.1'" % login)


def test_check_grants_by_database_pattern_and_all_privileges(setup, mariadb):
    """Grants on a database name pattern count; ALL PRIVILEGES holds what the module needs."""
    login = H.unique("chk")
    pw = H.unique("pw")
    pattern = mariadb.db[:-1] + "%"
    mariadb.sql("CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s'; GRANT ALL PRIVILEGES ON `%s`.* TO '%s'@'127.0.0.1';"
                % (login, pw, pattern, login))
    try:
        setup.write({("database", "login"): login, ("database", "password"): pw})
        r, report = setup.check()
        assert r.returncode == 0, r.stdout
        grants = [c for c in report["checks"] if c["check"] == "grants"][0]
        assert "has SELECT, INSERT, UPDATE, DELETE on %s" % mariadb.db in grants["detail"], grants
        # a pattern that does not match the database: nothing held
        mariadb.sql("REVOKE ALL PRIVILEGES ON `%s`.* FROM '%s'@'127.0.0.1'; GRANT ALL ON `%s`.* TO '%s'@'127.0.0.1';"
                    "GRANT SELECT ON %s.* TO '%s'@'127.0.0.1';"
                    % (pattern, login, mariadb.db + "_other", login, mariadb.db, login))
        r, report = setup.check()
        f = only_failure(r, report, "grants")
        assert "lacks INSERT, UPDATE, DELETE" in f["detail"], f
    finally:
        mariadb.sql("DROP USER '%s'@'127.0.0.1'" % login)


def test_check_key_file_readable_by_others(setup, tmp_path, key_file):
    k = tmp_path / "open.key"
    shutil.copy(key_file, k)
    os.chmod(k, 0o644)
    setup.write({(None, "key_file"): str(k)})
    r, report = setup.check()
    f = only_failure(r, report, "key file")
    assert "0644" in f["detail"] and f["fix"] == "chmod 0600 %s" % k, f


def test_check_key_id_in_use_missing(setup, tmp_path, key_file, admin, world):
    """A secret sealed with key 2, a key file with key 1 only."""
    k2 = tmp_path / "two.key"
    k2.write_text(Path(key_file).read_text() + "2 %s\n" % os.urandom(32).hex())
    os.chmod(k2, 0o600)
    u = world.user()
    conf2 = H.write_module_config(tmp_path / "key2.conf", setup.mariadb, k2, {(None, "key_id"): 2})
    admin("enroll", "begin", u.login, config=str(conf2))
    try:
        r, report = setup.check()
        f = only_failure(r, report, "key file")
        assert re.search(r"lacks key 2 \(\d+ secrets?\)", f["detail"]), f
        H.FIGURES.append("install: vrms2fa-admin check, a key id missing:\n" + r.stdout.rstrip())
    finally:
        admin("enroll", "reset", u.login)	# no secret under key 2 for the other tests


def test_check_key_of_another_installation(setup, tmp_path, admin, world):
    """Key id 1 present, but not the key that sealed the secrets under key 1."""
    other = tmp_path / "other.key"
    other.write_text("1 %s\n" % os.urandom(32).hex())
    os.chmod(other, 0o600)
    u = world.user()
    admin("enroll", "begin", u.login)	# a secret under the tests' key 1
    try:
        setup.write({(None, "key_file"): str(other)})
        r, report = setup.check()
        f = only_failure(r, report, "key file")
        assert re.search(r"key 1 \(the secret of user id \d+\) of \S+ does not open what it sealed", f["detail"]), f
    finally:
        admin("enroll", "reset", u.login)


def test_check_hook_config_missing(setup, tmp_path):
    missing = tmp_path / "nowhere" / "vrms2fa-email.conf"
    setup.write(hook_conf=missing)
    r, report = setup.check()
    f = only_failure(r, report, "email hook")
    assert "cannot read config %s" % missing in f["detail"], f
    assert f["fix"].startswith("install -m 0640 -o root -g root ") and str(missing) in f["fix"], f


def test_check_smtp_unreachable(setup, tmp_path):
    dead = H.free_port("tcp")	# nothing listens there
    conf = write_hook_config(tmp_path / "dead.conf", dead)
    setup.write(hook_conf=conf)
    r, report = setup.check()
    f = only_failure(r, report, "email hook")
    assert "cannot connect to smtp 127.0.0.1:%d" % dead in f["detail"], f


def test_check_email_disabled_is_ok_and_says_what_it_means(setup):
    setup.write({("email", "enabled"): "no"})
    r, report = setup.check()
    assert r.returncode == 0, r.stdout
    hook = [c for c in report["checks"] if c["check"] == "email hook"][0]
    assert "reminder only" in hook["detail"], hook


def test_check_module_not_in_authorize(setup):
    setup.site.write_text(SITE_NO_AUTHORIZE)
    r, report = setup.check()
    f = only_failure(r, report, "virtual server")
    assert "calls vrms2fa in authorize" in f["detail"], f


def test_check_module_not_in_authenticate(setup):
    setup.site.write_text(SITE_OK.replace("\t\tAuth-Type vrms2fa {\n\t\t\tvrms2fa\n\t\t}\n", ""))
    r, report = setup.check()
    only_failure(r, report, "virtual server")


def test_check_config_readable_by_others(setup):
    os.chmod(setup.config, 0o644)
    r, report = setup.check()
    f = only_failure(r, report, "config file")
    assert "others may read it" in f["detail"], f
    assert f["fix"] == "chown root:root %s && chmod 0640 %s" % (setup.config, setup.config), f
    H.FIGURES.append("install: vrms2fa-admin check, config 0644:\n" + r.stdout.rstrip())


def test_check_module_not_enabled_and_dictionary_missing(setup):
    (setup.raddb / "mods-enabled" / "vrms2fa").unlink()
    (setup.raddb / "dictionary").write_text("$INCLUDE %s\n" % H.FR_DICTIONARY)
    r, report = setup.check()
    failed = [c["check"] for c in report["checks"] if not c["ok"]]
    assert failed == ["module enabled", "dictionary"], r.stdout
    assert r.returncode == 1
