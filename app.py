"""clipdemo's web app, as a Space and a checkout start it: `python app.py [--model NAME] [--port 7860] ...`.

The launcher lives in the package (clipdemo/ui/launch.py) so that the installed `clipdemo app` runs the same code;
each option also reads an environment variable (README: Launch options).
"""

from __future__ import annotations

from clipdemo.ui.launch import main, parse_args, start_warm_up, with_queue  # noqa: F401 - app.X for tests and tools

if __name__ == "__main__":
    main(prog="python app.py")
