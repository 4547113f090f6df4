"""Benchmarks that print tables (speed goals live here, never in timed tests). Never imported by the app.

May import: every layer (it measures the app itself, e.g. a map's first paint in the browser).
"""
