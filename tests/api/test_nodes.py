"""Nodes: virtual set-top boxes (stbfarm-vstb) watched and driven by node agents
(stbfarm-nodesvc): node status with the test pack's config, screenshots, thumbnails, key presses,
recording, and the node's survival of its parts' deaths."""

import datetime
import json
import os
import struct
import subprocess
import time

import cv2
import numpy
import pytest
import requests

from farm import Farm, git, wait_until

NODE = "stb-tester-000000000001"
NODE2 = "stb-tester-000000000002"


@pytest.fixture(scope="module")
def nfarm():
    """Two virtual nodes and the demo test pack."""
    f = Farm(nodes=2).start()
    yield f
    f.stop()


@pytest.fixture
def api(nfarm):
    return nfarm.session("alice")


@pytest.fixture
def node_farm():
    """One virtual node in a farm of the test's own, for tests that kill its parts."""
    f = Farm(nodes=1).start()
    yield f
    f.stop()


def image(r, flags=cv2.IMREAD_COLOR):
    a = cv2.imdecode(numpy.frombuffer(r.content, numpy.uint8), flags)
    assert a is not None, "not a decodable image"
    return a


def screenshot(s, node=NODE):
    r = s.get("/api/v2/nodes/%s/screenshot.png" % node)
    assert r.status_code == 200, r.text
    return image(r)


def press(s, key, node=NODE, **kw):
    r = s.post("/api/v2/nodes/%s/press" % node, json=dict(key=key, **kw))
    assert r.status_code == 200, r.text
    return r.json()


def settle(s, node=NODE):
    """The screenshot once the picture stops changing (a key's effect has reached capture)."""
    def same_twice():
        a = screenshot(s, node)
        time.sleep(0.15)
        b = screenshot(s, node)
        return [b] if numpy.array_equal(a, b) else None
    return wait_until(same_twice, 5, what="a steady picture")[0]


# ---- node status ----

def test_node_status_has_every_field_from_registry_and_test_pack(api):
    n = api.get("/api/v2/nodes/" + NODE).json()
    assert n == {
        "available": True,
        "config": {"node": {"friendly_name": "Virtual STB 1"},
                   "device_under_test": {"device_type": "vstb", "ip_address": "127.0.0.1"}},
        "device_type": "vstb",
        "external_ip_address": "127.0.0.1",
        "friendly_name": "Virtual STB 1",
        "geoip_city": None,
        "geoip_country": None,
        "job": None,
        "last_used_by": n["last_used_by"],
        "last_used_time": n["last_used_time"],
        "licence_expiry": "9999-12-31",
        "local_ip_address": "127.0.0.1",
        "node_id": NODE,
        "node_url": api.base + "/api/v2/nodes/" + NODE,
        "not_available_reason": None,
        "online": True,
        "reservation": None,
    }


def test_nodes_list_has_both_virtual_nodes_with_their_names(api):
    nodes = api.get("/api/v2/nodes").json()
    assert [(n["node_id"], n["friendly_name"], n["online"]) for n in nodes] == [
        (NODE, "Virtual STB 1", True), (NODE2, "Virtual STB 2", True)]


def test_node_config_follows_a_commit_to_the_default_branch(nfarm, api):
    conf = os.path.join(nfarm.test_pack, "config", "test-farm", NODE2 + ".conf")
    with open(conf) as f:
        before = f.read()
    try:
        with open(conf, "w") as f:
            f.write("[node]\nfriendly_name = Rack 3, Node 1\n[device_under_test]\n"
                    "device_type: roku\n")
        git(nfarm.test_pack, "commit", "-qam", "rename node 2")
        n = api.get("/api/v2/nodes/" + NODE2).json()
        assert n["friendly_name"] == "Rack 3, Node 1"
        assert n["device_type"] == "roku"
        assert n["config"] == {"node": {"friendly_name": "Rack 3, Node 1"},
                               "device_under_test": {"device_type": "roku"}}
    finally:
        with open(conf, "w") as f:
            f.write(before)
        git(nfarm.test_pack, "commit", "-qam", "restore node 2")
    assert api.get("/api/v2/nodes/" + NODE2).json()["friendly_name"] == "Virtual STB 2"


