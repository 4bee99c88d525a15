"""Where the stylesheets are, in a source checkout and after `pip install .`."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def styles_dir() -> Path:
    """The folder with the `.tcss` files: shipped inside the wheel, or the checkout's `styles/`."""
    shipped = _PACKAGE_DIR / "styles"
    if shipped.is_dir():
        return shipped
    return _PACKAGE_DIR.parent / "styles"


def stylesheet(name: str) -> Path:
    """The path of one stylesheet, e.g. `app.tcss`."""
    return styles_dir() / name
