"""The ``ibcheck`` command (placeholder until the checks land)."""
import sys


def main(argv=None) -> int:
    print("ibcheck: not yet implemented", file=sys.stderr)
    return 2
