#!/usr/bin/env python3
"""Builds container-image fixtures offline and pushes them to a registry (distribution HTTP API).

Usage:
  mkimage.py --registry 127.0.0.1:PORT [--user USER:PASS] SET [options]
  mkimage.py --no-push SET [options]          # build only, print the same summary

Sets: seed oci zstd plain multiarch layers8 layers50 big all  (see tests/harness/README.md).

Every byte is deterministic: tar entries have fixed order, mtime, uid/gid, modes and no user
names; gzip has mtime 0 and no file name; JSON is serialised with a fixed key order. Digests thus
depend only on the options and on /bin/busybox (Debian's busybox-static) — the same on every
machine that has the same busybox package.

Stdout: one JSON document {"registry": ..., "set": ..., "images": [summary, ...]}.
Only loopback registries are accepted. Python 3 stdlib plus the `zstd` CLI for the zstd set.
"""

import argparse
import base64
import hashlib
import http.client
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import zlib

# ---------------------------------------------------------------------------------------------
# Media types

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}

FIXED_MTIME = 1704067200  # 2024-01-01T00:00:00Z
FIXED_CREATED = "2024-01-01T00:00:00Z"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
APPLETS = ("sh", "echo", "ls")


def log(args, msg):
    if args.verbose:
        print("mkimage: " + msg, file=sys.stderr, flush=True)


def die(msg):
    print("mkimage: error: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def parse_size(text):
    m = re.fullmatch(r"(\d+)([KkMmGg]?)(i?[Bb])?", text.strip())
    if not m:
        raise argparse.ArgumentTypeError("bad size: " + text)
    mult = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]
    return int(m.group(1)) * mult


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# Deterministic content


class PatternFile:
    """Readable file of `size` deterministic bytes; in every 64 KiB block, `random_percent` %
    are SHAKE-256 output of (seed, block index) — incompressible, identical on every machine —
    and the rest a fixed text, so deflate has some real work."""

    BLOCK = 64 * 1024
    _TEXT = b"".join(b"line %06d: the quick brown fox jumps over the lazy dog\n" % i
                     for i in range(2000))[:BLOCK]

    def __init__(self, seed, size, random_percent=100):
        self.seed = seed.encode() if isinstance(seed, str) else seed
        self.size = size
        self.random_len = self.BLOCK * max(0, min(100, random_percent)) // 100
        self.pos = 0
        self.buf = b""
        self.block = 0

    def _next_block(self):
        rnd = hashlib.shake_256(self.seed + self.block.to_bytes(8, "big")).digest(self.random_len) \
            if self.random_len else b""
        self.block += 1
        return rnd + self._TEXT[:self.BLOCK - self.random_len]

    def read(self, n=-1):
        left = self.size - self.pos
        if n is None or n < 0 or n > left:
            n = left
        out = []
        while n > 0:
            if not self.buf:
                self.buf = self._next_block()
            take = self.buf[:n]
            self.buf = self.buf[len(take):]
            out.append(take)
            n -= len(take)
            self.pos += len(take)
        return b"".join(out)


class LayerWriter:
    """File-like sink for tarfile: hashes the tar (diff_id), counts it, compresses it into
    `path` (gzip via zlib with a fixed header, zstd via the CLI, or none)."""

    def __init__(self, path, compression, gzip_level, zstd_level):
        self.path = path
        self.compression = compression
        self.tar_sha = hashlib.sha256()
        self.tar_size = 0
        self.out = open(path, "wb")
        self.proc = None
        if compression == "gzip":
            # RFC 1952 header: no name, mtime 0, XFL 0, OS 255 (unknown) — like Go and Python.
            self.out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")
            self.deflate = zlib.compressobj(gzip_level, zlib.DEFLATED, -15, 8)
            self.crc = 0
        elif compression == "zstd":
            if not shutil.which("zstd"):
                die("the zstd CLI is missing (apt-get install zstd)")
            self.proc = subprocess.Popen(
                ["zstd", "-q", "-c", "--no-progress", "-%d" % zstd_level, "-T1"],
                stdin=subprocess.PIPE, stdout=self.out)

    def write(self, data):
        data = bytes(data)
        self.tar_sha.update(data)
        self.tar_size += len(data)
        if self.compression == "gzip":
            self.crc = zlib.crc32(data, self.crc)
            self.out.write(self.deflate.compress(data))
        elif self.compression == "zstd":
            self.proc.stdin.write(data)
        else:
            self.out.write(data)
        return len(data)

    def close(self):
        if self.compression == "gzip":
            self.out.write(self.deflate.flush())
            self.out.write(self.crc.to_bytes(4, "little"))
            self.out.write((self.tar_size & 0xFFFFFFFF).to_bytes(4, "little"))
        elif self.compression == "zstd":
            self.proc.stdin.close()
            if self.proc.wait() != 0:
                die("zstd failed")
        self.out.close()


