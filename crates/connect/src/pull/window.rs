//! The position of a vendor that lists a time window newest first and pages it with an
//! opaque cursor (Graph's next link, Google's page token).
//!
//! The window's lower bound moves only once the whole window is committed, to the newest
//! event seen less the overlap: events are published late, and a bound moved on the first
//! (newest) page would skip the older pages still to come. The cursor is committed with
//! every page, so a restart resumes the same window at the same page.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Page;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Window {
    /// The window's lower bound (`createdDateTime ge`, `startTime`).
    pub since: Timestamp,
    /// The newest event seen in the window so far.
    pub newest: Option<Timestamp>,
    /// The cursor of the window's next page, while it has one.
    pub next: Option<String>,
}

impl Window {
    /// The committed position, or a first window from `start`.
    pub fn resume(position: Option<&Value>, start: Timestamp) -> Window {
        position
            .and_then(|p| serde_json::from_value(p.clone()).ok())
            .unwrap_or(Window {
                since: start,
                newest: None,
                next: None,
            })
    }

    /// Takes in a page whose newest event is `newest_here` and whose cursor to the next
    /// page is `next`; at the window's end, moves the bound. Says whether more pages follow.
    pub fn advance(
        &mut self,
        newest_here: Option<Timestamp>,
        next: Option<String>,
        overlap: SignedDuration,
    ) -> bool {
        self.newest = self.newest.max(newest_here);
        self.next = next;
        if self.next.is_none()
            && let Some(newest) = self.newest
        {
            self.since = self.since.max(newest - overlap);
        }
        self.next.is_some()
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The page to commit when the vendor no longer honours the saved cursor (a long
    /// stop): none of its records, and the same window asked again from its start.
    pub fn restarted(mut self, request: String) -> Page {
        tracing::warn!(%request, "the vendor refused a saved cursor; the window is asked again");
        self.next = None;
        Page {
            records: Vec::new(),
            position: self.to_value(),
            more: true,
            pause: None,
            request,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    #[test]
    fn the_bound_moves_only_at_the_end_of_the_window_and_never_back() {
        let overlap = SignedDuration::from_mins(15);
        let mut window = Window::resume(None, at("2026-12-01T00:00:00Z"));
        // Newest first: the first page holds the newest event.
        assert!(window.advance(Some(at("2026-12-06T10:00:00Z")), Some("p2".into()), overlap));
        assert_eq!(window.since, at("2026-12-01T00:00:00Z"));
        assert!(!window.advance(Some(at("2026-12-03T00:00:00Z")), None, overlap));
        assert_eq!(window.since, at("2026-12-06T09:45:00Z"));
        assert_eq!(window.next, None);
        // An empty window keeps the bound.
        assert!(!window.advance(None, None, overlap));
        assert_eq!(window.since, at("2026-12-06T09:45:00Z"));
        let again = Window::resume(Some(&window.to_value()), at("2020-01-01T00:00:00Z"));
        assert_eq!(again, window);
    }
}
