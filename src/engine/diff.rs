//! Diffs of expected and actual output, as data for front ends.
