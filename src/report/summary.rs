//! The Markdown job summary (`--summary-markdown FILE`, GitHub's `$GITHUB_STEP_SUMMARY`): the
//! counts, a table of every problem with a link to its line, then each failing example with
//! its diff. GitHub shows only 10 error annotations per step (50 per job), so the summary is
//! where a large run's failures are all listed; it stays under GitHub's 1 MiB cap for a
//! step's summary by dropping diffs, never rows of the table.

use std::fmt::Write as _;

use crate::engine::diff;
use crate::runner::figures::FigureVerdict;
use crate::runner::run::{Outcome, PageRun, Summary};

use super::human::figures::figure_line;

/// GitHub rejects a step summary over 1 MiB; the details stop well before that.
const SIZE_BUDGET: usize = 900 * 1024;

/// How a page line becomes a link: `{blob}/{prefix}{path}#L{line}` for paths relative to the
/// current directory (`prefix` is the current directory inside the repository, `""` or
/// `"sub/dir/"`); an absolute path is linked only when it is inside `workspace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    /// `https://github.com/OWNER/REPO/blob/SHA`.
    pub blob: String,
    pub prefix: String,
    /// The checkout's absolute path (`$GITHUB_WORKSPACE`), ending without `/`.
    pub workspace: String,
}

impl Links {
    fn to(&self, path: &str, line: usize) -> Option<String> {
        let relative = if let Some(absolute) = path.strip_prefix('/') {
            let inside = format!("/{absolute}");
            inside
                .strip_prefix(&format!("{}/", self.workspace))?
                .to_owned()
        } else {
            format!("{}{}", self.prefix, path.trim_start_matches("./"))
        };
        let encoded: String = relative
            .chars()
            .map(|c| match c {
                ' ' => "%20".to_owned(),
                '#' => "%23".to_owned(),
                '?' => "%3F".to_owned(),
                '%' => "%25".to_owned(),
                c => c.to_string(),
            })
            .collect();
        Some(format!("{}/{encoded}#L{line}", self.blob))
    }
}

/// One problem the table and the details list.
struct Problem<'a> {
    path: &'a str,
    line: usize,
    what: &'static str,
    /// The example's source, when the problem is an example.
    source: Option<&'a str>,
    /// The diff (` `/`-`/`+` lines), the exception or the fault.
    detail: String,
    /// Whether `detail` is a unified diff (fenced as `diff`).
    is_diff: bool,
}

/// The whole summary, ending with a newline.
pub fn render(
    runs: &[PageRun],
    summary: &Summary,
    figures: &FigureVerdict,
    links: Option<&Links>,
) -> String {
    let mut problems = problems(runs);
    problems.extend(figure_problems(runs, figures));
    let mut out = String::new();
    let verdict = if summary.all_passed() && !figures.fails() {
        "passed"
    } else {
        "failed"
    };
    let _ = writeln!(out, "## objgraph-doctest: {verdict}\n");
    let _ = writeln!(
        out,
        "| passed | failed | skipped | timed out | crashed | not run | page errors |"
    );
    let _ = writeln!(out, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} |\n",
        summary.passed,
        summary.failed,
        summary.skipped,
        summary.timeout,
        summary.crashed,
        summary.not_run,
        summary.page_errors
    );
    let _ = writeln!(
        out,
        "{} in {}.\n",
        super::human::summary_line(summary),
        plural(runs.len(), "page")
    );
    if let Some(line) = figures.closing_line() {
        let _ = writeln!(out, "{}\n", escape_inline(&capitalized(&line)));
    }
    if problems.is_empty() {
        return out;
    }
    let _ = writeln!(out, "### Problems ({})\n", problems.len());
    let _ = writeln!(out, "| where | what |");
    let _ = writeln!(out, "| --- | --- |");
    for problem in &problems {
        let _ = writeln!(out, "| {} | {} |", location(problem, links), problem.what);
    }
    out.push('\n');
    let _ = writeln!(out, "### Details\n");
    for (shown, problem) in problems.iter().enumerate() {
        let mut section = String::new();
        let _ = writeln!(
            section,
            "#### {}: {}\n",
            location(problem, links),
            problem.what
        );
        if let Some(source) = problem.source {
            section.push_str(&fenced(source, "python"));
        }
        let language = if problem.is_diff { "diff" } else { "text" };
        section.push_str(&fenced(&problem.detail, language));
        if out.len() + section.len() > SIZE_BUDGET {
            let _ = writeln!(
                out,
                "The details of the last {} are left out: a job summary holds at most 1 MiB. \
                 Run with `--format human` for all of them.",
                plural(problems.len() - shown, "problem")
            );
            break;
        }
        out.push_str(&section);
    }
    out
}

