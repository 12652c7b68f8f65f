//! The page graph: pages and the pages they include or list in a toctree, built with petgraph.
//!
//! The graph is pure: the caller hands [`PageGraph::build`] a [`PageSource`] that answers,
//! for a resolved path, with the page's [`Structure`] or "missing", and every path is worked
//! out lexically (no symlinks followed, no file system touched). Each page is read at most
//! once, so a cycle of includes ends the walk instead of running forever; cycles and missing
//! targets come back as [`Problem`]s beside the graph.
//!
//! How targets resolve (the rule users see):
//!
//! - a target is relative to the directory of the page that writes it; a target starting
//!   with `/` is relative to the source root given to [`PageGraph::build`], as in Sphinx;
//! - a toctree entry names a document: the entry itself if it already ends in `.rst`,
//!   `.txt` or `.md`, else the first of `entry.rst`, `entry.txt`, `entry.md` that exists;
//! - URLs (`https://...`, `mailto:...`), docutils' standard includes (`<isonum.txt>`) and
//!   toctree glob patterns (`api/*`) are not files to follow and are left out; so are the
//!   entries Sphinx makes itself (`self`, `genindex`, `modindex`, `search`).
//!
//! Severity: a missing include or an include cycle is an error (docutils fails on both); a
//! missing toctree entry, a toctree cycle and a missing image are warnings (Sphinx warns, and
//! objgraph's figures are written by the examples themselves, so they are often missing before
//! a run).

use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use petgraph::Direction;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::Serialize;

use super::page::{PageFormat, Reference, ReferenceKind, Structure};
use super::{markdown, rst};

/// Where the graph learns what files exist and what pages contain.
pub trait PageSource {
    /// The structure of the page at `path`, or `None` when there is no file there.
    fn structure(&self, path: &Path) -> Option<Structure>;

    /// Whether a file (an image, say) exists at `path`. Defaults to asking for its structure.
    fn exists(&self, path: &Path) -> bool {
        self.structure(path).is_some()
    }
}

impl<F> PageSource for F
where
    F: Fn(&Path) -> Option<Structure>,
{
    fn structure(&self, path: &Path) -> Option<Structure> {
        self(path)
    }
}

/// The structure of a file's text, read by its extension: Markdown for `.md` and
/// `.markdown`, reST for anything else (docutils includes any file as reST). For
/// [`PageSource`] implementations that read files.
pub fn structure_of(path: &Path, text: &str) -> Structure {
    match PageFormat::from_path(&path.to_string_lossy()) {
        Some(PageFormat::Markdown) => markdown::structure(text),
        _ => rst::structure(text),
    }
}

/// What a node of the graph is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// A page: a root, an included file or a toctree entry.
    Page,
    /// A figure or image: a leaf.
    Asset,
}

/// A file in the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    /// The path, lexically normalised.
    pub path: PathBuf,
    pub kind: NodeKind,
    /// Whether the file does not exist (kept so that creating it can be noticed).
    pub missing: bool,
}

/// How one file refers to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    Include,
    Toctree,
    /// A figure or image.
    Asset,
}

/// A reference from one file to another, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub kind: EdgeKind,
    /// The target as written in the referring page.
    pub target: String,
    /// 1-based line of the target in the referring page.
    pub line: usize,
    /// Byte range of the target in the referring page.
    #[serde(skip)]
    pub bytes: Range<usize>,
}

/// What a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// A root page given to [`PageGraph::build`] does not exist.
    MissingRoot,
    MissingInclude,
    MissingToctreeEntry,
    MissingAsset,
    /// A page includes itself, directly or through other includes.
    IncludeCycle,
    /// A page's toctree lists, directly or through other toctrees, a page that lists it.
    ToctreeCycle,
}

