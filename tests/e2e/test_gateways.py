"""
End-to-end tests of the gateways (README, "Gateways: VPN, PAM and clients
that cannot show a challenge"; doc/design.md, "Clients and gateways"):

- single pass, per client through unlang (VRMS2FA-Client-Mode), every row:
  the password alone from a trusted address, password + code (the code
  checked) from a trusted or a new address, a recovery code in the code's
  place, the password alone from a new address ("a code is required", not
  counted), enrollment past the deadline refused with the reason;
- OpenVPN's static challenge: `SCRV1:base64(password):base64(code)`, built
  here from OpenVPN's documented format: accepted, wrong code refused,
  replay refused;
- the client modes set in unlang override the module's `single_pass`, and
  a no-challenge client is refused with a clear message where a code is
  needed;
- real third-party clients: `pam_radius_auth` (Debian's libpam-radius-auth
  2.0, driven by `pamtester` on a pseudo-terminal: what the user would see)
  and `pyrad` (Debian's python3-pyrad 2.1) with a challenge and a signed
  request.

What each client saw goes to the run's figures.  The PAM tests need root
(a private mount namespace puts their PAM service in place of /etc/pam.d)
and the packages of scripts/install-deps.sh.
"""
import base64
import hashlib
import hmac
import os
import pty
import re
import select
import shutil
import signal
import time

import pytest

import harness as H
from harness import ACCEPT, REJECT, CHALLENGE, MSG_ENTER_CODE, MSG_LOGIN_FAILED, MSG_CODE_WRONG

MSG_CODE_REQUIRED = H.MESSAGES["MSG_CODE_REQUIRED"]
MSG_DEVICE_APPROVAL = H.MESSAGES["MSG_DEVICE_APPROVAL"]
MSG_MUST_ENROLL_HERE = H.MESSAGES["MSG_MUST_ENROLL_HERE"]

# The clients of the test radiusd, told apart by their source address (all
# loopback), as an operator tells NASes apart in unlang.
SINGLE_PASS_SRC = "127.0.0.2"
NO_CHALLENGE_SRC = "127.0.0.3"
CHALLENGE_SRC = "127.0.0.4"
UNSIGNED_TRUSTED_SRC = "127.0.0.5"

CLIENT_MODES = """
		if (&Packet-Src-IP-Address == %s) {
			update control { &VRMS2FA-Client-Mode := single-pass }
		}
		elsif (&Packet-Src-IP-Address == %s) {
			update control { &VRMS2FA-Client-Mode := no-challenge }
		}
		elsif (&Packet-Src-IP-Address == %s) {
			update control { &VRMS2FA-Client-Mode := challenge }
		}
		if (&Packet-Src-IP-Address == %s) {
			update control { &VRMS2FA-Trust-Unsigned := 1 }
		}
""" % (SINGLE_PASS_SRC, NO_CHALLENGE_SRC, CHALLENGE_SRC, UNSIGNED_TRUSTED_SRC)


@pytest.fixture(scope="module")
def gw(radiusd_pool):
    """A radiusd with the shipped defaults (single_pass = no) and the client modes above."""
    r = radiusd_pool.new(authorize_unlang=CLIENT_MODES)
    yield r
    r.stop()


def saw(r):
    """What a RADIUS client saw, for the figures."""
    if r.code is None:
        return "no answer"
    return "%s%s" % (r.code, (' "%s"' % r.message) if r.message else "")


def scrv1(password, response):
    """OpenVPN's static challenge response (management-notes.txt, "static challenge"):
    SCRV1:<base64 password>:<base64 response>."""
    return "SCRV1:%s:%s" % (base64.b64encode(password.encode()).decode(),
                            base64.b64encode(response.encode()).decode())


def name_failures(admin, login):
    return admin.json("lockout", "show", login)["name"]["failures"]


# --------------------------------------------------------------------------
# Single pass, through radclient
# --------------------------------------------------------------------------

