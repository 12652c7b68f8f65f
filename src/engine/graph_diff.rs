//! What changed between two DOT graphs, by label: the nodes and edges that appeared or
//! disappeared ("the graph grew a node"). Pure: two [`DotGraph`]s in, a [`GraphDiff`] out.
//!
//! objgraph names nodes after object addresses (`o140141414179840`), which change on every
//! run, so nodes are compared by label, not id. Its labels vary too: a container's count
//! (`list\n3 items`), an address in a repr (`<foo object at 0x7f...>`). Labels are therefore
//! compared with what varies masked ([`mask_label`]): every hexadecimal number written `0x…`
//! becomes `0x#` and every other run of digits becomes `#`, so `list\n3 items` and
//! `list\n4 items` are the same node while `list` and `dict` are not. Graphs are compared as
//! multisets of masked labels (two `int\n#` nodes against one is one node disappeared), and
//! edges as multisets of (masked source label, masked target label, masked edge label).
//! Results are sorted by their masked keys, then by label, so the same graphs always give
//! the same diff.

use std::collections::BTreeMap;

use serde::Serialize;

use super::dot::{DotGraph, DotNode};

/// Characters of a label kept when it is shown.
const SHOWN_LABEL_CHARS: usize = 60;

/// An edge that appeared or disappeared, by the labels of its ends.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct EdgeChange {
    pub from: String,
    pub to: String,
    /// The edge's own label (objgraph writes the attribute or key that holds the reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// The nodes and edges of the new graph that the old one lacks (`appeared`) and those of the
/// old graph the new one lacks (`disappeared`), as labels shown on one line each
/// (`list 3 items`): the new graph's labels for what appeared, the old one's for the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct GraphDiff {
    pub nodes_appeared: Vec<String>,
    pub nodes_disappeared: Vec<String>,
    pub edges_appeared: Vec<EdgeChange>,
    pub edges_disappeared: Vec<EdgeChange>,
}

impl GraphDiff {
    /// True when the graphs have the same nodes and edges, up to what [`mask_label`] masks.
    pub fn is_empty(&self) -> bool {
        self.nodes_appeared.is_empty()
            && self.nodes_disappeared.is_empty()
            && self.edges_appeared.is_empty()
            && self.edges_disappeared.is_empty()
    }

    /// One line per kind of change that happened, e.g. `+ 1 node: list 3 items` and
    /// `- 1 edge: dict 2 items -> int 1 [a]`; at most `listed` items each, then "and N more".
    pub fn lines(&self, listed: usize) -> Vec<String> {
        let mut lines = Vec::new();
        let mut add = |sign: char, noun: &str, items: Vec<String>| {
            if items.is_empty() {
                return;
            }
            let count = items.len();
            let mut shown = items
                .into_iter()
                .take(listed)
                .collect::<Vec<_>>()
                .join(", ");
            if count > listed {
                shown.push_str(&format!(" and {} more", count - listed));
            }
            let noun = if count == 1 {
                noun.to_owned()
            } else {
                format!("{noun}s")
            };
            lines.push(format!("{sign} {count} {noun}: {shown}"));
        };
        add('+', "node", self.nodes_appeared.clone());
        add('-', "node", self.nodes_disappeared.clone());
        add(
            '+',
            "edge",
            self.edges_appeared.iter().map(EdgeChange::shown).collect(),
        );
        add(
            '-',
            "edge",
            self.edges_disappeared
                .iter()
                .map(EdgeChange::shown)
                .collect(),
        );
        lines
    }
}

impl EdgeChange {
    /// `from -> to`, with ` [label]` when the edge has one.
    pub fn shown(&self) -> String {
        match &self.label {
            Some(label) => format!("{} -> {} [{label}]", self.from, self.to),
            None => format!("{} -> {}", self.from, self.to),
        }
    }
}

/// The nodes and edges that appeared in `new` or disappeared from `old`, by masked label.
pub fn diff_graphs(old: &DotGraph, new: &DotGraph) -> GraphDiff {
    let (nodes_appeared, nodes_disappeared) = multiset_difference(node_keys(old), node_keys(new));
    let (edges_appeared, edges_disappeared) = multiset_difference(edge_keys(old), edge_keys(new));
    GraphDiff {
        nodes_appeared,
        nodes_disappeared,
        edges_appeared,
        edges_disappeared,
    }
}

