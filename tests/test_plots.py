"""Figures of sim.plots, built from real short simulations."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure
from scipy.linalg import hadamard

import nets
import sim
from sim import plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
N = 64
SHAPE = (8, 8)


@pytest.fixture(scope="module")
def patterns() -> np.ndarray:
    """Three mutually orthogonal +-1 patterns (Hadamard rows): each is a Hebbian attractor."""
    return hadamard(N)[[1, 2, 3]].astype(np.int8)   # (3, 64)


def _cue(pattern: np.ndarray, n_flips: int, *, off: int = -1) -> np.ndarray:
    s = pattern.copy()
    idx = np.random.default_rng(7).choice(len(s), n_flips, replace=False)
    s[idx] = np.where(s[idx] == 1, off, 1)
    return s


@pytest.fixture(scope="module")
def micro_traj(patterns):
    """Spin net, micro records, recalls pattern 2 from a cue with 8 flipped units."""
    net = nets.Hopfield.from_patterns(patterns)
    return sim.simulate(net, _cue(patterns[1], 8), ticks=10, schedule="random", rng=3,
                        record=sim.Record(micro=True, probes=("energy", "overlap", "field_norm"),
                                          patterns=patterns))


@pytest.fixture(scope="module")
def binary_traj(patterns):
    """0/1 units, tick records."""
    P01 = ((patterns + 1) // 2).astype(np.int8)
    net = nets.Hopfield.from_patterns(P01, units="binary")
    return sim.simulate(net, _cue(P01[0], 8, off=0), ticks=10, schedule="random", rng=4,
                        record=sim.Record(probes=("energy", "overlap"), patterns=P01))


@pytest.fixture(scope="module")
def cycle_traj():
    """The synchronous 2-cycle W = [[0, -1], [-1, 0]], s = (1, 1)."""
    net = nets.Hopfield([[0, -1], [-1, 0]])
    return sim.simulate(net, np.array([1, 1]), ticks=10, schedule="sync",
                        record=sim.Record(probes=("energy", "overlap"), patterns=np.array([[1, -1]])))


@pytest.fixture(scope="module")
def rnn_traj():
    """Float states, no energy probe."""
    net = nets.RNN(np.array([[0.9, -0.5], [0.5, 0.9]]), np.eye(2), activation="tanh")
    xs = np.random.default_rng(0).normal(size=(12, 2))
    return sim.simulate(net, ticks=12, inputs=xs, schedule="clocked")


def _data_lines(ax):
    return [ln for ln in ax.lines if not ln.get_label().startswith("_")]


# --- energy ----------------------------------------------------------------------------
def test_energy_figure_micro(micro_traj):
    fig = plots.energy_figure(micro_traj)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    (line,) = _data_lines(ax)
    np.testing.assert_array_equal(line.get_xdata(), micro_traj.t)
    np.testing.assert_array_equal(line.get_ydata(), micro_traj.energy)
    assert np.any(micro_traj.t % 1 != 0)          # micro records: fractional sweeps
    assert ax.get_xlabel() == "time (sweeps)"
    assert "energy" in ax.get_ylabel()
    assert ax.get_title() == plots.base._status_note(micro_traj)
    assert f"after {micro_traj.ticks} sweep" in ax.get_title()
    assert fig.get_suptitle() == "Energy"


def test_energy_figure_cycle_status_and_title(cycle_traj):
    fig = plots.energy_figure(cycle_traj, title="Little dynamics")
    (ax,) = fig.axes
    assert cycle_traj.status == "cycle" and cycle_traj.period == 2
    assert "2-cycle" in ax.get_title() and "sync schedule" in ax.get_title()
    assert fig.get_suptitle() == "Little dynamics"
    lo, hi = ax.get_ylim()
    assert lo < 1.0 < hi and hi - lo >= 1.0       # constant energy: a readable range


def test_energy_figure_without_probe(rnn_traj):
    with pytest.raises(ValueError, match="'energy' probe"):
        plots.energy_figure(rnn_traj)


# --- overlap ---------------------------------------------------------------------------
def test_overlap_figure(micro_traj, patterns):
    fig = plots.overlap_figure(micro_traj)
    (ax,) = fig.axes
    lines = _data_lines(ax)
    assert len(lines) == len(patterns)
    for k, line in enumerate(lines):
        np.testing.assert_array_equal(line.get_ydata(), micro_traj.overlap[:, k])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["pattern 1", "pattern 2", "pattern 3"]
    assert ax.get_ylim() == pytest.approx((-1.05, 1.05))
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(dashed) == 1 and set(dashed[0].get_ydata()) == {1.0}
    assert ax.get_xlabel() == "time (sweeps)" and "overlap" in ax.get_ylabel()


def test_overlap_figure_labels(binary_traj):
    fig = plots.overlap_figure(binary_traj, labels=["A", "B", "C"], title="t")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["A", "B", "C"]
    with pytest.raises(ValueError, match="2 entries for 3 patterns"):
        plots.overlap_figure(binary_traj, labels=["A", "B"])


def test_overlap_figure_many_patterns():
    P = hadamard(N)[1:13].astype(np.int8)          # 12 patterns: highlight the top 3
    traj = sim.simulate(nets.Hopfield.from_patterns(P), P[4], ticks=2, schedule="sequential",
                        record=sim.Record(probes=("overlap",), patterns=P))
    ax = plots.overlap_figure(traj).axes[0]
    assert len([ln for ln in ax.lines if ln.get_linestyle() != "--" and ln.get_linestyle() != ":"]) == 12
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(legend) == 4 and legend[0] == "other patterns (9)" and "pattern 5" in legend


def test_overlap_figure_without_probe(rnn_traj):
    with pytest.raises(ValueError, match="'overlap' probe"):
        plots.overlap_figure(rnn_traj)


# --- raster ----------------------------------------------------------------------------
def test_raster_figure_spin_micro(micro_traj):
    fig = plots.raster_figure(micro_traj)
    assert len(fig.axes) == 2                       # raster + colour bar
    ax, cax = fig.axes
    (im,) = ax.get_images()
    s = micro_traj.states["s"]                     # (R, N)
    np.testing.assert_array_equal(im.get_array(), (s == 1).T)
    dt = micro_traj.t[1] - micro_traj.t[0]
    assert im.get_extent() == pytest.approx(
        [micro_traj.t[0] - dt / 2, micro_traj.t[-1] + dt / 2, N - 0.5, -0.5])
    assert ax.get_xlabel() == "time (sweeps)" and ax.get_ylabel() == "unit i"
    assert [t.get_text() for t in cax.get_yticklabels()] == ["off (-1)", "on (+1)"]


def test_raster_figure_binary_and_tiny(binary_traj, cycle_traj):
    cax = plots.raster_figure(binary_traj).axes[1]
    assert [t.get_text() for t in cax.get_yticklabels()] == ["off (0)", "on (1)"]
    ax = plots.raster_figure(cycle_traj).axes[0]
    (im,) = ax.get_images()
    np.testing.assert_array_equal(im.get_array(), [[1, 0, 1], [1, 0, 1]])
    assert im.get_extent() == pytest.approx([-0.5, 2.5, 1.5, -0.5])


def test_raster_figure_unequal_spacing(patterns):
    # every 3 ticks of 10, at T > 0 so that it never stops: records at 0, 3, 6, 9, 10
    traj = sim.simulate(nets.Hopfield.from_patterns(patterns), patterns[0], ticks=10,
                        schedule="random", temperature=0.3, rng=5, record=sim.Record(every=3))
    np.testing.assert_array_equal(traj.t, [0, 3, 6, 9, 10])
    ax = plots.raster_figure(traj).axes[0]
    assert not ax.get_images()
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert mesh.get_array().shape == (N, 5)
    assert ax.get_xlim() == pytest.approx((-1.5, 10.5))


def test_raster_figure_float_states(rnn_traj):
    fig = plots.raster_figure(rnn_traj, field="h")
    ax, cax = fig.axes
    (im,) = ax.get_images()
    assert im.get_array().shape == (2, len(rnn_traj.t))
    assert cax.get_ylabel() == "h"
    assert im.norm.vmin == -im.norm.vmax            # diverging map centred on 0
    with pytest.raises(ValueError, match="no state field 's'"):
        plots.raster_figure(rnn_traj)


# --- snapshots -------------------------------------------------------------------------
def test_snapshots_figure_with_patterns(micro_traj, patterns):
    fig = plots.snapshots_figure(micro_traj, shape=SHAPE, patterns=patterns)
    axes = fig.axes
    assert len(axes) == 7                           # 6 snapshots + the closest pattern
    assert axes[0].get_title() == "t = 0 (initial)"
    assert axes[5].get_title() == f"t = {micro_traj.ticks} (final)"
    for ax in axes:
        assert len(ax.get_images()) == 1
    final = micro_traj.states["s"][-1]
    np.testing.assert_array_equal(axes[5].get_images()[0].get_array(), (final == 1).reshape(SHAPE))
    # closest pattern, computed independently: pattern 2, recalled exactly
    m = patterns @ final / N
    k = int(np.argmax(np.abs(m)))
    assert k == 1 and m[k] == 1.0
    assert axes[6].get_title() == "closest: pattern 2\nm = +1.00"
    np.testing.assert_array_equal(axes[6].get_images()[0].get_array(), (patterns[1] == 1).reshape(SHAPE))


def test_snapshots_figure_times_binary(binary_traj):
    fig = plots.snapshots_figure(binary_traj, shape=SHAPE, times=[0, 1.5, binary_traj.t[-1]])
    titles = [ax.get_title() for ax in fig.axes]
    # 1.5 sweeps shows the last record at or before it: the state after tick 1
    assert titles == ["t = 0 (initial)", "t = 1", f"t = {binary_traj.ticks} (final)"]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["on (1)", "off (0)"]


def test_snapshots_figure_tiny_and_float(cycle_traj, rnn_traj):
    fig = plots.snapshots_figure(cycle_traj, shape=(1, 2), patterns=np.array([[1, -1], [1, 1]]))
    assert len(fig.axes) == 4
    assert fig.axes[-1].get_title() == "closest: pattern 2\nm = +1.00"
    fig = plots.snapshots_figure(rnn_traj, shape=(2, 1), field="h")
    assert len(fig.axes) == 6 + 1                   # 6 snapshots + a colour bar
    assert fig.axes[-1].get_ylabel() == "h"


def test_snapshots_figure_errors(micro_traj, patterns):
    with pytest.raises(ValueError, match=r"holds 81 units .* N = 64"):
        plots.snapshots_figure(micro_traj, shape=(9, 9))
    with pytest.raises(ValueError, match="outside the recorded span"):
        plots.snapshots_figure(micro_traj, shape=SHAPE, times=[micro_traj.t[-1] + 1])
    with pytest.raises(ValueError, match=r"shape \(P, 64\)"):
        plots.snapshots_figure(micro_traj, shape=SHAPE, patterns=patterns[:, :10])
    with pytest.raises(ValueError, match="same convention"):
        plots.snapshots_figure(micro_traj, shape=SHAPE, patterns=(patterns + 1) // 2)


# --- recall ----------------------------------------------------------------------------
POINTS = [{"n": 10, "exact": 0.6, "exact_lo": 0.45, "exact_hi": 0.74, "lt5": 0.8},
          {"n": 5, "exact": 1.0, "exact_lo": 0.91, "exact_hi": 1.0, "lt5": 1.0},
          {"n": 15, "exact": 0.2, "exact_lo": 0.1, "exact_hi": 0.35, "lt5": 0.5}]
PUBLISHED = [{"n": 10, "value": 0.6, "label": "Hopfield 1982"},
             {"n": 15, "value": 0.5, "label": "Hopfield 1982, < 5 errors"}]


def test_recall_figure():
    fig = plots.recall_figure(POINTS, published=PUBLISHED)
    (ax,) = fig.axes
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["exact recall (95% interval)", "fewer than 5 errors",
                      "Hopfield 1982", "Hopfield 1982, < 5 errors"]
    (bars,) = ax.containers                                           # the error bars
    assert bars.get_label() == "exact recall (95% interval)"
    exact = bars.lines[0]
    np.testing.assert_array_equal(exact.get_xdata(), [5, 10, 15])     # sorted by n
    np.testing.assert_array_equal(exact.get_ydata(), [1.0, 0.6, 0.2])
    np.testing.assert_allclose(bars.lines[2][0].get_segments()[1][:, 1], [0.45, 0.74])
    pub = next(ln for ln in ax.lines if ln.get_label() == "Hopfield 1982")
    assert pub.get_linestyle() == "None" and pub.get_marker() != exact.get_marker()
    assert ax.get_ylim() == pytest.approx((0.0, 1.05))
    assert ax.get_xlabel() == "number of stored memories n" and ax.get_ylabel() == "fraction recalled"


def test_recall_figure_errors():
    with pytest.raises(ValueError, match="at least one point"):
        plots.recall_figure([])
    with pytest.raises(ValueError, match="'exact'"):
        plots.recall_figure([{"n": 5, "lt5": 1.0}])
    with pytest.raises(ValueError, match=r"exact_lo <= exact <= exact_hi fails at n = \[5\]"):
        plots.recall_figure([{"n": 5, "exact": 0.5, "exact_lo": 0.6, "exact_hi": 0.9}])


# --- saving and the registry -------------------------------------------------------------
def test_save_figure_writes_png_atomically(tmp_path, cycle_traj):
    path = plots.save_figure(plots.energy_figure(cycle_traj), tmp_path / "energy.png")
    assert path == tmp_path / "energy.png"
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["energy.png"]
    # overwriting keeps a single file
    plots.save_figure(plots.raster_figure(cycle_traj), str(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["energy.png"]


def test_save_figure_failure_leaves_nothing(tmp_path, cycle_traj):
    fig = plots.energy_figure(cycle_traj)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    fig.savefig = broken
    with pytest.raises(RuntimeError, match="disk full"):
        plots.save_figure(fig, tmp_path / "e.png")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="PNG"):
        plots.save_figure(plots.energy_figure(cycle_traj), tmp_path / "e.pdf")
    with pytest.raises(ValueError, match="does not exist"):
        plots.save_figure(plots.energy_figure(cycle_traj), tmp_path / "missing" / "e.png")


def test_save_figure_closes_pyplot_figures(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    fig = plt.figure()
    fig.add_subplot().plot([0, 1], [0, 1])
    plots.save_figure(fig, tmp_path / "p.png")
    assert not plt.fignum_exists(fig.number)


def test_figures_registry(micro_traj, patterns):
    assert set(plots.FIGURES) == {"energy", "overlap", "raster", "snapshots", "recall_curve"}
    for kind in ("energy", "overlap", "raster"):
        assert isinstance(plots.FIGURES[kind](micro_traj), Figure)
    assert isinstance(plots.FIGURES["snapshots"](micro_traj, shape=SHAPE, patterns=patterns), Figure)
    assert isinstance(plots.FIGURES["recall_curve"](POINTS), Figure)


def test_no_pyplot_state():
    code = ("import sys, numpy as np, sim, nets; from sim import plots; "
            "t = sim.simulate(nets.Hopfield([[0, -1], [-1, 0]]), np.array([1, 1]), ticks=3); "
            "[plots.FIGURES[k](t) for k in ('energy', 'raster')]; "
            "assert 'matplotlib.pyplot' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_raster_figure_long_run_is_thinned(patterns):
    traj = sim.simulate(nets.Hopfield.from_patterns(patterns), patterns[0], ticks=40,
                        schedule="random", temperature=1.0, rng=6, record=sim.Record(micro=True))
    assert len(traj.t) == 40 * N + 1 > plots.base._MAX_COLUMNS
    (im,) = plots.raster_figure(traj).axes[0].get_images()
    data = im.get_array()
    assert data.shape == (N, plots.base._MAX_COLUMNS)
    s = traj.states["s"]
    np.testing.assert_array_equal(data[:, 0], s[0] == 1)     # first and last records kept
    np.testing.assert_array_equal(data[:, -1], s[-1] == 1)
    lo, hi = im.get_extent()[:2]
    assert lo < 0 < 40 < hi and hi - lo < 40.1
