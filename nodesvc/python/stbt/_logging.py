"""`debug`: a line in the test's log (stderr, which the node runner timestamps into stbt.log)."""

import sys
import threading

_lock = threading.Lock()


def debug(msg):
    """Print the given string to the test-run's log (stbt.log)."""
    text = "%s\n" % (msg,)
    with _lock:
        sys.stderr.write(text)
        sys.stderr.flush()
