"""stbt_run.py: a test case run as Stb-tester runs it for the test pack's stbt_version, and the
outcome it reports to the node runner."""

import json
import os
import subprocess
import textwrap

import pytest

from conftest import PYTHON


def run(root, path, function, cwd):
    subprocess.run(["/usr/bin/python3", os.path.join(PYTHON, "stbt_run.py"), str(root), path,
                    function, str(cwd / "r.json")],
                   env=dict(os.environ, PYTHONPATH=PYTHON, PYTHONDONTWRITEBYTECODE="1"),
                   cwd=str(cwd), capture_output=True, check=True)
    return json.loads((cwd / "r.json").read_text())


def pack(tmp_path, files, version=None):
    root = tmp_path / "pack"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    if version is not None:
        (root / ".stbt.conf").write_text("[test_pack]\nstbt_version = %s\n" % version)
    (tmp_path / "run").mkdir()
    return root, tmp_path / "run"


@pytest.mark.parametrize("header", ["", "import pytest\n"], ids=["called", "pytest"])
@pytest.mark.parametrize("version", [None, 34, 32])
@pytest.mark.parametrize("body, outcome, reason", [
    ("pass", "pass", None),
    ("assert 1 == 2, 'one is not two'", "fail", "one is not two"),
    ("raise stbt.MatchTimeout(None, 'x.png', 3)", "fail", "Didn't find match for 'x.png'"),
    ("raise stbt.UITestError('cannot')", "error", "cannot"),
    ("raise stbt.NoVideo('no video')", "error", "no video"),
    ("raise KeyError('k')", "error", "'k'"),
    ("import sys; sys.exit(3)", "error", "3"),
])
def test_the_outcome_is_stbts(tmp_path, header, version, body, outcome, reason):
    """The same whether pytest runs the test (its module mentions pytest) or not."""
    source = header + "import stbt\n\ndef test_x():\n    %s\n" % body
    root, cwd = pack(tmp_path, {"tests/t.py": source}, version)
    r = run(root, "tests/t.py", "test_x", cwd)
    assert r["outcome"] == outcome
    if reason is None:
        assert r["failure_reason"] is None and r["traceback"] is None
    else:
        assert reason in r["failure_reason"]
        assert "t.py" in r["traceback"] and "test_x" in r["traceback"]


def test_v34_runs_with_pytest_fixtures_and_conftest(tmp_path):
    root, cwd = pack(tmp_path, {
        "tests/conftest.py": """
            import pytest

            @pytest.fixture
            def channel():
                with open("fixture.log", "w") as f:
                    f.write("set up\\n")
                yield 7

            @pytest.fixture
            def broken():
                raise RuntimeError("no remote")
        """,
        "tests/helpers.py": "ANSWER = 7\n",
        "tests/t.py": """
            import helpers

            def test_uses_a_fixture(channel):
                assert channel == helpers.ANSWER

            def test_introspection(channel):
                assert channel == 8

            def test_broken_fixture(broken):
                pass
        """}, version=34)
    assert run(root, "tests/t.py", "test_uses_a_fixture", cwd)["outcome"] == "pass"
    assert (cwd / "fixture.log").read_text() == "set up\n"  # cwd files become artifacts
    r = run(root, "tests/t.py", "test_introspection", cwd)
    assert r["outcome"] == "fail" and "assert 7 == 8" in r["failure_reason"]
    r = run(root, "tests/t.py", "test_broken_fixture", cwd)
    assert r["outcome"] == "error" and "no remote" in r["failure_reason"]
    r = run(root, "tests/t.py", "test_missing", cwd)
    assert r["outcome"] == "error"
    assert sorted(os.listdir(cwd)) == ["fixture.log", "r.json"]
    assert not (root / ".pytest_cache").exists()


def test_v33_uses_pytest_only_when_asked(tmp_path):
    files = {"tests/t.py": "import pytest\n\n@pytest.fixture\ndef f():\n    return 1\n\n"
                           "def test_x(f):\n    assert f == 1\n"}
    root, cwd = pack(tmp_path, files)
    (root / ".stbt.conf").write_text("[test_pack]\nstbt_version = 33\npytest = true\n")
    assert run(root, "tests/t.py", "test_x", cwd)["outcome"] == "pass"
    (root / ".stbt.conf").write_text("[test_pack]\nstbt_version = 33\n")
    r = run(root, "tests/t.py", "test_x", cwd)  # called plainly: no fixture
    assert r["outcome"] == "error" and "missing 1 required positional argument" in \
        r["failure_reason"]


def test_a_package_of_tests_imports_relatively_and_sets_global_corrections(tmp_path):
    root, cwd = pack(tmp_path, {
        "tests/__init__.py": "import stbt\nstbt.set_global_ocr_corrections({'a': 'b'})\n",
        "tests/common.py": "VALUE = 'common'\n",
        "tests/menu/__init__.py": "",
        "tests/menu/t.py": """
            import stbt
            from .. import common

            def test_x():
                assert common.VALUE == 'common'
                assert stbt.apply_ocr_corrections('a') == 'b'
                assert stbt.TEST_PACK_ROOT and stbt.find_file('tests/common.py')
        """})
    for version in (34, 32):
        (root / ".stbt.conf").write_text("[test_pack]\nstbt_version = %d\n" % version)
        r = run(root, "tests/menu/t.py", "test_x", cwd)
        assert r["outcome"] == "pass", r


def test_a_bare_assert_gives_its_source_as_the_reason_without_pytest(tmp_path):
    root, cwd = pack(tmp_path, {"tests/t.py": "def test_x():\n    x = 7\n    assert x == 8\n"})
    r = run(root, "tests/t.py", "test_x", cwd)
    assert r["outcome"] == "fail" and r["failure_reason"] == "assert x == 8"