def test_single_pass_rows(world, admin, mariadb, gw, figures):
    home = H.new_address()
    u = world.user(enroll=True, address=home)
    codes = world.recovery_codes(u)
    H.wait_step_margin(5)
    seen = []

    def sp(password, csid, what):
        r = gw.round1(u.login, password, csid=csid, src_ip=SINGLE_PASS_SRC)
        seen.append("%s: %s" % (what, saw(r)))
        return r

    # the same module, a client in the default (challenge) mode: the challenge as ever
    r = gw.round1(u.login, u.password, csid=H.new_address())
    assert (r.code, r.message) == (CHALLENGE, MSG_ENTER_CODE), r.raw

    # the password alone from a new address: "a code is required", and the attempt is not counted,
    # not even six times in a row (the lockout threshold is 5)
    new = H.new_address()
    for i in range(6):
        r = sp(u.password, new, "password alone, new address (6 times)") if i == 0 else \
            gw.round1(u.login, u.password, csid=new, src_ip=SINGLE_PASS_SRC)
        assert (r.code, r.message) == (REJECT, MSG_CODE_REQUIRED), r.raw
        assert "State" not in r.attrs, r.raw
    assert name_failures(admin, u.login) == 0

    # the password alone from the trusted address: Accept
    r = sp(u.password, home, "password alone, trusted address")
    assert r.code == ACCEPT, r.raw

    # password + code from the trusted address: accepted, and the code was checked (spent)...
    code = u.code()
    r = sp(u.password + code, home, "password + code, trusted address")
    assert r.code == ACCEPT, r.raw
    r = sp(u.password + code, new, "the same password + code again, new address")
    assert (r.code, r.message) == (REJECT, MSG_LOGIN_FAILED), r.raw
    # ...and a wrong code from the trusted address is refused, and counted
    r = sp(u.password + H.wrong_code(u.secret), home, "password + wrong code, trusted address")
    assert (r.code, r.message) == (REJECT, MSG_LOGIN_FAILED), r.raw
    assert name_failures(admin, u.login) == 2

    # password + code from a new address: accepted, the address trusted by the code
    r = sp(u.password + u.code(offset=1), new, "password + code (the next time step's), new address")
    assert r.code == ACCEPT, r.raw
    hows = {a["address"]: a["how"] for a in admin.json("trusted", "list", u.login)["addresses"]}
    assert hows.get(new) == "code", hows
    r = sp(u.password, new, "password alone, the address just proven")
    assert r.code == ACCEPT, r.raw

    # a recovery code in the code's place (as shown, with its hyphen), once
    other = H.new_address()
    r = sp(u.password + codes[0], other, "password + recovery code, new address")
    assert r.code == ACCEPT, r.raw
    hows = {a["address"]: a["how"] for a in admin.json("trusted", "list", u.login)["addresses"]}
    assert hows.get(other) == "recovery", hows
    r = sp(u.password + codes[0], H.new_address(), "the same recovery code again")
    assert (r.code, r.message) == (REJECT, MSG_LOGIN_FAILED), r.raw

    # a wrong password with a right code: refused
    r = sp("wrong" + u.code(), H.new_address(), "wrong password + code")
    assert (r.code, r.message) == (REJECT, MSG_LOGIN_FAILED), r.raw

    # enrollment past the deadline: a single-pass client cannot show the key, and says why
    co = world.company()
    boss = world.user(company=co, group="administrator")
    world.policy(co, "high", ["owner"], boss.login)
    v = world.user(company=co, group="owner")
    vhome = H.new_address()
    H.trust_row(mariadb, v.login, vhome)
    mariadb.sql("UPDATE users SET grace_deadline = %d WHERE login = '%s'" % (int(time.time()) - 60, v.login),
                database=mariadb.db)
    r = gw.round1(v.login, v.password, csid=vhome, src_ip=SINGLE_PASS_SRC)
    seen.append("enrollment due, trusted address: %s" % saw(r))
    assert (r.code, r.message) == (REJECT, MSG_MUST_ENROLL_HERE), r.raw

    figures.append("single pass (radclient, VRMS2FA-Client-Mode := single-pass): " + "; ".join(seen))


