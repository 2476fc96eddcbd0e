#!/usr/bin/env python3
"""docker run: imaged vs dockerd 20.10, with the real docker CLI.

A local registry (tests/harness/registry.sh) serves deterministic fixtures (tests/harness/
mkimage.py): the seed's busybox:musl (one ~1 MB layer) and busybox:big (one layer of --size-mb).
Both daemons use it as their Docker Hub mirror and pull both once. Then, per image and run, the
time of `docker run --rm <image> echo hi` (create, attach, wait, start, output, exit, removal),
and of `docker run -d` + `docker stop -t 0` + `docker rm` for the seed image. Medians and the
ratio imaged/dockerd (lower is better).

Usage: bench/run.py [--runs 10] [--imaged build/daemon/imaged] [--size-mb 100] [--no-dockerd]
Needs root (containers; dockerd via scripts/dockerd-side.sh).

Measured (2 shared cores, 10 runs): run --rm busybox:musl 0.023 s vs 0.153 s (0.15x), with a
100 MB layer 0.025 s vs 0.132 s (0.19x), run -d + stop -t 0 + rm 0.049 s vs 0.175 s (0.28x).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HARNESS = os.path.join(ROOT, "tests", "harness")
DOCKER = shutil.which("docker") or "docker"


def sh(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def registry(action, d):
    return sh([os.path.join(HARNESS, "registry.sh"), action, d]).stdout.strip()


def timed(args, env):
    t = time.monotonic()
    out = sh(args, env=env).stdout
    return time.monotonic() - t, out


def bench(host, env, runs):
    docker = [DOCKER, "-H", host]
    for tag in ("musl", "big"):
        sh(docker + ["pull", "busybox:" + tag], env=env)
    results = {}
    for tag in ("musl", "big"):
        times = []
        for _ in range(runs):
            t, out = timed(docker + ["run", "--rm", "busybox:" + tag, "echo", "hi"], env)
            assert out == "hi\n", out
            times.append(t)
        results[f"run --rm ({tag})"] = statistics.median(times)
    times = []
    for _ in range(runs):
        t0 = time.monotonic()
        cid = sh(docker + ["run", "-d", "busybox:musl", "sh", "-c", "busybox sleep 60"],
                 env=env).stdout.strip()
        sh(docker + ["stop", "-t", "0", cid], env=env)
        sh(docker + ["rm", cid], env=env)
        times.append(time.monotonic() - t0)
    results["run -d/stop/rm (musl)"] = statistics.median(times)
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--imaged", default=os.path.join(ROOT, "build", "daemon", "imaged"))
    ap.add_argument("--size-mb", type=int, default=100)
    ap.add_argument("--no-dockerd", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="brun-", dir="/tmp")
    env = dict(os.environ, DOCKER_CONFIG=os.path.join(tmp, "dc"))
    mirror_dir = os.path.join(tmp, "mirror")
    mirror = registry("start", mirror_dir)
    imaged = None
    try:
        for fixture in (["seed"], ["big", "--size-mb", str(a.size_mb)]):
            sh([sys.executable, os.path.join(HARNESS, "mkimage.py"), "--registry", mirror] + fixture)
        sock = os.path.join(tmp, "i.sock")
        imaged = subprocess.Popen(
            [a.imaged, "-H", "unix://" + sock, "--data-root", os.path.join(tmp, "iroot"),
             "--registry-mirror", "http://" + mirror, "--insecure-registry", mirror],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "imaged.log"), "w"))
        deadline = time.time() + 20
        while not os.path.exists(sock) and time.time() < deadline:
            time.sleep(0.02)
        results = {"imaged": bench("unix://" + sock, env, a.runs)}
        if not a.no_dockerd:
            dd = os.path.join(tmp, "dd")
            dsock = sh([os.path.join(ROOT, "scripts", "dockerd-side.sh"), "start", dd,
                        mirror]).stdout.strip()
            try:
                results["dockerd"] = bench("unix://" + dsock, env, a.runs)
            finally:
                subprocess.run([os.path.join(ROOT, "scripts", "dockerd-side.sh"), "stop", dd],
                               capture_output=True)
        print(f"median of {a.runs} runs (seconds); big = one ~{a.size_mb} MB layer")
        for op, t in results["imaged"].items():
            line = f"  {op:24} imaged {t:7.3f}"
            if "dockerd" in results:
                d = results["dockerd"][op]
                line += f"   dockerd {d:7.3f}   ratio {t / d:5.2f}x"
            print(line)
        print(json.dumps(results))
    finally:
        if imaged:
            imaged.terminate()
            imaged.wait(timeout=30)
        registry("stop", mirror_dir)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
