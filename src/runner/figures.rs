//! Figures that follow the examples: after a page has run, each `.. figure::`/`.. image::`
//! (or Markdown image) whose file name an example wrote is compared with the committed file
//! it names, and with `--update-figures` replaced by what the example drew, atomically, as
//! objgraph's `make images` does. The DOT graphs examples write are compared, by label, with
//! the previous run's and with a committed `.dot` beside the figure (`engine::graph_diff`).
//!
//! Where a figure is: its target relative to the page's directory, or, `/`-rooted, relative
//! to the Sphinx source directory (the page's nearest `conf.py` inside the project) or else
//! the project root. Figures are written only inside the project root, never through a link
//! that leads out of it; an existing figure is replaced as `--update` replaces a page
//! (`runner/write.rs`: temporary file beside it, its mode and owner kept, renamed over it),
//! and the temporary files a killed earlier write left in the figure's folder are removed.
//!
//! The previous run's DOT graphs are kept in `<artifacts dir>/<page>/previous-dots/`, one
//! file per graph, named after what it stands for (its own name, or the image the same
//! example drew for objgraph's temporary `.dot` files); each run replaces that folder's
//! files with its own, so it holds one run's graphs and never grows.

mod compare;

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use compare::{Comparison, Sameness, compare_images};

use crate::backend::worker::PAGE_TMPDIR;
use crate::engine::Flag;
use crate::engine::dot::{DotGraph, MAX_DOT_BYTES, parse_dot};
use crate::engine::figures::{figure_references, match_figures, target_file_name};
use crate::engine::graph_diff::{GraphDiff, diff_graphs};

use super::artifacts::{Artifact, ArtifactKind};
use super::read::read_regular_file;
use super::run::PageRun;

/// The folder, in a page's artifacts folder, that keeps the previous run's DOT graphs.
pub const PREVIOUS_DOTS_DIR: &str = "previous-dots";

/// What a stale figure is (`stale-figures` in the configuration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StaleFigures {
    /// A warning; the exit status is the examples'.
    #[default]
    Warn,
    /// A failure: exit status 1.
    Error,
    /// Not reported.
    Ignore,
}

impl std::str::FromStr for StaleFigures {
    type Err = String;
    fn from_str(value: &str) -> Result<StaleFigures, String> {
        match value {
            "warn" => Ok(StaleFigures::Warn),
            "error" => Ok(StaleFigures::Error),
            "ignore" => Ok(StaleFigures::Ignore),
            other => Err(format!(
                "unknown stale-figures value {other:?}; give \"warn\" (the default), \"error\" \
                 or \"ignore\""
            )),
        }
    }
}

/// How figures are checked after a page has run.
#[derive(Debug, Clone)]
pub struct FigureOptions {
    /// Figures are written only under here (the configuration's root).
    pub project_root: PathBuf,
    /// `--update-figures`: write what the examples drew over the figures.
    pub update: bool,
    /// What a stale figure is; with `Ignore` (and no update) figures are not compared.
    pub stale: StaleFigures,
}

/// What became of a figure under `--update-figures`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FigureWrite {
    /// Not asked to write, or nothing to write (it was the same).
    None,
    Written,
    /// Left as it was, and why (a full sentence fragment with the fix).
    Refused {
        reason: String,
    },
}

/// A figure of the page that an example drew.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureCheck {
    /// Index of the example that drew it (the last one that wrote its file name).
    pub example: usize,
    /// The figure's target as written, and its line.
    pub target: String,
    pub line: usize,
    /// The committed file the target names, as shown (relative to the current directory).
    #[serde(serialize_with = "lossy_path")]
    pub path: PathBuf,
    /// The file the example wrote, relative to its working directory.
    pub generated: String,
    /// The committed figure against what the example drew; `None` when there was no
    /// committed file to compare with (`missing`) or it could not be read (`note`).
    pub comparison: Option<Comparison>,
    pub missing: bool,
    /// The example says its output varies from run to run (`NODES_VARY`, `RANDOM_OUTPUT`):
    /// a figure that differs is then not out of date, only redrawn.
    pub varies: bool,
    pub write: FigureWrite,
    /// Why it was not compared, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl FigureCheck {
    /// Out of date: the committed figure is missing, or shows something else and the
    /// example does not say that its drawing varies.
    pub fn is_stale(&self) -> bool {
        self.missing || (self.differs() && !self.varies)
    }

    /// The committed figure shows something else than what the example drew.
    pub fn differs(&self) -> bool {
        matches!(self.comparison, Some(Comparison::Differs { .. }))
    }

    /// The share of pixels that differ, when known.
    pub fn differing_share(&self) -> Option<f64> {
        match self.comparison {
            Some(Comparison::Differs { share }) => share,
            _ if self.missing => Some(1.0),
            _ => None,
        }
    }
}

