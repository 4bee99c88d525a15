"""`python -m qt_tui` is the same as the `qt-tui` command."""

from qt_tui.cli import main

raise SystemExit(main())
