"""Mutation testing of the modules that decide what a user is told (``make mutants``).

modules.toml says which modules and which tests; equivalent.toml lists the survivors
judged equivalent, with why; ``python -m mutants`` runs cosmic-ray over a copy of the
project and prints the score of each module.
"""
