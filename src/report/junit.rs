//! JUnit XML, which CI systems read: one test suite per page, one test case per example.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::engine::diff;
use crate::runner::run::{Outcome, PageRun};

use super::human::figures::figure_line;

/// The run as a JUnit XML document.
pub fn render(runs: &[PageRun], duration: std::time::Duration) -> String {
    let mut report = Report::new("objgraph-doctest");
    report.set_time(duration);
    for run in runs {
        let page = &run.page;
        let mut suite = TestSuite::new(page.path.as_str());
        suite.set_time(run.duration);
        for error in &page.errors {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_message(error.message.as_str())
                .set_type("parse error");
            let mut case = TestCase::new(format!("line {}: parse error", error.line), status);
            case.set_classname(page.path.as_str());
            suite.add_test_case(case);
        }
        if let Some(error) = &run.error {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_message("the page could not run")
                .set_description(error.as_str());
            let mut case = TestCase::new("page setup", status);
            case.set_classname(page.path.as_str());
            suite.add_test_case(case);
        }
        for (index, (example, result)) in page.examples.iter().zip(&run.examples).enumerate() {
            let first_line = example.source.lines().next().unwrap_or("");
            let name = format!("line {}: {first_line}", example.span.line);
            let status = match result.outcome {
                Outcome::Passed => TestCaseStatus::success(),
                Outcome::Skipped => TestCaseStatus::skipped(),
                Outcome::NotRun => {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message("not run: an earlier example stopped the page");
                    status
                }
                Outcome::Failed => {
                    let got = result.got.as_deref().unwrap_or("");
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status
                        .set_message("output differs")
                        .set_description(diff::output_difference(&example.want, got, result.flags));
                    status
                }
                Outcome::Timeout | Outcome::Crashed => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                    status
                        .set_message(result.fault.as_deref().unwrap_or("the interpreter stopped"));
                    status
                }
            };
            let mut case = TestCase::new(name, status);
            case.set_classname(page.path.as_str())
                .set_time(result.duration);
            // What the human report says under the example about the figures it drew.
            let figures: Vec<String> = run
                .figures
                .of_example(index)
                .0
                .into_iter()
                .filter_map(|check| figure_line(check, run.figures.updated))
                .collect();
            if !figures.is_empty() {
                case.set_system_out(figures.join("\n") + "\n");
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    let xml = report
        .to_string()
        .unwrap_or_else(|error| format!("<!-- cannot serialise the report: {error} -->\n"));
    // XML 1.0 allows neither noncharacter anywhere, and the writer lets them through from
    // what examples print; only text can hold them, so the whole document is safe to map.
    xml.replace(['\u{FFFE}', '\u{FFFF}'], "\u{FFFD}")
}
