"""clipdemo: see and touch CLIP.

Packages by layer, each importing only those before it: core (the engine) < data (galleries, collections)
< teach (lessons, live training) < serve (the one service, exports, CLI) < ui (Gradio). training/ and bench/
sit beside serve and are never imported by the running app.
"""

from clipdemo import _moved

_moved.install()
