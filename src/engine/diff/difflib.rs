//! A port of the parts of CPython's `difflib` that doctest's REPORT_UDIFF, REPORT_CDIFF and
//! REPORT_NDIFF use: `SequenceMatcher` (matching blocks, opcodes, grouped opcodes, ratios),
//! `context_diff`'s body and `Differ` with `IS_CHARACTER_JUNK`.
//!
//! Ported step by step, heuristics included (the longest matching block first; in sequences of
//! 200 items or more, items making up more than 1% of the second are not anchors), so that the
//! same input gives the same diff, byte for byte, as CPython 3.11.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::Hash;

use crate::engine::pystr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag {
    Equal,
    Replace,
    Delete,
    Insert,
}

/// `(tag, i1, i2, j1, j2)`: `a[i1..i2]` becomes `b[j1..j2]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Opcode {
    pub tag: Tag,
    pub i1: usize,
    pub i2: usize,
    pub j1: usize,
    pub j2: usize,
}

/// `SequenceMatcher.get_grouped_opcodes(n)`: changes with up to `n` lines of context, split
/// where more than `2n` equal lines separate them.
pub(super) fn group_opcodes(mut codes: Vec<Opcode>, n: usize) -> Vec<Vec<Opcode>> {
    if codes.is_empty() {
        codes.push(Opcode {
            tag: Tag::Equal,
            i1: 0,
            i2: 1,
            j1: 0,
            j2: 1,
        });
    }
    if let Some(first) = codes.first_mut().filter(|c| c.tag == Tag::Equal) {
        first.i1 = first.i1.max(first.i2.saturating_sub(n));
        first.j1 = first.j1.max(first.j2.saturating_sub(n));
    }
    if let Some(last) = codes.last_mut().filter(|c| c.tag == Tag::Equal) {
        last.i2 = last.i2.min(last.i1 + n);
        last.j2 = last.j2.min(last.j1 + n);
    }
    let mut groups = Vec::new();
    let mut group = Vec::new();
    for mut code in codes {
        if code.tag == Tag::Equal && code.i2 - code.i1 > 2 * n {
            group.push(Opcode {
                i2: code.i2.min(code.i1 + n),
                j2: code.j2.min(code.j1 + n),
                ..code
            });
            groups.push(std::mem::take(&mut group));
            code.i1 = code.i1.max(code.i2.saturating_sub(n));
            code.j1 = code.j1.max(code.j2.saturating_sub(n));
        }
        group.push(code);
    }
    let only_equal = group.len() == 1 && group[0].tag == Tag::Equal;
    if !group.is_empty() && !only_equal {
        groups.push(group);
    }
    groups
}

/// `difflib.context_diff(a, b, n=context)` without its two header lines.
pub(super) fn context_diff_body(a: &[&str], b: &[&str], context: usize) -> String {
    let codes = opcodes(a, b);
    let prefix = |tag| match tag {
        Tag::Insert => "+ ",
        Tag::Delete => "- ",
        Tag::Replace => "! ",
        Tag::Equal => "  ",
    };
    let mut out = String::new();
    for group in group_opcodes(codes, context) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        out.push_str("***************\n");
        let _ = writeln!(
            out,
            "*** {} ****",
            context_range(first.i1, last.i2 - first.i1)
        );
        if group
            .iter()
            .any(|c| matches!(c.tag, Tag::Replace | Tag::Delete))
        {
            for code in group.iter().filter(|c| c.tag != Tag::Insert) {
                for line in &a[code.i1..code.i2] {
                    out.push_str(prefix(code.tag));
                    out.push_str(line);
                }
            }
        }
        let _ = writeln!(
            out,
            "--- {} ----",
            context_range(first.j1, last.j2 - first.j1)
        );
        if group
            .iter()
            .any(|c| matches!(c.tag, Tag::Replace | Tag::Insert))
        {
            for code in group.iter().filter(|c| c.tag != Tag::Delete) {
                for line in &b[code.j1..code.j2] {
                    out.push_str(prefix(code.tag));
                    out.push_str(line);
                }
            }
        }
    }
    out
}

