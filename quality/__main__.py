"""`python -m quality`: run every suite with the default settings; exit 1 unless all is well."""

from __future__ import annotations

import sys

from quality import run_checks


def main() -> int:
    result = run_checks()
    print(result.summary())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
