"""Test cases that show how stbfarm reports each outcome: a failure with an assertion message,
an error, and a test that leaves files of its own among the results' artifacts."""

import os

import stbt


def test_that_the_epg_is_populated():
    """Fails: the home screen shows no programme guide."""
    stbt.press("KEY_HOME")
    assert stbt.match("images/guide-highlighted.png"), "EPG is empty"


def test_that_reads_a_missing_setting():
    """Errors: a configuration value that .stbt.conf does not have."""
    stbt.get_config("test_pack", "no_such_setting")


def test_that_writes_custom_artifacts():
    """Passes, leaving my-custom-logfile.log and a/file in a subdirectory/another.log behind."""
    with open("my-custom-logfile.log", "w") as f:
        f.write("frames seen: %r\n" % (stbt.get_frame().shape,))
    os.makedirs("a/file in a subdirectory", exist_ok=True)
    with open("a/file in a subdirectory/another.log", "w") as f:
        f.write("written by the test script\n")
    print("wrote two custom artifacts")
