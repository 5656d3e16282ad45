"""Entry point of ``python -m skproj`` (the same as the ``skproj`` command)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