def tar_entry(name, kind, mode, size=0, target=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.linkname = target
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def file_sha256(path):
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
            size += len(chunk)
    return "sha256:" + h.hexdigest(), size


class Blobs:
    """Blob files in a work directory, by digest."""

    def __init__(self, workdir):
        self.dir = workdir
        self.counter = 0

    def add_bytes(self, data):
        digest = sha256_digest(data)
        path = os.path.join(self.dir, digest.replace(":", "_"))
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
        return digest, len(data), path

    def build_layer(self, args, key, params, members_fn, compression):
        """Builds (or, with --cache-dir, reuses) one layer. `params` names everything the bytes
        depend on besides the compression settings; members_fn() yields (TarInfo, fileobj)."""
        ident = json.dumps([key, params, compression, args.gzip_level, args.zstd_level,
                            busybox_digest(args)])
        index = os.path.join(self.dir, "layer-%s.json" % hashlib.sha256(ident.encode()).hexdigest())
        if args.cache_dir and os.path.exists(index):
            with open(index) as f:
                record = json.load(f)
            if os.path.exists(record["path"]) and os.path.getsize(record["path"]) == record["size"] \
                    and "unpacked_size" in record:
                log(args, "layer %s: %s (cached)" % (key, record["digest"]))
                return record
        self.counter += 1
        tmp = os.path.join(self.dir, "layer-%d-%d.tmp" % (os.getpid(), self.counter))
        writer = LayerWriter(tmp, compression, args.gzip_level, args.zstd_level)
        unpacked = 0  # dockerd's DiffSize: file sizes + symlink target lengths (no hard links here)
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.USTAR_FORMAT) as tar:
            for info, fileobj in members_fn():
                unpacked += info.size if info.isreg() else len(info.linkname) if info.issym() else 0
                tar.addfile(info, fileobj)
                if hasattr(fileobj, "close"):
                    fileobj.close()
        writer.close()
        digest, size = file_sha256(tmp)
        path = os.path.join(self.dir, digest.replace(":", "_"))
        os.replace(tmp, path)
        log(args, "layer %s: %s (%d bytes, tar %d bytes)" % (key, digest, size, writer.tar_size))
        record = {
            "digest": digest, "size": size, "path": path, "compression": compression,
            "diff_id": "sha256:" + writer.tar_sha.hexdigest(),
            "uncompressed_size": writer.tar_size, "unpacked_size": unpacked,
            "created_by": members_label(key),
        }
        if args.cache_dir:
            with open(index + ".tmp", "w") as f:
                json.dump(record, f)
            os.replace(index + ".tmp", index)
        return record


_BUSYBOX_DIGEST = {}


def busybox_digest(args):
    if args.busybox not in _BUSYBOX_DIGEST:
        _BUSYBOX_DIGEST[args.busybox] = file_sha256(args.busybox)[0]
    return _BUSYBOX_DIGEST[args.busybox]


def members_label(key):
    return "/bin/sh -c #(nop) ADD file:%s in / " % key


def busybox_members(args):
    size = os.path.getsize(args.busybox)
    members = [
        (tar_entry("bin/", tarfile.DIRTYPE, 0o755), None),
        (tar_entry("bin/busybox", tarfile.REGTYPE, 0o755, size), open(args.busybox, "rb")),
    ]
    for applet in APPLETS:
        members.append((tar_entry("bin/" + applet, tarfile.SYMTYPE, 0o777, target="busybox"), None))
    return members


