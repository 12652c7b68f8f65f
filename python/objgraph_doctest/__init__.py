"""Finds the ``objgraph-doctest`` binary this package installed.

The binary is installed as a script of the environment (the wheel is built by maturin with
``bindings = "bin"``); this module only says where, without looking on ``PATH``, so that
``python -m objgraph_doctest`` runs the binary of the same installation.
"""

from __future__ import annotations

import os
import sys
import sysconfig

__all__ = ["find_objgraph_doctest_bin"]


def find_objgraph_doctest_bin() -> str:
    """Return the path of the ``objgraph-doctest`` binary installed with this package."""
    exe = "objgraph-doctest" + (sysconfig.get_config_var("EXE") or "")

    candidates = [
        # The install scheme of this interpreter (a venv, the system, pipx, uv).
        sysconfig.get_path("scripts"),
        # `pip install --user`.
        sysconfig.get_path("scripts", scheme=_user_scheme()),
    ]
    # `pip install --target DIR` and other layouts: DIR/objgraph_doctest/.. and DIR/bin.
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates.append(os.path.join(package_parent, "bin"))
    # `pip install --prefix P`: P/lib/pythonX.Y/site-packages/objgraph_doctest/.. -> P/bin.
    candidates.append(os.path.normpath(os.path.join(package_parent, "..", "..", "..", "bin")))

    for directory in candidates:
        path = os.path.join(directory, exe)
        if os.path.isfile(path):
            return path

    raise FileNotFoundError(
        f"{exe} was not found next to this Python package (looked in: "
        + ", ".join(candidates)
        + "); reinstall it with: python -m pip install --force-reinstall objgraph-doctest"
    )


def _user_scheme() -> str:
    if sys.platform == "darwin" and sys._framework:  # type: ignore[attr-defined]
        return "osx_framework_user"
    if os.name == "nt":
        return "nt_user"
    return "posix_user"
