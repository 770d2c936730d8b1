"""Log in as each demo user and save screenshots of the main pages (for looking, not testing).

.venv/bin/python scripts/screenshots.py http://localhost:8000 artifacts/screens [extra paths]

Each page at 1366x768 (office) and 1024x768 (the med cart); SIZES="1280x900,..." for others.
"""

import os
import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

SIZES = os.environ.get("SIZES", "1366x768,1024x768")

PAGES = {
    "medtech": ["/", "/residents/"],
    "nurse": ["/", "/alerts/", "/orders/verify/", "/residents/"],
    "admin": ["/", "/staff/", "/facility/settings/", "/certifications/expiring/", "/residents/"],
}


def main(base: str, out: Path, password: str = "medtech-demo") -> None:
    out.mkdir(parents=True, exist_ok=True)
    sizes = [tuple(int(n) for n in size.split("x")) for size in SIZES.split(",")]
    extra = sys.argv[3:]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        for user, paths in PAGES.items():
            for width, height in sizes:
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(f"{base}/login/")
                page.screenshot(path=out / f"login-{width}.png")
                page.fill("#id_username", user)
                page.fill("#id_password", password)
                page.click("button[type=submit]")
                for path in [*paths, *extra]:
                    page.goto(base + path)
                    name = path.strip("/").replace("/", "_") or "home"
                    page.screenshot(path=out / f"{user}-{name}-{width}.png")
                page.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
