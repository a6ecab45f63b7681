"""Does every pin of requirements.txt install from a wheel, with no compiler, on every laptop a learner brings?

    python3 tools/check_wheels.py                       # CPython 3.11 (the course's minimum), the four platforms
    python3 tools/check_wheels.py --python-version 3.13

For each platform, pip resolves requirements.txt (all of it: the pins and everything they pull in) as it would on
that platform, from wheels alone (``pip install --dry-run --ignore-installed --only-binary=:all: --platform ...``):
a pin, or a dependency of one, that has no wheel there fails the check with pip's own message. Nothing is
installed; pip fetches only the packages' metadata (or a wheel, where the index serves no metadata file) into a
temporary folder that is removed afterwards. It needs the package index, nothing else.

The platforms are the oldest each wheel must run on: Linux with glibc 2.28 (Debian 10, Ubuntu 20.04, RHEL 8
and newer), x86_64 and aarch64; macOS 11 on Apple silicon, macOS 10.15 on Intel. pip evaluates environment
markers (``; sys_platform == "darwin"``) for the machine it runs on, not the target, so this script evaluates
the markers of requirements.txt's own lines for each target itself (a pin that a platform leaves out is not
resolved for it); in what the pins pull in, a dependency only another system needs is not looked at: in this
tree those are pure Python (appnope, on macOS).
Exit status: 0 when every platform resolves, 1 otherwise.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements.txt"


def manylinux(arch: str, glibc_minor: int) -> list:
    """Every manylinux tag a Linux with glibc 2.``glibc_minor`` accepts (pip does not expand ``manylinux_2_28``)."""
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(glibc_minor, 16, -1)]
    return tags + [f"manylinux2014_{arch}"]


PLATFORMS = {  # name -> (pip's platform tags, sys_platform and platform_machine there, for markers)
    "Linux x86_64 (glibc 2.28+)": (manylinux("x86_64", 28), "linux", "x86_64"),
    "Linux aarch64 (glibc 2.28+)": (manylinux("aarch64", 28), "linux", "aarch64"),
    "macOS arm64 (11+)": (["macosx_11_0_arm64"], "darwin", "arm64"),  # pip adds older macOS versions, universal2
    "macOS x86_64 (10.15+)": (["macosx_10_15_x86_64"], "darwin", "x86_64"),
}


def _marker(text):
    try:
        from packaging.markers import Marker
    except ImportError:  # the tool runs with any python3; pip carries packaging
        from pip._vendor.packaging.markers import Marker
    return Marker(text)


def for_target(requirements: Path, sys_platform: str, machine: str, python_version: str) -> str:
    """The lines of ``requirements`` that apply on that target: each line's ``; marker`` evaluated there."""
    environment = {"sys_platform": sys_platform, "platform_machine": machine,
                   "platform_system": {"linux": "Linux", "darwin": "Darwin"}[sys_platform], "os_name": "posix",
                   "python_version": python_version, "python_full_version": f"{python_version}.0",
                   "implementation_name": "cpython", "platform_python_implementation": "CPython"}
    kept = []
    for line in requirements.read_text().splitlines():
        spec = line.split(" #", 1)[0].strip()
        if spec.startswith("#") or ";" not in spec:
            kept.append(line)
        elif _marker(spec.split(";", 1)[1]).evaluate(environment):
            kept.append(spec.split(";", 1)[0])
    return "\n".join(kept) + "\n"


def resolve(platform, python_version: str, requirements: Path = REQUIREMENTS):
    """``(ok, detail)``: the wheels pip picked for ``platform`` (a PLATFORMS value), or pip's error."""
    platform_tags, sys_platform, machine = platform
    with tempfile.TemporaryDirectory(prefix="course-wheels-") as tmp:
        report = Path(tmp) / "report.json"
        target_requirements = Path(tmp) / "requirements.txt"
        target_requirements.write_text(for_target(requirements, sys_platform, machine, python_version))
        requirements = target_requirements
        argv = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                "--disable-pip-version-check", "--only-binary=:all:", "--implementation", "cp",
                "--python-version", python_version, "--target", str(Path(tmp) / "target"),
                "--report", str(report), "-r", str(requirements)]
        for tag in platform_tags:
            argv += ["--platform", tag]
        done = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, PIP_NO_INPUT="1"), check=False)
        if done.returncode != 0:
            errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
            return False, "\n".join(errors or done.stderr.strip().splitlines()[-5:])
        picked = json.loads(report.read_text())["install"]
        return True, sorted(item["download_info"]["url"].rsplit("/", 1)[-1] for item in picked)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python-version", default="3.11", help="the CPython to resolve for (default: 3.11)")
    args = parser.parse_args(argv)
    failed = []
    print(f"requirements.txt, CPython {args.python_version}, wheels only:")
    for name, platform in PLATFORMS.items():
        ok, detail = resolve(platform, args.python_version)
        if ok:
            built = [f for f in detail if not f.endswith("-none-any.whl")]
            print(f"  {name}: OK, {len(detail)} wheels, {len(built)} of them for this platform:")
            for wheel in built:
                print(f"      {wheel}")
        else:
            failed.append(name)
            print(f"  {name}: FAILED\n" + "\n".join(f"      {line}" for line in detail.splitlines()))
    if failed:
        print(f"No wheel for every pin on: {', '.join(failed)}. A learner there would need a compiler.")
        return 1
    print("Every pin installs from a wheel on every platform.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
