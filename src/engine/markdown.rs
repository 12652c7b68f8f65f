//! Markdown pages: examples inside Python-flavoured fenced code blocks, found with
//! pulldown-cmark; each block is parsed as a docstring and mapped back to page lines.
//!
//! Which blocks hold examples (the rule users see):
//!
//! - a fenced block (```` ``` ```` or `~~~`, at any indentation CommonMark allows, inside list
//!   items and blockquotes too) whose info string's first word is one of
//!   [`DOCTEST_LANGUAGES`], compared without regard to ASCII case (```` ```Python ```` is
//!   Python to every renderer, so it is to us). The first word ends at whitespace, `{` or
//!   `,`, so ```` ```python title="x" ```` and ```` ```python{1,3} ```` are Python blocks;
//! - a Pandoc attribute block whose first class is such a language (```` ```{.python
//!   .numberLines} ````);
//! - a fence with no info string at all whose content (its first line that is not blank)
//!   starts with `>>>`, as pytest reads such pages;
//! - a MyST directive fence ```` ```{doctest} ````, or ```` ```{code-block} python ```` (also
//!   `{code}` and `{sourcecode}`) with such a language as argument. The directive's options,
//!   written as `:name: value` lines or as a `---` YAML block at the top of the content, are
//!   not source. `:options: +ELLIPSIS` applies its flags to every example of the block, as
//!   Sphinx's doctest extension does (an example's own directives win); the other options
//!   (`:hide:`, `:skipif:`, `:pyversion:`) are read past and have no effect. The same
//!   directives written as MyST colon fences (`:::{doctest}` … `:::`) are read too
//!   (`markdown/colon.rs`).
//!
//! Nothing else runs: a `>>>` in a paragraph, an indented code block, an HTML comment or a
//! ```` ```bash ```` block is text, and [`untested_prompts`] warns about those a reader would
//! take for examples (`markdown/untested.rs`). Image targets are URLs: their `%XX` escapes are decoded. A fence that is never closed is still read (CommonMark runs
//! it to the end of the page or of its list item or blockquote) and reported as a
//! [`ParseErrorKind::Structure`] error at the opening fence, whatever its language: an
//! unclosed fence silently swallows every example after it.
//!
//! Content lines are slices of the page, so examples' lines and byte ranges point into the
//! page. Container prefixes (`> `, list indentation) are not content, but an example's byte
//! ranges cover its lines whole, prefixes included (as a text page's ranges include the
//! indentation); error columns are moved right by the prefix so that they still count
//! characters of the line as written. A tab
//! that CommonMark splits between the container and the content loses its leftover columns.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use super::doctest::{self, DoctestLine, DoctestText, Parsed, split_universal_lines};
use super::flags::{Flag, FlagRegistry};
use super::page::{
    Example, PageWarning, ParseError, ParseErrorKind, Reference, ReferenceKind, Section, Structure,
};
use super::rst;

mod colon;
mod images;
mod untested;

use images::{image_target_bytes, percent_decoded};

/// Info-string languages whose blocks hold examples (Pygments' names for Python and its
/// console, and `doctest`).
pub const DOCTEST_LANGUAGES: &[&str] = &[
    "pycon",
    "python-console",
    "python",
    "py",
    "python3",
    "py3",
    "doctest",
];

/// MyST directives whose argument is a language, as in ```` ```{code-block} python ````.
const CODE_DIRECTIVES: &[&str] = &["code-block", "code", "sourcecode"];

/// Finds the examples of a Markdown page: each Python-flavoured fenced block is parsed as one
/// docstring; errors point at page lines.
pub fn parse(text: &str, name: &str, flags: &FlagRegistry) -> Parsed {
    let page = PageLines::new(text);
    let mut parsed = Parsed::default();
    for block in Blocks::read(text, &page).all() {
        if !block.closed {
            parsed.errors.push(unclosed_fence_error(&page, &block));
        }
        let info = Info::parse(&block.info);
        if block.holds_examples(&info) {
            parse_block(&block, &info, &page, name, flags, &mut parsed);
        }
    }
    parsed
}

/// A MyST directive fence (```` ```{name} argument ```` or `:::{name} argument`), for
/// readers that interpret the directives themselves (the Sphinx profile).
#[derive(Debug, Clone)]
pub(crate) struct DirectiveFence<'t> {
    pub name: String,
    pub argument: String,
    /// 1-based line and column of the opening fence.
    pub line: usize,
    pub column: usize,
    /// The content lines, container prefixes removed, as slices of the page.
    pub content: Vec<DoctestLine<'t>>,
}

