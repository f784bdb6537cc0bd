"""Comparison of runs: exact 1-D Wasserstein distances, time matching, output."""

import itertools
import warnings

import matplotlib.figure
import numpy as np
import pytest
import xarray as xr
from scipy.stats import wasserstein_distance

import pdeflow
from pdeflow.comparison import compare, match_times, plot_comparison, wasserstein_1d


def _uniform(low, high, cells):
    edges = np.linspace(low, high, cells + 1)
    return edges, np.full(cells, 1.0 / (high - low))


@pytest.mark.parametrize(
    ("law_b", "w1", "w2"),
    [
        # A shift by 0.5 moves every quantile by 0.5.
        ((0.5, 1.5, 3), 0.5, 0.5),
        # Q_a(u) = u and Q_b(u) = 2u: W1 = int u du = 1/2, W2 = sqrt(int u^2 du).
        ((0.0, 2.0, 4), 0.5, np.sqrt(1 / 3)),
    ],
)
def test_wasserstein_of_uniform_laws(law_b, w1, w2):
    edges_a, density_a = _uniform(0.0, 1.0, 7)
    edges_b, density_b = _uniform(*law_b)
    for p, expected in ((1, w1), (2, w2)):
        distance = wasserstein_1d(edges_a, density_a, edges_b, density_b, p)
        assert distance == pytest.approx(expected, rel=1e-14)


def test_wasserstein_ignores_negative_cells():
    # A negative cell whose signed total makes the mass negative still leaves
    # a positive clipped measure, the law uniform on the first cell.
    edges = np.linspace(0.0, 1.0, 5)
    signed = np.array([1.0, -3.0, 0.0, 0.0])
    first_cell = np.array([1.0, 0.0, 0.0, 0.0])
    uniform = np.ones(4)
    distance = wasserstein_1d(edges, signed, edges, uniform, 1)
    assert distance == pytest.approx(
        wasserstein_1d(edges, first_cell, edges, uniform, 1)
    )
    # Q_a(u) = u / 4 and Q_b(u) = u: W1 = int (3/4) u du = 3/8.
    assert distance == pytest.approx(3 / 8, rel=1e-14)


def test_wasserstein_matches_scipy_on_random_densities():
    rng = np.random.default_rng(2)
    edges_a = np.sort(np.concatenate([[0.0, 1.5], rng.uniform(0, 1.5, 9)]))
    edges_b = np.linspace(0.0, 1.5, 14)
    density_a = rng.uniform(0.0, 1.0, 10)
    density_b = rng.uniform(0.0, 1.0, 13)
    density_a[3] = 0.0  # an empty cell makes the quantile function jump

    # Independent route: scipy's exact W1 of discrete laws that put each cell's
    # mass on 2000 evenly spaced points; that discretisation moves W1 by at
    # most half a sub-cell width, below 1e-4 here.
    def points(edges, density):
        fine = np.concatenate(
            [
                np.linspace(lo, hi, 2001)[:-1] + (hi - lo) / 4000
                for lo, hi in zip(edges[:-1], edges[1:], strict=True)
            ]
        )
        weights = np.repeat(density * np.diff(edges) / 2000, 2000)
        return fine, weights

    xa, wa = points(edges_a, density_a)
    xb, wb = points(edges_b, density_b)
    expected = wasserstein_distance(xa, xb, wa, wb)
    assert wasserstein_1d(edges_a, density_a, edges_b, density_b, 1) == pytest.approx(
        expected, abs=1e-4
    )
    # W2 >= W1 for probability measures (Jensen).
    assert wasserstein_1d(edges_a, density_a, edges_b, density_b, 2) >= expected - 1e-4


def test_wasserstein_of_zero_mass_is_nan():
    edges, density = _uniform(0.0, 1.0, 4)
    assert np.isnan(wasserstein_1d(edges, 0.0 * density, edges, density, 2))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_wasserstein_non_finite_density_is_nan(bad):
    edges, density = _uniform(0.0, 1.0, 4)
    broken = density.copy()
    broken[1] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for p in (1, 2):
            assert np.isnan(wasserstein_1d(edges, broken, edges, density, p)), p
            assert np.isnan(wasserstein_1d(edges, density, edges, broken, p)), p
        # A mesh of one cell.
        assert np.isnan(wasserstein_1d([0, 1], [bad], [0, 1], [1], 1))


