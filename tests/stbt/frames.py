"""Frames the stbt tests and bench/stbt.sh draw: a 720p frame like a set-top box's menu."""

import cv2
import numpy


def ui_frame():
    """1280x720: a gradient, eight menu panels with text, a picture panel."""
    f = numpy.zeros((720, 1280, 3), numpy.uint8)
    f[:] = numpy.linspace(20, 80, 1280).astype(numpy.uint8)[None, :, None]
    for i in range(8):
        y = 80 + i * 75
        cv2.rectangle(f, (100, y), (600, y + 60), (60 + 10 * i, 40, 30), -1)
        cv2.putText(f, "Menu item %d" % i, (120, y + 42), cv2.FONT_HERSHEY_SIMPLEX, 1.1,
                    (230, 230, 230), 2)
    cv2.rectangle(f, (700, 100), (1200, 600), (90, 120, 60), -1)
    cv2.putText(f, "Now playing", (720, 400), cv2.FONT_HERSHEY_SIMPLEX, 1, (255, 255, 255), 2)
    return f


def logo():
    """A 170x60 reference that is nowhere in ui_frame()."""
    img = numpy.zeros((60, 170, 3), numpy.uint8)
    cv2.circle(img, (85, 30), 25, (0, 200, 255), -1)
    cv2.putText(img, "HD", (60, 40), cv2.FONT_HERSHEY_SIMPLEX, 1, (255, 255, 255), 2)
    return img