def data_members(name, seed, size, random_percent):
    return [
        (tar_entry("data/", tarfile.DIRTYPE, 0o755), None),
        (tar_entry("data/" + name, tarfile.REGTYPE, 0o644, size),
         PatternFile(seed, size, random_percent)),
    ]


# ---------------------------------------------------------------------------------------------
# Configs, manifests, indexes


def image_config(args, layers, arch, variant=None):
    config = {"Env": [PATH_ENV], "Cmd": ["sh"]}
    if args.label:
        config["Labels"] = dict(sorted(kv.split("=", 1) for kv in args.label))
    doc = {"architecture": arch}
    if variant:
        doc["variant"] = variant
    doc.update({
        "config": config,
        "created": FIXED_CREATED,
        "history": [{"created": FIXED_CREATED, "created_by": l["created_by"]} for l in layers]
        + [{"created": FIXED_CREATED, "created_by": '/bin/sh -c #(nop)  CMD ["sh"]',
            "empty_layer": True}],
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [l["diff_id"] for l in layers]},
    })
    return json.dumps(doc, separators=(",", ":")).encode()


def layer_media_type(fmt, compression):
    if fmt == "docker":
        if compression != "gzip":
            die("docker manifests only carry gzip layers here; use --format oci for %s"
                % compression)
        return DOCKER_LAYER_GZIP
    return OCI_LAYER[compression]


def build_image(blobs, args, fmt, layers, arch="amd64", variant=None):
    config_bytes = image_config(args, layers, arch, variant)
    config_digest, config_size, config_path = blobs.add_bytes(config_bytes)
    manifest = {"schemaVersion": 2,
                "mediaType": DOCKER_MANIFEST if fmt == "docker" else OCI_MANIFEST,
                "config": {"mediaType": DOCKER_CONFIG if fmt == "docker" else OCI_CONFIG,
                           "size": config_size, "digest": config_digest},
                "layers": [{"mediaType": layer_media_type(fmt, l["compression"]),
                            "size": l["size"], "digest": l["digest"]} for l in layers]}
    manifest_bytes = json.dumps(manifest, indent=3).encode()
    digest, size, _ = blobs.add_bytes(manifest_bytes)
    platform = {"architecture": arch, "os": "linux"}
    if variant:
        platform["variant"] = variant
    return {
        "media_type": manifest["mediaType"],
        "manifest_digest": digest, "manifest_size": size, "manifest_bytes": manifest_bytes,
        "config_digest": config_digest, "config_size": config_size, "config_path": config_path,
        "image_id": config_digest, "platform": platform, "layers": layers,
    }


def build_index(blobs, fmt, children):
    index = {"schemaVersion": 2, "mediaType": DOCKER_LIST if fmt == "docker" else OCI_INDEX,
             "manifests": [{"mediaType": c["media_type"], "size": c["manifest_size"],
                            "digest": c["manifest_digest"], "platform": c["platform"]}
                           for c in children]}
    index_bytes = json.dumps(index, indent=3).encode()
    digest, size, _ = blobs.add_bytes(index_bytes)
    return {"media_type": index["mediaType"], "manifest_digest": digest, "manifest_size": size,
            "manifest_bytes": index_bytes, "children": children}


# ---------------------------------------------------------------------------------------------
# Registry client (distribution HTTP API v2)


