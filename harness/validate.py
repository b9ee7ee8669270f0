"""The old import path and ``python -m harness.validate``: the code lives in ``harness.validation``."""

from harness.validate_user import USER_KINDS
from harness.validation import *  # noqa: F403  the public names, kept importable from here
from harness.validation import __all__ as _public
from harness.validation.cli import main
from harness.validation.statistics import _auc, _classification, _correlation, _r

__all__ = [*_public, "USER_KINDS", "_auc", "_classification", "_correlation", "_r"]

if __name__ == "__main__":
    raise SystemExit(main())
