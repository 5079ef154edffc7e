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


def frames_match_full_draws(panel, changes, first_draw=True):
    """Apply each {control: value} through the update function, draw_frame, compare."""
    if first_draw:
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
    values = [0.1, 0.7, 0.3, 0.95, 0.6, 0.05] + [0.52 + 0.035 * k for k in range(widgets.MAX_LIMITS)]
    changes = [{"a": v} for v in values]  # (rescale: more than MAX_LIMITS different limits)
    assert frames_match_full_draws(panel, changes) <= MAX_DIFFERENT_PIXELS
    if rescale:  # an axes whose limits follow the data is redrawn whole, ticks and all
        assert panel.fig.axes[0] in panel._whole
    else:  # only the bars and the title (and what lies above them) are redrawn
        assert panel._backgrounds and not panel._whole
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
    assert not panel._backgrounds


def test_a_draw_by_someone_else_drops_the_cached_background():
    panel = bar_panel()
    panel.fig.canvas.draw()
    panel._update(a=0.2)
    panel.draw_frame()
    assert panel._backgrounds
    panel.fig.canvas.draw()
    assert not panel._backgrounds


def count_full_draws(panel):
    """Wrap panel._full_draw; returns a list that grows by one per full draw."""
    calls, full_draw = [], panel._full_draw

    def counted(key):
        calls.append(1)
        full_draw(key)

    panel._full_draw = counted
    return calls


def test_a_layout_seen_before_is_a_blit():
    vectors = embeddings.toy_vectors()
    W_q, W_k, W_v, W_o, _ = attention.demo_heads()
    heads = widgets.multi_head_panel(vectors, W_q, W_k, W_v, W_o)
    first = [{"num_heads": 6}, {"num_heads": 3}, {"num_heads": 1}, {"sentence": "money"},
             {"num_heads": 2}, {"sentence": "river"}]
    assert frames_match_full_draws(heads, first + [{"sharpness": 1.5}]) <= MAX_DIFFERENT_PIXELS
    full_draws = count_full_draws(heads)
    again = [{"num_heads": 6}, {"num_heads": 3}, {"num_heads": 1}, {"sentence": "money"},
             {"sharpness": 0.4}, {"num_heads": 2}, {"sentence": "river"}]
    assert frames_match_full_draws(heads, again, first_draw=False) <= MAX_DIFFERENT_PIXELS
    assert not full_draws  # every layout had been seen: each frame restored its background

    context = widgets.bank_context_panel()
    words = [{"word": w} for w in widgets.CONTEXT_WORDS] + [{"sharpness": 2.0}]
    # "lake" first: its name under the ring is the last artist to start changing
    assert frames_match_full_draws(context, [{"word": "lake"}] + words) <= MAX_DIFFERENT_PIXELS
    full_draws = count_full_draws(context)
    assert frames_match_full_draws(context, words[::-1], first_draw=False) <= MAX_DIFFERENT_PIXELS
    assert not full_draws
    # the legend below the map lies outside the axes: it stays in the background
    legend = context.fig.axes[0].get_legend()
    assert legend is not None and legend not in context._redrawn


def test_backgrounds_are_kept_for_at_most_max_backgrounds_layouts():
    panel = bar_panel()
    ax = panel.fig.axes[0]
    panel.fig.canvas.draw()
    for k in range(widgets.MAX_BACKGROUNDS + 3):
        ax.set_position([0.1 + 0.01 * k, 0.1, 0.8, 0.8])  # a new layout each time
        panel._update(a=0.5)
        panel.draw_frame()
    assert len(panel._backgrounds) == widgets.MAX_BACKGROUNDS


def test_rescaling_axes_blit_over_the_background_of_their_limits():
    """02's score bars and waterfall snap their limits to powers of two: a change of limits
    is a new background (cached), not an axes redrawn whole on every frame."""
    panel = widgets.bank_embedding_panel()
    # (topic 0.75 and 1.0 need the score axes up to 16, the rest up to 8)
    sweep = [{"bank_topic": v} for v in (0.5, 0.75, 1.0, 0.75, 0.5)] + [{"key": "fish"}, {"key": "river"}]
    assert frames_match_full_draws(panel, sweep) <= MAX_DIFFERENT_PIXELS
    assert not panel._whole
    limits = {ax: ax.get_ylim() for ax in (panel.score_bars.ax, panel.term_view.ax_sum)}
    full_draws = count_full_draws(panel)
    assert frames_match_full_draws(panel, sweep, first_draw=False) <= MAX_DIFFERENT_PIXELS
    assert len(full_draws) <= 2  # limits seen before: their backgrounds are cached
    assert all(ax.get_ylim() == lim for ax, lim in limits.items())


def test_scaling_panel_blits_and_hides_only_empty_bins():
    panel = widgets.scaling_panel()
    changes = [{"d_k": d} for d in (1, 40, 256, 9, 128)]
    assert frames_match_full_draws(panel, changes) <= MAX_DIFFERENT_PIXELS
    # empty histogram bins are hidden (not drawn); showing them changes no pixel
    hidden = [bar for hist in (panel.hist_unscaled, panel.hist_scaled) for bar in hist.bars
              if not bar.get_visible()]
    assert hidden and all(bar.get_height() == 0 for bar in hidden)
    panel._own_draw = True
    want = full_draw(panel.fig)
    for bar in hidden:
        bar.set_visible(True)
    assert np.array_equal(full_draw(panel.fig), want)


def test_scaling_panel_histogram_legend_is_never_covered():
    """The histogram's legend lies under the bars (so it is not redrawn): no bar may reach it."""
    panel = widgets.scaling_panel()
    ax = panel.hist_scaled.bars[0].axes
    legend = ax.get_legend()
    renderer = panel.fig.canvas.get_renderer()
    panel.fig.canvas.draw()
    box = legend.get_window_extent(renderer)
    for d_k in range(1, panel.controls["d_k"].max + 1):
        panel._update(d_k=d_k)
        assert not any(bar.get_window_extent(renderer).overlaps(box) for bar in ax.patches
                       if bar.get_visible() and bar.get_height() > 0), d_k
    panel._update(d_k=100)
    panel.draw_frame()
    assert legend not in panel._redrawn
