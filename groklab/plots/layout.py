"""Fixed margins for the run figures' panel grids, in inches. tight_layout measures every tick label to place the
panels, about half of a run's figure time (docs/performance.md); these grids hold labels of a known extent (tick
labels, a one-line title per panel, an x label, a figure title), so fixed margins leave them the same room."""

from __future__ import annotations

from matplotlib.figure import Figure


def fixed_margins(fig: Figure, left: float = 0.8, right: float = 0.25, top: float = 0.9, bottom: float = 0.6,
                  between_x: float = 0.9, between_y: float = 0.95) -> None:
    """Place `fig`'s grid of panels with these margins (inches): around the grid, then between the columns and
    between the rows."""
    width, height = fig.get_size_inches()
    rows, cols = fig.axes[0].get_subplotspec().get_gridspec().get_geometry()
    panel_width = (width - left - right - between_x * (cols - 1)) / cols
    panel_height = (height - top - bottom - between_y * (rows - 1)) / rows
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height,
                        wspace=between_x / panel_width, hspace=between_y / panel_height)
