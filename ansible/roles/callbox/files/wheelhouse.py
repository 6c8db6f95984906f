"""Controller side of the role: name a release and gather every wheel it needs, so the box needs no index.

    wheelhouse.py id SRC PJSUA2_WHEEL             -> {"release": "0.1.0-3f2a...", "version": "0.1.0"}
    wheelhouse.py build SRC PJSUA2_WHEEL DEST [--platform TAG]   -> DEST/*.whl and DEST.tar

The release id is the appliance's version plus a hash of its source and of the pjsua2 wheel: a
box that has the release already needs nothing, whatever a rebuilt wheel's timestamps say.
`build` makes the appliance's wheel from a clean copy of the source, then downloads its
dependencies (for another machine with `--platform`, e.g. manylinux2014_aarch64) next to the
project's own pjsua2 wheel; a constraint pins pjsua2 to that wheel, never an index's.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

SOURCES = ("appliance", "web")
TOP_FILES = ("pyproject.toml", "README.md", "COPYING")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache", ".pytest_cache")


def _files(src: Path) -> list[Path]:
    found = [src / name for name in TOP_FILES if (src / name).exists()]
    for package in SOURCES:
        found += [p for p in (src / package).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    return sorted(found)


def version(src: Path) -> str:
    """The version in pyproject.toml."""
    match = re.search(r'^version\s*=\s*"([^"]+)"', (src / "pyproject.toml").read_text(), re.MULTILINE)
    if not match:
        raise SystemExit(f"no version in {src / 'pyproject.toml'}")
    return match.group(1)


def release_id(src: Path, pjsua2: Path) -> str:
    """`<version>-<12 hex>` over the source files (names and contents) and the pjsua2 wheel."""
    digest = hashlib.sha256()
    for path in [*_files(src), pjsua2]:
        digest.update(str(path.relative_to(src) if path.is_relative_to(src) else path.name).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return f"{version(src)}-{digest.hexdigest()[:12]}"


def pjsua2_version(wheel: Path) -> str:
    """The version in a wheel's file name; it must be the appliance's own build."""
    found = wheel.name.split("-")[1]
    if "+callbox" not in found:
        raise SystemExit(f"{wheel.name} is not the appliance's pjsua2 build (image/pjsua2/build.sh)")
    return found


def build(src: Path, pjsua2: Path, dest: Path, platform: str | None) -> None:
    """The appliance's wheel, pjsua2's and every dependency's, in `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    pin = pjsua2_version(pjsua2)
    shutil.copy2(pjsua2, dest / pjsua2.name)
    with tempfile.TemporaryDirectory() as tmp:
        clean = Path(tmp) / "src"
        clean.mkdir()
        for name in TOP_FILES:
            if (src / name).exists():
                shutil.copy2(src / name, clean / name)
        for package in SOURCES:
            shutil.copytree(src / package, clean / package, ignore=SKIP)
        pip = [sys.executable, "-m", "pip"]
        subprocess.run([*pip, "wheel", "-q", "--no-deps", "-w", str(dest), str(clean)],  # noqa: S603
                       check=True)
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text(f"pjsua2=={pin}\n")
        target: list[str] = []
        if platform:
            target = ["--platform", platform, "--only-binary=:all:", "--python-version", "3.11"]
        subprocess.run([*pip, "download", "-q", "-d", str(dest), "--find-links", str(dest),  # noqa: S603
                        "-c", str(constraints), *target, f"callbox=={version(src)}"], check=True)
    # One file to send to the box (wheels are compressed already): a copy per file is slow over SSH.
    with tarfile.open(dest.with_name(dest.name + ".tar"), "w") as tar:
        for wheel in sorted(dest.glob("*.whl")):
            tar.add(wheel, arcname=wheel.name)


def main(argv: list[str]) -> int:
    """Command line: `id` or `build`."""
    if len(argv) < 3 or argv[0] not in ("id", "build"):
        print(__doc__, file=sys.stderr)  # noqa: T201
        return 2
    src, pjsua2 = Path(argv[1]).resolve(), Path(argv[2]).resolve()
    pjsua2_version(pjsua2)
    if argv[0] == "build":
        platform = argv[argv.index("--platform") + 1] if "--platform" in argv else None
        build(src, pjsua2, Path(argv[3]), platform)
    print(json.dumps({"release": release_id(src, pjsua2), "version": version(src)}))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
