import pytest

from farm import Farm


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so that fixtures can tell a failed test."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


@pytest.fixture(scope="module")
def farm():
    """One farm shared by a module's tests that do not break it."""
    f = Farm().start()
    f.admin("node", "register", "stb-tester-000000000001", "--alive")
    f.admin("node", "register", "stb-tester-000000000002")
    yield f
    f.stop()


@pytest.fixture
def fresh_farm(request):
    """A farm of the test's own, for tests that kill and restart its parts. Parametrise with
    indirect=True and a dict of Farm arguments to shape it."""
    kwargs = getattr(request, "param", {}) or {}
    f = Farm(**kwargs).start()
    yield f
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        f.print_logs()  # shown under "Captured stdout teardown"
    f.stop()


@pytest.fixture
def api(farm):
    return farm.session("alice")
