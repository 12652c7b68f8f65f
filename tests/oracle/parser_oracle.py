"""Oracle: CPython's DocTestParser on whole pages, as DocFileSuite reads them.

Input (stdin, JSON), one of:
  {"pages": [{"path": "...", "latin1": "<the page's bytes, one character per byte>"}]}
  {"characters": true}

For pages, prints a JSON list with one entry per page, in order:
  {"undecodable": "<str(exc)>"}       the bytes are not UTF-8
  {"raised": "<str(exc)>", "min_indent": n}   get_examples raised ValueError
  {"examples": [...], "min_indent": n}   otherwise; each example has CPython's fields (source,
      want, exc_msg, indent, options as {flag name: bool}, line = lineno + 1) and the text
      its `_EXAMPLE_RE` match covered (raw_source, raw_want: after expandtabs and the removal
      of the common indentation, min_indent characters), so that the caller can check where
      it says the example is written.

For characters, prints the classes of code points (surrogates aside) that doctest's regexes
and messages depend on, and those unassigned in CPython's Unicode version, as sorted lists
of [first, last] ranges:
  {"unicode_version": "14.0.0", "unassigned": [...], "isspace": [...], "regex_space": [...],
   "word": [...], "printable": [...]}
where regex_space and word are what `\s` and `\w` match in a str pattern.
"""

import doctest
import io
import json
import os
import re
import sys
import unicodedata

# objgraph's tests.py registers these; our FlagRegistry::new() has them.
doctest.register_optionflag("NODES_VARY")
doctest.register_optionflag("RANDOM_OUTPUT")
FLAG_NAMES = {bit: name for name, bit in doctest.OPTIONFLAGS_BY_NAME.items()}


class RecordingParser(doctest.DocTestParser):
    """DocTestParser, keeping what each `_EXAMPLE_RE` match covered by 0-based line."""

    def parse(self, string, name="<string>"):
        self.matches = {}
        self.min_indent = self._min_indent(string.expandtabs())
        return super().parse(string, name)

    def _parse_example(self, m, name, lineno):
        self.matches[lineno] = (m.group("source"), m.group("want"))
        return super()._parse_example(m, name, lineno)


def decode(data):
    """What DocFileSuite reads: open() decodes with universal newlines; we also drop a BOM."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=None).read()


def parse_page(page):
    try:
        text = decode(page["latin1"].encode("latin-1"))
    except UnicodeDecodeError as exc:
        return {"undecodable": str(exc)}
    parser = RecordingParser()
    # DocFileTest names the test after the file's basename.
    name = os.path.basename(page["path"])
    try:
        examples = parser.get_examples(text, name)
    except ValueError as exc:
        return {"raised": str(exc), "min_indent": parser.min_indent}
    found = []
    for example in examples:
        raw_source, raw_want = parser.matches[example.lineno]
        found.append(
            {
                "line": example.lineno + 1,
                "source": example.source,
                "want": example.want,
                "exc_msg": example.exc_msg,
                "indent": example.indent,
                "options": {FLAG_NAMES[flag]: on for flag, on in example.options.items()},
                "raw_source": raw_source,
                "raw_want": raw_want,
            }
        )
    return {"examples": found, "min_indent": parser.min_indent}


def ranges(predicate, code_points):
    found = []
    for cp in code_points:
        if predicate(chr(cp)):
            if found and found[-1][1] == cp - 1:
                found[-1][1] = cp
            else:
                found.append([cp, cp])
    return found


def characters():
    code_points = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]
    space = re.compile(r"\s")
    word = re.compile(r"\w")
    return {
        "unicode_version": unicodedata.unidata_version,
        "unassigned": ranges(lambda c: unicodedata.category(c) == "Cn", code_points),
        "isspace": ranges(str.isspace, code_points),
        "regex_space": ranges(lambda c: bool(space.match(c)), code_points),
        "word": ranges(lambda c: bool(word.match(c)), code_points),
        "printable": ranges(str.isprintable, code_points),
    }


def main():
    request = json.load(sys.stdin)
    if request.get("characters"):
        answer = characters()
    else:
        answer = [parse_page(page) for page in request["pages"]]
    json.dump(answer, sys.stdout)


main()
