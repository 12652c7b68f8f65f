//! Running the built binary for the CLI tests: the test Python, no colour, no stdin, a private
//! TMPDIR (so that what is left in it is ours), and the output as text.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `objgraph-doctest --python <test venv> --color never` in `cwd`, with `TMPDIR` set to
/// `tmpdir`; add the arguments and run.
pub fn objgraph_doctest(cwd: &Path, tmpdir: &Path) -> Command {
    objgraph_doctest_with(&crate::common::python_with_objgraph(), cwd, tmpdir)
}

/// The same with another interpreter.
pub fn objgraph_doctest_with(python: &str, cwd: &Path, tmpdir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"));
    command
        .args(["--python", python, "--color", "never"])
        .current_dir(cwd)
        .env("TMPDIR", tmpdir)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    command
}

/// Bytes as text, lossily.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// stdout then stderr, for assertion messages.
pub fn both(output: &Output) -> String {
    format!("{}{}", text(&output.stdout), text(&output.stderr))
}

/// The JSON report on stdout.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("not JSON ({error}): {}", both(output)))
}