/// The page's MyST directive fences in page order, and the errors of fences never closed.
pub(crate) fn directive_fences(text: &str) -> (Vec<DirectiveFence<'_>>, Vec<ParseError>) {
    let page = PageLines::new(text);
    let mut fences = Vec::new();
    let mut errors = Vec::new();
    for block in Blocks::read(text, &page).all() {
        if !block.closed {
            errors.push(unclosed_fence_error(&page, &block));
        }
        let info = Info::parse(&block.info);
        if let Some(name) = info.directive {
            fences.push(DirectiveFence {
                name: name.to_owned(),
                argument: info.argument.to_owned(),
                line: block.opening_line + 1,
                column: page.column_of(block.fence_at),
                content: block.content.clone(),
            });
        }
    }
    (fences, errors)
}

/// Warnings for the `>>>` lines of the page that [`parse`] does not read (see
/// `markdown/untested.rs`).
pub fn untested_prompts(text: &str) -> Vec<PageWarning> {
    let page = PageLines::new(text);
    untested::warnings(&page, &Blocks::read(text, &page))
}

/// Headings (level = heading level), image targets and MyST `{include}`, `{figure}`,
/// `{image}` and `{toctree}` directives of a Markdown page, for outlines and the page graph.
pub fn structure(text: &str) -> Structure {
    let page = PageLines::new(text);
    let blocks = Blocks::read(text, &page);
    // A `:::{doctest}` block's lines are code, not headings (its `---` options would be a
    // heading's underline) nor images.
    let commonmark = blocks.commonmark_text(text);
    let mut structure = Structure::default();
    let mut heading: Option<(usize, usize, String)> = None;
    // The index of the image whose text (its alt) is being read.
    let mut image: Option<usize> = None;
    for (event, range) in Parser::new_ext(&commonmark, markdown_options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some((level as usize, page.line_number(range.start), String::new()));
            }
            Event::Text(piece) | Event::Code(piece) => {
                if let Some((_, _, title)) = heading.as_mut() {
                    title.push_str(&piece);
                }
                if let Some(reference) = image.and_then(|at| structure.references.get_mut(at)) {
                    reference
                        .alt
                        .get_or_insert_with(String::new)
                        .push_str(&piece);
                }
            }
            Event::End(TagEnd::Image) => image = None,
            Event::SoftBreak | Event::HardBreak => {
                if let Some((_, _, title)) = heading.as_mut() {
                    title.push(' ');
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, line, title)) = heading.take() {
                    structure.sections.push(Section {
                        title: title.trim().to_owned(),
                        line,
                        level,
                    });
                }
            }
            Event::Start(Tag::Image { dest_url, .. }) if !dest_url.is_empty() => {
                let bytes = image_target_bytes(text, range, &dest_url);
                structure.references.push(Reference {
                    kind: ReferenceKind::Image,
                    target: percent_decoded(&dest_url),
                    line: page.line_number(bytes.start),
                    bytes,
                    start_after: None,
                    end_before: None,
                    alt: None,
                });
                image = Some(structure.references.len() - 1);
            }
            _ => {}
        }
    }
    for block in blocks.all() {
        structure
            .references
            .extend(directive_references(text, &page, &block));
    }
    structure
        .references
        .sort_by_key(|reference| reference.bytes.start);
    structure
}

/// The CommonMark extensions our pages use. Front matter must be recognised, or its closing
/// `---` would turn its last line into a setext heading.
fn markdown_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_PLUSES_DELIMITED_METADATA_BLOCKS
        | Options::ENABLE_GFM
}

/// The page split at universal newlines, to map byte offsets to lines.
struct PageLines<'t> {
    lines: Vec<DoctestLine<'t>>,
}

impl<'t> PageLines<'t> {
    fn new(text: &'t str) -> Self {
        PageLines {
            lines: split_universal_lines(text, 0, 1),
        }
    }

    /// Index (0-based) of the line holding byte `offset`.
    fn index_of(&self, offset: usize) -> usize {
        self.lines
            .partition_point(|line| line.start <= offset)
            .saturating_sub(1)
    }

