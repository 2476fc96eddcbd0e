#!/usr/bin/python3
"""The docker SDK for Python against a running imaged: pull, tag, get, list, history, save/load
roundtrip, remove. Run by tests/e2e/sdk_e2e_test.cpp with Debian's python3-docker (5.0.3) or
any docker SDK 5+:

  sdk_scenario.py unix:///path/imaged.sock <expected image ID> <manifest digest>

The daemon's Docker Hub mirror must hold library/busybox:musl (tests/harness/mkimage.py seed).
Exit 0 when every check passed, 1 with the failed check on stderr, 77 when `import docker` fails
(the caller then skips).
"""

import io
import json
import sys
import tarfile

try:
    import docker
except ImportError as e:
    print("no docker SDK: %s" % e, file=sys.stderr)
    sys.exit(77)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok: " + what)


def main(url, image_id, digest):
    # docker-py 5 reads ApiVersion from GET /version for 'auto'; pin 1.41 for the 1.41 shapes.
    client = docker.DockerClient(base_url=url, version="1.41", timeout=120)
    check(client.ping() is True, "ping")
    check(docker.APIClient(base_url=url, version="auto").api_version == client.version()[
        "ApiVersion"], "version='auto' negotiates the daemon's ApiVersion")

    img = client.images.pull("busybox", tag="musl")
    check(img.id == image_id, "pull busybox:musl -> " + img.id)
    check(img.tags == ["busybox:musl"], "pulled image tags %s" % img.tags)
    check(img.attrs["RepoDigests"] == ["busybox@" + digest], "repo digest")

    check(img.tag("busybox", "media") is True, "image.tag busybox:media")
    got = client.images.get("busybox:media")
    check(got.id == image_id and image_id.startswith(got.short_id), "get by tag, short_id")
    check(sorted(got.tags) == ["busybox:media", "busybox:musl"], "tags %s" % got.tags)
    check(client.images.get(image_id[7:19]).id == image_id, "get by short ID")
    check(got.labels == {}, "labels {}")
    try:
        client.images.get("nosuch")
        check(False, "get nosuch raises")
    except docker.errors.ImageNotFound as e:
        check(e.response.status_code == 404, "get nosuch -> ImageNotFound 404")

    listed = client.images.list()
    check([i.id for i in listed] == [image_id], "list: one image")
    narrowed = client.api.images(name="busybox:media")
    check([(i["Id"], i["RepoTags"]) for i in narrowed] == [(image_id, ["busybox:media"])],
          "images(name=) narrows RepoTags")
    check(client.images.list(filters={"dangling": True}) == [], "list dangling: none")
    check(len(client.images.list(filters={"reference": "busy*"})) == 1, "list reference glob")

    hist = got.history()
    check(hist[0]["Id"] == image_id and sorted(hist[0]["Tags"]) == ["busybox:media",
                                                                    "busybox:musl"],
          "history top row")
    check(hist[0]["CreatedBy"] == '/bin/sh -c #(nop)  CMD ["sh"]' and hist[0]["Size"] == 0,
          "history CMD row")
    check(hist[-1]["Id"] == "<missing>" and hist[-1]["Size"] > 0, "history layer row")

    data = b"".join(got.save(named=True))
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        manifest = json.load(t.extractfile("manifest.json"))
    check(manifest[0]["RepoTags"] == ["busybox:media"], "save named: manifest.json RepoTags")

    removed = client.api.remove_image("busybox:media")
    check(removed == [{"Untagged": "busybox:media"}], "remove tag -> %s" % removed)
    removed = client.api.remove_image("busybox:musl")
    check({"Deleted": image_id} in removed, "remove last tag deletes the image")
    check(client.images.list() == [], "store empty")

    loaded = client.images.load(data)
    check([(i.id, i.tags) for i in loaded] == [(image_id, ["busybox:media"])],
          "load restores busybox:media")
    check(client.images.get("busybox:media").attrs["RootFS"] == img.attrs["RootFS"],
          "loaded image has the same layers")

    client.images.remove("busybox:media", force=True)
    pruned = client.images.prune()
    check(pruned["ImagesDeleted"] is None, "prune: nothing left")
    check(client.images.list(all=True) == [], "store empty after load and remove")
    client.close()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        main(*sys.argv[1:])
    except AssertionError as e:
        print("FAILED: %s" % e, file=sys.stderr)
        sys.exit(1)
