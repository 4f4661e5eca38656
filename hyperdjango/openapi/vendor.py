"""Refreshes the vendored Swagger UI and ReDoc files from their pinned npm packages.

Run ``python hyperdjango/openapi/vendor.py`` (needs ``npm``) after changing a
version below; commit the files it writes to ``assets/``. The pages never load
anything from a CDN: these files ship inside the package.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ASSETS = Path(__file__).with_name("assets")

#: npm package → (pinned version, files taken from the package).
PACKAGES = {
    "swagger-ui-dist": ("5.35.0", ["package/swagger-ui-bundle.js", "package/swagger-ui.css", "package/LICENSE"]),
    "redoc": ("2.5.4", ["package/bundles/redoc.standalone.js", "package/LICENSE"]),
}


def vendor() -> None:
    """Downloads each pinned package with ``npm pack`` and copies its files into ``assets/``."""
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
                    with target.open("wb") as f:
                        shutil.copyfileobj(source, f)
        (ASSETS / "VERSIONS").write_text("".join(f"{p} {v}\n" for p, (v, _) in PACKAGES.items()))


if __name__ == "__main__":
    vendor()

