"""The committed browser assets are exactly the pinned, checksummed ones (make assets)."""

from __future__ import annotations

from web import assets


def test_vendored_assets_match_their_manifest() -> None:
    assert assets.check() == []
    for package in assets.packages():
        assert (package.folder / "LICENSE").is_file(), f"{package.name} ships its licence"
