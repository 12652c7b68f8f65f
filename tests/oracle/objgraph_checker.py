"""objgraph 3.7.0's tests.py checker and flags, verbatim in behaviour, shared by the oracles.

objgraph registers NODES_VARY and RANDOM_OUTPUT and checks output with
IgnoreNodeCountChecker (a RandomOutputChecker); importing this module does the same.
"""

import doctest
import re

NODES_VARY = doctest.register_optionflag("NODES_VARY")
RANDOM_OUTPUT = doctest.register_optionflag("RANDOM_OUTPUT")


class RandomOutputChecker(doctest.OutputChecker):
    def check_output(self, want, got, optionflags):
        if optionflags & RANDOM_OUTPUT:
            return got != ""
        return doctest.OutputChecker.check_output(self, want, got, optionflags)


class IgnoreNodeCountChecker(RandomOutputChecker):
    _r = re.compile(r"\(\d+ nodes\)$", re.MULTILINE)

    def check_output(self, want, got, optionflags):
        if optionflags & NODES_VARY:
            want = self._r.sub("(X nodes)", want)
            got = self._r.sub("(X nodes)", got)
        return RandomOutputChecker.check_output(self, want, got, optionflags)
