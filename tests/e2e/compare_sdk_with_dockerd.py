#!/usr/bin/env python3
"""Drives the Python docker SDK against dockerd (20.10, scripts/dockerd-side.sh) and against
imaged, both pulling library/busybox fixtures from one local registry used as their Docker Hub
mirror, and prints every difference in results and exceptions, step by step.

  tests/e2e/compare_sdk_with_dockerd.py [--imaged PATH] [--keep] [--out DIR]

Works with docker SDK 7.1 (pip) and with Debian's python3-docker 5.0.3 (/usr/bin/python3).
The high-level calls use API 1.41 on both daemons (dockerd 20.10's maximum) so that the shapes
compare; a last section uses APIClient(version='auto') (imaged then answers at 1.50, where
shapes legitimately differ: only what both versions share is compared there).
Normalisation removes only what two daemons cannot share: wall-clock times (LastTagTime, event
times, pull/push progress bars), dockerd's GraphDriver, host-specific /info and /version values
(compared as key sets), the two push registries' addresses.
Exit 0 when the run completed (the differences are the report), 1 on set-up failure.
The SDK scenario that CI runs against imaged alone is tests/e2e/sdk_scenario.py.
"""

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback

import docker

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def sh(*args, **kw):
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, text=True, **kw).stdout.strip()


