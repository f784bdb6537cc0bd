"""The command line: an end-to-end run, plots, and one-line errors for bad input."""

import builtins
import inspect
import signal
import subprocess
import sys
import time

import pytest
import xarray as xr
from cli_args import argv

from pdeflow import cli, comparison, entry, open_run, write_netcdf
from pdeflow.cli import main


def _pdeflow(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "pdeflow.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_solve_and_plot(tmp_path, capsys):
    out = tmp_path / "run.nc"
    code = main(
        argv(
            "solve --d 6 --d-H 2 --t-end 2 --cells 32 --saves 4",
            "--out",
            out,
            "--plot",
            tmp_path / "a.png",
        )
    )
    assert code == 0
    table = capsys.readouterr().out
    assert "mass of tau_plus" in table
    assert "alpha = 3.141593" in table
    run = open_run(out)
    assert run.sizes["time"] == 4
    assert (tmp_path / "a.png").stat().st_size > 10_000

    assert main(["plot", str(out), "--out", str(tmp_path / "b.png")]) == 0
    assert (tmp_path / "b.png").stat().st_size > 10_000


def test_save_times_option(tmp_path):
    out = tmp_path / "run.nc"
    assert (
        main(
            argv(
                "-q solve --d 6 --d-H 2 --t-end 3 --cells 16",
                "--save-times 0,1,3 --out",
                out,
            )
        )
        == 0
    )
    assert list(open_run(out).time.values) == [0.0, 1.0, 3.0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--d", "5", "--d-H", "5"], "--d-H 5"),
        (["--d", "30.5"], "'30.5' is not an integer"),
        (["--t-end", "-3"], "--t-end -3"),
        (["--cells", "1"], "pass a value >= 2"),
        (["--cfl", "1.5"], "--cfl 1.5"),
        (["--scheme", "weno"], "invalid choice: 'weno'"),
        (["--mesh", "graded", "--grading", "0.5"], "--grading 0.5"),
        (["--dt-max", "0"], "argument --dt-max: '0' is invalid"),
        (["--out", "same.png", "--plot", "same.png"], "same file as --out"),
        (["--save-times", "0,nan"], "contains nan or inf"),
        (["--t-end", "abc"], "'abc' is not a number"),
        (["--out", "/nonexistent/dir/run.nc"], "does not exist"),
        (["--save-times", "0,a"], "comma-separated"),
        (["--plot", "fig.txt"], "no known suffix"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(tmp_path, args, needle):
    if "--out" not in args:
        args = [*args, "--out", "run.nc"]
    # argparse keeps the last value of an option, so args override the defaults here.
    result = _pdeflow("solve", "--t-end", "1", "--cells", "8", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pdeflow: error:")
    assert needle in lines[0]
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = _pdeflow(
            "solve",
            "--t-end",
            "1",
            "--cells",
            "8",
            "--out",
            str(locked / "run.nc"),
            cwd=tmp_path,
        )
    finally:
        locked.chmod(0o700)
    if result.returncode == 0:
        pytest.skip("running as a user who can write to read-only folders")
    assert result.returncode == 2
    assert "not writable" in result.stderr


def test_plot_rejects_foreign_file(tmp_path):
    bad = tmp_path / "bad.nc"
    bad.write_bytes(b"\x00" * 100)
    result = _pdeflow("plot", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert "could not be read as NetCDF" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_muscl_on_graded_mesh(tmp_path):
    out = tmp_path / "run.nc"
    code = main(
        argv(
            "-q solve --d 6 --d-H 2 --t-end 2 --cells 24",
            "--scheme muscl --limiter vanleer --mesh graded",
            "--grading 2 --grade-both-ends --saves 3 --out",
            out,
        )
    )
    assert code == 0
    run = open_run(out)
    assert run.attrs["scheme"] == "muscl"
    assert run.attrs["limiter"] == "vanleer"
    assert run.attrs["mesh"] == "graded(power=2, ends=both)"
    widths = run.theta_edges.diff("face").values
    assert widths[0] < widths[12] / 10


def test_particles_and_compare(tmp_path, capsys):
    pde = tmp_path / "pde.nc"
    particles = tmp_path / "particles.nc"
    assert (
        main(
            argv(
                "-q solve --d 6 --d-H 2 --t-end 0.5 --cells 64",
                "--save-times 0,0.25,0.5 --out",
                pde,
            )
        )
        == 0
    )
    assert (
        main(
            argv(
                "-q particles --kind reduced --d 6 --d-H 2 --t-end 0.5",
                "--m 60 --save-times 0,0.25,0.5 --out",
                particles,
            )
        )
        == 0
    )
    run = open_run(particles)
    assert run.attrs["d"] == 6

    result = tmp_path / "comparison.nc"
    image = tmp_path / "comparison.png"
    assert (
        main(
            argv(
                "compare",
                pde,
                particles,
                "--out",
                result,
                "--plot",
                image,
                "--labels PDE,particles",
            )
        )
        == 0
    )
    table = capsys.readouterr().out
    assert "mass_plus_relative_error" in table
    assert image.stat().st_size > 10_000
    import xarray as xr

    comparison = xr.open_dataset(result, engine="h5netcdf")
    assert comparison.sizes["time"] == 3
    # 60 Gauss-placed particles follow the 64-cell PDE closely over this span.
    assert float(comparison.mass_plus_relative_error.max()) < 1e-3


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--kind", "faithful", "--t-end", "1"], "--t-end does not apply"),
        (["--kind", "network"], "needs --t-end"),
        (["--kind", "swarm"], "invalid choice: 'swarm'"),
        (argv("--kind reduced --t-end 1 --m 1"), "pass a value >= 2"),
    ],
)
def test_particles_bad_input(tmp_path, args, needle):
    result = _pdeflow("particles", *args, "--out", "p.nc", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("number", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)]
)
def test_interrupt_during_kernel_build(tmp_path, number, code):
    # 60000 cells take several seconds of kernel tables, so the signal arrives
    # before the time loop: one line, exit code 128 + signal, nothing written.
    command = argv(
        [sys.executable], "-m pdeflow.cli solve --cells 60000 --t-end 1 --out run.nc"
    )
    child = subprocess.Popen(command, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    time.sleep(3.0)  # past the imports, well inside the table build
    child.send_signal(number)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == code, stderr
    name = signal.Signals(number).name
    assert stderr.strip().splitlines() == [
        f"pdeflow: interrupted by {name}; files finished before it are kept"
    ]
    assert list(tmp_path.iterdir()) == []


def test_outputs_that_are_not_regular_files_are_rejected(tmp_path):
    import os

    fifo = tmp_path / "pipe.nc"
    os.mkfifo(fifo)
    result = _pdeflow(
        "solve", "--t-end", "1", "--cells", "8", "--out", str(fifo), cwd=tmp_path
    )
    assert result.returncode == 2
    assert "device, pipe or socket" in result.stderr
    assert fifo.is_fifo()


def test_symlinked_output_is_written_through(tmp_path):
    target = tmp_path / "real.nc"
    link = tmp_path / "link.nc"
    link.symlink_to(target)
    assert (
        main(
            argv("-q solve --d 6 --d-H 2 --t-end 1 --cells 8 --saves 2", "--out", link)
        )
        == 0
    )
    assert link.is_symlink()
    assert open_run(target).attrs["d"] == 6


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            argv(
                "solve --t-end 1 --cells 8 --out a.nc --plot b.png",
                "--checkpoint b.png",
            ),
            "--checkpoint 'b.png' is the same",
        ),
        (argv("solve --t-end 1 --cells 8 --dt-max -1"), "--dt-max"),
        (["resume", "missing.ckpt", "--checkpoint-every", "0"], "--checkpoint-every 0"),
        (["solve", "--d", "5000", "--d-H", "1"], "pass d <= 1000"),
    ],
)
def test_conflicting_or_bad_options(tmp_path, args, needle):
    result = _pdeflow(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_dt_max_accepts_inf(tmp_path):
    assert (
        main(
            argv(
                "-q solve --d 6 --d-H 2 --t-end 1 --cells 8 --saves 2",
                "--dt-max inf --out",
                tmp_path / "r.nc",
            )
        )
        == 0
    )


def test_compare_refuses_to_overwrite_an_input(tmp_path):
    run = tmp_path / "run.nc"
    assert (
        main(argv("-q solve --d 6 --d-H 2 --t-end 1 --cells 8 --saves 2", "--out", run))
        == 0
    )
    before = run.read_bytes()
    result = _pdeflow("compare", str(run), str(run), "--out", str(run), cwd=tmp_path)
    assert result.returncode == 2
    assert "same file as" in result.stderr
    assert run.read_bytes() == before


def _run_and_later_copy(tmp_path):
    """Write a run and a copy whose saved times are 0.005 later."""
    run = tmp_path / "run.nc"
    assert (
        main(
            argv(
                "-q solve --d 6 --d-H 2 --t-end 1 --cells 8",
                "--save-times 0,0.5,1 --out",
                run,
            )
        )
        == 0
    )
    dataset = open_run(run)
    later = tmp_path / "later.nc"
    write_netcdf(dataset.assign_coords(time=dataset.time.values + 0.005), later)
    return run, later


def test_compare_plot_matches_times_with_rtol(tmp_path, capsys):
    run, later = _run_and_later_copy(tmp_path)
    table, image = tmp_path / "l.nc", tmp_path / "l.png"
    command = argv("compare", run, later, "--rtol 1 --out", table, "--plot", image)
    assert main(command) == 0, capsys.readouterr().err
    assert xr.open_dataset(table, engine="h5netcdf").sizes["time"] == 3
    assert image.stat().st_size > 10_000


def test_compare_failed_plot_leaves_no_table(tmp_path, capsys, monkeypatch):
    run, later = _run_and_later_copy(tmp_path)

    def fail(*args, **options):
        raise ValueError("drawing failed")

    monkeypatch.setattr(comparison, "plot_comparison", fail)
    table, image = tmp_path / "l.nc", tmp_path / "l.png"
    command = argv("compare", run, later, "--rtol 1 --out", table, "--plot", image)
    assert main(command) == 2
    assert "drawing failed" in capsys.readouterr().err
    assert not table.exists()
    assert not image.exists()


def test_compare_plot_folder_suggests_file(tmp_path):
    (tmp_path / "fig.png").mkdir()
    result = _pdeflow("compare", "a.nc", "b.nc", "--plot", "fig.png", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "'fig.png' is a folder, not a file" in lines[0]
    assert "pass a file name such as 'fig.png/comparison.png'" in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        "--kind faithful --steps 5 --m 20 --samples 20 --eta 100",
        "--kind faithful --steps 5 --m 16 --samples 20 --eta 1e6",
        "--kind network --t-end 2000 --m 16 --batch 16 --eta 50 --saves 3",
        "--kind network --t-end 2000 --m 16 --batch 16 --eta 1e3 --saves 3",
    ],
)
def test_diverging_particle_run_exits_with_one(tmp_path, args):
    command = argv("particles --d 6 --d-H 2", args, "--out p.nc")
    result = _pdeflow(*command, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "run failed" in result.stderr
    assert "reduce" in result.stderr
    assert "RuntimeWarning" not in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-q", "solve", "-v", "--t-end", "1"], "exclude each other"),
        (["solve", "--config", "."], "is a folder"),
        (["solve", "--config", "latin1.toml"], "not UTF-8 text"),
        (["animate", "missing.nc", "--out", "."], "is a folder"),
    ],
)
def test_more_bad_input(tmp_path, args, needle):
    (tmp_path / "latin1.toml").write_bytes(b"cells = 8\n\xff\xfe\n")
    result = _pdeflow(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_interrupt_while_loading_the_command_line(monkeypatch, capsys):
    real_import = builtins.__import__

    def interrupted(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "cli" and level == 1:
            raise KeyboardInterrupt
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", interrupted)
    with pytest.raises(SystemExit) as stop:
        entry.run()
    assert stop.value.code == entry.INTERRUPTED
    assert capsys.readouterr().err == (
        "pdeflow: interrupted while starting; nothing was written\n"
    )


def test_sigint_early_in_a_run_prints_no_traceback(tmp_path):
    # 0.3 s lands in the imports on this machine, in the solver on a fast
    # one; either way the output is one line, and a file only if complete.
    command = [sys.executable, "-c", "from pdeflow.entry import run; run()"]
    process = subprocess.Popen(
        [*command, "solve", "--out", "r.nc", "-q"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert "Traceback" not in stderr
    assert process.returncode in (0, 1, entry.INTERRUPTED)
    if process.returncode == entry.INTERRUPTED:
        assert not (tmp_path / "r.nc").exists()


# A short run that writes a periodic checkpoint at every step.
SHORT_CHECKPOINTED = argv("-q solve --d 6 --d-H 2 --t-end 0.2")
SHORT_CHECKPOINTED += argv("--cells 16 --saves 2 --checkpoint-every 1e-6")


@pytest.mark.parametrize("write_fails", [False, True])
def test_checkpoint_stays_until_the_run_file_is_written(
    tmp_path, monkeypatch, write_fails
):
    def interrupted(run, path):
        raise KeyboardInterrupt

    if write_fails:
        monkeypatch.setattr(cli, "write_netcdf", interrupted)
    out = tmp_path / "run.nc"
    code = main([*SHORT_CHECKPOINTED, "--out", str(out)])
    assert code == (entry.INTERRUPTED if write_fails else 0)
    assert out.exists() is not write_fails
    assert (tmp_path / "run.nc.checkpoint").exists() is write_fails


def test_particles_help_states_the_defaults(capsys):
    from pdeflow.particles import (
        simulate_deterministic,
        simulate_faithful,
        simulate_network,
    )

    with pytest.raises(SystemExit):
        main(["particles", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    reduced = inspect.signature(simulate_deterministic).parameters
    faithful = inspect.signature(simulate_faithful).parameters
    network = inspect.signature(simulate_network).parameters
    phrases = [
        f"reduced {reduced['m'].default}, faithful {faithful['m'].default}, "
        f"network {network['m'].default}",
        f"(default {reduced['dt'].default:g})",
        f"(default {reduced['layout'].default})",
        f"(default {reduced['saves'].default})",
        f"(default {reduced['cells'].default})",
        f"(default {reduced['n_phi'].default})",
        f"default {faithful['steps'].default},",
        f"default {faithful['samples'].default})",
        f"d x eta (default {faithful['eta'].default:g})",
        f"flow time eta (default {network['eta'].default:g})",
        f"(default {network['batch'].default})",
        f"(default {network['backend'].default})",
        f"(default {network['dtype'].default})",
        f"(default {network['eval_samples'].default})",
    ]
    for phrase in phrases:
        assert phrase in text
