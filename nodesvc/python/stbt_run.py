"""Run one test case, as Stb-tester runs it for the test pack's test_pack.stbt_version:
    stbt_run.py <test pack root> <path/to/file.py> <function> <result file>

The result file gets one JSON object: outcome ("pass", "fail" or "error"), failure_reason and
traceback. An AssertionError or stbt.UITestFailure (or a subclass) raised by the test is a
"fail"; any other exception, in the test or in its fixtures, is an "error"; returning is a
"pass". The working directory is the node runner's (every file left there is an artifact).

stbt_version 34 (the default) runs the test with pytest, as Stb-tester v34 does: the test
pack's conftest.py files, fixtures, assertion introspection; pytest's output goes to the log.
stbt_version 33 uses pytest when [test_pack] pytest is true. A test that uses nothing of
pytest's (see _needs_pytest) is called directly even then: the same outcome, without pytest's
start-up. Older versions (and 33 without
pytest) import the file and call the function. Either way the test pack's root is on sys.path
(helper modules import as in Stb-tester) and the test file is imported as pytest would: as
part of its package when its directory has an __init__.py, else with its directory on
sys.path."""

import ast
import importlib
import json
import os
import sys
import traceback


def main():
    root, path, function, result_file = sys.argv[1:5]
    root = os.path.abspath(root)
    if root not in sys.path:
        sys.path.insert(0, root)
    if not os.environ.get("STBT_CONFIG_FILE"):
        os.environ["STBT_CONFIG_FILE"] = os.path.join(root, ".stbt.conf")
    sys.argv = [os.path.join(root, path)]
    import stbt  # noqa: PLC0415 - after sys.path and the configuration are set up
    stbt.TEST_PACK_ROOT = root
    if _uses_pytest(stbt) and _needs_pytest(root, path, function):
        result = _run_pytest(stbt, root, path, function)
    else:
        result = _run_plain(stbt, root, path, function)
    sys.stdout.flush()
    sys.stderr.flush()
    with open(result_file, "w") as f:
        json.dump(result, f)
    return 0


def _uses_pytest(stbt):
    try:
        version = int(stbt.get_config("test_pack", "stbt_version"))
    except (stbt.ConfigurationError, ValueError):
        version = 34
    if version >= 34:
        return True
    return version == 33 and stbt.get_config("test_pack", "pytest", False, type_=bool)


def _needs_pytest(root, path, function):
    """Whether running the test with pytest could differ from calling it: a conftest.py or a
    pytest configuration in the test pack, a test module that mentions pytest, or a test
    function that takes arguments (fixtures). Otherwise the function is called directly, which
    gives the same outcome without pytest's start-up (~0.3 s a test case)."""
    d = os.path.dirname(path)
    while True:
        if os.path.exists(os.path.join(root, d, "conftest.py")):
            return True
        if not d:
            break
        d = os.path.dirname(d)
    for name in ("pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"):
        try:
            with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
                if "pytest" in f.read():
                    return True
        except OSError:
            pass
    try:
        with open(os.path.join(root, path), encoding="utf-8") as f:
            source = f.read()
        tree = ast.parse(source)
    except (OSError, SyntaxError, ValueError):
        return True
    if "pytest" in source:
        return True
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            a = node.args
            return bool(a.posonlyargs or a.args or a.kwonlyargs or a.vararg or a.kwarg or
                        node.decorator_list or isinstance(node, ast.AsyncFunctionDef))
    return True


def _outcome(stbt, exc):
    failure = isinstance(exc, (AssertionError, stbt.UITestFailure))
    return "fail" if failure else "error"


def _reason(exc):
    text = str(exc)
    if not text and isinstance(exc, AssertionError):
        # an assert without a message: its source line, as pytest's reason starts "assert ..."
        frames = traceback.extract_tb(exc.__traceback__)
        if frames and frames[-1].line:
            return frames[-1].line
    return text or type(exc).__name__


# ---- pytest (v34; v33 with pytest = true) ----