fn problems(runs: &[PageRun]) -> Vec<Problem<'_>> {
    let mut problems = Vec::new();
    for run in runs {
        let page = &run.page;
        for error in &page.errors {
            problems.push(Problem {
                path: &page.path,
                line: error.line,
                what: "page cannot be read",
                source: None,
                detail: format!("column {}: {}", error.column, error.message),
                is_diff: false,
            });
        }
        if let Some(error) = &run.error {
            problems.push(Problem {
                path: &page.path,
                line: 1,
                what: "page could not run",
                source: None,
                detail: error.trim_end().to_owned(),
                is_diff: false,
            });
        }
        for (example, result) in page.examples.iter().zip(&run.examples) {
            let got = result.got.as_deref().unwrap_or("");
            let (what, detail, is_diff) = match result.outcome {
                Outcome::Failed if result.exception.is_some() && example.exc_msg.is_none() => {
                    ("unexpected exception", got.to_owned(), false)
                }
                Outcome::Failed => {
                    let (want, got) = match (&result.exception, &example.exc_msg) {
                        (Some(exception), Some(exc_msg)) => {
                            (exc_msg.as_str(), exception.exc_msg.as_str())
                        }
                        _ => (example.want.as_str(), got),
                    };
                    let unified = diff::unified_diff(want, got, 3);
                    if unified.hunks.is_empty() {
                        // Equal text judged different (whitespace flags): doctest's own form.
                        let text = diff::output_difference(&example.want, got, result.flags);
                        ("example failed", text, false)
                    } else {
                        let text = unified.render_unified("expected", "actual");
                        ("example failed", text, true)
                    }
                }
                Outcome::Timeout => ("timed out", fault(result.fault.as_deref()), false),
                Outcome::Crashed => ("interpreter crashed", fault(result.fault.as_deref()), false),
                _ => continue,
            };
            problems.push(Problem {
                path: &page.path,
                line: example.span.line,
                what,
                source: Some(&example.source),
                detail,
                is_diff,
            });
        }
    }
    problems
}

/// Figures out of date (as `stale-figures` says) and figures `--update-figures` could not
/// write, at their lines, after the examples' problems.
fn figure_problems<'a>(runs: &'a [PageRun], verdict: &FigureVerdict) -> Vec<Problem<'a>> {
    let mut problems = Vec::new();
    for run in runs {
        for check in &run.figures.figures {
            let Some(((_, what), detail)) = verdict
                .problem(check)
                .zip(figure_line(check, run.figures.updated))
            else {
                continue;
            };
            problems.push(Problem {
                path: &run.page.path,
                line: check.line,
                what,
                source: None,
                detail,
                is_diff: false,
            });
        }
    }
    problems
}

/// `warning: ...` as a sentence: `Warning: ...`.
fn capitalized(line: &str) -> String {
    let mut chars = line.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn fault(fault: Option<&str>) -> String {
    fault.unwrap_or("the interpreter stopped").to_owned()
}

/// `path:line`, as a link when the run knows the repository.
fn location(problem: &Problem<'_>, links: Option<&Links>) -> String {
    let text = format!("{}:{}", problem.path, problem.line);
    let text = escape_inline(&text);
    match links.and_then(|links| links.to(problem.path, problem.line)) {
        Some(url) => format!("[{text}]({url})"),
        None => text,
    }
}

/// Inline text in a table cell or heading: Markdown's punctuation escaped, `|` included.
fn escape_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_[]<>|#".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A fenced block longer than any run of backticks inside, so no text can close it.
fn fenced(text: &str, language: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let body = text.trim_end_matches('\n');
    format!("{fence}{language}\n{body}\n{fence}\n\n")
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> Links {
        Links {
            blob: "https://github.com/o/r/blob/abc".into(),
            prefix: "sub/".into(),
            workspace: "/work/r".into(),
        }
    }

    #[test]
    fn links_name_the_file_in_the_repository() {
        let links = links();
        assert_eq!(
            links.to("docs/a b.rst", 7).as_deref(),
            Some("https://github.com/o/r/blob/abc/sub/docs/a%20b.rst#L7")
        );
        assert_eq!(
            links.to("/work/r/docs/x.md", 2).as_deref(),
            Some("https://github.com/o/r/blob/abc/docs/x.md#L2")
        );
        assert_eq!(links.to("/elsewhere/x.md", 2), None);
        assert_eq!(links.to("/work/rr/x.md", 2), None);
    }

    #[test]
    fn fences_outlast_backticks_inside() {
        assert_eq!(
            fenced("a ```` b\n", "text"),
            "`````text\na ```` b\n`````\n\n"
        );
        assert_eq!(fenced("plain", "diff"), "```diff\nplain\n```\n\n");
    }

    #[test]
    fn table_cells_cannot_be_split() {
        assert_eq!(escape_inline("a|b_c.rst:3"), "a\\|b\\_c.rst:3");
    }
}
