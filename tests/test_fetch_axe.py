"""scripts/fetch_axe.py installs only the pinned axe-core: a tarball whose sha512 is not the
one the registry published for that version is refused (no network needed here)."""

import importlib.util
import io
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("fetch_axe", ROOT / "scripts" / "fetch_axe.py")
fetch_axe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fetch_axe)


def _tarball(script: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo(fetch_axe.MEMBER)
        info.size = len(script)
        archive.addfile(info, io.BytesIO(script))
    return buffer.getvalue()


def test_the_integrity_is_the_npm_sha512_form():
    assert fetch_axe.integrity_of(b"") == (
        "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
    )


def test_a_tarball_that_is_not_the_pinned_release_is_refused():
    with pytest.raises(ValueError, match="is not the pinned"):
        fetch_axe.extract(_tarball(b"window.axe = {run() { return {violations: []}; }};"))


def test_the_pinned_release_goes_to_the_git_ignored_var_folder():
    path = fetch_axe.axe_path()
    assert path.relative_to(ROOT).parts[0] == "var"
    assert fetch_axe.VERSION in path.name
