# Doctest blocks off, NORMALIZE_WHITESPACE as the only default flag.
import doctest

extensions = ["sphinx.ext.doctest"]
doctest_test_doctest_blocks = ""
doctest_default_flags = doctest.NORMALIZE_WHITESPACE