class Registry:
    def __init__(self, host, user=None, timeout=120):
        self.host = host
        self.user = user
        self.timeout = timeout
        self.conn = None
        self.auth_header = None  # set after a challenge
        self.tokens = {}

    def _connection(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, timeout=self.timeout)
        return self.conn

    def _send(self, method, path, headers, body):
        for attempt in range(2):  # one reconnect if a kept-alive connection was closed
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                return resp, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                self.conn = None
                if attempt or hasattr(body, "read"):
                    raise
        raise AssertionError("unreachable")

    def _authorization(self, scope):
        return self.tokens.get(scope) or self.auth_header

    def request(self, method, path, headers=None, body=None, scope=None):
        """One request; on a 401 (before any streamed body) authenticates and retries once."""
        headers = dict(headers or {})
        if self._authorization(scope):
            headers["Authorization"] = self._authorization(scope)
        resp, data = self._send(method, path, headers, body)
        if resp.status == 401 and not hasattr(body, "read"):
            self._authenticate(resp.getheader("WWW-Authenticate", ""), scope)
            headers["Authorization"] = self._authorization(scope)
            resp, data = self._send(method, path, headers, body)
        return resp, data

    def _authenticate(self, challenge, scope):
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() == "basic":
            if not self.user:
                die("registry %s wants credentials: pass --user USER:PASS" % self.host)
            self.auth_header = "Basic " + base64.b64encode(self.user.encode()).decode()
        elif scheme.lower() == "bearer":
            fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
            realm = urllib.parse.urlsplit(fields.get("realm", ""))
            check_loopback(realm.netloc)
            query = {"service": fields.get("service", "")}
            if scope or fields.get("scope"):
                query["scope"] = scope or fields.get("scope")  # ours: pull,push for a push
            conn = http.client.HTTPConnection(realm.netloc, timeout=self.timeout)
            headers = {}
            if self.user:
                headers["Authorization"] = "Basic " + base64.b64encode(self.user.encode()).decode()
            conn.request("GET", realm.path + "?" + urllib.parse.urlencode(query), headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            if resp.status != 200:
                die("token request to %s failed: %d %s" % (realm.netloc, resp.status, body[:200]))
            doc = json.loads(body)
            token = "Bearer " + (doc.get("token") or doc.get("access_token"))
            self.auth_header = token
            if scope:
                self.tokens[scope] = token
        else:
            die("unsupported auth challenge from %s: %r" % (self.host, challenge))

    def push_blob(self, repo, digest, size, path):
        scope = "repository:%s:pull,push" % repo
        resp, _ = self.request("HEAD", "/v2/%s/blobs/%s" % (repo, digest), scope=scope)
        if resp.status == 200:
            return False
        resp, data = self.request("POST", "/v2/%s/blobs/uploads/" % repo,
                                  headers={"Content-Length": "0"}, body=b"", scope=scope)
        if resp.status != 202:
            die("POST blob upload for %s: %d %s" % (repo, resp.status, data[:300]))
        loc = urllib.parse.urlsplit(resp.getheader("Location"))
        query = (loc.query + "&" if loc.query else "") + "digest=" + urllib.parse.quote(digest)
        with open(path, "rb") as f:
            resp, data = self.request(
                "PUT", loc.path + "?" + query, scope=scope, body=f,
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)})
        if resp.status != 201:
            die("PUT blob %s to %s: %d %s" % (digest, repo, resp.status, data[:300]))
        return True

    def push_manifest(self, repo, reference, media_type, body, digest):
        resp, data = self.request("PUT", "/v2/%s/manifests/%s" % (repo, reference),
                                  headers={"Content-Type": media_type}, body=body,
                                  scope="repository:%s:pull,push" % repo)
        if resp.status != 201:
            die("PUT manifest %s:%s: %d %s" % (repo, reference, resp.status, data[:500]))
        got = resp.getheader("Docker-Content-Digest")
        if got and got != digest:
            die("registry computed manifest digest %s, expected %s" % (got, digest))


def check_loopback(hostport):
    host = urllib.parse.urlsplit("//" + hostport).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    die("refusing non-loopback registry %r (tests stay on 127.0.0.1)" % hostport)


# ---------------------------------------------------------------------------------------------
# Sets


