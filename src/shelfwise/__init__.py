"""Shelfwise: the trade-marketing analyst's autopilot."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("shelfwise")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
