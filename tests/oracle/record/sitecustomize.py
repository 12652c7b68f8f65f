"""Installs the verdict recorder (`tests/oracle/record_verdicts.py`) in every Python started
with this directory on PYTHONPATH, so that a project's own runner records its verdicts.

The recorder is loaded from its file, not through `sys.path`, so that the project's imports
see the same path as without it.
"""

import importlib.util
import os

_recorder_path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "record_verdicts.py")
_spec = importlib.util.spec_from_file_location("_objgraph_doctest_record_verdicts",
                                               _recorder_path)
_recorder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_recorder)
_recorder.install()
