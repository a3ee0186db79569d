"""The exceptions of the stbt API and what they mean for a test's outcome: `UITestFailure`
(and `AssertionError`) make a test *fail* (the device misbehaved); anything else, these errors
included, makes it an *error* (the test could not do its job)."""


class UITestError(Exception):
    """The test script had an unrecoverable error."""


class UITestFailure(Exception):
    """The test failed because the device under test didn't behave as expected.

    Inherit from this if you need to define your own test-failure exceptions."""


class NoVideo(Exception):
    """No video available from the source pipeline (an error, not a failure)."""


class ConfigurationError(Exception):
    """An error with your stbt configuration file."""


class PreconditionError(UITestError):
    """Exception raised by `as_precondition`: a failure inside it, reported as an error.

    ``message`` is the precondition's description, ``original_exception`` what was raised and
    ``screenshot`` that exception's screenshot, if it had one."""

    def __init__(self, message, original_exception):
        super().__init__()
        self.message = message
        self.original_exception = original_exception
        self.screenshot = None

    def __str__(self):
        return "Didn't meet precondition '%s' (original exception was: %s)" % (
            self.message, self.original_exception)
