"""offbyone action: the bug under test."""


def main(args):
    return {"doubled": 2 * args["x"] + 1}