/// `_format_range_context`: `first,last` (1-based), one number for one line or none.
fn context_range(start: usize, len: usize) -> String {
    match len {
        0 => format!("{start}"),
        1 => format!("{}", start + 1),
        _ => format!("{},{}", start + 1, start + len),
    }
}

/// `SequenceMatcher(None, a, b).get_opcodes()`.
pub(super) fn opcodes<T: Eq + Hash>(a: &[T], b: &[T]) -> Vec<Opcode> {
    Matcher::new(a, &BIndex::new(b, None)).opcodes()
}

// A port of difflib's SequenceMatcher (no isjunk for lines; IS_CHARACTER_JUNK for
// characters; autojunk on, as doctest leaves it).

/// The second sequence, indexed: `SequenceMatcher.set_seq2` and `__chain_b`.
struct BIndex<'s, T> {
    b: &'s [T],
    /// Where each item occurs in b, junk and popular items left out.
    b2j: HashMap<&'s T, Vec<usize>>,
    junk: HashSet<&'s T>,
}

impl<'s, T: Eq + Hash> BIndex<'s, T> {
    fn new(b: &'s [T], is_junk: Option<fn(&T) -> bool>) -> Self {
        let mut b2j: HashMap<&T, Vec<usize>> = HashMap::new();
        for (j, item) in b.iter().enumerate() {
            b2j.entry(item).or_default().push(j);
        }
        let mut junk = HashSet::new();
        if let Some(is_junk) = is_junk {
            junk.extend(b2j.keys().copied().filter(|item| is_junk(item)));
            b2j.retain(|item, _| !junk.contains(item));
        }
        // Items that make up more than 1% of a long b are not anchors.
        if b.len() >= 200 {
            let popular = b.len() / 100 + 1;
            b2j.retain(|_, positions| positions.len() <= popular);
        }
        BIndex { b, b2j, junk }
    }
}

/// A first sequence against an indexed second one.
struct Matcher<'s, 'i, T> {
    a: &'s [T],
    index: &'i BIndex<'s, T>,
}

impl<'s, 'i, T: Eq + Hash> Matcher<'s, 'i, T> {
    fn new(a: &'s [T], index: &'i BIndex<'s, T>) -> Self {
        Matcher { a, index }
    }

    /// `find_longest_match`: the longest junk-free matching block in `a[alo..ahi]` and
    /// `b[blo..bhi]` (earliest in a, then in b), extended by junk on both ends.
    fn find_longest_match(&self, alo: usize, ahi: usize, blo: usize, bhi: usize) -> [usize; 3] {
        let (a, b) = (self.a, self.index.b);
        let is_junk = |item: &T| self.index.junk.contains(item);
        let (mut best_i, mut best_j, mut best_size) = (alo, blo, 0);
        let mut j2len: HashMap<usize, usize> = HashMap::new();
        for (i, item) in a.iter().enumerate().take(ahi).skip(alo) {
            let mut new_j2len = HashMap::new();
            for &j in self.index.b2j.get(item).map_or(&[][..], Vec::as_slice) {
                if j < blo {
                    continue;
                }
                if j >= bhi {
                    break;
                }
                let k = j
                    .checked_sub(1)
                    .and_then(|previous| j2len.get(&previous))
                    .copied()
                    .unwrap_or(0)
                    + 1;
                new_j2len.insert(j, k);
                if k > best_size {
                    (best_i, best_j, best_size) = (i + 1 - k, j + 1 - k, k);
                }
            }
            j2len = new_j2len;
        }
        for junk_pass in [false, true] {
            while best_i > alo
                && best_j > blo
                && is_junk(&b[best_j - 1]) == junk_pass
                && a[best_i - 1] == b[best_j - 1]
            {
                (best_i, best_j, best_size) = (best_i - 1, best_j - 1, best_size + 1);
            }
            while best_i + best_size < ahi
                && best_j + best_size < bhi
                && is_junk(&b[best_j + best_size]) == junk_pass
                && a[best_i + best_size] == b[best_j + best_size]
            {
                best_size += 1;
            }
        }
        [best_i, best_j, best_size]
    }

