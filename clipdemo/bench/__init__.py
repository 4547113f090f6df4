"""Benchmarks that print tables (speed goals live here, never in timed tests). Never imported by the app.

May import: every layer but clipdemo.ui.
"""
