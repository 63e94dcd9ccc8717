"""The htmx the pages serve is, byte for byte, the pinned npm package's (package.json, its lock)."""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_vendored_htmx_is_the_pinned_packages_own_file():
    version = json.loads((ROOT / "package.json").read_text())["dependencies"]["htmx.org"]
    vendored = ROOT / "web" / "static" / "vendor" / f"htmx-{version}.min.js"
    package = ROOT / "node_modules" / "htmx.org"
    assert json.loads((package / "package.json").read_text())["version"] == version
    assert vendored.read_bytes() == (package / "dist" / "htmx.min.js").read_bytes()
