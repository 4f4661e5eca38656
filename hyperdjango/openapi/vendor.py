"""Refreshes the vendored Swagger UI and ReDoc files from their pinned npm packages.

Run ``python hyperdjango/openapi/vendor.py`` (needs ``npm``) after changing a
version below; commit the files it writes to ``assets/``. The pages never load
anything from a CDN: these files ship inside the package.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from pathlib import Path

ASSETS = Path(__file__).with_name("assets")

#: Remote references in the vendored files → what replaces them: ReDoc shows its logo
#: from a CDN in the sidebar; an empty inline SVG keeps every page offline.
PATCHES = {
    b"https://cdn.redoc.ly/redoc/logo-mini.svg": b"data:image/svg+xml,%3Csvg%20xmlns=%27http://www.w3.org/2000/svg%27/%3E",
}

#: npm package → (pinned version, files taken from the package).
PACKAGES = {
    "swagger-ui-dist": ("5.35.0", ["package/swagger-ui-bundle.js", "package/swagger-ui.css", "package/LICENSE"]),
    "redoc": ("2.5.4", ["package/bundles/redoc.standalone.js", "package/LICENSE"]),
}


def vendor() -> None:
    """Downloads each pinned package with ``npm pack`` and copies its files into ``assets/``,
    with ``PATCHES`` applied."""
    with tempfile.TemporaryDirectory() as tmp:
        for package, (version, members) in PACKAGES.items():
            out = subprocess.run(
                ["npm", "pack", f"{package}@{version}", "--pack-destination", tmp],
                check=True, capture_output=True, text=True,
            ).stdout.strip().splitlines()[-1]
            with tarfile.open(Path(tmp) / out) as archive:
                for member in members:
                    source = archive.extractfile(member)
                    if source is None:
                        raise SystemExit(f"{package}@{version} has no {member}")
                    name = Path(member).name
                    target = ASSETS / (f"{package}.LICENSE" if name == "LICENSE" else name)
                    data = source.read()
                    for remote, local in PATCHES.items():
                        data = data.replace(remote, local)
                    target.write_bytes(data)
        (ASSETS / "VERSIONS").write_text("".join(f"{p} {v}\n" for p, (v, _) in PACKAGES.items()))


if __name__ == "__main__":
    vendor()

