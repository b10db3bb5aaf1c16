"""The public API matches ``__all__``, every module declares one, and modules stay small."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import gong_client

PACKAGE_DIR = Path(gong_client.__file__).parent


def _modules() -> list[str]:
    return [
        m.name
        for m in pkgutil.walk_packages([str(PACKAGE_DIR)], "gong_client.")
        if not m.name.endswith("__main__")
    ]


def test_package_all_is_sorted_and_complete() -> None:
    public = {n for n in dir(gong_client) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(gong_client, n)).__name__ == "module"}
    assert sorted(gong_client.__all__, key=lambda n: (not n.isupper(), n)) == gong_client.__all__
    assert set(gong_client.__all__) == public - modules


def test_every_module_declares_all_and_exports_what_it_defines() -> None:
    for name in _modules():
        module = importlib.import_module(name)
        assert hasattr(module, "__all__"), name
        for exported in module.__all__:
            assert hasattr(module, exported), f"{name}.{exported}"


def test_modules_stay_under_400_lines() -> None:
    for path in PACKAGE_DIR.rglob("*.py"):
        assert len(path.read_text().splitlines()) <= 400, path


def test_the_client_side_does_not_load_audio_models() -> None:
    import subprocess

    code = (
        "import sys, gong_client, gong_client.client; "
        "print(any(m in sys.modules for m in ('torch', 'pyannote', 'models', 'starlette')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
