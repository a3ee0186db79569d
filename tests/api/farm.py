"""A real stbfarm on loopback for the API tests: redis-server, broker(s), services, gateway(s),
each a real process started from the build tree, logs in a private directory, stopped (and its
log checked for sanitizer reports) when the test is done.

The build to test is $STBF_BUILD (default: <repo>/build); ./stbfarm test runs the suite once
against the normal build and once against the ASan+UBSan one."""

import hashlib
import os
import signal
import socket
import subprocess
import shutil
import tempfile
import time

import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("STBF_BUILD", os.path.join(REPO, "build"))

# Where each binary lives in the build tree.
BINARIES = {
    "broker": "broker/stbfarm-broker",
    "gateway": "gateway/stbfarm-gateway",
    "admin": "admin/stbfarm-admin",
    "nodes": "services/nodes/stbfarm-nodes",
    "jobs": "services/jobs/stbfarm-jobs",
    "results": "services/results/stbfarm-results",
    "reservations": "services/reservations/stbfarm-reservations",
    "nodesvc": "nodesvc/stbfarm-nodesvc",
    "vstb": "vstb/stbfarm-vstb",
    "webhooks": "services/webhooks/stbfarm-webhooks",
}

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "ERROR: ThreadSanitizer")


def read_roles():
    """redis/roles.acl: each role's ACL rules."""
    roles, verbatim = {}, []
    with open(os.path.join(REPO, "redis", "roles.acl")) as f:
        for line in f:
            if line.startswith("user "):
                verbatim.append(line.strip())
            elif line.strip() and not line.startswith("#"):
                role, _, rules = line.strip().partition(" ")
                roles[role] = rules
    return roles, verbatim


ROLES, ACL_VERBATIM = read_roles()


def binary(name):
    return os.path.join(BUILD, BINARIES[name])


_handed_out = set()


def ready_env(text):
    """The NAME=value lines ./stbfarm prints (up: STBF_URL, STBF_TOKEN...; https-cert), as a
    dict."""
    return dict(line.split("=", 1) for line in text.strip().splitlines() if "=" in line)


