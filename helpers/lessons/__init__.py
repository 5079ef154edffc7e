"""One module per notebook: that lesson's figures and live panels, named after the notebook.

The lessons layer sits on top: it uses the maths (helpers.attention, .embeddings,
.positions, ...), the drawing pieces (helpers.plots) and the panel machinery
(helpers.widgets.Panel); nothing below imports it.

    word_order   notebook 06: attention is blind to word order, positions fix it
"""
