"""test_eap.py - Wi-Fi 802.1X through wpa_supplicant's eapol_test (Debian's
eapoltest) against one radiusd with Debian's mods-available/eap (changed as
the README's "Wi-Fi (802.1X)" section says), the shipped
raddb/sites-available/vrms2fa-inner-tunnel, and test certificates made here
with openssl.

Methods: TTLS/PAP, PEAP/GTC, TTLS/EAP-GTC, PEAP/MS-CHAPv2.  The module runs
with password_check = external after pap or mschap; the password source is
the users file (mods-enabled/files, control:Cleartext-Password), written for
the users made before radiusd starts.

Per method: a user without 2FA connects from a MAC proven before, and from
a new one after the email's link confirmed it; a 2FA user from a trusted MAC
connects; from a new MAC is rejected and a pending approval is recorded;
after approval by a code sent over RADIUS by the backend client (signed,
allowed in unlang) and by `vrms2fa-admin trusted add`, the same MAC
connects.  Forged approvals (wrong code, unsigned, another client, expired)
change nothing.  The matrix of what the client saw is printed in the
figures.
"""
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import harness as H

EAPOL_TEST = shutil.which("eapol_test") or "/usr/sbin/eapol_test"
DEBIAN_EAP = Path("/etc/freeradius/3.0/mods-available/eap")
INNER_SITE = H.RADDB_SRC / "sites-available" / "vrms2fa-inner-tunnel"
BACKEND_IP = "127.0.0.2"	# the VRMS backend: allowed to approve devices
OTHER_IP = "127.0.0.3"		# another client of the same radiusd: not allowed

pytestmark = pytest.mark.skipif(not os.path.exists(EAPOL_TEST) or not DEBIAN_EAP.exists(),
                                reason="eapol_test (eapoltest) or freeradius's mods-available/eap missing: "
                                       "run scripts/install-deps.sh")

METHODS = {
    "TTLS/PAP": 'eap=TTLS\n\tphase2="auth=PAP"',
    "PEAP/GTC": 'eap=PEAP\n\tphase1="peaplabel=0"\n\tphase2="auth=GTC"',
    "TTLS/EAP-GTC": 'eap=TTLS\n\tphase2="autheap=GTC"',
    "PEAP/MS-CHAPv2": 'eap=PEAP\n\tphase1="peaplabel=0"\n\tphase2="auth=MSCHAPV2"',
}

# What the outer server needs for EAP: Debian's sites-available/default has
# the same two lines; only the listen section is the test's own.
OUTER_SITE = """\
server vrms2fa-eap {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = %d
	}
	authorize {
		eap {
			ok = return
		}
	}
	authenticate {
		eap
	}
}
"""

# The backend's client may approve devices; the operator's rule, in the
# shipped site's authorize (README, "Wi-Fi (802.1X)").
APPROVAL_UNLANG = """\
		if (&Packet-Src-IP-Address == %s) {
			update control {
				&VRMS2FA-Allow-Approve-Device := 1
			}
		}
""" % BACKEND_IP


def eap_module(certdir):
    """Debian's mods-available/eap with the README's changes: both tunnels
    go to vrms2fa-inner-tunnel; the test's certificates."""
    text = DEBIAN_EAP.read_text()
    text, n = re.subn(r'(?m)^(\s*)virtual_server = "inner-tunnel"', r'\1virtual_server = "vrms2fa-inner-tunnel"', text)
    assert n == 2, "Debian's eap module changed: %d virtual_server lines" % n
    subst = {
        r"private_key_password = \S+": "private_key_password = \"\"",
        r"private_key_file = \S+": "private_key_file = %s/server.key" % certdir,
        r"certificate_file = \S+": "certificate_file = %s/server.pem" % certdir,
        r"ca_file = \S+": "ca_file = %s/ca.pem" % certdir,
        r"ca_path = \$\{cadir\}": "ca_path = %s" % certdir,
    }
    for pattern, repl in subst.items():
        text, n = re.subn(r"(?m)^(\s*)" + pattern, lambda m: m.group(1) + repl, text, count=1)
        assert n == 1, pattern
    return text


