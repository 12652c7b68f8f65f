//! DOT graphs (Graphviz's language) as data: the graphs objgraph's `show_refs`,
//! `show_backrefs` and `show_chain` write, parsed into a petgraph graph and summarised in one
//! line ("4 nodes, 3 edges; roots: list") for reports. Pure: text in, data out; malformed or
//! hostile text gives a [`DotError`], never a panic, a stack overflow or a runaway parse.
//!
//! Parsing is graphviz-rust's (a pest grammar); this module only guards its input and turns
//! its syntax tree into nodes and edges with readable labels. That grammar is narrower than
//! Graphviz's: keywords are lowercase only, a subgraph needs the `subgraph` keyword (no bare
//! `{ a b }`), and an HTML label must end in `>>` (a table or tag, as Graphviz's own output
//! does). objgraph's graphs stay well inside it.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use graphviz_rust::dot_structures::{
    Attribute, Edge as EdgeStmt, EdgeTy, Graph as DotAst, Id, NodeId, Stmt, Vertex,
};
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

/// Largest DOT text summarised. objgraph's graphs are a few kilobytes, a huge one a few
/// hundred; the parse takes about 0.3 s per MiB optimised (ten times that unoptimised).
pub const MAX_DOT_BYTES: usize = 2 * 1024 * 1024;

/// Deepest nesting of `{ }` (subgraphs) accepted. The grammar's parse and the tree walks are
/// recursive, and a failing parse retries each nested subgraph as an edge head, doubling the
/// work per level (ten levels: some 50 ms unoptimised); real graphs nest one or two levels.
pub const MAX_NESTING: usize = 10;

/// Roots (and marked nodes) listed in a summary; the counts cover the rest.
pub const LISTED_NODES: usize = 5;

/// Characters of a label's first line kept in a summary.
const LABEL_CHARS: usize = 40;

/// Why a DOT text has no summary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DotError {
    #[error("the graph is {size} bytes, over the {limit}-byte limit for summaries")]
    TooLarge { size: usize, limit: usize },
    #[error("the graph nests `{{ }}` deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("invalid DOT at {line}:{column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
}

/// A node: its DOT id and its label as Graphviz would show it (escapes resolved; the id
/// when it has no label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotNode {
    pub id: String,
    pub label: String,
    /// objgraph draws the objects a graph starts from in red (`fontcolor=red`).
    pub marked: bool,
}

impl DotNode {
    /// The label's first line, trimmed: objgraph puts the type name there ("list",
    /// "dict") and details ("3 items") below.
    pub fn short_label(&self) -> &str {
        self.label.lines().next().unwrap_or("").trim()
    }
}

/// An edge's label, if it has one (objgraph labels edges with the attribute or key that
/// holds the reference).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DotEdge {
    pub label: Option<String>,
}

/// A parsed DOT graph. An undirected graph's edges point the way they were written.
#[derive(Debug, Clone)]
pub struct DotGraph {
    pub name: Option<String>,
    pub directed: bool,
    pub graph: DiGraph<DotNode, DotEdge>,
}

/// One line's worth of a graph, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DotSummary {
    pub nodes: usize,
    pub edges: usize,
    /// Short labels of the first [`LISTED_NODES`] nodes without incoming edges, in the order
    /// the file names them (for `show_refs`, the objects the graph starts from). Empty for
    /// undirected graphs.
    pub roots: Vec<String>,
    /// All nodes without incoming edges, listed or not.
    pub root_count: usize,
    /// Short labels of the first [`LISTED_NODES`] nodes objgraph marks as the objects it
    /// started from (for `show_backrefs`, these are the graph's sinks, not its roots).
    pub marked: Vec<String>,
    pub marked_count: usize,
}

impl DotSummary {
    /// Summarises a parsed graph.
    pub fn of(dot: &DotGraph) -> DotSummary {
        let graph = &dot.graph;
        let roots: Vec<&DotNode> = if dot.directed {
            graph
                .node_indices()
                .filter(|&index| {
                    graph
                        .neighbors_directed(index, Direction::Incoming)
                        .next()
                        .is_none()
                })
                .map(|index| &graph[index])
                .collect()
        } else {
            Vec::new()
        };
        let marked: Vec<&DotNode> = graph.node_weights().filter(|node| node.marked).collect();
        DotSummary {
            nodes: graph.node_count(),
            edges: graph.edge_count(),
            root_count: roots.len(),
            roots: listed_labels(&roots),
            marked_count: marked.len(),
            marked: listed_labels(&marked),
        }
    }

