"""How the application code is shared out among the apps (lines without migrations, tests,
benchmarks and blank lines). Prints; never fails.

    .venv/bin/python bench/layout.py
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["core", "accounts", "residents", "meds", "inventory", "mar", "reports", "demo", "medtech"]


def code_lines(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if line.strip())


def main() -> None:
    sizes = {
        app: sum(code_lines(p) for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)
        for app in APPS
    }
    total = sum(sizes.values())
    print(f"{'app':<10} {'lines':>6} {'share':>6}")
    for app, lines in sorted(sizes.items(), key=lambda item: -item[1]):
        print(f"{app:<10} {lines:>6} {lines / total:>6.1%}")
    print(f"{'total':<10} {total:>6}")


if __name__ == "__main__":
    main()
