"""2-D projections of a token embedding: residues coloured by value, one panel per frequency or checkpoint."""

from __future__ import annotations

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.figure import Figure


def plot_embedding_planes(panels: list[tuple[str, np.ndarray]], title: str = "") -> Figure:
    """One scatter per (panel title, points [n, 2]); point i is residue i, coloured around the colour wheel
    and joined to i+1, so a circle in residue order reads as a rainbow ring."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.8), squeeze=False)
    for ax, (name, points) in zip(axes[0], panels, strict=True):
        n = len(points)
        ax.plot(*np.vstack([points, points[:1]]).T, color="lightgray", linewidth=0.6, zorder=1)
        ax.scatter(points[:, 0], points[:, 1], c=np.arange(n), cmap="hsv", s=14, zorder=2)
        ax.set(title=name, aspect="equal", xticks=[], yticks=[])
    fig.suptitle(title)
    fig.tight_layout()
    return fig