    fn line_number(&self, offset: usize) -> usize {
        self.index_of(offset) + 1
    }

    fn get(&self, index: usize) -> Option<&DoctestLine<'t>> {
        self.lines.get(index)
    }

    /// Byte offset where line `index`'s text ends (its line end excluded).
    fn text_end(&self, index: usize) -> Option<usize> {
        self.get(index).map(|line| line.start + line.text.len())
    }

    /// 1-based column, in characters of its line, of byte `offset`.
    fn column_of(&self, offset: usize) -> usize {
        self.get(self.index_of(offset))
            .and_then(|line| line.text.get(..offset.checked_sub(line.start)?))
            .map_or(1, |before| before.chars().count() + 1)
    }

    /// Characters between the start of a content line's page line and the content, to move
    /// doctest's columns (counted in the content) to columns of the line as written.
    fn prefix_columns(&self, content: &DoctestLine<'_>) -> usize {
        self.get(content.line.saturating_sub(1))
            .and_then(|line| line.text.get(..content.start.checked_sub(line.start)?))
            .map_or(0, |prefix| prefix.chars().count())
    }
}

/// A fenced code block as written in the page.
#[derive(Clone)]
struct FencedBlock<'t> {
    /// The info string, as pulldown-cmark decoded it.
    info: String,
    /// Byte offset of the opening fence's first fence character.
    fence_at: usize,
    /// 0-based index of the opening fence's line.
    opening_line: usize,
    /// The content lines, container prefixes removed, as slices of the page.
    content: Vec<DoctestLine<'t>>,
    /// Whether a closing fence ends the block.
    closed: bool,
    /// Whether the unclosed block runs to the end of the page rather than of its container.
    reaches_page_end: bool,
    /// Byte offset just past the block's last line (the closing fence, when there is one).
    end: usize,
    /// The opening fence's character and length.
    fence: (char, usize),
}

/// The blocks of a page whose lines are not prose: fenced code blocks (```` ``` ````, `~~~`
/// and MyST's `:::`), indented code blocks, and HTML and front-matter blocks.
struct Blocks<'t> {
    /// ```` ``` ```` and `~~~` fences, in order.
    fenced: Vec<FencedBlock<'t>>,
    /// MyST `:::` fences, in order.
    colon: Vec<FencedBlock<'t>>,
    /// Byte ranges of indented code blocks.
    indented: Vec<Range<usize>>,
    /// Byte ranges of HTML blocks and front matter, where nothing is an example.
    opaque: Vec<Range<usize>>,
    /// Byte ranges of the colon fences whose content is code, not Markdown.
    literal: Vec<Range<usize>>,
}

/// `text` with every byte of `ranges` but line ends replaced by a space: the same offsets
/// and lines, and blank lines where the ranges were (they start and end at line starts, so
/// no character is cut).
fn blanked(text: &str, ranges: &[Range<usize>]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for range in ranges {
        for byte in bytes.get_mut(range.clone()).unwrap_or_default() {
            if !matches!(*byte, b'\n' | b'\r') {
                *byte = b' ';
            }
        }
    }
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned())
}

/// A code block being read: its info string (`None` when indented), its range so far and its
/// text events' ranges.
type OpenBlock = (Option<String>, Range<usize>, Vec<Range<usize>>);

impl<'t> Blocks<'t> {
    /// Reads the page's blocks. pulldown-cmark knows nothing of colon fences, so once they
    /// are found, the page is read again with the content of those that hold examples
    /// blanked: output such as ```` ``` ```` in a `:::{doctest}` must not open a fence that
    /// swallows the rest of the page.
    fn read(text: &'t str, page: &PageLines<'t>) -> Self {
        let first = Blocks::read_commonmark(text, text, page);
        let colon = colon::blocks(text, page, |offset| first.takes(offset));
        let literal: Vec<Range<usize>> = colon
            .iter()
            .filter(|block| Info::parse(&block.info).holds_examples())
            .map(FencedBlock::bytes)
            .collect();
        let mut blocks = if literal.is_empty() {
            first
        } else {
            Blocks::read_commonmark(&blanked(text, &literal), text, page)
        };
        blocks.colon = colon;
        blocks.literal = literal;
        blocks
    }

