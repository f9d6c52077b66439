//! Column alignment as `kubectl describe` does it (Go's `text/tabwriter`
//! with padding 2, no minimum width, spaces as padding, no flags).
//!
//! Lines are split into cells at tabs; every cell but the last of a line
//! ends with a tab and belongs to a column; the last cell is never padded.
//! A column is aligned within a *block*: consecutive lines that all have a
//! cell in that column. A line with fewer cells ends the block, so the lines
//! after it are aligned on their own. That is why a note with line breaks
//! changes how kubectl lays out the rows that follow it: its continuation
//! lines have no tabs and cut every block.
//!
//! Widths count characters (Go counts runes), as kubectl's terminal
//! output does. Only `\t` and `\n` are special here.

/// Padding added to the widest cell of a column block.
const PADDING: usize = 2;

/// Aligns `text` (lines ending in `\n`, cells ending in `\t`).
pub(crate) fn align(text: &str) -> String {
    let lines: Vec<Vec<&str>> = text
        .split_terminator('\n')
        .map(|line| line.split('\t').collect())
        .collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut widths = Vec::new();
    format(&lines, &mut widths, &mut out);
    if !text.ends_with('\n') && !text.is_empty() {
        // `split_terminator` made the unterminated last line a line too.
        out.pop();
    }
    out
}

fn width(cell: &str) -> usize {
    cell.chars().count()
}

/// Writes `lines` with the column widths found so far (`widths`), opening a
/// block for the next column wherever consecutive lines have a cell in it.
fn format(lines: &[Vec<&str>], widths: &mut Vec<usize>, out: &mut String) {
    let column = widths.len();
    let has_column = |line: &Vec<&str>| column + 1 < line.len();
    let mut start = 0;
    while start < lines.len() {
        let Some(offset) = lines[start..].iter().position(has_column) else {
            write_lines(&lines[start..], widths, out);
            return;
        };
        write_lines(&lines[start..start + offset], widths, out);
        let begin = start + offset;
        let len = lines[begin..]
            .iter()
            .position(|l| !has_column(l))
            .unwrap_or(lines.len() - begin);
        let block = &lines[begin..begin + len];
        let widest = block.iter().map(|l| width(l[column])).max().unwrap_or(0);
        widths.push(widest + PADDING);
        format(block, widths, out);
        widths.pop();
        start = begin + len;
    }
}

fn write_lines(lines: &[Vec<&str>], widths: &[usize], out: &mut String) {
    for line in lines {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if let Some(w) = widths.get(j)
                && j + 1 < line.len()
            {
                out.extend(std::iter::repeat_n(' ', w - width(cell)));
            }
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_plus_two() {
        assert_eq!(align("a\tbb\tc\naaa\tb\tc\n"), "a    bb  c\naaa  b   c\n");
    }

    #[test]
    fn the_last_cell_is_never_padded_but_an_empty_one_keeps_the_padding_before_it() {
        assert_eq!(align("ab\t\ncd\tx\n"), "ab  \ncd  x\n");
    }

    #[test]
    fn a_line_without_the_column_ends_its_block() {
        // The middle line has one cell: the lines around it are aligned
        // separately.
        assert_eq!(
            align("a\tb\nno tabs here\nlonger\tb\n"),
            "a  b\nno tabs here\nlonger  b\n"
        );
    }

    #[test]
    fn a_shorter_line_ends_only_the_deeper_blocks() {
        assert_eq!(
            align("x\ty\tzzzz\tw\nxx\tyyyy\tlast\nx\ty\tz\tw\n"),
            "x   y     zzzz  w\nxx  yyyy  last\nx   y     z  w\n"
        );
    }

    #[test]
    fn widths_count_characters() {
        assert_eq!(align("é\tb\nab\tb\n"), "é   b\nab  b\n");
    }

    #[test]
    fn text_without_a_final_newline_keeps_its_end() {
        assert_eq!(align("a\tb"), "a  b");
        assert_eq!(align(""), "");
    }
}
