"""test_hardening_round2.py - issue 21, items 3, 5 (the option) and 6:

* one statement per query: the module's connections to MariaDB are opened
  without CLIENT_MULTI_STATEMENTS (read on the wire, in the handshake radiusd
  sends), a connection opened by the store without the flag refuses
  "SELECT 1; SELECT 2", and only the admin tool's migration connection has it
  (so `db migrate` still applies a schema file of many statements);
* a trust.address_attribute that is not a string is refused at instantiate
  (radiusd -XC), naming the option;
* the email hook runs isolated (python3 -I): a sitecustomize on PYTHONPATH or
  a usercustomize in the user's site-packages is not imported.

Item 1 (the hook's pipe race) is tests/unit/test_hook.c, item 2 (OpenSSL's
error queue) tests/unit/test_openssl_errors.c.
"""
import os
import subprocess
from pathlib import Path

import pytest

import harness as H

STORE_PROBE = H.BUILD / "tests" / "e2e" / "store-probe"
HOOK = H.SRC / "hook" / "vrms2fa-email-hook"

CLIENT_SSL = 1 << 11
CLIENT_MULTI_STATEMENTS = 1 << 16


# --------------------------------------------------------------------------
# One statement per query
# --------------------------------------------------------------------------

class HandshakeRecorder(H.TcpForwarder):
    """The loopback forwarder of the harness, which also reads the client
    capability flags of every connection it forwards: the first packet a
    MySQL client sends is its handshake response, whose payload begins with
    them (4 bytes, little-endian).  self.flags: one int per connection, in
    the order they were made."""

    def __init__(self, upstream_port):
        super().__init__(upstream_port)
        self.flags = []

    def _pump(self, src, dst):
        try:
            client_side = src.getsockname()[1] == self.port
        except OSError:
            client_side = False
        if client_side:
            try:
                first = src.recv(65536)
            except OSError:
                first = b""
            if len(first) >= 8:
                with self.lock:
                    self.flags.append(int.from_bytes(first[4:8], "little"))
            if not first:
                return H.TcpForwarder._pump(src, dst)
            try:
                dst.sendall(first)
            except OSError:
                pass
        H.TcpForwarder._pump(src, dst)

    def take(self):
        with self.lock:
            out, self.flags = self.flags, []
        for f in out:
            assert not f & CLIENT_SSL, "TLS to the test database: the flags after it cannot be read"
        return out


def _probe(mariadb, sql, multi=False):
    if not STORE_PROBE.exists():
        pytest.fail("not built: %s (make builds it)" % STORE_PROBE, pytrace=False)
    cmd = [str(STORE_PROBE)] + (["--multi"] if multi else []) + \
        ["127.0.0.1", str(mariadb.port), mariadb.user, mariadb.db, sql]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, VRMS2FA_PROBE_PASSWORD=mariadb.password))
    H.keep_sanitizer_stderr("store-probe", r.stderr)
    assert r.returncode in (0, 1), (r.returncode, r.stdout, r.stderr)
    return r


def test_store_connection_refuses_two_statements(mariadb, schema):
    """A connection opened by store_open without multi_statements (the
    module's: its configuration never sets it) refuses a second statement in
    one query; with the flag, the same text runs."""
    one = _probe(mariadb, "SELECT 1")
    assert (one.returncode, one.stdout.strip()) == (0, "accepted"), one
    two = _probe(mariadb, "SELECT 1; SELECT 2")
    assert two.returncode == 1, two
    assert "(1064)" in two.stdout, two.stdout		# ER_PARSE_ERROR: "; SELECT 2" is not SQL
    marker = "probe_%s" % H.unique("")[-8:].replace("-", "_")
    try:
        smuggled = _probe(mariadb, "SELECT 1; CREATE TABLE %s (x INT)" % marker)
        created = mariadb.scalar("SELECT COUNT(*) FROM information_schema.tables "
                                 "WHERE table_schema = '%s' AND table_name = '%s'" % (mariadb.db, marker))
    finally:
        mariadb.sql("DROP TABLE IF EXISTS %s.%s" % (mariadb.db, marker))
    assert (smuggled.returncode, created) == (1, "0"), (smuggled.stdout, created)	# the second never ran
    both = _probe(mariadb, "SELECT 1; SELECT 2", multi=True)
    assert (both.returncode, both.stdout.strip()) == (0, "accepted"), both


def test_module_connections_are_one_statement(world, mariadb, new_radiusd):
    """The connections radiusd's module opens carry no CLIENT_MULTI_STATEMENTS,
    read in the handshake they send (through a recording loopback forwarder)."""
    fwd = HandshakeRecorder(mariadb.port).start()
    try:
        rad = new_radiusd({("database", "port"): fwd.port})
        users = [world.user() for _ in range(3)]
        for u in users:
            r = rad.login(u.login, u.password)[0]
            assert r.code == H.ACCEPT, r.raw
        flags = fwd.take()
    finally:
        fwd.stop()
    assert flags, "radiusd opened no connection through the forwarder"
    assert [f for f in flags if f & CLIENT_MULTI_STATEMENTS] == [], ["%#x" % f for f in flags]


