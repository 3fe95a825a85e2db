"""Figures and Axes that show themselves as PNG images in Jupyter, without pyplot.

A plain :class:`matplotlib.figure.Figure` built without pyplot has no display hook in a
notebook: IPython prints ``<Figure size 900x350 with 1 Axes>`` unless ``%matplotlib inline``
registered one. The classes here carry their own ``_repr_png_``, which IPython (JupyterLab,
classic Notebook, VS Code, Colab: every frontend of an IPython kernel) turns into an
``image/png`` output. Rendering uses the Agg canvas on the figure itself: no pyplot, no
global backend, no rcParams change. When a frontend has its own figure formatter (after
``%matplotlib inline``), IPython uses that one; the output is still one PNG.
"""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["DISPLAY_DPI", "ReportAxes", "ReportFigure", "png_bytes"]

#: Resolution of the pictures shown in a notebook.
DISPLAY_DPI = 100


def png_bytes(fig: Figure, dpi: int = DISPLAY_DPI) -> bytes:
    """``fig`` rendered to PNG with the Agg canvas (no pyplot, no global backend)."""
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


class ReportFigure(Figure):
    """A :class:`~matplotlib.figure.Figure` that displays as a PNG in Jupyter.

    Example:
        >>> fig = ReportFigure(figsize=(4, 3)); fig.add_subplot().plot([1, 2])  # doctest: +SKIP
        >>> fig          # last expression of a cell: shows the picture       # doctest: +SKIP
    """

    def _repr_png_(self) -> bytes:
        return png_bytes(self)


class ReportAxes(Axes):
    """Axes that display as the PNG of their whole figure (``plot_*(df)`` as a cell's last
    expression shows the chart)."""

    def _repr_png_(self) -> bytes | None:
        figure: object = self.figure
        for _ in range(8):  # a SubFigure's parent, up to the root Figure
            if isinstance(figure, Figure):
                return png_bytes(figure)
            figure = getattr(figure, "figure", None) or getattr(figure, "_parent", None)
        return None
