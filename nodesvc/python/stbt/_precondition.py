"""`as_precondition`: failures inside it become errors (`PreconditionError`)."""

import contextlib
import traceback

from ._errors import PreconditionError, UITestFailure
from ._logging import debug


@contextlib.contextmanager
def as_precondition(message):
    """Within the ``with`` block, a `UITestFailure` or `AssertionError` is raised again as a
    `PreconditionError` (a test error, not a failure) carrying ``message`` (word it positively:
    "Channels tuned"), the original exception and its ``screenshot``, if any."""
    try:
        yield
    except (UITestFailure, AssertionError) as original:
        debug("stbt.as_precondition caught a %s exception and will re-raise it as "
              "PreconditionError.\nOriginal exception was:\n%s"
              % (type(original).__name__, traceback.format_exc()))
        exc = PreconditionError(message, original)
        exc.screenshot = getattr(original, "screenshot", None)
        raise exc from original
