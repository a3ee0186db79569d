"""`Keyboard`: a model of an on-screen keyboard (a directed graph of keys, each edge the remote
control key that moves the focus) and the navigation that types text with it."""

import heapq
import itertools
import re
import time
from typing import NamedTuple, Optional

from ._geometry import Region
from ._grid import Grid
from ._logging import debug
from ._mask import load_mask

_OPPOSITE = {"KEY_DOWN": "KEY_UP", "KEY_UP": "KEY_DOWN", "KEY_LEFT": "KEY_RIGHT",
             "KEY_RIGHT": "KEY_LEFT"}
# Edges whose target the model can't predict (several targets for one key) cost this much, so
# that shortest paths avoid them.
_UNCERTAIN_WEIGHT = 100


class Keyboard:
    """Models the behaviour of an on-screen keyboard: the keys (`add_key`, `add_grid`,
    `add_edgelist`) and the transitions between them (`add_transition`), for `navigate_to` and
    `enter_text` to move the focus with the remote control.

    :param mask: what `press_and_wait` looks at to tell when the focus stopped moving.
    :param navigate_timeout: seconds before `navigate_to` gives up (default 60)."""

    class Key(NamedTuple):
        """A key of the keyboard, as `find_key` returns it: ``name``, ``text``, ``region``,
        ``mode``."""
        name: Optional[str] = None
        text: Optional[str] = None
        region: Optional[Region] = None
        mode: Optional[str] = None

        def __repr__(self):
            return "Keyboard.Key(%s)" % ", ".join(
                "%s=%r" % (k, v) for k, v in zip(self._fields, self) if v is not None)

    def __init__(self, *, mask=Region.ALL, navigate_timeout=60):
        self.mask = load_mask(mask)
        self.navigate_timeout = navigate_timeout
        self._keys = []
        self._edges = {}  # key -> {target: remote-control key}
        self.modes = set()

    # ---- the model ----

    def add_key(self, name, text=None, region=None, mode=None):
        """Add a key: ``name`` (its label), ``text`` it types (default: ``name`` when that is
        one character, else ``""``), its ``region`` on screen, and its ``mode`` ("lowercase",
        "symbols"...). All keys must give a region, or none; a mode, or none.

        :returns: the `Keyboard.Key`.
        :raises: ValueError if the key exists already."""
        return self._add_key({"name": name, "text": text, "region": region, "mode": mode})

    def _add_key(self, spec):
        if self._find_keys(spec):
            raise ValueError("Key already exists: %r" % (self._find_keys(spec)[0],))
        if spec.get("text") is None:
            spec["text"] = spec["name"] if len(spec["name"]) == 1 else ""
        key = Keyboard.Key(**spec)
        for attr in ("region", "mode"):
            has = [getattr(k, attr) is not None for k in self._keys]
            if has and all(has) and getattr(key, attr) is None:
                raise ValueError("Key %r doesn't specify %r, but all the other keys in the "
                                 "keyboard do" % (spec, attr))
            if has and not any(has) and getattr(key, attr) is not None:
                raise ValueError("Key %r specifies %r, but none of the other keys in the "
                                 "keyboard do" % (spec, attr))
        self._keys.append(key)
        self._edges[key] = {}
        if key.mode is not None:
            self.modes.add(key.mode)
        return key

    def find_key(self, name=None, text=None, region=None, mode=None):
        """The one key matching all of the given attributes (``region``: the key containing
        its center).

        :raises: ValueError if none or several match."""
        return self._find_key({"name": name, "text": text, "region": region, "mode": mode})

    def find_keys(self, name=None, text=None, region=None, mode=None):
        """Every key matching the given attributes (a list, possibly empty)."""
        return self._find_keys({"name": name, "text": text, "region": region, "mode": mode})

    def _find_keys(self, query, mode=None):
        if isinstance(query, Keyboard.Key):
            if query not in self._edges:
                raise ValueError("%r isn't in the keyboard" % (query,))
            if mode is not None and query.mode != mode:
                raise ValueError("mode %r doesn't match %r" % (mode, query))
            return [query]
        q = {"name": query} if isinstance(query, str) else \
            {k: v for k, v in query.items() if v is not None}
        if mode is not None:
            if q.get("mode", mode) != mode:
                raise ValueError("mode %r doesn't match key %r" % (mode, q))
            q["mode"] = mode
        if not q:
            raise ValueError("Empty query %r" % (q,))
        out = []
        for k in self._keys:
            if any(getattr(k, f) != v for f, v in q.items() if f != "region"):
                continue
            if "region" in q and (k.region is None or not k.region.contains(q["region"].center)):
                continue
            out.append(k)
        return out

    def _find_key(self, query, mode=None):
        keys = self._find_keys(query, mode)
        if not keys:
            raise ValueError("Query %r doesn't match any key in the keyboard" % (query,))
        if len(keys) > 1:
            raise ValueError("Ambiguous query %r: Could mean %s" % (
                query, " or ".join(repr(k) for k in keys)))
        return keys[0]

    def add_transition(self, source, target, keypress, mode=None, symmetrical=True):
        """Pressing ``keypress`` on ``source`` moves the focus to ``target`` (each a `Key`, a
        name, or a dict of attributes identifying one key; ``mode`` applies to both). A
        directional key also adds the opposite transition unless ``symmetrical=False``."""
        source = self._find_key(source, mode)
        target = self._find_key(target, mode)
        self._edges[source][target] = keypress
        if symmetrical and keypress in _OPPOSITE:
            self._edges[target][source] = _OPPOSITE[keypress]

    def add_edgelist(self, edgelist, mode=None, symmetrical=True):
        """Keys and transitions from lines ``<source> <target> <keypress>`` (``SPACE`` is the
        space key; lines starting with ``###`` are comments)."""
        for i, line in enumerate(edgelist.split("\n")):
            if re.match(r"^\s*###", line) or not line.split():
                continue
            fields = line.split()
            if len(fields) != 3:
                raise ValueError("Invalid line %d in keyboard edgelist (must contain 3 "
                                 "fields): %r" % (i, line.strip()))
            source, target, keypress = (" " if f == "SPACE" else f for f in fields)
            keys = []
            for name in (source, target):
                spec = {"name": name, "mode": mode}
                found = self._find_keys(spec)
                keys.append(found[0] if len(found) == 1 else self._add_key(spec))
            self.add_transition(keys[0], keys[1], keypress, symmetrical=symmetrical)

    def add_grid(self, grid, mode=None, merge=False):
        """The keys of a `Grid` (each cell's data a name or a dict of attributes) and the
        transitions between neighbouring cells. With ``merge``, neighbouring cells of the same
        key make one larger key.

        :returns: a Grid of the `Keyboard.Key` of each cell."""
        specs = {}
        for cell in grid:
            if cell.data is None:
                raise ValueError("Grid cell [%i,%i] doesn't have any data" % cell.position)
            if isinstance(cell.data, str):
                spec = {"name": cell.data}
            elif isinstance(cell.data, dict):
                if "mode" in cell.data and cell.data["mode"] != mode:
                    raise ValueError("Grid cell [%i,%i] specifies mode %r but add_grid "
                                     "specifies mode %r" % (cell.position + (cell.data["mode"],
                                                                             mode)))
                spec = {k: v for k, v in cell.data.items() if k != "region"}
            else:
                raise ValueError("Unexpected data type %s in grid cell [%i, %i]. Expected str "
                                 "or dict." % ((type(cell.data),) + tuple(cell.position)))
            spec["mode"] = mode
            key = tuple(sorted(spec.items()))
            if merge and key in specs:
                specs[key].append(cell)
            else:
                specs[key + ((("_cell", cell.index),) if not merge else ())] = [cell]
        keys = [None] * len(grid)
        for spec, cells in specs.items():
            spec = {k: v for k, v in spec if k != "_cell"}
            spec["region"] = Region.bounding_box(*(c.region for c in cells))
            key = self._add_key(spec)
            for c in cells:
                keys[c.index] = key
        for cell in grid:
            x, y = cell.position
            for dx, dy, k in ((-1, 0, "KEY_LEFT"), (1, 0, "KEY_RIGHT"), (0, -1, "KEY_UP"),
                              (0, 1, "KEY_DOWN")):
                if 0 <= x + dx < grid.cols and 0 <= y + dy < grid.rows:
                    a, b = keys[cell.index], keys[grid[x + dx, y + dy].index]
                    if a != b:
                        self.add_transition(a, b, k, symmetrical=False)
        return Grid(grid.region, data=[keys[r * grid.cols:(r + 1) * grid.cols]
                                       for r in range(grid.rows)])

    # ---- navigation ----

    def _path(self, source, targets):
        """(remote-control key, possible targets) for the steps of a cheapest path from
        ``source`` to any of ``targets``, avoiding KEY_OK edges of keys that type text; stops
        after an uncertain step (several targets for one key)."""
        def edges(k):
            for t, rc in self._edges[k].items():
                if rc == "KEY_OK" and k.text:
                    continue
                n = sum(1 for r in self._edges[k].values() if r == rc)
                yield t, rc, _UNCERTAIN_WEIGHT if n > 1 else 1
        counter = itertools.count()
        dist = {source: 0}
        prev = {}
        heap = [(0, next(counter), source)]
        goal = None
        while heap:
            d, _, k = heapq.heappop(heap)
            if d > dist.get(k, float("inf")):
                continue
            if k in targets:
                goal = k
                break
            for t, rc, w in edges(k):
                if d + w < dist.get(t, float("inf")):
                    dist[t] = d + w
                    prev[t] = (k, rc)
                    heapq.heappush(heap, (d + w, next(counter), t))
        if goal is None:
            raise ValueError("No path to %s." % " or ".join(repr(t) for t in targets))
        steps = []
        while goal != source:
            k, rc = prev[goal]
            steps.append((k, rc))
            goal = k
        out = []
        for k, rc in reversed(steps):
            possible = {t for t, r in self._edges[k].items() if r == rc}
            out.append((rc, possible))
            if len(possible) > 1:
                break
        return out

    def navigate_to(self, target, page, verify_every_keypress=False, retries=2):
        """Move the focus to ``target`` (a `Key`, a name or a dict of attributes; of several
        matches, the nearest) without pressing KEY_OK. ``page`` is a `FrameObject` of the
        keyboard whose ``focus`` property is the focused `Key`; it must show the device's current
        state.

        :param verify_every_keypress: check the focus after every press, not only at the end.
        :param retries: recoveries from a press that had the wrong effect.
        :returns: a new page for the device's state at the end."""
        from ._press import press  # noqa: PLC0415
        targets = self._find_keys(target)
        if not targets:
            raise ValueError("'%s' isn't in the keyboard" % (target,))
        assert page, "%s page isn't visible" % type(page).__name__
        name, current = self._focus(page)
        assert current in self._edges, "page.%s (%r) isn't in the keyboard" % (name, current)
        deadline = time.time() + self.navigate_timeout
        while current not in targets:
            assert time.time() < deadline, ("Keyboard.navigate_to: Didn't reach %r after %s "
                                            "seconds" % (target, self.navigate_timeout))
            steps = self._path(current, targets)
            debug("Keyboard: navigating from %r to %r by pressing %r"
                  % (current, target, [rc for rc, _ in steps]))
            if not verify_every_keypress:
                for rc, _ in steps[:-1]:
                    press(rc)
                steps = steps[-1:]
            for rc, expected in steps:
                transition = self._press_and_wait(rc, stable_secs=0.5)
                assert transition.status.name != "STABLE_TIMEOUT", \
                    "%s didn't stabilise after pressing %s" % (name.capitalize(), rc)
                page = page.refresh(frame=transition.frame)
                assert page, "%s page isn't visible" % type(page).__name__
                name, current = self._focus(page)
                if current not in expected and not verify_every_keypress:
                    end = self._wait_for_transition_to_end(page._frame, stable_secs=2)
                    page = page.refresh(frame=end.frame)
                    assert page, "%s page isn't visible" % type(page).__name__
                    name, current = self._focus(page)
                if current not in expected:
                    message = "Expected to see %s after pressing %s, but saw %r." % (
                        " or ".join(repr(k) for k in expected), rc, current)
                    assert retries > 0, message
                    debug(message + " Retrying %d more times." % retries)
                    retries -= 1
                    break
        return page

    def enter_text(self, text, page, verify_every_keypress=False, retries=2):
        """Type ``text``: for each character, `navigate_to` the key that types it and press
        KEY_OK. Arguments as `navigate_to`; returns the new page."""
        for c in text:
            if not self._find_keys({"text": c}):
                raise ValueError("'%s' isn't in the keyboard" % (c,))
        for c in text:
            page = self.navigate_to({"text": c}, page, verify_every_keypress, retries)
            self._press_and_wait("KEY_OK", stable_secs=0.5, timeout_secs=1)
            page = page.refresh()
        debug("Keyboard: entered %r" % (text,))
        return page

    def _press_and_wait(self, key, timeout_secs=10, stable_secs=1):
        from ._transition import press_and_wait  # noqa: PLC0415
        return press_and_wait(key, mask=self.mask, timeout_secs=timeout_secs,
                              stable_secs=stable_secs)

    def _wait_for_transition_to_end(self, initial_frame=None, timeout_secs=10, stable_secs=1):
        from ._transition import wait_for_transition_to_end  # noqa: PLC0415
        return wait_for_transition_to_end(initial_frame, mask=self.mask,
                                          timeout_secs=timeout_secs, stable_secs=stable_secs)

    @staticmethod
    def _focus(page):
        try:
            return "selection", page.selection
        except AttributeError:
            return "focus", page.focus
