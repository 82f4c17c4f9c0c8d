"""The figures: deterministic files, readable axes, the paper's colour scale."""

import numpy as np
import pytest

from kanpaper.analysis import figures
from kanpaper.analysis.figures import save_figure, style
from kanpaper.experiments.waves import WAVE_FREQUENCIES


def test_figures_are_deterministic(tmp_path):
    import matplotlib.pyplot as plt

    def draw(directory):
        with style():
            fig, ax = plt.subplots()
            ax.plot([0, 1, 2], [1, 0, 2], label="a")
            ax.legend()
            paths = save_figure(fig, "demo", directory)
            plt.close(fig)
        return paths

    first, second = draw(tmp_path / "a"), draw(tmp_path / "b")
    assert [p.suffix for p in first] == [".pdf", ".png"]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes()
    assert b"CreationDate" not in first[0].read_bytes()
    with pytest.raises(ValueError, match="file stem"):
        save_figure(plt.figure(), "../escape", tmp_path)


def test_short_log_axes_get_readable_ticks(tmp_path):
    import matplotlib.pyplot as plt

    with style():
        fig, (short, long, shorter, fixed) = plt.subplots(1, 4)
        fixed.semilogx([5, 40], [0, 1])
        fixed.set_xticks([5, 10, 20, 40], ["5", "10", "20", "40"])     # ticks a figure sets are kept
        short.semilogy([1, 2], [120.0, 900.0])          # under one decade: matplotlib would label minor ticks
        long.semilogy([1, 2], [1e-6, 1e2])
        shorter.semilogy([1, 2], [0.52, 1.09])          # 1, 2, 5 x 10^k leave one tick in view: every integer
        save_figure(fig, "ticks", tmp_path)
        in_view = [t.get_text() for t in shorter.yaxis.get_majorticklabels()
                   if t.get_text() and 0.52 <= t.get_position()[1] <= 1.09]
        minor = [t.get_text() for t in short.yaxis.get_minorticklabels() if t.get_text()]
        major = [t.get_text() for t in short.yaxis.get_majorticklabels()
                 if t.get_text() and 120 <= t.get_position()[1] <= 900]
        long_minor = [t.get_text() for t in long.yaxis.get_minorticklabels() if t.get_text()]
        kept = [t.get_text() for t in fixed.xaxis.get_majorticklabels()]
        fixed_minor = [t.get_text() for t in fixed.xaxis.get_minorticklabels() if t.get_text()]
        plt.close(fig)
    assert minor == [] and long_minor == [], f"minor tick labels {minor}, {long_minor}; required none"
    assert len(major) >= 2, f"major tick labels within [120, 900]: {major}; required at least two (200, 500)"
    assert len(in_view) >= 2, f"major tick labels within [0.52, 1.09]: {in_view}; required at least two"
    assert kept == ["5", "10", "20", "40"], f"ticks set by the figure became {kept}"
    assert fixed_minor == [], f"minor tick labels beside the figure's own ticks: {fixed_minor}; required none"


def test_heatmap_uses_fixed_scale_and_paper_colormap():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    values = np.linspace(0, 1, 30).reshape(3, 10)
    image = figures.plot_frequency_heatmap(ax, values, [0, 100, 200], WAVE_FREQUENCIES, title="t")
    assert image.get_clim() == (0.0, 1.0)
    assert image.cmap.N == 256                         # continuous, as the authors' seaborn map, not 8 bands
    low, high = image.cmap(0.0), image.cmap(1.0)
    assert sum(low[:3]) < 1.0 and sum(high[:3]) > 2.0    # reversed cubehelix: dark at 0, light at 1 (learned)
    assert ax.get_ylim()[0] < ax.get_ylim()[1]          # iteration 0 at the bottom
    with pytest.raises(ValueError, match="len"):
        figures.plot_frequency_heatmap(ax, values, [0, 1], WAVE_FREQUENCIES)
    plt.close(fig)
