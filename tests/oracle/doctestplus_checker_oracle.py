"""Oracle: pytest-doctestplus's own output checker and the option names it registers.

Run with a Python that has pytest-doctestplus installed (the test pins the version) and no
numpy (doctestplus then compares floats with its pure-Python `isclose`).

Input (stdin, JSON):
  {"flag_bits": {"FLOAT_CMP": 65536, ...},   # objgraph-doctest's bits, translated by name
   "batches": [{"rtol": 1e-05, "atol": 1e-08, "checks": [[want, got, optionflags], ...],
                "exceptions": false}, ...]}
  A batch with "exceptions" compares exception messages as DocTestRunner.__run does (again
  without module names and details under IGNORE_EXCEPTION_DETAIL).
Output (stdout, JSON):
  {"doctestplus": "1.7.1", "names": [every option name doctest knows, sorted],
   "batches": ["01E0...", ...]}       # per check: 1 pass, 0 fail, E the checker raised
"""

import doctest
import json
import sys
from importlib.metadata import version

from pytest_doctestplus.output_checker import OutputChecker


def main():
    request = json.load(sys.stdin)
    names_by_bit = {bit: name for name, bit in request["flag_bits"].items()}
    translated = {}

    def their_bits(ours):
        if ours not in translated:
            bits = 0
            for bit, name in names_by_bit.items():
                if ours & bit:
                    bits |= doctest.OPTIONFLAGS_BY_NAME[name]
            translated[ours] = bits
        return translated[ours]

    answers = []
    for batch in request["batches"]:
        # What pytest_configure does with doctest_plus_rtol / doctest_plus_atol.
        OutputChecker.rtol = batch["rtol"]
        OutputChecker.atol = batch["atol"]
        checker = OutputChecker()
        verdicts = []

        def exception_matches(want, got, flags):
            if checker.check_output(want, got, flags):
                return True
            return bool(flags & doctest.IGNORE_EXCEPTION_DETAIL) and checker.check_output(
                doctest._strip_exception_details(want),
                doctest._strip_exception_details(got),
                flags,
            )

        check = exception_matches if batch.get("exceptions") else checker.check_output
        for want, got, flags in batch["checks"]:
            try:
                verdicts.append("1" if check(want, got, their_bits(flags)) else "0")
            except ValueError:
                # float() of a number of got followed by "...": the example errors out.
                verdicts.append("E")
        answers.append("".join(verdicts))

    json.dump(
        {
            "doctestplus": version("pytest-doctestplus"),
            "names": sorted(doctest.OPTIONFLAGS_BY_NAME),
            "batches": answers,
        },
        sys.stdout,
    )


main()
