"""
test_valgrind.py - radiusd under Valgrind (memcheck) with the normal build of
the module, driven through VRMS2FA_VALGRIND_REQUESTS requests of every kind
(10,000 by default in scripts/valgrind.sh), then stopped with SIGTERM so that
Valgrind's leak check runs at its exit.

It passes when Valgrind reports nothing in OUR code: no definitely or
indirectly lost block whose allocation stack has a frame of rlm_vrms2fa.so
(or of a source file under rlm_vrms2fa/), and no invalid read or write,
uninitialised value, bad free or overlap error with such a frame.  What it
reports without any frame of ours (FreeRADIUS, talloc, libmariadb, OpenSSL)
is listed as foreign and does not count (tests/sanitizers/README.md).

The requests, mixed at random and 32 in flight (tests/e2e/radpkt.py makes
the packets; one UDP socket, RFC 2865/3579):
  trusted        2FA user, trusted address, Message-Authenticator: Accept
  no-ma          the same without Message-Authenticator: the code is asked
  bad-address    malformed Calling-Station-Id: never trusted, code asked
  code           new address: Challenge, round 2 with the TOTP code: Accept
  code-wrong     round 2 with wrong codes until the attempts run out (lockout)
  recovery       round 2 with a recovery code: Accept
  enroll         mandatory, grace passed (or VRMS2FA-Enroll-Request): the key
                 in the Challenge, a wrong code, then the right one: Accept
  email          no 2FA, new address: the email hook (stub) runs, round 2 with
                 the emailed code: Accept with the reminder (or, when
                 email.max_running_hooks hooks run already, "could not send");
                 the 6th email of the hour is refused
  reminder       no 2FA, address confirmed by email: Accept with the reminder
  wrong-password known user, wrong password: Reject, then locked out
  unknown        unknown user: Reject (the dummy argon2id hash: a few only)
  disabled       disabled user: Reject
  bad-state      forged, truncated, random, spent, foreign States: Reject
  malformed      no User-Name, no User-Password, overlong, non-UTF-8 and NUL
                 names, odd Enroll-Request values, repeated attributes
  single-pass    a second module instance with single_pass = yes on a second
                 virtual server: password+code, wrong code, users without 2FA
Passwords are argon2id at the smallest cost (and a few sha512-crypt, bcrypt,
yescrypt) so that Valgrind's time goes to the code paths, not the hashing.

Skipped unless VRMS2FA_VALGRIND_REQUESTS is set (scripts/valgrind.sh sets it).
VRMS2FA_VALGRIND=no runs the same load without Valgrind (to work on the mix).
"""
import base64
import collections
import concurrent.futures
import ctypes
import ctypes.util
import hashlib
import hmac
import os
import random
import re
import secrets
import select
import shutil
import struct
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import harness as H
import radpkt as R

REQUESTS = int(os.environ.get("VRMS2FA_VALGRIND_REQUESTS", "0") or 0)
USE_VALGRIND = os.environ.get("VRMS2FA_VALGRIND", "yes") != "no"
OUT = Path(os.environ.get("VRMS2FA_VALGRIND_OUT", str(H.SRC / "tests" / "out" / "valgrind")))
VALGRIND = shutil.which("valgrind") or "/usr/bin/valgrind"
SUPPRESSIONS = H.SRC / "tests" / "sanitizers" / "valgrind.supp"
WINDOW = 32

pytestmark = pytest.mark.skipif(REQUESTS <= 0, reason="Valgrind pass: scripts/valgrind.sh [REQUESTS]")

ENROLL_REQUEST = 1
OTPAUTH_URI = 2


# --------------------------------------------------------------------------
# Password hashes and TOTP, computed here (cheap and independent)
# --------------------------------------------------------------------------

_argon2 = []


def argon2id_cheap(password):
    """argon2id at the smallest cost libargon2 takes (m=8 KiB, t=1, p=1)."""
    if not _argon2:
        _argon2.append(ctypes.CDLL(ctypes.util.find_library("argon2") or "libargon2.so.1"))
    lib = _argon2[0]
    out = ctypes.create_string_buffer(256)
    salt = os.urandom(16)
    pw = password.encode()
    rc = lib.argon2id_hash_encoded(ctypes.c_uint32(1), ctypes.c_uint32(8), ctypes.c_uint32(1), pw,
                                   ctypes.c_size_t(len(pw)), salt, ctypes.c_size_t(len(salt)),
                                   ctypes.c_size_t(32), out, ctypes.c_size_t(len(out)))
    assert rc == 0, "argon2id_hash_encoded: %d" % rc
    return out.value.decode()


