"""The command line's own error: bad arguments, reported in one line with exit code 2."""


class UsageError(Exception):
    """Bad arguments or paths: printed without a traceback, exit code 2."""
