//! The HTML report (`--html FILE`): one self-contained page to open in a browser or keep as
//! a CI artifact. A summary (counts, duration, configuration, interpreter), the pages with
//! their counts (failing pages first, a filter: all / failed / with images), then each page's
//! examples in order: source, outcome, duration, expected and actual output, a coloured diff
//! for failures, and the graphs each example drew, as images with their DOT summaries; a
//! figure the page shows is put beside the image an example regenerated for it.
//!
//! Self-contained means no network and no other file: images are `data:` URIs (SVG too, so
//! that its scripts never run), the CSS and the little JavaScript (the filter; opening
//! `<details>` for print) are inline, and a Content-Security-Policy forbids loading anything
//! else. Every text from a page or a run is escaped (`html-escape`). Images over a cap are
//! named by path instead (`html/media.rs`).

mod example;
mod media;

use std::fmt::Write as _;

use html_escape::encode_text as text;

use crate::engine::FlagRegistry;
use crate::engine::figures::match_figures;
use crate::engine::page::Reference;
use crate::runner::artifacts::{Artifact, ArtifactKind};
use crate::runner::run::{Outcome, PageRun, Summary, format_duration};

use super::json::RunFacts;
use example::ExampleView;
use media::Embedder;
pub use media::{DEFAULT_MAX_INLINE_BYTES, MediaLimits};

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// Nothing but this document's own inline styles and scripts and `data:` images may load.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; img-src data:; \
     style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// The whole report as one HTML document, with images up to the default caps inlined.
pub fn render(
    runs: &[PageRun],
    summary: &Summary,
    warnings: &[String],
    facts: &RunFacts,
    registry: &FlagRegistry,
) -> String {
    render_with_limits(
        runs,
        summary,
        warnings,
        facts,
        registry,
        MediaLimits::default(),
    )
}

/// [`render`] with the caps on inlined images given.
pub fn render_with_limits(
    runs: &[PageRun],
    summary: &Summary,
    warnings: &[String],
    facts: &RunFacts,
    registry: &FlagRegistry,
    limits: MediaLimits,
) -> String {
    let mut embedder = Embedder::new(limits);
    let pages: Vec<PageView> = runs
        .iter()
        .enumerate()
        .map(|(index, run)| PageView::new(index, run))
        .collect();
    // Failing pages first, each group in the run's (path) order.
    let mut order: Vec<&PageView> = pages.iter().collect();
    order.sort_by_key(|page| !page.failed);

    let mut out = String::with_capacity(64 * 1024);
    let verdict = if summary.all_passed() {
        "passed"
    } else {
        "failed"
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <title>objgraph-doctest: {verdict}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n"
    );
    out.push_str("<a class=\"skip\" href=\"#pages\">Skip to the pages</a>\n");
    render_summary(&mut out, runs.len(), summary, warnings, facts, verdict);
    render_page_list(&mut out, &order);
    out.push_str("<main id=\"pages\">\n");
    for page in &order {
        render_page(&mut out, page, registry, &mut embedder);
    }
    let _ = write!(
        out,
        "</main>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    );
    out
}

/// What the list and a page's section say about one page.
struct PageView<'a> {
    run: &'a PageRun,
    /// `p<index in the run>`: stable anchors, whatever the order shown.
    id: String,
    failed: bool,
    images: usize,
    /// For each example, for each of its artifacts: the page's figure it stands for.
    figures: Vec<Vec<Option<&'a Reference>>>,
}

impl<'a> PageView<'a> {
    fn new(index: usize, run: &'a PageRun) -> PageView<'a> {
        let problem = run.error.is_some()
            || !run.page.errors.is_empty()
            || run
                .examples
                .iter()
                .any(|example| is_problem(example.outcome));
        let mut figures: Vec<Vec<Option<&Reference>>> = run
            .examples
            .iter()
            .map(|example| vec![None; example.artifacts.len()])
            .collect();
        // Generated images in run order, as `match_figures` wants them.
        let images: Vec<(usize, usize, &Artifact)> = run
            .examples
            .iter()
            .enumerate()
            .flat_map(|(example, result)| {
                result
                    .artifacts
                    .iter()
                    .enumerate()
                    .map(move |(index, artifact)| (example, index, artifact))
            })
            .filter(|(_, _, artifact)| artifact.kind == ArtifactKind::Image)
            .collect();
        let names: Vec<&str> = images
            .iter()
            .map(|(_, _, artifact)| artifact.name.as_str())
            .collect();
        for found in match_figures(&run.page.structure, &names) {
            let (example, artifact, _) = images[found.generated];
            figures[example][artifact] = run.page.structure.references.get(found.reference);
        }
        PageView {
            run,
            id: format!("p{index}"),
            failed: problem,
            images: images.len(),
            figures,
        }
    }

    fn counts(&self) -> PageCounts {
        let mut counts = PageCounts::default();
        for example in &self.run.examples {
            match example.outcome {
                Outcome::Passed => counts.passed += 1,
                Outcome::Failed => counts.failed += 1,
                Outcome::Timeout => counts.timeout += 1,
                Outcome::Crashed => counts.crashed += 1,
                Outcome::Skipped => counts.skipped += 1,
                Outcome::NotRun => counts.not_run += 1,
            }
        }
        counts
    }

    /// `data-*` attributes the filter reads.
    fn filter_attributes(&self) -> String {
        format!(
            "data-filterable data-failed=\"{}\" data-images=\"{}\"",
            self.failed,
            self.images > 0
        )
    }
}

#[derive(Default)]
struct PageCounts {
    passed: usize,
    failed: usize,
    timeout: usize,
    crashed: usize,
    skipped: usize,
    not_run: usize,
}

impl PageCounts {
    /// Failed, timed out or crashed: the list's "failed" column.
    fn problems(&self) -> usize {
        self.failed + self.timeout + self.crashed
    }

