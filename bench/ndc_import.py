"""Benchmark `import_ndc` at the FDA directory's size and the order form's search over it
(prints; never fails CI).

    .venv/bin/python bench/ndc_import.py [PRODUCTS]   # DATABASE_URL: .../medtech_bench_ndc

A synthetic directory is written to a temporary folder from the real rows of tests/data/ndc/:
PRODUCTS products (default 100,000) and two packages each, every copy given a product NDC of its
own in labeler codes 90000-90099 (no real labeler has them; the copies are not real products)
and a numbered name ("OxyContin 4711"), so names, forms, routes and schedules are spread as in
the extract. The database named in DATABASE_URL is dropped, recreated and migrated. Then:
the first import (everything created), a second import of the same files (everything
unchanged), and the search: the median of 20 calls of meds.selectors.medication_search per
query, with its query count, for a name fragment, a strength, an NDC prefix and a whole NDC.
"""

import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medtech.settings.local")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medtech_bench_ndc")

import django  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "ndc"
QUERIES = [
    "oxycon",
    "oxycontin 45",
    "estradiol 0.05mg",
    "claritin",
    "90004-01",
    "90004-012-01",
    "zz-nothing",
]


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as file:
        rows = list(csv.reader(file, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[0], rows[1:]


def write_directory(folder: Path, products: int) -> tuple[Path, Path]:
    """product.txt and package.txt of `products` synthetic copies of the extract's rows."""
    product_header, product_rows = _read(DATA / "product.txt")
    package_header, _ = _read(DATA / "package.txt")
    product_path, package_path = folder / "product.txt", folder / "package.txt"
    with product_path.open("w") as product_file, package_path.open("w") as package_file:
        product_file.write("\t".join(product_header) + "\n")
        package_file.write("\t".join(package_header) + "\n")
        for index in range(products):
            row = list(product_rows[index % len(product_rows)])
            labeler, product = 90000 + index // 1000, index % 1000
            product_ndc = f"{labeler}-{product:03d}"  # 5-3: its packages are 5-3-2
            row[0] = f"{product_ndc}_bench-{index}"
            row[1] = product_ndc
            row[3] = f"{row[3]} {index}"
            product_file.write("\t".join(row) + "\n")
            for package in ("01", "02"):
                package_file.write(
                    "\t".join(
                        [
                            row[0],
                            product_ndc,
                            f"{product_ndc}-{package}",
                            f"30 TABLET in 1 BOTTLE ({product_ndc}-{package})",
                            "20200101",
                            "",
                            "N",
                            "N",
                        ]
                    )
                    + "\n"
                )
    return product_path, package_path


def main() -> None:
    from bench.pages import recreate_database

    products = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    recreate_database()
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from meds.models import Medication, MedicationPackage
    from meds.selectors import medication_search

    with open(os.devnull, "w") as quiet:
        call_command("migrate", stdout=quiet)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        paths = write_directory(Path(folder), products)
        print(
            f"wrote {products:,} products, {2 * products:,} packages in "
            f"{time.perf_counter() - start:.1f} s"
        )
        for run in ("first import", "second import (same files)"):
            start = time.perf_counter()
            call_command("import_ndc", *map(str, paths))
            print(f"{run}: {time.perf_counter() - start:.1f} s")
    print(
        f"catalog: {Medication.objects.count():,} entries, "
        f"{MedicationPackage.objects.count():,} packages"
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE meds_medication; ANALYZE meds_medicationpackage")
        cursor.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")
        print(f"pg_trgm: {'yes' if cursor.fetchone()[0] else 'no (no trigram index)'}")
    for query in QUERIES:
        timings = []
        for _ in range(20):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                found = medication_search(query=query)
                timings.append(time.perf_counter() - start)
        print(
            f"search {query!r}: median {statistics.median(timings) * 1000:.1f} ms, "
            f"{len(found)} results, {len(captured)} queries"
        )


if __name__ == "__main__":
    main()
