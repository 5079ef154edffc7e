"""Helpers for the attention notebook series.

- helpers.attention   softmax, masks, scaled dot-product and multi-head attention (numpy)
- helpers.embeddings  toy vectors, gensim training, sentence -> matrix, 2-D maps
- helpers.plots       heatmaps, arc diagrams, embedding maps, pipeline diagram
- helpers.widgets     slider panels built on plain update functions
- helpers.checks      exercise checkers with targeted hints
"""
