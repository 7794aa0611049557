//! The week every metric is computed over: Monday 00:00 UTC to the next Monday, named by
//! its ISO 8601 week (`2026-W48`).

use std::fmt;

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, ToSpan};
use serde::{Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Week {
    start: Timestamp,
}

impl Week {
    /// The week that holds `time`.
    pub fn containing(time: Timestamp) -> Week {
        let date = time.to_zoned(TimeZone::UTC).date();
        let monday = date
            .checked_sub(Span::new().days(i64::from(date.weekday().to_monday_zero_offset())))
            .unwrap_or(date);
        let start = monday
            .to_zoned(TimeZone::UTC)
            .map(|z| z.timestamp())
            .unwrap_or(time);
        Week { start }
    }

    pub fn start(self) -> Timestamp {
        self.start
    }

    pub fn end(self) -> Timestamp {
        self.start.checked_add(168.hours()).unwrap_or(self.start)
    }

    pub fn previous(self) -> Week {
        Week {
            start: self.start.checked_sub(168.hours()).unwrap_or(self.start),
        }
    }

    /// This week and the `count - 1` before it, oldest first.
    pub fn trailing(self, count: usize) -> Vec<Week> {
        let mut weeks = Vec::with_capacity(count);
        let mut week = self;
        for _ in 0..count {
            weeks.push(week);
            week = week.previous();
        }
        weeks.reverse();
        weeks
    }

    /// `2026-W48`.
    pub fn label(self) -> String {
        let iso = self.start.to_zoned(TimeZone::UTC).date().iso_week_date();
        format!("{:04}-W{:02}", iso.year(), iso.week())
    }

    /// Parses `2026-W48`.
    pub fn parse(label: &str) -> Option<Week> {
        let (year, week) = label.trim().split_once("-W")?;
        let iso =
            jiff::civil::ISOWeekDate::new(year.parse().ok()?, week.parse().ok()?, Weekday::Monday)
                .ok()?;
        let start = iso.date().to_zoned(TimeZone::UTC).ok()?.timestamp();
        Some(Week { start })
    }
}

impl fmt::Display for Week {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl Serialize for Week {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn weeks_start_on_monday_midnight_utc_and_carry_their_iso_name() {
        // 2026-11-26 is a Thursday of ISO week 48.
        let week = Week::containing(ts("2026-11-26T15:00:00Z"));
        assert_eq!(week.start(), ts("2026-11-23T00:00:00Z"));
        assert_eq!(week.end(), ts("2026-11-30T00:00:00Z"));
        assert_eq!(week.label(), "2026-W48");
        assert_eq!(Week::parse("2026-W48"), Some(week));
        assert_eq!(Week::containing(ts("2026-11-23T00:00:00Z")), week);
        assert_eq!(
            Week::containing(ts("2026-11-22T23:59:59Z")),
            week.previous()
        );
        // ISO years differ from calendar years around New Year.
        assert_eq!(
            Week::containing(ts("2027-01-01T12:00:00Z")).label(),
            "2026-W53"
        );
        let trail = week.trailing(12);
        assert_eq!(trail.len(), 12);
        assert_eq!(trail[11], week);
        assert_eq!(trail[0].label(), "2026-W37");
        assert_eq!(Week::parse("W48"), None);
    }
}