/// How serious a [`Problem`] is; the front ends decide what to do with each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A missing target or a cycle, reported in the page that writes the reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The page the problem is written in.
    pub page: PathBuf,
    /// 1-based line of the reference in `page`; `None` for a missing root.
    pub line: Option<usize>,
    /// Byte range of the reference's target in `page`; `None` for a missing root.
    #[serde(skip)]
    pub bytes: Option<Range<usize>>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Problem {
    pub fn severity(&self) -> Severity {
        match self.kind {
            ProblemKind::MissingRoot | ProblemKind::MissingInclude | ProblemKind::IncludeCycle => {
                Severity::Error
            }
            ProblemKind::MissingToctreeEntry
            | ProblemKind::MissingAsset
            | ProblemKind::ToctreeCycle => Severity::Warning,
        }
    }
}

/// Pages, what they include or list, and the problems met on the way.
#[derive(Debug, Clone)]
pub struct PageGraph {
    graph: DiGraph<Node, Edge>,
    index: HashMap<PathBuf, NodeIndex>,
    problems: Vec<Problem>,
}

impl PageGraph {
    /// Follows every include, toctree entry, figure and image from `roots`. `source_root` is
    /// where `/`-rooted targets start (Sphinx's source directory).
    pub fn build<P: AsRef<Path>>(
        roots: impl IntoIterator<Item = P>,
        source_root: &Path,
        source: &impl PageSource,
    ) -> PageGraph {
        let mut builder = Builder {
            graph: PageGraph {
                graph: DiGraph::new(),
                index: HashMap::new(),
                problems: Vec::new(),
            },
            source,
            source_root: normalize(source_root),
            structures: HashMap::new(),
            queue: VecDeque::new(),
        };
        for root in roots {
            let root = normalize(root.as_ref());
            let node = builder.page_node(&root);
            if builder.structure(node).is_none() {
                builder.mark_missing(node);
                builder.graph.problems.push(Problem {
                    kind: ProblemKind::MissingRoot,
                    message: format!("page {} does not exist", root.display()),
                    page: root,
                    line: None,
                    bytes: None,
                });
            }
        }
        builder.expand_queued_pages();
        let mut graph = builder.graph;
        graph.report_cycles(EdgeKind::Include);
        graph.report_cycles(EdgeKind::Toctree);
        graph
    }