def test_wasserstein_rejects_mismatched_mesh():
    edges, density = _uniform(0.0, 1.0, 4)
    with pytest.raises(ValueError, match=r"edges_b has shape \(5,\) and density_b"):
        wasserstein_1d(edges, density, edges, density[:3], 2)


def test_match_times_with_tolerance():
    index_a, index_b = match_times(
        np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0 + 1e-9, 3.0, 5.0])
    )
    assert index_a.tolist() == [1, 3]
    assert index_b.tolist() == [0, 1]


def _best_pairing_by_enumeration(times_a, times_b, rtol, atol=1e-9):
    """Return (pairs, gap sum) of the best in-order pairing, by brute force."""
    best = (0, 0.0)
    for k in range(1, min(len(times_a), len(times_b)) + 1):
        for chosen_a in itertools.combinations(range(len(times_a)), k):
            for chosen_b in itertools.combinations(range(len(times_b)), k):
                total = 0.0
                for i, j in zip(chosen_a, chosen_b, strict=True):
                    a, b = times_a[i], times_b[j]
                    tolerance = atol + rtol * max(abs(a), abs(b))
                    if abs(a - b) > tolerance:
                        break
                    total += abs(a - b) / tolerance
                else:
                    if (k, -total) > (best[0], -best[1]):
                        best = (k, total)
    return best


def test_match_times_agrees_with_enumeration():
    # Enumerating every in-order pairing of up to 4 x 4 times is an
    # independent route to the most pairs with the smallest gaps.
    rng = np.random.default_rng(7)
    for _ in range(300):
        times_a = np.sort(
            rng.choice(np.linspace(0.0, 2.0, 41), rng.integers(0, 5), False)
        )
        times_b = np.sort(
            rng.choice(np.linspace(0.0, 2.0, 41), rng.integers(0, 5), False)
        )
        rtol = float(10.0 ** rng.uniform(-2, 0))
        index_a, index_b = match_times(times_a, times_b, rtol=rtol)
        pairs, total = _best_pairing_by_enumeration(times_a, times_b, rtol)
        assert index_a.size == pairs
        gaps = np.abs(times_a[index_a] - times_b[index_b])
        scale = 1e-9 + rtol * np.maximum(times_a[index_a], times_b[index_b])
        assert np.sum(gaps / scale) == pytest.approx(total, abs=1e-9)


@pytest.mark.parametrize(
    ("times_a", "times_b", "rtol", "expected_a", "expected_b"),
    [
        ([1.0, 1.1], [0.9, 1.05], 0.1, [0, 1], [0, 1]),
        ([1.0, 2.0, 3.0], [3.0], 1.0, [2], [0]),
        ([1.41, 1.52, 1.77], [0.07, 0.36, 0.83, 1.84], 1.0, [0, 1, 2], [1, 2, 3]),
    ],
)
def test_match_times_prefers_more_pairs_then_exact(
    times_a, times_b, rtol, expected_a, expected_b
):
    index_a, index_b = match_times(times_a, times_b, rtol=rtol)
    assert index_a.tolist() == expected_a
    assert index_b.tolist() == expected_b


def test_match_times_of_long_runs_pairs_nearest(monkeypatch):
    # Beyond MAX_MATCH_CELLS the nearest later time is taken instead.
    monkeypatch.setattr("pdeflow.comparison.MAX_MATCH_CELLS", 0)
    index_a, index_b = match_times([0.0, 1.0, 2.0, 3.0], [1.0 + 1e-9, 3.0, 5.0])
    assert index_a.tolist() == [1, 3]
    assert index_b.tolist() == [0, 1]


def test_match_times_rejects_unsorted_times():
    with pytest.raises(ValueError, match="times_b is not finite and strictly"):
        match_times([0.0, 1.0, 2.0], [2.0, 1.0, 0.0])


def test_match_times_pairs_every_time_within_tolerance():
    # With rtol = 1 the nearest b time of both early a times is 0.0051; the
    # second a time takes the next one instead of going unpaired.
    times_a = np.array([1e-4, 2.15e-3, 0.5, 1.0])
    times_b = times_a + 0.005
    index_a, index_b = match_times(times_a, times_b, rtol=1.0)
    assert index_a.tolist() == [0, 1, 2, 3]
    assert index_b.tolist() == [0, 1, 2, 3]


@pytest.fixture(scope="module")
def runs():
    problem = pdeflow.Problem(6, 2)
    times = np.linspace(0.0, 1.0, 5)
    coarse = pdeflow.solve(problem, 1.0, cells=32, save_times=times)
    fine = pdeflow.solve(problem, 1.0, cells=64, save_times=times[::2])
    return coarse, fine


