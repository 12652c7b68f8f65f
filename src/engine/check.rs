//! The output checker: CPython's `OutputChecker.check_output` plus objgraph's and user flags.
