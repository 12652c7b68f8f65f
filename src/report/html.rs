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

mod media;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use crate::engine::diff::{self, LineKind};
use crate::engine::dot::MAX_DOT_BYTES;
use crate::engine::figures::match_figures;
use crate::engine::page::Reference;
use crate::engine::{Example, FlagRegistry};
use crate::runner::artifacts::{Artifact, ArtifactKind};
use crate::runner::run::{ExampleRun, Outcome, PageRun, Summary, format_duration};

use super::json::RunFacts;
pub use media::{DEFAULT_MAX_INLINE_BYTES, MediaLimits};
use media::{Embedded, Embedder};

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

/// One example of a page and what its run did.
struct ExampleView<'a> {
    page: &'a PageView<'a>,
    index: usize,
    example: &'a Example,
    result: &'a ExampleRun,
}

impl ExampleView<'_> {
    fn render(&self, out: &mut String, registry: &FlagRegistry, embedder: &mut Embedder) {
        let (example, result) = (self.example, self.result);
        let outcome = outcome_name(result.outcome);
        let id = format!("{}-e{}", self.page.id, self.index);
        let _ = write!(
            out,
            "<li class=\"example outcome-{outcome}\" id=\"{id}\" data-example \
             data-page=\"{}\" data-line=\"{}\" data-outcome=\"{outcome}\">\n\
             <h3 class=\"example-title\"><a href=\"#{id}\">line {}</a> \
             <span class=\"badge badge-{outcome}\">{}</span> \
             <span class=\"duration\">{}</span></h3>\n",
            attr(&self.page.run.page.path),
            example.span.line,
            example.span.line,
            outcome_label(result.outcome),
            format_duration(result.duration)
        );
        let _ = writeln!(
            out,
            "<pre class=\"source\" aria-label=\"source, line {}\"><code>{}</code></pre>",
            example.span.line,
            text(&prompted_source(&example.source))
        );
        let flags: Vec<&str> = result
            .flags
            .iter()
            .map(|flag| registry.name(flag))
            .collect();
        if !flags.is_empty() {
            let _ = writeln!(
                out,
                "<p class=\"flags\">flags: {}</p>",
                text(&flags.join(", "))
            );
        }
        self.render_outputs(out);
        if let Some(reason) = &result.skip_reason {
            let _ = writeln!(out, "<p class=\"note\">skipped: {}</p>", text(reason));
        }
        if let Some(fault) = &result.fault {
            let _ = writeln!(out, "<p class=\"note fault\">{}</p>", text(fault));
        }
        if result.truncated {
            out.push_str(
                "<p class=\"note\">output cut: the example printed more than the output \
                 cap</p>\n",
            );
        }
        out.push_str(&graph_diff(result));
        self.render_artifacts(out, embedder);
        out.push_str("</li>\n");
    }

    /// Expected and actual output side by side, then, for a failure, the diff.
    fn render_outputs(&self, out: &mut String) {
        let (example, result) = (self.example, self.result);
        let Some(got) = result.got.as_deref() else {
            if !example.want.is_empty() {
                output_block(out, "expected", "Expected", &example.want);
            }
            return;
        };
        if result.outcome == Outcome::Passed && got == example.want {
            if !got.is_empty() {
                output_block(out, "got", "Output (as expected)", got);
            }
            return;
        }
        let unexpected = result.exception.is_some() && example.exc_msg.is_none();
        out.push_str("<div class=\"outputs\">\n");
        output_block(out, "expected", "Expected", &example.want);
        let label = if unexpected && result.outcome == Outcome::Failed {
            "Exception raised"
        } else {
            "Got"
        };
        output_block(out, "got", label, got);
        out.push_str("</div>\n");
        if result.outcome != Outcome::Failed || unexpected {
            return;
        }
        let (want, got) = compared_outputs(example, result);
        let unified = diff::unified_diff(want, got, 3);
        if unified.hunks.is_empty() {
            // Equal text judged different (whitespace flags): doctest's own words.
            let words = diff::output_difference(&example.want, got, result.flags);
            let _ = writeln!(
                out,
                "<div class=\"diff\"><h4>Difference</h4><pre>{}</pre></div>",
                text(&words)
            );
            return;
        }
        out.push_str(
            "<div class=\"diff\"><h4>Diff <span class=\"legend\">(<del>− expected</del> \
             <ins>+ actual</ins>)</span></h4><pre>",
        );
        for hunk in &unified.hunks {
            // Block elements, one per line: a line end between them would be a blank line.
            let _ = write!(out, "<span class=\"hunk\">{}</span>", text(&hunk.header()));
            for line in &hunk.lines {
                let (tag, prefix) = match line.kind {
                    LineKind::Context => ("span", ' '),
                    LineKind::Removed => ("del", '-'),
                    LineKind::Added => ("ins", '+'),
                };
                let _ = write!(out, "<{tag}>{prefix}{}</{tag}>", text(&line.text));
            }
        }
        out.push_str("</pre></div>\n");
    }

    fn render_artifacts(&self, out: &mut String, embedder: &mut Embedder) {
        let artifacts = &self.result.artifacts;
        if artifacts.is_empty() {
            return;
        }
        out.push_str("<div class=\"artifacts\">\n<h4>Files written</h4>\n");
        // Pictures first, then the graphs' DOT text, then other files; each in name order.
        let mut shown: Vec<(usize, &Artifact)> = artifacts.iter().enumerate().collect();
        shown.sort_by_key(|(_, artifact)| match artifact.kind {
            ArtifactKind::Image => 0,
            ArtifactKind::Dot => 1,
            ArtifactKind::Other => 2,
        });
        for (index, artifact) in shown {
            let figure = self
                .page
                .figures
                .get(self.index)
                .and_then(|figures| figures.get(index).copied().flatten());
            match artifact.kind {
                ArtifactKind::Image => self.render_image(out, artifact, figure, embedder),
                ArtifactKind::Dot => render_dot(out, artifact),
                ArtifactKind::Other => {
                    let _ = writeln!(
                        out,
                        "<p class=\"file\"><code>{}</code> ({} bytes){}</p>",
                        text(&artifact.name),
                        artifact.size,
                        note(artifact.note.as_deref())
                    );
                }
            }
        }
        out.push_str("</div>\n");
    }

    /// An image the example wrote; beside it, the page's figure it regenerates, if any.
    fn render_image(
        &self,
        out: &mut String,
        artifact: &Artifact,
        figure: Option<&Reference>,
        embedder: &mut Embedder,
    ) {
        let drawn_alt = match figure.and_then(|figure| figure.alt.as_deref()) {
            Some(alt) => format!("{alt} (as drawn by this run)"),
            None => format!(
                "{} drawn by the example at line {}",
                artifact.name, self.example.span.line
            ),
        };
        let Some(figure) = figure else {
            out.push_str("<div class=\"images\">\n");
            image_figure(out, artifact, &drawn_alt, "", embedder);
            out.push_str("</div>\n");
            return;
        };
        let committed = committed_figure_path(&self.page.run.page.path, &figure.target);
        let _ = writeln!(
            out,
            "<div class=\"images comparison\" data-figure=\"{}\">",
            attr(&figure.target)
        );
        let figure_alt = figure
            .alt
            .clone()
            .unwrap_or_else(|| format!("the page's figure {}", figure.target));
        let caption = format!("In the page (line {}): {}", figure.line, figure.target);
        match &committed {
            Some(path) if path.is_file() => {
                captioned_image(out, &embedder.image(path), path, &figure_alt, &caption);
            }
            _ => {
                let _ = writeln!(
                    out,
                    "<figure class=\"missing\"><p>{} does not exist yet: no committed figure to \
                     compare with.</p><figcaption>{}</figcaption></figure>",
                    text(&figure.target),
                    text(&caption)
                );
            }
        }
        image_figure(out, artifact, &drawn_alt, "This run: ", embedder);
        out.push_str(&figure_status(figure, artifact));
        out.push_str("</div>\n");
    }
}