    /// The CommonMark blocks of `parsed` (the page, or the page with some ranges blanked),
    /// whose lines are sliced from `text`.
    fn read_commonmark(parsed: &str, text: &'t str, page: &PageLines<'t>) -> Self {
        let mut fenced = Vec::new();
        let mut indented = Vec::new();
        let mut opaque = Vec::new();
        let mut open: Option<OpenBlock> = None;
        for (event, range) in Parser::new_ext(parsed, markdown_options()).into_offset_iter() {
            match event {
                Event::Start(Tag::CodeBlock(kind)) => {
                    let info = match kind {
                        CodeBlockKind::Fenced(info) => Some(info.into_string()),
                        CodeBlockKind::Indented => None,
                    };
                    open = Some((info, range, Vec::new()));
                }
                Event::Text(_) => {
                    if let Some((_, _, pieces)) = open.as_mut() {
                        pieces.push(range);
                    }
                }
                Event::End(TagEnd::CodeBlock) => match open.take() {
                    Some((Some(info), block_range, pieces)) => {
                        fenced.push(FencedBlock::new(text, page, info, block_range, &pieces));
                    }
                    Some((None, block_range, _)) => indented.push(block_range),
                    None => {}
                },
                Event::Start(Tag::HtmlBlock | Tag::MetadataBlock(_)) => opaque.push(range),
                _ => {}
            }
        }
        Blocks {
            fenced,
            colon: Vec::new(),
            indented,
            opaque,
            literal: Vec::new(),
        }
    }

    /// Whether byte `offset` is inside a code, HTML or front-matter block.
    fn takes(&self, offset: usize) -> bool {
        self.fenced
            .iter()
            .map(FencedBlock::bytes)
            .chain(self.indented.iter().chain(&self.opaque).cloned())
            .any(|range| range.contains(&offset))
    }

    /// The page as CommonMark should read it: colon fences that hold examples blanked.
    fn commonmark_text<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        if self.literal.is_empty() {
            std::borrow::Cow::Borrowed(text)
        } else {
            std::borrow::Cow::Owned(blanked(text, &self.literal))
        }
    }

    /// Every fenced block, of either kind, in page order.
    fn all(self) -> Vec<FencedBlock<'t>> {
        let mut all = self.fenced;
        all.extend(self.colon);
        all.sort_by_key(|block| block.fence_at);
        all
    }
}

impl<'t> FencedBlock<'t> {
    /// Rebuilds the block's lines from pulldown-cmark's ranges: `block` spans the opening
    /// fence to the closing one (or the last content line), `pieces` are the content's text
    /// events. A content line starts where its first text event does; a line without one is
    /// blank content.
    fn new(
        text: &'t str,
        page: &PageLines<'t>,
        info: String,
        block: Range<usize>,
        pieces: &[Range<usize>],
    ) -> Self {
        let fence_at = block.start
            + text.get(block.start..).map_or(0, |rest| {
                rest.len() - rest.trim_start_matches([' ', '\t']).len()
            });
        let opening_line = page.index_of(fence_at);
        let last_line = page
            .index_of(block.end.saturating_sub(1).max(block.start))
            .max(opening_line);
        let mut content_starts: Vec<Option<usize>> = vec![None; last_line - opening_line];
        for piece in pieces {
            let first = page.index_of(piece.start);
            let last = page.index_of(piece.end.saturating_sub(1).max(piece.start));
            for index in first.max(opening_line + 1)..=last.min(last_line) {
                let line_start = page.get(index).map_or(piece.start, |line| line.start);
                let start = piece.start.max(line_start);
                if let Some(slot) = content_starts.get_mut(index - opening_line - 1) {
                    *slot = Some(slot.map_or(start, |known| known.min(start)));
                }
            }
        }
        let fence = opening_fence(text, fence_at);
        let closed = last_line > opening_line
            && content_starts.last().is_some_and(Option::is_none)
            && page
                .get(last_line)
                .is_some_and(|line| is_closing_fence(line.text, fence));
        let content_end = if closed { last_line } else { last_line + 1 };
        let content = (opening_line + 1..content_end)
            .filter_map(|index| {
                let line = page.get(index)?;
                let text_end = page.text_end(index)?;
                let start = content_starts
                    .get(index - opening_line - 1)
                    .copied()
                    .flatten()
                    .unwrap_or(text_end)
                    .min(text_end);
                Some(DoctestLine {
                    text: text.get(start..text_end)?,
                    line: line.line,
                    start,
                    next: line.next,
                })
            })
            .collect();
        let reaches_page_end = text
            .get(block.end..)
            .is_some_and(|rest| rest.trim().is_empty());
        FencedBlock {
            info,
            fence_at,
            opening_line,
            content,
            closed,
            reaches_page_end,
            end: block.end,
            fence,
        }
    }

