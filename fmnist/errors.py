"""User-facing errors: a user's mistake ends a stage with one readable line, never a traceback (fmnist.stage)."""


class UserError(Exception):
    """Bad input from the user or the outside world (params, data files, sources). The message names the
    input and what is wrong with it."""
