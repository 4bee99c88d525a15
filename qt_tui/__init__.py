"""qt-tui: read and edit QuickTakes-style knowledge bases in the terminal."""

__version__ = "0.1.0"
