"""Log in as each demo user and save screenshots of the main pages (for looking, not testing).

.venv/bin/python scripts/screenshots.py http://localhost:8000 artifacts/screens
"""

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

PAGES = {
    "medtech": ["/", "/residents/"],
    "nurse": ["/", "/alerts/", "/orders/verify/", "/residents/"],
    "admin": ["/", "/staff/", "/facility/settings/", "/certifications/expiring/", "/residents/"],
}


def main(base: str, out: Path, password: str = "medtech-demo") -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        for user, paths in PAGES.items():
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/login/")
            page.screenshot(path=out / "login.png", full_page=True)
            page.fill("#id_username", user)
            page.fill("#id_password", password)
            page.click("button[type=submit]")
            for path in paths:
                page.goto(base + path)
                name = path.strip("/").replace("/", "_") or "home"
                page.screenshot(path=out / f"{user}-{name}.png", full_page=True)
            extra = sys.argv[3:] if len(sys.argv) > 3 else []
            for path in extra:
                page.goto(base + path)
                name = path.strip("/").replace("/", "_")
                page.screenshot(path=out / f"{user}-{name}.png", full_page=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
