"""
End-to-end tests of hook/vrms2fa-email-hook against a real SMTP server
(aiosmtpd) on 127.0.0.1 and free ports.  Self-contained: no database, no
radiusd, none of conftest.py's fixtures.

Run:  cd <repo> && /usr/bin/python3 -m pytest -q tests/e2e/test_email_hook.py
"""
import email
import email.policy
import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

Controller = aiosmtpd_controller.Controller

HOOK = Path(__file__).resolve().parents[2] / "hook" / "vrms2fa-email-hook"
EXAMPLE = Path(__file__).resolve().parents[2] / "hook" / "vrms2fa-email.conf.example"

CODE = "482913"
TOKEN = "9f3c2a7be41d4c0e8a6b5d1f2e3c4b5a"
LINK = "https://vrms.example.com/2fa/confirm?token=" + TOKEN
EXPIRES = 1796081640        # 2026-11-26 23:34:00 UTC
EXPIRES_UTC = "2026-11-26 23:34:00 UTC"
SENDER = "security@vrms.example.com"
SMTP_USER = "radius-mailer"
SMTP_PASSWORD = "s3cret-Pa55word"


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def facts(**over):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "VRMS2FA_LOGIN": "alice",
        "VRMS2FA_EMAIL": "alice@example.org",
        "VRMS2FA_COMPANY": "Sunny Rentals",
        "VRMS2FA_ADDRESS": "198.51.100.23",
        "VRMS2FA_NAS": "127.0.0.1",
        "VRMS2FA_CODE": CODE,
        "VRMS2FA_TOKEN": TOKEN,
        "VRMS2FA_LINK": LINK,
        "VRMS2FA_EXPIRES": str(EXPIRES),
        "VRMS2FA_EXPIRES_UTC": EXPIRES_UTC,
    }
    for k, v in over.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def write_config(path, port, smtp_extra="", message_extra=""):
    path.write_text(
        "[smtp]\n"
        "host = 127.0.0.1\n"
        "port = %d\n"
        "timeout = 3\n"
        "helo = radius.test\n"
        "from = %s\n"
        "%s\n"
        "[message]\n"
        "%s\n" % (port, SENDER, smtp_extra, message_extra))
    return path


def run_hook(config, env, timeout=30):
    t0 = time.monotonic()
    p = subprocess.run([str(HOOK), str(config)], env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout)
    p.elapsed = time.monotonic() - t0
    return p


def assert_failed(p, *, status=None, mentions=()):
    assert p.returncode != 0, "hook succeeded: stderr=%r" % p.stderr
    if status is not None:
        assert p.returncode == status, (p.returncode, p.stderr)
    assert p.stdout == ""
    lines = p.stderr.splitlines()
    assert len(lines) == 1, "want one line on stderr, got %r" % p.stderr
    assert lines[0].startswith("vrms2fa-email-hook: "), lines[0]
    for secret in (CODE, TOKEN, LINK, SMTP_PASSWORD):
        assert secret not in p.stderr
    for word in mentions:
        assert word in lines[0], "%r not in %r" % (word, lines[0])
    return lines[0]


class Recorder:
    """aiosmtpd handler: records sessions and messages; can refuse recipients."""

    def __init__(self, reject_rcpt=None):
        self.reject_rcpt = reject_rcpt
        self.greetings = []     # EHLO/HELO names: one per SMTP conversation
        self.messages = []      # dicts: mail_from, rcpt_tos, content, tls, auth

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.greetings.append(hostname)
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        self.greetings.append(hostname)
        return "250 %s" % server.hostname

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_rcpt:
            return self.reject_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "content": envelope.original_content or envelope.content,
            "tls": (session.ssl is not None
                    or server.transport.get_extra_info("ssl_object") is not None),
            "auth": session.auth_data,
        })
        return "250 2.0.0 Queued"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login == SMTP_USER.encode()
          and auth_data.password == SMTP_PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@pytest.fixture