/// The generated image `artifact` as a `<figure>`.
fn image_figure(
    out: &mut String,
    artifact: &Artifact,
    alt: &str,
    caption_prefix: &str,
    embedder: &mut Embedder,
) {
    let caption = format!("{caption_prefix}{}", artifact.name);
    if !artifact.copied {
        let _ = writeln!(
            out,
            "<figure class=\"missing\"><p>not kept{}</p><figcaption>{}</figcaption></figure>",
            note(artifact.note.as_deref()),
            text(&caption)
        );
        return;
    }
    captioned_image(
        out,
        &embedder.image(&artifact.path),
        &artifact.path,
        alt,
        &caption,
    );
}

fn captioned_image(out: &mut String, image: &Embedded, path: &Path, alt: &str, caption: &str) {
    match image {
        Embedded::Inline { data_uri } => {
            let _ = writeln!(
                out,
                "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption>\
                 </figure>",
                attr(data_uri),
                attr(alt),
                text(caption)
            );
        }
        Embedded::Linked { reason } => {
            let _ = writeln!(
                out,
                "<figure class=\"linked\"><p>Not inlined ({}): see <code>{}</code></p>\
                 <figcaption>{}</figcaption></figure>",
                text(reason),
                text(&path.display().to_string()),
                text(caption)
            );
        }
    }
}

