#!/usr/bin/env python3
"""Push, save and load: imaged vs dockerd 20.10, with the real docker CLI.

A local registry (tests/harness/registry.sh) serves a deterministic fixture (tests/harness/
mkimage.py) as `library/busybox:<tag>`; both daemons use it as their Docker Hub mirror and pull
it once. Then, per subject and run:
  push  `docker push <fresh registry>/bench/busybox:<tag>` (a new registry per run, so every
        blob is uploaded: no HEAD hit, no cross-repository mount)
  save  `docker save busybox:<tag> -o x.tar`
  load  `docker rmi` then `docker load -i` of the subject's own archive
Medians over N runs; the ratio imaged/dockerd is printed per operation (lower is better).

Usage: bench/push_save_load.py [--runs 3] [--imaged build/daemon/imaged] [--size-mb 100]
                               [--no-dockerd]
Needs root for dockerd (scripts/dockerd-side.sh).

Measured (2 shared cores, 100 MB layer, 3 runs): push 1.19 s vs 4.93 s (0.24x), save 0.36 s vs
1.75 s (0.20x), load 1.62 s vs 2.29 s (0.71x).
"""
import argparse
import shutil
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HARNESS = os.path.join(ROOT, "tests", "harness")
DOCKER = shutil.which("docker") or "docker"  # Debian's docker.io: /usr/bin/docker


def sh(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def start_registry(d):
    return sh([os.path.join(HARNESS, "registry.sh"), "start", d]).stdout.strip()


def stop_registry(d):
    subprocess.run([os.path.join(HARNESS, "registry.sh"), "stop", d], capture_output=True)


def wait_socket(path, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("no answer on " + path)


def timed(args, env):
    t = time.monotonic()
    sh(args, env=env)
    return time.monotonic() - t


def bench(name, host, env, tag, runs, tmp):
    docker = [DOCKER, "-H", host]
    sh(docker + ["pull", "busybox:" + tag], env=env)
    out = {"push": [], "save": [], "load": []}
    for i in range(runs):
        rd = os.path.join(tmp, f"{name}-dst{i}")
        dst = start_registry(rd)
        try:
            ref = f"{dst}/bench/busybox:{tag}"
            sh(docker + ["tag", "busybox:" + tag, ref], env=env)
            out["push"].append(timed(docker + ["push", ref], env))
            sh(docker + ["rmi", ref], env=env)
        finally:
            stop_registry(rd)
        tar = os.path.join(tmp, f"{name}-{i}.tar")
        out["save"].append(timed(docker + ["save", "busybox:" + tag, "-o", tar], env))
        sh(docker + ["rmi", "busybox:" + tag], env=env)
        out["load"].append(timed(docker + ["load", "-i", tar], env))
        os.unlink(tar)
    return {k: statistics.median(v) for k, v in out.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--imaged", default=os.path.join(ROOT, "build", "daemon", "imaged"))
    ap.add_argument("--size-mb", type=int, default=100)
    ap.add_argument("--no-dockerd", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="psl-", dir="/tmp")
    env = dict(os.environ, DOCKER_CONFIG=os.path.join(tmp, "dc"))
    mirror_dir = os.path.join(tmp, "mirror")
    mirror = start_registry(mirror_dir)
    procs = []
    try:
        sh([sys.executable, os.path.join(HARNESS, "mkimage.py"), "big", "--registry", mirror,
            "--size-mb", str(a.size_mb)])
        tag = "big"
        sock = os.path.join(tmp, "i.sock")
        p = subprocess.Popen([a.imaged, "-H", "unix://" + sock, "--data-root",
                              os.path.join(tmp, "iroot"), "--registry-mirror", "http://" + mirror,
                              "--insecure-registry", mirror],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "imaged.log"), "w"))
        procs.append(p)
        wait_socket(sock)
        results = {"imaged": bench("imaged", "unix://" + sock, env, tag, a.runs, tmp)}
        if not a.no_dockerd:
            dd = os.path.join(tmp, "dd")
            dsock = sh([os.path.join(ROOT, "scripts", "dockerd-side.sh"), "start", dd,
                        mirror]).stdout.strip()
            try:
                results["dockerd"] = bench("dockerd", "unix://" + dsock, env, tag, a.runs, tmp)
            finally:
                subprocess.run([os.path.join(ROOT, "scripts", "dockerd-side.sh"), "stop", dd],
                               capture_output=True)
        print(f"image: one ~{a.size_mb} MB layer; median of {a.runs} runs (seconds)")
        for op in ("push", "save", "load"):
            line = f"  {op:5} imaged {results['imaged'][op]:7.3f}"
            if "dockerd" in results:
                d = results["dockerd"][op]
                line += f"   dockerd {d:7.3f}   ratio {results['imaged'][op] / d:5.2f}x"
            print(line)
        print(json.dumps(results))
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=30)
        stop_registry(mirror_dir)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
