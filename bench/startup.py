#!/usr/bin/env python3
"""Start-up time and idle memory: imaged vs dockerd, side by side.

For each daemon, N times: exec it on a fresh data root and socket, measure the time from exec to
the first successful `GET /_ping` over the Unix socket, let it settle, read the resident memory
(dockerd counted together with the containerd it starts), stop it. Then the same for a restart on
a data root a previous start created (the usual case: boot, upgrade, crash restart). Prints
medians and ratios.

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


def memory_kib(pid):
    """(RSS, PSS) of pid and all its descendants, in KiB. RSS counts every shared-library page in
    full; PSS divides shared pages among the processes mapping them, so it is what the process
    really costs the machine (dockerd is mostly one static Go binary: its PSS is close to its
    RSS; imaged maps libcurl, OpenSSL, SQLite, libarchive ... shared with the rest of the system)."""
    rss = pss = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
            with open(f"/proc/{p}/task/{p}/children") as f:
                pids += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return rss, pss


def start(argv, sock):
    """Execs argv and waits for its first successful ping: (process, seconds)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = t0 + 60
    while not ping(sock):
        if proc.poll() is not None or time.perf_counter() > deadline:
            raise RuntimeError(f"{argv[0]} did not start")
        time.sleep(0.0005)
    return proc, time.perf_counter() - t0


def stop(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def measure(argv_for, sock_name, settle, warm):
    """One start: on a fresh data root (cold), or on one a previous start created (warm: a
    restart, as after a reboot or an upgrade). Returns (seconds to first ping, RSS, PSS)."""
    d = tempfile.mkdtemp(prefix="imaged-bench-")
    sock = os.path.join(d, sock_name)
    try:
        if warm:
            stop(start(argv_for(d, sock), sock)[0])
        proc, startup = start(argv_for(d, sock), sock)
        time.sleep(settle)
        rss, pss = memory_kib(proc.pid)
        stop(proc)
        return startup, rss, pss
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

    subjects = [("imaged", imaged_argv(os.path.abspath(args.imaged)), "imaged.sock")]
    if not args.no_dockerd and shutil.which("dockerd"):
        subjects.append(("dockerd", dockerd_argv, "docker.sock"))
    for warm in (False, True):
        kind = "warm (restart on an existing data root)" if warm else "cold (fresh data root)"
        print(f"-- {kind}")
        rows = {}
        for name, argv_for, sock_name in subjects:
            settle = args.settle if not warm else 0.2  # memory is read on the cold runs
            runs = [measure(argv_for, sock_name, settle, warm) for _ in range(args.runs)]
            rows[name] = tuple(statistics.median(r[i] for r in runs) for i in range(3))
            t, rss, pss = rows[name]
            mem = "" if warm else f"   idle RSS {rss / 1024:7.1f} MiB   PSS {pss / 1024:7.1f} MiB"
            print(f"{name:8s} start-to-ping median {t * 1000:8.1f} ms{mem}   (median of {args.runs})")
        if "dockerd" in rows:
            (ti, ri, pi), (td, rd, pd) = rows["imaged"], rows["dockerd"]
            mem = "" if warm else (f"   RSS {rd / ri:5.1f}x   PSS {pd / pi:5.1f}x "
                                   "(target >= 10x)")
            print(f"ratio dockerd/imaged: start-up {td / ti:5.1f}x (target >= 20x){mem}")


if __name__ == "__main__":
    sys.exit(main())