    /// Missing targets and cycles, in the order found.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Every file in the graph, roots first, then in the order reached.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.graph.node_weights()
    }

    /// The file at `path`, if the graph reached it.
    pub fn node(&self, path: &Path) -> Option<&Node> {
        self.find(path).map(|index| &self.graph[index])
    }

    /// The references `path` makes, in the order written, each with the file it reaches.
    pub fn references_from(&self, path: &Path) -> Vec<(&Edge, &Node)> {
        let Some(node) = self.find(path) else {
            return Vec::new();
        };
        self.edges_in_order(node, Direction::Outgoing)
            .into_iter()
            .map(|(edge, target)| (&self.graph[edge], &self.graph[target]))
            .collect()
    }

    /// The pages that include `path`, directly or through other includes: the pages to run
    /// again when `path` changes. Nearest first; `path` itself is left out.
    pub fn dependents_of(&self, path: &Path) -> Vec<&Path> {
        self.include_closure(path, Direction::Incoming)
    }

    /// The files `path` includes, directly or through other includes. Nearest first.
    pub fn dependencies_of(&self, path: &Path) -> Vec<&Path> {
        self.include_closure(path, Direction::Outgoing)
    }

    /// The petgraph graph itself, for rendering (DOT) and other algorithms.
    pub fn graph(&self) -> &DiGraph<Node, Edge> {
        &self.graph
    }

    fn find(&self, path: &Path) -> Option<NodeIndex> {
        self.index.get(&normalize(path)).copied()
    }

    /// A node's edges in one direction, each with the node at its far end, in the order they
    /// were added (petgraph lists the newest first).
    fn edges_in_order(&self, node: NodeIndex, direction: Direction) -> Vec<(EdgeIndex, NodeIndex)> {
        let mut edges: Vec<(EdgeIndex, NodeIndex)> = self
            .graph
            .edges_directed(node, direction)
            .map(|edge| {
                let far_end = match direction {
                    Direction::Outgoing => edge.target(),
                    Direction::Incoming => edge.source(),
                };
                (edge.id(), far_end)
            })
            .collect();
        edges.sort();
        edges
    }

    fn include_closure(&self, path: &Path, direction: Direction) -> Vec<&Path> {
        let Some(start) = self.find(path) else {
            return Vec::new();
        };
        let mut seen = HashSet::from([start]);
        let mut queue = VecDeque::from([start]);
        let mut found = Vec::new();
        while let Some(node) = queue.pop_front() {
            for (edge, next) in self.edges_in_order(node, direction) {
                if self.graph[edge].kind == EdgeKind::Include && seen.insert(next) {
                    found.push(self.graph[next].path.as_path());
                    queue.push_back(next);
                }
            }
        }
        found
    }

    /// Reports every cycle of `kind` edges once, at the reference that closes it in a
    /// depth-first walk from the roots (iterative, so deep include chains cannot overflow).
    fn report_cycles(&mut self, kind: EdgeKind) {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Unvisited,
            OnPath,
            Done,
        }
        let mut marks = vec![Mark::Unvisited; self.graph.node_count()];
        let mut problems = Vec::new();
        for start in self.graph.node_indices() {
            if marks.get(start.index()) != Some(&Mark::Unvisited) {
                continue;
            }
            // Each frame: a node and the edges still to walk from it.
            let mut path: Vec<(NodeIndex, std::vec::IntoIter<(EdgeIndex, NodeIndex)>)> = Vec::new();
            marks[start.index()] = Mark::OnPath;
            path.push((start, self.edges_of_kind(start, kind)));
            while let Some((node, edges)) = path.last_mut() {
                let node = *node;
                let Some((edge, next)) = edges.next() else {
                    marks[node.index()] = Mark::Done;
                    path.pop();
                    continue;
                };
                match marks[next.index()] {
                    Mark::Unvisited => {
                        marks[next.index()] = Mark::OnPath;
                        path.push((next, self.edges_of_kind(next, kind)));
                    }
                    Mark::OnPath => {
                        let cycle_start = path
                            .iter()
                            .position(|(on_path, _)| *on_path == next)
                            .unwrap_or(0);
                        let cycle: Vec<NodeIndex> = path
                            .get(cycle_start..)
                            .unwrap_or_default()
                            .iter()
                            .map(|(on_path, _)| *on_path)
                            .chain([next])
                            .collect();
                        problems.push(self.cycle_problem(kind, node, edge, &cycle));
                    }
                    Mark::Done => {}
                }
            }
        }
        self.problems.extend(problems);
    }

    fn edges_of_kind(
        &self,
        node: NodeIndex,
        kind: EdgeKind,
    ) -> std::vec::IntoIter<(EdgeIndex, NodeIndex)> {
        self.edges_in_order(node, Direction::Outgoing)
            .into_iter()
            .filter(|&(edge, _)| self.graph[edge].kind == kind)
            .collect::<Vec<_>>()
            .into_iter()
    }

    fn cycle_problem(
        &self,
        kind: EdgeKind,
        page: NodeIndex,
        closing: EdgeIndex,
        cycle: &[NodeIndex],
    ) -> Problem {
        let edge = &self.graph[closing];
        let page = &self.graph[page].path;
        let names: Vec<String> = cycle
            .iter()
            .map(|&node| self.graph[node].path.display().to_string())
            .collect();
        let chain = names.join(" -> ");
        let (problem_kind, message) = if kind == EdgeKind::Include {
            (
                ProblemKind::IncludeCycle,
                format!(
                    "include cycle: {chain}; docutils would include these files forever, \
                     remove one of the includes"
                ),
            )
        } else {
            (
                ProblemKind::ToctreeCycle,
                format!(
                    "toctree cycle: {chain}; Sphinx ignores the entry that closes the cycle, \
                     remove it from this toctree"
                ),
            )
        };
        Problem {
            kind: problem_kind,
            page: page.clone(),
            line: Some(edge.line),
            bytes: Some(edge.bytes.clone()),
            message,
        }
    }
}

