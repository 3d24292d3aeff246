"""Reading and comparing runs, for the command line and for notebooks.

    from runner.analysis import compare_runs, load_runs, load_workers

The functions return pandas DataFrames (README, "Comparing runs").
"""

from runner.analysis.compare import Comparison, compare_runs
from runner.analysis.runs import load_activations, load_runs, load_workers

__all__ = ["Comparison", "compare_runs", "load_activations", "load_runs", "load_workers"]
