"""Reusable drawing pieces for live panels, one of each: each adds a tile to a Scene.

    colours    the weights colour map (viridis), the signed one (purple-white-gold), readable text on them
    heatmap    a matrix of coloured cells with row and column labels, masked cells grey; colour bars
    bars       labelled bars on a fixed axis, positive and negative
    wordmap    words as points on a 2-D map with labels, arrows and markers that may move
    arcs       words in a row, an arc from a query word to each word: taller, thicker, darker = more weight

Every piece caches the markup that does not change for a given size (axes, tick labels,
frames), so drawing a scene costs little more than its changing numbers, and keys the
parts a slider changes. Sizes are CSS px: text at FONT_PX (15 px, the 11 pt of the
static figures at 100 dpi), dense labels at no less than MIN_FONT_PX.
"""

FONT_PX = 15
TITLE_PX = 16
MIN_FONT_PX = 13
