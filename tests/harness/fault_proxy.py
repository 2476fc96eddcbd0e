#!/usr/bin/env python3
"""An HTTP/1.1 proxy in front of a registry that injects the failures a real registry won't.

Usage:
  fault_proxy.py --upstream 127.0.0.1:PORT --listen-port N [--port-file F]
                 [--bearer] [--token-user USER:PASS] [--service NAME] [--expires-in S]
                 [--upstream-user USER:PASS] [--config JSON|@FILE]
                 [--mode MODE [--match RE] [--methods GET,HEAD] [--count K] [--skip N]
                  [--after-bytes B] [--seconds S] [--retry-after S] [--status C]
                  [--redirect-host H]]
                 [--watch-parent] [--watch-pid PID] [--log FILE]

Listens on 127.0.0.1 only (--listen-port 0 picks a port; it is printed as "127.0.0.1:PORT" on
stdout and written to --port-file once the socket listens). Forwards HEAD/GET/POST/PUT/PATCH/
DELETE to the upstream, streaming bodies both ways (chunked request bodies included) and passing
Range and Host through. Control endpoints (never forwarded, never faulted):

  POST /_proxy/config   JSON {"bearer": {...}|null, "faults": [...], "add_faults": [...]};
                        keys present replace the current ones; answers the new config.
  GET  /_proxy/config   the current config.
  GET  /_proxy/stats    requests per "METHOD path", bytes served per blob digest, a request log,
                        fault counters, token requests, redirect-target hits.
  POST /_proxy/reset    clears the stats and re-arms every fault counter (config is kept).
  GET|POST /token       the bearer token endpoint (see "bearer" below).

Faults (a list; each a JSON object with "mode" and parameters; see tests/harness/README.md):
  rate429        429 + Retry-After: retry_after (default 1; null omits the header)
  err5xx         status (default 503)
  stall          after after_bytes (default 0) of the body, pause `seconds` (default 10), then
                 "then": "continue" (default) or "close"
  drop           after after_bytes, abort the connection (RST)
  tamper         flip (XOR 0xff) the body byte at `offset` (default: the middle)
  truncate       announce the full Content-Length, send after_bytes (default: half), then close
  ignore_range   strip Range/If-Range going upstream: the client gets 200 and the whole body
  redirect_blobs blob GETs get 307 to http://<redirect_host>:<port>/_redirected/<path>, which
                 the proxy serves itself; each hit records whether an Authorization arrived.
                 redirect_host defaults to "localhost" (another host than 127.0.0.1).
Common fault keys: match (regex searched in the path, query excluded), methods (list), count
(fire at most K times; -1 = always; default 1, but -1 for ignore_range and redirect_blobs),
skip (let the first N matching requests through). Defaults for match: "/blobs/sha256:" for the
body faults and redirect_blobs, "^/v2/." for rate429 and err5xx; methods default to GET for the
body faults and redirect_blobs, any method otherwise.

bearer: {"service": "test-registry", "user": U, "password": P, "expires_in": 300, "realm": URL}.
While set, every /v2/ request without a valid token gets 401 with WWW-Authenticate: Bearer
realm="http://127.0.0.1:N/token",service="...",scope="repository:<name>:pull" (pull,push for
writes). /token?service=&scope= (or an OAuth2 POST form) returns {"token","access_token",
"expires_in","issued_at"}; with user/password set it requires that basic auth (else 401).
Tokens are checked for expiry and scope; the client's Authorization is never sent upstream while
bearer is on (--upstream-user adds basic auth towards the upstream).

Python 3 stdlib only. Exits on SIGTERM/SIGINT, and with --watch-parent / --watch-pid when that
process goes away.
"""

import argparse
import base64
import http.client
import http.server
import json
import os
import re
import secrets
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "trailers", "transfer-encoding", "upgrade", "expect"}
REQUEST_MODES = ("rate429", "err5xx", "redirect_blobs")
BODY_MODES = ("stall", "drop", "tamper", "truncate", "ignore_range")
MODES = REQUEST_MODES + BODY_MODES
BLOB_RE = re.compile(r"/blobs/(sha256:[0-9a-f]{64})$")
REPO_RE = re.compile(r"^/v2/(.+?)/(manifests|blobs|tags|referrers)(/|$)")
LOG_CAP = 10000
CHUNK = 64 * 1024


