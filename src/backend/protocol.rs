//! The messages between us and the Python driver: JSON, one message per line, over a Unix
//! socket that nothing else writes to. Strings are UTF-8; a lone surrogate an example
//! printed arrives as U+FFFD (JSON cannot carry it into a Rust `String`).
//!
//! A page's examples go as a `Stream` line followed by its `Run` lines, in one write; the
//! page process answers each with a `Result` line (one write), and holds only where a
//! `Run` or the driver says so (see `Request::Stream`).

use serde::{Deserialize, Serialize};

/// What we ask of a Python process.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request<'a> {
    /// To the zygote: fork a page process that will say hello with `token`. It arrives
    /// with one end of a socket pair (SCM_RIGHTS), the page's connection: the page speaks
    /// on it and never connects to the backend's socket. With `log`, a second descriptor
    /// follows: the page's results log (a memfd; see `PageProcess::next_result`).
    Fork {
        token: &'a str,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        log: bool,
    },
    /// To a new page process: where and how to run the page.
    Setup {
        path: &'a str,
        name: &'a str,
        workdir: &'a str,
        setup_code: Option<&'a str>,
        sys_path: &'a [String],
        /// pytest's globals (`getfixture`, no `__file__`) and its outcome exceptions.
        pytest: bool,
        output_cap: usize,
        memory_limit: Option<u64>,
    },
    /// To a page process: run one example. Each field after `source` is left out when it
    /// has its default, so the default profile's requests are unchanged: in a Sphinx group's
    /// namespace (`group`), compiled as `exec` (`mode`), skipped unless the `requires`
    /// modules import (pytest-doctestplus's `doctest-requires`), with its warnings caught
    /// (`ignore` or `show`, doctestplus's IGNORE_WARNINGS and SHOW_WARNINGS).
    Run {
        index: usize,
        source: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        group: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        mode: Option<&'a str>,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        requires: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        warnings: Option<&'static str>,
        /// `NAME[i]` for `<doctest NAME[i]>`, when the runner names it otherwise than by
        /// its place in the page (Sphinx's `GROUP[i]`).
        #[serde(skip_serializing_if = "Option::is_none")]
        doctest_name: Option<&'a str>,
        /// In a stream: the output that surely passes (got equal to it, nothing raised, not
        /// cut); sent only for examples with `hold`.
        #[serde(skip_serializing_if = "Option::is_none")]
        want: Option<&'a str>,
        /// In a stream: unless it surely passed (`want`), the page process holds after this
        /// example until told to go on (`GoOn`) or stop (`StopStream`), because its verdict
        /// may mean that the rest must not run.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        hold: bool,
    },
    /// To a page process: the `count` lines after this one are `Run` requests, sent ahead in
    /// one write; run them in order, one result line (one write) each. The process holds
    /// after an example when that example's `hold` says so, when it raised one of pytest's
    /// outcome exceptions, or (with `watch_files`) when it changed files in the working
    /// directory; its result then says `held`, and it waits for `GoOn` or `StopStream`,
    /// which come after the stream's remaining lines. After `Aborted` the rest is dropped.
    Stream { count: usize, watch_files: bool },
    /// To a page process holding in a stream: run its next example.
    GoOn,
    /// To a page process holding in a stream: drop the stream's remaining examples.
    StopStream,
    /// To a page process: evaluate a Sphinx `:skipif:` condition in a fresh namespace where
    /// `setup` ran (and `cleanup` runs after), as the doctest builder does.
    Evaluate {
        expression: &'a str,
        setup: &'a str,
        cleanup: &'a str,
    },
    /// To a page process: fork; stay as a paused checkpoint, the child runs on (and says
    /// hello with `token`).
    Checkpoint { token: &'a str },
    /// To a checkpoint: fork a new runner (hello with `token`) whose working directory is
    /// `workdir`, filled with the checkpoint's copy of the files.
    Resume { token: &'a str, workdir: &'a str },
    /// To a page process (a throwaway fork: see `lsp::heap`): look up `expression`, a name
    /// or dotted name, in the page's globals (or a Sphinx group's), and answer its type,
    /// `sys.getrefcount` and a `repr` capped at `repr_cap` characters; with `draw`, also
    /// draw its references (objgraph's `show_refs` or `show_backrefs`) into a file.
    Inspect {
        expression: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        group: Option<&'a str>,
        repr_cap: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        draw: Option<DrawRefs<'a>>,
    },
    /// To any process: finish.
    Exit,
}

/// Which graph `Request::Inspect` draws, and where.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DrawRefs<'a> {
    /// `refs` (objgraph.show_refs: what the object refers to) or `backrefs`
    /// (objgraph.show_backrefs: what refers to it).
    pub kind: &'a str,
    /// The image to write (an absolute path ending in `.png`).
    pub filename: &'a str,
    pub max_depth: u32,
}

