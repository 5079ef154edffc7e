"""Spike: a generic live-panel layer whose pictures are SVG drawn in Python.

A panel is controls + a `draw(**values) -> (Scene, readout text)` function.
The Scene is a list of tiles (one small SVG each, laid out by the browser in a
wrapping row, so a panel reflows in a narrow column); an element that an update
may change carries a key. Two ways to get the scene into the browser:

- PatchView (design a): an anywidget. The first scene (and any scene whose
  structure changed, e.g. another head count) is sent whole as markup; after
  that each change sends only the attributes and texts that differ, keyed by
  element. The ES module below applies them; it knows nothing of attention.
- HtmlView (design b): an ipywidgets.HTML whose value is the whole markup,
  sent again on every change.

One drawing path: the static picture (image/svg+xml in the mime bundle) is
`Scene.static_svg()` of the same scene whose tiles are the live view's first
markup, so what a static viewer shows *is* the live view's first state.
Spike code: not part of helpers, not imported by tests.
"""

from __future__ import annotations

import html
import json
import math

import ipywidgets as W
import traitlets

try:
    import anywidget
except ImportError:  # design (b) still works without it
    anywidget = None

FONT = "font-family:DejaVu Sans,Arial,sans-serif"


_NAMES = {}  # python keyword -> SVG attribute name ("text_anchor" -> "text-anchor")


def _name(k):
    name = _NAMES.get(k)
    if name is None:
        name = _NAMES[k] = k.rstrip("_").replace("_", "-")
    return name


def _fmt(v):
    """Numbers to 0.1 px (sharp enough at device pixel ratio 2), everything else as str.
    NaN and infinities raise ValueError: the panel shows a message and keeps its last picture."""
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"this picture cannot be drawn: a coordinate is {v}")
        return f"{v:.1f}"
    return str(v)


def attrs_markup(**attrs):
    """' x="1.0" text-anchor="end"': attributes as markup, for the parts that do not change."""
    return "".join(f' {_name(k)}="{html.escape(_fmt(v))}"' for k, v in attrs.items())


