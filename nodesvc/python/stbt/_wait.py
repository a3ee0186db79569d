"""`wait_until`: call a function until its value is truthy (and stable), or a timeout."""

import inspect
import time

from ._logging import debug


def wait_until(callable_, timeout_secs=10, interval_secs=0, predicate=None, stable_secs=0):
    """Call ``callable_`` repeatedly, ``interval_secs`` apart, until it returns a truthy value
    or ``timeout_secs`` have passed; it is always called once more at the deadline if the last
    call came before it.

    :param predicate: a function of the value; its result (rather than the value's) decides
        truthiness, and is what ``stable_secs`` compares. The value is what is returned.
    :param stable_secs: the value (or predicate's result) must stay equal (``==``) and truthy
        for this long; the first value of that stable run is returned.
    :returns: the value (truthy on success). On time-out: the last value if it is falsy;
        None if it was truthy but failed the ``predicate`` or ``stable_secs`` conditions."""
    if predicate is None:
        predicate = _identity
    start = time.time()
    deadline = start + timeout_secs
    stable_value = stable_key = stable_since = None
    while True:
        t = time.time()
        value = callable_()
        key = predicate(value)
        if stable_secs:
            if stable_since is None or key != stable_key:
                stable_since, stable_value, stable_key = t, value, key
            if key and t - stable_since >= stable_secs:
                _succeeded(start, callable_)
                return stable_value
        elif key:
            _succeeded(start, callable_)
            return value
        if t >= deadline:
            debug("wait_until timed out after %s seconds: %s" % (timeout_secs,
                                                                 _describe(callable_)))
            return value if not value else None
        # the next call comes after interval_secs, or at the deadline if that is sooner
        time.sleep(max(0.0, min(interval_secs, deadline - time.time())))


def _succeeded(start, callable_):
    debug("wait_until succeeded in %.3fs: %s" % (time.time() - start, _describe(callable_)))


def _identity(x):
    return x


def _describe(callable_):
    name = getattr(callable_, "__name__", None)
    if name is None:
        return repr(callable_)
    if name == "<lambda>":
        try:
            return inspect.getsource(callable_).strip()
        except (OSError, TypeError):
            pass
    return name
