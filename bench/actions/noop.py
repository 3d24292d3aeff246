"""No-op action: answers at once, so only the platform and the client are measured."""


def main(args):
    return {}
