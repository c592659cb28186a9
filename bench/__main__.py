"""Run every benchmark module under bench/ (each prints its own figures)."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    names = [
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name != "__main__"
    ]
    if not names:
        print("no benchmarks yet")
        return 0
    for name in sorted(names):
        print(f"== bench.{name}")
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