class ConfigError(ValueError):
    pass


def normalise_fault(raw):
    if not isinstance(raw, dict) or raw.get("mode") not in MODES:
        raise ConfigError("a fault needs \"mode\" in %s: %r" % (list(MODES), raw))
    mode = raw["mode"]
    f = dict(raw)
    body_like = mode in BODY_MODES or mode == "redirect_blobs"
    f.setdefault("match", "/blobs/sha256:" if body_like else "^/v2/.")
    f.setdefault("methods", ["GET"] if body_like else None)
    f.setdefault("count", -1 if mode in ("ignore_range", "redirect_blobs") else 1)
    f.setdefault("skip", 0)
    if mode == "rate429":
        f.setdefault("retry_after", 1)
    if mode == "err5xx":
        f.setdefault("status", 503)
    if mode == "stall":
        f.setdefault("after_bytes", 0)
        f.setdefault("seconds", 10)
        f.setdefault("then", "continue")
        if f["then"] not in ("continue", "close"):
            raise ConfigError("stall.then must be continue or close")
    if mode == "drop":
        f.setdefault("after_bytes", 0)
    if mode == "redirect_blobs":
        f.setdefault("redirect_host", "localhost")
    try:
        f["_re"] = re.compile(f["match"])
    except re.error as e:
        raise ConfigError("bad regex %r: %s" % (f["match"], e))
    if f["methods"] is not None:
        f["methods"] = [m.upper() for m in f["methods"]]
    f["_seen"] = 0
    f["_fired"] = 0
    return f


def public_fault(f):
    out = {k: v for k, v in f.items() if not k.startswith("_")}
    out["seen"] = f["_seen"]
    out["fired"] = f["_fired"]
    return out


class State:
    """Config, counters and stats; every access under `lock`."""

    def __init__(self, listen_port):
        self.lock = threading.Lock()
        self.listen_port = listen_port
        self.bearer = None
        self.faults = []
        self.tokens = {}  # token -> (expiry, {repo: set(actions)})
        self.wake = threading.Event()  # set on reset/shutdown: ends stalls early
        self.clear_stats()

    def clear_stats(self):
        self.requests = {}
        self.requests_total = 0
        self.blob_bytes = {}
        self.log = []
        self.token_requests = []
        self.redirects = []

    def apply(self, doc):
        if not isinstance(doc, dict):
            raise ConfigError("config must be a JSON object")
        faults = self.faults
        if "faults" in doc:
            faults = [normalise_fault(f) for f in doc["faults"] or []]
        if "add_faults" in doc:
            faults = faults + [normalise_fault(f) for f in doc["add_faults"] or []]
        bearer = self.bearer
        if "bearer" in doc:
            b = doc["bearer"]
            if b in (None, False):
                bearer = None
            else:
                bearer = {"service": "test-registry", "expires_in": 300, "user": None,
                          "password": None, "realm": None}
                if isinstance(b, dict):
                    bearer.update(b)
        self.faults = faults
        self.bearer = bearer

    def config(self):
        bearer = None
        if self.bearer:
            bearer = dict(self.bearer)
            if bearer.get("password"):
                bearer["password"] = "***"
        return {"bearer": bearer, "faults": [public_fault(f) for f in self.faults]}

    def stats(self):
        return {"requests_total": self.requests_total, "requests": self.requests,
                "blob_bytes": self.blob_bytes, "log": self.log,
                "faults": [public_fault(f) for f in self.faults],
                "token_requests": self.token_requests, "redirects": self.redirects}

    def pick(self, method, path, modes):
        """Counts a match on every rule of `modes` that matches; returns those that fire."""
        fired = []
        for f in self.faults:
            if f["mode"] not in modes:
                continue
            if f["methods"] is not None and method not in f["methods"]:
                continue
            if not f["_re"].search(path):
                continue
            f["_seen"] += 1
            if f["_seen"] <= f["skip"]:
                continue
            if f["count"] != -1 and f["_fired"] >= f["count"]:
                continue
            f["_fired"] += 1
            fired.append(f)
        return fired