def smtp_server():
    """Start aiosmtpd servers on 127.0.0.1 and free ports; stop them after the test."""
    started = []

    def start(handler=None, hostname="127.0.0.1", **kwargs):
        handler = handler or Recorder()
        for attempt in range(5):
            port = free_port()
            c = Controller(handler, hostname=hostname, port=port,
                           server_hostname="smtp.test", ready_timeout=5, **kwargs)
            try:
                c.start()
            except OSError:         # the port was taken in between: try another
                continue
            started.append(c)
            c.recorder = handler
            return c
        pytest.fail("cannot start aiosmtpd on a free port")

    yield start
    for c in started:
        c.stop()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A private CA and a server certificate for 127.0.0.1/localhost, made by openssl."""
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed: cannot make certificates for the TLS tests")
    d = tmp_path_factory.mktemp("pki")

    def openssl(*args):
        subprocess.run(("openssl",) + args, cwd=d, check=True, capture_output=True, timeout=30)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=vrms2fa test CA")
    openssl("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=localhost")
    (d / "server.ext").write_text(
        "subjectAltName = IP:127.0.0.1, DNS:localhost\n"
        "basicConstraints = CA:FALSE\n"
        "keyUsage = digitalSignature\n"
        "extendedKeyUsage = serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(d / "server.pem"), str(d / "server.key"))
    return {"dir": d, "ca": d / "ca.pem", "server_ctx": ctx}


def delivered(server):
    msgs = server.recorder.messages
    assert len(msgs) == 1, "want one message, got %d" % len(msgs)
    m = msgs[0]
    return m, email.message_from_bytes(m["content"], policy=email.policy.default)


# --------------------------------------------------------------------------
# Delivery
# --------------------------------------------------------------------------

def test_hook_is_an_executable_python3_script():
    assert os.access(HOOK, os.X_OK)
    assert HOOK.read_text().startswith("#!/usr/bin/python3 -I\n")	# isolated: test_hardening_round2.py


def test_sends_the_confirmation_email(smtp_server, tmp_path):
    srv = smtp_server()
    cfg = write_config(tmp_path / "hook.conf", srv.port, "from_name = VRMS security\n")
    p = run_hook(cfg, facts())
    assert p.returncode == 0, p.stderr
    assert p.stdout == "" and p.stderr == ""

    env, msg = delivered(srv)
    assert env["mail_from"] == SENDER
    assert env["rcpt_tos"] == ["alice@example.org"]
    assert srv.recorder.greetings == ["radius.test"]

    assert msg["To"].addresses[0].addr_spec == "alice@example.org"
    assert msg["From"].addresses[0].addr_spec == SENDER
    assert msg["From"].addresses[0].display_name == "VRMS security"
    assert str(msg["Subject"]) == "Confirm your login"
    assert CODE not in str(msg["Subject"])
    assert msg["Date"] is not None and msg["Date"].datetime is not None
    assert msg["Message-ID"] and msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith(">")
    assert msg["Bcc"] is None and msg["Cc"] is None
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"

    body = msg.get_content()
    lines = body.splitlines()
    assert CODE in [l.strip() for l in lines], "code not on its own line:\n" + body
    assert LINK in [l.strip() for l in lines], "link not on its own line:\n" + body
    assert "alice" in body
    assert "Sunny Rentals" in body
    assert "198.51.100.23" in body
    assert EXPIRES_UTC in body
    assert "UTC" in body
    low = body.lower()
    assert "not you" in low
    assert "share" in low and "password" in low and "administrator" in low


def test_defaults_subject_product_and_from_name(smtp_server, tmp_path):
    srv = smtp_server()
    cfg = tmp_path / "hook.conf"
    cfg.write_text("[smtp]\nhost = 127.0.0.1\nport = %d\nfrom = %s\n" % (srv.port, SENDER))
    p = run_hook(cfg, facts(VRMS2FA_ADDRESS=""))
    assert p.returncode == 0, p.stderr
    _, msg = delivered(srv)
    assert str(msg["Subject"]) == "Confirm your login"
    assert msg["From"].addresses[0].display_name == "VRMS security"
    body = msg.get_content()
    assert "VRMS" in body
    assert "unknown address" in body        # the address was empty


def test_utf8_names_and_configured_subject(smtp_server, tmp_path):
    srv = smtp_server()
    cfg = write_config(tmp_path / "hook.conf", srv.port,
                       "subject = Confirmez votre connexion\nfrom_name = Sécurité VRMS\n",
                       "product_name = Location Été\n")
    p = run_hook(cfg, facts(VRMS2FA_LOGIN="zoë", VRMS2FA_COMPANY="Côte d'Azur Séjours",
                            VRMS2FA_ADDRESS="2001:db8::1"))
    assert p.returncode == 0, p.stderr
    _, msg = delivered(srv)
    assert str(msg["Subject"]) == "Confirmez votre connexion"
    assert msg["From"].addresses[0].display_name == "Sécurité VRMS"
    body = msg.get_content()
    assert "zoë" in body and "Côte d'Azur Séjours" in body and "Location Été" in body
    assert "2001:db8::1" in body
    assert CODE in [l.strip() for l in body.splitlines()]


# --------------------------------------------------------------------------
# Failures
# --------------------------------------------------------------------------

def test_nothing_listening(tmp_path):
    port = free_port()
    cfg = write_config(tmp_path / "hook.conf", port)
    p = run_hook(cfg, facts())
    assert_failed(p, mentions=("cannot connect to smtp 127.0.0.1:%d" % port, "refused"))


def test_recipient_refused(smtp_server, tmp_path):
    srv = smtp_server(Recorder(reject_rcpt="550 5.1.1 No such mailbox"))
    cfg = write_config(tmp_path / "hook.conf", srv.port)
    p = run_hook(cfg, facts())
    assert_failed(p, mentions=("550", "No such mailbox"))
    assert srv.recorder.messages == []


def test_server_that_never_answers_times_out(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)                 # the kernel accepts; nobody ever speaks
        cfg = tmp_path / "hook.conf"
        cfg.write_text("[smtp]\nhost = 127.0.0.1\nport = %d\ntimeout = 1\nfrom = %s\n"
                       % (s.getsockname()[1], SENDER))
        p = run_hook(cfg, facts())
    assert_failed(p, mentions=("timed out",))
    assert p.elapsed < 5


@pytest.mark.parametrize("var", ["VRMS2FA_LOGIN", "VRMS2FA_EMAIL", "VRMS2FA_CODE",
                                 "VRMS2FA_TOKEN", "VRMS2FA_LINK", "VRMS2FA_EXPIRES"])
def test_missing_environment_variable(smtp_server, tmp_path, var):
    srv = smtp_server()
    cfg = write_config(tmp_path / "hook.conf", srv.port)
    p = run_hook(cfg, facts(**{var: None}))
    assert_failed(p, status=1, mentions=(var,))
    assert srv.recorder.greetings == [] and srv.recorder.messages == []


@pytest.mark.parametrize("over", [
    {"VRMS2FA_EMAIL": "alice@example.org\r\nBcc: x@y"},
    {"VRMS2FA_EMAIL": "alice@example.org\nBcc: x@y"},
    {"VRMS2FA_EMAIL": "alice@example.org, mallory@example.net"},
    {"VRMS2FA_EMAIL": "Alice <alice@example.org>"},
    {"VRMS2FA_EMAIL": "not-an-address"},
    {"VRMS2FA_LOGIN": "alice\r\nBcc: x@y"},
    {"VRMS2FA_COMPANY": "Sunny\r\nBcc: x@y"},
    {"VRMS2FA_CODE": "12ab56"},
], ids=["email-crlf-bcc", "email-lf-bcc", "email-list", "email-display-name",
        "email-garbage", "login-crlf", "company-crlf", "code-not-digits"])
def test_injection_is_refused_before_any_connection(smtp_server, tmp_path, over):
    srv = smtp_server()
    cfg = write_config(tmp_path / "hook.conf", srv.port)
    p = run_hook(cfg, facts(**over))
    assert_failed(p, status=1)
    time.sleep(0.05)
    assert srv.recorder.greetings == [], "the hook talked to the SMTP server"
    assert srv.recorder.messages == []


def test_invalid_utf8_is_refused(smtp_server, tmp_path):
    srv = smtp_server()
    cfg = write_config(tmp_path / "hook.conf", srv.port)
    env = {k.encode(): v.encode() for k, v in facts().items()}
    env[b"VRMS2FA_LOGIN"] = b"al\xffice"
    p = subprocess.run([str(HOOK), str(cfg)], env=env, capture_output=True, text=True, timeout=30)
    assert_failed(p, status=1, mentions=("VRMS2FA_LOGIN", "UTF-8"))
    assert srv.recorder.greetings == []


@pytest.mark.parametrize("text, mentions", [
    ("[smtp]\nhost = 127.0.0.1\nport = 25\n", "from"),
    ("[smtp]\nport = 99999\nfrom = a@b.example\n", "port"),
    ("[smtp]\nstarttls = maybe\nfrom = a@b.example\n", "starttls"),
    ("[smtp]\nstarttls = yes\nssl = yes\nfrom = a@b.example\n", "exclusive"),
    ("[smtp]\nstart_tls = yes\nfrom = a@b.example\n", "start_tls"),
    ("[smtp]\nfrom = a@b.example\nusername = u\n", "password_file"),
    ("[smtp]\nfrom = someone\n", "from"),
    ("[message]\nproduct_name = X\n", "[smtp]"),
], ids=["no-from", "bad-port", "bad-bool", "tls-and-ssl", "unknown-option",
        "user-without-password", "bad-from", "no-smtp-section"])
def test_bad_configuration(tmp_path, text, mentions):
    cfg = tmp_path / "hook.conf"
    cfg.write_text(text)
    p = run_hook(cfg, facts())
    assert_failed(p, status=2, mentions=(mentions,))


def test_missing_config_file_and_usage(tmp_path):
    assert_failed(run_hook(tmp_path / "nope.conf", facts()), status=2, mentions=("nope.conf",))
    p = subprocess.run([str(HOOK)], env=facts(), capture_output=True, text=True, timeout=30)
    assert_failed(p, status=2, mentions=("usage",))


def test_refuses_clear_text_password_to_remote_host(tmp_path):
    (tmp_path / "pw").write_text(SMTP_PASSWORD + "\n")
    cfg = tmp_path / "hook.conf"
    cfg.write_text("[smtp]\nhost = 192.0.2.1\nfrom = %s\nusername = %s\npassword_file = pw\n"
                   % (SENDER, SMTP_USER))
    p = run_hook(cfg, facts())
    assert_failed(p, status=2, mentions=("starttls",))


def test_refuses_the_code_in_clear_to_a_remote_relay(smtp_server, tmp_path):
    """The email carries a code and a link that confirm a login: to a relay
    that is not this machine, only over TLS, unless the operator says
    allow_plaintext = yes.  The refusal comes before any connection."""
    cfg = tmp_path / "hook.conf"
    cfg.write_text("[smtp]\nhost = 192.0.2.1\nfrom = %s\n" % SENDER)
    p = run_hook(cfg, facts())
    assert_failed(p, status=2, mentions=("in clear", "starttls", "allow_plaintext"))

    # a host name that is not literally loopback (this machine's own name) is "remote" to the hook
    name = socket.gethostname()
    try:
        addr = socket.gethostbyname(name)
    except OSError:
        pytest.skip("this machine's name does not resolve")
    if not addr.startswith("127."):
        pytest.skip("this machine's name resolves to %s, not loopback" % addr)
    srv = smtp_server(hostname=addr)
    cfg.write_text("[smtp]\nhost = %s\nport = %d\nfrom = %s\n" % (name, srv.port, SENDER))
    assert_failed(run_hook(cfg, facts()), status=2, mentions=("in clear",))
    assert srv.recorder.greetings == [] and srv.recorder.messages == []	# refused before connecting
    cfg.write_text("[smtp]\nhost = %s\nport = %d\nfrom = %s\nallow_plaintext = yes\n" % (name, srv.port, SENDER))
    p = run_hook(cfg, facts())
    assert p.returncode == 0, p.stderr
    env, msg = delivered(srv)
    assert env["rcpt_tos"] == ["alice@example.org"]


def test_example_config_parses(smtp_server, tmp_path):
    srv = smtp_server()
    text = EXAMPLE.read_text().replace("host = localhost", "host = 127.0.0.1")
    text = text.replace("#port = 25", "port = %d" % srv.port)
    cfg = tmp_path / "hook.conf"
    cfg.write_text(text)
    p = run_hook(cfg, facts())
    assert p.returncode == 0, p.stderr
    env, msg = delivered(srv)
    assert env["mail_from"] == "security@example.com"


# --------------------------------------------------------------------------
# TLS and authentication
# --------------------------------------------------------------------------

def test_starttls_with_private_ca_and_auth(smtp_server, tmp_path, pki):
    srv = smtp_server(tls_context=pki["server_ctx"], require_starttls=True,
                      authenticator=authenticator, auth_required=True, auth_require_tls=True)
    (tmp_path / "pw").write_text(SMTP_PASSWORD + "\n")
    cfg = write_config(tmp_path / "hook.conf", srv.port,
                       "starttls = yes\ncafile = %s\nusername = %s\npassword_file = pw\n"
                       % (pki["ca"], SMTP_USER))
    p = run_hook(cfg, facts())
    assert p.returncode == 0, p.stderr
    env, msg = delivered(srv)
    assert env["tls"] is True
    assert env["auth"].login == SMTP_USER.encode()
    assert CODE in [l.strip() for l in msg.get_content().splitlines()]


def test_starttls_wrong_password(smtp_server, tmp_path, pki):
    srv = smtp_server(tls_context=pki["server_ctx"], require_starttls=True,
                      authenticator=authenticator, auth_required=True, auth_require_tls=True)
    (tmp_path / "pw").write_text("not-" + SMTP_PASSWORD + "\n")
    cfg = write_config(tmp_path / "hook.conf", srv.port,
                       "starttls = yes\ncafile = %s\nusername = %s\npassword_file = pw\n"
                       % (pki["ca"], SMTP_USER))
    p = run_hook(cfg, facts())
    line = assert_failed(p, mentions=("535",))
    assert "not-" + SMTP_PASSWORD not in line
    assert srv.recorder.messages == []


def test_starttls_verifies_the_certificate_by_default(smtp_server, tmp_path, pki):
    srv = smtp_server(tls_context=pki["server_ctx"], require_starttls=True)
    cfg = write_config(tmp_path / "hook.conf", srv.port, "starttls = yes\n")
    p = run_hook(cfg, facts())
    assert_failed(p, mentions=("certificate",))
    assert srv.recorder.messages == []


def test_starttls_checks_the_host_name(smtp_server, tmp_path, pki):
    # 127.0.0.2 is loopback too, but the certificate is for 127.0.0.1/localhost.
    srv = smtp_server(hostname="127.0.0.2", tls_context=pki["server_ctx"], require_starttls=True)
    cfg = tmp_path / "hook.conf"
    cfg.write_text("[smtp]\nhost = 127.0.0.2\nport = %d\nstarttls = yes\ncafile = %s\nfrom = %s\n"
                   % (srv.port, pki["ca"], SENDER))
    p = run_hook(cfg, facts())
    assert_failed(p, mentions=("certificate", "127.0.0.2"))
    assert srv.recorder.messages == []


def test_starttls_required_but_not_offered(smtp_server, tmp_path, pki):
    srv = smtp_server()         # no tls_context: no STARTTLS in EHLO
    cfg = write_config(tmp_path / "hook.conf", srv.port, "starttls = yes\ncafile = %s\n" % pki["ca"])
    p = run_hook(cfg, facts())
    assert_failed(p, mentions=("STARTTLS",))
    assert srv.recorder.messages == []


def test_implicit_tls(smtp_server, tmp_path, pki):
    srv = smtp_server(ssl_context=pki["server_ctx"])
    cfg = write_config(tmp_path / "hook.conf", srv.port, "ssl = yes\ncafile = %s\n" % pki["ca"])
    p = run_hook(cfg, facts())
    assert p.returncode == 0, p.stderr
    env, _ = delivered(srv)
    assert env["tls"] is True