    /// As the human report's closing line words it.
    fn describe(&self) -> String {
        super::human::summary_line(&Summary {
            passed: self.passed,
            failed: self.failed,
            skipped: self.skipped,
            timeout: self.timeout,
            crashed: self.crashed,
            not_run: self.not_run,
            page_errors: 0,
        })
    }
}

fn render_summary(
    out: &mut String,
    page_count: usize,
    summary: &Summary,
    warnings: &[String],
    facts: &RunFacts,
    verdict: &str,
) {
    let _ = write!(
        out,
        "<header class=\"summary\">\n<h1>objgraph-doctest report</h1>\n\
         <p class=\"verdict verdict-{verdict}\"><strong>{}</strong>: {}</p>\n",
        if verdict == "passed" {
            "Passed"
        } else {
            "Failed"
        },
        text(&super::human::summary_line(summary))
    );
    out.push_str(
        "<div class=\"scroll\"><table class=\"counts\">\n<caption>Examples by outcome</caption>\n\
         <thead><tr>",
    );
    let columns = [
        ("passed", summary.passed),
        ("failed", summary.failed),
        ("skipped", summary.skipped),
        ("timed out", summary.timeout),
        ("crashed", summary.crashed),
        ("not run", summary.not_run),
        ("page errors", summary.page_errors),
    ];
    for (name, _) in columns {
        let _ = write!(out, "<th scope=\"col\">{name}</th>");
    }
    out.push_str("</tr></thead>\n<tbody><tr>");
    for (_, value) in columns {
        let _ = write!(out, "<td>{value}</td>");
    }
    out.push_str("</tr></tbody>\n</table></div>\n<dl class=\"facts\">\n");
    let _ = writeln!(out, "<dt>Pages</dt><dd>{page_count}</dd>");
    let _ = writeln!(
        out,
        "<dt>Duration</dt><dd><span class=\"duration\">{}</span></dd>",
        format_duration(facts.duration)
    );
    let config = facts.config_file.unwrap_or("none (defaults)");
    let _ = writeln!(
        out,
        "<dt>Configuration</dt><dd><code>{}</code></dd>",
        text(config)
    );
    let _ = writeln!(
        out,
        "<dt>Python</dt><dd><code>{}</code> (from {})</dd>",
        text(&facts.python.path),
        text(&facts.python.origin)
    );
    if let Some(shard) = facts.shard {
        let _ = writeln!(
            out,
            "<dt>Shard</dt><dd>{} of {}</dd>",
            shard.index, shard.count
        );
    }
    out.push_str("</dl>\n");
    if !warnings.is_empty() {
        out.push_str(
            "<section class=\"warnings\" aria-labelledby=\"warnings-title\">\n\
             <h2 id=\"warnings-title\">Warnings</h2>\n<ul>\n",
        );
        for warning in warnings {
            let _ = writeln!(out, "<li>{}</li>", text(warning));
        }
        out.push_str("</ul>\n</section>\n");
    }
    out.push_str("</header>\n");
}

fn render_page_list(out: &mut String, order: &[&PageView]) {
    let failed = order.iter().filter(|page| page.failed).count();
    let with_images = order.iter().filter(|page| page.images > 0).count();
    let _ = write!(
        out,
        "<nav class=\"page-list\" aria-labelledby=\"list-title\">\n\
         <h2 id=\"list-title\">Pages</h2>\n\
         <fieldset class=\"filter\" hidden>\n<legend>Show pages</legend>\n\
         <label><input type=\"radio\" name=\"filter\" value=\"all\" checked> all ({})</label>\n\
         <label><input type=\"radio\" name=\"filter\" value=\"failed\"> failed ({failed})</label>\n\
         <label><input type=\"radio\" name=\"filter\" value=\"images\"> with images \
         ({with_images})</label>\n</fieldset>\n\
         <p id=\"filter-status\" class=\"filter-status\" role=\"status\" aria-live=\"polite\"></p>\n\
         <div class=\"scroll\"><table class=\"pages\">\n<caption>Pages, failing ones first (failed counts timeouts and crashes)</caption>\n\
         <thead><tr><th scope=\"col\">page</th><th scope=\"col\">passed</th>\
         <th scope=\"col\">failed</th><th scope=\"col\">skipped</th>\
         <th scope=\"col\">not run</th><th scope=\"col\">images</th></tr></thead>\n<tbody>\n",
        order.len()
    );
    for page in order {
        let counts = page.counts();
        let state = if page.failed { "failed" } else { "passed" };
        let _ = writeln!(
            out,
            "<tr class=\"page-row page-{state}\" {}><th scope=\"row\"><a href=\"#{}\">{}</a>{}</th>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            page.filter_attributes(),
            page.id,
            text(&page.run.page.path),
            if page.failed && counts.problems() == 0 {
                " <span class=\"badge badge-failed\">page error</span>"
            } else {
                ""
            },
            counts.passed,
            counts.problems(),
            counts.skipped,
            counts.not_run,
            page.images
        );
    }
    out.push_str("</tbody>\n</table></div>\n</nav>\n");
}

fn render_page(
    out: &mut String,
    page: &PageView,
    registry: &FlagRegistry,
    embedder: &mut Embedder,
) {
    let run = page.run;
    let id = &page.id;
    let _ = write!(
        out,
        "<section class=\"page\" id=\"{id}\" {} aria-labelledby=\"{id}-title\">\n\
         <h2 id=\"{id}-title\">{}</h2>\n\
         <p class=\"page-facts\">{} · <span class=\"duration\">{}</span> · profile {}</p>\n",
        page.filter_attributes(),
        text(&run.page.path),
        text(&page.counts().describe()),
        format_duration(run.duration),
        run.page.profile
    );
    for error in &run.page.errors {
        let _ = writeln!(
            out,
            "<div class=\"problem\"><h3>Page cannot be read</h3><p>line {}, column {}: {}</p>\
             </div>",
            error.line,
            error.column,
            text(&error.message)
        );
    }
    if let Some(error) = &run.error {
        let _ = writeln!(
            out,
            "<div class=\"problem\"><h3>Page could not run</h3><pre>{}</pre></div>",
            text(error.trim_end())
        );
    }
    if run.page.examples.is_empty() {
        out.push_str("<p>No examples.</p>\n</section>\n");
        return;
    }
    out.push_str("<ol class=\"examples\">\n");
    for (index, (example, result)) in run.page.examples.iter().zip(&run.examples).enumerate() {
        let view = ExampleView {
            page,
            index,
            example,
            result,
        };
        view.render(out, registry, embedder);
    }
    out.push_str("</ol>\n</section>\n");
}

fn is_problem(outcome: Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Failed | Outcome::Timeout | Outcome::Crashed
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::run::ExampleRun;
    use std::path::PathBuf;

    /// A page and a run that put markup everywhere they can: in the path, the source, the
    /// expected and actual output, an artifact's name and note, a warning.
    #[test]
    fn everything_from_pages_and_runs_is_escaped() {
        let registry = FlagRegistry::new();
        let hostile = "<script>alert(1)</script>\"'&";
        let page = crate::engine::parse_page(
            &format!("docs/{hostile}.txt"),
            crate::engine::PageFormat::Text,
            format!(">>> print({hostile:?})\n</pre><img src=x onerror=alert(2)>\n").as_bytes(),
            &registry,
        );
        assert_eq!(page.examples.len(), 1, "{:?}", page.errors);
        let mut result =
            ExampleRun::without_running(Outcome::Failed, crate::engine::FlagSet::EMPTY);
        result.got = Some(format!("{hostile}\n"));
        result.artifacts.push(Artifact {
            path: PathBuf::from(format!("/nowhere/{hostile}.dot")),
            name: format!("{hostile}.dot"),
            kind: ArtifactKind::Dot,
            size: 1,
            copied: false,
            dot: None,
            note: Some(hostile.to_owned()),
        });
        let run = PageRun {
            page,
            examples: vec![result],
            error: Some(hostile.to_owned()),
            duration: std::time::Duration::ZERO,
            figures: Default::default(),
        };
        let facts = RunFacts {
            config_file: Some(hostile),
            duration: std::time::Duration::ZERO,
            shard: None,
            python: super::super::json::PythonReport {
                path: hostile.to_owned(),
                origin: hostile.to_owned(),
            },
            figures: Default::default(),
        };
        let mut summary = Summary::default();
        summary.add(&run);
        let html = render(&[run], &summary, &[hostile.to_owned()], &facts, &registry);
        assert_eq!(
            html.matches("<script>").count(),
            1,
            "only the report's script"
        );
        assert!(
            !html.contains("<img"),
            "markup from the page became an element"
        );
        assert!(!html.contains("alert(1)</script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
}
