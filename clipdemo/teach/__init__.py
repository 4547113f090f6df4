"""Teaching: lessons, the out-of-world check for the bundled model, live training for the Learn tab.

May import: clipdemo.core, clipdemo.data.
"""