/// A DOT file: its summary (nodes, edges, roots), the text in a `<details>`.
fn render_dot(out: &mut String, artifact: &Artifact) {
    let summary = artifact
        .dot
        .as_ref()
        .map(|summary| format!(": {}", summary.describe()))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<div class=\"dot\"><p><span class=\"graph-name\">graph <code>{}</code></span>{}{}</p>",
        text(&artifact.name),
        text(&summary),
        note(artifact.note.as_deref())
    );
    if artifact.copied {
        match media::dot_text(&artifact.path, MAX_DOT_BYTES as u64) {
            Ok(dot) => {
                let _ = writeln!(
                    out,
                    "<details><summary>DOT text of {}</summary><pre class=\"dot-text\">{}</pre>\
                     </details>",
                    text(&artifact.name),
                    text(&dot)
                );
            }
            Err(reason) => {
                let _ = writeln!(
                    out,
                    "<p class=\"note\">DOT text not shown: {}</p>",
                    text(&reason)
                );
            }
        }
    }
    out.push_str("</div>\n");
}

/// Where a graph diff of this example (nodes and edges that appeared or disappeared, by
/// label, against the previous run or the committed figure's DOT) is shown, once run
/// results carry one (issue 13 §2). Nothing until then.
fn graph_diff(_result: &ExampleRun) -> String {
    String::new()
}

/// Where a figure's status (changed / unchanged / stale, with the share of pixels that
/// differ) is shown beside the two images, once run results carry it (issue 13 §2).
/// Nothing until then.
fn figure_status(_figure: &Reference, _generated: &Artifact) -> String {
    String::new()
}

/// The committed figure a page's target names: relative to the page's directory. A
/// `/`-rooted target (Sphinx's source directory) or a URL is not looked up.
fn committed_figure_path(page_path: &str, target: &str) -> Option<PathBuf> {
    if target.starts_with('/') || target.contains("://") || target.starts_with("data:") {
        return None;
    }
    let directory = Path::new(page_path).parent().unwrap_or(Path::new(""));
    Some(directory.join(target))
}

/// What doctest compares: the exception's `exc_msg` with the expected one when an
/// exception was expected, else the whole output.
fn compared_outputs<'a>(example: &'a Example, result: &'a ExampleRun) -> (&'a str, &'a str) {
    let got = result.got.as_deref().unwrap_or("");
    match (&result.exception, &example.exc_msg) {
        (Some(exception), Some(exc_msg)) => (exc_msg.as_str(), exception.exc_msg.as_str()),
        _ => (example.want.as_str(), got),
    }
}

fn output_block(out: &mut String, class: &str, label: &str, body: &str) {
    let shown = if body.is_empty() { "(nothing)" } else { body };
    let _ = writeln!(
        out,
        "<div class=\"output {class}\"><h4>{label}</h4><pre>{}</pre></div>",
        text(shown.trim_end_matches('\n'))
    );
}

/// The source as the page shows it: `>>> ` before the first line, `... ` before the others.
fn prompted_source(source: &str) -> String {
    source
        .trim_end_matches('\n')
        .lines()
        .enumerate()
        .map(|(index, line)| {
            let prompt = if index == 0 { ">>> " } else { "... " };
            format!("{prompt}{line}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn note(note: Option<&str>) -> String {
    note.map(|note| format!(" <span class=\"note\">[{}]</span>", text(note)))
        .unwrap_or_default()
}

fn is_problem(outcome: Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Failed | Outcome::Timeout | Outcome::Crashed
    )
}

/// The outcome as a CSS class and `data-outcome` value.
fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Skipped => "skipped",
        Outcome::Timeout => "timeout",
        Outcome::Crashed => "crashed",
        Outcome::NotRun => "not-run",
    }
}

/// The outcome as people read it (never colour alone).
fn outcome_label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Skipped => "skipped",
        Outcome::Timeout => "timed out",
        Outcome::Crashed => "crashed",
        Outcome::NotRun => "not run",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_get_their_prompts_back() {
        assert_eq!(
            prompted_source("for i in x:\n    print(i)\n"),
            ">>> for i in x:\n...     print(i)"
        );
    }

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
        };
        let facts = RunFacts {
            config_file: Some(hostile),
            duration: std::time::Duration::ZERO,
            shard: None,
            python: super::super::json::PythonReport {
                path: hostile.to_owned(),
                origin: hostile.to_owned(),
            },
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

    #[test]
    fn committed_figures_are_beside_their_page() {
        assert_eq!(
            committed_figure_path("docs/index.rst", "images/a.png"),
            Some(PathBuf::from("docs/images/a.png"))
        );
        assert_eq!(
            committed_figure_path("index.rst", "a.png"),
            Some(PathBuf::from("a.png"))
        );
        assert_eq!(committed_figure_path("docs/x.rst", "/_static/a.png"), None);
        assert_eq!(
            committed_figure_path("docs/x.rst", "https://e.org/a.png"),
            None
        );
    }
}