    /// The page bytes from the opening fence to the end of the block.
    fn bytes(&self) -> Range<usize> {
        self.fence_at..self.end
    }

    /// Whether the block's examples run: a Python-flavoured tag (see the module's rules), or
    /// no tag at all and content that starts with `>>>`.
    fn holds_examples(&self, info: &Info<'_>) -> bool {
        info.holds_examples() || (self.info.trim().is_empty() && self.starts_with_prompt())
    }

    /// Whether this is a MyST `:::` fence.
    fn fence_at_colon(&self) -> bool {
        self.fence_char() == ':'
    }

    fn fence_char(&self) -> char {
        self.fence.0
    }

    /// The opening fence as written (```` ``` ````, `~~~~`, `:::`).
    fn fence_text(&self) -> String {
        std::iter::repeat_n(self.fence.0, self.fence.1.max(3)).collect()
    }

    /// Whether the first line of content that is not blank starts with `>>>`.
    fn starts_with_prompt(&self) -> bool {
        self.content
            .iter()
            .find(|line| !line.text.trim().is_empty())
            .is_some_and(|line| line.text.starts_with(">>>"))
    }
}

/// The opening fence's character and length.
fn opening_fence(text: &str, fence_at: usize) -> (char, usize) {
    let rest = text.get(fence_at..).unwrap_or("");
    let fence_char = if rest.starts_with('~') { '~' } else { '`' };
    let length = rest.chars().take_while(|&c| c == fence_char).count();
    (fence_char, length)
}

/// Whether a page line (container prefix included) is a closing fence for `fence`: only
/// the fence character, at least as many as opened the block, then blanks.
fn is_closing_fence(line: &str, (fence_char, length): (char, usize)) -> bool {
    let rest = line.trim_start_matches([' ', '\t', '>']);
    let run = rest.chars().take_while(|&c| c == fence_char).count();
    let after = rest.get(run * fence_char.len_utf8()..).unwrap_or("x");
    run >= length.max(3) && after.trim().is_empty()
}

fn unclosed_fence_error(page: &PageLines<'_>, block: &FencedBlock<'_>) -> ParseError {
    let fence = block.fence_text();
    let column = page.column_of(block.fence_at);
    let runs_to = if block.reaches_page_end {
        "the end of the page"
    } else {
        "the end of its list item or blockquote"
    };
    ParseError {
        line: block.opening_line + 1,
        column,
        kind: ParseErrorKind::Structure,
        message: format!(
            "fenced code block is never closed, so everything up to {runs_to} is code; \
             end the block with a line holding just {fence}, indented like the opening fence"
        ),
    }
}

/// What an info string says a fenced block is.
struct Info<'i> {
    /// The MyST directive name of a ```` ```{name} ```` fence.
    directive: Option<&'i str>,
    /// The language, or the directive's first argument word.
    word: &'i str,
    /// The directive's whole argument (for `{include} path` and friends).
    argument: &'i str,
}

impl<'i> Info<'i> {
    fn parse(info: &'i str) -> Self {
        let info = info.trim();
        if let Some(inside) = info.strip_prefix('{')
            && let Some((attributes, after)) = inside.split_once('}')
        {
            let argument = after.trim();
            if is_pandoc_attributes(attributes) {
                let language = attributes
                    .split_whitespace()
                    .find_map(|token| token.strip_prefix('.'))
                    .unwrap_or("");
                return Info {
                    directive: None,
                    word: language,
                    argument,
                };
            }
            return Info {
                directive: Some(attributes.trim()),
                word: first_word(argument),
                argument,
            };
        }
        Info {
            directive: None,
            word: first_word(info),
            argument: "",
        }
    }

    fn holds_examples(&self) -> bool {
        let is_language = |word: &str| {
            DOCTEST_LANGUAGES
                .iter()
                .any(|language| language.eq_ignore_ascii_case(word))
        };
        match self.directive {
            None => is_language(self.word),
            Some(name) if name.eq_ignore_ascii_case("doctest") => true,
            Some(name) => {
                CODE_DIRECTIVES
                    .iter()
                    .any(|code| code.eq_ignore_ascii_case(name))
                    && is_language(self.word)
            }
        }
    }

