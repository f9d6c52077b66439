//! Figures, their summaries (median, min, max) and the markdown table.

use std::fmt::Write as _;

/// What a figure measures, which decides how it is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Milliseconds.
    Millis,
    /// Microseconds.
    Micros,
    /// A plain count.
    Count,
    /// Events per second.
    PerSecond,
    /// Bytes.
    Bytes,
    /// A factor (e.g. growth from one size to another).
    Factor,
}

/// Which direction is better, which decides the ratio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Better {
    /// Lower is better: the ratio is kube-rs ÷ ours.
    Lower,
    /// Higher is better: the ratio is ours ÷ kube-rs.
    Higher,
    /// The figures should agree (e.g. the count stored).
    Same,
}

/// The median, least and greatest of a set of runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Summary {
    /// The middle value (the mean of the two middle values for an even
    /// number of runs).
    pub(crate) median: f64,
    /// The least value.
    pub(crate) min: f64,
    /// The greatest value.
    pub(crate) max: f64,
    /// How many runs.
    pub(crate) runs: usize,
}

impl Summary {
    /// Summarizes `values`; `None` when there are none.
    pub(crate) fn of(values: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            f64::midpoint(sorted[n / 2 - 1], sorted[n / 2])
        };
        Some(Self {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            runs: n,
        })
    }
}

/// One cell of the table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell {
    /// Measured values, one per run.
    Runs(Vec<f64>),
}

/// One line of the table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Row {
    /// Scenario and figure, e.g. `1. flood: API writes`.
    pub(crate) label: String,
    /// How to print the figures.
    pub(crate) unit: Unit,
    /// Which way is better.
    pub(crate) better: Better,
    /// kube-rs's figure.
    pub(crate) kube: Cell,
    /// Our figure.
    pub(crate) ours: Cell,
}

impl Row {
    /// A row from measured runs.
    pub(crate) fn new(
        label: impl Into<String>,
        unit: Unit,
        better: Better,
        kube: Vec<f64>,
        ours: Vec<f64>,
    ) -> Self {
        Self {
            label: label.into(),
            unit,
            better,
            kube: Cell::Runs(kube),
            ours: Cell::Runs(ours),
        }
    }

    /// The ratio column: how much better (or worse) ours is, from the
    /// medians.
    pub(crate) fn ratio(&self) -> String {
        let (Cell::Runs(k), Cell::Runs(o)) = (&self.kube, &self.ours);
        let (Some(k), Some(o)) = (Summary::of(k), Summary::of(o)) else {
            return "n/a".into();
        };
        let (k, o) = (k.median, o.median);
        if number(k, self.unit) == number(o, self.unit) {
            return "same".into();
        }
        let (better, worse) = match (self.better, self.unit) {
            (Better::Same, _) => return format!("differs by {}", number(o - k, self.unit)),
            (Better::Lower, Unit::Count) => ("fewer", "more"),
            (Better::Lower, Unit::Bytes) => ("less", "more"),
            (Better::Lower, Unit::Factor) => ("flatter", "steeper"),
            (Better::Higher, Unit::Count) => ("higher", "lower"),
            _ => ("faster", "slower"),
        };
        let ratio = match self.better {
            Better::Lower => k / o,
            _ => o / k,
        };
        if ratio.is_infinite() {
            let who = if self.better == Better::Lower {
                "ours"
            } else {
                "kube-rs"
            };
            return format!("{who}: 0");
        }
        if ratio < 1.0 {
            return format!("{}x {worse}", scaled(1.0 / ratio));
        }
        format!("{}x {better}", scaled(ratio))
    }
}

/// A ratio with sensible digits.
fn scaled(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}")
    } else if r >= 10.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.2}")
    }
}

/// One value in its unit.
pub(crate) fn number(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Millis if v.abs() >= 100.0 => format!("{v:.0} ms"),
        Unit::Millis => format!("{v:.1} ms"),
        Unit::Micros if v.abs() >= 100.0 => format!("{v:.0} µs"),
        Unit::Micros if v.abs() >= 10.0 => format!("{v:.1} µs"),
        Unit::Micros => format!("{v:.2} µs"),
        Unit::Count => format!("{v:.0}"),
        Unit::PerSecond => format!("{v:.0}/s"),
        Unit::Bytes if v.abs() >= 1024.0 * 1024.0 => format!("{:.1} MiB", v / 1024.0 / 1024.0),
        Unit::Bytes => format!("{v:.0} B"),
        Unit::Factor => format!("{v:.2}×"),
    }
}

