"""test_db_tls.py - TLS to the database (issue 17): a private MariaDB that
speaks TLS with certificates this test makes with openssl (a CA, a server
certificate for 127.0.0.1 and localhost, a client certificate), and an
account that the server lets in only with a client certificate (REQUIRE
X509), so that a login that works proves the connection was TLS.

- logins through radiusd with database.tls.required = yes work;
- a wrong CA is refused with a clear log line, and radiusd fails closed
  (Access-Reject, never Accept); the admin tool exits 1 with the same words;
- a server that does not speak TLS is refused when TLS is required;
- a server that is not on this machine without TLS is refused at start,
  before any connection, unless required = no;
- vrms2fa-admin check reports the TLS version and cipher."""

import json
import subprocess

import pytest

import harness as H
from conftest import World


def openssl(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (args, r.stderr)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "%s.key" % name, "-out", "%s.pem" % name, "-days", "2", "-subj", "/CN=%s" % name,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=d)
    return d / ("%s.pem" % name)


def make_leaf(d, name, ca, ext):
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "%s.key" % name, "-out", "%s.csr" % name, "-subj", "/CN=%s" % name, cwd=d)
    (d / ("%s.ext" % name)).write_text(ext)
    openssl("x509", "-req", "-in", "%s.csr" % name, "-CA", "%s.pem" % ca, "-CAkey", "%s.key" % ca,
            "-CAcreateserial", "-days", "2", "-out", "%s.pem" % name, "-extfile", "%s.ext" % name, cwd=d)
    return d / ("%s.pem" % name), d / ("%s.key" % name)


@pytest.fixture(scope="module")
def certs(workdir):
    d = workdir / "db-tls-certs"
    d.mkdir(exist_ok=True)
    ca = make_ca(d, "ca")
    wrong_ca = make_ca(d, "wrong-ca")
    server_cert, server_key = make_leaf(d, "server", "ca",
                                        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                        "extendedKeyUsage=serverAuth\n")
    client_cert, client_key = make_leaf(d, "client", "ca", "extendedKeyUsage=clientAuth\n")
    return {"ca": ca, "wrong_ca": wrong_ca, "server_cert": server_cert, "server_key": server_key,
            "client_cert": client_cert, "client_key": client_key}


@pytest.fixture(scope="module")
def tlsdb(workdir, certs, built):
    db = H.MariaDB(workdir / "tlsdb", tls={"ca": certs["ca"], "cert": certs["server_cert"],
                                            "key": certs["server_key"]})
    try:
        db.start()
        # over TCP, only with a client certificate the server trusts: a
        # connection that works was TLS
        db.sql("ALTER USER '%s'@'127.0.0.1' REQUIRE X509" % db.user)
        assert "YES" in db.sql("SHOW GLOBAL VARIABLES LIKE 'have_ssl'")
        yield db
    finally:
        db.stop()


def tls_overrides(certs, ca=None, required="yes"):
    return {("tls", "ca_file"): str(ca or certs["ca"]),
            ("tls", "cert_file"): str(certs["client_cert"]),
            ("tls", "key_file"): str(certs["client_key"]),
            ("tls", "verify_server_cert"): "yes",
            ("tls", "required"): required}


@pytest.fixture(scope="module")
def tls_admin(workdir, tlsdb, key_file, certs):
    conf = H.write_module_config(workdir / "tlsdb" / "vrms2fa.conf", tlsdb, key_file,
                                 {**tls_overrides(certs), ("email", "enabled"): "no"})
    adm = H.Admin(conf)
    adm.migrate()
    return adm


def new_tls_radiusd(workdir, tlsdb, key_file, dictdir, outbox, overrides, name):
    conf = {("email", "enabled"): "no", ("email", "hook"): outbox.hook()}
    conf.update(overrides)
    return H.Radiusd(workdir / name, tlsdb, key_file, conf, dictdir=dictdir)


