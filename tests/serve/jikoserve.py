"""jikoserve.py — start `jiko serve` for a test and talk to it (shared by the
server tests: test_api.py, test_crash.py, test_prometheus.py, test_openapi.py).

Only the standard library: the tests run on a clean machine."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples", "fy2021-serious.jsonl")


class Checks:
    """A test script's checks: each prints "ok   WHAT" or "FAIL WHAT" at once
    and is counted; `check = Checks()`, then `check(cond, what)`, and the
    script ends with check.n checks and check.failed failures."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def __call__(self, cond, what):
        self.n += 1
        if not cond:
            self.failed += 1
        print(("ok   " if cond else "FAIL ") + what)
        sys.stdout.flush()
        return cond


def free_port():
    """A loopback port nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def which(name):
    """A program on PATH, or in /usr/bin (Debian's prometheus, nginx ...)."""
    return shutil.which(name) or (os.path.exists("/usr/bin/" + name) and "/usr/bin/" + name)


def need_wrk(check):
    """wrk's path; None when it is missing: then the caller skips its test,
    which fails under CI (where scripts/deps.sh must have installed it)."""
    wrk = shutil.which("wrk")
    if not wrk:
        check(os.environ.get("CI") != "true", "wrk is installed (scripts/deps.sh)")
        print("skip: no wrk")
    return wrk


def quote(s):
    """A path segment: percent-encoded UTF-8, '/' included."""
    return urllib.parse.quote(s, safe="")


class Server:
    """One `jiko serve` on a free loopback port, over its own registry."""

    def __init__(self, jiko, db=None, conf="", workdir=None, threads=None):
        self.jiko = jiko
        self.dir = workdir or tempfile.mkdtemp(prefix="jiko-serve-")
        self.db = db or os.path.join(self.dir, "jiko.db")
        self.conf_path = os.path.join(self.dir, "serve.conf")
        with open(self.conf_path, "w") as f:
            f.write("[serve]\nlisten = 127.0.0.1:0\n" + conf)
        self.threads = threads
        self.proc = None
        self.port = None

    def start(self):
        ready = os.path.join(self.dir, "ready")
        if os.path.exists(ready):
            os.unlink(ready)
        args = [self.jiko, "serve", "--db", self.db, "--config", self.conf_path,
                "--ready-file", ready]
        if self.threads is not None:
            args += ["--threads", str(self.threads)]
        self.log = open(os.path.join(self.dir, "serve.log"), "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while not os.path.exists(ready):
            if self.proc.poll() is not None:
                raise RuntimeError("jiko serve exited %d: %s" % (self.proc.returncode, self.logtext()))
            if time.time() > deadline:
                raise RuntimeError("jiko serve did not start: " + self.logtext())
            time.sleep(0.02)
        url = open(ready).read().strip()
        self.port = int(url.rsplit(":", 1)[1])
        return self

    def logtext(self):
        try:
            return open(os.path.join(self.dir, "serve.log"), errors="replace").read()[-3000:]
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("jiko serve did not stop on signal %d" % sig)
        rc = self.proc.returncode if self.proc else 0
        self.proc = None
        return rc

    def token(self, role, operator=None, note=None):
        args = [self.jiko, "token", "create", "--db", self.db, "--role", role]
        if operator is not None:
            args += ["--operator", operator]
        if note:
            args += ["--note", note]
        out = subprocess.run(args, check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def revoke(self, token_id):
        subprocess.run([self.jiko, "token", "revoke", "--db", self.db, token_id], check=True,
                       capture_output=True)

    def request(self, method, path, body=None, token=None, headers=None, ctype=None,
                timeout=30):
        """(status, headers dict with lower-case names, body bytes)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None:
            if isinstance(body, str):
                body = body.encode()
            h.setdefault("Content-Type", ctype or "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, hdrs, data

    def json(self, method, path, body=None, token=None, **kw):
        st, h, data = self.request(method, path, body, token, **kw)
        try:
            return st, h, json.loads(data) if data else None
        except ValueError:
            raise AssertionError("%s %s: %d, body is not JSON: %r" % (method, path, st, data[:300]))


def raw(port, data, read=True, timeout=10):
    """Send raw bytes on a fresh connection; return what came back."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    if read:
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
                if b"\r\n\r\n" in out:
                    head, _, rest = out.partition(b"\r\n\r\n")
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            if len(rest) >= int(line.split(b":")[1]):
                                s.close()
                                return out
        except socket.timeout:
            pass
    s.close()
    return out


def status_of(response):
    try:
        return int(response.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def examples():
    with open(EXAMPLES, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---- Prometheus remote_write bodies, for the ingest tests and benchmarks ----
# A WriteRequest (proto/remote.proto) encoded by hand and compressed with
# snappy's block format using literals only (valid snappy that any decoder
# reads; no compression needed for a test), so that no protobuf or snappy
# module is required.

def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num, wire, payload):
    if wire == 2:
        return _varint(num << 3 | 2) + _varint(len(payload)) + payload
    return _varint(num << 3 | wire) + payload


def snappy_literal(data):
    """Snappy block format: the length, then literal chunks of <= 60 bytes
    (one tag byte each) or longer ones with a 1-4 byte length."""
    out = bytearray(_varint(len(data)))
    i = 0
    while i < len(data):
        chunk = data[i:i + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2]) + n.to_bytes(2, "little")
        out += chunk
        i += len(chunk)
    return bytes(out)


def remote_write_body(series):
    """series: [(labels dict incl. __name__, [(t_ms, value), ...]), ...]."""
    import struct
    req = b""
    for labels, samples in series:
        ts = b""
        for name in sorted(labels):
            lab = _field(1, 2, name.encode()) + _field(2, 2, str(labels[name]).encode())
            ts += _field(1, 2, lab)
        for t, v in samples:
            smp = _field(1, 1, struct.pack("<d", v)) + _field(2, 0, _varint(t & (2**64 - 1)))
            ts += _field(2, 2, smp)
        req += _field(1, 2, ts)
    return snappy_literal(req)
