"""Run one test case, the way stb-tester decides its outcome:
    stbt_run.py <test pack root> <path/to/file.py> <function> <result file>
An AssertionError or stbt.UITestFailure (or a subclass) is a "fail"; any other exception is an
"error"; returning is a "pass". The result file gets one JSON object: outcome, failure_reason,
traceback."""

import importlib.util
import json
import os
import sys
import traceback


def main():
    root, path, function, result_file = sys.argv[1:5]
    sys.path.insert(0, root)
    sys.argv = [os.path.join(root, path)]
    import stbt  # noqa: PLC0415 - after sys.path is set up
    failure_types = (AssertionError, stbt.UITestFailure)
    outcome, reason, tb = "pass", None, None
    try:
        name = "stbt_test_" + path[:-3].replace("/", ".").replace(".", "_")
        spec = importlib.util.spec_from_file_location(name, os.path.join(root, path))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        getattr(module, function)()
    except BaseException as e:  # noqa: BLE001 - every way a test can end is reported
        if isinstance(e, KeyboardInterrupt):
            outcome = "error"
        else:
            outcome = "fail" if isinstance(e, failure_types) else "error"
        reason = str(e) or type(e).__name__
        tb = traceback.format_exc()
        sys.stderr.write(tb)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    with open(result_file, "w") as f:
        json.dump({"outcome": outcome, "failure_reason": reason, "traceback": tb}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