    fn is_directive(&self, name: &str) -> bool {
        self.directive
            .is_some_and(|directive| directive.eq_ignore_ascii_case(name))
    }
}

/// `{.python #id key=value}` is Pandoc's attribute syntax; `{doctest}` is a MyST directive.
fn is_pandoc_attributes(attributes: &str) -> bool {
    attributes
        .split_whitespace()
        .any(|token| token.starts_with(['.', '#']) || token.contains('='))
}

fn first_word(info: &str) -> &str {
    info.split(|c: char| c.is_whitespace() || c == '{' || c == ',')
        .next()
        .unwrap_or("")
}

/// One MyST directive option: `:name: value` or `name: value` in a YAML block.
struct DirectiveOption<'t> {
    name: &'t str,
    value: &'t str,
    /// The 1-based page line the option is written on.
    line: usize,
    /// Byte offset of `value` in the page.
    value_at: usize,
}

impl<'t> DirectiveOption<'t> {
    /// The option `name: value` (either spelling, `value` a slice of `line.text`).
    fn new(line: &DoctestLine<'t>, name: &'t str, value: &'t str) -> Self {
        let value = value.trim();
        DirectiveOption {
            name: name.trim(),
            value,
            line: line.line,
            value_at: line.start + offset_in(line.text, value),
        }
    }
}

/// Byte offset of `part` inside `whole`, of which it is a slice.
fn offset_in(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize)
        .saturating_sub(whole.as_ptr() as usize)
        .min(whole.len())
}

/// The directive options at the top of a MyST fence's content, and how many content lines
/// they take.
fn directive_options<'t>(content: &[DoctestLine<'t>]) -> (usize, Vec<DirectiveOption<'t>>) {
    let is_yaml_fence = |line: &DoctestLine<'_>| line.text.trim_end() == "---";
    if content.first().is_some_and(is_yaml_fence) {
        let closing = content.iter().skip(1).position(is_yaml_fence);
        if let Some(closing) = closing {
            let options = content
                .get(1..=closing)
                .unwrap_or_default()
                .iter()
                .filter(|line| !line.text.starts_with([' ', '\t']))
                .filter_map(|line| {
                    let (name, value) = line.text.split_once(':')?;
                    Some(DirectiveOption::new(line, name, value))
                })
                .collect();
            return (closing + 2, options);
        }
    }
    let options: Vec<DirectiveOption<'t>> = content
        .iter()
        .map_while(|line| {
            let (name, value) = line.text.trim_start().strip_prefix(':')?.split_once(':')?;
            Some(DirectiveOption::new(line, name, value))
        })
        .collect();
    (options.len(), options)
}

/// Parses one block's examples into `parsed`, with the block's directive options applied.
fn parse_block(
    block: &FencedBlock<'_>,
    info: &Info<'_>,
    page: &PageLines<'_>,
    name: &str,
    flags: &FlagRegistry,
    parsed: &mut Parsed,
) {
    let (skipped, options) = if info.directive.is_some() {
        directive_options(&block.content)
    } else {
        (0, Vec::new())
    };
    let lines = block.content.get(skipped..).unwrap_or_default().to_vec();
    let text = DoctestText { lines };
    let mut block_parsed = doctest::parse(&text, name, flags);
    let block_flags = block_flags(&options, page, flags, &mut parsed.errors);
    for example in &mut block_parsed.examples {
        apply_block_flags(example, &block_flags);
        widen_to_whole_lines(example, page);
    }
    for error in &mut block_parsed.errors {
        if let Some(line) = text.lines.iter().find(|line| line.line == error.line) {
            error.column += page.prefix_columns(line);
        }
    }
    parsed.examples.append(&mut block_parsed.examples);
    parsed.errors.append(&mut block_parsed.errors);
}

