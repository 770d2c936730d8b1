"""The house's layers: a lower app never imports a higher one, and nobody imports `medtech`.

Read from the source (every import statement, also inside functions), so a new upward import
fails here before it becomes a circle.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Bottom to top; an app may import the apps of the layers below its own (and itself), never a
# sibling of its own layer.
LEVELS = [
    ["core"],
    ["accounts"],
    ["residents"],
    ["vitals"],
    ["meds", "care"],
    ["inventory", "appointments"],
    ["mar"],
    ["clinical", "pharmacy"],
    ["incidents"],
    ["handoff"],
    ["reports"],
    ["demo"],
]
LAYERS = [app for level in LEVELS for app in level]
CONFIGURATION = "medtech"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _sources(app: str):
    return sorted(p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


def _allowed(app: str) -> set[str]:
    """The apps `app` may import: those of the levels below its own, and itself."""
    level = next(i for i, apps in enumerate(LEVELS) if app in apps)
    return {below for apps in LEVELS[:level] for below in apps} | {app}


@pytest.mark.parametrize("app", LAYERS)
def test_app_imports_only_the_apps_below_it(app):
    allowed = _allowed(app)
    forbidden = (set(LAYERS) - allowed) | {CONFIGURATION}
    upward = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _sources(app)
        for name in _imports(path) & forbidden
    }
    assert not upward, "imports that point up the layers:\n" + "\n".join(sorted(upward))


def test_every_app_of_the_project_has_a_layer():
    from django.conf import settings

    ours = {name for name in settings.INSTALLED_APPS if (ROOT / name / "apps.py").exists()}
    assert ours == set(LAYERS)


def test_siblings_of_a_layer_do_not_import_each_other():
    """care and meds share a level: neither may import the other (care uses the recurrence
    and shift modules in core), both may import residents."""
    assert "meds" not in _allowed("care") and "care" not in _allowed("meds")
    assert {"core", "accounts", "residents"} <= _allowed("care") & _allowed("meds")
    assert "care" in _allowed("inventory")


def test_vitals_sits_below_the_orders_and_the_care():
    """A hold parameter names a vital sign: meds (and care) may import vitals, never the reverse,
    and vitals reads nothing above the residents."""
    assert "vitals" in _allowed("meds") & _allowed("care")
    assert _allowed("vitals") == {"core", "accounts", "residents", "vitals"}


def test_the_layer_check_sees_an_upward_import(tmp_path):
    module = tmp_path / "probe.py"
    module.write_text("def f():\n    from reports.pdf import mar_pdf\nimport mar.rules\n")
    assert _imports(module) == {"reports", "mar"}