/// A label with what varies from run to run masked: `0x` and the hexadecimal digits after
/// it become `0x#`, any other run of ASCII digits becomes `#`.
pub fn mask_label(label: &str) -> String {
    let mut masked = String::with_capacity(label.len());
    let mut chars = label.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '0' && matches!(chars.peek(), Some('x' | 'X')) {
            let mut rest = chars.clone();
            rest.next();
            if rest.peek().is_some_and(char::is_ascii_hexdigit) {
                chars = rest;
                while chars.next_if(char::is_ascii_hexdigit).is_some() {}
                masked.push_str("0x#");
                continue;
            }
        }
        if c.is_ascii_digit() {
            while chars.next_if(char::is_ascii_digit).is_some() {}
            masked.push('#');
            continue;
        }
        masked.push(c);
    }
    masked
}

/// A label on one line, for reports: its lines joined by spaces, shortened.
fn shown_label(label: &str) -> String {
    let joined = label
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let joined = if joined.is_empty() {
        "(no label)".to_owned()
    } else {
        joined
    };
    if joined.chars().count() <= SHOWN_LABEL_CHARS {
        return joined;
    }
    let mut short: String = joined.chars().take(SHOWN_LABEL_CHARS - 1).collect();
    short.push('…');
    short
}

/// Each node's masked label (the key compared) and its label as shown, in file order.
fn node_keys(graph: &DotGraph) -> Vec<(String, String)> {
    graph
        .graph
        .node_weights()
        .map(|node| (mask_label(&node.label), shown_label(&node.label)))
        .collect()
}

/// An edge as compared: its ends' masked labels and its own masked label.
type EdgeKey = (String, String, Option<String>);

/// Each edge's masked ends and label (the key compared) and the edge as shown.
fn edge_keys(graph: &DotGraph) -> Vec<(EdgeKey, EdgeChange)> {
    let label_of = |node: &DotNode| (mask_label(&node.label), shown_label(&node.label));
    graph
        .graph
        .edge_indices()
        .filter_map(|edge| {
            let (from, to) = graph.graph.edge_endpoints(edge)?;
            let (from_key, from_shown) = label_of(&graph.graph[from]);
            let (to_key, to_shown) = label_of(&graph.graph[to]);
            let label = graph.graph[edge].label.as_deref();
            let key = (from_key, to_key, label.map(mask_label));
            let shown = EdgeChange {
                from: from_shown,
                to: to_shown,
                label: label.map(shown_label),
            };
            Some((key, shown))
        })
        .collect()
}