    /// `get_matching_blocks`: `[i, j, size]` triples, adjacent ones joined, ending with
    /// `[len(a), len(b), 0]`.
    fn matching_blocks(&self) -> Vec<[usize; 3]> {
        let (la, lb) = (self.a.len(), self.index.b.len());
        let mut queue = vec![(0, la, 0, lb)];
        let mut blocks = Vec::new();
        while let Some((alo, ahi, blo, bhi)) = queue.pop() {
            let [i, j, k] = self.find_longest_match(alo, ahi, blo, bhi);
            if k == 0 {
                continue;
            }
            blocks.push([i, j, k]);
            if alo < i && blo < j {
                queue.push((alo, i, blo, j));
            }
            if i + k < ahi && j + k < bhi {
                queue.push((i + k, ahi, j + k, bhi));
            }
        }
        blocks.sort_unstable();
        let mut joined: Vec<[usize; 3]> = Vec::with_capacity(blocks.len() + 1);
        for [i, j, k] in blocks {
            match joined.last_mut() {
                Some(last) if last[0] + last[2] == i && last[1] + last[2] == j => last[2] += k,
                _ => joined.push([i, j, k]),
            }
        }
        joined.push([la, lb, 0]);
        joined
    }

    fn opcodes(&self) -> Vec<Opcode> {
        let (mut i, mut j) = (0, 0);
        let mut codes = Vec::new();
        for [ai, bj, size] in self.matching_blocks() {
            let tag = match (i < ai, j < bj) {
                (true, true) => Some(Tag::Replace),
                (true, false) => Some(Tag::Delete),
                (false, true) => Some(Tag::Insert),
                (false, false) => None,
            };
            if let Some(tag) = tag {
                codes.push(Opcode {
                    tag,
                    i1: i,
                    i2: ai,
                    j1: j,
                    j2: bj,
                });
            }
            (i, j) = (ai + size, bj + size);
            if size > 0 {
                codes.push(Opcode {
                    tag: Tag::Equal,
                    i1: ai,
                    i2: i,
                    j1: bj,
                    j2: j,
                });
            }
        }
        codes
    }

    fn total_len(&self) -> usize {
        self.a.len() + self.index.b.len()
    }

    fn ratio(&self) -> f64 {
        let matches = self.matching_blocks().iter().map(|block| block[2]).sum();
        ratio(matches, self.total_len())
    }

    /// An upper bound on [`Matcher::ratio`]: items in common, ignoring order.
    fn quick_ratio(&self) -> f64 {
        let mut available: HashMap<&T, isize> = HashMap::new();
        for item in self.index.b {
            *available.entry(item).or_default() += 1;
        }
        let mut matches = 0;
        for item in self.a {
            let count = available.entry(item).or_default();
            if *count > 0 {
                matches += 1;
            }
            *count -= 1;
        }
        ratio(matches, self.total_len())
    }

    fn real_quick_ratio(&self) -> f64 {
        ratio(self.a.len().min(self.index.b.len()), self.total_len())
    }
}

/// `_calculate_ratio`, with the same floating-point operations.
fn ratio(matches: usize, length: usize) -> f64 {
    if length == 0 {
        1.0
    } else {
        2.0 * matches as f64 / length as f64
    }
}

// ---------------------------------------------------------------------------------------------
// A port of difflib's Differ, as doctest uses it: `Differ(charjunk=IS_CHARACTER_JUNK)`.

fn is_character_junk(c: &char) -> bool {
    matches!(c, ' ' | '\t')
}

/// What is left to write, in order: `_fancy_replace` recurses on both sides of its
/// synchronisation point; a stack keeps deep outputs off the call stack.
enum Pending {
    Replace(usize, usize, usize, usize),
    Text(String),
}

/// `''.join(Differ(charjunk=IS_CHARACTER_JUNK).compare(a, b))`.
pub(super) fn ndiff(a: &[&str], b: &[&str]) -> String {
    let mut out = String::new();
    for code in opcodes(a, b) {
        match code.tag {
            Tag::Replace => fancy_replace(a, b, (code.i1, code.i2, code.j1, code.j2), &mut out),
            Tag::Delete => dump(&mut out, '-', &a[code.i1..code.i2]),
            Tag::Insert => dump(&mut out, '+', &b[code.j1..code.j2]),
            Tag::Equal => dump(&mut out, ' ', &a[code.i1..code.i2]),
        }
    }
    out
}