/// A figure of the page that no example drew: left untouched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndrawnFigure {
    pub target: String,
    pub line: usize,
}

/// What a DOT graph was compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum GraphBase {
    /// The same graph of the page's previous run (kept under the artifacts directory).
    PreviousRun,
    /// The `.dot` committed beside the figure the example drew (same stem).
    Committed {
        #[serde(serialize_with = "lossy_path")]
        path: PathBuf,
    },
}

/// A DOT graph an example wrote that differs from its base, by label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExampleGraphDiff {
    pub example: usize,
    /// The DOT file, relative to the example's working directory.
    pub dot: String,
    pub against: GraphBase,
    pub diff: GraphDiff,
}

/// Everything about a page's figures and graphs after its run: the data every report
/// renders (human, JSON, HTML).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PageFigures {
    /// Whether `--update-figures` wrote what the examples drew.
    pub updated: bool,
    pub figures: Vec<FigureCheck>,
    pub undrawn: Vec<UndrawnFigure>,
    pub graph_diffs: Vec<ExampleGraphDiff>,
}

impl PageFigures {
    /// Nothing to say about this page.
    pub fn is_empty(&self) -> bool {
        self.figures.is_empty() && self.undrawn.is_empty() && self.graph_diffs.is_empty()
    }

    /// The figures and graph diffs of example `index`.
    pub fn of_example(&self, index: usize) -> (Vec<&FigureCheck>, Vec<&ExampleGraphDiff>) {
        (
            self.figures.iter().filter(|f| f.example == index).collect(),
            self.graph_diffs
                .iter()
                .filter(|d| d.example == index)
                .collect(),
        )
    }
}

/// Counts over a run's figures, for the closing message and the exit status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FigureCounts {
    pub stale: usize,
    /// Figures that differ from what examples whose drawing varies drew (not stale).
    pub varying: usize,
    pub written: usize,
    pub unchanged: usize,
    pub refused: usize,
    pub undrawn: usize,
}

/// What a run's figures come to: their counts, and what the run was told about them
/// (`stale-figures`, `--update-figures`). Rendered by every report; the JSON report keeps
/// the rules, so that `merge` comes to the same verdict as the unsharded run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FigureVerdict {
    pub counts: FigureCounts,
    pub stale: StaleFigures,
    pub updated: bool,
}

impl FigureVerdict {
    pub fn of(runs: &[PageRun], stale: StaleFigures, updated: bool) -> FigureVerdict {
        let mut counts = FigureCounts::default();
        for run in runs {
            counts.add(&run.figures);
        }
        FigureVerdict {
            counts,
            stale,
            updated,
        }
    }

    /// Whether the figures fail the run: stale ones with `stale-figures = "error"`, ones
    /// `--update-figures` could not write.
    pub fn fails(&self) -> bool {
        if self.updated {
            self.counts.refused > 0
        } else {
            self.counts.stale > 0 && self.stale == StaleFigures::Error
        }
    }