def test_openvpn_static_challenge(world, admin, gw, figures):
    """OpenVPN's static-challenge text: accepted, replay refused, wrong code refused,
    an empty response is the password alone."""
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    seen = []

    def sp(text, csid, what, src=SINGLE_PASS_SRC):
        r = gw.round1(u.login, text, csid=csid, src_ip=src)
        seen.append("%s: %s" % (what, saw(r)))
        return r

    a1, a2 = H.new_address(), H.new_address()
    right = scrv1(u.password, u.code())
    r = sp(right, a1, "SCRV1 password + code")
    assert r.code == ACCEPT, r.raw
    r = sp(right, a2, "the same SCRV1 text replayed")
    assert (r.code, r.message) == (REJECT, MSG_LOGIN_FAILED), r.raw
    r = sp(scrv1(u.password, H.wrong_code(u.secret)), a2, "SCRV1 wrong code")
    assert (r.code, r.message) == (REJECT, MSG_LOGIN_FAILED), r.raw
    r = sp(scrv1(u.password, ""), a2, "SCRV1 empty response, new address")
    assert (r.code, r.message) == (REJECT, MSG_CODE_REQUIRED), r.raw
    r = sp(scrv1(u.password, ""), a1, "SCRV1 empty response, the address it proved")
    assert r.code == ACCEPT, r.raw
    r = sp("SCRV1:%s:not base64" % base64.b64encode(u.password.encode()).decode(), a2, "malformed SCRV1")
    assert (r.code, r.message) == (REJECT, MSG_LOGIN_FAILED), r.raw
    # a client in challenge mode reads no SCRV1: the text is a (wrong) password
    r = sp(scrv1(u.password, u.code(offset=1)), a2, "SCRV1 to a challenge-mode client", src=CHALLENGE_SRC)
    assert (r.code, r.message) == (REJECT, MSG_LOGIN_FAILED), r.raw
    assert u.password.encode() not in (gw.log_text().encode())
    figures.append("OpenVPN static challenge (radclient): " + "; ".join(seen))


def test_client_modes_in_unlang(world, new_radiusd, gw, figures):
    """no-challenge: the trusted address passes, a new one waits for approval;
    challenge set in unlang wins over single_pass = yes in the module."""
    home = H.new_address()
    u = world.user(enroll=True, address=home)
    seen = []
    r = gw.round1(u.login, u.password, csid=home, src_ip=NO_CHALLENGE_SRC)
    seen.append("no-challenge, trusted address: %s" % saw(r))
    assert r.code == ACCEPT, r.raw
    r = gw.round1(u.login, u.password, csid=H.new_address(), src_ip=NO_CHALLENGE_SRC)
    seen.append("no-challenge, new address: %s" % saw(r))
    assert (r.code, r.message) == (REJECT, MSG_DEVICE_APPROVAL), r.raw	# approved out of band (test_eap.py)
    assert "State" not in r.attrs, r.raw

    sp = new_radiusd({(None, "single_pass"): "yes"}, authorize_unlang=CLIENT_MODES)
    r = sp.round1(u.login, u.password, csid=H.new_address())
    seen.append("single_pass = yes, no mode set, new address: %s" % saw(r))
    assert (r.code, r.message) == (REJECT, MSG_CODE_REQUIRED), r.raw
    r = sp.round1(u.login, u.password, csid=H.new_address(), src_ip=CHALLENGE_SRC)
    seen.append("single_pass = yes, mode challenge, new address: %s" % saw(r))
    assert (r.code, r.message) == (CHALLENGE, MSG_ENTER_CODE), r.raw
    figures.append("client modes (radclient): " + "; ".join(seen))


# --------------------------------------------------------------------------
# pam_radius_auth through pamtester
# --------------------------------------------------------------------------

PAM_MODULE = "/lib/x86_64-linux-gnu/security/pam_radius_auth.so"


def pam_available():
    if os.geteuid() != 0:
        return "needs root (a private mount namespace for the PAM service)"
    for what in ("pamtester", "unshare"):
        if not shutil.which(what):
            return "%s not installed (scripts/install-deps.sh)" % what
    if not os.path.exists(PAM_MODULE):
        return "pam_radius_auth not installed (libpam-radius-auth, scripts/install-deps.sh)"
    return None


