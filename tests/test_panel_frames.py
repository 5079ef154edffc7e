"""Panel.draw_frame (blitting) gives the same picture as a full draw, with the Agg backend.

The browser path (ipympl pushing the blitted frames) is checked by tests/browser.
"""

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import attention, embeddings, plots, widgets  # noqa: E402

# Blitted artists are drawn over the axes' tick marks, which a full draw puts on
# top: a heatmap's edge may cover a few tick stubs, nothing more.
MAX_DIFFERENT_PIXELS = 0.001


def full_draw(fig):
    """The figure's pixels from an independent full draw (RGBA, H x W x 4)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="rgba", dpi=fig.dpi)
    w, h = fig.canvas.get_width_height(physical=True)
    return np.frombuffer(buf.getvalue(), np.uint8).reshape(h, w, 4)


def frames_match_full_draws(panel, changes):
    """Apply each {control: value} through the update function, draw_frame, compare."""
    panel.fig.canvas.draw()  # what the browser does when the figure first appears
    worst = 0.0
    for values in changes:
        panel._holding = True  # set values without the Agg refresh (draw_idle draws at once)
        for name, value in values.items():
            panel.controls[name].value = value
        panel._holding = False
        panel._update(**panel.values())
        panel.draw_frame()
        got = np.asarray(panel.fig.canvas.buffer_rgba()).copy()
        panel._own_draw = True  # the comparison draw must not reset the panel's cache
        try:
            want = full_draw(panel.fig)
        finally:
            panel._own_draw = False
        worst = max(worst, float((got != want).any(axis=2).mean()))
    return worst


def bar_panel(rescale=False):
    fig, ax = plots.new_figure(figsize=(4, 3))
    bars = ax.bar(range(3), [0.2, 0.5, 0.8], color="C0")
    ax.set_ylim(0, 1)
    title = ax.set_title("")

    def update(a):
        for bar, v in zip(bars, (a, 1 - a, a / 2)):
            bar.set_height(v)
        title.set_text(f"a = {a:.2f}")
        if rescale:
            ax.set_ylim(0, max(1.0, 2 * a))
        return f"a = {a:.2f}"

    return widgets.Panel({"a": widgets.slider("a", 0.5, 0.0, 1.0)}, fig, update)


@pytest.mark.parametrize("rescale", [False, True])
def test_blitted_frames_equal_full_draws(rescale):
    panel = bar_panel(rescale)
    changes = [{"a": v} for v in (0.1, 0.7, 0.3, 0.95, 0.6, 0.05)]
    assert frames_match_full_draws(panel, changes) <= MAX_DIFFERENT_PIXELS
    if rescale:  # an axes whose limits follow the data is redrawn whole, ticks and all
        assert panel.fig.axes[0] in panel._whole
    else:  # only the bars and the title (and what lies above them) are redrawn
        assert panel._background is not None and not panel._whole
        assert set(panel._redrawn) >= {*panel.fig.axes[0].patches, panel.fig.axes[0].title}


def test_real_panels_blit_like_full_draws():
    tokens, X = embeddings.sentence_matrix(embeddings.SENTENCE)
    W_q, W_k, _ = attention.demo_head()
    scores = (X @ W_q) @ (X @ W_k).T / np.sqrt(X.shape[1])
    temperature = widgets.temperature_panel(tokens, scores[tokens.index("bank")])
    changes = [{"temperature": t} for t in (0.5, 2.0, 0.1, 5.0)]
    assert frames_match_full_draws(temperature, changes) <= MAX_DIFFERENT_PIXELS

    explorer = widgets.attention_explorer_panel(tokens, scores)
    changes = [{"query": "river"}, {"mask": "causal"}, {"temperature": 0.3}, {"query": "tom"}]
    assert frames_match_full_draws(explorer, changes) <= MAX_DIFFERENT_PIXELS

    words = widgets.bank_vector_panel()
    changes = [{"water": v} for v in (0.9, -0.5, 0.1)] + [{"town_vs_nature": 0.8}]
    assert frames_match_full_draws(words, changes) <= MAX_DIFFERENT_PIXELS


def test_without_a_browser_the_panel_draws_the_ordinary_way():
    panel = bar_panel()
    panel.set(a=0.3)  # Agg: refresh -> draw_idle, a full draw; nothing cached
    assert panel._background is None


def test_a_draw_by_someone_else_drops_the_cached_background():
    panel = bar_panel()
    panel.fig.canvas.draw()
    panel._update(a=0.2)
    panel.draw_frame()
    assert panel._background is not None
    panel.fig.canvas.draw()
    assert panel._background is None
