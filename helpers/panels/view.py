"""SvgView: an anywidget that shows a Scene in the browser and patches it on every change.

The first scene, and any scene whose structure differs (another head count, another
sentence length), goes to the browser whole, as the `markup` trait. After that a change
sends one custom message with only the keyed attributes and texts that differ
(`Scene.patch_from`), a few hundred bytes instead of a picture. `rev` counts the whole
markups, so the browser drops a patch meant for an older one. The ES module
(svg_view.js, shipped with the package, no build step, no network) knows nothing of
the story.
"""

from __future__ import annotations

import json
from pathlib import Path

import anywidget
import traitlets

ESM = (Path(__file__).with_name("svg_view.js")).read_text(encoding="utf-8")


class SvgView(anywidget.AnyWidget):
    """The live picture of a panel. `show(scene)` makes the browser show `scene`."""

    _esm = traitlets.Unicode(ESM).tag(sync=True)
    markup = traitlets.Unicode("").tag(sync=True)
    rev = traitlets.Int(0).tag(sync=True)

    def __init__(self, scene, **kwargs):
        super().__init__(markup=scene.live_markup(), **kwargs)
        self.scene = scene
        self.sent = []  # (kind, bytes) of the last few messages, for benchmarks and tests
        self.on_msg(self._on_front_message)

    def show(self, scene):
        """Send `scene` to the browser: a patch if its structure is the shown one's, else whole."""
        if not scene.same_structure(self.scene):
            self.scene = scene
            self._send_whole()
            return
        patch = scene.patch_from(self.scene)
        self.scene = scene
        if patch:
            message = {"rev": self.rev, **patch}
            self.send(message)
            self._record("patch", len(json.dumps(message, separators=(",", ":"))))

    def _send_whole(self):
        with self.hold_sync():
            self.rev += 1
            self.markup = self.scene.live_markup()
        self._record("whole", len(self.markup))

    def _record(self, kind, size):
        self.sent.append((kind, size))
        del self.sent[:-20]

    def _on_front_message(self, _widget, content, _buffers):
        if isinstance(content, dict) and content.get("want") == "whole":
            self._send_whole()