/// A cell as printed: `median (min–max)`, or just the value when every run
/// agreed.
pub(crate) fn cell(cell: &Cell, unit: Unit) -> String {
    match cell {
        Cell::Runs(values) => match Summary::of(values) {
            None => "n/a".into(),
            Some(s) if number(s.min, unit) == number(s.max, unit) => number(s.median, unit),
            Some(s) => {
                let max = number(s.max, unit);
                let min = number(s.min, unit);
                // The unit once, after the range.
                let min = min.split(' ').next().unwrap_or(&min).to_owned();
                format!("{} ({min}–{max})", number(s.median, unit))
            }
        },
    }
}

/// The markdown table.
pub(crate) fn table(rows: &[Row]) -> String {
    let mut out =
        String::from("| scenario | kube-rs | ours | ratio |\n| --- | ---: | ---: | --- |\n");
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            row.label,
            cell(&row.kube, row.unit),
            cell(&row.ours, row.unit),
            row.ratio()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_takes_median_min_and_max() {
        let s = Summary::of(&[5.0, 1.0, 3.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.runs), (3.0, 1.0, 5.0, 3));
        let s = Summary::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(s.median, 2.5);
        assert_eq!(Summary::of(&[]), None);
    }

    #[test]
    fn ratios_point_the_right_way() {
        let writes = Row::new("w", Unit::Count, Better::Lower, vec![10_000.0], vec![3.0]);
        assert_eq!(writes.ratio(), "3333x fewer");
        let rate = Row::new(
            "r",
            Unit::PerSecond,
            Better::Higher,
            vec![100.0],
            vec![150.0],
        );
        assert_eq!(rate.ratio(), "1.50x faster");
        let slower = Row::new("s", Unit::Millis, Better::Lower, vec![1.0], vec![2.0]);
        assert_eq!(slower.ratio(), "2.00x slower");
        let same = Row::new("c", Unit::Count, Better::Same, vec![7.0], vec![7.0]);
        assert_eq!(same.ratio(), "same");
        let differs = Row::new("d", Unit::Count, Better::Same, vec![7.0], vec![9.0]);
        assert_eq!(differs.ratio(), "differs by 2");
        let equal = Row::new("q", Unit::Count, Better::Lower, vec![1.0], vec![1.0]);
        assert_eq!(equal.ratio(), "same");
        let errors = Row::new("e", Unit::Count, Better::Lower, vec![10.0], vec![0.0]);
        assert_eq!(errors.ratio(), "ours: 0");
        let recreated = Row::new("r", Unit::Count, Better::Higher, vec![0.0], vec![1.0]);
        assert_eq!(recreated.ratio(), "kube-rs: 0");
        let kept = Row::new("k", Unit::Count, Better::Higher, vec![16.0], vec![64.0]);
        assert_eq!(kept.ratio(), "4.00x higher");
        let both_zero = Row::new("z", Unit::Count, Better::Lower, vec![0.0], vec![0.0]);
        assert_eq!(both_zero.ratio(), "same");
    }

    #[test]
    fn cells_show_median_and_range() {
        let c = Cell::Runs(vec![2.0, 1.0, 3.0]);
        assert_eq!(cell(&c, Unit::Millis), "2.0 ms (1.0–3.0 ms)");
        assert_eq!(cell(&Cell::Runs(vec![3.0, 3.0]), Unit::Count), "3");
        assert_eq!(number(3.5 * 1024.0 * 1024.0, Unit::Bytes), "3.5 MiB");
    }

    #[test]
    fn table_has_one_line_per_row() {
        let rows = [
            Row::new(
                "1. flood: API writes",
                Unit::Count,
                Better::Lower,
                vec![10_000.0],
                vec![3.0],
            ),
            Row::new("x", Unit::Count, Better::Same, vec![], vec![1.0]),
        ];
        let t = table(&rows);
        assert_eq!(t.lines().count(), 4);
        assert!(t.contains("| 1. flood: API writes | 10000 | 3 | 3333x fewer |"));
        assert!(t.contains("| x | n/a | 1 | n/a |"));
    }
}
