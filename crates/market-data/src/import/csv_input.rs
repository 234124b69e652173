//! Reading import rows from CSV: a header naming the columns, then one row per line. Each row
//! becomes an input or a [`RowError`] carrying its line number (the line it starts on, so quoted
//! fields spanning lines do not shift later numbers).

use std::io::Read;

use csv::{ReaderBuilder, StringRecord, Trim};

use super::bar::{BarInput, parse_ts};
use super::instrument::InstrumentInput;
use super::{ImportError, RowError};

/// Columns of a bars file; `interval`, `vwap` and `trades` may be absent.
const BAR_COLUMNS: [&str; 10] = [
    "symbol", "interval", "ts", "open", "high", "low", "close", "volume", "vwap", "trades",
];
const BAR_REQUIRED: [&str; 7] = ["symbol", "ts", "open", "high", "low", "close", "volume"];
/// Columns of an instruments file; `active` may be absent (then every row is active).
const INSTRUMENT_COLUMNS: [&str; 7] = [
    "symbol",
    "name",
    "exchange",
    "currency",
    "asset_class",
    "sector",
    "active",
];

/// Rows of a CSV file, read one record at a time (memory does not grow with the file).
#[derive(Debug)]
struct CsvRows<R> {
    reader: csv::Reader<Tail<R>>,
    /// Where each known column is in a record, by position in the column list.
    positions: Vec<Option<usize>>,
    record: StringRecord,
    /// An I/O failure that ended the rows early: the file is unreadable, not one row bad.
    failure: Option<ImportError>,
}

impl<R: Read> CsvRows<R> {
    fn open(input: R, columns: &[&str], required: &[&str]) -> Result<Self, ImportError> {
        let mut reader = ReaderBuilder::new()
            .trim(Trim::All)
            .flexible(true)
            .from_reader(Tail::new(input));
        let header = reader.headers().map_err(read_error)?.clone();
        let mut positions = vec![None; columns.len()];
        for (position, name) in header.iter().enumerate() {
            let name = name.to_ascii_lowercase();
            let column = columns.iter().position(|c| *c == name).ok_or_else(|| {
                ImportError::Header(format!(
                    "unknown column {name:?} (expected {})",
                    columns.join(",")
                ))
            })?;
            if positions[column].replace(position).is_some() {
                return Err(ImportError::Header(format!(
                    "column {name:?} appears twice"
                )));
            }
        }
        for name in required {
            if !header.iter().any(|h| h.eq_ignore_ascii_case(name)) {
                return Err(ImportError::Header(format!(
                    "missing column {name:?} (expected {})",
                    columns.join(",")
                )));
            }
        }
        Ok(Self {
            reader,
            positions,
            record: StringRecord::new(),
            failure: None,
        })
    }

    /// Reads the next record; `None` at the end or after an I/O failure.
    fn next_record(&mut self) -> Option<Result<u64, RowError>> {
        match self.reader.read_record(&mut self.record) {
            Ok(true) => {
                let line = self.start_line();
                if self.record.len() != self.reader.headers().map_or(0, StringRecord::len) {
                    return Some(Err(RowError {
                        line,
                        symbol: self.record.get(0).unwrap_or_default().to_owned(),
                        field: "row",
                        reason: format!(
                            "{} fields, the header has {}",
                            self.record.len(),
                            self.reader.headers().map_or(0, StringRecord::len)
                        ),
                    }));
                }
                Some(Ok(line))
            }
            Ok(false) => None,
            Err(error) if error.is_io_error() => {
                self.failure = Some(read_error(error));
                None
            }
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                Some(Err(RowError {
                    line,
                    symbol: String::new(),
                    field: "row",
                    reason: error.to_string(),
                }))
            }
        }
    }

    /// The line the record just read starts on. The csv crate positions a record where reading
    /// it began, before any blank lines it skipped; counting back from where it ended is exact.
    fn start_line(&self) -> u64 {
        let end = self.reader.position();
        let tail = self.reader.get_ref();
        // A last line without a line break ends the record on its own line.
        let unterminated =
            tail.eof && tail.total == end.byte() && tail.last_byte.is_some_and(|b| b != b'\n');
        let inner_breaks: usize = self.record.iter().map(|f| f.matches('\n').count()).sum();
        let start = end
            .line()
            .saturating_sub(u64::from(!unterminated))
            .saturating_sub(inner_breaks as u64);
        start.max(self.record.position().map_or(0, |p| p.line()))
    }

    /// The text of column `index` (of the column list) in the current record, "" when absent.
    fn text(&self, index: usize) -> &str {
        self.positions[index]
            .and_then(|p| self.record.get(p))
            .unwrap_or_default()
    }
}