    /// "4 nodes, 3 edges; roots: list", with "started from: …" when objgraph's marked
    /// nodes are not the roots (as in `show_backrefs`).
    pub fn describe(&self) -> String {
        let mut line = format!(
            "{}, {}",
            count(self.nodes, "node", "nodes"),
            count(self.edges, "edge", "edges")
        );
        if !self.roots.is_empty() {
            line.push_str("; roots: ");
            line.push_str(&listing(&self.roots, self.root_count));
        }
        if !self.marked.is_empty()
            && (self.marked != self.roots || self.marked_count != self.root_count)
        {
            line.push_str("; started from: ");
            line.push_str(&listing(&self.marked, self.marked_count));
        }
        line
    }
}

/// Parses and summarises DOT text in one step.
pub fn summarize_dot(text: &str) -> Result<DotSummary, DotError> {
    parse_dot(text).map(|graph| DotSummary::of(&graph))
}

/// Parses DOT text into a graph. Nodes are numbered in the order the text first names them;
/// a node's attributes accumulate over its statements, later ones winning, as in Graphviz.
pub fn parse_dot(text: &str) -> Result<DotGraph, DotError> {
    if text.len() > MAX_DOT_BYTES {
        return Err(DotError::TooLarge {
            size: text.len(),
            limit: MAX_DOT_BYTES,
        });
    }
    if nesting_depth(text) > MAX_NESTING {
        return Err(DotError::TooDeep { limit: MAX_NESTING });
    }
    let ast = graphviz_rust::parse(text).map_err(|message| syntax_error(&message))?;
    let (id, stmts, directed, strict) = match &ast {
        DotAst::Graph { id, strict, stmts } => (id, stmts, false, *strict),
        DotAst::DiGraph { id, strict, stmts } => (id, stmts, true, *strict),
    };
    let mut builder = Builder {
        graph: DiGraph::new(),
        index_of: HashMap::new(),
        strict,
    };
    builder.add_statements(stmts);
    let name = match id {
        Id::Anonymous(_) => None,
        named => Some(id_text(named)),
    };
    let mut graph = builder.graph;
    for node in graph.node_weights_mut() {
        node.label = resolve_label_escapes(&node.label, &node.id, name.as_deref().unwrap_or(""));
    }
    Ok(DotGraph {
        name,
        directed,
        graph,
    })
}

/// Turns the syntax tree into petgraph nodes and edges. Labels are kept raw (escapes
/// unresolved) until the end, since `\N` needs the node's id and `\G` the graph's name.
struct Builder {
    graph: DiGraph<DotNode, DotEdge>,
    index_of: HashMap<String, NodeIndex>,
    strict: bool,
}

impl Builder {
    fn add_statements(&mut self, stmts: &[Stmt]) {
        for stmt in stmts {
            match stmt {
                Stmt::Node(node) => {
                    let index = self.node(&node.id);
                    self.apply_node_attributes(index, &node.attributes);
                }
                Stmt::Edge(edge) => self.add_edge_statement(edge),
                Stmt::Subgraph(subgraph) => self.add_statements(&subgraph.stmts),
                // Defaults (`node [...]`) and graph attributes do not change what a summary
                // says: objgraph sets only shapes and colours that way.
                Stmt::Attribute(_) | Stmt::GAttribute(_) => {}
            }
        }
    }

    fn node(&mut self, node_id: &NodeId) -> NodeIndex {
        let id = id_text(&node_id.0);
        match self.index_of.entry(id) {
            Entry::Occupied(entry) => *entry.get(),
            Entry::Vacant(entry) => {
                let id = entry.key().clone();
                let index = self.graph.add_node(DotNode {
                    label: String::from("\\N"),
                    id,
                    marked: false,
                });
                *entry.insert(index)
            }
        }
    }

    fn apply_node_attributes(&mut self, index: NodeIndex, attributes: &[Attribute]) {
        for Attribute(key, value) in attributes {
            match id_text(key).as_str() {
                "label" => self.graph[index].label = raw_label(value),
                "fontcolor" => {
                    self.graph[index].marked = id_text(value).eq_ignore_ascii_case("red")
                }
                _ => {}
            }
        }
    }