/// What a Python process tells us.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Hello(Hello),
    Forked {
        token: String,
        pid: i32,
        /// A checkpoint's copy of the page's working directory, in the backend's directory.
        /// We remove it when done with the checkpoint: a checkpoint is killed, not asked to
        /// end, so it cannot remove the copy itself.
        #[serde(default)]
        snapshot: Option<String>,
    },
    Exited {
        pid: i32,
        /// The token of the fork request it was started for (the zygote's pages).
        #[serde(default)]
        token: Option<String>,
        /// The exit code, when the process exited.
        code: Option<i32>,
        /// The signal, when a signal killed it.
        signal: Option<i32>,
    },
    Ready,
    SetupError {
        traceback: String,
    },
    Result(ExampleResult),
    /// The answer to `Evaluate`: the condition's truth, or the traceback it raised.
    Evaluated {
        #[serde(default)]
        value: Option<bool>,
        #[serde(default)]
        error: Option<String>,
    },
    /// The answer to `Inspect`.
    Inspected(Inspection),
    /// The example did something after which CPython's doctest stops the run.
    Aborted {
        message: String,
    },
    /// The driver itself failed (our bug, or an environment it cannot work in).
    DriverError {
        traceback: String,
    },
}

/// The first message on every connection.
#[derive(Debug, Clone, Deserialize)]
pub struct Hello {
    pub role: String,
    pub pid: i32,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub python: Option<String>,
    #[serde(default)]
    pub implementation: Option<String>,
    #[serde(default)]
    pub executable: Option<String>,
    #[serde(default)]
    pub preloaded: Vec<String>,
    #[serde(default)]
    pub preload_errors: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub fork: bool,
    /// numpy can be found (pytest-doctestplus's FLOAT_CMP then uses `numpy.isclose`).
    #[serde(default)]
    pub numpy: bool,
}

/// What `Request::Inspect` found: the value, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Inspection {
    /// The lookup failed (`NameError: name 'x' is not defined`); nothing else is set.
    #[serde(default)]
    pub error: Option<String>,
    /// The type, module-qualified unless a builtin or the page's own (`__main__`).
    #[serde(default, rename = "type")]
    pub type_name: String,
    /// `sys.getrefcount(NAME)` as an example at this point would print it.
    #[serde(default)]
    pub refcount: u64,
    /// `reprlib`'s repr, cut at the cap (or what the `__repr__` raised).
    #[serde(default)]
    pub repr: String,
    /// The repr was longer than the cap and was cut.
    #[serde(default)]
    pub repr_truncated: bool,
    /// The image written, when a drawing was asked for and made.
    #[serde(default)]
    pub drawn: Option<String>,
    /// Why the drawing was not made (objgraph not importable, graphviz missing).
    #[serde(default)]
    pub draw_error: Option<String>,
    /// What objgraph printed while drawing (`Graph written to ... (N nodes)`).
    #[serde(default)]
    pub draw_output: String,
}

/// What one example did.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ExampleResult {
    pub index: usize,
    /// Everything written to `sys.stdout`, plus the traceback when it raised (as doctest's
    /// `got`).
    pub got: String,
    /// The output was longer than the cap and was cut.
    pub truncated: bool,
    /// What it printed held lone surrogates, sent as U+FFFD (see the module doc).
    #[serde(default)]
    pub lossy: bool,
    /// The raised exception's message (`exc_msg`) was longer than the cap and was cut.
    #[serde(default)]
    pub exception_truncated: bool,
    pub exception: Option<RaisedException>,
    pub duration_ns: u64,
    /// Why it did not run (a module it requires is not importable); then nothing else is set.
    #[serde(default)]
    pub skipped: Option<String>,
    /// In a pytest-profile page, what pytest does with the exception raised (one of
    /// pytest's outcome exceptions: `pytest.skip()`, `pytest.fail()`, `pytest.xfail()`).
    #[serde(default)]
    pub pytest_outcome: Option<PytestOutcome>,
    /// In a stream with `watch_files`: whether anything in the working directory changed
    /// while it ran (`None`: not watched, or the watch failed; scan to know).
    #[serde(default)]
    pub files_changed: Option<bool>,
    /// In a stream: the process holds after it, waiting for `GoOn` or `StopStream`.
    #[serde(default)]
    pub held: bool,
}

/// A pytest outcome exception raised by an example: it ends the page's doctest item.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PytestOutcome {
    /// The exception class's name in lower case: `skipped`, `failed`, `xfailed`.
    pub kind: String,
    /// Its message (`pytest.skip("why")`).
    pub reason: String,
}

impl PytestOutcome {
    /// pytest reports the item skipped (`pytest.skip`) or expectedly failed (`pytest.xfail`):
    /// not a failure.
    pub fn ends_as_skip(&self) -> bool {
        matches!(self.kind.as_str(), "skipped" | "xfailed")
    }

    /// The reason shown for the skipped examples (`xfail: why` for `pytest.xfail`).
    pub fn skip_reason(&self) -> String {
        if self.kind == "xfailed" {
            format!("xfail: {}", self.reason)
        } else {
            self.reason.clone()
        }
    }
}

/// An exception an example raised, formatted as doctest formats it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RaisedException {
    /// The exception's type, module-qualified unless a builtin.
    #[serde(rename = "type")]
    pub type_name: String,
    pub message: String,
    /// What doctest compares with the expected exception (`format_exception_only`).
    pub exc_msg: String,
    pub traceback: String,
}
