//! Which image an example generated stands for which figure of its page: a `.. figure::`,
//! `.. image::` (reST, MyST) or Markdown image names the file the example writes when the
//! two have the same file name, as objgraph's `make images` relies on (its examples write
//! `sample-graph.png` in the docs folder; the page's figure shows `sample-graph.png`).
//!
//! Pure: names in, pairs out. Finding the files, comparing pixels and writing them are the
//! runner's (`runner/figures.rs`) and the reports'.

use super::page::{Reference, ReferenceKind, Structure};

/// A figure or image of a page and the generated file that stands for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FigureMatch {
    /// Index into the page's `structure.references`.
    pub reference: usize,
    /// Index into the `generated` list given to [`match_figures`].
    pub generated: usize,
}

/// The page's figures and images, with their indexes in `structure.references`.
pub fn figure_references(structure: &Structure) -> impl Iterator<Item = (usize, &Reference)> {
    structure
        .references
        .iter()
        .enumerate()
        .filter(|(_, reference)| {
            matches!(reference.kind, ReferenceKind::Figure | ReferenceKind::Image)
        })
}

/// The file name a figure target names: its last path component, without a URL's query or
/// fragment. `None` for remote images (`https://...`, `data:`), which no example writes.
pub fn target_file_name(target: &str) -> Option<&str> {
    if target.contains("://") || target.starts_with("data:") {
        return None;
    }
    let path = target.split(['?', '#']).next().unwrap_or(target);
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    (!name.is_empty()).then_some(name)
}

/// Pairs each figure of `structure` with the generated file of the same name, given as
/// paths relative to the page's working directory in run order. When several examples
/// write the same name, the last one stands for the figure: it is what a docs build after
/// the run would show.
pub fn match_figures(structure: &Structure, generated: &[&str]) -> Vec<FigureMatch> {
    figure_references(structure)
        .filter_map(|(reference, figure)| {
            let wanted = target_file_name(&figure.target)?;
            let generated = generated
                .iter()
                .rposition(|name| target_file_name(name) == Some(wanted))?;
            Some(FigureMatch {
                reference,
                generated,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rst;

    #[test]
    fn figures_match_generated_files_by_name_and_the_last_writer_wins() {
        let structure = rst::structure(
            ".. figure:: sample-graph.png\n   :alt: a graph\n\n\
             .. image:: images/other.png\n\n\
             .. figure:: https://example.com/remote.png\n\n\
             .. include:: sample-graph.png\n",
        );
        let matches = match_figures(
            &structure,
            &["sample-graph.png", "other.png", "sub/sample-graph.png"],
        );
        assert_eq!(
            matches,
            vec![
                FigureMatch {
                    reference: 0,
                    generated: 2
                },
                FigureMatch {
                    reference: 1,
                    generated: 1
                },
            ]
        );
        assert_eq!(structure.references[0].alt.as_deref(), Some("a graph"));
    }

    #[test]
    fn markdown_images_carry_their_text_as_alt() {
        let structure =
            crate::engine::markdown::structure("![the *sample* graph](sample-graph.png)\n");
        assert_eq!(
            structure.references[0].alt.as_deref(),
            Some("the sample graph")
        );
        assert_eq!(target_file_name("a/b.png?x=1#y"), Some("b.png"));
        assert_eq!(target_file_name("data:image/png;base64,AAAA"), None);
    }
}
