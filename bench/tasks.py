"""The no-op function Lithops and the process pool run, the counterpart of actions/noop.py.

It lives alone, importing nothing, so that shipping it by value to Lithops' workers
drags no other module along.
"""


def noop(value: int) -> int:
    return value
