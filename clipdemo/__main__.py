"""`python -m clipdemo --help`: see clipdemo.cli."""

from clipdemo.cli import main

raise SystemExit(main())