def test_logins_over_tls_with_required(workdir, tlsdb, key_file, dictdir, outbox, certs, tls_admin):
    world = World(tls_admin)
    company = world.company()
    plain = world.user(company=company)
    enrolled = world.user(company=company, enroll=True)
    r = new_tls_radiusd(workdir, tlsdb, key_file, dictdir, outbox, tls_overrides(certs), "radiusd-tls-ok")
    try:
        r.start()
        r1, _ = r.login(plain.login, plain.password)
        assert r1.code == H.ACCEPT, r1
        H.wait_step_margin(3)
        r1, r2 = r.login(enrolled.login, enrolled.password, code=enrolled.code, csid="192.0.2.77")
        assert r1.code == H.CHALLENGE, r1
        assert r2 is not None and r2.code == H.ACCEPT, r2
        # the module's connections really are TLS: the server's view of them
        ssl_sessions = int(tlsdb.scalar("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
                                        " WHERE VARIABLE_NAME = 'SSL_ACCEPTS'"))
        assert ssl_sessions >= 1
    finally:
        r.stop()


def test_wrong_ca_refused_with_clear_line(workdir, tlsdb, key_file, dictdir, outbox, certs, tls_admin):
    world = World(tls_admin)
    u = world.user()
    wrong = tls_overrides(certs, ca=certs["wrong_ca"])

    # the admin tool: exit 1, the reason in one line
    conf = H.write_module_config(workdir / "tlsdb" / "wrong-ca.conf", tlsdb, key_file, wrong)
    res = tls_admin("user", "show", u.login, config=str(conf), check=False)
    assert res.returncode == 1, res
    assert "database.tls.ca_file" in res.stderr, res.stderr
    assert u.login not in res.stdout

    # radiusd: starts (pool start = 0), refuses the login, and says why
    r = new_tls_radiusd(workdir, tlsdb, key_file, dictdir, outbox, wrong, "radiusd-tls-wrong-ca")
    try:
        r.start()
        r1, _ = r.login(u.login, u.password)
        assert r1.code == H.REJECT, r1
        log = r.log_text()
        assert "is the server's certificate signed by database.tls.ca_file" in log, H.tail(r.logfile)
    finally:
        r.stop()


def test_server_without_tls_refused_when_required(mariadb, schema, module_conf, make_module_conf, certs):
    # the session's MariaDB does not speak TLS
    conf = make_module_conf(tls_overrides(certs))
    res = H.Admin(conf).run("company", "show", "nobody", check=False)
    assert res.returncode == 1, res
    assert "SSL" in res.stderr or "TLS" in res.stderr, res.stderr

    # without TLS configured, a loopback server is used in clear
    res = H.Admin(module_conf).run("check", "--json", check=False)
    row = [c for c in json.loads(res.stdout)["checks"] if c["check"] == "database tls"]
    assert row and row[0]["ok"] and "not encrypted" in row[0]["detail"], row


def test_network_server_without_tls_refused_at_start(workdir, schema, make_module_conf, key_file, mariadb,
                                                     dictdir):
    # 192.0.2.1 (TEST-NET-1): the settings check refuses it before any
    # connection is tried (nothing here ever connects to it)
    far = {("database", "server"): "192.0.2.1", ("database", "connect_timeout"): 1}
    conf = make_module_conf(far)
    res = H.Admin(conf).run("company", "show", "nobody", check=False)
    assert res.returncode == 1, res
    said = res.stdout + res.stderr	# the configuration parser's lines go to stdout
    assert "not on this machine" in said and "required = no" in said, said
    assert "cannot connect" not in said

    # radiusd -XC: the module does not instantiate
    r = H.Radiusd(workdir / "radiusd-tls-far", mariadb, key_file, far, dictdir=dictdir)
    out = r.check_config()
    assert out.returncode != 0, out.stdout[-2000:]
    assert "database.tls.ca_file is not set" in out.stdout + out.stderr, out.stdout[-2000:]

    # the operator's explicit choice passes the check (the pool's start = 0:
    # radiusd -XC connects to nothing)
    r = H.Radiusd(workdir / "radiusd-tls-far-ok", mariadb, key_file, {**far, ("tls", "required"): "no"},
                  dictdir=dictdir)
    out = r.check_config()
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]


def test_admin_check_reports_tls(tls_admin):
    res = tls_admin.run("check", "--json", check=False)
    checks = {c["check"]: c for c in json.loads(res.stdout)["checks"]}
    row = checks["database tls"]
    assert row["ok"], row
    assert "TLSv1." in row["detail"] and "verified" in row["detail"] and "NOT" not in row["detail"], row
    assert checks["database"]["ok"], checks["database"]
