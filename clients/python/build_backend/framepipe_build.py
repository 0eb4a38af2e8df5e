"""A minimal in-tree PEP 517 build backend (standard library only) for this pure-Python package.

Why it exists: ``pip install --no-build-isolation clients/python`` must work in a fresh venv
with no network. Such a venv has pip and setuptools but not ``wheel``, and setuptools before
70.1 cannot build a wheel (``bdist_wheel``) without it. A pure-Python wheel is only a zip
file with a few metadata files, so this backend writes it with ``zipfile``.

It reads the ``[project]`` table of pyproject.toml (name, version, description,
requires-python, dependencies, optional-dependencies, readme, license) and packs everything
under ``src/`` into the wheel. It implements the mandatory hooks (build_wheel, build_sdist)
and the optional ones pip uses (metadata preparation, PEP 660 editable installs).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import time
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
TAG = "py3-none-any"
# Reproducible archives: file times from SOURCE_DATE_EPOCH, else the zip format's epoch.
_EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))


def _project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def _dist_name(project: dict) -> str:
    return project["name"].replace("-", "_")


def _dist_info(project: dict) -> str:
    return f"{_dist_name(project)}-{project['version']}.dist-info"


def _metadata(project: dict) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
    ]
    if "description" in project:
        lines.append(f"Summary: {project['description']}")
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    license_ = project.get("license")
    if isinstance(license_, dict) and "text" in license_:
        lines.append(f"License: {license_['text']}")
    for classifier in project.get("classifiers", []):
        lines.append(f"Classifier: {classifier}")
    for requirement in project.get("dependencies", []):
        lines.append(f"Requires-Dist: {requirement}")
    for extra, requirements in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        for requirement in requirements:
            lines.append(f'Requires-Dist: {requirement}; extra == "{extra}"')
    body = ""
    readme = project.get("readme")
    if isinstance(readme, str):
        lines.append("Description-Content-Type: text/markdown")
        body = (ROOT / readme).read_text(encoding="utf-8")
    return "\n".join(lines) + "\n\n" + body


def _wheel_file() -> str:
    return f"Wheel-Version: 1.0\nGenerator: framepipe_build\nRoot-Is-Purelib: true\nTag: {TAG}\n"


def _sources() -> list[tuple[str, Path]]:
    """(path inside the wheel, file) for every package file under src/, caches left out."""
    files = []
    for path in sorted(SRC.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files.append((path.relative_to(SRC).as_posix(), path))
    return files


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return f"{name},sha256={digest},{len(data)}"


def _write_wheel(wheel_directory: str, contents: list[tuple[str, bytes]]) -> str:
    project = _project()
    dist_info = _dist_info(project)
    contents = contents + [
        (f"{dist_info}/METADATA", _metadata(project).encode("utf-8")),
        (f"{dist_info}/WHEEL", _wheel_file().encode("utf-8")),
    ]
    record = [_record_line(name, data) for name, data in contents] + [f"{dist_info}/RECORD,,"]
    contents.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode("utf-8")))
    filename = f"{_dist_name(project)}-{project['version']}-{TAG}.whl"
    stamp = time.gmtime(max(_EPOCH, 315532800))[:6]
    with zipfile.ZipFile(Path(wheel_directory) / filename, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for name, data in contents:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, data)
    return filename


# ---- PEP 517 hooks ----

def get_requires_for_build_wheel(config_settings=None) -> list[str]:
    return []


def get_requires_for_build_sdist(config_settings=None) -> list[str]:
    return []


def get_requires_for_build_editable(config_settings=None) -> list[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings=None) -> str:
    project = _project()
    target = Path(metadata_directory) / _dist_info(project)
    target.mkdir(parents=True, exist_ok=True)
    (target / "METADATA").write_text(_metadata(project), encoding="utf-8")
    (target / "WHEEL").write_text(_wheel_file(), encoding="utf-8")
    return target.name


def prepare_metadata_for_build_editable(metadata_directory: str, config_settings=None) -> str:
    return prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def build_wheel(wheel_directory: str, config_settings=None, metadata_directory=None) -> str:
    return _write_wheel(wheel_directory, [(name, path.read_bytes()) for name, path in _sources()])


def build_editable(wheel_directory: str, config_settings=None, metadata_directory=None) -> str:
    """PEP 660: a wheel holding one .pth file that puts src/ on sys.path."""
    pth = f"{_dist_name(_project())}.pth"
    return _write_wheel(wheel_directory, [(pth, (str(SRC) + "\n").encode("utf-8"))])


def build_sdist(sdist_directory: str, config_settings=None) -> str:
    project = _project()
    base = f"{_dist_name(project)}-{project['version']}"
    filename = f"{base}.tar.gz"
    members = [ROOT / "pyproject.toml", ROOT / "README.md", Path(__file__)]
    members += [path for _, path in _sources()]
    members += sorted(p for p in (ROOT / "tests").rglob("*.py") if "__pycache__" not in p.parts)
    pkg_info = _metadata(project).encode("utf-8")
    with tarfile.open(Path(sdist_directory) / filename, "w:gz", format=tarfile.PAX_FORMAT) as sdist:
        for path in members:
            info = sdist.gettarinfo(str(path), arcname=f"{base}/{path.relative_to(ROOT).as_posix()}")
            info.mtime, info.uid, info.gid, info.uname, info.gname = _EPOCH, 0, 0, "", ""
            with open(path, "rb") as f:
                sdist.addfile(info, f)
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        info.size, info.mtime, info.mode = len(pkg_info), _EPOCH, 0o644
        sdist.addfile(info, io.BytesIO(pkg_info))
    return filename