/// A reader that remembers how it ended, for [`CsvRows::start_line`].
#[derive(Debug)]
struct Tail<R> {
    inner: R,
    /// Bytes read so far.
    total: u64,
    last_byte: Option<u8>,
    eof: bool,
}

impl<R> Tail<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            total: 0,
            last_byte: None,
            eof: false,
        }
    }
}

impl<R: Read> Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        match buf[..n].last() {
            Some(last) => {
                self.total += n as u64;
                self.last_byte = Some(*last);
            }
            None => self.eof = !buf.is_empty(),
        }
        Ok(n)
    }
}

fn read_error(error: csv::Error) -> ImportError {
    ImportError::Read(error.to_string())
}

/// Bar rows of a CSV file with the header `symbol,ts,open,high,low,close,volume[,vwap,trades]`
/// (any order, case-insensitive; an `interval` column may give each row its interval, else
/// every row has `default_interval`). `ts` is RFC 3339 or `YYYY-MM-DD`; empty `vwap` and
/// `trades` are absent values.
#[derive(Debug)]
pub struct BarCsv<R> {
    rows: CsvRows<R>,
    default_interval: String,
}

impl<R: Read> BarCsv<R> {
    /// Reads and checks the header.
    pub fn open(input: R, default_interval: &str) -> Result<Self, ImportError> {
        Ok(Self {
            rows: CsvRows::open(input, &BAR_COLUMNS, &BAR_REQUIRED)?,
            default_interval: default_interval.to_owned(),
        })
    }

    /// The I/O failure that ended the rows early, if any: check it after the last row.
    pub fn take_failure(&mut self) -> Option<ImportError> {
        self.rows.failure.take()
    }

    fn parse(&self, line: u64) -> Result<BarInput, RowError> {
        let text = |name: &str| {
            BAR_COLUMNS
                .iter()
                .position(|c| *c == name)
                .map_or("", |i| self.rows.text(i))
        };
        let symbol = text("symbol");
        let fail = |field: &'static str, reason: String| RowError {
            line,
            symbol: symbol.to_owned(),
            field,
            reason,
        };
        let number = |field: &'static str| -> Result<f64, RowError> {
            let raw = text(field);
            raw.parse::<f64>()
                .map_err(|_| fail(field, format!("{raw:?} is not a number")))
        };
        let present = |field: &'static str| !text(field).is_empty();
        let interval = match text("interval") {
            "" => self.default_interval.clone(),
            given => given.to_owned(),
        };
        Ok(BarInput {
            line,
            symbol: symbol.to_owned(),
            interval,
            ts: parse_ts(text("ts")).map_err(|reason| fail("ts", reason))?,
            open: number("open")?,
            high: number("high")?,
            low: number("low")?,
            close: number("close")?,
            volume: number("volume")?,
            vwap: present("vwap").then(|| number("vwap")).transpose()?,
            trades: present("trades")
                .then(|| {
                    let raw = text("trades");
                    raw.parse::<i64>()
                        .map_err(|_| fail("trades", format!("{raw:?} is not a whole number")))
                })
                .transpose()?,
        })
    }
}

impl<R: Read> Iterator for BarCsv<R> {
    type Item = Result<BarInput, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let line = self.rows.next_record()?;
        Some(line.and_then(|line| self.parse(line)))
    }
}