def plan(args):
    """Returns a list of (set name, default tag, format, compression, layer specs, multiarch)."""
    sets = {
        "seed": ("musl", "docker", "gzip", "busybox"),
        "oci": ("oci", "oci", "gzip", "busybox"),
        "zstd": ("zstd", "oci", "zstd", "busybox"),
        "plain": ("plain", "oci", "none", "busybox"),
        "multiarch": ("multi", None, "gzip", "busybox"),
        "layers8": ("layers8", "docker", "gzip", "layers8"),
        "layers50": ("layers50", "docker", "gzip", "layers50"),
        "big": ("big", "docker", "gzip", "big"),
    }
    names = ["seed", "oci", "zstd", "plain", "multiarch", "layers8", "layers50"] \
        if args.set == "all" else [args.set]
    if args.set == "all" and args.tag:
        die("--tag cannot be used with the 'all' set")
    out = []
    for name in names:
        tag, fmt, comp, content = sets[name]
        out.append({"set": name, "tag": args.tag or tag,
                    "format": args.format or fmt, "compression": args.compression or comp,
                    "content": content, "multiarch": name == "multiarch"})
    return out


def build_layers(blobs, args, content, compression, cache):
    key = (content, compression)
    if key in cache:
        return cache[key]
    if content == "big":
        # One layer: busybox plus the big data file.
        size = args.size_mb << 20
        layers = [blobs.build_layer(
            args, "busybox+big", ["big", size, args.random_percent],
            lambda: busybox_members(args) + data_members("big.bin", b"imaged-big", size,
                                                         args.random_percent), compression)]
    else:
        layers = [blobs.build_layer(args, "busybox", ["busybox"], lambda: busybox_members(args),
                                    compression)]
    if content in ("layers8", "layers50"):
        count = args.layers or (8 if content == "layers8" else 50)
        size = args.layer_size if args.layer_size is not None else \
            (1 << 20 if content == "layers8" else 4096)
        for i in range(1, count):
            layers.append(blobs.build_layer(
                args, "layer%02d" % i, ["layer", i, size, args.random_percent],
                lambda i=i: data_members("layer-%02d.bin" % i, b"imaged-layer-%d" % i, size,
                                         args.random_percent), compression))
    cache[key] = layers
    return layers


def image_summary(host, repo, tag, image):
    layers = [{"digest": l["digest"], "size": l["size"],
               "media_type": layer_media_type_for(image, i),
               "diff_id": l["diff_id"], "uncompressed_size": l["uncompressed_size"],
               "unpacked_size": l["unpacked_size"]}
              for i, l in enumerate(image["layers"])]
    out = {"repo": repo, "tag": tag,
           "reference": "%s/%s%s" % (host, repo, ":" + tag if tag else "") if host else None,
           "media_type": image["media_type"],
           "manifest_digest": image["manifest_digest"], "manifest_size": image["manifest_size"],
           "config_digest": image["config_digest"], "config_size": image["config_size"],
           "image_id": image["image_id"], "platform": image["platform"],
           "layers": layers,
           "layer_digests": [l["digest"] for l in layers],
           "diff_ids": [l["diff_id"] for l in layers],
           "total_size": sum(l["size"] for l in layers),
           "total_uncompressed_size": sum(l["uncompressed_size"] for l in layers),
           "total_unpacked_size": sum(l["unpacked_size"] for l in layers)}
    return out


