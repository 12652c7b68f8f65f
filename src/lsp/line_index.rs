//! Positions: the engine speaks byte offsets and 1-based lines; LSP speaks 0-based lines and
//! UTF-16 code units. This is the one place that converts between them. Lines end at `\n`,
//! `\r\n` or `\r`, as LSP (and Python's universal newlines) say.

use tower_lsp_server::ls_types::{Position, Range};

/// Line starts of a text, for converting offsets to positions and back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    /// Byte offset where each line starts; `starts[0] == 0`.
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut index = 0;
        while index < bytes.len() {
            match bytes[index] {
                b'\n' => starts.push(index + 1),
                b'\r' if bytes.get(index + 1) == Some(&b'\n') => {
                    index += 1;
                    starts.push(index + 1);
                }
                b'\r' => starts.push(index + 1),
                _ => {}
            }
            index += 1;
        }
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Byte offset where 0-based `line` starts (the end of the text past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(self.len)
    }

    /// Byte range of 0-based `line` without its line end.
    pub fn line_range(&self, text: &str, line: usize) -> std::ops::Range<usize> {
        let start = self.line_start(line);
        let next = self.starts.get(line + 1).copied().unwrap_or(self.len);
        let content = &text[start.min(text.len())..next.min(text.len())];
        let end = start + content.trim_end_matches(['\n', '\r']).len();
        start..end
    }

    /// The LSP position of byte `offset` (clamped to the text and to a character boundary).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.starts.partition_point(|&start| start <= offset) - 1;
        let start = self.starts[line];
        let character: usize = text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(line as u32, character as u32)
    }

    /// The byte offset of an LSP position; positions past a line's end mean its end, and
    /// lines past the text's end mean the text's end (as LSP asks servers to be lenient).
    pub fn offset(&self, text: &str, position: Position) -> usize {
        let line = position.line as usize;
        if line >= self.starts.len() {
            return self.len;
        }
        let range = self.line_range(text, line);
        let mut units = 0usize;
        for (index, c) in text[range.clone()].char_indices() {
            if units >= position.character as usize {
                return range.start + index;
            }
            units += c.len_utf16();
        }
        range.end
    }

    /// The LSP range of a byte range.
    pub fn range(&self, text: &str, bytes: std::ops::Range<usize>) -> Range {
        Range::new(
            self.position(text, bytes.start),
            self.position(text, bytes.end),
        )
    }

    /// The LSP range of a 1-based line and 1-based character column (the engine's way of
    /// locating errors), one character wide.
    pub fn range_at_column(&self, text: &str, line: usize, column: usize) -> Range {
        let line = line.saturating_sub(1);
        let range = self.line_range(text, line);
        let content = &text[range.clone()];
        let start = content
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(range.end, |(index, _)| range.start + index);
        let end = text[start..range.end]
            .chars()
            .next()
            .map_or(start, |c| start + c.len_utf8());
        self.range(text, start..end)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns() {
        let text = "a😀b\r\nx\ry";
        let index = LineIndex::new(text);
        assert_eq!(index.line_count(), 3);
        assert_eq!(index.position(text, 5), Position::new(0, 3));
        assert_eq!(index.offset(text, Position::new(0, 3)), 5);
        assert_eq!(index.position(text, 8), Position::new(1, 0));
        assert_eq!(index.position(text, 10), Position::new(2, 0));
        assert_eq!(index.offset(text, Position::new(9, 9)), text.len());
        assert_eq!(index.offset(text, Position::new(1, 99)), 9);
    }

    #[test]
    fn columns_from_the_engine() {
        let text = "ab\n\t>>>x\n";
        let index = LineIndex::new(text);
        assert_eq!(
            index.range_at_column(text, 2, 5),
            Range::new(Position::new(1, 4), Position::new(1, 5))
        );
    }
}