/// Instrument rows of a CSV file with the header
/// `symbol,name,exchange,currency,asset_class,sector[,active]`; an empty sector is absent, an
/// empty or missing `active` is true.
pub fn read_instruments(
    input: impl Read,
) -> Result<Vec<Result<InstrumentInput, RowError>>, ImportError> {
    let mut rows = CsvRows::open(input, &INSTRUMENT_COLUMNS, &INSTRUMENT_COLUMNS[..6])?;
    let mut out = Vec::new();
    while let Some(line) = rows.next_record() {
        out.push(line.and_then(|line| {
            let text = |i: usize| rows.text(i).to_owned();
            let active = parse_active(rows.text(6)).map_err(|reason| RowError {
                line,
                symbol: text(0),
                field: "active",
                reason,
            })?;
            Ok(InstrumentInput {
                line,
                symbol: text(0),
                name: text(1),
                exchange: text(2),
                currency: text(3),
                asset_class: text(4),
                sector: Some(text(5)).filter(|s| !s.is_empty()),
                active,
            })
        }));
    }
    match rows.failure.take() {
        Some(failure) => Err(failure),
        None => Ok(out),
    }
}

fn parse_active(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "" | "true" | "t" | "yes" | "y" | "1" => Ok(true),
        "false" | "f" | "no" | "n" | "0" => Ok(false),
        _ => Err(format!("{text:?} is not true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bars_with_line_numbers_and_names_bad_fields() {
        let csv = "Symbol,ts,open,high,low,close,volume,vwap,trades\n\
                   AAPL,2024-03-15,10,12,9,11,1000,,\n\
                   \n\
                   MSFT,2024-03-15T00:00:00Z,1,2,0.5,1.5,10,1.2,3\n\
                   IBM,2024-03-15,ten,12,9,11,1000,,\n\
                   IBM,2024-03-15,10,12,9,11\n\
                   KO,2024-03-15,10,12,9,11,1000,,x\n\
                   \n\
                   \"PEP\",2024-03-15,10,12,9,11,1000,,";
        let rows: Vec<_> = BarCsv::open(csv.as_bytes(), "1d")
            .expect("header")
            .collect();
        assert_eq!(rows.len(), 6, "blank lines are skipped");
        let aapl = rows[0].as_ref().expect("AAPL parses");
        assert_eq!((aapl.line, aapl.interval.as_str()), (2, "1d"));
        assert_eq!((aapl.vwap, aapl.trades), (None, None));
        let msft = rows[1].as_ref().expect("MSFT parses");
        assert_eq!((msft.line, msft.vwap, msft.trades), (4, Some(1.2), Some(3)));
        let error = |i: usize| rows[i].as_ref().expect_err("bad row");
        assert_eq!((error(2).line, error(2).field), (5, "open"));
        assert_eq!((error(3).line, error(3).field), (6, "row"));
        assert_eq!(
            (error(4).line, error(4).field, error(4).symbol.as_str()),
            (7, "trades", "KO")
        );
        let pep = rows[5].as_ref().expect("PEP parses");
        assert_eq!(pep.line, 9, "a last line without a line break");
    }

    #[test]
    fn refuses_a_header_with_missing_or_unknown_columns() {
        let missing = BarCsv::open("symbol,ts,open,high,low,close\n".as_bytes(), "1d");
        assert!(
            matches!(&missing, Err(ImportError::Header(m)) if m.contains("\"volume\"")),
            "{:?}",
            missing.err()
        );
        let typo = BarCsv::open("symbol,ts,open,high,low,close,volumne\n".as_bytes(), "1d");
        assert!(matches!(typo, Err(ImportError::Header(m)) if m.contains("volumne")));
    }

    #[test]
    fn reads_instruments_with_an_optional_active_column() {
        let csv = "symbol,name,exchange,currency,asset_class,sector,active\n\
                   AAPL,Apple Inc.,XNAS,USD,equity,Information Technology,\n\
                   SPX,\"S&P 500\nIndex\",INDEX,USD,index,,false\n\
                   OLD,Old Co,XNYS,USD,equity,,maybe\n";
        let rows = read_instruments(csv.as_bytes()).expect("header");
        let spx = rows[1].as_ref().expect("SPX");
        assert_eq!((spx.sector.as_deref(), spx.active), (None, false));
        assert!(rows[0].as_ref().is_ok_and(|r| r.active));
        let bad = rows[2].as_ref().expect_err("bad active");
        assert_eq!(
            (bad.line, bad.field),
            (5, "active"),
            "after a two-line name"
        );
    }
}
