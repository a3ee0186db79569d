"""The exceptions of the stbt API. UITestFailure means the device misbehaved (the test fails);
anything else, UITestError included, means the test could not do its job (the test errors)."""


class UITestError(Exception):
    """The test script could not run as intended: an error, not a failure."""


class UITestFailure(Exception):
    """The device under test did not behave as the test expects: a failure."""


class NoVideo(UITestFailure):
    """No video from the device under test."""


class ConfigurationError(UITestError):
    """A configuration value is missing or malformed."""


class MatchTimeout(UITestFailure):
    """wait_for_match gave up."""

    def __init__(self, screenshot, expected, timeout_secs):
        super().__init__()
        self.screenshot = screenshot
        self.expected = expected
        self.timeout_secs = timeout_secs

    def __str__(self):
        return "Didn't find match for '%s' within %g seconds." % (self.expected,
                                                                  self.timeout_secs)