def totp(secret_b32, t=None, step=30, digits=6):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if t is None else t) // step)
    mac = hmac.new(key, struct.pack("!Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    n = (struct.unpack("!I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 10 ** digits
    return "%0*d" % (digits, n)


def wrong_totp(secret_b32):
    now = time.time()
    valid = {totp(secret_b32, now + d * 30) for d in (-2, -1, 0, 1, 2)}
    while True:
        c = "%06d" % secrets.randbelow(10 ** 6)
        if c not in valid:
            return c


# --------------------------------------------------------------------------
# The load engine: flows (generators of requests) over one UDP socket
# --------------------------------------------------------------------------

class Req:
    """One request of a flow: attributes (type, bytes) for radpkt.Client.packet(); port: "main" or "sp"."""

    def __init__(self, kind, attrs, ma=True, port=None):
        self.kind, self.attrs, self.ma, self.port = kind, attrs, ma, port


def vsa_value(reply, vtype):
    for t, v in reply.attrs:
        if t == R.VENDOR_SPECIFIC and len(v) >= 6 and struct.unpack("!I", v[:4])[0] == R.VRMS2FA_VENDOR \
                and v[4] == vtype:
            value = v[6:4 + v[5]]
            if vtype == OTPAUTH_URI:	# encrypted like Tunnel-Password (encrypt=2)
                value = R.salt_decrypt(value, reply.secret, reply.request_authenticator)
            return value
    return None


class Engine:
    """Keeps `window` flows going; each flow is a generator that yields Req
    and gets back the Reply (None: no answer after the retries)."""

    def __init__(self, secret, ports, window=WINDOW, timeout=20.0, retries=2):
        self.secret = secret.encode()
        self.ports = ports			# name -> port
        self.builder = R.Client(ports["main"], secret)
        self.sock = self.builder.sock
        self.sock.setblocking(False)
        self.window, self.timeout, self.retries = window, timeout, retries
        self.free = collections.deque(range(256))
        self.inflight = {}
        self.sent = 0
        self.resent = 0
        self.lost = 0
        self.answers = collections.Counter()	# (kind, code name) -> n

    def _send(self, flow, req):
        ident = self.free.popleft()
        self.builder.ident = (ident - 1) & 0xFF		# packet() uses ident + 1
        pkt, auth = self.builder.packet(req.attrs, message_authenticator=req.ma)
        addr = ("127.0.0.1", self.ports[req.port or "main"])
        self.sock.sendto(pkt, addr)
        self.sent += 1
        self.inflight[ident] = [flow, req, pkt, auth, addr, time.monotonic(), 0]

    def _advance(self, flow, value):
        """Send value into the flow; send its next request, or finish it."""
        try:
            req = flow.send(value)
        except StopIteration:
            return False
        self._send(flow, req)
        return True

    def run(self, next_flow, total):
        """next_flow(): a new flow (generator).  Runs until `total` requests are sent and answered."""
        active = 0
        while True:
            while active < self.window and self.sent < total and self.free:
                if self._advance(next_flow(), None):
                    active += 1
            if not self.inflight:
                if self.sent >= total or active == 0:
                    break
                continue
            r, _, _ = select.select([self.sock], [], [], 0.5)
            if r:
                while True:
                    try:
                        data, _ = self.sock.recvfrom(4096)
                    except BlockingIOError:
                        break
                    entry = self.inflight.get(data[1]) if len(data) >= 20 else None
                    reply = R.parse_reply(data, entry[3], self.secret) if entry else None	# None: a late answer to an earlier use of the Id
                    if reply is None:
                        continue
                    flow, req = self.inflight.pop(data[1])[:2]
                    self.free.append(data[1])
                    self.answers[(req.kind, R.CODE_NAMES.get(reply.code, str(reply.code)))] += 1
                    if not self._advance(flow, reply):
                        active -= 1
            now = time.monotonic()
            for ident, entry in list(self.inflight.items()):
                if now - entry[5] < self.timeout:
                    continue
                if entry[6] < self.retries:		# the same bytes again: radiusd answers a duplicate once
                    entry[5], entry[6] = now, entry[6] + 1
                    self.sock.sendto(entry[2], entry[4])
                    self.resent += 1
                    continue
                del self.inflight[ident]
                self.free.append(ident)
                self.lost += 1
                self.answers[(entry[1].kind, "no answer")] += 1
                if not self._advance(entry[0], None):
                    active -= 1


# --------------------------------------------------------------------------
# The people and the flows
# --------------------------------------------------------------------------

class Person:
    def __init__(self, login, password, secret=None, address=None):
        self.login, self.password, self.secret, self.address = login, password, secret, address
        self.last_step = -1	# the time step of the last code sent (one accepted per step)
        self.busy = False	# in a flow that sends a code, or waits for an email
        self.recovery = []
        self.confirmed = None	# an address confirmed by email


def nas():
    return (R.NAS_IP_ADDRESS, bytes([127, 0, 0, 1]))


def r1(kind, p, password=None, csid=None, extra=(), ma=True, port=None):
    attrs = [(R.USER_NAME, p.login), (R.USER_PASSWORD, p.password if password is None else password), nas()]
    if csid is not None:
        attrs.append((R.CALLING_STATION_ID, csid))
    return Req(kind, attrs + list(extra), ma=ma, port=port)


def r2(kind, login, code, state, csid, port=None):
    attrs = [(R.USER_NAME, login), (R.USER_PASSWORD, code), (R.STATE, state), nas()]
    if csid is not None:
        attrs.append((R.CALLING_STATION_ID, csid))
    return Req(kind, attrs, port=port)


class Mix:
    """Makes the flows, checks their answers (problems are collected, not raised)."""

    def __init__(self, pools, outbox, rng):
        self.p = pools
        self.outbox = outbox
        self.rng = rng
        self.problems = []
        self.lock = threading.Lock()
        self.addr_n = 0
        self.spent_states = collections.deque(maxlen=50)
        self.live_states = collections.deque(maxlen=50)
        self.done = collections.Counter()

    def expect(self, kind, reply, codes, message=None):
        names = {R.CODE_NAMES.get(c) for c in codes}
        got = None if reply is None else reply.name
        ok = got in names and (message is None or (reply is not None and message in reply.message))
        if not ok and len(self.problems) < 200:
            self.problems.append("%s: expected %s%s, got %s %r" % (
                kind, "/".join(sorted(names)), (" (%s)" % message) if message else "", got,
                None if reply is None else reply.message))
        return ok

    def new_address(self):
        self.addr_n += 1
        return "2001:db8:77:%x::%x" % (os.getpid() & 0xffff, self.addr_n)

    def code_user(self, pool):
        """A user whose code of the current step is still unused, and not in another such flow."""
        step = int(time.time() // 30)
        free = [u for u in pool if u.last_step < step and not u.busy]
        if not free:
            return None
        u = self.rng.choice(free)
        u.busy = True
        return u

    @staticmethod
    def code_now(u):
        t = time.time()
        u.last_step = int(t // 30)
        return totp(u.secret, t)

    # ---- the kinds ----

    def trusted(self):
        u = self.rng.choice(self.p["twofa"])
        r = yield r1("trusted", u, csid=u.address)
        self.expect("trusted", r, [R.ACCESS_ACCEPT])

    def no_ma(self):
        u = self.rng.choice(self.p["twofa"])
        r = yield r1("no-ma", u, csid=u.address, ma=False)
        self.expect("no-ma", r, [R.ACCESS_CHALLENGE])

    def bad_address(self):
        u = self.rng.choice(self.p["twofa"])
        csid = self.rng.choice(["", "not an address", "192.0.2.300", "fe80::1%eth0", "12:34", "x" * 253,
                                "::ffff:192.0.2.1/24", "00-11-22-33-44", "\xff\xfe", "1.2.3.4\x00"])
        r = yield r1("bad-address", u, csid=csid)
        self.expect("bad-address", r, [R.ACCESS_CHALLENGE])
        if r is not None and r.state:
            self.live_states.append((u.login, r.state))

    def code(self):
        u = self.code_user(self.p["twofa"])
        if u is None:
            yield from self.trusted()
            return
        csid = self.new_address()
        try:
            r = yield r1("code", u, csid=csid)
            if not self.expect("code", r, [R.ACCESS_CHALLENGE]):
                return
            state = r.state
            r = yield r2("code", u.login, self.code_now(u), state, csid)
            accepted = self.expect("code", r, [R.ACCESS_ACCEPT])
            self.spent_states.append(state)
        finally:
            u.busy = False
        if accepted:	# the new address is trusted now
            r = yield r1("trusted", u, csid=csid)
            self.expect("trusted", r, [R.ACCESS_ACCEPT])

    def code_wrong(self):
        u = self.rng.choice(self.p["wrongcode"])
        csid = self.new_address()
        r = yield r1("code-wrong", u, csid=csid)
        # locked out after enough failures: that is a path too
        if not self.expect("code-wrong", r, [R.ACCESS_CHALLENGE, R.ACCESS_REJECT]) or r.code != R.ACCESS_CHALLENGE:
            return
        state = r.state
        for _ in range(3):
            r = yield r2("code-wrong", u.login, wrong_totp(u.secret), state, csid)
            if not self.expect("code-wrong", r, [R.ACCESS_CHALLENGE, R.ACCESS_REJECT]) or r.code == R.ACCESS_REJECT:
                break
        self.spent_states.append(state)

    def recovery(self):
        users = [u for u in self.p["twofa"] if u.recovery]
        if not users:
            yield from self.trusted()
            return
        u = self.rng.choice(users)
        code = u.recovery.pop()
        csid = self.new_address()
        r = yield r1("recovery", u, csid=csid)
        if not self.expect("recovery", r, [R.ACCESS_CHALLENGE]):
            return
        r = yield r2("recovery", u.login, code, r.state, csid)
        self.expect("recovery", r, [R.ACCESS_ACCEPT])

    def enroll(self):
        if not self.p["enroll"]:
            yield from self.trusted()
            return
        u = self.p["enroll"].pop()
        csid = u.address		# enrollment is offered only from a trusted address
        extra = [(R.VENDOR_SPECIFIC, R.vsa(R.VRMS2FA_VENDOR, ENROLL_REQUEST, struct.pack("!I", 1)))] \
            if u.enroll_request else []
        r = yield r1("enroll", u, csid=csid, extra=extra)
        if not self.expect("enroll", r, [R.ACCESS_CHALLENGE]):
            return
        uri = (vsa_value(r, OTPAUTH_URI) or b"").decode()
        m = re.search(r"[?&]secret=([A-Z2-7]+)", uri)
        if not m:
            self.expect("enroll", None, [R.ACCESS_CHALLENGE], "an otpauth URI")
            return
        secret, state = m.group(1), r.state
        r = yield r2("enroll", u.login, wrong_totp(secret), state, csid)
        if not self.expect("enroll", r, [R.ACCESS_CHALLENGE]):
            return
        r = yield r2("enroll", u.login, totp(secret), state, csid)
        if self.expect("enroll", r, [R.ACCESS_ACCEPT], "now active"):
            self.done["enrolled"] += 1

    def email(self):
        users = [u for u in self.p["email"] if u.confirmed is None and not u.busy]
        if not users:
            yield from self.reminder()
            return
        u = self.rng.choice(users)
        u.busy = True		# one email at a time per user: the hourly limit is not this kind's business
        csid = self.new_address()
        try:
            r = yield r1("email", u, csid=csid)
            if r is not None and r.code == R.ACCESS_REJECT and r.message == H.MESSAGES["MSG_EMAIL_FAILED"]:
                self.done["email: max_running_hooks busy"] += 1	# a path too; this user tries again later
                return
            if not self.expect("email", r, [R.ACCESS_CHALLENGE]):
                return
            mails = [m for m in self.outbox.emails(u.login) if m.get("VRMS2FA_ADDRESS") == csid]
            if not mails:
                self.expect("email", None, [R.ACCESS_CHALLENGE], "an email in the outbox")
                return
            r = yield r2("email", u.login, mails[-1]["VRMS2FA_CODE"], r.state, csid)
            if self.expect("email", r, [R.ACCESS_ACCEPT], "Protect your account"):
                u.confirmed = csid
        finally:
            u.busy = False

    def email_limit(self):
        u = self.p["limit"]
        r = yield r1("email-limit", u, csid=self.new_address())
        self.expect("email-limit", r, [R.ACCESS_CHALLENGE, R.ACCESS_REJECT])
        if r is not None and r.code == R.ACCESS_REJECT:
            self.done["email limit"] += 1

    def reminder(self):
        users = [u for u in self.p["email"] if u.confirmed]
        if not users:
            yield from self.trusted()
            return
        u = self.rng.choice(users)
        r = yield r1("reminder", u, csid=u.confirmed)
        self.expect("reminder", r, [R.ACCESS_ACCEPT], "Protect your account")

    def wrong_password(self):
        u = self.rng.choice(self.p["wrongpw"])
        r = yield r1("wrong-password", u, password="not the password", csid=u.address)
        self.expect("wrong-password", r, [R.ACCESS_REJECT])

    def unknown(self):
        if self.done["unknown"] >= self.p["unknown_budget"]:
            yield from self.wrong_password()
            return
        self.done["unknown"] += 1
        ghost = Person(H.unique("ghost"), "whatever")
        r = yield r1("unknown", ghost, csid=self.new_address())
        self.expect("unknown", r, [R.ACCESS_REJECT])

    def disabled(self):
        u = self.rng.choice(self.p["disabled"])
        r = yield r1("disabled", u, csid=u.address)
        self.expect("disabled", r, [R.ACCESS_REJECT])

    def bad_state(self):
        twofa = self.rng.choice(self.p["twofa"])
        k = self.rng.randrange(8)
        if k == 0:
            state = b"V1" + secrets.token_hex(16).encode()
        elif k == 1:
            state = os.urandom(self.rng.randrange(1, 254))
        elif k == 2:
            state = b"V1" + secrets.token_hex(16).encode()[:self.rng.randrange(0, 32)]
        elif k == 3:
            state = b"V1" + secrets.token_hex(16).upper().encode()
        elif k == 4 and self.spent_states:
            state = self.rng.choice(self.spent_states)
        elif k == 5 and self.live_states:
            state = self.rng.choice(self.live_states)[1]		# most likely another user's
        elif k == 6:
            state = b"V2" + secrets.token_hex(16).encode()
        else:
            state = b"V1" + secrets.token_hex(16).encode() + b"\x00"
        # a State not of the module's form is someone else's: a round 1, whose
        # "password" (the code) fails and counts: not on users others need
        u = twofa if re.fullmatch(rb"V1[0-9a-f]{32}", state) else self.rng.choice(self.p["wrongcode"])
        r = yield r2("bad-state", u.login, totp(u.secret), state, self.new_address())
        self.expect("bad-state", r, [R.ACCESS_REJECT])

    def malformed(self):
        k = self.rng.randrange(10)
        # the ones that fail the password count toward the lockout: not on users others need
        u = self.rng.choice(self.p["wrongpw"] if k in (5, 6) else self.p["twofa"])
        pw = u.password.encode()
        ev = R.vsa(R.VRMS2FA_VENDOR, ENROLL_REQUEST, struct.pack("!I", self.rng.choice([0, 2, 0xFFFFFFFF])))
        attrs = {
            0: [(R.USER_PASSWORD, pw), nas()],						# no User-Name
            1: [(R.USER_NAME, u.login), nas()],						# no User-Password
            2: [(R.USER_NAME, "u" * 253), (R.USER_PASSWORD, pw)],			# overlong name
            3: [(R.USER_NAME, b"\xc3\x28bad\xff"), (R.USER_PASSWORD, pw)],		# not UTF-8
            4: [(R.USER_NAME, u.login.encode() + b"\x00x"), (R.USER_PASSWORD, pw)],	# NUL in the name
            5: [(R.USER_NAME, u.login), (R.USER_PASSWORD, b"")],			# empty password
            6: [(R.USER_NAME, u.login), (R.USER_PASSWORD, b"p" * 128)],		# longest password
            7: [(R.USER_NAME, u.login), (R.USER_PASSWORD, pw), (R.VENDOR_SPECIFIC, ev)],
            8: [(R.USER_NAME, u.login), (R.USER_NAME, "other"), (R.USER_PASSWORD, pw)],
            9: [(R.USER_NAME, u.login), (R.USER_PASSWORD, pw), (R.STATE, b"")],
        }[k]
        r = yield Req("malformed", attrs + [(R.CALLING_STATION_ID, self.new_address())])
        # whatever the answer, there must be one (or radiusd dropped it: an empty State, a bad attribute)
        if r is not None:
            self.expect("malformed", r, [R.ACCESS_REJECT, R.ACCESS_CHALLENGE, R.ACCESS_ACCEPT])

    def single_pass(self):
        k = self.rng.randrange(4)
        if k == 0:	# a wrong code: counted, rejected
            u = self.rng.choice(self.p["wrongcode"])
            r = yield r1("single-pass", u, password=u.password + wrong_totp(u.secret), csid=u.address, port="sp")
            self.expect("single-pass", r, [R.ACCESS_REJECT])
            return
        if k == 1:	# a user without 2FA from a new address: the link only (an email of the limited user)
            u = self.p["limit"]
            r = yield r1("single-pass", u, csid=self.new_address(), port="sp")
            self.expect("single-pass", r, [R.ACCESS_REJECT])
            return
        u = self.code_user(self.p["twofa"])
        if u is None:	# a password without its code from a new address: "a code is required" (wrong-code pool)
            u = self.rng.choice(self.p["wrongcode"])
            r = yield r1("single-pass", u, csid=self.new_address(), port="sp")
            self.expect("single-pass", r, [R.ACCESS_REJECT])
            return
        try:
            r = yield r1("single-pass", u, password=u.password + self.code_now(u), csid=self.new_address(),
                         port="sp")
            self.expect("single-pass", r, [R.ACCESS_ACCEPT])
        finally:
            u.busy = False

    def flows(self, n):
        """The mix: kinds drawn at random with these weights (per 10,000 requests)."""
        weights = [
            (self.trusted, 2600), (self.reminder, 700), (self.no_ma, 250), (self.bad_address, 250),
            (self.code, 270), (self.code_wrong, 160), (self.recovery, 60), (self.enroll, 25),
            (self.email, 60), (self.email_limit, 8), (self.wrong_password, 300), (self.unknown, 6),
            (self.disabled, 20), (self.bad_state, 1500), (self.malformed, 1100), (self.single_pass, 250),
        ]
        kinds = [k for k, _ in weights]
        w = [x for _, x in weights]
        # every kind at least once, early, then at random
        first = list(kinds)
        self.rng.shuffle(first)

        def next_flow():
            k = first.pop() if first else self.rng.choices(kinds, w)[0]
            return k()
        return next_flow


# --------------------------------------------------------------------------
# Valgrind's verdict
# --------------------------------------------------------------------------

LEAK_KINDS = {"Leak_DefinitelyLost", "Leak_IndirectlyLost"}
IGNORED_KINDS = {"Leak_PossiblyLost", "Leak_StillReachable"}


def frame_is_ours(frame):
    obj = frame.findtext("obj") or ""
    d = frame.findtext("dir") or ""
    if os.path.basename(obj) == "rlm_vrms2fa.so":
        return True
    d = os.path.normpath(d) if d else ""
    for top in {str(H.SRC), str(H.BUILD)}:
        for sub in ("rlm_vrms2fa", "admin"):
            root = os.path.join(top, sub)
            if d == root or d.startswith(root + os.sep):
                return True
    return False


def describe(err):
    kind = err.findtext("kind")
    what = err.findtext("what") or err.findtext("xwhat/text") or ""
    lines = ["%s: %s" % (kind, what)]
    for frame in err.findall("stack/frame")[:25]:
        fn = frame.findtext("fn") or "?"
        where = ("%s:%s" % (frame.findtext("file"), frame.findtext("line"))) if frame.findtext("file") \
            else (frame.findtext("obj") or "?")
        lines.append("    %s %s%s" % ("*" if frame_is_ours(frame) else " ", fn, " (%s)" % where))
    return "\n".join(lines)


def verdict(xml_path):
    """(ours, foreign, leaked_bytes_ours) from one Valgrind XML file."""
    root = ET.parse(xml_path).getroot()
    ours, foreign = [], []
    for err in root.findall("error"):
        kind = err.findtext("kind") or ""
        if kind in IGNORED_KINDS:
            continue
        frames = err.findall("stack/frame")
        (ours if any(frame_is_ours(f) for f in frames) else foreign).append(err)
    leaked = sum(int(e.findtext("xwhat/leakedbytes") or 0) for e in ours if e.findtext("kind") in LEAK_KINDS)
    return ours, foreign, leaked


# --------------------------------------------------------------------------
# Setting up the people (the admin tool of the normal build)
# --------------------------------------------------------------------------

def setup_people(world, admin, mariadb, rng):
    boss_co = world.company()
    high_co = world.company()
    boss = world.user(company=high_co, group="administrator")
    world.policy(high_co, "high", ["owner"], boss.login)
    costs = {"$6$": 1000, "$2b$": 4, "$y$": 1}	# the lowest of each crypt(3) format
    crypt_lock = threading.Lock()		# crypt() and crypt_gensalt() return static buffers

    def make(company, group="company_user", twofa=False, i=0, fmt=None):
        login = H.unique("vg")
        password = "Pw-%s" % secrets.token_hex(4)
        if fmt:
            with crypt_lock:
                h = H.crypt_hash(password, fmt, costs[fmt])
        else:
            h = argon2id_cheap(password)
        admin("user", "add", login, "--company", company, "--group", group, "--email",
              "%s@example.com" % login, "--password-hash", h)
        p = Person(login, password, address="192.0.2.%d" % (1 + i % 250))
        if twofa:
            p.secret = admin.json("enroll", "begin", login)["secret"]
            H.wait_step_margin(2)
            admin("enroll", "confirm", login, totp(p.secret, time.time() - 30), "--address", p.address)
            p.last_step = int(time.time() // 30) - 1
        return p

    pools = {}
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        twofa = [ex.submit(make, boss_co, twofa=True, i=i, fmt="$6$" if i == 0 else None) for i in range(40)]
        wrongcode = [ex.submit(make, boss_co, twofa=True, i=40 + i) for i in range(8)]
        email = [ex.submit(make, boss_co, i=60 + i) for i in range(20)]
        enroll = [ex.submit(make, high_co, group="owner", i=90 + i) for i in range(20)]
        enroll_req = [ex.submit(make, boss_co, i=120 + i) for i in range(8)]
        wrongpw = [ex.submit(make, boss_co, i=140 + i) for i in range(5)]
        disabled = [ex.submit(make, boss_co, i=150 + i, fmt=f) for i, f in enumerate(costs)]
        limit = ex.submit(make, boss_co, i=160)
        pools["twofa"] = [f.result() for f in twofa]
        pools["wrongcode"] = [f.result() for f in wrongcode]
        pools["email"] = [f.result() for f in email]
        pools["wrongpw"] = [f.result() for f in wrongpw]
        pools["disabled"] = [f.result() for f in disabled]
        pools["limit"] = limit.result()
        enrollees = [f.result() for f in enroll]
        requesters = [f.result() for f in enroll_req]
        for u in pools["twofa"][:15]:
            u.recovery = list(admin.json("recovery-codes", u.login)["codes"])
        for u in pools["disabled"]:
            admin("user", "set", u.login, "--disabled", "yes")
    # grace passed: enrollment is the only way in
    mariadb.sql("UPDATE users SET grace_deadline = %d WHERE login IN (%s)" % (
        int(time.time()) - 1, ",".join("'%s'" % u.login for u in enrollees)), database=mariadb.db)
    for u in enrollees:
        u.enroll_request = False
    for u in requesters:
        u.enroll_request = True
    # their addresses trusted (as an email confirmation would): enrollment is offered only from one
    for u in enrollees + requesters:
        H.trust_row(mariadb, u.login, u.address)
    pools["enroll"] = enrollees + requesters
    rng.shuffle(pools["enroll"])
    pools["unknown_budget"] = 6
    return pools


def single_pass_instance(rad, db, key_file, overrides):
    """A second instance of the module (single_pass = yes) on a second virtual server."""
    port = H.free_port("udp")
    path = rad.raddb / "mods-enabled" / "vrms2fa_sp"
    H.write_module_config(path, db, key_file, {**overrides, (None, "single_pass"): True})
    conf, n = re.subn(r"(?m)^vrms2fa\s*\{", "vrms2fa vrms2fa_sp {", path.read_text(), count=1)
    assert n == 1
    path.write_text(conf)
    (rad.raddb / "sites-enabled" / "vrms2fa_sp").write_text(
        "server vrms2fa_sp {\n\tlisten {\n\t\ttype = auth\n\t\tipaddr = 127.0.0.1\n\t\tport = %d\n\t}\n"
        "\tauthorize {\n\t\tvrms2fa_sp\n\t}\n\tauthenticate {\n\t\tAuth-Type vrms2fa_sp {\n\t\t\tvrms2fa_sp\n"
        "\t\t}\n\t}\n}\n" % port)
    return port


# --------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------

def test_valgrind_radiusd_under_load(world, admin, mariadb, key_file, dictdir, outbox, workdir, figures):
    OUT.mkdir(parents=True, exist_ok=True)
    for f in OUT.glob("valgrind.*"):
        f.unlink()
    rng = random.Random(int(os.environ.get("VRMS2FA_VALGRIND_SEED", "2026")))
    t_start = time.monotonic()
    wrapper = [VALGRIND, "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite,indirect",
               "--errors-for-leak-kinds=definite,indirect", "--num-callers=40", "--fair-sched=yes",
               "--child-silent-after-fork=yes", "--error-limit=no", "--keep-debuginfo=yes", "--xml=yes",
               "--xml-file=%s/valgrind.%%p.xml" % OUT, "--log-file=%s/valgrind.%%p.log" % OUT]
    if SUPPRESSIONS.exists():
        wrapper.append("--suppressions=%s" % SUPPRESSIONS)
    if not USE_VALGRIND:
        wrapper = []
    overrides = {("email", "enabled"): "yes", ("email", "hook"): outbox.hook()}
    # the load generator is the backend the operator allows to ask for enrollment
    allow = "\tupdate control {\n\t\t&VRMS2FA-Allow-Enroll-Request := 1\n\t}\n"
    rad = H.Radiusd(workdir / "radiusd-valgrind", mariadb, key_file, overrides, dictdir=dictdir,
                    wrapper=wrapper, quiet=True, authorize_unlang=allow)
    sp_port = single_pass_instance(rad, mariadb, key_file, overrides)

    # radiusd starts under Valgrind (slow) while the people are made
    started = {}

    def start():
        try:
            rad.start(timeout=300)
            started["ok"] = time.monotonic()
        except Exception as e:	# reported below
            started["error"] = e
    th = threading.Thread(target=start)
    th.start()
    try:
        pools = setup_people(world, admin, mariadb, rng)
        t_setup = time.monotonic()
        th.join()
        if "error" in started:
            raise started["error"]

        mix = Mix(pools, outbox, rng)
        engine = Engine(rad.secret, {"main": rad.port, "sp": sp_port})
        t0 = time.monotonic()
        engine.run(mix.flows(REQUESTS), REQUESTS)
        t_load = time.monotonic() - t0
    finally:
        th.join()
        t1 = time.monotonic()
        rad.stop()
        t_stop = time.monotonic() - t1

    by_kind = collections.defaultdict(collections.Counter)
    for (kind, code), n in engine.answers.items():
        by_kind[kind][code] += n
    figures.append("valgrind%s: %d requests (%d retransmitted, %d unanswered) in %.0f s (%.0f/s); radiusd "
                   "ready after %.0f s, people made in %.0f s, stop and leak check %.0f s, %.0f s in all"
                   % ("" if USE_VALGRIND else " (OFF)", engine.sent, engine.resent, engine.lost, t_load,
                      engine.sent / max(t_load, 1e-9), started["ok"] - t_start, t_setup - t_start, t_stop,
                      time.monotonic() - t_start))
    figures.append("valgrind requests by kind: " + "; ".join(
        "%s %s" % (k, dict(v)) for k, v in sorted(by_kind.items())))
    figures.append("valgrind flows: %s" % dict(mix.done))

    # the verdict (children after fork are silent: radiusd's own file only has content)
    ours, foreign, leaked = [], [], 0
    xmls = sorted(OUT.glob("valgrind.*.xml"))
    assert xmls or not USE_VALGRIND, "no Valgrind XML output in %s" % OUT
    for x in xmls:
        try:
            o, f, n = verdict(x)
        except ET.ParseError as e:
            pytest.fail("%s is not complete XML (%s): Valgrind did not finish" % (x, e))
        ours += o
        foreign += f
        leaked += n
    report = OUT / "valgrind-findings.txt"
    report.write_text("OURS (%d):\n%s\n\nFOREIGN, not counted (%d):\n%s\n" % (
        len(ours), "\n\n".join(describe(e) for e in ours), len(foreign), "\n\n".join(describe(e) for e in foreign)))
    figures.append("valgrind findings: %d in our code (%d bytes definitely/indirectly lost), %d foreign "
                   "(not counted); %s" % (len(ours), leaked, len(foreign), report))

    assert rad.exit_status == 0, "radiusd under Valgrind exited with %s (killed: no leak check)\n%s" % (
        rad.exit_status, H.tail(rad.base / "stdout.log"))
    assert not ours, "Valgrind found %d error(s) in our code:\n%s" % (
        len(ours), "\n\n".join(describe(e) for e in ours[:20]))
    assert engine.sent >= REQUESTS, (engine.sent, REQUESTS)
    assert engine.lost == 0, "%d requests were never answered: %s" % (engine.lost, dict(by_kind))
    assert not mix.problems, "%d unexpected answers, e.g.:\n%s" % (len(mix.problems), "\n".join(mix.problems[:30]))
    kinds = {"trusted", "no-ma", "bad-address", "code", "code-wrong", "recovery", "enroll", "email", "reminder",
             "wrong-password", "unknown", "disabled", "bad-state", "malformed", "single-pass", "email-limit"}
    assert kinds <= set(by_kind), "kinds never sent: %s" % (kinds - set(by_kind))
