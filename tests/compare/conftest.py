"""Lets the comparison tests import compare_helpers.py (fabricated run directories)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