    /// `a -> b -> c [attrs]` is two edges with the same attributes; a subgraph as an end
    /// (`a -> {b c}`) stands for every node in it.
    fn add_edge_statement(&mut self, edge: &EdgeStmt) {
        let vertices: Vec<&Vertex> = match &edge.ty {
            EdgeTy::Pair(from, to) => vec![from, to],
            EdgeTy::Chain(chain) => chain.iter().collect(),
        };
        let label = edge
            .attributes
            .iter()
            .rev()
            .find_map(|Attribute(key, value)| {
                (id_text(key) == "label").then(|| resolve_label_escapes(&raw_label(value), "", ""))
            });
        let ends: Vec<Vec<NodeIndex>> = vertices
            .into_iter()
            .map(|vertex| self.vertex_nodes(vertex))
            .collect();
        for pair in ends.windows(2) {
            for &from in &pair[0] {
                for &to in &pair[1] {
                    if self.strict && self.graph.find_edge(from, to).is_some() {
                        continue;
                    }
                    self.graph.add_edge(
                        from,
                        to,
                        DotEdge {
                            label: label.clone(),
                        },
                    );
                }
            }
        }
    }

    /// The nodes a vertex stands for; a subgraph's statements are added to the graph too.
    fn vertex_nodes(&mut self, vertex: &Vertex) -> Vec<NodeIndex> {
        match vertex {
            Vertex::N(node_id) => vec![self.node(node_id)],
            Vertex::S(subgraph) => {
                self.add_statements(&subgraph.stmts);
                let mut named = Vec::new();
                collect_named_nodes(&subgraph.stmts, &mut |node_id| named.push(node_id.clone()));
                let mut seen = HashSet::new();
                named
                    .iter()
                    .map(|node_id| self.node(node_id))
                    .filter(|index| seen.insert(*index))
                    .collect()
            }
        }
    }
}

/// Every node id a list of statements names, subgraphs included.
fn collect_named_nodes(stmts: &[Stmt], visit: &mut dyn FnMut(&NodeId)) {
    for stmt in stmts {
        match stmt {
            Stmt::Node(node) => visit(&node.id),
            Stmt::Edge(edge) => {
                let vertices: Vec<&Vertex> = match &edge.ty {
                    EdgeTy::Pair(from, to) => vec![from, to],
                    EdgeTy::Chain(chain) => chain.iter().collect(),
                };
                for vertex in vertices {
                    match vertex {
                        Vertex::N(node_id) => visit(node_id),
                        Vertex::S(subgraph) => collect_named_nodes(&subgraph.stmts, visit),
                    }
                }
            }
            Stmt::Subgraph(subgraph) => collect_named_nodes(&subgraph.stmts, visit),
            Stmt::Attribute(_) | Stmt::GAttribute(_) => {}
        }
    }
}

/// An id's text: quotes removed and `\"` unescaped for quoted ids, the markup for HTML ids.
fn id_text(id: &Id) -> String {
    match id {
        Id::Plain(text) | Id::Anonymous(text) => text.clone(),
        Id::Escaped(quoted) => unquote(quoted),
        Id::Html(html) => strip_angle_brackets(html).to_string(),
    }
}

/// A label before its escapes (`\n`, `\N`, ...) are resolved. HTML labels have no escapes,
/// so their tags are dropped here and any backslashes doubled to survive resolution.
fn raw_label(id: &Id) -> String {
    match id {
        Id::Escaped(quoted) => unquote_keeping_escapes(quoted),
        Id::Html(html) => html_text(strip_angle_brackets(html)).replace('\\', "\\\\"),
        Id::Plain(text) | Id::Anonymous(text) => text.replace('\\', "\\\\"),
    }
}

/// `"a\"b"` → `a"b`: the DOT lexer's only escape is `\"`; a backslash before a newline
/// continues the line.
fn unquote(quoted: &str) -> String {
    let inner = strip_quotes(quoted);
    let mut text = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some('"')) => {
                text.push('"');
                chars.next();
            }
            ('\\', Some('\n')) => {
                chars.next();
            }
            _ => text.push(c),
        }
    }
    text
}

/// Like [`unquote`], but other escapes stay for [`resolve_label_escapes`].
fn unquote_keeping_escapes(quoted: &str) -> String {
    let inner = strip_quotes(quoted);
    let mut text = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => text.push('"'),
            Some('\n') => {}
            Some(other) => {
                text.push('\\');
                text.push(other);
            }
            None => text.push('\\'),
        }
    }
    text
}

