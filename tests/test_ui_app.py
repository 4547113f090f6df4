"""The app's glue around every handler (clipdemo.ui.app): request budgets and abandoned work."""

from __future__ import annotations





