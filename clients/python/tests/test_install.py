"""`pip install --no-build-isolation clients/python` in fresh venvs, offline, then real requests.

Marked ``install``; it needs no network (``--no-index``): the package has no build dependency
(its PEP 517 backend is in the tree and uses the standard library) and no runtime one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import PACKAGE_ROOT

pytestmark = pytest.mark.install

SCRIPT = textwrap.dedent("""
    import sys
    import framepipe
    port, use_numpy = int(sys.argv[1]), sys.argv[2] == "numpy"
    assert framepipe.__file__.startswith(sys.prefix), framepipe.__file__  # the installed copy
    with framepipe.Client("127.0.0.1", port) as client:
        if use_numpy:
            import numpy as np
            s = client.stats(np.array([1, 2, 3, 4], dtype=np.float32))
            y = client.scale(2.0, 1.0, np.array([1, 2], dtype=np.float32))
            assert isinstance(y, np.ndarray) and y.tolist() == [3.0, 5.0], y
        else:
            try:
                import numpy
            except ImportError:
                pass
            else:
                raise AssertionError("this venv was meant to have no numpy")
            s = client.stats([1, 2, 3, 4])
            assert list(client.scale(2.0, 1.0, [1, 2])) == [3.0, 5.0]
        assert (s.count, s.sum, s.mean, s.variance) == (4, 10.0, 2.5, 1.25), s
        assert client.upper("Hi ß") == "HI SS"
    print("ok")
""")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (its own pip and setuptools, no wheel, no numpy) with the package installed offline."""
    path = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True, timeout=120)
    python = path / "bin" / "python"
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONNOUSERSITE="1")
    env.pop("PYTHONPATH", None)
    result = subprocess.run([str(python), "-m", "pip", "install", "--no-index", "--no-build-isolation",
                             str(PACKAGE_ROOT)], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return python


def run_script(python: Path, port: int, mode: str, cwd: Path) -> None:
    env = dict(os.environ, PYTHONNOUSERSITE="1")
    env.pop("PYTHONPATH", None)
    result = subprocess.run([str(python), "-c", SCRIPT, str(port), mode], capture_output=True, text=True,
                            env=env, cwd=cwd, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stdout + result.stderr


def test_install_in_a_bare_venv_works_without_numpy(venv: Path, port: int, tmp_path: Path) -> None:
    run_script(venv, port, "plain", tmp_path)


def test_install_then_stats_on_a_numpy_array(venv: Path, port: int, tmp_path: Path) -> None:
    numpy = pytest.importorskip("numpy")
    # Show the system's numpy to the venv, as --system-site-packages would (no network for pip).
    site = next((venv.parent.parent / "lib").glob("python3*/site-packages"))
    (site / "system-numpy.pth").write_text(str(Path(numpy.__file__).parent.parent) + "\n")
    run_script(venv, port, "numpy", tmp_path)
