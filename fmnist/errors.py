"""User-facing errors: a user's mistake ends a stage with one readable line, never a traceback."""
import sys


class UserError(Exception):
    """Bad input from the user or the outside world (params, data files, sources). The message names the
    input and what is wrong with it."""


def run_stage(main) -> None:
    """Run a stage's `main()`; turn a UserError into one line on stderr and exit status 1."""
    try:
        main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