def make_certificates(d):
    d.mkdir(parents=True, exist_ok=True)

    def ossl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=60)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"),
         "-days", "2", "-subj", "/CN=vrms2fa test CA")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "server.key"), "-out", str(d / "server.csr"),
         "-subj", "/CN=radius.vrms2fa.test")
    (d / "ext.cnf").write_text("extendedKeyUsage = serverAuth\n")
    ossl("x509", "-req", "-in", str(d / "server.csr"), "-CA", str(d / "ca.pem"), "-CAkey", str(d / "ca.key"),
         "-CAcreateserial", "-out", str(d / "server.pem"), "-days", "2", "-extfile", str(d / "ext.cnf"))
    os.chmod(d / "server.key", 0o600)


_mac_counter = [0]


def new_mac():
    _mac_counter[0] += 1
    return "02:00:5e:%02x:%02x:%02x" % ((os.getpid() >> 8) & 0xff, os.getpid() & 0xff, _mac_counter[0])


class Eap:
    """The radiusd of this file, and eapol_test against it."""

    def __init__(self, rad, port, certdir, base):
        self.rad = rad
        self.port = port
        self.certdir = certdir
        self.base = base
        self.runs = 0

    def connect(self, method, user, password, mac):
        """One eapol_test run; returns (SUCCESS?, its output)."""
        self.runs += 1
        conf = self.base / ("eapol-%d.conf" % self.runs)
        conf.write_text('network={\n\tssid="vrms2fa"\n\tkey_mgmt=WPA-EAP\n\t%s\n\tidentity="%s"\n'
                        '\tanonymous_identity="anonymous"\n\tpassword="%s"\n\tca_cert="%s/ca.pem"\n}\n'
                        % (METHODS[method], user.login, password, self.certdir))
        cmd = [EAPOL_TEST, "-c", str(conf), "-a", "127.0.0.1", "-p", str(self.port), "-s", self.rad.secret,
               "-M", mac, "-t", "10", "-r", "0"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        out = r.stdout + r.stderr
        ok = r.returncode == 0 and "\nSUCCESS" in out
        if not ok:
            assert "FAILURE" in out, "eapol_test neither succeeded nor failed:\n%s" % out[-3000:]
        return ok, out


@pytest.fixture(scope="module")
def eap(workdir, mariadb, key_file, schema, dictdir, world, admin, outbox):
    base = workdir / "eap"
    certdir = base / "certs"
    make_certificates(certdir)
    company = world.company()
    users = {"plain": world.user(password="Pw" + H.unique(""), company=company)}
    for name in list(METHODS) + ["forged"]:
        # one 2FA user per method: each approval by code uses one time step of its user
        users[name] = world.user(password="Pw" + H.unique(""), company=company, enroll=True)
    files = "\n".join('"%s"\tCleartext-Password := "%s"' % (u.login, u.password) for u in users.values()) + "\n"
    (base / "users").write_text(files)
    eap_port = H.free_port("udp")
    rad = H.Radiusd(base / "radiusd", mariadb, key_file,
                    overrides={(None, "password_check"): "external", ("email", "enabled"): "yes",
                               ("email", "hook"): outbox.hook()},
                    dictdir=dictdir, authorize_unlang=APPROVAL_UNLANG,
                    extra_mods={
                        "eap": eap_module(certdir),
                        "files": "files {\n\tfilename = %s\n}\n" % (base / "users"),
                        "pap": "pap {\n}\n",
                        "mschap": "mschap {\n}\n",
                    },
                    extra_sites={
                        "vrms2fa-inner-tunnel": INNER_SITE.read_text(),
                        "vrms2fa-eap": OUTER_SITE % eap_port,
                    })
    rad.start()
    e = Eap(rad, eap_port, certdir, base)
    e.users = users
    e.outbox = outbox
    yield e
    rad.stop()


@pytest.fixture(scope="module")
def matrix(figures, eap):
    """method -> case -> what the client saw (S: eapol_test SUCCESS, F:
    FAILURE); printed at the end, one line per method."""
    m = {}
    t0 = time.monotonic()
    yield m
    for method, row in m.items():
        figures.append("eapol_test %s: %s" % (method, ", ".join("%s=%s" % kv for kv in row.items())))
    figures.append("eapol_test: %d runs, %.1f s for the file with its approvals and admin calls"
                   % (eap.runs, time.monotonic() - t0))


def pending(mariadb, login, mac):
    return [tuple(r) for r in mariadb.rows("SELECT d.address, d.approved_at IS NULL FROM device_approvals d"
                                           " JOIN users u ON u.id = d.user_id WHERE u.login = '%s'"
                                           " AND d.address = '%s'" % (login, mac))]


def trusted(mariadb, login, mac):
    return [tuple(r) for r in mariadb.rows("SELECT t.how FROM trusted_addresses t JOIN users u"
                                           " ON u.id = t.user_id WHERE u.login = '%s' AND t.address = '%s'"
                                           % (login, mac))]


def approve(rad, user, code, mac, src_ip=BACKEND_IP, ma=True):
    return rad.request([("User-Name", user.login), ("User-Password", code), ("VRMS2FA-Approve-Device", mac)],
                       src_ip=src_ip, ma=ma)


@pytest.mark.parametrize("method", list(METHODS))
def test_eap_method(eap, mariadb, admin, matrix, method):
    row = matrix.setdefault(method, {})
    plain, u = eap.users["plain"], eap.users[method]

    def see(case, ok, expect):
        row[case] = "S" if ok else "F"
        assert ok == expect, "%s %s: expected %s" % (method, case, "SUCCESS" if expect else "FAILURE")

    # a user without 2FA connects from a MAC proven before (the reminder)
    mac = new_mac()
    H.trust_row(mariadb, plain.login, mac, how="email")
    ok, out = eap.connect(method, plain, plain.password, mac)
    see("no-2fa", ok, True)
    # from a new MAC: no challenge possible, so the email's link confirms it out of band
    mac = new_mac()
    ok, out = eap.connect(method, plain, plain.password, mac)
    see("no-2fa-new-mac", ok, False)
    mail = eap.outbox.emails(plain.login)[-1]
    assert mail["VRMS2FA_ADDRESS"] == mac, mail
    admin("email", "confirm", mail["VRMS2FA_TOKEN"])
    ok, out = eap.connect(method, plain, plain.password, mac)
    see("no-2fa-after-email-link", ok, True)

    # a wrong password is refused before the module runs: no approval asked
    mac = new_mac()
    ok, _ = eap.connect(method, u, u.password + "x", mac)
    see("wrong-password", ok, False)
    assert pending(mariadb, u.login, mac) == []

    # a 2FA user from a trusted MAC connects
    mac = new_mac()
    H.trust_row(mariadb, u.login, mac, how="code")
    ok, out = eap.connect(method, u, u.password, mac)
    see("2fa-trusted-mac", ok, True)

    # from a new MAC: rejected, the device waits for approval
    mac = new_mac()
    ok, out = eap.connect(method, u, u.password, mac)
    see("2fa-new-mac", ok, False)
    assert pending(mariadb, u.login, mac) == [(mac, "1")], out[-2000:]
    assert trusted(mariadb, u.login, mac) == []
    # it tries again: still one pending approval, still refused
    ok, _ = eap.connect(method, u, u.password, mac)
    see("2fa-new-mac-again", ok, False)
    assert len(pending(mariadb, u.login, mac)) == 1

    # the backend approves it with a current code: the same MAC connects
    H.wait_step_margin(3)
    r = approve(eap.rad, u, u.code(), mac)
    assert r.code == H.ACCEPT, r
    assert r.message == H.MESSAGES["MSG_DEVICE_APPROVED"], r
    assert trusted(mariadb, u.login, mac) == [("code",)]
    assert pending(mariadb, u.login, mac) == [(mac, "0")]
    ok, _ = eap.connect(method, u, u.password, mac)
    see("after-approval-by-code", ok, True)

    # another new MAC, approved by the operator
    mac = new_mac()
    ok, _ = eap.connect(method, u, u.password, mac)
    see("2fa-new-mac-2", ok, False)
    assert len(pending(mariadb, u.login, mac)) == 1
    listed = admin.json("trusted", "list", u.login)
    assert [p["address"] for p in listed["pending_approvals"]] == [mac], listed
    admin("trusted", "add", u.login, mac.upper().replace(":", "-"))
    assert trusted(mariadb, u.login, mac) == [("admin",)]
    assert admin.json("trusted", "list", u.login)["pending_approvals"] == []
    ok, _ = eap.connect(method, u, u.password, mac)
    see("after-trusted-add", ok, True)


def test_forged_approvals_change_nothing(eap, mariadb, matrix, world, admin):
    """Wrong code, unsigned, another client, expired: the device stays
    pending (or expired) and untrusted, and still cannot connect."""
    method = "TTLS/PAP"
    row = matrix.setdefault("forged approvals (%s)" % method, {})
    u = eap.users["forged"]
    mac = new_mac()
    ok, _ = eap.connect(method, u, u.password, mac)
    assert not ok
    assert len(pending(mariadb, u.login, mac)) == 1

    H.wait_step_margin(3)
    cases = [
        ("wrong-code", dict(code=H.wrong_code(u.secret)), H.MESSAGES["MSG_CODE_FAILED"]),
        ("unsigned", dict(code=u.code(), ma=False), H.MESSAGES["MSG_APPROVAL_REFUSED"]),
        ("other-client", dict(code=u.code(), src_ip=OTHER_IP), H.MESSAGES["MSG_APPROVAL_REFUSED"]),
        ("other-device", dict(code=u.code(), mac=new_mac()), H.MESSAGES["MSG_APPROVAL_NONE"]),
    ]
    for case, kw, message in cases:
        r = approve(eap.rad, u, kw["code"], kw.get("mac", mac), src_ip=kw.get("src_ip", BACKEND_IP),
                    ma=kw.get("ma", True))
        assert r.code == H.REJECT, (case, r)
        assert r.message == message, (case, r)
        assert trusted(mariadb, u.login, mac) == [], case
        ok, _ = eap.connect(method, u, u.password, mac)
        row[case] = "S" if ok else "F"
        assert not ok, case

    # expired: the approval is refused even with a right code, the code not used up
    mariadb.sql("UPDATE device_approvals d JOIN users u ON u.id = d.user_id SET d.expires_at = UNIX_TIMESTAMP() - 1"
                " WHERE u.login = '%s' AND d.address = '%s'" % (u.login, mac), database=mariadb.db)
    code = u.code()
    r = approve(eap.rad, u, code, mac)
    assert r.code == H.REJECT and r.message == H.MESSAGES["MSG_APPROVAL_NONE"], r
    assert trusted(mariadb, u.login, mac) == []
    ok, _ = eap.connect(method, u, u.password, mac)	# asks again: a fresh pending approval
    row["expired"] = "S" if ok else "F"
    assert not ok
    assert pending(mariadb, u.login, mac) == [(mac, "1")]

    # the right code, signed, from the backend, now approves it; a replay of that code does not approve another
    r = approve(eap.rad, u, code, mac)
    assert r.code == H.ACCEPT, r
    mac2 = new_mac()
    assert not eap.connect(method, u, u.password, mac2)[0]
    r = approve(eap.rad, u, code, mac2)
    assert r.code == H.REJECT, r
    assert trusted(mariadb, u.login, mac2) == []
    row["replayed-code"] = "S" if eap.connect(method, u, u.password, mac2)[0] else "F"
    assert row["replayed-code"] == "F"
    ok, _ = eap.connect(method, u, u.password, mac)
    row["then-right-code"] = "S" if ok else "F"
    assert ok


def test_foreign_state_is_round_one(world, radiusd):
    """A State that is not the module's (an EAP session's, 16 random bytes)
    is not an error: the request is a round 1, the password checked and the
    code asked under the module's own State.  A State of the module's form
    that it never issued is still refused."""
    u = world.user(enroll=True)
    csid = H.new_address()
    foreign = H.Raw("0x" + os.urandom(16).hex())
    attrs = [("User-Name", u.login), ("User-Password", u.password), ("Calling-Station-Id", csid), ("State", foreign)]
    r = radiusd.request(attrs)
    assert r.code == H.CHALLENGE and r.message == H.MSG_ENTER_CODE, r
    assert r.state.startswith(b"V1") and len(r.state) == 34, r
    r2 = radiusd.round2(u.login, u.code(), r.state, csid=csid)
    assert r2.code == H.ACCEPT, r2

    r = radiusd.request([("User-Name", u.login), ("User-Password", u.password), ("Calling-Station-Id", csid),
                         ("State", H.Raw("0x" + os.urandom(16).hex()))])
    assert r.code == H.ACCEPT, r	# round 1 from the address the code just proved

    forged = "V1" + os.urandom(16).hex()
    r = radiusd.round2(u.login, u.code(), forged, csid=csid)
    assert r.code == H.REJECT and r.message == H.MSG_STATE_INVALID, r
