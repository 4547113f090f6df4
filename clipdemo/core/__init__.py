"""The engine: loading checkpoints, devices and backends, encoding, scoring, templates, zero-shot, similarity,
spatial maps, projection, search, images, the toy world, limits, settings, errors and the one cache.

May import: nothing else of clipdemo (only the standard library and third-party packages).
"""
