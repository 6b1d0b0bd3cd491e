//! The one text-table printer of the CLI: `check-config`'s policy table and `bench`'s rows.

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Padded on the right (text).
    Left,
    /// Padded on the left (numbers).
    Right,
}

/// `header` and `rows` as columns two spaces apart, each as wide as its widest cell; `align`
/// gives each column's alignment (missing entries are left-aligned). The last column is not
/// padded, so lines carry no trailing spaces.
pub fn render<R: AsRef<[String]>>(header: &[&str], align: &[Align], rows: &[R]) -> String {
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    let lines: Vec<&[String]> = std::iter::once(header.as_slice())
        .chain(rows.iter().map(AsRef::as_ref))
        .collect();
    let columns = lines.iter().map(|line| line.len()).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for line in &lines {
        for (width, cell) in widths.iter_mut().zip(line.iter()) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for line in lines {
        let mut cells = Vec::with_capacity(line.len());
        for (index, cell) in line.iter().enumerate() {
            let pad = " ".repeat(widths[index] - cell.chars().count());
            let last = index + 1 == line.len();
            cells.push(match align.get(index).copied().unwrap_or(Align::Left) {
                Align::Right => format!("{pad}{cell}"),
                Align::Left if last => cell.clone(),
                Align::Left => format!("{cell}{pad}"),
            });
        }
        out.push_str(&cells.join("  "));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let rows = [
            vec!["a".to_owned(), "1".to_owned(), "x".to_owned()],
            vec!["long".to_owned(), "200".to_owned(), "yy".to_owned()],
        ];
        let text = render(
            &["name", "n", "last"],
            &[Align::Left, Align::Right, Align::Left],
            &rows,
        );
        assert_eq!(text, "name    n  last\na       1  x\nlong  200  yy\n");
    }
}
