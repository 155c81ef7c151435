"""Vendored browser assets (第三方前端资源): fetched from the npm registry by version, checked
by sha256 and committed, so the pages and `/docs` work offline and no install needs Node.

    python -m web.assets fetch   # (make assets) download each pinned tarball, verify, extract
    python -m web.assets check   # verify the committed files against the manifest

The manifest, `web/static/vendor/assets.json`, pins each package's version, its tarball's and
each kept file's sha256, and its licence; a file lands in
`web/static/vendor/<name>-<version>/<basename>`.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VENDOR = Path(__file__).parent / "static" / "vendor"
MANIFEST = VENDOR / "assets.json"
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    licence: str
    tarball_sha256: str
    files: dict[str, str]  # path inside the tarball's `package/` → sha256
    # A file changed after extraction (so it loads nothing from the internet): path →
    # {"why", "replace": [old, new], "sha256": of the changed file}.
    patches: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return VENDOR / f"{self.name}-{self.version}"

    @property
    def tarball_url(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name}-{self.version}.tgz"

    def target(self, inner: str) -> Path:
        return self.folder / Path(inner).name

    def expected_sha256(self, inner: str) -> str:
        patch = self.patches.get(inner)
        return str(patch["sha256"]) if patch else self.files[inner]

    def patched(self, inner: str, content: bytes) -> bytes:
        patch = self.patches.get(inner)
        if not patch:
            return content
        old, new = (part.encode() for part in patch["replace"])
        if content.count(old) != 1:
            raise SystemExit(f"{self.name}: {inner}: the patch's text is not there exactly once")
        return content.replace(old, new)


def packages() -> list[Package]:
    document = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return [Package(**entry) for entry in document["packages"]]


def asset_path(name: str, file: str) -> str:
    """The URL path under /web/static of a vendored file, by package name (templates use it so
    a version bump is one manifest edit)."""
    package = next(p for p in packages() if p.name == name)
    return f"vendor/{package.folder.name}/{file}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check() -> list[str]:
    """What differs from the manifest: a missing file or a wrong checksum (empty: all good)."""
    problems = []
    for package in packages():
        for inner in package.files:
            path = package.target(inner)
            if not path.is_file():
                problems.append(f"{path}: missing (run `make assets`)")
            elif sha256(path.read_bytes()) != package.expected_sha256(inner):
                problems.append(f"{path}: sha256 differs from the manifest")
    return problems


def fetch() -> None:
    """Download every pinned tarball, refuse it unless its sha256 matches, keep the listed files
    (each checked too), then apply the manifest's patches (checked again by `check`)."""
    for package in packages():
        with urllib.request.urlopen(package.tarball_url, timeout=60) as response:
            data = response.read()
        if sha256(data) != package.tarball_sha256:
            raise SystemExit(f"{package.tarball_url}: sha256 differs from the manifest; refused")
        package.folder.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for inner, digest in package.files.items():
                member = tar.extractfile(f"package/{inner}")
                if member is None:
                    raise SystemExit(f"{package.name}: {inner} is not in the tarball")
                content = member.read()
                if sha256(content) != digest:
                    raise SystemExit(f"{package.name}: {inner}: sha256 differs; refused")
                package.target(inner).write_bytes(package.patched(inner, content))
        print(f"{package.name} {package.version} ({package.licence}): {len(package.files)} files")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "fetch":
        fetch()
    problems = check()
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print("vendored assets match web/static/vendor/assets.json")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