class Pam:
    """A PAM service using pam_radius_auth against a test radiusd, in a temp
    dir: its own pam.d (bind-mounted on /etc/pam.d in a private mount
    namespace, for pamtester only) and its own pam_radius_auth.conf (conf=)."""

    SERVICE = "vrms2fa-test"

    def __init__(self, base, rad, source_ip="127.0.0.1", prompt_attribute=True, wait=3):
        self.dir = base
        (base / "pam.d").mkdir(parents=True, exist_ok=True)
        self.conf = base / "pam_radius_auth.conf"
        # server[:port] secret timeout source_ip
        self.conf.write_text("127.0.0.1:%d %s %d %s\n" % (rad.port, rad.secret, wait, source_ip))
        os.chmod(self.conf, 0o600)
        options = "conf=%s" % self.conf + (" prompt_attribute" if prompt_attribute else "")
        (base / "pam.d" / self.SERVICE).write_text(
            "auth required %s %s\naccount required pam_permit.so\n" % (PAM_MODULE, options))

    def login(self, user, answers, rhost, timeout=30):
        """Run pamtester on a pseudo-terminal as a user at a terminal would:
        answers is a list of (text shown, what to type): each is typed once
        its text shows.  Returns (ok, transcript): what the terminal showed,
        echo included."""
        inner = "mount --bind %s /etc/pam.d && exec pamtester -I rhost=%s %s %s authenticate" % (
            self.dir / "pam.d", rhost, self.SERVICE, user)
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execvp("unshare", ["unshare", "--mount", "--propagation", "private", "sh", "-c", inner])
            finally:
                os._exit(127)
        out = b""
        seen_upto = 0
        pending = list(answers)
        deadline = time.monotonic() + timeout
        status = None
        try:
            while time.monotonic() < deadline:
                r, _, _ = select.select([fd], [], [], 0.2)
                if r:
                    try:
                        chunk = os.read(fd, 4096)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        break
                    out += chunk
                if pending:
                    shown, typed = pending[0]
                    at = out.find(shown.encode(), seen_upto)
                    if at >= 0:
                        # misc_conv prints the prompt, then sets the terminal (TCSAFLUSH drops what came before)
                        time.sleep(0.3)
                        os.write(fd, typed.encode() + b"\n")
                        seen_upto = at + len(shown)
                        pending.pop(0)
            _, status = os.waitpid(pid, 0)
        finally:
            if status is None:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            os.close(fd)
        text = out.decode("utf-8", "replace")
        return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, text


@pytest.fixture(scope="module")
def pam_rad(radiusd_pool):
    why = pam_available()
    if why:
        pytest.skip(why)
    # -X: the requests pam_radius_auth sends are in the log (secrets suppressed)
    r = radiusd_pool.new(authorize_unlang=CLIENT_MODES, debug=True)
    yield r
    r.stop()


def request_attributes(rad, login):
    """The attribute names of each Access-Request of `login` in radiusd's -X log."""
    text = rad.log_text()
    blocks = re.findall(r"Received Access-Request Id \d+ from [^\n]*\n((?:\(\d+\)\s+[A-Za-z0-9-]+ = [^\n]*\n)+)", text)
    mine = [b for b in blocks if ('User-Name = "%s"' % login) in b]
    assert mine, "no request of %s in the log" % login
    return [[re.sub(r"^\(\d+\)\s+", "", line).split(" = ")[0] for line in b.strip().splitlines()] for b in mine]


