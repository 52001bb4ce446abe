//! Writing rows as CSV (UTF-8 with a byte-order mark, RFC 4180) and as XLSX (`rust_xlsxwriter`
//! in constant-memory mode). Both take rows a page at a time, so an export holds one page, not
//! the whole year.

use std::io::Write;

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

/// One cell. Numbers and dates stay typed, so a spreadsheet sums and sorts them.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Float(f64),
    Date(NaiveDate),
    Empty,
}

impl From<String> for Cell {
    fn from(value: String) -> Self {
        Cell::Text(value)
    }
}

impl From<&str> for Cell {
    fn from(value: &str) -> Self {
        Cell::Text(value.to_owned())
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Self {
        value.map_or(Cell::Empty, Into::into)
    }
}

impl From<i64> for Cell {
    fn from(value: i64) -> Self {
        Cell::Int(value)
    }
}

impl From<f64> for Cell {
    fn from(value: f64) -> Self {
        Cell::Float(value)
    }
}

impl From<NaiveDate> for Cell {
    fn from(value: NaiveDate) -> Self {
        Cell::Date(value)
    }
}

pub type Row = Vec<Cell>;

/// What Excel needs to read a CSV file as UTF-8 rather than the local code page (GBK here).
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A text field as a spreadsheet will not run: text starting with `=`, `+`, `-` or `@` (or a
/// tab or carriage return, which some spreadsheets skip before looking) gets a leading
/// apostrophe, so `=HYPERLINK(…)` typed into a description arrives as text (OWASP's advice for
/// CSV injection). Only CSV needs this: XLSX cells are typed, and a string cell is never a
/// formula. Numbers are numeric cells and keep their sign.
fn defuse(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, with
/// quotes doubled.
fn csv_field(out: &mut Vec<u8>, cell: &Cell) {
    let text: std::borrow::Cow<'_, str> = match cell {
        Cell::Text(t) => defuse(t),
        Cell::Int(n) => n.to_string().into(),
        Cell::Float(f) => f.to_string().into(),
        Cell::Date(d) => d.format("%Y-%m-%d").to_string().into(),
        Cell::Empty => "".into(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        out.extend_from_slice(text.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

fn csv_line(out: &mut Vec<u8>, cells: impl IntoIterator<Item = Cell>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        csv_field(out, &cell);
    }
    // RFC 4180 ends records with CRLF.
    out.extend_from_slice(b"\r\n");
}

/// The byte-order mark and the heading line.
pub fn csv_head(columns: &[&str]) -> Vec<u8> {
    let mut out = UTF8_BOM.to_vec();
    csv_line(&mut out, columns.iter().map(|c| Cell::from(*c)));
    out
}

pub fn csv_rows(rows: Vec<Row>) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * 128);
    for row in rows {
        csv_line(&mut out, row);
    }
    out
}

/// An XLSX workbook of one sheet being written: rows go to a temporary file as they come
/// (constant-memory mode), the archive is assembled at `finish`.
pub struct XlsxSheet {
    workbook: Workbook,
    row: u32,
    columns: u16,
    date: Format,
}

fn xlsx_error(error: XlsxError) -> std::io::Error {
    std::io::Error::other(format!("cannot write the XLSX file: {error}"))
}

impl XlsxSheet {
    pub fn new(sheet_name: &str, columns: &[&str]) -> std::io::Result<Self> {
        let mut workbook = Workbook::new();
        let heading = Format::new().set_bold();
        let worksheet = workbook
            .add_worksheet_with_constant_memory()
            .map_err(xlsx_error)?;
        worksheet.set_name(sheet_name).map_err(xlsx_error)?;
        for (i, title) in columns.iter().enumerate() {
            let col = u16::try_from(i).map_err(std::io::Error::other)?;
            // Wide enough for a credit code or a date; Chinese headings are two columns a
            // character.
            worksheet
                .set_column_width(col, 14.0_f64.max(title.chars().count() as f64 * 2.2))
                .map_err(xlsx_error)?;
            worksheet
                .write_string_with_format(0, col, *title, &heading)
                .map_err(xlsx_error)?;
        }
        worksheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        Ok(Self {
            workbook,
            row: 1,
            columns: u16::try_from(columns.len()).map_err(std::io::Error::other)?,
            date: Format::new().set_num_format("yyyy-mm-dd"),
        })
    }

    pub fn append(&mut self, rows: Vec<Row>) -> std::io::Result<()> {
        let worksheet = self.workbook.worksheet_from_index(0).map_err(xlsx_error)?;
        for row in rows {
            for (i, cell) in row.into_iter().enumerate().take(self.columns as usize) {
                let col = i as u16;
                match cell {
                    Cell::Text(t) => worksheet.write_string(self.row, col, t),
                    Cell::Int(n) => worksheet.write_number(self.row, col, n as f64),
                    Cell::Float(f) => worksheet.write_number(self.row, col, f),
                    Cell::Date(d) => {
                        let date = ExcelDateTime::from_ymd(
                            u16::try_from(d.year()).unwrap_or(1900),
                            d.month() as u8,
                            d.day() as u8,
                        )
                        .map_err(xlsx_error)?;
                        worksheet.write_datetime_with_format(self.row, col, date, &self.date)
                    }
                    Cell::Empty => Ok(&mut *worksheet),
                }
                .map_err(xlsx_error)?;
            }
            self.row += 1;
        }
        Ok(())
    }

    /// Writes the finished file.
    pub fn finish(mut self, out: impl Write + Send) -> std::io::Result<()> {
        self.workbook.save_to_writer(out).map_err(xlsx_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses() {
        let mut out = Vec::new();
        csv_line(
            &mut out,
            vec![
                Cell::from("a,b"),
                Cell::from("say \"hi\""),
                Cell::from("line\nbreak"),
                Cell::from("=1+1"),
                Cell::from("-2"),
                Cell::Int(-2),
                Cell::Empty,
                Cell::from("重庆"),
            ],
        );
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "\"a,b\",\"say \"\"hi\"\"\",\"line\nbreak\",'=1+1,'-2,-2,,重庆\r\n"
        );
        assert!(csv_head(&["单位名称"]).starts_with(UTF8_BOM));
    }
}
