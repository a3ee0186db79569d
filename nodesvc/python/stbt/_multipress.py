"""`MultiPress`: typing text on a numeric keypad by pressing a digit once, twice... per letter."""

import time

from ._logging import debug

DEFAULT_KEY_MAPPING = {
    "KEY_0": " 0", "KEY_1": "1.,", "KEY_2": "abc2", "KEY_3": "def3", "KEY_4": "ghi4",
    "KEY_5": "jkl5", "KEY_6": "mno6", "KEY_7": "pqrs7", "KEY_8": "tuv8", "KEY_9": "wxyz9",
}


class MultiPress:
    """Enter text with multi-press (ITU E.161): ``MultiPress().enter_text("teletubbies")``.

    :param dict key_mapping: remote-control key -> the characters it types, in order; merged
        with the default (``KEY_2``: ``"abc2"``, ...).
    :param interpress_delay_secs: between presses (default as `stbt.press`).
    :param interletter_delay_secs: before a letter on the same key as the previous one (1 s)."""

    def __init__(self, key_mapping=None, interpress_delay_secs=None, interletter_delay_secs=1):
        mapping = dict(DEFAULT_KEY_MAPPING)
        mapping.update(key_mapping or {})
        self.keys = {c: (key, n) for key, letters in mapping.items()
                     for n, c in enumerate(letters, start=1)}
        self.interpress_delay_secs = interpress_delay_secs
        self.interletter_delay_secs = interletter_delay_secs

    def enter_text(self, text):
        """Type ``text`` (case doesn't matter). ValueError before any press if a character
        can't be typed."""
        from ._press import press  # noqa: PLC0415
        text = text.lower()
        for c in text:
            if c not in self.keys:
                raise ValueError("Don't know how to enter %r" % (c,))
        debug("MultiPress.enter_text: %r" % (text,))
        previous = None
        for c in text:
            key, n = self.keys[c]
            if key == previous:
                time.sleep(self.interletter_delay_secs)
            for _ in range(n):
                press(key, interpress_delay_secs=self.interpress_delay_secs)
            previous = key