def test_compare_run_with_itself(runs):
    coarse, _ = runs
    result = compare(coarse, coarse)
    for name in (
        "mass_plus_difference",
        "mass_minus_difference",
        "w1_plus",
        "w2_minus",
        "loss_difference",
        "predictor_max_difference",
    ):
        assert np.all(np.abs(result[name].values) < 1e-12), name


def test_compare_two_meshes(runs):
    coarse, fine = runs
    result = compare(coarse, fine)
    assert result.time.values.tolist() == [0.0, 0.5, 1.0]
    # At t = 0 both hold exact cell averages of g / 2: equal masses, and
    # histogram distances of the order of the coarse cell width (0.05 rad).
    assert result.mass_plus_difference.values[0] == pytest.approx(0.0, abs=1e-14)
    assert 0.0 < result.w2_plus.values[0] < 0.05
    mass_gap = np.abs(fine.mass_plus.values - coarse.mass_plus.values[::2])
    assert np.allclose(np.abs(result.mass_plus_difference.values), mass_gap, rtol=1e-14)
    assert result.w1_plus.attrs["units"] == "rad"


def test_compare_warns_about_different_problems(runs, caplog):
    coarse, _ = runs
    other = pdeflow.solve(pdeflow.Problem(7, 2), 1.0, cells=32, saves=2)
    with caplog.at_level("WARNING", logger="pdeflow"):
        compare(coarse, coarse)
    assert not caplog.records
    with caplog.at_level("WARNING", logger="pdeflow"):
        result = compare(coarse, other)
    (record,) = caplog.records
    assert "run a has d=6, d_H=2 but run b has d=7, d_H=2" in record.getMessage()
    assert result.time.values.tolist() == [0.0, 1.0]


def test_compare_warns_about_different_starts(runs, caplog):
    coarse, _ = runs
    problem = pdeflow.Problem(6, 2)
    narrow = pdeflow.initial.concentrated_start(problem, 0.01)
    other = pdeflow.solve(problem, 1.0, cells=32, saves=2, initial=narrow)
    caplog.clear()  # the solver's warning about the unresolved start
    with caplog.at_level("WARNING", logger="pdeflow"):
        compare(coarse, other)
    (record,) = caplog.records
    assert "run a starts from 'paper: tau_plus = tau_minus = g/2'" in (
        record.getMessage()
    )


def test_compare_warns_about_stopped_runs(runs, caplog):
    coarse, _ = runs
    assert coarse.attrs["stop_reason"] == "completed"
    stopped = coarse.copy()
    stopped.attrs["stop_reason"] = "interrupted by SIGTERM at t=0.5"
    with caplog.at_level("WARNING", logger="pdeflow.comparison"):
        compare(coarse, stopped)
    (record,) = caplog.records
    assert record.name == "pdeflow.comparison"
    message = record.getMessage()
    assert "run b stopped early with reason" in message
    assert "interrupted by SIGTERM at t=0.5" in message


def test_compare_gives_nan_after_divergence(runs):
    coarse, _ = runs
    diverged = coarse.copy(deep=True)
    diverged["tau_plus"][2:] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = compare(coarse, diverged)
    for name in ("w1_plus", "w2_plus"):
        distances = result[name].values
        assert np.all(distances[:2] < 1e-12), name
        assert np.all(np.isnan(distances[2:])), name
    assert np.all(result.w2_minus.values < 1e-12)


def test_compare_opens_run_files(runs, tmp_path):
    coarse, fine = runs
    path_a = pdeflow.write_netcdf(coarse, tmp_path / "coarse.nc")
    path_b = pdeflow.write_netcdf(fine, tmp_path / "fine.nc")
    from_files = compare(str(path_a), path_b)
    xr.testing.assert_allclose(from_files, compare(coarse, fine))
    image = plot_comparison(str(path_a), path_b, tmp_path / "overlay.png")
    assert image.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("run_a", "error", "needle"),
    [
        (None, TypeError, "run_a=None is invalid: pass an xarray.Dataset"),
        (3.5, TypeError, "run_a=3.5 is invalid"),
        ("missing.nc", OSError, "'missing.nc' not found"),
    ],
)
def test_compare_rejects_bad_runs(runs, run_a, error, needle):
    coarse, _ = runs
    with pytest.raises(error, match=needle):
        compare(run_a, coarse)