fn strip_quotes(quoted: &str) -> &str {
    let inner = quoted.strip_prefix('"').unwrap_or(quoted);
    inner.strip_suffix('"').unwrap_or(inner)
}

fn strip_angle_brackets(html: &str) -> &str {
    let inner = html.trim().strip_prefix('<').unwrap_or(html);
    inner.trim_end().strip_suffix('>').unwrap_or(inner)
}

/// An HTML label's text: tags dropped, `<br/>` as a line break, common entities decoded.
fn html_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after.find('>').map_or(after.len(), |end| end + 1);
        let tag = after[..end].trim_start_matches('<').trim_start();
        if tag
            .get(..2)
            .is_some_and(|name| name.eq_ignore_ascii_case("br"))
        {
            text.push('\n');
        }
        rest = &after[end..];
    }
    text.push_str(rest);
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Graphviz's escString: `\n`, `\l`, `\r` end lines, `\N` is the node's id, `\G` the
/// graph's name, `\\` a backslash; other escapes stand for the character itself.
fn resolve_label_escapes(raw: &str, node_id: &str, graph_name: &str) -> String {
    let mut label = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            label.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'l' | 'r') => label.push('\n'),
            Some('N') => label.push_str(node_id),
            Some('G') => label.push_str(graph_name),
            Some('E' | 'T' | 'H') => {}
            Some(other) => label.push(other),
            None => label.push('\\'),
        }
    }
    label
}

/// The deepest `{` nesting outside quoted strings, HTML strings and comments, read the
/// way the grammar reads them, so that nothing the parser would recurse into is missed.
fn nesting_depth(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => at = end_of_quoted(bytes, at),
            b'<' => at = end_of_html(bytes, at),
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at = find(bytes, at + 2, b"*/").map_or(bytes.len(), |end| end + 2);
            }
            b'/' if bytes.get(at + 1) == Some(&b'/') => at = end_of_line(bytes, at),
            b'#' => at = end_of_line(bytes, at),
            b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
                at += 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                at += 1;
            }
            _ => at += 1,
        }
    }
    deepest
}

/// Index just past the closing quote of the string opening at `start` (the text's end when
/// it is not closed).
fn end_of_quoted(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// The grammar's HTML string ends at the first `>` followed (after whitespace) by `>`.
fn end_of_html(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while let Some(close) = find(bytes, at, b">") {
        let mut next = close + 1;
        while next < bytes.len() && matches!(bytes[next], b' ' | b'\t' | b'\r' | b'\n') {
            next += 1;
        }
        if bytes.get(next) == Some(&b'>') {
            return next + 1;
        }
        at = close + 1;
    }
    bytes.len()
}

fn end_of_line(bytes: &[u8], start: usize) -> usize {
    find(bytes, start, b"\n").map_or(bytes.len(), |end| end + 1)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|position| from + position)
}

/// pest's multi-line message (" --> 3:5", the source line, a caret, "= expected ...") as
/// one line with its position.
fn syntax_error(message: &str) -> DotError {
    let position = message
        .lines()
        .find_map(|line| line.trim_start().strip_prefix("--> "))
        .and_then(|position| position.split_once(':'))
        .and_then(|(line, column)| Some((line.trim().parse().ok()?, column.trim().parse().ok()?)));
    let (line, column) = position.unwrap_or((1, 1));
    let detail = message
        .lines()
        .find_map(|line| line.trim_start().strip_prefix("= "))
        .unwrap_or("not a DOT graph");
    let detail = detail
        .replace("EOI", "end of input")
        .replace("WHITESPACE", "whitespace");
    DotError::Syntax {
        line,
        column,
        message: detail,
    }
}

fn listed_labels(nodes: &[&DotNode]) -> Vec<String> {
    nodes
        .iter()
        .take(LISTED_NODES)
        .map(|node| shortened(node.short_label()))
        .collect()
}

fn shortened(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        return label.to_string();
    }
    let mut short: String = label.chars().take(LABEL_CHARS - 1).collect();
    short.push('…');
    short
}

