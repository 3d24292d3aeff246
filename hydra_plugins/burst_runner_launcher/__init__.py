"""Hydra's basic launcher, composing one config per set of config-group choices of a sweep."""