fn dump(out: &mut String, tag: char, lines: &[&str]) {
    for line in lines {
        out.push(tag);
        out.push(' ');
        out.push_str(line);
    }
}

/// `_fancy_replace` and `_fancy_helper`: pair the most similar lines and mark their
/// differences with `?` lines; replace the rest plainly.
fn fancy_replace(a: &[&str], b: &[&str], block: (usize, usize, usize, usize), out: &mut String) {
    let mut pending = vec![Pending::Replace(block.0, block.1, block.2, block.3)];
    while let Some(next) = pending.pop() {
        let (alo, ahi, blo, bhi) = match next {
            Pending::Text(text) => {
                out.push_str(&text);
                continue;
            }
            Pending::Replace(alo, ahi, blo, bhi) => (alo, ahi, blo, bhi),
        };
        match (alo < ahi, blo < bhi) {
            (true, true) => {}
            (true, false) => {
                dump(out, '-', &a[alo..ahi]);
                continue;
            }
            (false, true) => {
                dump(out, '+', &b[blo..bhi]);
                continue;
            }
            (false, false) => continue,
        }
        let Some((best_i, best_j, identical)) = synch_point(a, b, (alo, ahi, blo, bhi)) else {
            plain_replace(out, &a[alo..ahi], &b[blo..bhi]);
            continue;
        };
        let middle = if identical {
            format!("  {}", a[best_i])
        } else {
            marked_pair(a[best_i], b[best_j])
        };
        pending.push(Pending::Replace(best_i + 1, ahi, best_j + 1, bhi));
        pending.push(Pending::Text(middle));
        pending.push(Pending::Replace(alo, best_i, blo, best_j));
    }
}

/// The pair of lines `_fancy_replace` synchronises on: the most similar pair with a ratio
/// of 0.75 or more, else the first identical pair (`true`), else none.
fn synch_point(
    a: &[&str],
    b: &[&str],
    (alo, ahi, blo, bhi): (usize, usize, usize, usize),
) -> Option<(usize, usize, bool)> {
    let mut best_ratio = 0.74;
    let mut best = None;
    let mut first_equal = None;
    let a_chars: Vec<Vec<char>> = a[alo..ahi].iter().map(|l| l.chars().collect()).collect();
    for (j, b_line) in b.iter().enumerate().take(bhi).skip(blo) {
        let b_chars: Vec<char> = b_line.chars().collect();
        let index = BIndex::new(&b_chars, Some(is_character_junk));
        for (i, a_line) in a.iter().enumerate().take(ahi).skip(alo) {
            if a_line == b_line {
                first_equal.get_or_insert((i, j));
                continue;
            }
            let matcher = Matcher::new(&a_chars[i - alo], &index);
            if matcher.real_quick_ratio() > best_ratio
                && matcher.quick_ratio() > best_ratio
                && matcher.ratio() > best_ratio
            {
                best_ratio = matcher.ratio();
                best = Some((i, j, false));
            }
        }
    }
    if best_ratio < 0.75 {
        first_equal.map(|(i, j)| (i, j, true))
    } else {
        best
    }
}

fn plain_replace(out: &mut String, a: &[&str], b: &[&str]) {
    if b.len() < a.len() {
        dump(out, '+', b);
        dump(out, '-', a);
    } else {
        dump(out, '-', a);
        dump(out, '+', b);
    }
}