def scope_for(method, path):
    m = REPO_RE.match(path)
    if not m:
        return None, None
    actions = "pull" if method in ("GET", "HEAD") else "pull,push"
    return m.group(1), actions


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self):
        return "fault-proxy"

    # -- plumbing ---------------------------------------------------------------------------

    def log_message(self, fmt, *args):
        if self.server.log_file:
            self.server.log_file.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))
            self.server.log_file.flush()

    def do_GET(self):
        self.dispatch()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    @property
    def state(self):
        return self.server.state

    def path_only(self):
        return urllib.parse.urlsplit(self.path).path

    def read_body(self):
        """Whole request body (control endpoints only)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return b"".join(self.iter_chunked())
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def iter_chunked(self):
        while True:
            line = self.rfile.readline(65537)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return
            data = self.rfile.read(size)
            self.rfile.readline(65537)
            yield data

    def reply(self, status, body=b"", headers=None, content_type="application/json",
              fault=None, count=True):
        if isinstance(body, (dict, list)):
            body = (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        if count:
            self.record(status, fault)

    def record(self, status, fault, sent=None):
        """Counts the request in the stats and appends it to the log."""
        path = self.path_only()
        with self.state.lock:
            st = self.state
            st.requests_total += 1
            key = "%s %s" % (self.command, path)
            st.requests[key] = st.requests.get(key, 0) + 1
            if len(st.log) < LOG_CAP:
                auth = self.headers.get("Authorization", "")
                entry = {"method": self.command, "path": path, "status": status,
                         "range": self.headers.get("Range"),
                         "authorization": auth.split(" ")[0].lower() if auth else None,
                         "fault": fault, "time": round(time.time(), 3)}
                if sent is not None:
                    entry["bytes"] = sent
                st.log.append(entry)

    def discard_request_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            for _ in self.iter_chunked():
                pass
        else:
            n = int(self.headers.get("Content-Length") or 0)
            while n > 0:
                data = self.rfile.read(min(n, CHUNK))
                if not data:
                    break
                n -= len(data)

    # -- routing ----------------------------------------------------------------------------

    def dispatch(self):
        path = self.path_only()
        try:
            if path.startswith("/_proxy/"):
                return self.control(path)
            if path == "/token":
                return self.token()
            redirected = path.startswith("/_redirected/")
            if not redirected and not self.authorized(path):
                return
            self.proxy(redirected)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True

    def control(self, path):
        st = self.state
        if path == "/_proxy/config" and self.command == "POST":
            try:
                doc = json.loads(self.read_body() or b"{}")
                with st.lock:
                    st.apply(doc)
                    cfg = st.config()
            except (ValueError, ConfigError) as e:
                return self.reply(400, {"error": str(e)}, count=False)
            return self.reply(200, cfg, count=False)
        if path == "/_proxy/config" and self.command == "GET":
            with st.lock:
                return self.reply(200, st.config(), count=False)
        if path == "/_proxy/stats" and self.command == "GET":
            with st.lock:
                body = (json.dumps(st.stats()) + "\n").encode()
            return self.send_raw(200, body)
        if path == "/_proxy/reset" and self.command == "POST":
            self.read_body()
            with st.lock:
                st.clear_stats()
                for f in st.faults:
                    f["_seen"] = f["_fired"] = 0
                st.wake.set()
                st.wake = threading.Event()
            return self.send_raw(200, b"{}\n")
        self.reply(404, {"error": "unknown control endpoint"}, count=False)

    def send_raw(self, status, body):
        # Control answers are not counted in the stats.
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    # -- bearer auth ------------------------------------------------------------------------

    def realm(self, bearer):
        return bearer.get("realm") or "http://127.0.0.1:%d/token" % self.state.listen_port

    def authorized(self, path):
        with self.state.lock:
            bearer = self.state.bearer
            if not bearer or not path.startswith("/v2"):
                return True
            repo, actions = scope_for(self.command, path)
            auth = self.headers.get("Authorization", "")
            ok = False
            if auth.startswith("Bearer "):
                grant = self.state.tokens.get(auth[7:].strip())
                if grant and grant[0] > time.time():
                    if repo is None:
                        ok = True
                    else:
                        have = grant[1].get(repo, set())
                        ok = all(a in have for a in actions.split(","))
            service = bearer["service"]
            realm = self.realm(bearer)
        if ok:
            return True
        challenge = 'Bearer realm="%s",service="%s"' % (realm, service)
        if repo is not None:
            challenge += ',scope="repository:%s:%s"' % (repo, actions)
        self.discard_request_body()
        self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required",
                                     "detail": None}]},
                   headers={"WWW-Authenticate": challenge})
        return False

    def token(self):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        user = password = None
        if self.command == "POST":  # OAuth2 form (containerd tries this first with credentials)
            form = urllib.parse.parse_qs(self.read_body().decode("utf-8", "replace"))
            query = {**query, **form}
            user = (form.get("username") or [None])[0]
            password = (form.get("password") or [None])[0]
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user = password = None
        scopes = []
        for s in query.get("scope", []):
            scopes.extend(s.split(" "))
        service = (query.get("service") or [""])[0]
        with self.state.lock:
            bearer = self.state.bearer
            if not bearer:
                granted = False
                status = 404
            elif bearer.get("user") and (user != bearer["user"]
                                         or password != bearer.get("password")):
                granted = False
                status = 401
            else:
                granted = True
                status = 200
            self.state.token_requests.append({"method": self.command, "service": service,
                                              "scopes": scopes, "user": user,
                                              "granted": granted})
            if granted:
                grants = {}
                for s in scopes:
                    parts = s.split(":")
                    if len(parts) >= 3 and parts[0] == "repository":
                        grants.setdefault(":".join(parts[1:-1]), set()).update(
                            parts[-1].split(","))
                token = secrets.token_hex(16)
                expires_in = int(bearer.get("expires_in", 300))
                self.state.tokens[token] = (time.time() + expires_in, grants)
        if status == 404:
            return self.reply(404, {"error": "bearer mode is off"})
        if status == 401:
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                                "message": "bad credentials"}]},
                              headers={"WWW-Authenticate": 'Basic realm="test-token"'})
        self.reply(200, {"token": token, "access_token": token, "expires_in": expires_in,
                         "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

    # -- forwarding -------------------------------------------------------------------------

    def proxy(self, redirected):
        path = self.path_only()
        upstream_target = self.path[len("/_redirected"):] if redirected else self.path
        with self.state.lock:
            req_faults = [] if redirected else self.state.pick(
                self.command, path, ("rate429", "err5xx", "redirect_blobs"))
            body_faults = [] if req_faults else self.state.pick(self.command, path, BODY_MODES)
            bearer_on = self.state.bearer is not None
            if redirected:
                self.state.redirects.append({
                    "path": path, "host": self.headers.get("Host"),
                    "authorization": "Authorization" in self.headers})
        if req_faults:
            return self.request_fault(req_faults[0])

        headers = []
        ignore_range = any(f["mode"] == "ignore_range" for f in body_faults)
        for k, v in self.headers.items():
            lk = k.lower()
            if lk in HOP_BY_HOP or lk == "content-length":
                continue
            if ignore_range and lk in ("range", "if-range"):
                continue
            if lk == "authorization" and (bearer_on or redirected):
                continue  # our tokens mean nothing upstream; redirect targets get no creds
            headers.append((k, v))
        if self.server.upstream_auth and not any(k.lower() == "authorization" for k, _ in headers):
            headers.append(("Authorization", self.server.upstream_auth))

        conn = http.client.HTTPConnection(self.server.upstream, timeout=self.server.timeout)
        try:
            conn.putrequest(self.command, upstream_target, skip_host=True,
                            skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
            length = int(self.headers.get("Content-Length") or 0)
            if chunked:
                conn.putheader("Transfer-Encoding", "chunked")
            elif length or self.command in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(length))
            conn.endheaders()
            if chunked:
                for data in self.iter_chunked():
                    conn.send(b"%x\r\n%s\r\n" % (len(data), data))
                conn.send(b"0\r\n\r\n")
            else:
                while length > 0:
                    data = self.rfile.read(min(length, CHUNK))
                    if not data:
                        raise ConnectionResetError("client closed mid-body")
                    conn.send(data)
                    length -= len(data)
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            return self.reply(502, {"error": "upstream: %s" % e})
        try:
            self.relay(resp, body_faults, path)
        finally:
            conn.close()

    def request_fault(self, f):
        self.discard_request_body()
        mode = f["mode"]
        if mode == "rate429":
            headers = {}
            if f.get("retry_after") is not None:
                headers["Retry-After"] = str(f["retry_after"])
            body = {"errors": [{"code": "TOOMANYREQUESTS", "message": "rate limited (fault proxy)",
                                "detail": None}]}
            self.reply(429, body, headers, fault=mode)
        elif mode == "err5xx":
            self.reply(int(f["status"]), {"errors": [{"code": "UNAVAILABLE",
                                                      "message": "injected by fault proxy"}]},
                       fault=mode)
        else:  # redirect_blobs
            location = "http://%s:%d/_redirected%s" % (f["redirect_host"],
                                                       self.state.listen_port, self.path)
            self.reply(307, b"", {"Location": location}, fault=mode)

    def relay(self, resp, faults, path):
        """Streams the upstream response to the client, applying the body faults."""
        length = resp.getheader("Content-Length")
        length = int(length) if length is not None else None
        has_body = self.command != "HEAD" and resp.status not in (204, 304) \
            and not 100 <= resp.status < 200
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        chunked = has_body and length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        blob = BLOB_RE.search(path)
        by_mode = {f["mode"]: f for f in faults}
        sent = 0
        closed = False
        try:
            if has_body:
                tamper_at = None
                if "tamper" in by_mode:
                    tamper_at = by_mode["tamper"].get("offset")
                    if tamper_at is None:
                        tamper_at = (length or 0) // 2
                # Events at body offsets, in order: a stall pauses, drop/truncate end the response.
                events = []
                if "stall" in by_mode:
                    events.append((int(by_mode["stall"]["after_bytes"]), 0, "stall"))
                if "drop" in by_mode:
                    events.append((int(by_mode["drop"]["after_bytes"]), 1, "drop"))
                if "truncate" in by_mode:
                    at = by_mode["truncate"].get("after_bytes")
                    events.append((int((length or 0) // 2 if at is None else at), 1, "truncate"))
                events.sort()
                wake = self.state.wake

                def fire_due():
                    """Handles events due at `sent`; True when the connection was cut."""
                    while events and events[0][0] <= sent:
                        _, _, kind = events.pop(0)
                        if kind == "stall":
                            stall = by_mode["stall"]
                            self.wfile.flush()
                            wake.wait(float(stall["seconds"]))
                            if stall["then"] == "close":
                                self.cut_connection("truncate")
                                return True
                        else:
                            self.cut_connection(kind)
                            return True
                    return False

                closed = fire_due()
                while not closed:
                    data = resp.read(CHUNK)
                    if not data:
                        break
                    if tamper_at is not None and sent <= tamper_at < sent + len(data):
                        b = bytearray(data)
                        b[tamper_at - sent] ^= 0xFF
                        data = bytes(b)
                    while data and not closed:
                        piece = data[:events[0][0] - sent] if events else data
                        self.write_body(piece, chunked)
                        self.count_blob(blob, len(piece))
                        sent += len(piece)
                        data = data[len(piece):]
                        closed = fire_due()
                if not closed and chunked:
                    self.wfile.write(b"0\r\n\r\n")
        finally:
            # Recorded even when the client went away mid-body.
            self.record(resp.status, ",".join(f["mode"] for f in faults) or None, sent)

    def write_body(self, data, chunked):
        if not data:
            return
        if chunked:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.wfile.write(data)

    def count_blob(self, blob, n):
        if blob and n > 0 and self.command == "GET":
            with self.state.lock:
                d = blob.group(1)
                self.state.blob_bytes[d] = self.state.blob_bytes.get(d, 0) + n

    def cut_connection(self, how):
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        sock = self.connection
        try:
            if how == "drop":  # abortive close: the client sees a reset
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            else:  # orderly close: the client sees EOF before Content-Length
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def watch(predicate):
    def loop():
        while predicate():
            time.sleep(0.5)
        os._exit(0)
    threading.Thread(target=loop, daemon=True).start()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--upstream", required=True, help="HOST:PORT of the registry")
    p.add_argument("--listen-port", type=int, required=True, help="0 picks a free port")
    p.add_argument("--port-file", help="write the port here once listening")
    p.add_argument("--upstream-user", help="USER:PASS sent upstream as basic auth")
    p.add_argument("--timeout", type=float, default=60, help="upstream socket timeout (s)")
    p.add_argument("--config", help="initial config: JSON text or @FILE")
    p.add_argument("--bearer", action="store_true", help="turn bearer token auth on")
    p.add_argument("--token-user", help="USER:PASS the token endpoint requires")
    p.add_argument("--service", default="test-registry")
    p.add_argument("--expires-in", type=int, default=300)
    p.add_argument("--mode", choices=MODES, help="one fault, parameters below")
    p.add_argument("--match")
    p.add_argument("--methods", help="comma-separated")
    p.add_argument("--count", type=int)
    p.add_argument("--skip", type=int)
    p.add_argument("--after-bytes", type=int)
    p.add_argument("--offset", type=int)
    p.add_argument("--seconds", type=float)
    p.add_argument("--then", choices=["continue", "close"])
    p.add_argument("--retry-after", type=int)
    p.add_argument("--status", type=int)
    p.add_argument("--redirect-host")
    p.add_argument("--watch-parent", action="store_true", help="exit when the parent exits")
    p.add_argument("--watch-pid", type=int, help="exit when this process exits")
    p.add_argument("--log", help="append one line per request here")
    args = p.parse_args()

    host = args.upstream.rsplit(":", 1)[0].strip("[]")
    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        sys.exit("fault_proxy: upstream must be a loopback address")

    server = Server(("127.0.0.1", args.listen_port), Handler)
    port = server.server_address[1]
    server.state = State(port)
    server.upstream = args.upstream
    server.timeout = args.timeout
    server.upstream_auth = None
    if args.upstream_user:
        server.upstream_auth = "Basic " + base64.b64encode(args.upstream_user.encode()).decode()
    server.log_file = open(args.log, "a") if args.log else None

    doc = {}
    if args.config:
        text = open(args.config[1:]).read() if args.config.startswith("@") else args.config
        doc = json.loads(text)
    if args.bearer or args.token_user:
        bearer = {"service": args.service, "expires_in": args.expires_in}
        if args.token_user:
            bearer["user"], _, bearer["password"] = args.token_user.partition(":")
        doc.setdefault("bearer", bearer)
    if args.mode:
        fault = {"mode": args.mode}
        for key in ("match", "count", "skip", "after_bytes", "offset", "seconds", "then",
                    "retry_after", "status", "redirect_host"):
            if getattr(args, key) is not None:
                fault[key] = getattr(args, key)
        if args.methods:
            fault["methods"] = args.methods.split(",")
        doc["faults"] = list(doc.get("faults", [])) + [fault]
    try:
        server.state.apply(doc)
    except ConfigError as e:
        sys.exit("fault_proxy: %s" % e)

    def stop(*_):
        server.state.wake.set()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.watch_parent:
        parent = os.getppid()
        watch(lambda: os.getppid() == parent)
    if args.watch_pid:
        watch(lambda: pid_alive(args.watch_pid))

    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("127.0.0.1:%d" % port, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
