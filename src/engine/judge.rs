//! Judging one example's run, in the order `DocTestRunner.__run` judges it: without an
//! exception the output is compared with `want`; with one, an example that expected no
//! exception fails, else the exception message is compared with `exc_msg` (and, with
//! IGNORE_EXCEPTION_DETAIL, compared again without module names and details).

use super::check::{self, Verdict};
use super::flags::{FlagRegistry, FlagSet};
use super::page::Example;

/// What was compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Comparison {
    /// The output, against `want`.
    Output,
    /// The exception raised, against the one expected.
    Exception,
    /// An exception nobody expected: a failure without comparison.
    UnexpectedException,
}

/// The verdict on one example's run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub passed: bool,
    pub comparison: Comparison,
    /// The checker's verdict, when something was compared.
    pub verdict: Option<Verdict>,
}

/// Judges a run: `got` is what the example printed (with the traceback appended if it
/// raised), `exc_msg` the raised exception as doctest formats it for comparison.
pub fn judge(
    example: &Example,
    got: &str,
    exc_msg: Option<&str>,
    flags: FlagSet,
    registry: &FlagRegistry,
) -> Judgement {
    match (exc_msg, &example.exc_msg) {
        (None, _) => {
            let verdict = check::check_output(&example.want, got, flags, registry);
            Judgement {
                passed: verdict.passed,
                comparison: Comparison::Output,
                verdict: Some(verdict),
            }
        }
        (Some(_), None) => Judgement {
            passed: false,
            comparison: Comparison::UnexpectedException,
            verdict: None,
        },
        (Some(raised), Some(expected)) => {
            let verdict = check::check_exception(expected, raised, flags, registry);
            Judgement {
                passed: verdict.passed,
                comparison: Comparison::Exception,
                verdict: Some(verdict),
            }
        }
    }
}