    /// How a figure out of date is reported (`warning`, `error`), if it is.
    pub fn stale_level(&self) -> Option<&'static str> {
        match self.stale {
            _ if self.updated => None,
            StaleFigures::Warn => Some("warning"),
            StaleFigures::Error => Some("error"),
            StaleFigures::Ignore => None,
        }
    }

    /// What `check` is in the reports that list problems (GitHub annotations, the job
    /// summary): its level (`error`, `warning`) and title; `None` when it is not one.
    pub fn problem(&self, check: &FigureCheck) -> Option<(&'static str, &'static str)> {
        match &check.write {
            FigureWrite::Refused { .. } => Some(("error", "figure not written")),
            FigureWrite::None if check.is_stale() => {
                Some((self.stale_level()?, "figure out of date"))
            }
            _ => None,
        }
    }

    /// The run's closing sentence about figures (`level: text`), when there is one.
    pub fn closing_line(&self) -> Option<String> {
        let counts = &self.counts;
        if self.updated {
            return Some(format!(
                "figures: {} written, {} unchanged, {} not written (see the report), {} not \
                 drawn by any example (left untouched)",
                counts.written, counts.unchanged, counts.refused, counts.undrawn
            ));
        }
        let level = self.stale_level().filter(|_| counts.stale > 0)?;
        let figures = if counts.stale == 1 {
            "1 figure is".to_owned()
        } else {
            format!("{} figures are", counts.stale)
        };
        Some(format!(
            "{level}: {figures} out of date with what the examples draw (see the report); run \
             with --update-figures to rewrite them"
        ))
    }
}

impl FigureCounts {
    pub fn add(&mut self, figures: &PageFigures) {
        for figure in &figures.figures {
            match &figure.write {
                FigureWrite::Written => self.written += 1,
                FigureWrite::Refused { .. } => self.refused += 1,
                FigureWrite::None if figure.is_stale() => self.stale += 1,
                FigureWrite::None if figure.differs() => self.varying += 1,
                FigureWrite::None => self.unchanged += 1,
            }
        }
        self.undrawn += figures.undrawn.len();
    }
}

/// Checks (and with `options.update`, writes) the figures of a page that has run, and
/// compares its DOT graphs with their bases, keeping them for the next run.
pub fn check_page(run: &PageRun, options: &FigureOptions) -> PageFigures {
    let page = &run.page;
    let page_path = Path::new(&page.path);
    let images: Vec<(usize, &Artifact)> = run
        .examples
        .iter()
        .enumerate()
        .flat_map(|(index, example)| example.artifacts.iter().map(move |a| (index, a)))
        .filter(|(_, artifact)| artifact.kind == ArtifactKind::Image && artifact.copied)
        .collect();
    let names: Vec<&str> = images.iter().map(|(_, a)| a.name.as_str()).collect();
    let matches = match_figures(&page.structure, &names);
    let mut result = PageFigures {
        updated: options.update,
        ..PageFigures::default()
    };
    let compared = options.update || options.stale != StaleFigures::Ignore;
    for (reference_index, reference) in figure_references(&page.structure).filter(|_| compared) {
        let Some(found) = matches.iter().find(|m| m.reference == reference_index) else {
            if target_file_name(&reference.target).is_some() {
                result.undrawn.push(UndrawnFigure {
                    target: reference.target.clone(),
                    line: reference.line,
                });
            }
            continue;
        };
        let (example, artifact) = images[found.generated];
        let path = committed_path(page_path, &reference.target, &options.project_root);
        let mut check = check_figure(example, &reference.target, reference.line, &path, artifact);
        let flags = run.examples[example].flags;
        check.varies = flags.contains(Flag::NODES_VARY) || flags.contains(Flag::RANDOM_OUTPUT);
        if options.update {
            check.write = update_figure(&check, artifact, &options.project_root);
        }
        result.figures.push(check);
    }
    result.graph_diffs = graph_diffs(run, &result.figures, options);
    result
}

/// Where the committed figure a target names is.
pub fn committed_path(page: &Path, target: &str, project_root: &Path) -> PathBuf {
    let target = target.split(['?', '#']).next().unwrap_or(target);
    match target.strip_prefix('/') {
        Some(rooted) => sphinx_source_dir(page, project_root).join(rooted),
        None => page.parent().unwrap_or(Path::new("")).join(target),
    }
}

