"""Speed benchmarks of the runner and the embedded platform (``python -m bench``, ``make bench``).

Speed goals live here rather than in timed unit tests: on a shared, noisy
machine only ratios against a baseline measured in the same run, repeated in
interleaved order and summarised by medians, say anything reliable.
"""
