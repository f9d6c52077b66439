//! Scenario outcomes and the totals.

/// How one scenario ended, with its figure or the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Pass(String),
    Fail(String),
    Skip(String),
}

/// The totals of a run, and the line printed for each scenario.
///
/// # Example
///
/// ```
/// let s = e2e::Summary::default();
/// assert_eq!(s.line(), "0 passed, 0 failed");
/// assert!(s.is_success());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Scenarios that passed.
    pub passed: usize,
    /// Scenarios that failed (a failed setup counts as one).
    pub failed: usize,
    /// Scenarios skipped (not applicable to the target, or a tool missing).
    pub skipped: usize,
    /// The lines printed, one per scenario, in order.
    pub lines: Vec<String>,
}

impl Summary {
    /// Whether no scenario failed.
    ///
    /// # Example
    ///
    /// ```
    /// let mut s = e2e::Summary { passed: 4, skipped: 1, ..Default::default() };
    /// assert!(s.is_success());
    /// s.failed = 1;
    /// assert!(!s.is_success());
    /// ```
    pub fn is_success(&self) -> bool {
        self.failed == 0
    }

    /// The final line: `N passed, M failed`, plus `, K skipped` when any.
    ///
    /// # Example
    ///
    /// ```
    /// let s = e2e::Summary { passed: 5, failed: 1, ..Default::default() };
    /// assert_eq!(s.line(), "5 passed, 1 failed");
    /// let s = e2e::Summary { passed: 5, skipped: 2, ..Default::default() };
    /// assert_eq!(s.line(), "5 passed, 0 failed, 2 skipped");
    /// ```
    pub fn line(&self) -> String {
        let mut line = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            line.push_str(&format!(", {} skipped", self.skipped));
        }
        line
    }

    /// Counts an outcome and prints its line.
    pub(crate) fn record(&mut self, name: &str, outcome: Outcome) {
        let line = match outcome {
            Outcome::Pass(figure) => {
                self.passed += 1;
                format!("PASS {name}: {figure}")
            }
            Outcome::Fail(why) => {
                self.failed += 1;
                format!("FAIL {name}: {why}")
            }
            Outcome::Skip(why) => {
                self.skipped += 1;
                format!("SKIP {name}: {why}")
            }
        };
        println!("{line}");
        self.lines.push(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_totals() {
        let mut s = Summary::default();
        s.record("a", Outcome::Pass("3 writes".into()));
        s.record("b", Outcome::Fail("no event".into()));
        assert_eq!(s.line(), "1 passed, 1 failed");
        s.record("c", Outcome::Skip("no kubectl".into()));
        assert_eq!(s.line(), "1 passed, 1 failed, 1 skipped");
        assert_eq!(
            s.lines,
            ["PASS a: 3 writes", "FAIL b: no event", "SKIP c: no kubectl"]
        );
        assert!(!s.is_success());
    }
}