def test_only_the_migration_connection_has_multi_statements(mariadb, schema, make_module_conf):
    """`db migrate` applies every schema file (many statements each) to an
    empty database through a connection with the flag; the tool's other
    connections have it not.  The recorder sees the flag when it is there."""
    name = "vrms2fa_mig_%s" % H.unique("")[-8:].replace("-", "_")
    mariadb.sql("CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
                "GRANT ALL ON %s.* TO '%s'@'localhost';"
                "GRANT ALL ON %s.* TO '%s'@'127.0.0.1';"
                % (name, name, mariadb.user, name, mariadb.user))
    fwd = HandshakeRecorder(mariadb.port).start()
    try:
        conf = make_module_conf({("database", "port"): fwd.port, ("database", "name"): name})
        adm = H.Admin(conf)
        adm.migrate()
        migrate_flags = fwd.take()
        adm("company", "add", H.unique("co-"))
        other_flags = fwd.take()
    finally:
        fwd.stop()
        want = sorted(p.name for p in H.SQL_DIR.glob("[0-9]*.sql"))
        applied = mariadb.sql("SELECT COUNT(*) FROM %s.schema_version" % name, check=False).strip()
        tables = mariadb.sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '%s'"
                             % name).strip()
        mariadb.sql("DROP DATABASE %s" % name)
    assert applied == str(len(want)), (applied, want)
    assert int(tables) > len(want), tables		# the schema's tables, beside schema_version
    assert any(f & CLIENT_MULTI_STATEMENTS for f in migrate_flags), ["%#x" % f for f in migrate_flags]
    assert other_flags and not any(f & CLIENT_MULTI_STATEMENTS for f in other_flags), \
        ["%#x" % f for f in other_flags]


# --------------------------------------------------------------------------
# trust.address_attribute must be a string attribute
# --------------------------------------------------------------------------

def _check_config(radiusd_pool, overrides):
    conf = dict(radiusd_pool.defaults)
    conf.update(overrides)
    rad = H.Radiusd(radiusd_pool.base / ("radiusd-xc-%s" % H.unique("")), radiusd_pool.db,
                    radiusd_pool.key_file, conf, dictdir=radiusd_pool.dictdir)
    return rad.check_config()


@pytest.mark.parametrize("attribute,type_name", [
    ("Framed-IP-Address", "ipaddr"),
    ("NAS-Port", "integer"),
    ("Class", "octets"),
])
def test_address_attribute_not_a_string_is_refused(radiusd_pool, attribute, type_name):
    """A trust.address_attribute of another type than string would switch
    trust off without a word (the address is read as text): radiusd -XC
    refuses it and names the option and the type."""
    r = _check_config(radiusd_pool, {("trust", "address_attribute"): attribute})
    assert r.returncode != 0, r.stdout[-2000:]
    errors = [line for line in (r.stdout + r.stderr).splitlines() if "vrms2fa[" in line]
    assert any("'trust.address_attribute'" in line and type_name in line and "not string" in line
               for line in errors), errors


def test_address_attribute_string_is_accepted(radiusd_pool):
    r = _check_config(radiusd_pool, {("trust", "address_attribute"): "Called-Station-Id"})
    assert r.returncode == 0, [line for line in (r.stdout + r.stderr).splitlines() if "vrms2fa" in line][-5:]


# --------------------------------------------------------------------------
# The email hook runs isolated
# --------------------------------------------------------------------------

def _plant(tmp_path):
    """A sitecustomize on a PYTHONPATH folder and a usercustomize in HOME's
    user site-packages, each leaving a marker file when imported; returns
    (environment, markers)."""
    markers = {name: tmp_path / ("%s.ran" % name) for name in ("sitecustomize", "usercustomize")}
    pypath = tmp_path / "pythonpath"
    pypath.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "PYTHONPATH": str(pypath)}
    user_site = subprocess.run(["/usr/bin/python3", "-c", "import site; print(site.getusersitepackages())"],
                               capture_output=True, text=True, env=env, check=True).stdout.strip()
    assert user_site.startswith(str(home)), user_site
    Path(user_site).mkdir(parents=True)
    for name, folder in (("sitecustomize", pypath), ("usercustomize", Path(user_site))):
        (folder / ("%s.py" % name)).write_text("open(%r, 'w').write('imported')\n" % str(markers[name]))
    return env, markers


def test_email_hook_ignores_planted_site_customization(tmp_path):
    env, markers = _plant(tmp_path)
    # The plant works: a Python started without -I imports both.
    subprocess.run(["/usr/bin/python3", "-c", "pass"], env=env, check=True, timeout=30)
    assert all(m.exists() for m in markers.values()), markers
    for m in markers.values():
        m.unlink()

    # The hook, started as the module starts it (its own path, no interpreter
    # named): it runs (a usage error, exit 2) and imports neither.
    r = subprocess.run([str(HOOK)], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and r.stderr.startswith("vrms2fa-email-hook: usage"), (r.returncode, r.stderr)
    assert [name for name, m in markers.items() if m.exists()] == []
