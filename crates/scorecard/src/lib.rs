//! Governance metrics for one organisation and its sector (docs/metrics.md).
//!
//! This crate owns what the numbers mean: [`WeekCounts`] is the plain tally the store
//! makes of one organisation's week; [`Metric`] turns it into the published metrics with
//! their formulas; [`Scorecard`] weighs them into a 0–100 score, an A–F grade and the
//! actions that would raise it most; [`compare`] places an organisation among its sector
//! without ever showing fewer than [`MIN_CONTRIBUTORS`] organisations. [`posture`] reads
//! SPF, DKIM and DMARC records. Nothing here does I/O.

mod counts;
mod metric;
pub mod posture;
mod score;
mod sector;
mod week;

pub use counts::{MAX_LOOKALIKES, WeekCounts};
pub use metric::{Better, Metric, Unit};
pub use posture::{Dkim, Dmarc, DmarcPolicy, DomainPosture, Spf, SpfAll};
pub use score::{ACTIONS, Action, Grade, MIN_MEASURED_WEIGHT, MetricValue, Scorecard};
pub use sector::{Distribution, MIN_CONTRIBUTORS, Peer, SectorView, compare};
pub use week::Week;
