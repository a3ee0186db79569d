"""A test case that prints a line a second for 4 s: for following a running job's log."""

TALK_FILES = {"tests/talk.py": '''import sys
import time


def test_talks_slowly():
    for n in range(4):
        print("talking line %d" % n)
        sys.stdout.flush()
        time.sleep(1)
'''}
TALK = "tests/talk.py::test_talks_slowly"