/// The state of one [`PageGraph::build`].
struct Builder<'s, S> {
    graph: PageGraph,
    source: &'s S,
    source_root: PathBuf,
    /// Each file's structure, asked of the source once (`None`: missing).
    structures: HashMap<PathBuf, Option<Structure>>,
    /// Pages reached but not yet followed.
    queue: VecDeque<NodeIndex>,
}

impl<S: PageSource> Builder<'_, S> {
    /// The node for the page at `path`, added (and queued to be followed) when new.
    fn page_node(&mut self, path: &Path) -> NodeIndex {
        match self.graph.index.get(path) {
            Some(&node) => {
                let weight = &mut self.graph.graph[node];
                if weight.kind == NodeKind::Asset {
                    // Included as a page after being shown as an image: follow it after all.
                    weight.kind = NodeKind::Page;
                    self.queue.push_back(node);
                }
                node
            }
            None => {
                let node = self.add_node(path, NodeKind::Page);
                self.queue.push_back(node);
                node
            }
        }
    }

    fn add_node(&mut self, path: &Path, kind: NodeKind) -> NodeIndex {
        let node = self.graph.graph.add_node(Node {
            path: path.to_owned(),
            kind,
            missing: false,
        });
        self.graph.index.insert(path.to_owned(), node);
        node
    }

    fn mark_missing(&mut self, node: NodeIndex) {
        self.graph.graph[node].missing = true;
    }

    /// The structure of the file at `path`, asked of the source once.
    fn lookup(&mut self, path: &Path) -> Option<&Structure> {
        let source = self.source;
        self.structures
            .entry(path.to_owned())
            .or_insert_with(|| source.structure(path))
            .as_ref()
    }

    fn structure(&mut self, node: NodeIndex) -> Option<&Structure> {
        let path = self.graph.graph[node].path.clone();
        self.lookup(&path)
    }

    fn exists(&self, path: &Path) -> bool {
        match self.structures.get(path) {
            Some(structure) => structure.is_some(),
            None => self.source.exists(path),
        }
    }

    fn expand_queued_pages(&mut self) {
        let mut followed = HashSet::new();
        while let Some(page) = self.queue.pop_front() {
            if !followed.insert(page) {
                continue;
            }
            let references = match self.structure(page) {
                Some(structure) => structure.references.clone(),
                None => continue,
            };
            for reference in &references {
                self.follow(page, reference);
            }
        }
    }

    fn follow(&mut self, page: NodeIndex, reference: &Reference) {
        let page_path = self.graph.graph[page].path.clone();
        let edge = |kind| Edge {
            kind,
            target: reference.target.clone(),
            line: reference.line,
            bytes: reference.bytes.clone(),
        };
        match reference.kind {
            ReferenceKind::Include => {
                let Some(path) = resolve(&page_path, &reference.target, &self.source_root) else {
                    return;
                };
                let node = self.page_node(&path);
                self.graph
                    .graph
                    .add_edge(page, node, edge(EdgeKind::Include));
                if self.structure(node).is_none() {
                    self.mark_missing(node);
                    self.problem(
                        ProblemKind::MissingInclude,
                        &page_path,
                        reference,
                        format!(
                            "included file {} does not exist; include paths are relative to \
                             the including page's directory (or to the source root when they \
                             start with /)",
                            path.display()
                        ),
                    );
                }
            }
            ReferenceKind::Toctree => {
                if SPHINX_TOCTREE_ENTRIES.contains(&reference.target.as_str()) {
                    return;
                }
                let candidates =
                    toctree_candidates(&page_path, &reference.target, &self.source_root);
                if candidates.is_empty() {
                    return;
                }
                let found = candidates
                    .iter()
                    .find(|candidate| self.lookup(candidate).is_some());
                match found {
                    Some(path) => {
                        let node = self.page_node(path);
                        self.graph
                            .graph
                            .add_edge(page, node, edge(EdgeKind::Toctree));
                    }
                    None => {
                        let tried: Vec<String> = candidates
                            .iter()
                            .map(|candidate| candidate.display().to_string())
                            .collect();
                        self.problem(
                            ProblemKind::MissingToctreeEntry,
                            &page_path,
                            reference,
                            format!(
                                "toctree entry {:?} names no page (tried {}); entries are \
                                 relative to this page's directory, without extension",
                                reference.target,
                                tried.join(", ")
                            ),
                        );
                    }
                }
            }
            ReferenceKind::Figure | ReferenceKind::Image => {
                let Some(path) = resolve(&page_path, &reference.target, &self.source_root) else {
                    return;
                };
                let exists = self.exists(&path);
                let node = match self.graph.index.get(&path) {
                    Some(&node) => node,
                    None => self.add_node(&path, NodeKind::Asset),
                };
                self.graph.graph.add_edge(page, node, edge(EdgeKind::Asset));
                if !exists {
                    self.mark_missing(node);
                    self.problem(
                        ProblemKind::MissingAsset,
                        &page_path,
                        reference,
                        format!(
                            "image {} does not exist (yet: an example may write it); image \
                             paths are relative to the page's directory",
                            path.display()
                        ),
                    );
                }
            }
        }
    }

    fn problem(&mut self, kind: ProblemKind, page: &Path, reference: &Reference, message: String) {
        self.graph.problems.push(Problem {
            kind,
            page: page.to_owned(),
            line: Some(reference.line),
            bytes: Some(reference.bytes.clone()),
            message,
        });
    }
}