def ping_ok(sock):
    r = subprocess.run(["curl", "-s", "--max-time", "1", "--unix-socket", sock, "http://x/_ping"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return r.stdout == "OK"


# --- normalisation -------------------------------------------------------------------------------

VARIES = "<varies>"


def scrub(v, ctx):
    """Replaces values two daemons cannot share; `ctx` maps raw strings to placeholders."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k in ("GraphDriver", "LastTagTime", "time", "timeNano", "progress", "progressDetail"):
                out[k] = VARIES
            else:
                out[k] = scrub(x, ctx)
        return out
    if isinstance(v, (list, tuple)):
        return [scrub(x, ctx) for x in v]
    if isinstance(v, str):
        for raw, name in ctx.items():
            v = v.replace(raw, name)
        return v
    return v


def created_key(v):
    if isinstance(v, int):
        return v
    return int(time.mktime(time.strptime(v[:19], "%Y-%m-%dT%H:%M:%S"))) if v else 0


def describe_exception(e):
    d = {"exception": type(e).__name__}
    resp = getattr(e, "response", None)
    if resp is not None:
        d["status"] = resp.status_code
    expl = getattr(e, "explanation", None)
    d["message"] = str(expl) if expl is not None else str(e)
    return d


# --- the scenario --------------------------------------------------------------------------------


class Scenario:
    """Runs the steps on one daemon; results[name] = normalised value or exception."""

    def __init__(self, sock, dst, workdir, ctx):
        self.url = "unix://" + sock
        self.client = docker.DockerClient(base_url=self.url, version="1.41", timeout=120)
        self.api = self.client.api
        self.dst = dst
        self.workdir = workdir
        self.ctx = dict(ctx)
        self.ctx[dst] = "<dst>"
        self.results = {}
        self.order = []

    def step(self, name, fn):
        self.order.append(name)
        try:
            value = fn()
            self.results[name] = {"ok": scrub(value, self.ctx)}
        except Exception as e:  # noqa: BLE001 - the exception is the result
            if not isinstance(e, docker.errors.DockerException) and not hasattr(e, "response"):
                self.results[name] = {"error": describe_exception(e),
                                      "trace": traceback.format_exc().splitlines()[-3:]}
            else:
                self.results[name] = {"error": describe_exception(e)}

    # Helpers turning SDK objects into plain data.
    @staticmethod
    def image_data(img):
        return {"id": img.id, "short_id": img.short_id, "tags": img.tags, "labels": img.labels,
                "attrs": img.attrs}

    @staticmethod
    def summaries(images):
        # Newest first on both daemons; dockerd orders images created in the same second as its
        # map iteration gives them (the fixtures share one `created`): ties go by ID here.
        rows = [{"id": i.id, "tags": i.tags, "attrs": i.attrs} for i in images]
        return sorted(rows, key=lambda r: (-created_key(r["attrs"].get("Created")), r["id"]))

    def run(self, sets):
        c, api = self.client, self.api
        S = self.step
        S("ping", lambda: c.ping())
        S("version.keys", lambda: sorted(c.version().keys()))
        S("version.api", lambda: {k: c.version().get(k) for k in ("ApiVersion", "Os")})
        S("version.components", lambda: [
            (x.get("Name"), sorted(x.get("Details", {}).keys()))
            for x in c.version().get("Components", []) if x.get("Name") == "Engine"])
        S("info.images-before", lambda: {k: c.info().get(k) for k in (
            "Images", "Containers", "ContainersRunning", "OSType", "IndexServerAddress")})
        S("df.empty", lambda: c.df())

        S("pull.tag", lambda: self.image_data(c.images.pull("busybox", tag="musl")))
        S("pull.all_tags_false", lambda: self.image_data(
            c.images.pull("busybox", tag="musl", all_tags=False)))
        S("pull.ref_with_tag", lambda: self.image_data(c.images.pull("busybox:musl")))
        S("pull.missing", lambda: c.images.pull("busybox", tag="nosuch"))
        S("pull.missing-repo", lambda: c.images.pull("nosuchrepo", tag="x"))
        S("pull.labeled", lambda: self.image_data(c.images.pull("busybox", tag="labeled")))
        S("api.pull.stream", lambda: [
            {k: v for k, v in m.items() if k in ("status", "id", "error")}
            for m in api.pull("busybox", tag="musl", stream=True, decode=True)])

        S("get", lambda: self.image_data(c.images.get("busybox:musl")))
        S("get.by-short-id", lambda: c.images.get(c.images.get("busybox:musl").short_id).tags)
        S("get.missing", lambda: c.images.get("nosuch"))
        S("get.invalid", lambda: c.images.get("Bad Name"))
        S("history", lambda: c.images.get("busybox:musl").history())
        S("labels", lambda: c.images.get("busybox:labeled").labels)

        S("tag", lambda: c.images.get("busybox:musl").tag("busybox", "media"))
        S("tag.repo-with-tag", lambda: c.images.get("busybox:musl").tag("busybox:zz"))
        S("tag.no-tag", lambda: c.images.get("busybox:musl").tag("other"))
        S("tag.bad-tag", lambda: c.images.get("busybox:musl").tag("busybox", "Bad Tag"))
        S("tag.upper", lambda: c.images.get("busybox:musl").tag("BusyBox", "x"))
        S("tag.missing", lambda: api.tag("nosuch:latest", "busybox", "x"))
        S("tags-after-tag", lambda: c.images.get("busybox:musl").tags)

        S("list", lambda: self.summaries(c.images.list()))
        S("list.name", lambda: self.summaries(c.images.list(name="busybox")))
        S("list.name-tag", lambda: self.summaries(c.images.list(name="busybox:media")))
        S("list.all", lambda: self.summaries(c.images.list(all=True)))
        S("list.dangling", lambda: self.summaries(c.images.list(filters={"dangling": True})))
        S("list.reference", lambda: self.summaries(
            c.images.list(filters={"reference": "busybox:m*"})))
        S("list.label", lambda: self.summaries(c.images.list(filters={"label": "org.test=yes"})))
        S("list.label-value", lambda: self.summaries(
            c.images.list(filters={"label": ["org.test=no"]})))
        S("list.bad-filter", lambda: c.images.list(filters={"bogus": "x"}))
        S("list.before", lambda: self.summaries(
            c.images.list(filters={"before": "busybox:labeled"})))
        S("list.since-missing", lambda: c.images.list(filters={"since": "nosuch"}))
        S("api.images.quiet", lambda: sorted(api.images(quiet=True)))
        S("api.images.name", lambda: sorted(api.images(name="busybox"), key=lambda x: x["Id"]))
        S("api.images.all-dangling", lambda: sorted(
            api.images(all=True, filters={"dangling": False}), key=lambda x: x["Id"]))
        S("registry_data", lambda: (lambda r: {"id": r.id, "short_id": r.short_id,
                                               "attrs": r.attrs,
                                               "amd64": r.has_platform("linux/amd64"),
                                               "arm": r.has_platform("linux/arm64")})(
            c.images.get_registry_data("busybox:musl")))
        S("reload", lambda: (lambda i: (i.reload(), i.tags)[1])(c.images.get("busybox:musl")))
        S("info.images", lambda: {k: c.info().get(k) for k in ("Images", "Containers")})
        S("df", lambda: (lambda d: dict(d, Images=sorted(
            d["Images"], key=lambda x: (-x["Created"], x["Id"]))))(c.df()))

        S("inspect_distribution", lambda: api.inspect_distribution("busybox:musl"))
        S("inspect_distribution.missing", lambda: api.inspect_distribution("busybox:nosuch"))

        S("search", lambda: c.images.search("busybox"))
        S("search.limit", lambda: api.search("busybox", limit=200))

        target = self.dst + "/team/busybox"
        S("push.tag", lambda: c.images.get("busybox:musl").tag(target, "media"))
        S("push.stream", lambda: self.push_messages(
            c.images.push(target, tag="media", stream=True, decode=True)))
        S("push.again", lambda: self.push_messages(
            c.images.push(target, tag="media", stream=True, decode=True)))
        S("push.plain", lambda: [json.loads(x) for x in
                                 c.images.push(target, tag="media").splitlines() if x.strip()]
          [-1:])
        S("push.missing", lambda: self.push_messages(
            c.images.push(self.dst + "/none/x", tag="latest", stream=True, decode=True)))

        tar_path = os.path.join(self.workdir, "save.tar")

        def save():
            img = c.images.get("busybox:media")
            with open(tar_path, "wb") as f:
                for chunk in img.save(named=True):
                    f.write(chunk)
            with tarfile.open(tar_path) as t:
                names = sorted(t.getnames())
                manifest = json.load(t.extractfile("manifest.json"))
            return {"manifest": manifest, "members": len(names)}

        S("save", save)
        S("save.api-get_image", lambda: sum(len(x) for x in api.get_image("busybox:musl")) > 0)
        S("rmi.before-load", lambda: [c.images.remove("busybox:media"),
                                      c.images.get("busybox:musl").tags])

        def load():
            with open(tar_path, "rb") as f:
                imgs = c.images.load(f.read())
            return [(i.id, i.tags) for i in imgs]

        S("load", load)
        S("load.garbage", lambda: c.images.load(b"this is not a tar archive"))
        S("api.load_image.quiet", lambda: list(api.load_image(open(tar_path, "rb").read(),
                                                              quiet=True)))

        S("remove.tag", lambda: c.images.remove("busybox:zz"))
        S("remove.api-result", lambda: api.remove_image("other:latest"))
        S("remove.missing", lambda: c.images.remove("nosuch:tag"))
        S("remove.id-conflict", lambda: c.images.remove(c.images.get("busybox:musl").short_id))
        S("remove.noprune", lambda: api.remove_image("busybox:labeled", noprune=True))
        S("remove.force-id", lambda: api.remove_image(
            c.images.get("busybox:musl").id, force=True))
        S("remove.blank", lambda: api.remove_image(" "))
        S("list.after-remove", lambda: self.summaries(c.images.list()))

        S("prune.nothing", lambda: c.images.prune())
        S("prune.label", lambda: c.images.prune(filters={"dangling": False,
                                                         "label": "org.none=1"}))
        S("prune.until", lambda: c.images.prune(filters={"dangling": False, "until": "1h"}))
        S("prune.bad-filter", lambda: c.images.prune(filters={"bogus": "1"}))
        S("pull.all_tags", lambda: sorted(
            (i.id, sorted(i.tags)) for i in c.images.pull("busybox", all_tags=True)))
        S("pull.platform", lambda: c.images.pull("busybox", tag="musl", platform="linux/amd64").id)
        for p in ("bogus/x/y/z", "linux/*", "nosuchos", "lin ux/amd64", "linux/"):
            S("pull.bad-platform " + p, lambda p=p: c.images.pull("busybox", tag="musl",
                                                                  platform=p))

        def rootfs():
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as t:
                info = tarfile.TarInfo("hello.txt")
                data = b"hello\n"
                info.size, info.mtime = len(data), 1704067200
                t.addfile(info, io.BytesIO(data))
            return buf.getvalue()

        def import_tar(**kw):
            r = api.import_image_from_data(rootfs(), **kw)
            # {"status":"sha256:<id>"}: the ID depends on the creation time.
            return re.sub(r"sha256:[0-9a-f]{64}", "sha256:<id>", r)

        S("import.data", lambda: import_tar(repository="imported", tag="v1"))
        S("import.changes", lambda: (import_tar(
            repository="imported:changed",
            changes=['CMD ["sh"]', "ENV A=b C=d", "LABEL a=b", "EXPOSE 80 53/udp", "USER nobody",
                     "WORKDIR /srv", "VOLUME /data", "ONBUILD RUN true", "ENTRYPOINT top",
                     "HEALTHCHECK --interval=1m30s --retries=2 CMD true"]),
            {k: v for k, v in c.images.get("imported:changed").attrs.items()
             if k in ("Config", "Comment", "Size", "RootFS")})[1])
        # dockerd 20.10 refuses STOPSIGNAL as a change; imaged applies it (deliberately).
        S("import.stopsignal", lambda: import_tar(repository="x", changes=["STOPSIGNAL 9"]))
        S("import.bad-change", lambda: import_tar(repository="x", changes=["RUN true"]))
        S("import.not-tar", lambda: api.import_image_from_data(b"x" * 4096, repository="x"))
        S("import.digest-repo", lambda: api.import_image_from_data(
            rootfs(), repository="x@sha256:" + "a" * 64))
        S("import.inspect", lambda: {k: c.images.get("imported:v1").attrs.get(k)
                                     for k in ("RootFS", "Comment", "Size", "Config", "Os")})
        S("import.history", lambda: [{k: h[k] for k in ("CreatedBy", "Comment", "Size", "Tags")}
                                     for h in c.images.get("imported:v1").history()])
        S("import.remove", lambda: [list(x.keys())[0]
                                    for x in api.remove_image("imported:v1")])
        S("pull.digest", lambda: self.image_data(
            c.images.pull("busybox@" + sets["seed"]["manifest_digest"])))
        S("list.dangling-digest", lambda: self.summaries(
            c.images.list(filters={"dangling": True})))
        S("prune.dangling", lambda: c.images.prune(filters={"dangling": True}))
        S("pull.again", lambda: c.images.pull("busybox", tag="musl").id)
        S("prune.all", lambda: c.images.prune(filters={"dangling": False}))
        S("list.empty", lambda: c.images.list())

        # Events of everything above; until = now (whole seconds on both daemons).
        time.sleep(1.1)
        until = int(time.time())

        def events():
            out = []
            for e in api.events(since=until - 600, until=until, decode=True,
                                filters={"type": "image"}):
                out.append({k: e.get(k) for k in ("status", "id", "Type", "Action", "Actor")})
            return out

        S("events", events)
        S("events.bad-range", lambda: list(api.events(since=until, until=until - 10, decode=True)))

        # Low-level client with version='auto'.
        S("auto.pull", lambda: c.images.pull("busybox", tag="musl").id)
        auto = docker.APIClient(base_url=self.url, version="auto", timeout=120)
        S("auto.version-used", lambda: auto._version >= "1.41")
        S("auto.images", lambda: [(i["Id"], i["RepoTags"], i["RepoDigests"], i["Size"])
                                  for i in auto.images()])
        S("auto.inspect", lambda: (lambda i: dict(
            {k: i.get(k) for k in ("Id", "RepoTags", "RepoDigests", "RootFS", "Size", "Os",
                                   "Architecture", "Created", "Comment", "Parent")},
            Config={k: i["Config"].get(k) for k in ("Cmd", "Env", "Entrypoint", "Labels", "User",
                                                     "WorkingDir", "Volumes", "OnBuild")}))(
            auto.inspect_image("busybox:musl")))
        S("auto.history", lambda: auto.history("busybox:musl"))
        S("auto.tag", lambda: auto.tag("busybox:musl", "busybox", "auto"))
        S("auto.remove", lambda: auto.remove_image("busybox:auto"))
        S("auto.df-images", lambda: [(i["Id"], i["RepoTags"]) for i in auto.df()["Images"]])
        S("auto.distribution", lambda: auto.inspect_distribution("busybox:musl")["Descriptor"])
        S("auto.info-images", lambda: auto.info().get("Images"))
        S("auto.events", lambda: [(e.get("Type"), e.get("Action")) for e in auto.events(
            since=until, until=int(time.time()) + 1, decode=True, filters={"type": "image"})])
        auto.close()
        self.client.close()

    @staticmethod
    def push_messages(stream):
        out = []
        for m in stream:
            m = {k: v for k, v in m.items() if k in ("status", "id", "error", "errorDetail", "aux")}
            if m.get("status") in ("Preparing", "Waiting", "Pushing"):
                continue
            out.append(m)
        return out


# --- set-up --------------------------------------------------------------------------------------


def start_registry(work, name):
    return sh(os.path.join(ROOT, "tests/harness/registry.sh"), "start", os.path.join(work, name),
              "--watch-pid", str(os.getpid()))


def push_sets(reg):
    mk = os.path.join(ROOT, "tests/harness/mkimage.py")
    seed = json.loads(sh(sys.executable, mk, "--registry", reg, "seed"))["images"][0]
    labeled = json.loads(sh(sys.executable, mk, "--registry", reg, "seed", "--tag", "labeled",
                            "--label", "org.test=yes"))["images"][0]
    return {"seed": seed, "labeled": labeled}


def start_imaged(binary, work, reg):
    sock = os.path.join(work, "imaged.sock")
    log = open(os.path.join(work, "imaged.log"), "w")
    proc = subprocess.Popen([binary, "-H", "unix://" + sock, "--data-root",
                             os.path.join(work, "iroot"), "--registry-mirror", "http://" + reg,
                             "--insecure-registry", reg], stderr=log, stdout=log)
    for _ in range(100):
        if ping_ok(sock):
            return proc, sock
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("imaged did not start; log: " + open(log.name).read()[-2000:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_bin = os.path.join(ROOT, "build/daemon/imaged")
    ap.add_argument("--imaged", default=default_bin)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    if not os.access(args.imaged, os.X_OK):
        print("no imaged binary at %s (build first or pass --imaged)" % args.imaged,
              file=sys.stderr)
        return 1
    print("docker SDK %s on Python %s" % (docker.__version__, sys.version.split()[0]))

    work = tempfile.mkdtemp(prefix="cmps.", dir="/tmp")  # short: socket paths <= 107 bytes
    regs = []
    imaged = None
    dockerd_dir = None
    try:
        reg = start_registry(work, "reg")
        regs.append(os.path.join(work, "reg"))
        sets = push_sets(reg)
        ctx = {}
        runs = {}
        for which in ("dockerd", "imaged"):
            dst = start_registry(work, "dst-" + which)
            regs.append(os.path.join(work, "dst-" + which))
            d = os.path.join(work, which)
            os.makedirs(d, exist_ok=True)
            if which == "imaged":
                imaged, sock = start_imaged(args.imaged, work, reg)
            else:
                dockerd_dir = os.path.join(work, "d")
                sock = sh(os.path.join(ROOT, "scripts/dockerd-side.sh"), "start", dockerd_dir, reg)
            sc = Scenario(sock, dst, d, ctx)
            sc.run(sets)
            runs[which] = sc

        return report(runs["dockerd"], runs["imaged"], args.out or os.path.join(work, "out"))
    finally:
        if imaged is not None:
            imaged.terminate()
            try:
                imaged.wait(10)
            except subprocess.TimeoutExpired:
                imaged.kill()
        if dockerd_dir:
            subprocess.run([os.path.join(ROOT, "scripts/dockerd-side.sh"), "stop", dockerd_dir],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for r in regs:
            subprocess.run([os.path.join(ROOT, "tests/harness/registry.sh"), "stop", r],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not args.keep:
            keep_out = args.out == "" and os.path.isdir(os.path.join(work, "out"))
            for entry in os.listdir(work):
                if keep_out and entry == "out":
                    continue
                p = os.path.join(work, entry)
                shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else os.unlink(p)


def dump(v):
    return json.dumps(v, indent=1, sort_keys=True, default=str)


def report(d, i, out):
    os.makedirs(out, exist_ok=True)
    same, differ = 0, []
    lines = []
    for name in d.order:
        a, b = dump(d.results.get(name)), dump(i.results.get(name))
        if a == b:
            same += 1
            lines.append("== %s: identical" % name)
            continue
        differ.append(name)
        import difflib
        lines.append("== %s: DIFFERENT (--- dockerd, +++ imaged)" % name)
        lines.extend(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=2))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "report.txt"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    print("compare_sdk_with_dockerd: %d identical, %d different: %s" % (same, len(differ),
                                                                          " ".join(differ)))
    print("report: " + os.path.join(out, "report.txt"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
