"""Oracle: pytest's doctest checker (`_pytest.doctest._get_checker()`) and its option names.

Run with a Python that has pytest installed (the test pins the version).

Input (stdin, JSON):
  {"flag_bits": {"NUMBER": 32768, ...},   # objgraph-doctest's bits, translated here by name
   "checks": [[want, got, optionflags], ...],
   "plain_pages": [text, ...],            # parsed by DocTestParser before pytest's names exist
   "pages": [text, ...]}                  # and after
Output (stdout, JSON):
  {"pytest": "8.3.5", "lookup": [doctest_optionflags names], "checks": "01E0...",   # E: pytest raised
   "plain_pages": ..., "pages": [[[[flag_name, on], ...] per example] or error message, ...]}
"""

import doctest
import json
import sys

import pytest
from _pytest import doctest as pytest_doctest


def parse(texts):
    """Each page's examples' options by name, or the parser's error message."""
    by_bit = {bit: name for name, bit in doctest.OPTIONFLAGS_BY_NAME.items()}
    parser = doctest.DocTestParser()
    pages = []
    for text in texts:
        try:
            examples = parser.get_examples(text, "page.txt")
        except ValueError as error:
            pages.append(str(error))
            continue
        pages.append([[[by_bit[bit], on] for bit, on in e.options.items()] for e in examples])
    return pages


def main():
    request = json.load(sys.stdin)
    # Importing _pytest.doctest registers nothing; plain doctest's view comes first.
    plain_pages = parse(request.get("plain_pages", []))
    # What pytest does before parsing any page: registers ALLOW_UNICODE, ALLOW_BYTES and NUMBER
    # (in that order), so `# doctest: +NUMBER` becomes a valid directive.
    lookup = pytest_doctest._get_flag_lookup()
    checker = pytest_doctest._get_checker()
    names_by_bit = {bit: name for name, bit in request["flag_bits"].items()}
    translated = {}

    def pytest_bits(ours):
        if ours not in translated:
            bits = 0
            for bit, name in names_by_bit.items():
                if ours & bit:
                    bits |= doctest.OPTIONFLAGS_BY_NAME[name]
            translated[ours] = bits
        return translated[ours]

    def verdict(want, got, flags):
        try:
            return "1" if checker.check_output(want, got, pytest_bits(flags)) else "0"
        except (OverflowError, ValueError):
            # pytest.approx cannot take a tolerance of 10 ** 309 or more as a float: the
            # example errors out under pytest.
            return "E"

    verdicts = "".join(verdict(*check) for check in request.get("checks", []))

    pages = parse(request.get("pages", []))

    json.dump(
        {
            "pytest": pytest.__version__,
            "lookup": sorted(lookup),
            "checks": verdicts,
            "plain_pages": plain_pages,
            "pages": pages,
        },
        sys.stdout,
    )


main()