/// The figures and images `page` shows (target as written, line), read from the file;
/// none when it cannot be read.
pub fn figure_targets(page: &Path) -> Vec<(String, usize)> {
    let Ok(read) = read_regular_file(page) else {
        return Vec::new();
    };
    let structure = crate::engine::graph::structure_of(page, &String::from_utf8_lossy(&read.bytes));
    figure_references(&structure)
        .map(|(_, reference)| (reference.target.clone(), reference.line))
        .collect()
}

/// The Sphinx source directory of `page` (its nearest conf.py's, inside the project), else
/// the project root: what a `/`-rooted target is relative to.
fn sphinx_source_dir(page: &Path, project_root: &Path) -> PathBuf {
    let root = fs::canonicalize(project_root).unwrap_or_else(|_| project_root.to_path_buf());
    let page = fs::canonicalize(page).unwrap_or_else(|_| page.to_path_buf());
    super::sphinx_conf::find_conf_py(&page)
        .and_then(|conf| conf.parent().map(Path::to_path_buf))
        .filter(|directory| directory.starts_with(&root))
        .unwrap_or_else(|| project_root.to_path_buf())
}

fn check_figure(
    example: usize,
    target: &str,
    line: usize,
    path: &Path,
    artifact: &Artifact,
) -> FigureCheck {
    let mut check = FigureCheck {
        example,
        target: target.to_owned(),
        line,
        path: PathBuf::from(super::display_path(path)),
        generated: artifact.name.clone(),
        comparison: None,
        missing: false,
        varies: false,
        write: FigureWrite::None,
        note: None,
    };
    let generated = match read_regular_file(&artifact.path) {
        Ok(read) => read.bytes,
        Err(error) => {
            check.note = Some(format!("the drawn image {error}"));
            return check;
        }
    };
    match read_regular_file(path) {
        Ok(committed) => {
            check.comparison = Some(compare_images(
                &committed.bytes,
                &generated,
                &extension_of(path),
            ));
        }
        Err(_) if fs::symlink_metadata(path).is_err() => check.missing = true,
        Err(error) => check.note = Some(format!("the committed figure {error}")),
    }
    check
}