/// The file a target written in `page` names, lexically normalised; `None` for targets that
/// are not files (URLs, docutils' `<standard>` includes, empty targets).
pub fn resolve(page: &Path, target: &str, source_root: &Path) -> Option<PathBuf> {
    let target = target.trim();
    if target.is_empty() || is_url(target) || (target.starts_with('<') && target.ends_with('>')) {
        return None;
    }
    let joined = match target.strip_prefix('/') {
        Some(rooted) => source_root.join(rooted.trim_start_matches('/')),
        None => page.parent().unwrap_or(Path::new("")).join(target),
    };
    Some(normalize(&joined))
}

/// Toctree entries that are no file: the page itself and the pages Sphinx generates.
const SPHINX_TOCTREE_ENTRIES: [&str; 4] = ["self", "genindex", "modindex", "search"];

/// The files a toctree entry may name, in the order tried (see the module documentation).
/// Empty for entries that are not files (URLs, glob patterns).
pub fn toctree_candidates(page: &Path, entry: &str, source_root: &Path) -> Vec<PathBuf> {
    if entry.contains(['*', '?', '[']) {
        return Vec::new();
    }
    let Some(base) = resolve(page, entry, source_root) else {
        return Vec::new();
    };
    let has_page_extension = base
        .extension()
        .is_some_and(|extension| ["rst", "txt", "md"].iter().any(|known| extension == *known));
    let with_suffix = ["rst", "txt", "md"].into_iter().map(|suffix| {
        let mut name = base.clone().into_os_string();
        name.push(".");
        name.push(suffix);
        PathBuf::from(name)
    });
    has_page_extension
        .then(|| base.clone())
        .into_iter()
        .chain(with_suffix)
        .collect()
}

/// `scheme:` (two or more characters, so that `C:` stays a drive) or `//host`.
fn is_url(target: &str) -> bool {
    if target.starts_with("//") {
        return true;
    }
    let Some((scheme, _)) = target.split_once(':') else {
        return false;
    };
    scheme.len() >= 2
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
}

/// Removes `.` and resolves `..` against the components before it, without asking the file
/// system (so `a/link/..` is `a` even if `link` is a symbolic link).
pub fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match normal.components().next_back() {
                Some(Component::Normal(_)) => {
                    normal.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => normal.push(".."),
            },
            other => normal.push(other.as_os_str()),
        }
    }
    if normal.as_os_str().is_empty() {
        normal.push(".");
    }
    normal
}