class _Verdict:
    """A pytest plugin that keeps the first thing that went wrong in the test's reports."""

    def __init__(self, stbt):
        self.stbt = stbt
        self.outcome, self.reason, self.tb = "pass", None, None
        self.ran = False

    def _set(self, outcome, reason, tb):
        if self.outcome == "pass":
            self.outcome, self.reason, self.tb = outcome, reason, tb
        sys.stderr.write(tb if tb.endswith("\n") else tb + "\n")

    def pytest_collectreport(self, report):
        if report.failed:
            self._set("error", "the test could not be collected: %s" % (
                report.longreprtext.strip().splitlines() or ["?"])[-1], report.longreprtext)

    def pytest_runtest_makereport(self, item, call):
        # a hook, not a wrapper: pytest's own report is made from the same `call`
        self.ran = True
        if call.excinfo is None:
            return
        import pytest  # noqa: PLC0415
        exc = call.excinfo.value
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if call.excinfo.errisinstance(pytest.skip.Exception):
            self._set("error", "skipped: %s" % (getattr(exc, "msg", None) or exc), tb)
        elif call.excinfo.errisinstance(pytest.xfail.Exception) or (
                call.when == "call" and item.get_closest_marker("xfail")):
            return  # an expected failure is what the test says should happen
        elif call.when == "call":
            reason = _reason(exc)
            if isinstance(exc, AssertionError):
                # pytest's message is the assert's own, then its introspection (kept in the
                # traceback): the reason is the first line, "EPG is empty" or "assert 7 == 8"
                reason = reason.split("\n", 1)[0]
            self._set(_outcome(self.stbt, exc), reason, tb)
        else:
            self._set("error", "%s of the test: %s" % (call.when, _reason(exc)), tb)

    def pytest_runtest_logreport(self, report):
        if report.failed and self.tb and self.outcome != "pass" and report.when == "call":
            self.tb = report.longreprtext  # pytest's, with the assertion's introspection


def _run_pytest(stbt, root, path, function):
    import pytest  # noqa: PLC0415
    verdict = _Verdict(stbt)
    nodeid = "%s::%s" % (os.path.join(root, path), function)
    try:
        rc = pytest.main([nodeid, "-p", "no:cacheprovider", "-s", "-q", "--rootdir", root,
                          "--tb=short", "-W", "ignore::pytest.PytestAssertRewriteWarning"],
                         plugins=[verdict])
    except BaseException as e:  # noqa: BLE001 - a test that kills pytest is still reported
        return _error(e)
    if verdict.outcome == "pass" and not verdict.ran:
        verdict.outcome = "error"
        verdict.reason = "%s is not a test in %s (pytest exit status %s)" % (function, path,
                                                                             int(rc))
    return {"outcome": verdict.outcome, "failure_reason": verdict.reason,
            "traceback": verdict.tb}


def _error(e, outcome="error"):
    tb = traceback.format_exc()
    sys.stderr.write(tb)
    return {"outcome": outcome, "failure_reason": _reason(e), "traceback": tb}


# ---- plain (v33 without pytest, and older) ----

def _module_name(root, path):
    """The module name pytest would give the file, and the directory to import it from."""
    parts = os.path.splitext(path)[0].split("/")
    top = len(parts) - 1
    while top > 0 and os.path.exists(os.path.join(root, *parts[:top], "__init__.py")):
        top -= 1
    return ".".join(parts[top:]), os.path.join(root, *parts[:top])


def _run_plain(stbt, root, path, function):
    try:
        name, base = _module_name(root, path)
        if base not in sys.path:
            sys.path.insert(0, base)
        module = importlib.import_module(name)
        getattr(module, function)()
    except BaseException as e:  # noqa: BLE001 - every way a test can end is reported
        return _error(e, "error" if isinstance(e, KeyboardInterrupt) else _outcome(stbt, e))
    return {"outcome": "pass", "failure_reason": None, "traceback": None}


if __name__ == "__main__":
    sys.exit(main())
