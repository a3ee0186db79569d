"""``import stbt_core`` is ``import stbt``: the same module object (its state, its classes)
under the name open-source Stb-tester test packs use."""

import sys

import stbt

sys.modules[__name__] = stbt
