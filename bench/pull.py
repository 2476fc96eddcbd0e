#!/usr/bin/env python3
"""Pull throughput: imaged vs dockerd vs `curl | sha256sum` of the same blobs.

A local registry (tests/harness/registry.sh) serves deterministic fixtures (tests/harness/
mkimage.py) as `library/busybox:<tag>`; both daemons use it as their Docker Hub mirror and pull
`busybox:<tag>` with the real docker CLI. Images:

  musl      busybox, one 1 MB layer                 (mkimage seed)
  big       one ~200 MB layer                        (mkimage big --size-mb 200)
  layers8   8 layers, ~400 MB in total               (mkimage layers8 --layer-size 57M)
  layers50  50 small layers                          (mkimage layers50)

For each image and subject, N runs (median reported); the image is removed between runs (`docker
rmi`; for imaged the script also checks that its blobs and ingests are gone). The baseline fetches
the manifest, the config and every layer with curl, 3 at a time like the daemons'
max-concurrent-downloads, each piped into sha256sum.

Targets: imaged <= 0.5x dockerd and <= 1.3x the curl + sha256sum baseline.

Usage: bench/pull.py [--runs 5] [--imaged build/daemon/imaged] [--images musl,big,...]
                     [--no-dockerd] [--cache-dir DIR]
Needs root for dockerd (scripts/dockerd-side.sh).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HARNESS = os.path.join(ROOT, "tests", "harness")

IMAGES = {
    "musl": ("seed", ["--tag", "musl"]),
    "big": ("big", ["--tag", "big", "--size-mb", "200"]),
    "layers8": ("layers8", ["--tag", "layers8", "--layer-size", "57M"]),
    "layers50": ("layers50", ["--tag", "layers50"]),
}


def sh(argv, **kw):
    return subprocess.run(argv, check=True, text=True, capture_output=True, **kw)


def ping(sock_path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect(sock_path)
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            return s.recv(4096).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


class Imaged:
    name = "imaged"

    def __init__(self, binary, workdir, mirror):
        self.dir = os.path.join(workdir, "imaged")
        os.makedirs(self.dir)
        self.sock = os.path.join(self.dir, "imaged.sock")
        self.root = os.path.join(self.dir, "root")
        self.log = open(os.path.join(self.dir, "imaged.log"), "w")
        self.proc = subprocess.Popen(
            [binary, "-H", f"unix://{self.sock}", "--data-root", self.root,
             "--registry-mirror", f"http://{mirror}", "--insecure-registry", mirror],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 30
        while not ping(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("imaged did not start; see " + self.log.name)
            time.sleep(0.01)
        self.host = f"unix://{self.sock}"

    def clean(self, ref):
        docker(self.host, "rmi", ref, check=False)
        # Nothing of the image may stay: no layer blobs, no partial downloads.
        blobs = os.path.join(self.root, "blobs", "sha256")
        left = [b for b in os.listdir(blobs)] if os.path.isdir(blobs) else []
        ingest = os.path.join(self.root, "ingest")
        partial = [i for i in os.listdir(ingest)] if os.path.isdir(ingest) else []
        if left or partial:
            raise RuntimeError(f"imaged kept {len(left)} blobs and {len(partial)} ingests after rmi")

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class Dockerd:
    name = "dockerd"

    def __init__(self, workdir, mirror):
        self.dir = os.path.join(workdir, "dockerd")
        os.makedirs(self.dir)
        out = sh([os.path.join(ROOT, "scripts", "dockerd-side.sh"), "start", self.dir, mirror])
        self.host = "unix://" + out.stdout.strip().splitlines()[-1]

    def clean(self, ref):
        docker(self.host, "rmi", ref, check=False)
        docker(self.host, "image", "prune", "-f", check=False)

    def stop(self):
        subprocess.run([os.path.join(ROOT, "scripts", "dockerd-side.sh"), "stop", self.dir],
                       capture_output=True)


def docker(host, *args, check=True):
    env = dict(os.environ, DOCKER_HOST=host, DOCKER_CONFIG=tempfile.gettempdir() + "/bench-docker-config")
    r = subprocess.run(["docker", *args], env=env, text=True, capture_output=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {r.stderr.strip()}")
    return r


def time_pull(subject, ref):
    subject.clean(ref)
    t0 = time.perf_counter()
    docker(subject.host, "pull", ref)
    return time.perf_counter() - t0


def curl_hash(registry, summary):
    """curl | sha256sum of manifest, config and layers (3 at a time); returns seconds."""
    repo = summary["repo"]
    blobs = [summary["config_digest"]] + [l["digest"] for l in summary["layers"]]
    t0 = time.perf_counter()
    sh(["sh", "-c", f"curl -sf -H 'Accept: {summary['media_type']}' "
        f"http://{registry}/v2/{repo}/manifests/{summary['tag']} | sha256sum >/dev/null"])
    script = (f"curl -sf http://{registry}/v2/{repo}/blobs/$0 | sha256sum | "
              "grep -q ${0#sha256:} || { echo bad $0 >&2; exit 1; }")
    subprocess.run(["xargs", "-P", "3", "-n", "1", "sh", "-c", script], input="\n".join(blobs),
                   text=True, check=True)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--imaged", default=os.path.join(ROOT, "build", "daemon", "imaged"))
    ap.add_argument("--images", default="musl,big,layers8,layers50")
    ap.add_argument("--no-dockerd", action="store_true")
    ap.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "imaged-bench-cache"))
    args = ap.parse_args()
    names = args.images.split(",")

    work = tempfile.mkdtemp(prefix="imaged-pull-bench-", dir="/tmp")
    registry = sh([os.path.join(HARNESS, "registry.sh"), "start", os.path.join(work, "registry"),
                   "--watch-pid", str(os.getpid())]).stdout.strip().splitlines()[-1]
    subjects = []
    try:
        summaries = {}
        for name in names:
            fixture, extra = IMAGES[name]
            out = sh([os.path.join(HARNESS, "mkimage.py"), "--registry", registry, fixture,
                      "--cache-dir", args.cache_dir, *extra])
            summaries[name] = json.loads(out.stdout)["images"][0]
            s = summaries[name]
            print(f"# {name}: {len(s['layers'])} layers, {s['total_size'] / 1e6:.1f} MB compressed, "
                  f"{s['total_uncompressed_size'] / 1e6:.1f} MB uncompressed", flush=True)

        subjects.append(Imaged(os.path.abspath(args.imaged), work, registry))
        if not args.no_dockerd and shutil.which("dockerd"):
            subjects.append(Dockerd(work, registry))

        results = {}
        for name in names:
            ref = f"busybox:{summaries[name]['tag']}"
            row = {}
            row["curl+sha256sum"] = statistics.median(
                curl_hash(registry, summaries[name]) for _ in range(args.runs))
            for subject in subjects:
                times = [time_pull(subject, ref) for _ in range(args.runs)]
                row[subject.name] = statistics.median(times)
                subject.clean(ref)
            results[name] = row
            cells = "  ".join(f"{k} {v:7.3f}s" for k, v in row.items())
            ratios = f"imaged/curl {row['imaged'] / row['curl+sha256sum']:5.2f}x (<= 1.3)"
            if "dockerd" in row:
                ratios += f"  imaged/dockerd {row['imaged'] / row['dockerd']:5.2f}x (<= 0.5)"
            print(f"{name:9s} {cells}   {ratios}", flush=True)
        print(json.dumps({"runs": args.runs, "medians_s": results}))
    finally:
        for s in subjects:
            s.stop()
        subprocess.run([os.path.join(HARNESS, "registry.sh"), "stop", os.path.join(work, "registry")],
                       capture_output=True)
        subprocess.run(["umount", "-R", os.path.join(work, "dockerd", "exec")], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
