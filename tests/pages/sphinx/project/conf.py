# A Sphinx project for tests/oracle_sphinx.rs: sphinx-build -b doctest is the oracle.
import os

project = "sphinx-oracle"
extensions = ["sphinx.ext.doctest", "myst_parser"]
myst_enable_extensions = ["colon_fence"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]

doctest_global_setup = """
import math, os
GLOBAL = 'set by conf.py in ' + os.path.basename(os.getcwd())
"""
doctest_global_cleanup = "del GLOBAL"