/// The flags of a `:options:` directive option, as Sphinx reads it (`+NAME`/`-NAME`,
/// separated by commas or blanks); unknown names are errors.
fn block_flags(
    options: &[DirectiveOption<'_>],
    page: &PageLines<'_>,
    flags: &FlagRegistry,
    errors: &mut Vec<ParseError>,
) -> Vec<(Flag, bool)> {
    let mut found: Vec<(Flag, bool)> = Vec::new();
    for option in options.iter().filter(|option| option.name == "options") {
        for word in option
            .value
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|word| !word.is_empty())
        {
            let flag = word
                .strip_prefix(['+', '-'])
                .and_then(|flag_name| flags.lookup(flag_name));
            match flag {
                Some(flag) => set_flag(&mut found, flag, word.starts_with('+')),
                None => errors.push(ParseError {
                    line: option.line,
                    column: page.column_of(option.value_at + offset_in(option.value, word)),
                    kind: ParseErrorKind::InvalidOption,
                    message: format!(
                        "invalid option {word:?} in the :options: of this doctest block; \
                         write +NAME or -NAME with a known flag, e.g. +ELLIPSIS"
                    ),
                }),
            }
        }
    }
    found
}

/// Starts the example's byte ranges at the start of their page lines, container prefix
/// included, as a text page's ranges include the indentation: the range is then the lines as
/// written, and an edit that rewrites the expected output can copy the `> ` or list
/// indentation from the `>>>` line.
fn widen_to_whole_lines(example: &mut Example, page: &PageLines<'_>) {
    let line_start = |offset: usize| {
        page.get(page.index_of(offset))
            .map_or(offset, |line| line.start)
    };
    let span = &mut example.span;
    span.source_bytes.start = line_start(span.source_bytes.start);
    if span.want_lines > 0 {
        span.want_bytes.start = line_start(span.want_bytes.start);
    }
}

/// Block flags first, then the example's own directives, which win.
fn apply_block_flags(example: &mut Example, block_flags: &[(Flag, bool)]) {
    if block_flags.is_empty() {
        return;
    }
    let mut merged = block_flags.to_vec();
    for &(flag, on) in &example.options {
        set_flag(&mut merged, flag, on);
    }
    example.options = merged;
}

fn set_flag(options: &mut Vec<(Flag, bool)>, flag: Flag, on: bool) {
    match options.iter_mut().find(|(known, _)| *known == flag) {
        Some(entry) => entry.1 = on,
        None => options.push((flag, on)),
    }
}

/// References made by MyST directive fences: `{include}`, `{figure}`, `{image}` targets and
/// `{toctree}` entries.
fn directive_references(
    text: &str,
    page: &PageLines<'_>,
    block: &FencedBlock<'_>,
) -> Vec<Reference> {
    let info = Info::parse(&block.info);
    let (skipped, options) = directive_options(&block.content);
    let option = |name: &str| {
        options
            .iter()
            .find(|option| option.name == name)
            .map(|option| option.value.to_owned())
    };
    let kind = if info.is_directive("include") {
        ReferenceKind::Include
    } else if info.is_directive("figure") {
        ReferenceKind::Figure
    } else if info.is_directive("image") {
        ReferenceKind::Image
    } else if info.is_directive("toctree") {
        return toctree_references(block.content.get(skipped..).unwrap_or_default());
    } else {
        return Vec::new();
    };
    if info.argument.is_empty() {
        return Vec::new();
    }
    let fence_line_end = page.text_end(block.opening_line).unwrap_or(block.fence_at);
    let bytes = text
        .get(block.fence_at..fence_line_end)
        .and_then(|fence_line| fence_line.find(info.argument))
        .map_or(block.fence_at..fence_line_end, |at| {
            block.fence_at + at..block.fence_at + at + info.argument.len()
        });
    let is_include = kind == ReferenceKind::Include;
    vec![Reference {
        kind,
        target: info.argument.to_owned(),
        line: block.opening_line + 1,
        bytes,
        start_after: option("start-after").filter(|_| is_include),
        end_before: option("end-before").filter(|_| is_include),
        alt: option("alt").filter(|_| matches!(kind, ReferenceKind::Figure | ReferenceKind::Image)),
    }]
}

fn toctree_references(entries: &[DoctestLine<'_>]) -> Vec<Reference> {
    entries
        .iter()
        .filter_map(|line| {
            let target = rst::toctree_entry(line.text)?;
            Some(Reference {
                kind: ReferenceKind::Toctree,
                target: line.text.get(target.clone())?.to_owned(),
                line: line.line,
                bytes: line.start + target.start..line.start + target.end,
                start_after: None,
                end_before: None,
                alt: None,
            })
        })
        .collect()
}
