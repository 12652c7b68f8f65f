//! One example in the HTML report: its source, outcome, duration and flags, the expected
//! and actual output, a coloured diff for a failure, and the files it wrote: images (beside
//! the page's figure they regenerate), DOT graphs with their summary and text, other files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use crate::engine::diff::{self, LineKind};
use crate::engine::dot::MAX_DOT_BYTES;
use crate::engine::page::Reference;
use crate::engine::{Example, FlagRegistry};
use crate::runner::artifacts::{Artifact, ArtifactKind};
use crate::runner::run::{ExampleRun, Outcome, format_duration};

use super::PageView;
use super::media::{self, Embedded, Embedder};

/// One example of a page and what its run did.
pub(super) struct ExampleView<'a> {
    pub(super) page: &'a PageView<'a>,
    pub(super) index: usize,
    pub(super) example: &'a Example,
    pub(super) result: &'a ExampleRun,
}

impl ExampleView<'_> {
    pub(super) fn render(
        &self,
        out: &mut String,
        registry: &FlagRegistry,
        embedder: &mut Embedder,
    ) {
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
        self.render_figures_and_graph_diffs(out);
        self.render_artifacts(out, embedder);
        out.push_str("</li>\n");
    }

    /// What the run found about this example's figures (out of date with the share of
    /// pixels, written or unchanged by `--update-figures`) and the nodes and edges its graphs
    /// gained or lost: the human report's lines (`report/human/figures.rs`), uncoloured.
    fn render_figures_and_graph_diffs(&self, out: &mut String) {
        let lines = crate::report::human::figures::example_lines(
            &self.page.run.figures,
            self.index,
            &crate::report::style::Palette::plain(),
        );
        if lines.trim().is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "<pre class=\"figures\" aria-label=\"figures and graph changes\">{}</pre>",
            text(lines.trim_end())
        );
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
        // Where the figure check found it (a `/`-rooted target is under Sphinx's source
        // directory, which only the run knows); else beside the page.
        let checked = self
            .page
            .run
            .figures
            .figures
            .iter()
            .find(|check| check.target == figure.target && check.line == figure.line);
        let committed = match checked {
            Some(check) => Some(check.path.clone()),
            None => committed_figure_path(&self.page.run.page.path, &figure.target),
        };
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

/// The committed figure a page's target names when the run did not check it (figures were
/// not compared: `stale-figures = "ignore"`): relative to the page's directory. A
/// `/`-rooted target (Sphinx's source directory) or a URL is not looked up here.
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
