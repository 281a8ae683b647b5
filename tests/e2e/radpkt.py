"""radpkt.py - a small RADIUS client for tests that need what radclient
cannot give: exact per-request latency (no process start per request),
attributes of any bytes and any length up to 253, repeated attributes, and
whole packets of our own making.  RFC 2865 (User-Password hiding, Response
Authenticator) and RFC 3579 (Message-Authenticator)."""

import hashlib
import hmac
import os
import socket
import struct
import time

ACCESS_REQUEST, ACCESS_ACCEPT, ACCESS_REJECT, ACCESS_CHALLENGE = 1, 2, 3, 11
CODE_NAMES = {ACCESS_ACCEPT: "Access-Accept", ACCESS_REJECT: "Access-Reject", ACCESS_CHALLENGE: "Access-Challenge"}

USER_NAME, USER_PASSWORD, NAS_IP_ADDRESS, REPLY_MESSAGE, STATE = 1, 2, 4, 18, 24
VENDOR_SPECIFIC, CALLING_STATION_ID, MESSAGE_AUTHENTICATOR = 26, 31, 80
VRMS2FA_VENDOR = 64029


def hide_password(password, secret, authenticator):
    """RFC 2865 section 5.2."""
    if not password:
        password = b""
    padded = password + b"\0" * (-len(password) % 16 or (16 if not password else 0))
    out, last = b"", authenticator
    for i in range(0, len(padded), 16):
        b = hashlib.md5(secret + last).digest()
        chunk = bytes(x ^ y for x, y in zip(padded[i:i + 16], b))
        out += chunk
        last = chunk
    return out


def vsa(vendor, vtype, value):
    return struct.pack("!I", vendor) + bytes([vtype, len(value) + 2]) + value


def salt_decrypt(value, secret, request_authenticator):
    """RFC 2868 section 3.5 (Tunnel-Password, FreeRADIUS's encrypt=2): the
    plain text of an attribute salt-encrypted in a reply to the request with
    that Request Authenticator."""
    salt, data = value[:2], value[2:]
    if len(value) < 2 or not (salt[0] & 0x80) or not data or len(data) % 16:
        raise ValueError("not a salt-encrypted value")
    out, last = b"", request_authenticator + salt
    for i in range(0, len(data), 16):
        b = hashlib.md5(secret + last).digest()
        out += bytes(x ^ y for x, y in zip(data[i:i + 16], b))
        last = data[i:i + 16]
    if out[0] > len(out) - 1:
        raise ValueError("bad length in a salt-encrypted value")
    return out[1:1 + out[0]]


class Reply:
    def __init__(self, code, attrs, elapsed, request_authenticator=None, secret=None):
        self.code = code
        self.attrs = attrs          # list of (type, bytes)
        self.elapsed = elapsed
        self.request_authenticator = request_authenticator	# for salt_decrypt
        self.secret = secret

    @property
    def name(self):
        return CODE_NAMES.get(self.code, "code %s" % self.code)

    def get(self, atype):
        return [v for t, v in self.attrs if t == atype]

    @property
    def state(self):
        s = self.get(STATE)
        return s[0] if s else None

    @property
    def message(self):
        return b"".join(self.get(REPLY_MESSAGE)).decode("utf-8", "replace")


def parse_reply(data, authenticator, secret, elapsed=0.0):
    """The Reply in data, or None when it is not the answer to the request
    sent with that Request Authenticator (too short, or a wrong Response
    Authenticator)."""
    if len(data) < 20:
        return None
    code, ident, length = struct.unpack("!BBH", data[:4])
    expect = hashlib.md5(data[:4] + authenticator + data[20:length] + secret).digest()
    if not hmac.compare_digest(expect, data[4:20]):
        return None
    attrs, i = [], 20
    while i + 2 <= length:
        t, ln = data[i], data[i + 1]
        if ln < 2:
            break
        attrs.append((t, data[i + 2:i + ln]))
        i += ln
    return Reply(code, attrs, elapsed, authenticator, secret)


class Client:
    """One UDP socket to one server; requests one at a time."""

    def __init__(self, port, secret, host="127.0.0.1", timeout=5.0, source=None):
        self.addr = (host, port)
        self.secret = secret.encode() if isinstance(secret, str) else secret
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if source:
            self.sock.bind((source, 0))
        self.sock.settimeout(timeout)
        self.ident = 0

    def close(self):
        self.sock.close()

    def packet(self, attrs, message_authenticator=True):
        """attrs: list of (type, bytes); User-Password given in clear is hidden here."""
        self.ident = (self.ident + 1) & 0xff
        authenticator = os.urandom(16)
        body = b""
        for atype, value in attrs:
            if isinstance(value, str):
                value = value.encode("utf-8", "surrogateescape")
            if atype == USER_PASSWORD:
                value = hide_password(value, self.secret, authenticator)
            if len(value) > 253:
                raise ValueError("attribute %d longer than 253 bytes" % atype)
            body += bytes([atype, len(value) + 2]) + value
        ma_offset = None
        if message_authenticator:
            ma_offset = 20 + len(body) + 2
            body += bytes([MESSAGE_AUTHENTICATOR, 18]) + b"\0" * 16
        length = 20 + len(body)
        pkt = struct.pack("!BBH", ACCESS_REQUEST, self.ident, length) + authenticator + body
        if ma_offset is not None:
            mac = hmac.new(self.secret, pkt, hashlib.md5).digest()
            pkt = pkt[:ma_offset] + mac + pkt[ma_offset + 16:]
        return pkt, authenticator

    def send(self, attrs, message_authenticator=True, raw=None):
        """Send one request, wait for its reply; None on timeout.  The reply's
        Response Authenticator is checked (a forged reply raises)."""
        pkt, authenticator = raw if raw is not None else self.packet(attrs, message_authenticator)
        t0 = time.perf_counter()
        self.sock.sendto(pkt, self.addr)
        while True:
            try:
                data, _ = self.sock.recvfrom(4096)
            except socket.timeout:
                return None
            if len(data) >= 20 and data[1] == pkt[1]:
                break
        reply = parse_reply(data, authenticator, self.secret, time.perf_counter() - t0)
        if reply is None:
            raise AssertionError("bad Response Authenticator")
        return reply
