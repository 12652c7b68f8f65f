"""Oracle: CPython's doctest output checker, objgraph's flags and two user flags.

Input (stdin, JSON):
  {"flag_bits": {"NODES_VARY": 2048, ...},          # objgraph-doctest's bits, checked here
   "substitutions": [[python_pattern, python_replacement], ...],   # the SUBSTITUTE flag
   "checks": [[kind, want, got, optionflags], ...],  # kind 0: output, 1: exception message
   "differences": [[want, got, optionflags], ...],   # OutputChecker.output_difference
   "unified": [[a, b, n], ...]}                      # difflib.unified_diff, labelled
Output (stdout, JSON):
  {"checks": "0110...", "differences": [str, ...], "unified": [str, ...]}
"""

import difflib
import doctest
import json
import re
import sys
import types

from objgraph_checker import NODES_VARY, RANDOM_OUTPUT, IgnoreNodeCountChecker, RandomOutputChecker  # noqa: F401
# Our registry holds the flags of every runner it reads pages as (pytest's, ...) before the
# user's: the flags the request names are registered here in its bit order, so the user
# flags SUBSTITUTE and ANY_OUTPUT get the same bits on both sides.
SUBSTITUTE = ANY_OUTPUT = USER_FLAGS = 0


def register_in_bit_order(flag_bits):
    global SUBSTITUTE, ANY_OUTPUT, USER_FLAGS
    for name, _bit in sorted(flag_bits.items(), key=lambda item: item[1]):
        if name not in doctest.OPTIONFLAGS_BY_NAME:
            doctest.register_optionflag(name)
    # Requests that compare without user flags do not name them.
    SUBSTITUTE = doctest.OPTIONFLAGS_BY_NAME.get("SUBSTITUTE", 0)
    ANY_OUTPUT = doctest.OPTIONFLAGS_BY_NAME.get("ANY_OUTPUT", 0)
    USER_FLAGS = SUBSTITUTE | ANY_OUTPUT


class UserFlagChecker(doctest.OutputChecker):
    """objgraph's flags and the user flags, in the order objgraph-doctest documents:
    NODES_VARY, then substitutions, then the any-output flags, then CPython's checker."""

    def __init__(self, substitutions):
        self.substitutions = [(re.compile(p), r) for p, r in substitutions]

    def check_output(self, want, got, optionflags):
        if optionflags & NODES_VARY:
            want = IgnoreNodeCountChecker._r.sub("(X nodes)", want)
            got = IgnoreNodeCountChecker._r.sub("(X nodes)", got)
        if optionflags & SUBSTITUTE:
            for pattern, replacement in self.substitutions:
                want = pattern.sub(replacement, want)
                got = pattern.sub(replacement, got)
        if optionflags & (RANDOM_OUTPUT | ANY_OUTPUT):
            return got != ""
        return doctest.OutputChecker.check_output(self, want, got, optionflags)


def check_exception(checker, want_exc_msg, exc_msg, optionflags):
    """The exception branch of DocTestRunner.__run (3.11)."""
    if checker.check_output(want_exc_msg, exc_msg, optionflags):
        return True
    if optionflags & doctest.IGNORE_EXCEPTION_DETAIL:
        return checker.check_output(
            doctest._strip_exception_details(want_exc_msg),
            doctest._strip_exception_details(exc_msg),
            optionflags,
        )
    return False


def main():
    request = json.load(sys.stdin)
    register_in_bit_order(request.get("flag_bits", {}))
    for name, bit in request.get("flag_bits", {}).items():
        ours = doctest.OPTIONFLAGS_BY_NAME[name]
        assert ours == bit, f"{name} is {ours} in CPython, {bit} in objgraph-doctest"
    objgraph_checker = IgnoreNodeCountChecker()
    user_checker = UserFlagChecker(request.get("substitutions", []))

    verdicts = []
    for kind, want, got, flags in request.get("checks", []):
        checker = user_checker if flags & USER_FLAGS else objgraph_checker
        if kind == 0:
            passed = checker.check_output(want, got, flags)
        else:
            passed = check_exception(checker, want, got, flags)
        verdicts.append("1" if passed else "0")

    plain = doctest.OutputChecker()
    differences = [
        # output_difference reads only example.want; an Example would add a newline to it.
        plain.output_difference(types.SimpleNamespace(want=want), got, flags)
        for want, got, flags in request.get("differences", [])
    ]
    unified = [
        "".join(
            difflib.unified_diff(
                a.splitlines(True), b.splitlines(True), "expected", "actual", n=n
            )
        )
        for a, b, n in request.get("unified", [])
    ]
    json.dump(
        {"checks": "".join(verdicts), "differences": differences, "unified": unified},
        sys.stdout,
    )


main()