fn listing(labels: &[String], total: usize) -> String {
    let shown = labels
        .iter()
        .map(|label| {
            if label.is_empty() {
                "(no label)"
            } else {
                label.as_str()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    if total > labels.len() {
        format!("{shown} and {} more", total - labels.len())
    } else {
        shown
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// objgraph 3.7.0's `show_refs([[1, [2]]], filename='x.dot')`.
    const SHOW_REFS: &str = r#"digraph ObjectGraph {
  node[shape=box, style=filled, fillcolor=white];
  o140141414179840[fontcolor=red];
  o140141414179840[label="list\n2 items"];
  o140141414179840[fillcolor="0,0,1"];
  o140141414179840 -> o140141413814336;
  o140141414179840 -> o140141426698408;
  o140141413814336[label="list\n1 items"];
  o140141413814336[fillcolor="0,0,0.766667"];
  o140141413814336 -> o140141426698440;
  o140141426698408[label="int\n1"];
  o140141426698408[fillcolor="0,0,0.766667"];
  o140141426698440[label="int\n2"];
  o140141426698440[fillcolor="0,0,0.533333"];
}
"#;

    #[test]
    fn summarises_objgraph_show_refs() {
        let summary = summarize_dot(SHOW_REFS).unwrap();
        assert_eq!(summary.nodes, 4);
        assert_eq!(summary.edges, 3);
        assert_eq!(summary.roots, ["list"]);
        assert_eq!(summary.marked, ["list"]);
        assert_eq!(summary.describe(), "4 nodes, 3 edges; roots: list");
    }

    #[test]
    fn labels_are_readable_and_attributes_accumulate() {
        let graph = parse_dot(SHOW_REFS).unwrap();
        assert_eq!(graph.name.as_deref(), Some("ObjectGraph"));
        assert!(graph.directed);
        let first = &graph.graph[NodeIndex::new(0)];
        assert_eq!(first.id, "o140141414179840");
        assert_eq!(first.label, "list\n2 items");
        assert_eq!(first.short_label(), "list");
        assert!(first.marked);
        assert!(!graph.graph[NodeIndex::new(1)].marked);
    }

    #[test]
    fn quotes_backslashes_and_escapes_in_labels() {
        let text = r#"digraph { a [label="str\n'say \"hi\" \\ there'"]; b; c [label="\N!"]; a -> b [label="x\"y"]; }"#;
        let graph = parse_dot(text).unwrap();
        assert_eq!(
            graph.graph[NodeIndex::new(0)].label,
            "str\n'say \"hi\" \\ there'"
        );
        assert_eq!(graph.graph[NodeIndex::new(1)].label, "b");
        assert_eq!(graph.graph[NodeIndex::new(2)].label, "c!");
        let edge = graph.graph.edge_weights().next().unwrap();
        assert_eq!(edge.label.as_deref(), Some("x\"y"));
    }

    #[test]
    fn quoted_and_plain_ids_name_the_same_node() {
        let graph = parse_dot(r#"digraph { "a" -> b; a -> "b"; }"#).unwrap();
        assert_eq!(graph.graph.node_count(), 2);
        assert_eq!(graph.graph.edge_count(), 2);
    }

    #[test]
    fn strict_graphs_merge_repeated_edges() {
        let graph = parse_dot("strict digraph { a -> b; a -> b; }").unwrap();
        assert_eq!(graph.graph.edge_count(), 1);
    }

    #[test]
    fn chains_and_subgraph_ends() {
        let summary =
            summarize_dot("digraph { a -> b -> c; a -> subgraph { d e }; subgraph s { f } }")
                .unwrap();
        assert_eq!((summary.nodes, summary.edges), (6, 4));
        assert_eq!(summary.roots, ["a", "f"]);
    }

    #[test]
    fn undirected_graphs_have_no_roots() {
        let summary = summarize_dot("graph { a -- b; b -- c }").unwrap();
        assert_eq!(summary.roots, Vec::<String>::new());
        assert_eq!(summary.describe(), "3 nodes, 2 edges");
    }

    #[test]
    fn html_labels_lose_their_markup() {
        let graph = parse_dot(
            "digraph { a [label=<<table><tr><td>dict<br/>2 items &amp; more</td></tr></table>>]; }",
        )
        .unwrap();
        assert_eq!(graph.graph[NodeIndex::new(0)].label, "dict\n2 items & more");
        for html in ["<<日>>", "<<é>>", "<<b>>", "<<>>"] {
            let text = format!("digraph {{ a [label={html}]; }}");
            assert!(parse_dot(&text).is_ok(), "{text}");
        }
    }

    #[test]
    fn many_roots_are_capped() {
        let text = format!(
            "digraph {{ {} }}",
            (0..8).map(|i| format!("n{i};")).collect::<String>()
        );
        let summary = summarize_dot(&text).unwrap();
        assert_eq!(summary.roots.len(), LISTED_NODES);
        assert_eq!(summary.root_count, 8);
        assert_eq!(
            summary.describe(),
            "8 nodes, 0 edges; roots: n0, n1, n2, n3, n4 and 3 more"
        );
    }

    #[test]
    fn backrefs_name_where_they_started() {
        let text = r#"digraph ObjectGraph {
  o1[fontcolor=red];
  o1[label="list\n2 items"];
  o2 -> o1 [label="a",weight=2];
  o2[label="dict\n2 items"];
}"#;
        assert_eq!(
            summarize_dot(text).unwrap().describe(),
            "2 nodes, 1 edge; roots: dict; started from: list"
        );
    }

    #[test]
    fn long_labels_are_shortened() {
        let long = "x".repeat(100);
        let summary = summarize_dot(&format!("digraph {{ a [label=\"{long}\"] }}")).unwrap();
        assert_eq!(summary.roots[0].chars().count(), LABEL_CHARS);
        assert!(summary.roots[0].ends_with('…'));
    }

    #[test]
    fn syntax_errors_have_a_position_and_one_line() {
        let error = parse_dot("digraph {\n  a -> ;\n}").unwrap_err();
        let DotError::Syntax {
            line,
            column,
            message,
        } = &error
        else {
            panic!("expected a syntax error, got {error:?}");
        };
        assert_eq!((*line, *column), (2, 8));
        assert!(!message.contains('\n'), "{message}");
        assert!(
            error.to_string().starts_with("invalid DOT at 2:8: "),
            "{error}"
        );
    }

    #[test]
    fn not_dot_at_all() {
        for text in [
            "",
            "hello",
            "\u{89}PNG\r\n",
            "digraph {",
            "}}}}",
            "digraph { a -> }",
        ] {
            assert!(parse_dot(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_quickly() {
        let deep = format!(
            "digraph {{ {} x -> {} }}",
            "{ ".repeat(100_000),
            "} ".repeat(99_999)
        );
        assert_eq!(
            parse_dot(&deep).unwrap_err(),
            DotError::TooDeep { limit: MAX_NESTING }
        );
        let started = std::time::Instant::now();
        let failing = format!(
            "digraph {{ {} a -> ; {} }}",
            "subgraph { ".repeat(MAX_NESTING - 1),
            "} ".repeat(MAX_NESTING - 1)
        );
        assert!(parse_dot(&failing).is_err());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn braces_in_strings_and_comments_do_not_count_as_nesting() {
        let braces = "{".repeat(50);
        let text = format!(
            "digraph {{ a [label=\"{braces}\"]; // {braces}\n /* {braces} */ # {braces}\n }}"
        );
        assert_eq!(parse_dot(&text).unwrap().graph.node_count(), 1);
    }

    #[test]
    fn a_quote_inside_html_does_not_hide_braces() {
        let text = format!("digraph {{ a [label=<x\">>]; {} }}", "{ ".repeat(50));
        assert_eq!(
            parse_dot(&text).unwrap_err(),
            DotError::TooDeep { limit: MAX_NESTING }
        );
    }

    #[test]
    fn mutated_graphs_never_panic() {
        let chars: Vec<char> = SHOW_REFS.chars().collect();
        for at in 0..chars.len() {
            let deleted: String = chars
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != at)
                .map(|(_, c)| c)
                .collect();
            let _ = parse_dot(&deleted);
            for inserted in ['{', '}', '"', '\\', '<', '>', '[', ';', '-', '\u{e9}'] {
                let mut text: String = chars[..at].iter().collect();
                text.push(inserted);
                text.extend(&chars[at..]);
                let _ = parse_dot(&text);
            }
        }
    }

    #[test]
    fn too_large_is_refused_before_parsing() {
        let text = format!("digraph {{ {} }}", " ".repeat(MAX_DOT_BYTES));
        assert!(matches!(parse_dot(&text), Err(DotError::TooLarge { .. })));
    }

    #[test]
    fn summaries_serialise() {
        let json = serde_json::to_value(summarize_dot(SHOW_REFS).unwrap()).unwrap();
        assert_eq!(json["nodes"], 4);
        assert_eq!(json["roots"][0], "list");
    }
}