def test_node_config_on_another_branch_is_ignored(nfarm, api):
    git(nfarm.test_pack, "checkout", "-qb", "feature")
    try:
        conf = os.path.join(nfarm.test_pack, "config", "test-farm", NODE2 + ".conf")
        with open(conf, "a") as f:
            f.write("[extra]\nk = v\n")
        git(nfarm.test_pack, "commit", "-qam", "on a branch")
        git(nfarm.test_pack, "checkout", "-q", "master")
        assert "extra" not in api.get("/api/v2/nodes/" + NODE2).json()["config"]
    finally:
        git(nfarm.test_pack, "checkout", "-q", "master")
        git(nfarm.test_pack, "branch", "-qD", "feature")


def test_node_without_config_file_has_empty_config_and_null_names(nfarm, api):
    nfarm.admin("node", "register", "stb-tester-0000000000ff")
    n = api.get("/api/v2/nodes/stb-tester-0000000000ff").json()
    assert n["config"] == {}
    assert n["device_type"] is None and n["friendly_name"] is None
    assert n["online"] is False and n["available"] is False
    assert n["local_ip_address"] is None and n["external_ip_address"] is None


def test_offline_node_screenshot_and_press_are_503(nfarm, api):
    nfarm.admin("node", "register", "stb-tester-0000000000fe")
    for r in (api.get("/api/v2/nodes/stb-tester-0000000000fe/screenshot.png"),
              api.get("/api/v2/nodes/stb-tester-0000000000fe/thumbnail.jpg"),
              api.post("/api/v2/nodes/stb-tester-0000000000fe/press", json={"key": "KEY_OK"})):
        assert r.status_code == 503
        assert r.json() == {"error": "Node stb-tester-0000000000fe is offline"}


# ---- screenshots ----

