"""`python -m clipdemo --help`: see clipdemo.serve.cli."""

from clipdemo.serve.cli import main

raise SystemExit(main())