fn extension_of(path: &Path) -> String {
    path.extension()
        .map(|extension| extension.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Writes what the example drew over the figure, unless they are the same.
fn update_figure(check: &FigureCheck, artifact: &Artifact, project_root: &Path) -> FigureWrite {
    if matches!(check.comparison, Some(Comparison::Same { .. })) {
        return FigureWrite::None;
    }
    if let Some(note) = &check.note {
        return FigureWrite::Refused {
            reason: note.clone(),
        };
    }
    let written = read_regular_file(&artifact.path)
        .map_err(|error| format!("the drawn image {error}"))
        .and_then(|drawn| write_inside(&check.path, &drawn.bytes, project_root));
    match written {
        Ok(()) => FigureWrite::Written,
        Err(reason) => FigureWrite::Refused { reason },
    }
}

/// Writes `bytes` to `path` atomically, only inside `project_root`: an existing file is
/// replaced as `--update` replaces a page (link, mode and owner kept), a new one is made
/// through a temporary file in its directory (mode 0644).
pub fn write_inside(path: &Path, bytes: &[u8], project_root: &Path) -> Result<(), String> {
    let resolved = resolve_inside(path, project_root)?;
    // What a write killed here before left (ours: our prefix, our user, its writer gone).
    if let Some(directory) = resolved.parent() {
        super::write::remove_stale_temporaries(directory);
    }
    match read_regular_file(path) {
        Ok(read) => super::write::replace_page(&read, bytes).map_err(|error| error.to_string()),
        Err(_) if fs::symlink_metadata(&resolved).is_err() => write_new(&resolved, bytes),
        Err(error) => Err(error.to_string()),
    }
}

/// `path` with its links resolved, when that is inside `project_root`; its missing
/// directories are created (inside the root).
fn resolve_inside(path: &Path, project_root: &Path) -> Result<PathBuf, String> {
    let root = fs::canonicalize(project_root)
        .map_err(|error| format!("the project root {}: {error}", project_root.display()))?;
    let absolute = std::path::absolute(path).map_err(|error| error.to_string())?;
    // The deepest part that exists is resolved (links followed); the rest is plain names.
    let mut existing = absolute.as_path();
    let mut missing = Vec::new();
    let resolved_existing = loop {
        match fs::canonicalize(existing) {
            Ok(resolved) => break resolved,
            Err(_) => {
                let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
                    return Err(format!("cannot resolve {}", path.display()));
                };
                missing.push(name.to_owned());
                existing = parent;
            }
        }
    };
    let outside = || {
        format!(
            "is outside the project root {} (or reached through a link that leads out of it); \
             not written (point the figure inside the project)",
            root.display()
        )
    };
    if !resolved_existing.starts_with(&root) {
        return Err(outside());
    }
    let mut resolved = resolved_existing;
    for name in missing.iter().rev() {
        if Path::new(name)
            .components()
            .any(|part| !matches!(part, Component::Normal(_)))
        {
            return Err(outside());
        }
        resolved.push(name);
    }
    if let Some(directory) = resolved.parent() {
        fs::create_dir_all(directory)
            .map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
    }
    Ok(resolved)
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let directory = path.parent().unwrap_or(Path::new("."));
    let fail = |error: std::io::Error| format!("cannot be written: {error}");
    let mut temporary = tempfile::Builder::new()
        .prefix(&format!(
            "{}{}.",
            super::write::TEMPORARY_PREFIX,
            std::process::id()
        ))
        .suffix(".tmp")
        .tempfile_in(directory)
        .map_err(fail)?;
    temporary.write_all(bytes).map_err(fail)?;
    let file = temporary.as_file();
    file.set_permissions(fs::Permissions::from_mode(0o644))
        .map_err(fail)?;
    file.sync_all().map_err(fail)?;
    temporary
        .persist_noclobber(path)
        .map_err(|error| fail(error.error))?;
    Ok(())
}

/// Compares each DOT graph the page's examples wrote with its base (the committed `.dot`
/// beside the figure the same example drew, else the previous run's), and keeps this run's
/// graphs for the next run. With `--update-figures`, a committed `.dot` beside a figure
/// that was written is rewritten too, so that the two stay one drawing.
fn graph_diffs(
    run: &PageRun,
    figures: &[FigureCheck],
    options: &FigureOptions,
) -> Vec<ExampleGraphDiff> {
    let mut diffs = Vec::new();
    let mut kept: Vec<(String, PathBuf)> = Vec::new();
    let mut store_dir = None;
    for (index, example) in run.examples.iter().enumerate() {
        let dots: Vec<&Artifact> = example
            .artifacts
            .iter()
            .filter(|a| a.kind == ArtifactKind::Dot && a.copied)
            .collect();
        for dot in &dots {
            let Some(directory) = dot.path.parent() else {
                continue;
            };
            let store = directory.join(PREVIOUS_DOTS_DIR);
            store_dir.get_or_insert(store.clone());
            let Some(key) = graph_key(index, dot, &example.artifacts) else {
                continue;
            };
            let Some(new) = read_graph(&dot.path) else {
                continue;
            };
            kept.push((key.clone(), dot.path.clone()));
            // The committed `.dot` is the graph of the figure the example drew, when it
            // wrote one graph.
            let figure = figures
                .iter()
                .find(|figure| figure.example == index && dots.len() == 1);
            let committed = figure.map(|figure| figure.path.with_extension("dot"));
            let (base, against) = match committed.as_ref().and_then(|path| read_graph(path)) {
                Some(graph) => (
                    Some(graph),
                    GraphBase::Committed {
                        path: committed.clone().unwrap_or_default(),
                    },
                ),
                None => (read_graph(&store.join(&key)), GraphBase::PreviousRun),
            };
            if let (Some(figure), Some(committed), GraphBase::Committed { .. }) =
                (figure, &committed, &against)
                && figure.write == FigureWrite::Written
                && let Ok(read) = read_regular_file(&dot.path)
            {
                // Best effort: the figure itself was written; its .dot follows it.
                let _ = write_inside(committed, &read.bytes, &options.project_root);
            }
            if let Some(base) = base {
                let diff = diff_graphs(&base, &new);
                if !diff.is_empty() {
                    diffs.push(ExampleGraphDiff {
                        example: index,
                        dot: dot.name.clone(),
                        against,
                        diff,
                    });
                }
            }
        }
    }
    if let Some(store) = store_dir {
        keep_graphs(&store, &kept);
    }
    diffs
}

/// The name a DOT graph of example `index` is kept under between runs. objgraph's own
/// `.dot` files have random names: one per example is the graph of the one image it drew
/// (or of the example); several cannot be told apart, and are not kept (`None`).
fn graph_key(index: usize, dot: &Artifact, artifacts: &[Artifact]) -> Option<String> {
    if !is_temporary(dot) {
        let name = flattened(&dot.name);
        return Some(if name.ends_with(".dot") {
            name
        } else {
            format!("{name}.dot")
        });
    }
    let temporary_dots = artifacts
        .iter()
        .filter(|a| a.kind == ArtifactKind::Dot && is_temporary(a))
        .count();
    let images: Vec<&Artifact> = artifacts
        .iter()
        .filter(|a| a.kind == ArtifactKind::Image)
        .collect();
    match (temporary_dots, images.as_slice()) {
        (1, [image]) => Some(format!("{}.dot", flattened(&image.name))),
        (1, _) => Some(format!("example-{}.dot", index + 1)),
        _ => None,
    }
}

/// The graphs example `index` wrote (`artifacts`, copies under the artifacts directory)
/// against those the previous command-line run of the page kept, for the editor's hover.
/// Reads only: the editor's own runs do not replace what the command line kept.
pub fn previous_run_diffs(index: usize, artifacts: &[Artifact]) -> Vec<ExampleGraphDiff> {
    artifacts
        .iter()
        .filter(|a| a.kind == ArtifactKind::Dot && a.copied)
        .filter_map(|dot| {
            let key = graph_key(index, dot, artifacts)?;
            let store = dot.path.parent()?.join(PREVIOUS_DOTS_DIR);
            let diff = diff_graphs(&read_graph(&store.join(key))?, &read_graph(&dot.path)?);
            (!diff.is_empty()).then(|| ExampleGraphDiff {
                example: index,
                dot: dot.name.clone(),
                against: GraphBase::PreviousRun,
                diff,
            })
        })
        .collect()
}

/// objgraph writes the `.dot` behind each image it renders to a temporary file, in the
/// page's TMPDIR.
fn is_temporary(dot: &Artifact) -> bool {
    dot.name.starts_with(&format!("{PAGE_TMPDIR}/"))
}

/// A relative name as one file name.
fn flattened(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The graph in a DOT file, when it is a readable one.
fn read_graph(path: &Path) -> Option<DotGraph> {
    let read = read_regular_file(path).ok()?;
    if read.bytes.len() > MAX_DOT_BYTES {
        return None;
    }
    parse_dot(&String::from_utf8_lossy(&read.bytes)).ok()
}

/// Makes `store` hold exactly this run's graphs: `kept` (name, copy) are copied in and
/// every other `.dot` file there is removed. Best effort: a graph not kept is not compared
/// next time.
fn keep_graphs(store: &Path, kept: &[(String, PathBuf)]) {
    if fs::create_dir_all(store).is_err() {
        return;
    }
    for (name, copy) in kept {
        let Ok(mut temporary) = tempfile::NamedTempFile::new_in(store) else {
            return;
        };
        let copied = fs::File::open(copy)
            .and_then(|mut file| std::io::copy(&mut file, &mut temporary))
            .is_ok();
        if copied {
            let _ = temporary.persist(store.join(name));
        }
    }
    let Ok(entries) = fs::read_dir(store) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let stale = name
            .to_str()
            .is_some_and(|name| name.ends_with(".dot") && !kept.iter().any(|(k, _)| k == name));
        if stale && entry.file_type().is_ok_and(|kind| kind.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn lossy_path<S: serde::Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_figures_settings_parse_with_a_helpful_error() {
        assert_eq!("warn".parse(), Ok(StaleFigures::Warn));
        assert_eq!("error".parse(), Ok(StaleFigures::Error));
        assert_eq!("ignore".parse(), Ok(StaleFigures::Ignore));
        let error = "fail".parse::<StaleFigures>().unwrap_err();
        assert!(error.contains("\"warn\""), "{error}");
    }

    #[test]
    fn targets_are_relative_to_the_page_or_rooted_at_the_source_dir() {
        let root = tempfile::tempdir().unwrap();
        let docs = root.path().join("docs");
        fs::create_dir_all(docs.join("sub")).unwrap();
        let page = docs.join("sub/page.rst");
        fs::write(&page, "").unwrap();
        assert_eq!(
            committed_path(&page, "images/g.png?v=1", root.path()),
            docs.join("sub/images/g.png")
        );
        assert_eq!(
            committed_path(&page, "/images/g.png", root.path()),
            root.path().join("images/g.png")
        );
        fs::write(docs.join("conf.py"), "").unwrap();
        let rooted = committed_path(&page, "/images/g.png", root.path());
        assert!(rooted.ends_with("docs/images/g.png"), "{rooted:?}");
    }

    #[test]
    fn writes_stay_inside_the_project_and_keep_the_mode() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let figure = root.path().join("images/new/g.png");
        write_inside(&figure, b"one", root.path()).unwrap();
        assert_eq!(fs::read(&figure).unwrap(), b"one");
        assert_eq!(
            fs::metadata(&figure).unwrap().permissions().mode() & 0o777,
            0o644
        );
        fs::set_permissions(&figure, fs::Permissions::from_mode(0o640)).unwrap();
        write_inside(&figure, b"two", root.path()).unwrap();
        assert_eq!(fs::read(&figure).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&figure).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let escape = root.path().join("../escape.png");
        assert!(write_inside(&escape, b"x", root.path()).is_err());
        std::os::unix::fs::symlink(outside.path(), root.path().join("link")).unwrap();
        let through_link = root.path().join("link/g.png");
        let error = write_inside(&through_link, b"x", root.path()).unwrap_err();
        assert!(error.contains("outside the project root"), "{error}");
        assert!(!outside.path().join("g.png").exists());
        let left: Vec<_> = fs::read_dir(root.path().join("images/new"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 1, "no temporary left: {left:?}");
    }

    fn artifact(name: &str, kind: ArtifactKind) -> Artifact {
        Artifact {
            path: PathBuf::from(format!("/artifacts/page/L3-{name}")),
            name: name.to_owned(),
            kind,
            size: 1,
            copied: true,
            dot: None,
            note: None,
        }
    }

    #[test]
    fn graphs_are_kept_under_what_they_stand_for() {
        let named = artifact("out/graph.dot", ArtifactKind::Dot);
        assert_eq!(
            graph_key(0, &named, std::slice::from_ref(&named)).as_deref(),
            Some("out_graph.dot")
        );
        let temporary = artifact(".tmp/objgraph-x1y2.dot", ArtifactKind::Dot);
        let image = artifact("sample-graph.png", ArtifactKind::Image);
        let drawn = [temporary.clone(), image.clone()];
        assert_eq!(
            graph_key(4, &temporary, &drawn).as_deref(),
            Some("sample-graph.png.dot")
        );
        assert_eq!(
            graph_key(4, &temporary, std::slice::from_ref(&temporary)).as_deref(),
            Some("example-5.dot")
        );
        let other = artifact(".tmp/objgraph-z9.dot", ArtifactKind::Dot);
        let two = [temporary.clone(), other, image];
        assert_eq!(graph_key(4, &temporary, &two), None, "cannot be told apart");
    }

    #[test]
    fn the_graph_store_holds_one_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join(PREVIOUS_DOTS_DIR);
        let copy = dir.path().join("L3-g.dot");
        fs::write(&copy, "digraph { a }").unwrap();
        fs::create_dir_all(&store).unwrap();
        fs::write(store.join("old.dot"), "digraph { }").unwrap();
        fs::write(store.join("notes.txt"), "kept").unwrap();
        keep_graphs(&store, &[("g.png.dot".to_owned(), copy)]);
        let mut names: Vec<String> = fs::read_dir(&store)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["g.png.dot", "notes.txt"]);
    }
}