def free_port():
    """A free loopback port, never one this process handed out before: the kernel may offer a
    port again until its first taker binds it."""
    if len(_handed_out) > 10000:
        _handed_out.clear()
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def farm_pids(data, binary=""):
    """{pid: command line} of every process of the farm in data whose command line holds
    binary: its command line or its environment names the data directory (other farms on the
    machine are left alone)."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdline = f.read()
            with open("/proc/%s/environ" % pid, "rb") as f:
                environ = f.read()
        except OSError:
            continue
        if binary.encode() in cmdline and (data.encode() in cmdline or data.encode() in environ):
            out[int(pid)] = cmdline.replace(b"\0", b" ").decode("utf-8", "replace")
    return out


def wait_until(fn, timeout=20.0, interval=0.05, what="condition"):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - keep polling through transient errors
            last = e
        time.sleep(interval)
    raise TimeoutError("timed out waiting for %s (last: %r)" % (what, last))


def wait_ok(session, path, timeout, what):
    """Until GET path answers 200; on time out, say what the last answer was."""
    last = []

    def ok():
        try:
            r = session.get(path)
        except requests.RequestException as e:
            last[:] = [repr(e)]
            raise
        last[:] = ["%d %s" % (r.status_code, r.text[:300])]
        return r.status_code == 200

    try:
        return wait_until(ok, timeout, what=what)
    except TimeoutError:
        raise TimeoutError("timed out waiting for %s: last answer %s" % (
            what, last[0] if last else "none")) from None


class Process:
    """One child process, its log, and how to stop it."""

    def __init__(self, name, argv, env, log_path):
        self.name, self.argv, self.env, self.log_path = name, argv, env, log_path
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if not self.alive():
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("%s did not stop within %ss of %s" % (self.name, timeout, sig))

    def kill(self):
        """Die as a crash would: no clean-up."""
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""


class Farm:
    """Start with Farm(...).start(); stop with .stop(). Everything listens on 127.0.0.1 or on
    unix sockets under a private directory."""

    SERVICES = ("nodes", "jobs", "reservations", "results")

    def __init__(self, services=None, replicas=None, gateways=1, brokers=1, gateway_args=(),
                 service_args=None, env=None, nodes=0, test_pack=None, metrics=False,
                 broker_urls=None, node_args=None, prefix=None, redis_acl=False, https=False):
        self.dir = tempfile.mkdtemp(prefix="sf", dir="/tmp")
        # https: the gateways serve HTTPS (--https-cert) with a certificate of an authority of
        # the farm's own (./stbfarm https-cert), which clients verify (self.verify)
        self.verify = True
        self.https_cert = None
        if https:
            out = ready_env(stbfarm("https-cert", "--data", self.dir).stdout)
            self.https_cert, self.verify = out["STBF_HTTPS_CERT"], out["STBF_CA_CERT"]
            gateway_args = list(gateway_args) + ["--https-cert", self.https_cert]
        self.test_pack = test_pack
        self.services = tuple(services if services is not None else self.SERVICES)
        self.replicas = dict(replicas or {})
        self.n_gateways = gateways
        self.gateway_args = list(gateway_args)
        self.service_args = dict(service_args or {})
        self.redis_sock = os.path.join(self.dir, "redis.sock")
        self.artifacts = os.path.join(self.dir, "artifacts")
        self.brokers = list(broker_urls or ["ipc://%s/b%d" % (self.dir, i)
                                            for i in range(brokers)])
        self.n_brokers = len(self.brokers)
        self.node_args = node_args or (lambda n: [])  # node n's agent: flags beyond the usual
        self.prefix = prefix or (lambda key: [])  # what runs process key ("ip netns exec ...")
        self.redis_acl = redis_acl  # each role its own Redis user (redis/roles.acl)
        self.procs = {}
        self.ports = []
        # With metrics, every process but Redis serves them on a port of its own (the same
        # across restarts): metrics_url(key).
        self.metrics = metrics
        self.metrics_ports = {}
        self.env = dict(os.environ)
        self.env.update({
            "STBF_REDIS": "unix:" + self.redis_sock,
            "STBF_BROKER": ",".join(self.brokers),
            "STBF_ARTIFACTS": self.artifacts,
            "STBF_LOG_LEVEL": "info",
            "ASAN_OPTIONS": "abort_on_error=0:detect_leaks=1:handle_abort=1",  # abort(): a stack
            "LSAN_OPTIONS": "suppressions=" + os.path.join(REPO, "tests", "lsan.supp"),
            "UBSAN_OPTIONS": "print_stacktrace=1",
            "STBF_TEST_PACK_CACHE": os.path.join(self.dir, "tp-cache"),
        })
        if test_pack:
            self.env["STBF_TEST_PACK"] = test_pack
        self.env.update(env or {})
        self.tokens = {}
        self.passwords = {}
        # Virtual nodes: node i (from 1) is a vstb and a node agent; without a test pack given,
        # the services read a demo test pack made for the nodes (demo/make-test-pack).
        self.n_nodes = nodes
        if nodes and test_pack is None:
            self.test_pack = os.path.join(self.dir, "test-pack")
            subprocess.run([os.path.join(REPO, "demo", "make-test-pack"), self.test_pack,
                            str(nodes)], check=True, capture_output=True)
            self.env["STBF_TEST_PACK"] = self.test_pack

    # ---- processes ----

    def _add(self, key, argv):
        if key in self.procs and self.procs[key].alive():
            raise AssertionError("%s is already running: stop or kill it first" % key)
        if self.metrics and key != "redis":
            port = self.metrics_ports.setdefault(key, free_port())
            argv = list(argv) + ["--metrics-listen", "127.0.0.1:%d" % port]
        p = Process(key, list(self.prefix(key)) + list(argv), self.env_of(key),
                    os.path.join(self.dir, key + ".log"))
        self.procs[key] = p
        return p.start()

    def env_of(self, key):
        """The environment of process key: with its role's Redis user when the farm has them."""
        role = key.rstrip("0123456789")
        if not self.redis_acl or role not in ROLES:
            return self.env
        return dict(self.env, STBF_REDIS_USER=role,
                    STBF_REDIS_PASSWORD_FILE=self.password_file(role))

    def password_file(self, role):
        return os.path.join(self.dir, "redis-%s.password" % role)

    def start_redis(self):
        conf = os.path.join(self.dir, "redis.conf")
        with open(conf, "w") as f:
            f.write("port 0\nunixsocket %s\nunixsocketperm 700\ndir %s\nappendonly yes\n"
                    "appendfsync everysec\nsave \"\"\n" % (self.redis_sock, self.dir))
            if self.redis_acl:
                f.write("aclfile %s\n" % self.write_acl())
        self._add("redis", ["redis-server", conf])
        wait_until(lambda: os.path.exists(self.redis_sock) and self.admin_ok(), 10, what="redis")

    def write_acl(self):
        """A users file of redis/roles.acl with a password per role, each in its file (mode
        600), made on the first start; the admin tool and redis-cli of the test act as admin."""
        lines = list(ACL_VERBATIM)
        for role, rules in ROLES.items():
            if os.path.exists(self.password_file(role)):  # Redis restarted: the same users
                with open(self.password_file(role)) as f:
                    password = f.read().strip()
            else:
                password = os.urandom(24).hex()
                fd = os.open(self.password_file(role), os.O_WRONLY | os.O_CREAT, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(password + "\n")
            lines.append("user %s on #%s resetchannels %s" % (
                role, hashlib.sha256(password.encode()).hexdigest(), rules))
        self.env.update(STBF_REDIS_USER="admin",
                        STBF_REDIS_PASSWORD_FILE=self.password_file("admin"))
        path = os.path.join(self.dir, "users.acl")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def redis_cli(self, *args, user="admin"):
        """redis-cli as user (a role) when the farm has users."""
        env = dict(os.environ)
        argv = ["redis-cli", "-s", self.redis_sock]
        if self.redis_acl:
            with open(self.password_file(user)) as f:
                env["REDISCLI_AUTH"] = f.read().strip()
            argv += ["--user", user]
        return subprocess.run(argv + [str(a) for a in args], capture_output=True, text=True,
                              env=env)

    def admin_ok(self):
        return self.redis_cli("ping").stdout.strip() == "PONG"

    def start_broker(self, i=0):
        return self._add("broker%d" % i, [binary("broker"), "--listen", self.brokers[i]])

    def start_service(self, name, replica=0):
        args = [binary(name)] + list(self.service_args.get(name, ()))
        return self._add("%s%d" % (name, replica), args)

    def start_gateway(self, i=0):
        if len(self.ports) <= i:
            self.ports.append(free_port())
        args = [binary("gateway"), "--listen", "127.0.0.1:%d" % self.ports[i],
                "--rpc-timeout-ms", "3000"] + self.gateway_args
        return self._add("gateway%d" % i, args)

    def start(self):
        """Start everything and wait until it answers. A farm that does not come up prints its
        logs and stops what it started: no fixture would be left to stop it."""
        try:
            self.start_redis()
            for i in range(self.n_brokers):
                self.start_broker(i)
            for s in self.services:
                for r in range(self.replicas.get(s, 1)):
                    self.start_service(s, r)
            for i in range(self.n_gateways):
                self.start_gateway(i)
            for n in range(1, self.n_nodes + 1):
                self.start_vstb(n)
                self.start_nodesvc(n)
            for i in range(self.n_gateways):
                self.wait_healthy(i)
            for n in range(1, self.n_nodes + 1):
                self.wait_node(n)
        except BaseException:
            self.print_logs()
            try:
                self.stop()
            except AssertionError as e:
                print(e)
            raise
        return self

    # ---- virtual nodes ----

    @staticmethod
    def node_id(n):
        return "stb-tester-%012d" % n

    def start_vstb(self, n):
        """The virtual set-top box of node n, on unix sockets (the same each time it starts)."""
        return self._add("vstb%d" % n, [
            binary("vstb"), "--lirc-listen", "none", "--lirc-socket", self.vstb_socket(n, "lirc"),
            "--video-listen", "none", "--video-socket", self.vstb_socket(n, "video")])

    def vstb_socket(self, n, what):
        return os.path.join(self.dir, "vstb%d-%s.sock" % (n, what))

    def start_nodesvc(self, n):
        return self._add("nodesvc%d" % n, [
            binary("nodesvc"), "--node-id", self.node_id(n),
            "--listen", "ipc://%s/node%d.sock" % (self.dir, n),
            "--video-source", "unix:" + self.vstb_socket(n, "video"),
            "--video-format", "mpjpeg", "--lircd", self.vstb_socket(n, "lirc"),
            "--work-dir", os.path.join(self.dir, "work%d" % n)] + list(self.node_args(n)))

    def wait_node(self, n, timeout=20):
        """Until node n is online and its video arrives."""
        s = self.session("admin")
        wait_until(lambda: s.get("/api/v2/nodes/%s/thumbnail.jpg" % self.node_id(n))
                   .status_code == 200, timeout, what="node %d online with video" % n)

    def wait_healthy(self, i=0, timeout=20):
        wait_until(lambda: requests.get(self.url_of(i) + "/healthz", timeout=2,
                                        verify=self.verify).status_code == 200,
                   timeout, what="gateway %d healthy" % i)

    def stop(self):
        """Stop everything, in reverse order, and fail on any sanitizer report."""
        errors = []
        for key in reversed(list(self.procs)):
            p = self.procs[key]
            try:
                p.stop()
            except AssertionError as e:
                errors.append(str(e))
            if p.proc is not None and p.proc.returncode not in (0, -signal.SIGKILL, None) \
                    and key != "redis":
                tail = "\n".join(p.log().splitlines()[-20:])  # a panic says why here
                errors.append("%s exited with %s; its log ends:\n%s"
                              % (key, p.proc.returncode, tail))
        for key, p in self.procs.items():
            text = p.log()
            if any(m in text for m in SANITIZER_MARKS):
                errors.append("sanitizer report in %s:\n%s" % (key, text[-6000:]))
        if errors:
            raise AssertionError("\n".join(errors) + "\n(logs in %s)" % self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)

    def proc(self, key):
        return self.procs[key]

    def print_logs(self, lines=40):
        """The last lines of every process's log, for a test that failed."""
        for key, p in self.procs.items():
            tail = p.log().splitlines()[-lines:]
            print("---- %s (%s) ----" % (key, "running" if p.alive() else "exited"))
            print("\n".join(tail))

    # ---- clients ----

    def url_of(self, i=0):
        return "%s://127.0.0.1:%d" % ("https" if self.https_cert else "http", self.ports[i])

    @property
    def url(self):
        return self.url_of(0)

    def metrics_url(self, key):
        """Where process key (gateway0, nodes0, broker0, nodesvc1...) serves its metrics."""
        return "http://127.0.0.1:%d/metrics" % self.metrics_ports[key]

    def admin(self, *args, check=True):
        r = subprocess.run([binary("admin")] + list(args), env=self.env, capture_output=True,
                           text=True)
        if check and r.returncode != 0:
            raise AssertionError("stbfarm-admin %s: %s" % (" ".join(args), r.stderr))
        return r

    def token(self, user="alice"):
        if user not in self.tokens:
            self.tokens[user] = self.admin("token", "create", user).stdout.strip()
        return self.tokens[user]

    def session(self, user="alice", gateway=0):
        s = Session(self.url_of(gateway), self.token("openapi-reader"), verify=self.verify)
        s.headers["Authorization"] = "token " + self.token(user)
        return s

    def run_job(self, session, cases, node=1, timeout=120, **fields):
        """Run test cases as one job on node n through the API and wait for it to end: the
        finished job and its results, oldest first."""
        body = {"node_id": self.node_id(node), "test_pack_revision": "master",
                "test_cases": cases}
        body.update(fields)
        r = session.post("/api/v2/run_tests", json=body)
        assert r.status_code == 200, r.text
        uid = r.json()["job_uid"]
        end = time.monotonic() + timeout
        while True:
            assert time.monotonic() < end, "job %s did not finish in %d s" % (uid, timeout)
            r = session.get("/api/v2/jobs%s/await_completion" % uid, timeout=timeout)
            assert r.status_code in (200, 202), r.text
            if r.status_code == 200:
                break
        results = session.get("/api/v2/results",
                              params={"filter": "job:" + uid, "sort": "date:asc"})
        assert results.status_code == 200, results.text
        return r.json(), results.json()

    def user(self, name, role="write"):
        """An account for the portal; returns its password."""
        if name not in self.passwords:
            self.passwords[name] = self.admin("user", "add", name, "--role", role).stdout.strip()
        return self.passwords[name]

    def portal(self, name, role="write", gateway=0):
        """A Session signed in to the portal as a browser is: the session cookie, and the
        session's CSRF token in the header every change needs."""
        s = Session(self.url_of(gateway), self.token("openapi-reader"), verify=self.verify)
        r = s.post("/api/v2/session", json={"username": name, "password": self.user(name, role)})
        if r.status_code != 200:
            raise AssertionError("sign-in as %s: %d %s" % (name, r.status_code, r.text))
        s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return s

    def redis(self, *args):
        r = self.redis_cli(*args)
        r.check_returncode()
        return r.stdout


# ---- certificates ----

def stbfarm(*args, env=None):
    r = subprocess.run([os.path.join(REPO, "stbfarm")] + list(args), capture_output=True,
                       text=True, env=dict(os.environ, **(env or {})))
    assert r.returncode == 0, r.stderr
    return r


class Pki:
    """A farm's authorities and credentials in a directory of the test's own; nodes enrolled in
    the Redis at redis (STBF_REDIS)."""

    def __init__(self, data, redis=None):
        self.data, self.redis = data, redis
        stbfarm("ca", "init", "--data", data)
        self.farm = os.path.join(data, "tls", "farm")

    def enroll(self, node):
        stbfarm("node", "enroll", node, "--data", self.data, env={"STBF_REDIS": self.redis})
        return self.node(node)

    def revoke(self, node):
        stbfarm("node", "revoke", node, "--data", self.data, env={"STBF_REDIS": self.redis})

    def node(self, node):
        return os.path.join(self.data, "tls", "nodes", node)


# ---- for bench/ ----

def cpu_seconds(pid):
    """The CPU time process pid has used, user and system, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def git(repo, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="stbfarm", GIT_AUTHOR_EMAIL="t@stbfarm.invalid",
               GIT_COMMITTER_NAME="stbfarm", GIT_COMMITTER_EMAIL="t@stbfarm.invalid")
    return subprocess.run(["git", "-C", repo] + list(args), env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


def make_test_pack(path, files, branch="master"):
    """A git repository at path holding files ({"tests/a.py": "..."}), committed on branch.
    Returns the commit sha."""
    os.makedirs(path, exist_ok=True)
    if not os.path.isdir(os.path.join(path, ".git")):
        git(path, "init", "-q", "-b", branch)
    return commit_files(path, files)


def commit_files(path, files, message="test pack"):
    for name, content in files.items():
        full = os.path.join(path, name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(full, mode) as f:
            f.write(content)
    git(path, "add", "-A")
    git(path, "commit", "-q", "--allow-empty", "-m", message)
    return git(path, "rev-parse", "HEAD")


class Session(requests.Session):
    """requests.Session with a base URL: s.get("/api/v2/nodes"). Every answer is checked against
    the farm's OpenAPI document (tests/api/openapi.py), fetched with the first request."""

    checkers = {}  # base URL -> Checker: one document per gateway

    def __init__(self, base, doc_token=None, verify=True):
        super().__init__()
        self.base = base
        self.verify = verify  # True, or the authority an HTTPS farm's certificate chains to
        self.doc_token = doc_token  # fetches the document: a token of its own, so that the
        # fetch counts against no rate limit a test measures

    def checker(self):
        from openapi import Checker
        if self.base not in Session.checkers:
            if not self.doc_token:
                return None
            try:
                r = requests.get(self.base + "/api/v2/openapi.json", timeout=30,
                                 headers={"Authorization": "token " + self.doc_token},
                                 verify=self.verify)
            except requests.RequestException:
                return None
            if r.status_code != 200:
                return None  # the farm is down or restarting: nothing to check against yet
            Session.checkers[self.base] = Checker(r.json())
        return Session.checkers[self.base]

    def request(self, method, url, *args, **kwargs):
        if url.startswith("/"):
            url = self.base + url
        kwargs.setdefault("timeout", 30)
        if self.verify is not True:  # requests would let REQUESTS_CA_BUNDLE win over it
            kwargs.setdefault("verify", self.verify)
        response = super().request(method, url, *args, **kwargs)
        checker = self.checker() if url.startswith(self.base) else None
        if checker:
            checker.check(method.upper(), url, response)
        return response
