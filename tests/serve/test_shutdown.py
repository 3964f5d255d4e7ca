#!/usr/bin/env python3
"""test_shutdown.py JIKO — `jiko serve` stopping past its grace period.

With `shutdown_grace_s = 0` the grace period ends at the signal, while:

  A  a JSON Lines batch of many incidents is being stored by a worker (its
     handler runs for a second or more: the workers are joined, so it is
     let finish), and
  B  a POST /api/v1/classify had sent its headers and half its body before
     the signal, and sends the rest while A's handler still runs.

Then:
  - B is answered 503 `shutting_down` at once.  (It used to be queued for
    a worker that was leaving, its connection suspended when libmicrohttpd
    stopped: no answer, and an API violation.)
  - A's answer, made after the grace period, is still sent, whole: 200 with
    every record stored, and a restarted server has them all.
  - The server exits 0."""
import http.client
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jikoserve import Checks, Server, examples, quote  # noqa: E402

JIKO = os.path.abspath(sys.argv[1])
N = int(os.environ.get("JIKO_SHUTDOWN_BATCH", "30000"))
check = Checks()


def batch(base):
    """N new incidents of base's operator, as JSON Lines."""
    lines = []
    for i in range(N):
        rec = dict(base, id="shutdown-%06d" % i)
        lines.append(json.dumps(rec, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def main():
    base = next(r for r in examples() if r.get("ended_at"))
    srv = Server(JIKO, conf="shutdown_grace_s = 0\nrate = 0\nmax_body_bytes = 268435456\n")
    admin = srv.token("admin", base["operator"])
    srv.start()
    body_a = batch(base)
    one = json.dumps(base, ensure_ascii=False).encode()

    # B: headers and half the body, before the signal
    b = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    b.sendall(b"POST /api/v1/classify HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
              admin.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
              % len(one) + one[:len(one) // 2])

    # A: the batch; `sent` once its last byte is written
    sent = threading.Event()
    got = {}

    def post_batch():
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
        try:
            c.putrequest("POST", "/api/v1/incidents")
            c.putheader("Authorization", "Bearer " + admin)
            c.putheader("Content-Type", "application/x-ndjson")
            c.putheader("Content-Length", str(len(body_a)))
            c.endheaders()
            c.send(body_a)
            sent.set()
            r = c.getresponse()
            got["a"] = (r.status, r.read(), time.time())
        except (OSError, http.client.HTTPException) as e:
            got["a"] = (None, repr(e).encode(), time.time())
        finally:
            sent.set()

    t = threading.Thread(target=post_batch)
    t.start()
    check(sent.wait(60), "the batch of %d incidents sent (%d bytes)" % (N, len(body_a)))
    time.sleep(0.05)  # its handler is running now
    srv.proc.send_signal(15)
    time.sleep(0.2)   # the grace period (0 s) is over; the workers are being joined
    b.sendall(one[len(one) // 2:])
    answer_b = b""
    try:
        while b"\r\n\r\n" not in answer_b or not answer_b.rstrip().endswith(b"}"):
            chunk = b.recv(4096)
            if not chunk:
                break
            answer_b += chunk
    except OSError as e:
        answer_b += repr(e).encode()
    b_at = time.time()
    t.join(120)
    rc = srv.proc.wait(60)
    srv.proc = None

    status_a, text_a, a_at = got.get("a", (None, b"", 0))
    # the scenario: B completed while A's handler still ran
    check(a_at > b_at, "the batch was answered after B (its handler ran past the signal; "
          "if not, raise JIKO_SHUTDOWN_BATCH)")
    head_b = answer_b.split(b"\r\n", 1)[0]
    body_b = answer_b.split(b"\r\n\r\n", 1)[-1]
    check(head_b.startswith(b"HTTP/1.1 503") and b'"code":"shutting_down"' in body_b,
          "B, completed past the grace period: 503 shutting_down (%r)" % answer_b[:160])
    check(b"connection: close" in answer_b.lower() and b"retry-after: 1" in answer_b.lower(),
          "B's 503: Connection: close and Retry-After")
    res = {}
    try:
        res = json.loads(text_a)
    except ValueError:
        pass
    check(status_a == 200 and res.get("stored") == N and res.get("rejected") == 0,
          "A, the batch whose handler outlived the grace period: answered 200, %d stored "
          "(%s %r)" % (N, status_a, text_a[:160]))
    check(rc == 0, "the server exited 0 (%s): %s" % (rc, srv.logtext()[-400:] if rc else ""))

    # a 2xx means committed: a new server has every record
    srv.start()
    st, _, _ = srv.request("GET", "/api/v1/incidents/%s/shutdown-%06d" % (
        quote(base["operator"]), N - 1), token=admin)
    check(st == 200, "after the restart, the batch's last incident is stored (%s)" % st)
    check(srv.stop() == 0, "clean exit of the second server")
    print("%d checks, %d failure(s)" % (check.n, check.failed))
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