def layer_media_type_for(image, i):
    return json.loads(image["manifest_bytes"])["layers"][i]["mediaType"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("set", choices=["seed", "oci", "zstd", "plain", "multiarch", "layers8",
                                   "layers50", "big", "all"])
    p.add_argument("--registry", help="HOST:PORT of the registry (loopback only)")
    p.add_argument("--user", help="USER:PASS for basic auth (or for a bearer token realm)")
    p.add_argument("--no-push", action="store_true", help="build only; print the summary")
    p.add_argument("--repo", default="library/busybox", help="repository (default %(default)s)")
    p.add_argument("--tag", help="tag (default: the set's; multiarch's OCI index gets TAG-oci)")
    p.add_argument("--extra-tag", action="append", default=[],
                   help="also tag the image (or index) as this; repeatable")
    p.add_argument("--format", choices=["docker", "oci"], help="manifest flavour override")
    p.add_argument("--compression", choices=["gzip", "zstd", "none"],
                   help="layer compression override")
    p.add_argument("--label", action="append", default=[],
                   help="KEY=VALUE added to config.Labels (changes the image ID); repeatable")
    p.add_argument("--size-mb", type=int, default=200, help="big: size of data/big.bin in MiB")
    p.add_argument("--random-percent", type=int, default=90,
                   help="big/layers: %% of each 64 KiB block that is incompressible (default 90)")
    p.add_argument("--layers", type=int, help="layers8/layers50: total number of layers")
    p.add_argument("--layer-size", type=parse_size,
                   help="layers8/layers50: bytes per extra layer (default 1M / 4K)")
    p.add_argument("--gzip-level", type=int, default=6)
    p.add_argument("--zstd-level", type=int, default=3)
    p.add_argument("--busybox", default="/bin/busybox")
    p.add_argument("--work-dir", help="keep the blobs here (default: a temp dir, removed)")
    p.add_argument("--cache-dir", help="keep the blobs here and reuse built layers on later runs "
                   "(for benchmarks with big layers)")
    p.add_argument("--timeout", type=float, default=120, help="per-request timeout in seconds")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args()

    if not args.no_push:
        if not args.registry:
            die("--registry HOST:PORT is required (or --no-push)")
        check_loopback(args.registry)
    if not os.path.isfile(args.busybox):
        die("%s not found: install busybox-static" % args.busybox)
    if not re.fullmatch(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*",
                        args.repo):
        die("invalid repository name %r" % args.repo)
    for kv in args.label:
        if "=" not in kv:
            die("--label wants KEY=VALUE")

    keep = args.cache_dir or args.work_dir
    workdir = keep or tempfile.mkdtemp(prefix="mkimage-")
    os.makedirs(workdir, exist_ok=True)
    try:
        result = run(args, workdir)
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


def run(args, workdir):
    blobs = Blobs(workdir)
    registry = None if args.no_push else Registry(args.registry, args.user, args.timeout)
    host = None if args.no_push else args.registry
    repo = args.repo
    cache = {}
    images = []

    def push_image(image, tags):
        if registry:
            for l in image["layers"]:
                registry.push_blob(repo, l["digest"], l["size"], l["path"])
            registry.push_blob(repo, image["config_digest"], image["config_size"],
                               image["config_path"])
            for ref in tags or [image["manifest_digest"]]:
                registry.push_manifest(repo, ref, image["media_type"], image["manifest_bytes"],
                                       image["manifest_digest"])

    for item in plan(args):
        layers = build_layers(blobs, args, item["content"], item["compression"], cache)
        tags = [item["tag"]] + args.extra_tag
        if not item["multiarch"]:
            image = build_image(blobs, args, item["format"], layers)
            push_image(image, tags)
            summary = image_summary(host, repo, item["tag"], image)
            summary["extra_tags"] = args.extra_tag
            summary["set"] = item["set"]
            images.append(summary)
            continue
        # multiarch: a docker manifest list (TAG) and an OCI index (TAG-oci) over the same three
        # platforms. Every platform carries the same (amd64) busybox layer; only the config's
        # architecture/variant differs. The docker amd64 child is byte-identical to `seed`.
        platforms = [("amd64", None), ("arm64", "v8"), ("arm", "v7")]
        for fmt, suffix in (("docker", ""), ("oci", "-oci")):
            children = [build_image(blobs, args, fmt, layers, a, v) for a, v in platforms]
            for child in children:
                push_image(child, [])
            index = build_index(blobs, fmt, children)
            index_tags = [t + suffix for t in tags]
            if registry:
                for ref in index_tags:
                    registry.push_manifest(repo, ref, index["media_type"],
                                           index["manifest_bytes"], index["manifest_digest"])
            images.append({
                "set": item["set"], "repo": repo, "tag": index_tags[0],
                "extra_tags": index_tags[1:],
                "reference": "%s/%s:%s" % (host, repo, index_tags[0]) if host else None,
                "media_type": index["media_type"], "manifest_digest": index["manifest_digest"],
                "manifest_size": index["manifest_size"],
                "manifests": [image_summary(host, repo, None, c) for c in children],
            })
    return {"registry": host, "set": args.set, "images": images}


if __name__ == "__main__":
    main()
