"""Install axe-core (the accessibility engine the browser tests run) from the npm registry.

    python scripts/fetch_axe.py        # `make test` runs it; nothing to do when already there

The pinned release's tarball is fetched by npm's own client (`npm pack`, which knows the
registry this machine is set up for; nothing is installed into the project, no node_modules),
checked against the sha512 integrity the registry publishes for that version (pinned below, so
any other tarball is refused), and its `axe.min.js` is written to var/axe/ (git-ignored). The
browser tests read it from `axe_path()`. Without npm the accessibility test is skipped, as the
browser tests are without Chromium.
"""

import base64
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "4.14.1"
PACKAGE = f"axe-core@{VERSION}"
# dist.integrity of axe-core 4.14.1 in the registry's metadata.
INTEGRITY = (
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37O"
    "gudVGtQ=="
)
MEMBER = "package/axe.min.js"
ROOT = Path(__file__).resolve().parent.parent


def axe_path() -> Path:
    return ROOT / "var" / "axe" / f"axe-core-{VERSION}.min.js"


def integrity_of(content: bytes) -> str:
    """The npm (Subresource Integrity) form of a sha512 digest."""
    return "sha512-" + base64.b64encode(hashlib.sha512(content).digest()).decode("ascii")


def extract(tarball: bytes) -> bytes:
    """axe.min.js out of the release tarball, once its integrity is the pinned one."""
    found = integrity_of(tarball)
    if found != INTEGRITY:
        raise ValueError(f"axe-core {VERSION}: integrity {found} is not the pinned {INTEGRITY}")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        member = archive.extractfile(MEMBER)
        if member is None:
            raise ValueError(f"axe-core {VERSION}: {MEMBER} is missing from the tarball")
        return member.read()


def download(timeout: float = 120) -> bytes:
    """The release tarball, as npm's client fetches it."""
    npm = shutil.which("npm")
    if npm is None:
        raise OSError("npm is not installed")
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [npm, "pack", PACKAGE, "--silent"],
            cwd=folder,
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        (tarball,) = Path(folder).glob("*.tgz")
        return tarball.read_bytes()


def fetch() -> Path:
    """Download, check and install axe.min.js unless it is already there; returns its path."""
    target = axe_path()
    if target.exists():
        return target
    script = extract(download())
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(script)
    partial.replace(target)  # never a half-written file under the final name
    return target


def main() -> int:
    try:
        path = fetch()
    except ValueError as error:  # a tarball that is not the pinned one: stop
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (OSError, subprocess.SubprocessError) as error:  # no npm or registry: a skip
        print(f"warning: could not download axe-core {VERSION}: {error}", file=sys.stderr)
        print("the accessibility browser test will be skipped.", file=sys.stderr)
        return 0
    print(f"axe-core {VERSION}: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
