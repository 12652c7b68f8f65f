//! The messages between us and the Python driver: JSON, one message per line, over a Unix
//! socket that nothing else writes to. Strings are UTF-8; a lone surrogate an example
//! printed arrives as U+FFFD (JSON cannot carry it into a Rust `String`).

use serde::{Deserialize, Serialize};

/// What we ask of a Python process.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request<'a> {
    /// To the zygote: fork a page process that will say hello with `token`.
    Fork { token: &'a str },
    /// To a new page process: where and how to run the page.
    Setup {
        path: &'a str,
        name: &'a str,
        workdir: &'a str,
        setup_code: Option<&'a str>,
        sys_path: &'a [String],
        output_cap: usize,
        memory_limit: Option<u64>,
    },
    /// To a page process: run one example (in a Sphinx group's namespace, compiled as
    /// `exec`, when those are given; absent, the page's namespace and `single`, so the
    /// default profile's requests are unchanged).
    Run {
        index: usize,
        source: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        group: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        mode: Option<&'a str>,
    },
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
    /// To any process: finish.
    Exit,
}

/// What a Python process tells us.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Hello(Hello),
    Forked {
        token: String,
        pid: i32,
    },
    Exited {
        pid: i32,
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
    pub exception: Option<RaisedException>,
    pub duration_ns: u64,
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
