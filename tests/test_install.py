"""A regular (non-editable) install works with no checkout around, and writes nothing beside itself.

The wheel is built from a copy of the files pyproject.toml declares, installed into a new
virtual environment, and run from an empty folder with a fresh HOME: the bundled corpus must
come from the package (qa/seeds), indexes must go to the user's cache folder, and
site-packages must be left as installed. Dependencies are not reinstalled (that would fetch
gigabytes): the new environment sees this one's site-packages through a .pth path entry,
which adds the directory only — this environment's editable-install hook is not run, so the
checkout is not importable there (checked).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT, write_corpus

pytestmark = pytest.mark.slow


def _declared_packages() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]


def test_every_package_of_the_source_tree_is_declared() -> None:
    """pyproject lists packages by hand (seeds/ is mapped into qa/seeds): a new subpackage must be listed too."""
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("qa", "tui")
        for p in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert on_disk - set(_declared_packages()) == set()


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("qa", "tui", "seeds"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    dist = work / "dist"
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "wheel", "--no-deps", "-q", "-w", str(dist), str(src)], check=True, capture_output=True, timeout=600)
    wheel = next(dist.glob("qa-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", "-q", str(wheel)], check=True, capture_output=True, timeout=600)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True, capture_output=True, text=True).stdout.strip())
    (site / "deps-of-the-test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    home = work / "home"
    home.mkdir()
    run_dir = work / "cwd"
    run_dir.mkdir()
    return {"venv": venv, "site": site, "home": home, "cwd": run_dir, "work": work}


def _qa(installed: dict[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QA_", "PYTHON", "XDG_", "VIRTUAL_ENV"))}
    env.update(HOME=str(installed["home"]), HF_HUB_OFFLINE="1", PATH=f"{installed['venv'] / 'bin'}:{env.get('PATH', '')}")
    return subprocess.run(
        [str(installed["venv"] / "bin" / "qa"), *args], cwd=installed["cwd"], env=env, capture_output=True, text=True, timeout=600
    )


def test_the_wheel_runs_from_its_own_files(installed: dict[str, Path]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QA_", "PYTHON"))}
    probe = subprocess.run(
        [str(installed["venv"] / "bin" / "python"), "-c", "import qa, tui.app, qa.config as c; print(qa.__file__); print(c.DEFAULT_CORPUS); print(c.in_checkout())"],
        cwd=installed["cwd"], env=env, capture_output=True, text=True, check=True,
    )
    qa_file, corpus, checkout = probe.stdout.split("\n")[:3]
    assert Path(qa_file).is_relative_to(installed["site"]), "qa was imported from the checkout, not the wheel"
    assert Path(corpus) == installed["site"] / "qa" / "seeds"
    assert sorted(p.name for p in Path(corpus).iterdir() if p.suffix == ".txt") == sorted(p.name for p in (ROOT / "seeds").glob("*.txt"))
    assert checkout == "False"
    assert (installed["site"] / "tui" / "app.tcss").is_file()
    assert (installed["site"] / "qa" / "models" / "reader" / "reader-int8.onnx").is_file()


def test_ask_index_and_chat_help_from_a_wheel_install(installed: dict[str, Path]) -> None:
    before = _files(installed["site"])

    bundled = _qa(installed, "ask", "How many people died in the protests?", "--json")
    assert bundled.returncode == 0, bundled.stderr
    answer = json.loads(bundled.stdout)
    assert answer["sources"] and all((installed["site"] / "qa" / "seeds" / s["file"]).is_file() for s in answer["sources"])
    cache = installed["home"] / ".cache" / "qa" / "index"
    assert (cache / "seeds" / "manifest.json").is_file(), "the bundled corpus's index belongs in the user cache"

    folder = write_corpus(installed["work"] / "notes")
    built = _qa(installed, "index", str(folder), "--json", "--quiet")
    assert built.returncode == 0, built.stderr
    index_dir = Path(json.loads(built.stdout)["index_dir"])
    assert index_dir.parent == cache and (index_dir / "manifest.json").is_file()
    asked = _qa(installed, "ask", "How high is the summit of Misti?", "-c", str(folder), "--json")
    assert asked.returncode == 0, asked.stderr
    assert "5,822" in json.loads(asked.stdout)["answer"]

    chat = _qa(installed, "chat", "--help")
    assert chat.returncode == 0 and "Usage" in chat.stdout

    assert _files(installed["site"]) == before, "a run wrote into site-packages"
    assert _files(installed["cwd"]) == set(), "a run wrote into the working folder"
    assert not (folder / "index").exists() and sorted(p.name for p in folder.rglob("*") if p.is_file()) == ["alpaca.txt", "rail.txt", "volcano.md"]