/// What `new` has beyond `old` and what `old` has beyond `new`, counting repeats: for a
/// key seen twice in `old` and three times in `new`, the last of `new`'s three appeared.
/// Sorted by key, then by what is shown.
fn multiset_difference<K: Ord, V: Ord>(old: Vec<(K, V)>, new: Vec<(K, V)>) -> (Vec<V>, Vec<V>) {
    let mut counts: BTreeMap<K, (Vec<V>, Vec<V>)> = BTreeMap::new();
    for (key, value) in old {
        counts.entry(key).or_default().0.push(value);
    }
    for (key, value) in new {
        counts.entry(key).or_default().1.push(value);
    }
    let (mut appeared, mut disappeared) = (Vec::new(), Vec::new());
    for (_, (mut old, mut new)) in counts {
        let common = old.len().min(new.len());
        let mut extra_new = new.split_off(common);
        let mut extra_old = old.split_off(common);
        extra_new.sort();
        extra_old.sort();
        appeared.extend(extra_new);
        disappeared.extend(extra_old);
    }
    (appeared, disappeared)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::dot::parse_dot;

    /// objgraph 3.7.0's `show_refs` of `[1, [2]]`, with its addresses.
    const BEFORE: &str = r#"digraph ObjectGraph {
  node[shape=box, style=filled, fillcolor=white];
  o140141414179840[fontcolor=red];
  o140141414179840[label="list\n2 items"];
  o140141414179840 -> o140141413814336;
  o140141414179840 -> o140141426698408;
  o140141413814336[label="list\n1 items"];
  o140141413814336 -> o140141426698440;
  o140141426698408[label="int\n1"];
  o140141426698440[label="int\n2"];
}
"#;

    /// The same drawing after the list grew a dict, in a run with other addresses.
    const AFTER: &str = r#"digraph ObjectGraph {
  node[shape=box, style=filled, fillcolor=white];
  o94000000000001[fontcolor=red];
  o94000000000001[label="list\n3 items"];
  o94000000000001 -> o94000000000002;
  o94000000000001 -> o94000000000003;
  o94000000000001 -> o94000000000005;
  o94000000000002[label="list\n1 items"];
  o94000000000002 -> o94000000000004;
  o94000000000003[label="int\n1"];
  o94000000000004[label="int\n2"];
  o94000000000005[label="dict\n0 items"];
}
"#;

    fn diff(old: &str, new: &str) -> GraphDiff {
        diff_graphs(&parse_dot(old).unwrap(), &parse_dot(new).unwrap())
    }

    #[test]
    fn the_same_graph_in_another_run_has_no_diff() {
        let other_addresses = BEFORE.replace("o1401414", "o9999");
        assert!(diff(BEFORE, &other_addresses).is_empty());
        let other_counts = BEFORE.replace("list\\n2 items", "list\\n7 items");
        assert!(diff(BEFORE, &other_counts).is_empty());
    }

    #[test]
    fn a_new_node_and_its_edge_appear_by_label() {
        let grown = diff(BEFORE, AFTER);
        assert_eq!(grown.nodes_appeared, ["dict 0 items"]);
        assert!(grown.nodes_disappeared.is_empty());
        assert_eq!(
            grown.edges_appeared,
            [EdgeChange {
                from: "list 3 items".into(),
                to: "dict 0 items".into(),
                label: None
            }]
        );
        assert!(grown.edges_disappeared.is_empty());
        assert_eq!(
            grown.lines(5),
            [
                "+ 1 node: dict 0 items",
                "+ 1 edge: list 3 items -> dict 0 items"
            ]
        );
        let shrunk = diff(AFTER, BEFORE);
        assert_eq!(shrunk.nodes_disappeared, ["dict 0 items"]);
        assert_eq!(shrunk.edges_disappeared.len(), 1);
        assert!(shrunk.nodes_appeared.is_empty());
    }

    #[test]
    fn repeated_labels_count() {
        let two = "digraph { a [label=\"int\\n1\"]; b [label=\"int\\n2\"]; }";
        let three =
            "digraph { a [label=\"int\\n1\"]; b [label=\"int\\n2\"]; c [label=\"int\\n3\"]; }";
        assert_eq!(diff(two, three).nodes_appeared, ["int 3"]);
        assert_eq!(diff(three, two).nodes_disappeared, ["int 3"]);
    }

    #[test]
    fn edge_labels_are_part_of_an_edge() {
        let old = "digraph { a [label=dict]; b [label=list]; a -> b [label=\"x\"]; }";
        let new = "digraph { a [label=dict]; b [label=list]; a -> b [label=\"y\"]; }";
        let changed = diff(old, new);
        assert!(changed.nodes_appeared.is_empty());
        assert_eq!(changed.edges_appeared[0].shown(), "dict -> list [y]");
        assert_eq!(changed.edges_disappeared[0].shown(), "dict -> list [x]");
    }

    #[test]
    fn masking_hides_addresses_and_counts_only() {
        assert_eq!(mask_label("list\n3 items"), "list\n# items");
        assert_eq!(
            mask_label("<Foo object at 0x7f3a2B10>"),
            "<Foo object at 0x#>"
        );
        assert_eq!(mask_label("0x"), "#x");
        assert_eq!(mask_label("0xg1"), "#xg#");
        assert_eq!(mask_label("dict"), "dict");
        assert_eq!(mask_label("[12] int\n5"), "[#] int\n#");
        assert_eq!(mask_label("Ünïcode 42"), "Ünïcode #");
    }

    #[test]
    fn order_is_stable_and_sorted() {
        let old = "digraph { }";
        let new = "digraph { z [label=zeta]; a [label=alpha]; m [label=mu]; }";
        let grown = diff(old, new);
        assert_eq!(grown.nodes_appeared, ["alpha", "mu", "zeta"]);
        assert_eq!(grown.lines(2), ["+ 3 nodes: alpha, mu and 1 more"]);
    }

    #[test]
    fn long_and_empty_labels_are_shown_readably() {
        let long = "x".repeat(200);
        let new = format!("digraph {{ a [label=\"{long}\"]; b [label=\"\"]; }}");
        let grown = diff("digraph { }", &new);
        assert_eq!(grown.nodes_appeared.len(), 2);
        assert!(grown.nodes_appeared.contains(&"(no label)".to_owned()));
        let shown = grown
            .nodes_appeared
            .iter()
            .find(|label| label.starts_with('x'))
            .unwrap();
        assert_eq!(shown.chars().count(), SHOWN_LABEL_CHARS);
    }
}