@pytest.mark.parametrize(
    ("options", "error", "needle"),
    [
        ({"rtol": -1.0}, ValueError, "rtol=-1.0 is invalid"),
        ({"rtol": 0.0}, ValueError, "rtol=0.0 is invalid"),
        ({"rtol": np.nan}, ValueError, "rtol=nan is invalid"),
        ({"atol": np.inf}, ValueError, "atol=inf is invalid"),
        ({"atol": "1e-9"}, TypeError, "atol='1e-9' is invalid"),
    ],
)
def test_compare_rejects_bad_tolerances(runs, options, error, needle):
    coarse, _ = runs
    with pytest.raises(error, match=needle):
        compare(coarse, coarse, **options)


def test_plot_comparison_matches_times_with_rtol(runs, tmp_path):
    coarse, _ = runs
    # Saved times 0.005 later: within rtol = 1 of each other, far outside 1e-6.
    later = coarse.assign_coords(time=coarse.time.values + 0.005)
    with pytest.raises(ValueError, match="share no saved time"):
        plot_comparison(coarse, later, tmp_path / "strict.png")
    image = plot_comparison(coarse, later, tmp_path / "loose.png", rtol=1.0)
    assert image.stat().st_size > 10_000
    assert sorted(path.name for path in tmp_path.iterdir()) == ["loose.png"]


def test_plot_comparison_labels_each_run_with_its_time(runs, tmp_path, monkeypatch):
    coarse, _ = runs
    # Times 10 % later, within rtol = 1 and far enough apart to show in labels.
    later = coarse.assign_coords(time=coarse.time.values * 1.1)
    legends = []

    def record_legends(figure, *args, **options):
        for axis in figure.axes[:2]:
            legends.append([text.get_text() for text in axis.get_legend().texts])

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", record_legends)
    plot_comparison(coarse, later, tmp_path / "loose.png", rtol=1.0)
    t_end = float(coarse.time.values[-1])
    assert f"a, t = {t_end:.3g}" in legends[0]
    assert f"b, t = {1.1 * t_end:.3g}" in legends[0]


@pytest.mark.parametrize(
    ("name", "options", "error", "needle"),
    [
        ("overlay", {}, OSError, "'.*overlay' has no known suffix: use .png"),
        ("overlay.png", {"labels": ("a",)}, ValueError, "labels=.* pass two names"),
        ("overlay.png", {"labels": "ab"}, ValueError, "pass two names"),
        ("overlay.png", {"labels": ("a", "")}, ValueError, "pass two names"),
        ("overlay.png", {"snapshots": 0}, ValueError, "snapshots=0 is invalid"),
        ("overlay.png", {"rtol": -1.0}, ValueError, "rtol=-1.0 is invalid"),
    ],
)
def test_plot_comparison_rejects_bad_arguments(
    runs, tmp_path, name, options, error, needle
):
    coarse, fine = runs
    with pytest.raises(error, match=needle):
        plot_comparison(coarse, fine, tmp_path / name, **options)
    assert list(tmp_path.iterdir()) == []


def test_plot_comparison_folder_suggests_file(runs, tmp_path):
    coarse, fine = runs
    folder = tmp_path / "overlay.png"
    folder.mkdir()
    needle = "is a folder, not a file: pass a file name such as '.*comparison.png'"
    with pytest.raises(OSError, match=needle):
        plot_comparison(coarse, fine, folder)


def test_particle_runs_record_their_start(caplog):
    from pdeflow.particles import simulate_deterministic

    problem = pdeflow.Problem(6, 2)
    particles = simulate_deterministic(problem, 0.5, m=64, saves=2)
    assert particles.attrs["initial"] == pdeflow.initial.PAPER_LABEL
    narrow = pdeflow.initial.concentrated_start(problem, 0.2)
    pde = pdeflow.solve(problem, 0.5, cells=32, saves=2, initial=narrow)
    with caplog.at_level("WARNING", logger="pdeflow"):
        compare(pde, particles)
    assert "starts from" in caplog.records[-1].getMessage()


def test_compare_rejects_disjoint_times(runs):
    coarse, _ = runs
    shifted = coarse.assign_coords(time=coarse.time.values + 10.0)
    with pytest.raises(ValueError, match="share no saved time"):
        compare(coarse, shifted)


def test_plot_comparison_writes_file(runs, tmp_path):
    coarse, fine = runs
    target = plot_comparison(
        coarse, fine, tmp_path / "overlay.png", labels=("32 cells", "64 cells")
    )
    assert target.stat().st_size > 10_000
    assert isinstance(compare(coarse, fine), xr.Dataset)