def test_pam_radius_auth(world, admin, pam_rad, tmp_path, figures):
    """pam_radius_auth 2.0 (unsigned requests): the challenge's Reply-Message is
    shown and, with prompt_attribute, the code is not echoed; a right code
    logs in, a wrong one does not; what it sends is recorded."""
    u = world.user(enroll=True)
    H.wait_step_margin(8)
    pam = Pam(tmp_path / "pam", pam_rad)
    rhost = H.new_address()

    code = u.code()
    ok, shown = pam.login(u.login, [("Password", u.password), (MSG_ENTER_CODE, code)], rhost)
    figures.append("pam_radius_auth (prompt_attribute), right code: %s; terminal: %r" % (ok, shown))
    assert ok, shown
    assert MSG_ENTER_CODE in shown, shown
    assert code not in shown, shown		# Prompt = No-Echo honoured: the code was not echoed
    assert u.password not in shown, shown
    sent = request_attributes(pam_rad, u.login)
    figures.append("pam_radius_auth sends: round 1 %s; round 2 %s" % (", ".join(sent[0]), ", ".join(sent[-1])))
    assert len(sent) == 2, sent
    for attrs in sent:
        assert "Calling-Station-Id" in attrs and "Message-Authenticator" not in attrs, attrs
    assert "State" in sent[1], sent

    wrong = H.wrong_code(u.secret)
    ok, shown = pam.login(u.login, [("Password", u.password), (MSG_ENTER_CODE, wrong), (MSG_CODE_WRONG, wrong),
                                    (MSG_CODE_WRONG, wrong)], H.new_address())
    figures.append("pam_radius_auth, wrong code: %s; terminal: %r" % (ok, shown))
    assert not ok, shown
    assert MSG_CODE_WRONG in shown and "Authentication failure" in shown, shown

    # without prompt_attribute pam_radius_auth ignores Prompt and echoes the code (why the README says it)
    echo = Pam(tmp_path / "pam-echo", pam_rad, prompt_attribute=False)
    v = world.user(enroll=True)
    code = v.code()
    ok, shown = echo.login(v.login, [("Password", v.password), (MSG_ENTER_CODE, code)], H.new_address())
    figures.append("pam_radius_auth without prompt_attribute: %s; the code echoed: %s" % (ok, code in shown))
    assert ok and code in shown, shown

    # unsigned: the address proven by the code above is not trusted (require_message_authenticator)
    ok, shown = pam.login(u.login, [("Password", u.password), (MSG_ENTER_CODE, u.code(offset=1))], rhost)
    assert ok and MSG_ENTER_CODE in shown, shown
    assert rhost not in [a["address"] for a in admin.json("trusted", "list", u.login)["addresses"]]


def test_pam_radius_auth_trust_unsigned(world, admin, pam_rad, tmp_path, figures):
    """VRMS2FA-Trust-Unsigned for pam_radius_auth's client (its own source address):
    after one code, the same address (PAM_RHOST, sent as Calling-Station-Id)
    logs in with the password alone; the other client still asks."""
    u = world.user(enroll=True)
    H.wait_step_margin(8)
    trusted_client = Pam(tmp_path / "pam-unsigned", pam_rad, source_ip=UNSIGNED_TRUSTED_SRC)
    plain_client = Pam(tmp_path / "pam-plain", pam_rad)
    rhost = H.new_address()

    ok, shown = trusted_client.login(u.login, [("Password", u.password), (MSG_ENTER_CODE, u.code())], rhost)
    assert ok and MSG_ENTER_CODE in shown, shown
    hows = {a["address"]: a["how"] for a in admin.json("trusted", "list", u.login)["addresses"]}
    assert hows.get(rhost) == "code", hows
    ok, shown = trusted_client.login(u.login, [("Password", u.password)], rhost)
    figures.append("pam_radius_auth with VRMS2FA-Trust-Unsigned, the address after a code: %s; terminal: %r"
                   % (ok, shown))
    assert ok and MSG_ENTER_CODE not in shown, shown
    # the client without the setting: the trust is not used
    ok, shown = plain_client.login(u.login, [("Password", u.password), (MSG_ENTER_CODE, u.code(offset=1))], rhost)
    assert ok and MSG_ENTER_CODE in shown, shown


def test_pam_radius_auth_dropped_where_the_client_must_sign(world, new_radiusd, tmp_path, figures):
    """With require_message_authenticator = yes for its client (clients.conf),
    radiusd drops pam_radius_auth's unsigned requests: no answer, the login
    fails after the timeout.  radclient's signed request is answered."""
    why = pam_available()
    if why:
        pytest.skip(why)
    rad = new_radiusd()
    conf = rad.raddb / "radiusd.conf"
    text = conf.read_text()
    assert "require_message_authenticator = no" in text
    conf.write_text(text.replace("require_message_authenticator = no", "require_message_authenticator = yes"))
    rad.restart()
    u = world.user()	# no 2FA, email off: the password alone lets them in
    assert rad.round1(u.login, u.password, csid=H.new_address()).code == ACCEPT
    pam = Pam(tmp_path / "pam-strict", rad, wait=1)
    t0 = time.monotonic()
    ok, shown = pam.login(u.login, [("Password", u.password)], H.new_address())
    elapsed = time.monotonic() - t0
    figures.append("pam_radius_auth to a client with require_message_authenticator = yes: %s after %.1f s; "
                   "terminal: %r" % (ok, elapsed, shown))
    assert not ok, shown
    assert "does not contain required Message-Authenticator" in rad.log_text(), rad.log_text()[-2000:]


