#!/usr/bin/env python3
"""Tag, list and inspect with 10,000 tags: imaged vs dockerd 20.10, through the Engine API.

A local registry (tests/harness/registry.sh) serves the `seed` fixture as library/busybox:musl;
both daemons use it as their Docker Hub mirror and pull it (POST /images/create). Then, on each
daemon, over one keep-alive connection to its Unix socket (API /v1.41, dockerd 20.10's maximum):
  tag      POST /images/busybox:musl/tag?repo=bench/app&tag=tN for N = 0..9999 (sequential;
           mean and p99 per request, tags/s)
  list     GET /images/json (one image carrying 10,001 tags), median of --runs
  list-ref GET /images/json?filters={"reference":{"bench/app:t99*":true}} (narrowed to 111 tags)
  inspect  GET /images/busybox:musl/json (RepoTags has 10,001 entries), median of --runs
  inspect-id GET /images/<short id>/json
  retag    moving 1,000 existing tags to the same image again (dockerd: no-op path too)
Results are checked (10,002 RepoTags; 111 after narrowing) and printed side by side with the
ratio dockerd/imaged (higher is better for imaged; the target is >= 10x).

Usage: bench/list_tag_inspect.py [--tags 10000] [--runs 20] [--imaged build-images/daemon/imaged]
                                 [--no-dockerd]
Needs root for dockerd (scripts/dockerd-side.sh).
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HARNESS = os.path.join(ROOT, "tests", "harness")


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=600):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s


class Api:
    def __init__(self, sock):
        self.sock = sock
        self.conn = UnixConnection(sock)

    def call(self, method, path, want=200):
        self.conn.request(method, "/v1.41" + path, headers={"Content-Length": "0"}
                          if method == "POST" else {})
        r = self.conn.getresponse()
        body = r.read()
        if r.status != want:
            raise SystemExit(f"{method} {path} on {self.sock}: {r.status} {body[:300]!r}")
        return body

    def timed(self, method, path, want=200):
        t = time.perf_counter()
        body = self.call(method, path, want)
        return time.perf_counter() - t, body


def sh(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def wait_ping(path, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            c = UnixConnection(path, timeout=2)
            c.request("GET", "/_ping")
            if c.getresponse().read() == b"OK":
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit("no answer on " + path)


def pull(api):
    api.call("POST", "/images/create?fromImage=" + urllib.parse.quote("docker.io/library/busybox",
                                                                    safe="") + "&tag=musl")


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def bench(api, tags, runs):
    out = {}
    # 1. Tags, sequential, one connection.
    lat = []
    t0 = time.perf_counter()
    for i in range(tags):
        dt, _ = api.timed("POST", f"/images/busybox:musl/tag?repo=bench%2Fapp&tag=t{i}", 201)
        lat.append(dt)
    total = time.perf_counter() - t0
    out["tag"] = {"mean": statistics.mean(lat), "p99": pct(lat, 99), "rate": tags / total}
    # 2. List with every tag on one image.
    api.call("GET", "/images/json")  # warm
    lat = []
    for _ in range(runs):
        dt, body = api.timed("GET", "/images/json")
        lat.append(dt)
    images = json.loads(body)
    n = sum(len(i["RepoTags"] or []) for i in images)
    assert n == tags + 1, f"{n} tags listed, expected {tags + 1}"
    out["list"] = {"median": statistics.median(lat), "p99": pct(lat, 99)}
    # 3. List narrowed by a reference filter.
    f = urllib.parse.quote(json.dumps({"reference": {"bench/app:t99*": True}}))
    lat = []
    for _ in range(runs):
        dt, body = api.timed("GET", "/images/json?filters=" + f)
        lat.append(dt)
    n = sum(len(i["RepoTags"] or []) for i in json.loads(body))
    want = len([i for i in range(tags) if str(i).startswith("99")])
    assert n == want, f"{n} tags after narrowing, expected {want}"
    out["list-ref"] = {"median": statistics.median(lat), "p99": pct(lat, 99)}
    # 4. Inspect by name and by short ID.
    for name, path in (("inspect", "/images/busybox:musl/json"),
                       ("inspect-id", "/images/" + images[0]["Id"][7:19] + "/json")):
        lat = []
        for _ in range(runs * 5):
            dt, body = api.timed("GET", path)
            lat.append(dt)
        assert len(json.loads(body)["RepoTags"]) == tags + 1
        out[name] = {"median": statistics.median(lat), "p99": pct(lat, 99)}
    # 5. Re-tag 1,000 existing tags (the tag already points there).
    lat = []
    for i in range(min(1000, tags)):
        dt, _ = api.timed("POST", f"/images/busybox:musl/tag?repo=bench%2Fapp&tag=t{i}", 201)
        lat.append(dt)
    out["retag"] = {"mean": statistics.mean(lat), "p99": pct(lat, 99)}
    return out


def fmt_ms(s):
    return f"{s * 1000:9.3f} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tags", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--imaged", default=os.path.join(ROOT, "build-images", "daemon", "imaged"))
    ap.add_argument("--no-dockerd", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(args.imaged):
        args.imaged = os.path.join(ROOT, "build", "daemon", "imaged")

    tmp = tempfile.mkdtemp(prefix="ltib.", dir="/tmp")
    reg_dir, d_dir = os.path.join(tmp, "reg"), os.path.join(tmp, "d")
    imaged = None
    results = {}
    try:
        reg = sh([os.path.join(HARNESS, "registry.sh"), "start", reg_dir]).stdout.strip()
        sh([os.path.join(HARNESS, "mkimage.py"), "--registry", reg, "seed"])
        isock = os.path.join(tmp, "imaged.sock")
        imaged = subprocess.Popen(
            [args.imaged, "-H", "unix://" + isock, "--data-root", os.path.join(tmp, "iroot"),
             "--registry-mirror", "http://" + reg, "--insecure-registry", reg],
            stderr=open(os.path.join(tmp, "imaged.log"), "w"))
        wait_ping(isock)
        subjects = [("imaged", isock)]
        if not args.no_dockerd:
            dsock = sh([os.path.join(ROOT, "scripts", "dockerd-side.sh"), "start", d_dir,
                        reg]).stdout.strip()
            subjects.insert(0, ("dockerd", dsock))
        for name, sock in subjects:
            api = Api(sock)
            pull(api)
            print(f"[{name}] tagging {args.tags}...", file=sys.stderr, flush=True)
            results[name] = bench(api, args.tags, args.runs)
    finally:
        if imaged:
            imaged.terminate()
            imaged.wait()
        if not args.no_dockerd:
            subprocess.run([os.path.join(ROOT, "scripts", "dockerd-side.sh"), "stop", d_dir],
                           capture_output=True)
        subprocess.run([os.path.join(HARNESS, "registry.sh"), "stop", reg_dir],
                       capture_output=True)
        subprocess.run(["rm", "-rf", tmp])

    rows = [("tag (mean/request)", "tag", "mean"), ("tag (p99)", "tag", "p99"),
            ("list 10k tags (median)", "list", "median"), ("list 10k tags (p99)", "list", "p99"),
            ("list reference=t99* (median)", "list-ref", "median"),
            ("inspect by name (median)", "inspect", "median"),
            ("inspect by short ID (median)", "inspect-id", "median"),
            ("re-tag existing (mean)", "retag", "mean")]
    names = list(results)
    print(f"{args.tags} tags on one image, API v1.41, one keep-alive connection per daemon")
    print(f"{'operation':32}" + "".join(f"{n:>14}" for n in names) +
          ("      ratio dockerd/imaged" if len(names) == 2 else ""))
    for label, key, stat in rows:
        vals = [results[n][key][stat] for n in names]
        line = f"{label:32}" + "".join(f"{fmt_ms(v):>14}" for v in vals)
        if len(names) == 2:
            line += f"      {vals[0] / vals[1]:8.1f}x"
        print(line)
    line = f"{'tags/s':32}" + "".join(f"{results[n]['tag']['rate']:14.0f}" for n in names)
    if len(names) == 2:
        line += f"      {results['imaged']['tag']['rate'] / results['dockerd']['tag']['rate']:8.1f}x"
    print(line)


if __name__ == "__main__":
    main()
