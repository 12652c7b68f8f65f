//! The human report's lines about figures and graphs, under the example that drew them:
//! a figure out of date (with the share of pixels that differ), written or left as it was
//! by `--update-figures`, and the nodes and edges a graph gained or lost.

use std::fmt::Write as _;

use crate::runner::figures::{
    Comparison, ExampleGraphDiff, FigureCheck, FigureWrite, GraphBase, PageFigures, Sameness,
};
use crate::runner::run::PageRun;

use super::super::style::Palette;

/// Items listed per kind of graph change; the count covers the rest.
const LISTED_CHANGES: usize = 8;

/// What to say about example `index`'s figures and graphs; empty when nothing.
pub(crate) fn example_lines(figures: &PageFigures, index: usize, palette: &Palette) -> String {
    let (checks, diffs) = figures.of_example(index);
    let mut out = String::new();
    for check in checks {
        if let Some(line) = figure_line(check, figures.updated) {
            let styled = if check.is_stale() && !figures.updated || check_refused(check) {
                palette.warning(&line)
            } else {
                line
            };
            let _ = writeln!(out, "{styled}");
        }
    }
    for diff in diffs {
        render_graph_diff(&mut out, diff, palette);
    }
    out
}

/// With `--update-figures`, the page's figures that no example drew: left untouched.
pub(super) fn undrawn_lines(run: &PageRun, palette: &Palette) -> String {
    let figures = &run.figures;
    if !figures.updated || figures.undrawn.is_empty() {
        return String::new();
    }
    let listed = figures
        .undrawn
        .iter()
        .map(|figure| format!("{} (line {})", figure.target, figure.line))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{}\n{}: figures no example draws, left untouched: {listed}\n",
        palette.dim(super::SEPARATOR),
        run.page.path
    )
}

fn check_refused(check: &FigureCheck) -> bool {
    matches!(check.write, FigureWrite::Refused { .. })
}

/// One line about a figure, or `None` when it is unchanged and nothing was asked.
pub(crate) fn figure_line(check: &FigureCheck, updated: bool) -> Option<String> {
    let figure = format!("Figure {} (line {})", check.target, check.line);
    let path = check.path.display();
    let change = match (&check.comparison, check.missing) {
        (_, true) => "a new file".to_owned(),
        (Some(Comparison::Differs { share: Some(share) }), _) => {
            format!("{} of its pixels differ", percent(*share))
        }
        (Some(Comparison::Differs { share: None }), _) => {
            "it differs from what the example draws".to_owned()
        }
        (Some(Comparison::Same { by }), _) => sameness(*by).to_owned(),
        (None, false) => String::new(),
    };
    Some(match &check.write {
        FigureWrite::Written => format!("{figure}: written to {path} ({change})"),
        FigureWrite::Refused { reason } => format!("{figure}: not written: {path} {reason}"),
        FigureWrite::None => {
            if let Some(note) = &check.note {
                format!("{figure}: not compared: {note}")
            } else if check.missing {
                format!("{figure}: {path} does not exist; --update-figures writes it")
            } else if check.is_stale() {
                format!("{figure}: out of date, {change} ({path}); --update-figures rewrites it")
            } else if check.differs() {
                format!(
                    "{figure}: {change} ({path}), as expected: the example's drawing varies \
                     (NODES_VARY or RANDOM_OUTPUT)"
                )
            } else if updated {
                format!("{figure}: unchanged ({change})")
            } else {
                return None;
            }
        }
    })
}

fn sameness(by: Sameness) -> &'static str {
    match by {
        Sameness::Bytes => "byte-identical",
        Sameness::Pixels => "pixel-identical",
        Sameness::Text => "the same SVG but for comments",
    }
}

/// `12.5%`, and never `0.0%` or `100.0%` for a share that is neither.
fn percent(share: f64) -> String {
    let value = share * 100.0;
    if value > 0.0 && value < 0.1 {
        "under 0.1%".to_owned()
    } else if value < 100.0 && value > 99.9 {
        "over 99.9%".to_owned()
    } else {
        format!("{value:.1}%")
    }
}

fn render_graph_diff(out: &mut String, diff: &ExampleGraphDiff, palette: &Palette) {
    // objgraph's own .dot files have random names: they are "the graph" of the example.
    let graph = if diff
        .dot
        .starts_with(&format!("{}/", crate::backend::worker::PAGE_TMPDIR))
    {
        "Graph".to_owned()
    } else {
        format!("Graph {}", diff.dot)
    };
    let against = match &diff.against {
        GraphBase::PreviousRun => "the previous run".to_owned(),
        GraphBase::Committed { path } => path.display().to_string(),
    };
    let _ = writeln!(out, "{graph} changed since {against}:");
    for line in diff.diff.lines(LISTED_CHANGES) {
        let styled = if line.starts_with('+') {
            palette.added(&line)
        } else {
            palette.removed(&line)
        };
        let _ = writeln!(out, "    {styled}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_read_well() {
        assert_eq!(percent(0.125), "12.5%");
        assert_eq!(percent(1.0), "100.0%");
        assert_eq!(percent(0.00001), "under 0.1%");
        assert_eq!(percent(0.99999), "over 99.9%");
    }
}
