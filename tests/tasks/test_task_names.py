"""A task's name is the same whatever way its module was started."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

APP = textwrap.dedent(
    """
    from hyperdjango import HyperApp

    app = HyperApp(database="sqlite://:memory:")

    @app.task
    def record():
        pass

    @app.task(name="billing.charge")
    def charge():
        pass

    print(record.name, charge.name)
    """
)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "tasks.py").write_text(APP)
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


def names(project, *argv: str) -> str:
    done = subprocess.run([sys.executable, *argv], cwd=project, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize(
    "argv,expected",
    [
        (["app.py"], "app.record"),
        (["-m", "app"], "app.record"),
        (["-c", "import app"], "app.record"),
        (["shop/tasks.py"], "shop.tasks.record"),
        (["-m", "shop.tasks"], "shop.tasks.record"),
        (["-c", "import shop.tasks"], "shop.tasks.record"),
    ],
)
def test_a_task_is_named_after_its_module_import_name_whatever_the_entry_point(project, argv, expected):
    assert names(project, *argv) == f"{expected} billing.charge"
