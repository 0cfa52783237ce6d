"""Solver libraries print nothing: HiGHS's MIP debug lines (C printf) never reach stdout."""

from __future__ import annotations

import ctypes
import os
import threading

from matchmaker.solve.highs import quiet_c_stdout

LIBC = ctypes.CDLL(None)


def test_quiet_c_stdout_silences_c_and_fd_writes_and_restores_stdout(capfd):
    print("before", flush=True)
    with quiet_c_stdout():
        LIBC.printf(b"HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();\n")
        os.write(1, b"a write to descriptor 1\n")
        with quiet_c_stdout():  # nested
            LIBC.puts(b"nested")
    print("after", flush=True)
    LIBC.fflush(None)
    assert capfd.readouterr().out == "before\nafter\n"


def test_quiet_c_stdout_from_threads_restores_stdout_once(capfd):
    barrier = threading.Barrier(4)

    def work():
        with quiet_c_stdout():
            barrier.wait()
            LIBC.printf(b"from a thread\n")
            barrier.wait()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    LIBC.fflush(None)
    os.write(1, b"visible\n")
    assert capfd.readouterr().out == "visible\n"


def test_a_solve_prints_nothing(tmp_path, capfd):
    from matchmaker.generator.generate import generate_round
    from matchmaker.inputs.loading import load_round
    from matchmaker.run import run_round

    generate_round(tmp_path / "r", n_visitors=60, n_hosts=30, seed=3)
    rnd = load_round(tmp_path / "r")
    capfd.readouterr()
    run_round(rnd, tmp_path / "o", time_limit=10, verbose=False)
    LIBC.fflush(None)
    captured = capfd.readouterr()
    assert captured.out == "" and "Highs" not in captured.err, captured
