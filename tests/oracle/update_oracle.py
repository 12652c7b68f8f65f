"""Oracle: how CPython's doctest reads a page after `--update` wrote an example's output.

Input (stdin, JSON): {"cases": [{"text": page text, "got": what the example printed,
                                 "flags": ["NORMALIZE_WHITESPACE", ...]}]}
The text is read as DocFileSuite reads a file (universal newlines), parsed by DocTestParser,
and the first example's want is checked against got with doctest's OutputChecker.
Output (stdout, JSON): [{"count": examples, "source": first example's source,
                         "want": its want, "passes": bool} or {"raised": message}, ...]
"""

import doctest
import json
import sys


def read_back(case):
    text = case["text"].replace("\r\n", "\n").replace("\r", "\n")
    try:
        examples = doctest.DocTestParser().get_examples(text, "page.txt")
    except ValueError as error:
        return {"raised": str(error)}
    flags = 0
    for name in case["flags"]:
        flags |= doctest.OPTIONFLAGS_BY_NAME[name]
    first = examples[0] if examples else None
    return {
        "count": len(examples),
        "source": first.source if first else "",
        "want": first.want if first else "",
        "passes": bool(first)
        and doctest.OutputChecker().check_output(first.want, case["got"], flags),
    }


def main():
    request = json.load(sys.stdin)
    json.dump([read_back(case) for case in request["cases"]], sys.stdout)


main()