# --------------------------------------------------------------------------
# pyrad
# --------------------------------------------------------------------------

PYRAD_DICTIONARY = """\
ATTRIBUTE	User-Name		1	string
ATTRIBUTE	User-Password		2	string
ATTRIBUTE	NAS-IP-Address		4	ipaddr
ATTRIBUTE	Reply-Message		18	string
ATTRIBUTE	State			24	octets
ATTRIBUTE	Calling-Station-Id	31	string
ATTRIBUTE	Prompt			76	integer
ATTRIBUTE	Message-Authenticator	80	octets
"""


def pyrad_login(rad, dict_path, login, password, csid, state=None, sign=True):
    """One Access-Request from pyrad, signed with Message-Authenticator
    (pyrad 2.1 does not sign: the HMAC-MD5 of RFC 3579 is added here, over the
    packet pyrad builds, as an application using pyrad must)."""
    from pyrad.client import Client
    from pyrad.dictionary import Dictionary
    from pyrad import packet

    client = Client(server="127.0.0.1", authport=rad.port, secret=rad.secret.encode(), dict=Dictionary(str(dict_path)))
    client.retries = 1
    client.timeout = 5
    req = client.CreateAuthPacket(code=packet.AccessRequest, User_Name=login)
    req["User-Password"] = req.PwCrypt(password)
    req["Calling-Station-Id"] = csid
    req["NAS-IP-Address"] = "127.0.0.1"
    if state is not None:
        req["State"] = state
    if sign:
        req["Message-Authenticator"] = b"\0" * 16
        mac = hmac.new(rad.secret.encode(), req.RequestPacket(), hashlib.md5).digest()
        req["Message-Authenticator"] = mac
    reply = client.SendPacket(req)	# pyrad checks the reply's Response Authenticator
    names = {packet.AccessAccept: ACCEPT, packet.AccessReject: REJECT, packet.AccessChallenge: CHALLENGE}
    msg = reply["Reply-Message"][0] if "Reply-Message" in reply else ""
    return names.get(reply.code, reply.code), msg, reply


def test_pyrad_challenge_and_signed_request(world, admin, gw, tmp_path, figures):
    pytest.importorskip("pyrad", reason="python3-pyrad not installed (scripts/install-deps.sh)")
    d = tmp_path / "pyrad-dictionary"
    d.write_text(PYRAD_DICTIONARY)
    u = world.user(enroll=True)
    H.wait_step_margin(5)
    csid = H.new_address()
    code1, msg1, r1 = pyrad_login(gw, d, u.login, u.password, csid)
    assert (code1, msg1) == (CHALLENGE, MSG_ENTER_CODE), (code1, msg1)
    assert r1["Prompt"] == [0], r1.get("Prompt")	# No-Echo
    assert "Message-Authenticator" in r1
    code2, msg2, _ = pyrad_login(gw, d, u.login, u.code(), csid, state=r1["State"][0])
    assert code2 == ACCEPT, (code2, msg2)
    # signed: the address proven is trusted and used
    hows = {a["address"]: a["how"] for a in admin.json("trusted", "list", u.login)["addresses"]}
    assert hows.get(csid) == "code", hows
    code3, msg3, _ = pyrad_login(gw, d, u.login, u.password, csid)
    assert code3 == ACCEPT, (code3, msg3)
    # the same without the signature: the trust is not used
    code4, msg4, _ = pyrad_login(gw, d, u.login, u.password, csid, sign=False)
    assert (code4, msg4) == (CHALLENGE, MSG_ENTER_CODE), (code4, msg4)
    figures.append("pyrad 2.1 (signed by the test): round 1 %s \"%s\" (Prompt %s); round 2 %s; "
                   "again from the proven address: %s; unsigned from it: %s"
                   % (code1, msg1, r1["Prompt"][0], code2, code3, code4))
