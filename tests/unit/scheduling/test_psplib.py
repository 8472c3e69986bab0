"""Unit tests of the PSPLIB parser: a small hand-written `.sm` file, broken variants of it,
the real j301_1.sm (when the shared benchmark folder is present) and the solutions list.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from essence.domain.errors import InvalidInput
from essence.scheduling.psplib import parse_sm, read_sm, read_solutions
from essence.scheduling.rcpsp import critical_path_length

PSPLIB = Path(__file__).resolve().parents[3].parent / "shared" / "benchmarks" / "psplib"

SMALL_SM = """\
************************************************************************
file with basedata            : tiny.bas
initial value random generator: 1
************************************************************************
projects                      :  1
jobs (incl. supersource/sink ):  5
horizon                       :  20
RESOURCES
  - renewable                 :  2   R
  - nonrenewable              :  0   N
  - doubly constrained        :  0   D
************************************************************************
PROJECT INFORMATION:
pronr.  #jobs rel.date duedate tardcost  MPM-Time
    1      3      0        9        1        7
************************************************************************
PRECEDENCE RELATIONS:
jobnr.    #modes  #successors   successors
   1        1          2           2   3
   2        1          1           4
   3        1          1           5
   4        1          1           5
   5        1          0
************************************************************************
REQUESTS/DURATIONS:
jobnr. mode duration  R 1  R 2
------------------------------------------------------------------------
  1      1     0       0    0
  2      1     3       2    0
  3      1     4       1    1
  4      1     4       0    1
  5      1     0       0    0
************************************************************************
RESOURCEAVAILABILITIES:
  R 1  R 2
    2    1
************************************************************************
"""


def write(tmp_path: Path, text: str, name: str = "tiny_1.sm") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_parses_jobs_durations_successors_demands_and_capacities(tmp_path: Path) -> None:
    instance = read_sm(write(tmp_path, SMALL_SM))
    assert instance.name == "tiny_1.sm"
    assert instance.jobs == (1, 2, 3, 4, 5)
    assert instance.durations == (0, 3, 4, 4, 0)
    assert instance.successors == ((2, 3), (4,), (5,), (5,), ())
    assert instance.demands == ((0, 0), (2, 0), (1, 1), (0, 1), (0, 0))
    assert instance.capacities == (2, 1)
    assert critical_path_length(instance) == 7


def test_truncated_precedences_name_the_file_and_the_section() -> None:
    truncated = SMALL_SM.split("   3        1          1           5")[0]
    with pytest.raises(InvalidInput) as caught:
        parse_sm(truncated, "j301_1.sm")
    assert str(caught.value) == (
        "psplib file: j301_1.sm: truncated: expected 5 jobs in PRECEDENCE RELATIONS, found 2"
    )


def test_a_file_cut_before_the_capacities_is_truncated(tmp_path: Path) -> None:
    cut = SMALL_SM.split("RESOURCEAVAILABILITIES")[0]
    with pytest.raises(InvalidInput, match=r"tiny_1\.sm: truncated.*RESOURCEAVAILABILITIES"):
        read_sm(write(tmp_path, cut))


def test_missing_request_rows_are_reported(tmp_path: Path) -> None:
    cut = SMALL_SM.replace("  4      1     4       0    1\n", "")
    with pytest.raises(InvalidInput, match="expected 5 jobs in REQUESTS/DURATIONS, found 4"):
        read_sm(write(tmp_path, cut))


def test_a_non_number_names_the_line(tmp_path: Path) -> None:
    broken = SMALL_SM.replace("  3      1     4       1    1", "  3      1     x       1    1")
    with pytest.raises(InvalidInput, match=r"tiny_1\.sm: line 30: expected integers"):
        read_sm(write(tmp_path, broken))


def test_a_short_request_row_names_the_line(tmp_path: Path) -> None:
    broken = SMALL_SM.replace("  3      1     4       1    1", "  3      1     4       1")
    with pytest.raises(InvalidInput, match=r"line 30: expected 5 numbers"):
        read_sm(write(tmp_path, broken))


def test_an_empty_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"empty_1\.sm: truncated"):
        read_sm(write(tmp_path, "", "empty_1.sm"))


def test_a_missing_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"nope\.sm: file not found"):
        read_sm(tmp_path / "nope.sm")


def test_a_demand_above_capacity_in_a_file_names_the_file(tmp_path: Path) -> None:
    broken = SMALL_SM.replace("  2      1     3       2    0", "  2      1     3       5    0")
    with pytest.raises(InvalidInput, match=r"tiny_1\.sm: invalid instance: job 2.*capacity"):
        read_sm(write(tmp_path, broken))


def test_a_cycle_in_a_file_names_the_file(tmp_path: Path) -> None:
    broken = SMALL_SM.replace(
        "   4        1          1           5", "   4        1          1   2"
    )
    with pytest.raises(InvalidInput, match=r"tiny_1\.sm: invalid instance: .*cycle"):
        read_sm(write(tmp_path, broken))


def test_solutions_map_parameter_and_instance_to_file_names(tmp_path: Path) -> None:
    text = "Par\tInst\tMakespan\n=====\n1\t1\t43\t\tTue May 29\n48\t10\t54\t\tx\n"
    solutions = read_solutions(write(tmp_path, text, "j30hrs.sm"))
    assert solutions == {"j301_1.sm": 43, "j3048_10.sm": 54}


def test_a_malformed_solution_row_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"j30hrs\.sm: line 2: malformed row"):
        read_solutions(write(tmp_path, "Par Inst Makespan\n1 1 x\n", "j30hrs.sm"))


@pytest.mark.skipif(not PSPLIB.is_dir(), reason="shared PSPLIB benchmark folder not present")
def test_real_j301_1_matches_the_file_header() -> None:
    instance = read_sm(PSPLIB / "j30" / "j301_1.sm")
    assert instance.size == 32
    assert instance.capacities == (12, 13, 4, 12)
    assert instance.successors[0] == (2, 3, 4)
    assert instance.durations[1] == 8 and instance.demands[1] == (4, 0, 0, 0)
    assert critical_path_length(instance) == 38  # MPM-Time in the file's project information
    solutions = read_solutions(PSPLIB / "j30hrs.sm")
    assert len(solutions) == 480 and solutions["j301_1.sm"] == 43
