#!/usr/bin/env python3
"""Start-up time and idle memory: imaged vs dockerd, side by side.

For each daemon, N times: exec it on a fresh data root and socket, measure the time from exec to
the first successful `GET /_ping` over the Unix socket, let it settle, read the resident memory
(dockerd counted together with the containerd it starts), stop it. Prints medians and ratios.

Usage: bench/startup.py [--runs 5] [--imaged build/daemon/imaged] [--no-dockerd]
Needs root for dockerd (Debian's docker.io; scripts/install-deps.sh --bench installs it).
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def ping(sock_path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect(sock_path)
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = s.recv(4096)
            return data.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def rss_kib(pid):
    """Resident memory of pid and all its descendants, in KiB."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{p}/task/{p}/children") as f:
                pids += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return total


def measure(argv_for, sock_name, settle):
    d = tempfile.mkdtemp(prefix="imaged-bench-")
    sock = os.path.join(d, sock_name)
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv_for(d, sock), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = t0 + 60
        while not ping(sock):
            if proc.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"{argv_for(d, sock)[0]} did not start")
            time.sleep(0.0005)
        startup = time.perf_counter() - t0
        time.sleep(settle)
        rss = rss_kib(proc.pid)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        return startup, rss
    finally:
        subprocess.run(["umount", "-R", os.path.join(d, "exec")], stderr=subprocess.DEVNULL)
        shutil.rmtree(d, ignore_errors=True)


def imaged_argv(binary):
    return lambda d, sock: [binary, "-H", f"unix://{sock}", "--data-root", f"{d}/data"]


def dockerd_argv(d, sock):
    return ["dockerd", "-H", f"unix://{sock}", "--data-root", f"{d}/data", "--exec-root",
            f"{d}/exec", "--pidfile", f"{d}/pid", "--iptables=false", "--bridge=none"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--imaged", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                     "daemon", "imaged"))
    ap.add_argument("--settle", type=float, default=2.0, help="seconds idle before reading RSS")
    ap.add_argument("--no-dockerd", action="store_true")
    args = ap.parse_args()

    rows = {}
    subjects = [("imaged", imaged_argv(os.path.abspath(args.imaged)), "imaged.sock")]
    if not args.no_dockerd and shutil.which("dockerd"):
        subjects.append(("dockerd", dockerd_argv, "docker.sock"))
    for name, argv_for, sock_name in subjects:
        runs = [measure(argv_for, sock_name, args.settle) for _ in range(args.runs)]
        rows[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
        print(f"{name:8s} start-to-ping median {rows[name][0] * 1000:9.1f} ms   "
              f"idle RSS median {rows[name][1] / 1024:8.1f} MiB   (runs={args.runs})")
    if "dockerd" in rows:
        (ti, mi), (td, md) = rows["imaged"], rows["dockerd"]
        print(f"ratio    start-up dockerd/imaged = {td / ti:6.1f}x (target >= 20x)   "
              f"memory dockerd/imaged = {md / mi:6.1f}x (target >= 10x)")


if __name__ == "__main__":
    sys.exit(main())
