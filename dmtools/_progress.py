"""Progress bars of long work (loads, bulk jobs, reports): tqdm's, or one that shows nothing.

tqdm is imported only when a bar is shown (``tqdm.auto``: a widget in Jupyter, text on a
terminal), so ``progress=False`` never imports it.

Example:
    >>> bar = progress_bar(False, total=3, unit=" videos", desc="Loading videos")
    >>> bar.update(3); bar.close()
"""

from __future__ import annotations

from typing import Any

__all__ = ["NoBar", "progress_bar"]


class NoBar:
    """Stands in for a tqdm bar when no progress is shown."""

    total: int | None = None

    def update(self, n: int = 1) -> None:
        pass

    def refresh(self) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(show: bool, *, total: int | None, unit: str, desc: str, initial: int = 0) -> Any:
    """A tqdm bar when ``show``, else a :class:`NoBar`."""
    if not show:
        return NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit=unit, desc=desc, leave=True)
