"""What the servers find in their Jupyter data directory: the "tresor (genomics)" kernelspec from
kernels/tresor with this interpreter, and tresor's JupyterLab extension, prebuilt (its built form
is committed in tresor/lab/labextension; installing is copying)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from tresor.core.paths import REPO_ROOT

KERNEL_NAME = "tresor"
KERNEL_SOURCE = REPO_ROOT / "kernels" / KERNEL_NAME
#: the built JupyterLab extension (tresor.lab.LABEXTENSION) and the name it is installed as
LABEXTENSION_SOURCE = REPO_ROOT / "tresor" / "lab" / "labextension"
LABEXTENSION_NAME = "@tresor/lab"


def install_kernelspec(
    data_dir: Path, *, catalogue: Path | None = None, python: str = sys.executable
) -> Path:
    """Write ``<data_dir>/kernels/tresor/kernel.json``; ``data_dir`` goes on JUPYTER_PATH."""
    spec = json.loads((KERNEL_SOURCE / "kernel.json").read_text())
    spec["argv"][0] = python
    if catalogue is not None:
        spec.setdefault("env", {})["TRESOR_CATALOGUE"] = str(catalogue)
    target = Path(data_dir) / "kernels" / KERNEL_NAME
    target.mkdir(parents=True, exist_ok=True)
    for extra in KERNEL_SOURCE.iterdir():
        if extra.name != "kernel.json" and extra.is_file():
            shutil.copy2(extra, target / extra.name)
    (target / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return target


def install_labextension(data_dir: Path) -> Path:
    """Copy the prebuilt extension to ``<data_dir>/labextensions/@tresor/lab`` (replacing an
    older build); JupyterLab loads prebuilt extensions from every directory on JUPYTER_PATH."""
    target = Path(data_dir) / "labextensions" / LABEXTENSION_NAME
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(LABEXTENSION_SOURCE, target)
    return target