class Scene:
    """Tiles of SVG. `add(tile, tag, key=None, text=None, static="", **attrs)` appends an element.

    An element without a key never changes while the scene's structure stays.
    A keyed element's `attrs` and `text` may change from one scene to the next
    (they are what a patch carries); `static` is a pre-made attribute string
    (attrs_markup) for the attributes that do not change, which drawing pieces
    cache, so that building a scene costs little more than its changing numbers.
    A tile made with a key can be hidden (`shown=False`) by a patch, like an element.
    """

    def __init__(self):
        self.tiles = []  # [[width, height, parts, key, shown]]; part = markup str or [tag, key, static, attrs, text]
        self._keyed = None

    def tile(self, width, height, key=None, shown=True):
        self.tiles.append([width, height, [], key, shown])
        return len(self.tiles) - 1

    def parts(self, tile):
        return self.tiles[tile][2]

    def add(self, tile, tag, key=None, text=None, static="", **attrs):
        attrs = {_name(k): (v if v.__class__ is str else _fmt(v)) for k, v in attrs.items()}
        if key is None:
            self.tiles[tile][2].append(self._element(tag, None, static, attrs, text))
        else:
            self.tiles[tile][2].append([tag, key, static, attrs, None if text is None else str(text)])

    def add_keyed(self, tile, tag, keyed_statics, attr=None, values=None, texts=None):
        """Many keyed elements at once: [(key, static)], one changing attribute `attr` (values, str)
        and/or changing texts; the fast path for heatmap cells and word labels."""
        parts = self.tiles[tile][2]
        n = len(keyed_statics)
        values = values if attr is not None else [None] * n
        texts = texts if texts is not None else [None] * n
        for (key, static), v, text in zip(keyed_statics, values, texts):
            parts.append([tag, key, static, {} if attr is None else {attr: v}, text])

    def raw(self, tile, markup):
        """Markup that does not change (a cached group of labels, a frame)."""
        self.tiles[tile][2].append(markup)

    # -- markup
    @staticmethod
    def _element(tag, index, static, attrs, text):
        a = static + "".join(f' {k}="{html.escape(v)}"' for k, v in attrs.items())
        if index is not None:
            a += f' data-i="{index}"'
        if text is None:
            return f"<{tag}{a}/>"
        return f"<{tag}{a}>{html.escape(text)}</{tag}>"

    def _tile_markup(self, i, counter, position=""):
        w, h, parts, key, shown = self.tiles[i]
        body = []
        for p in parts:
            if p.__class__ is str:
                body.append(p)
            else:
                body.append(self._element(p[0], next(counter), p[2], p[3], p[4]))
        index = f' data-i="{next(counter)}"' if key is not None else ""
        style = self._tile_style(shown)
        return (f'<svg xmlns="http://www.w3.org/2000/svg"{position} viewBox="0 0 {w} {h}" width="{w}" '
                f'height="{h}" style="{style}"{index}>{"".join(body)}</svg>')

    @staticmethod
    def _tile_style(shown):
        return f"max-width:100%;height:auto;{FONT}" + ("" if shown else ";display:none")

    def live_markup(self):
        """The live view's markup: the tiles in a wrapping flex row; keyed parts numbered in order."""
        counter = iter(range(1 << 30))
        tiles = "".join(self._tile_markup(i, counter) for i in range(len(self.tiles)))
        return f'<div style="display:flex;flex-wrap:wrap;gap:6px;align-items:flex-start">{tiles}</div>'

    def static_svg(self, width=700):
        """One SVG of the shown tiles, wrapped into rows of `width` px as the live view wraps them."""
        counter = iter(range(1 << 30))
        x = y = row_h = right = 0
        parts = []
        for i, (w, h, _, _, shown) in enumerate(self.tiles):
            if not shown:
                self._tile_markup(i, counter)  # (keeps the numbering of the live view)
                continue
            if x and x + w > width:
                x, y, row_h = 0, y + row_h + 6, 0
            parts.append(self._tile_markup(i, counter, f' x="{x}" y="{y}"'))
            right = max(right, x + w)
            x, row_h = x + w + 6, max(row_h, h)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {right} {y + row_h}" '
                f'width="{right}" height="{y + row_h}">{"".join(parts)}</svg>')

    # -- changes
    def structure(self):
        """What must match for a patch to apply: tile sizes, fixed parts, keyed elements."""
        return tuple((w, h, key, tuple(p if p.__class__ is str else (p[0], p[1], p[2]) for p in parts))
                     for w, h, parts, key, _ in self.tiles)

    def keyed(self):
        """{key: (attrs, text)} of the keyed parts, in the live markup's numbering order."""
        if self._keyed is None:
            self._keyed = {}
            for w, h, parts, key, shown in self.tiles:
                for p in parts:
                    if p.__class__ is not str:
                        self._keyed[p[1]] = (p[3], p[4])
                if key is not None:
                    self._keyed[key] = ({"style": self._tile_style(shown)}, None)
        return self._keyed

    def patch_from(self, old):
        """The wire patch from `old` (a Scene of the same structure): {"a": {attr: [i, v, ...]},
        "t": [i, text, ...]}, i = the part's number in the live markup; {} when nothing changed."""
        before, attrs_out, texts = old.keyed(), {}, []
        for i, (key, (attrs, text)) in enumerate(self.keyed().items()):
            a0, t0 = before[key]
            if attrs != a0:
                for k, v in attrs.items():
                    if a0.get(k) != v:
                        attrs_out.setdefault(k, []).extend((i, v))
            if text != t0:
                texts.extend((i, text))
        patch = {}
        if attrs_out:
            patch["a"] = attrs_out
        if texts:
            patch["t"] = texts
        return patch


ESM = r"""
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "lp-view";
  el.appendChild(root);
  let nodes = [];
  const whole = () => {
    root.innerHTML = model.get("markup");
    nodes = [];
    for (const n of root.querySelectorAll("[data-i]")) nodes[+n.getAttribute("data-i")] = n;
  };
  const patch = (msg) => {
    if (!msg || msg.rev !== model.get("rev")) return;  // meant for another markup: a whole one follows
    for (const [name, flat] of Object.entries(msg.a || {})) {
      for (let k = 0; k < flat.length; k += 2) {
        const n = nodes[flat[k]];
        if (!n) continue;
        n.setAttribute(name, flat[k + 1]);
      }
    }
    const t = msg.t || [];
    for (let k = 0; k < t.length; k += 2) if (nodes[t[k]]) nodes[t[k]].textContent = t[k + 1];
  };
  whole();
  model.on("change:markup", whole);
  model.on("msg:custom", patch);
  model.send({ want: "whole" });  // a view opened later asks for the current picture
  return () => { model.off("change:markup", whole); model.off("msg:custom", patch); };
}
export default { render };
"""

