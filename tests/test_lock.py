"""requirements.lock, the exact versions (with hashes) that make venv installs by default, agrees with
pyproject.toml: every dependency of the package and of its extras is locked at a version its specifier allows."""

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from kanpaper.datapackage import ROOT

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def locked() -> dict[str, tuple[Version, list[str]]]:
    """``{name: (version, hashes)}`` of the lock file."""
    found, current = {}, None
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match[1])
            found[current] = (Version(match[2]), [])
        elif current and "--hash=sha256:" in line:
            found[current][1].append(line.split("--hash=sha256:")[1].split()[0])
    return found


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"]] + \
        [Requirement(r) for extra in project["optional-dependencies"].values() for r in extra]


def test_every_dependency_is_locked_at_an_allowed_version():
    lock = locked()
    for requirement in requirements():
        name = canonicalize_name(requirement.name)
        if name == "torch":              # installed first, from TORCH_SPEC (a CPU build): not in the lock
            assert name not in lock
            continue
        assert name in lock, f"{requirement} is not in requirements.lock (make lock)"
        version = lock[name][0]
        assert requirement.specifier.contains(version, prereleases=True), \
            f"requirements.lock has {name}=={version}, pyproject.toml asks for {requirement}"


def test_every_locked_version_has_hashes():
    lock = locked()
    assert len(lock) > len(requirements())       # the dependencies' dependencies are locked too
    assert [name for name, (_, hashes) in lock.items() if not hashes] == []
    assert all(len(h) == 64 for _, hashes in lock.values() for h in hashes)


def test_the_makefile_installs_torch_as_pyproject_allows():
    spec = re.search(r"^TORCH_SPEC\s*\?=\s*torch==(\S+)", (ROOT / "Makefile").read_text(), re.M)[1]
    torch, = [r for r in requirements() if r.name == "torch"]
    assert torch.specifier.contains(Version(spec))