/// Two similar lines with `?` lines marking what differs (`_qformat`).
fn marked_pair(a_line: &str, b_line: &str) -> String {
    let a_chars: Vec<char> = a_line.chars().collect();
    let b_chars: Vec<char> = b_line.chars().collect();
    let index = BIndex::new(&b_chars, Some(is_character_junk));
    let (mut a_tags, mut b_tags) = (String::new(), String::new());
    for code in Matcher::new(&a_chars, &index).opcodes() {
        let (a_len, b_len) = (code.i2 - code.i1, code.j2 - code.j1);
        let (a_mark, b_mark) = match code.tag {
            Tag::Replace => ('^', '^'),
            Tag::Delete => ('-', '+'),
            Tag::Insert => ('-', '+'),
            Tag::Equal => (' ', ' '),
        };
        a_tags.extend(std::iter::repeat_n(a_mark, a_len));
        b_tags.extend(std::iter::repeat_n(b_mark, b_len));
    }
    let mut out = String::new();
    for (sign, line, tags) in [('-', a_line, a_tags), ('+', b_line, b_tags)] {
        let _ = write!(out, "{sign} {line}");
        let tags = keep_original_whitespace(line, &tags);
        let tags = tags.trim_end_matches(pystr::is_space);
        if !tags.is_empty() {
            let _ = writeln!(out, "? {tags}");
        }
    }
    out
}

/// `_keep_original_ws`: under an unchanged whitespace character, that character (so tabs
/// keep the marks aligned).
fn keep_original_whitespace(line: &str, tags: &str) -> String {
    line.chars()
        .zip(tags.chars())
        .map(|(c, tag)| {
            if tag == ' ' && pystr::is_space(c) {
                c
            } else {
                tag
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(tag: Tag, i1: usize, i2: usize, j1: usize, j2: usize) -> Opcode {
        Opcode {
            tag,
            i1,
            i2,
            j1,
            j2,
        }
    }

    #[test]
    fn opcodes_match_the_docstring() {
        let a: Vec<char> = "qabxcd".chars().collect();
        let b: Vec<char> = "abycdf".chars().collect();
        assert_eq!(
            opcodes(&a, &b),
            [
                code(Tag::Delete, 0, 1, 0, 0),
                code(Tag::Equal, 1, 3, 0, 2),
                code(Tag::Replace, 3, 4, 2, 3),
                code(Tag::Equal, 4, 6, 3, 5),
                code(Tag::Insert, 6, 6, 5, 6),
            ]
        );
    }

    #[test]
    fn grouped_opcodes_match_the_docstring() {
        let a: Vec<String> = (1..40).map(|i| i.to_string()).collect();
        let mut b = a.clone();
        b.insert(8, "i".to_owned());
        b[20].push('x');
        b.drain(23..28);
        b[30].push('y');
        let groups = group_opcodes(opcodes(&a, &b), 3);
        assert_eq!(
            groups,
            [
                vec![
                    code(Tag::Equal, 5, 8, 5, 8),
                    code(Tag::Insert, 8, 8, 8, 9),
                    code(Tag::Equal, 8, 11, 9, 12)
                ],
                vec![
                    code(Tag::Equal, 16, 19, 17, 20),
                    code(Tag::Replace, 19, 20, 20, 21),
                    code(Tag::Equal, 20, 22, 21, 23),
                    code(Tag::Delete, 22, 27, 23, 23),
                    code(Tag::Equal, 27, 30, 23, 26)
                ],
                vec![
                    code(Tag::Equal, 31, 34, 27, 30),
                    code(Tag::Replace, 34, 35, 30, 31),
                    code(Tag::Equal, 35, 38, 31, 34)
                ],
            ]
        );
    }

    #[test]
    fn ratios_match_the_docstring() {
        let a: Vec<char> = "abcd".chars().collect();
        let b: Vec<char> = "bcde".chars().collect();
        let index = BIndex::new(&b, None);
        let matcher = Matcher::new(&a, &index);
        assert_eq!(matcher.ratio(), 0.75);
        assert_eq!(matcher.quick_ratio(), 0.75);
        assert_eq!(matcher.real_quick_ratio(), 1.0);
    }

    #[test]
    fn ndiff_marks_characters_like_difflib() {
        assert_eq!(
            ndiff(
                &["one\n", "two\n", "three\n"],
                &["ore\n", "tree\n", "emu\n"]
            ),
            "- one\n?  ^\n+ ore\n?  ^\n- two\n- three\n?  -\n+ tree\n+ emu\n"
        );
        assert_eq!(
            marked_pair("\tabcDefghiJkl\n", "\tabcdefGhijkl\n"),
            "- \tabcDefghiJkl\n? \t   ^  ^  ^\n+ \tabcdefGhijkl\n? \t   ^  ^  ^\n"
        );
    }
}