if anywidget is not None:
    class PatchView(anywidget.AnyWidget):
        """Design (a): whole markup when the structure changes, keyed patches otherwise."""
        _esm = traitlets.Unicode(ESM).tag(sync=True)
        markup = traitlets.Unicode("").tag(sync=True)
        rev = traitlets.Int(0).tag(sync=True)

        def __init__(self, scene, **kwargs):
            super().__init__(markup=scene.live_markup(), **kwargs)
            self.scene = scene
            self.on_msg(self._on_front_msg)

        def show(self, scene):
            if scene.structure() != self.scene.structure():
                self.scene = scene
                with self.hold_sync():
                    self.rev += 1
                    self.markup = scene.live_markup()
                return
            patch = scene.patch_from(self.scene)
            self.scene = scene
            if patch:
                self.send({"rev": self.rev, **patch})

        def _on_front_msg(self, _widget, content, _buffers):
            if content.get("want") == "whole":
                with self.hold_sync():
                    self.rev += 1
                    self.markup = self.scene.live_markup()


class HtmlView(W.HTML):
    """Design (b): the whole markup in a standard HTML widget, on every change."""

    def __init__(self, scene, **kwargs):
        super().__init__(value=scene.live_markup(), **kwargs)
        self.scene = scene

    def show(self, scene):
        self.scene = scene
        self.value = scene.live_markup()


class LivePanel:
    """Controls + a view drawn from `draw(**values) -> (Scene, readout)` + readout + message.

    Tests drive it by setting `panel.controls[name].value` (no browser needed):
    `panel.scene` is what the browser shows, `panel.text` the readout.
    `catch`: exception classes of bad input; their message is shown, the last
    good picture and readout stay.
    """

    def __init__(self, controls, draw, *, view="patch", title="", catch=(ValueError,)):
        self.controls, self._draw, self.title, self._catch = dict(controls), draw, title, tuple(catch)
        self.readout, self.message = W.HTML(), W.HTML()
        self.error = ""
        scene, self.text = draw(**self.values())
        self.readout.value = self._pre(self.text)
        patch = view == "patch" and anywidget is not None  # without anywidget: design (b)
        self.view = (PatchView if patch else HtmlView)(scene)
        for w in self.controls.values():
            w.observe(lambda change: self.refresh(), names="value")
        self._box = None

    @staticmethod
    def _pre(text):
        return f"<pre style='font-size:14px;margin:0;white-space:pre-wrap'>{html.escape(text)}</pre>"

    @property
    def scene(self):
        return self.view.scene

    def values(self):
        return {k: w.value for k, w in self.controls.items()}

    def refresh(self):
        try:
            scene, text = self._draw(**self.values())
        except self._catch as err:
            self.error = str(err)
            self.message.value = f"<div style='color:#B35806'>{html.escape(self.error)}</div>"
            return self.text
        if self.error:
            self.error, self.message.value = "", ""
        self.view.show(scene)
        self.text = text
        self.readout.value = self._pre(text)
        return text

    def widget(self):
        if self._box is None:
            header = [W.HTML(f"<b style='font-size:15px'>{html.escape(self.title)}</b>")] if self.title else []
            self._box = W.VBox(header + [W.HBox(list(self.controls.values()),
                                                layout=W.Layout(flex_flow="row wrap")),
                                         self.view, self.readout, self.message],
                               layout=W.Layout(max_width="100%"))
        return self._box

    def _repr_mimebundle_(self, **kwargs):
        data = self.widget()._repr_mimebundle_(**kwargs)
        bundle = dict(data[0] if isinstance(data, tuple) else data)
        bundle["image/svg+xml"] = self.scene.static_svg()
        bundle["text/plain"] = f"Panel: {self.title} ({', '.join(self.controls)})"
        return bundle


def apply_patch(keyed, patch):
    """Pure-Python stand-in for the ES module's patch step: `keyed` (Scene.keyed() of the
    picture the browser has) after `patch`; tests compare it with the new Scene.keyed()."""
    keys = list(keyed)
    out = {k: (dict(a), t) for k, (a, t) in keyed.items()}
    for name, flat in patch.get("a", {}).items():
        for i, v in zip(flat[::2], flat[1::2]):
            out[keys[i]][0][name] = v
    flat = patch.get("t", [])
    for i, text in zip(flat[::2], flat[1::2]):
        out[keys[i]] = (out[keys[i]][0], text)
    return out


def message_bytes(content):
    return len(json.dumps(content, separators=(",", ":")))
