//! `--update`: accepting the actual output of failing examples, page by page.
//!
//! The engine decides the new text and checks it reads back ([`update_page`]); this module
//! writes it ([`replace_page`]) and says, for each example and page left as it was, why
//! (output cut at the cap, or holding lone surrogates, is never written: the page would
//! then hold something else than what the example printed). The
//! run is complete (exit status 0) only when every failure was accepted and written and
//! nothing else went wrong (no timeout, crash, example left unrun or broken page).

use crate::engine::FlagRegistry;
use crate::engine::update::{Candidate, update_page};

use super::read::ReadFile;
use super::run::{ExampleRun, Outcome, PageRun};
use super::write::replace_page;

/// What `--update` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateSummary {
    /// Examples whose expected output was replaced.
    pub examples: usize,
    /// Pages written.
    pub pages: usize,
    /// Why examples or pages were left as they were, one located sentence each.
    pub problems: Vec<String>,
    /// Every failure was accepted and written, and nothing else failed: the pages now pass.
    pub complete: bool,
}

impl UpdateSummary {
    /// `updated N examples in M pages`.
    pub fn describe(&self) -> String {
        format!(
            "updated {} in {}",
            plural(self.examples, "example"),
            plural(self.pages, "page")
        )
    }
}

/// Rewrites the expected output of the failing examples of `runs`; `sources[i]` is what was
/// read for `runs[i]` (`None` for a page that could not be read).
pub fn update_pages(
    runs: &[PageRun],
    sources: &[Option<ReadFile>],
    registry: &FlagRegistry,
) -> UpdateSummary {
    let mut summary = UpdateSummary {
        complete: true,
        ..UpdateSummary::default()
    };
    for (run, source) in runs.iter().zip(sources) {
        let page = &run.page;
        let unfinished = !page.errors.is_empty()
            || run.error.is_some()
            || run.examples.iter().any(|example| {
                matches!(
                    example.outcome,
                    Outcome::Timeout | Outcome::Crashed | Outcome::NotRun
                )
            });
        summary.complete &= !unfinished;
        let located = |index: usize, why: &dyn std::fmt::Display| {
            let (line, column) = page
                .examples
                .get(index)
                .map_or((0, 0), |example| (example.span.line, example.indent + 1));
            format!("{}:{line}:{column}: example not updated: {why}", page.path)
        };
        let mut candidates: Vec<Candidate<'_>> = Vec::new();
        for (index, result) in run.examples.iter().enumerate() {
            if result.outcome != Outcome::Failed {
                continue;
            }
            // The page would hold something else than what the example printed.
            if let Some(why) = inexact_output(result) {
                summary.complete = false;
                summary.problems.push(located(index, &why));
                continue;
            }
            if let Some(actual) = result.actual() {
                candidates.push(Candidate {
                    index,
                    actual,
                    flags: result.flags,
                });
            }
        }
        if candidates.is_empty() {
            continue;
        }
        let update = update_page(page, &candidates, registry);
        for (index, refusal) in &update.refused {
            summary.problems.push(located(*index, refusal));
        }
        summary.complete &= update.accepted.len() == candidates.len();
        let Some(text) = update.text else {
            continue;
        };
        let Some(source) = source else {
            summary.complete = false;
            continue;
        };
        let mut bytes = Vec::with_capacity(text.len() + 3);
        if source.bytes.starts_with(b"\xef\xbb\xbf") {
            bytes.extend_from_slice(b"\xef\xbb\xbf");
        }
        bytes.extend_from_slice(text.as_bytes());
        match replace_page(source, &bytes) {
            Ok(()) => {
                summary.examples += update.accepted.len();
                summary.pages += 1;
            }
            Err(error) => {
                summary.complete = false;
                summary.problems.push(format!("{}: {error}", page.path));
            }
        }
    }
    summary
}

/// Why the output an example's run shows is not what it printed, if it is not.
fn inexact_output(result: &ExampleRun) -> Option<&'static str> {
    if result.truncated {
        Some(
            "its output was cut at the output cap, so the whole of it is not known; make the \
             example print less (or end its expected output with `...` under ELLIPSIS)",
        )
    } else if result.lossy {
        Some(
            "it printed lone surrogates, which a UTF-8 page cannot hold (they are shown as \
             U+FFFD); print their repr() instead",
        )
    } else {
        None
    }
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
