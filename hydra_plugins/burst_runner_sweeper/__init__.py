"""Hydra's basic sweeper, checking a sweep's overrides before it runs at less cost."""
