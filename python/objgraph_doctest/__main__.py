"""``python -m objgraph_doctest ARGS``: runs the installed binary with ARGS.

On POSIX the process is replaced (``os.execvp``), so the exit status and signals are the
binary's own; elsewhere the binary runs as a child and its exit status is passed on.
"""

from __future__ import annotations

import os
import subprocess
import sys

from objgraph_doctest import find_objgraph_doctest_bin


def main() -> None:
    binary = find_objgraph_doctest_bin()
    if os.name == "posix":
        os.execvp(binary, [binary, *sys.argv[1:]])
    else:
        sys.exit(subprocess.run([binary, *sys.argv[1:]]).returncode)


if __name__ == "__main__":
    main()