def test_screenshot_is_a_png_of_the_source_size(api):
    r = api.get("/api/v2/nodes/%s/screenshot.png" % NODE)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "image/png"
    assert r.content[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", r.content[16:24])
    assert (width, height) == (1280, 720)
    assert image(r).shape == (720, 1280, 3)


def test_thumbnail_is_a_small_jpeg(api):
    r = api.get("/api/v2/nodes/%s/thumbnail.jpg" % NODE)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "image/jpeg"
    assert r.content[:2] == b"\xff\xd8"
    assert image(r).shape == (180, 320, 3)
    assert len(r.content) < 50000


def test_thumbnail_looks_like_the_screenshot(api):
    shot = settle(api)
    thumb = image(api.get("/api/v2/nodes/%s/thumbnail.jpg" % NODE))
    small = cv2.resize(shot, (320, 180), interpolation=cv2.INTER_AREA)
    assert numpy.abs(small.astype(int) - thumb.astype(int)).mean() < 8


def test_screenshot_is_lossless_same_state_same_pixels(api):
    press(api, "KEY_HOME")
    a = settle(api)
    press(api, "KEY_TV")
    settle(api)
    press(api, "KEY_HOME")
    b = settle(api)
    assert numpy.array_equal(a, b)


def test_screenshot_updates_last_used(nfarm):
    s = nfarm.session("bob")
    screenshot(s, NODE2)
    n = s.get("/api/v2/nodes/" + NODE2).json()
    assert n["last_used_by"] == "bob"
    used = datetime.datetime.fromisoformat(n["last_used_time"])
    assert abs((datetime.datetime.now(datetime.timezone.utc) - used).total_seconds()) < 10


def test_thumbnail_does_not_count_as_use(nfarm):
    s = nfarm.session("carol")
    assert s.get("/api/v2/nodes/%s/thumbnail.jpg" % NODE2).status_code == 200
    assert s.get("/api/v2/nodes/" + NODE2).json()["last_used_by"] != "carol"


# ---- remote control ----

def test_key_menu_changes_the_screenshot_and_key_back_restores_it(api):
    press(api, "KEY_HOME")
    home = settle(api)
    press(api, "KEY_MENU")
    menu = settle(api)
    assert numpy.abs(menu.astype(int) - home.astype(int)).mean() > 10
    press(api, "KEY_BACK")
    assert numpy.array_equal(settle(api), home)


def test_key_down_moves_the_menu_highlight_and_key_up_moves_it_back(api):
    press(api, "KEY_HOME")
    press(api, "KEY_MENU")
    first = settle(api)
    press(api, "KEY_DOWN")
    second = settle(api)
    changed = numpy.argwhere((first != second).any(axis=2))
    assert len(changed) > 1000
    # only the first two items changed: the highlight moved down one row
    assert changed[:, 0].min() >= 150 and changed[:, 0].max() < 360
    press(api, "KEY_UP")
    assert numpy.array_equal(settle(api), first)
    press(api, "KEY_BACK")


def test_channel_keys_and_digits_change_live_tv(api):
    press(api, "KEY_TV")
    ch1 = settle(api)
    press(api, "KEY_CHANNELUP")
    ch2 = settle(api)
    assert not numpy.array_equal(ch1, ch2)
    press(api, "KEY_CHANNELDOWN")
    assert numpy.array_equal(settle(api), ch1)
    for k in ("KEY_0", "KEY_0", "KEY_2"):
        press(api, k)
    assert numpy.array_equal(settle(api), ch2)
    press(api, "KEY_PAUSE")
    paused = settle(api)
    assert not numpy.array_equal(paused, ch2)
    press(api, "KEY_PLAY")
    assert numpy.array_equal(settle(api), ch2)
    press(api, "KEY_HOME")


def test_press_replies_with_what_was_sent(api):
    before = datetime.datetime.now(datetime.timezone.utc)
    r = press(api, "KEY_OK")
    assert r["node_id"] == NODE and r["key"] == "KEY_OK" and r["remote_control"] == "vstb"
    assert len(r["test_pack_sha"]) == 40
    start = datetime.datetime.fromisoformat(r["start_time"])
    end = datetime.datetime.fromisoformat(r["end_time"])
    assert before - datetime.timedelta(seconds=5) < start <= end
    press(api, "KEY_HOME")


def test_press_updates_last_used(nfarm):
    s = nfarm.session("dave")
    press(s, "KEY_HOME", NODE2)
    n = s.get("/api/v2/nodes/" + NODE2).json()
    assert n["last_used_by"] == "dave"
    used = datetime.datetime.fromisoformat(n["last_used_time"])
    assert abs((datetime.datetime.now(datetime.timezone.utc) - used).total_seconds()) < 10


def test_press_with_explicit_remote_and_revision(nfarm, api):
    sha = git(nfarm.test_pack, "rev-parse", "HEAD")
    for rev in (sha, sha[:10], "master", "HEAD"):
        r = press(api, "KEY_HOME", remote_control="vstb", test_pack_revision=rev)
        assert r["test_pack_sha"] == sha


def test_press_unknown_key_is_400_naming_it(api):
    r = api.post("/api/v2/nodes/%s/press" % NODE, json={"key": "KEY_TELEPORT"})
    assert r.status_code == 400
    assert r.json() == {"error": "unknown key 'KEY_TELEPORT' for remote_control 'vstb'"}


@pytest.mark.parametrize("remote", ["roku", "../remote-control/vstb", "vstb/../vstb", ".stbt",
                                    "a b", ""])
def test_press_unknown_remote_is_400_naming_it(api, remote):
    r = api.post("/api/v2/nodes/%s/press" % NODE, json={"key": "KEY_OK", "remote_control": remote})
    assert r.status_code == 400
    assert "unknown remote_control '%s'" % remote in r.json()["error"]


def test_press_key_from_a_remote_added_on_a_branch(nfarm, api):
    git(nfarm.test_pack, "checkout", "-qb", "new-remote")
    try:
        path = os.path.join(nfarm.test_pack, "config", "remote-control", "other.lircd.conf")
        with open(path, "w") as f:
            f.write("begin remote\n  name other\n  begin codes\n    KEY_OK 0x1\n  end codes\n"
                    "end remote\n")
        git(nfarm.test_pack, "add", "-A")
        git(nfarm.test_pack, "commit", "-qm", "another remote")
        git(nfarm.test_pack, "checkout", "-q", "master")
        # not on master
        r = api.post("/api/v2/nodes/%s/press" % NODE,
                     json={"key": "KEY_OK", "remote_control": "other"})
        assert r.status_code == 400 and "other" in r.json()["error"]
        # on the branch: valid for the test pack, and the vstb (lircd) refuses the remote
        r = api.post("/api/v2/nodes/%s/press" % NODE, json={
            "key": "KEY_OK", "remote_control": "other", "test_pack_revision": "new-remote"})
        assert r.status_code == 400
        assert 'unknown remote: "other"' in r.json()["error"]
    finally:
        git(nfarm.test_pack, "checkout", "-q", "master")
        git(nfarm.test_pack, "branch", "-qD", "new-remote")


def test_press_unknown_revision_is_404(api):
    r = api.post("/api/v2/nodes/%s/press" % NODE,
                 json={"key": "KEY_OK", "test_pack_revision": "no-such-branch"})
    assert r.status_code == 404
    assert "no-such-branch" in r.json()["error"]


@pytest.mark.parametrize("body,status,word", [
    ("{", 400, ""),
    ("[]", 400, ""),
    ('"KEY_OK"', 400, ""),
    ("{}", 400, "key"),
    ('{"key": 5}', 400, "key"),
    ('{"key": null}', 400, "key"),
    ('{"key": ""}', 400, "key"),
    ('{"key": "KEY_OK", "remote_control": 7}', 400, "remote_control"),
    ('{"key": "KEY_OK\\u0000"}', 400, ""),
    ('{"key": "%s"}' % ("K" * 5000), 400, "key"),
])
def test_malformed_press_bodies_are_4xx_json(api, body, status, word):
    r = api.post("/api/v2/nodes/%s/press" % NODE, data=body,
                 headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert word in r.json()["error"]


def test_huge_press_body_is_413(api):
    r = api.post("/api/v2/nodes/%s/press" % NODE, data=b'{"key": "' + b"x" * (2 << 20) + b'"}',
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert "larger" in r.json()["error"]


# ---- bad ids and paths ----

@pytest.mark.parametrize("path,status,message", [
    ("/api/v2/nodes/stb-tester-nope/screenshot.png", 404, "unknown node_id 'stb-tester-nope'"),
    ("/api/v2/nodes/stb-tester-nope/thumbnail.jpg", 404, "unknown node_id 'stb-tester-nope'"),
    ("/api/v2/nodes/" + "a" * 300 + "/screenshot.png", 404, "unknown node_id"),
    ("/api/v2/nodes/stb%2Dtester%2D000000000001x/screenshot.png", 404, "unknown node_id"),
    # an encoded slash is a slash: these are other paths, or dot segments
    ("/api/v2/nodes/%s%%2F..%%2Fx/screenshot.png" % NODE, 400, "'..'"),
    ("/api/v2/nodes/%2Fetc%2Fpasswd/screenshot.png", 404, "no such endpoint"),
    ("/api/v2/nodes/%s%%2Fscreenshot.png" % NODE, 200, None),
])
def test_unknown_or_malformed_node_ids_are_4xx_json(nfarm, api, path, status, message):
    r = requests.get(nfarm.url + path, headers=dict(api.headers))
    assert r.status_code == status
    if message:
        assert message in r.json()["error"]


def test_press_on_unknown_node_is_404(api):
    r = api.post("/api/v2/nodes/stb-tester-nope/press", json={"key": "KEY_OK"})
    assert r.status_code == 404
    assert r.json() == {"error": "unknown node_id 'stb-tester-nope'"}


@pytest.mark.parametrize("path", [
    "/api/v2/nodes/../nodes/%s/screenshot.png" % NODE,
    "/api/v2/nodes/%s/../%s/screenshot.png" % (NODE, NODE2),
    "/api/v2/nodes/./%s/thumbnail.jpg" % NODE,
])
def test_dot_segments_in_node_paths_are_400(nfarm, api, path):
    s = requests.Session()
    req = requests.Request("GET", nfarm.url + "/x", headers=dict(api.headers)).prepare()
    req.url = nfarm.url + path  # keep the dots: requests would resolve them
    r = s.send(req)
    assert r.status_code == 400
    assert "'..'" in r.json()["error"]


def test_wrong_methods_on_node_endpoints_are_405(api):
    assert api.post("/api/v2/nodes/%s/screenshot.png" % NODE).status_code == 405
    r = api.get("/api/v2/nodes/%s/press" % NODE)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"


def test_screenshot_needs_a_token(nfarm):
    r = requests.get(nfarm.url + "/api/v2/nodes/%s/screenshot.png" % NODE)
    assert r.status_code == 403


# ---- recording ----

def mp4_boxes(path):
    """The top-level box types of an MP4 file, in order."""
    boxes = []
    with open(path, "rb") as f:
        while True:
            head = f.read(8)
            if len(head) < 8:
                return boxes
            size, kind = struct.unpack(">I4s", head)
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0] - 8
            boxes.append(kind.decode())
            f.seek(size - 8, 1)


def test_recording_writes_a_faststart_h264_mp4_of_the_video(nfarm, api):
    path = os.path.join(nfarm.dir, "video.mp4")
    call = lambda *a: json.loads(nfarm.admin("node", "call", NODE, *a).stdout or "{}")  # noqa
    call("agent.video_start", json.dumps({"path": path}))
    assert call("agent.status")["recording"] == path
    r = nfarm.admin("node", "call", NODE, "agent.video_start", json.dumps({"path": path}),
                    check=False)
    assert r.returncode != 0 and "already recording" in r.stderr
    press(api, "KEY_MENU")
    time.sleep(1.0)
    press(api, "KEY_BACK")
    time.sleep(1.0)
    stop = call("agent.video_stop")
    assert stop["path"] == path
    assert stop["frames"] >= 40
    assert 1.5e6 < stop["duration_us"] < 4e6
    boxes = mp4_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat"), boxes
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_streams", "-show_format", path],
        check=True, capture_output=True, text=True).stdout)
    v = probe["streams"][0]
    assert (v["codec_name"], v["width"], v["height"]) == ("h264", 1280, 720)
    assert 1.5 < float(probe["format"]["duration"]) < 4
    r = nfarm.admin("node", "call", NODE, "agent.video_stop", check=False)
    assert r.returncode != 0 and "no recording" in r.stderr


