"""Offline training and evaluation of the bundled model: train, evaluate, the pointing game, tokenizers.
Never imported by the running app.

May import: clipdemo.core, clipdemo.data, clipdemo.teach.
"""