# ---- surviving the death of parts ----

def test_killed_node_agent_goes_offline_within_10s_and_screenshots_are_503(node_farm):
    s = node_farm.session()
    assert s.get("/api/v2/nodes/" + NODE).json()["online"] is True
    node_farm.proc("nodesvc1").kill()
    t0 = time.monotonic()
    wait_until(lambda: s.get("/api/v2/nodes/" + NODE).json()["online"] is False, 12,
               what="node offline")
    assert time.monotonic() - t0 < 10
    n = s.get("/api/v2/nodes/" + NODE).json()
    assert n["available"] is False and "offline" in n["not_available_reason"]
    r = s.get("/api/v2/nodes/%s/screenshot.png" % NODE)
    assert r.status_code == 503
    assert r.json() == {"error": "Node %s is offline" % NODE}
    node_farm.start_nodesvc(1)
    node_farm.wait_node(1)
    assert screenshot(s).shape == (720, 1280, 3)


def test_vstb_restart_is_survived_without_restarting_the_agent(node_farm):
    s = node_farm.session()
    agent_pid = node_farm.proc("nodesvc1").proc.pid
    press(s, "KEY_MENU")
    node_farm.proc("vstb1").kill()
    r = wait_until(lambda: (lambda r: [r] if r.status_code == 503 else None)(
        s.get("/api/v2/nodes/%s/screenshot.png" % NODE)), 10, what="video lost")[0]
    assert "no video" in r.json()["error"]
    assert s.get("/api/v2/nodes/%s/thumbnail.jpg" % NODE).status_code == 503
    r = s.post("/api/v2/nodes/%s/press" % NODE, json={"key": "KEY_OK"})
    assert r.status_code == 503 and "LIRC" in r.json()["error"]
    assert s.get("/api/v2/nodes/" + NODE).json()["online"] is True  # the agent is still there
    node_farm.start_vstb(1)
    r = wait_until(lambda: (lambda r: [r] if r.status_code == 200 else None)(
        s.get("/api/v2/nodes/%s/screenshot.png" % NODE)), 15, what="video back")[0]
    assert image(r).shape == (720, 1280, 3)
    press(s, "KEY_MENU")  # the new vstb takes keys
    assert node_farm.proc("nodesvc1").proc.pid == agent_pid and node_farm.proc("nodesvc1").alive()


def test_nodes_service_restart_keeps_nodes_online(node_farm):
    s = node_farm.session()
    node_farm.proc("nodes0").kill()
    node_farm.start_service("nodes")
    wait_until(lambda: s.get("/api/v2/nodes/%s/screenshot.png" % NODE).status_code == 200, 15,
               what="screenshots through the new nodes service")
    assert s.get("/api/v2/nodes/" + NODE).json()["online"] is True
