//! An organisation among its peers: for each metric, the quartiles of the sector's
//! values and where the organisation stands. A figure is shown only when at least
//! [`MIN_CONTRIBUTORS`] organisations contribute a value to it, so that no single
//! organisation's number can be read off the view.

use serde::Serialize;

use crate::metric::{Better, Metric};
use crate::score::Scorecard;

/// Organisations needed behind any sector figure.
pub const MIN_CONTRIBUTORS: usize = 5;

/// One peer's scorecard, as the comparison sees it: no name, no id.
pub type Peer = Scorecard;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Distribution {
    /// `score` for the overall score, else the metric's id.
    pub metric: String,
    pub name: String,
    pub contributors: usize,
    pub p25: f64,
    pub median: f64,
    pub p75: f64,
    /// The organisation's own value, when it has one.
    pub own: Option<f64>,
    /// Percentile rank of the own value among contributors, 0–100, where higher is
    /// better whichever way the metric points (ties count half).
    pub rank: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SectorView {
    /// `hospital`, or `hospital in FR`.
    pub scope: String,
    /// Organisations in the scope (contributors per figure may be fewer).
    pub organisations: usize,
    /// Figures with enough contributors; empty when the scope is too small.
    pub distributions: Vec<Distribution>,
}

/// Compares `own` (one of `peers`, or none for an operator's view of the sector) with
/// `peers`. Figures with fewer than [`MIN_CONTRIBUTORS`] values are left out.
pub fn compare(scope: String, own: Option<&Scorecard>, peers: &[Peer]) -> SectorView {
    let mut distributions = Vec::new();
    if peers.len() >= MIN_CONTRIBUTORS {
        let scores: Vec<f64> = peers.iter().filter_map(|p| p.score).collect();
        if let Some(d) = distribution(
            "score".into(),
            "Score".into(),
            Better::Higher,
            scores,
            own.and_then(|o| o.score),
        ) {
            distributions.push(d);
        }
        for metric in Metric::ALL {
            let values: Vec<f64> = peers.iter().filter_map(|p| p.value(metric)).collect();
            if let Some(d) = distribution(
                metric.id().into(),
                metric.name().into(),
                metric.better(),
                values,
                own.and_then(|o| o.value(metric)),
            ) {
                distributions.push(d);
            }
        }
    }
    SectorView {
        scope,
        organisations: peers.len(),
        distributions,
    }
}

fn distribution(
    metric: String,
    name: String,
    better: Better,
    mut values: Vec<f64>,
    own: Option<f64>,
) -> Option<Distribution> {
    if values.len() < MIN_CONTRIBUTORS {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = own.map(|own| {
        let worse = values
            .iter()
            .filter(|&&v| match better {
                Better::Higher => v < own,
                Better::Lower => v > own,
            })
            .count() as f64;
        let ties = values.iter().filter(|&&v| v == own).count() as f64;
        round1((worse + ties / 2.0) * 100.0 / values.len() as f64)
    });
    Some(Distribution {
        metric,
        name,
        contributors: values.len(),
        p25: round1(quantile(&values, 0.25)),
        median: round1(quantile(&values, 0.5)),
        p75: round1(quantile(&values, 0.75)),
        own,
        rank,
    })
}

/// Linear interpolation between order statistics (Hyndman & Fan type 7, the default of
/// R and NumPy). `sorted` is not empty.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    let fraction = position - low as f64;
    sorted[low] + (sorted[high] - sorted[low]) * fraction
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Week, WeekCounts};

    fn card(mfa_accounts: u64) -> Scorecard {
        let counts = WeekCounts {
            sign_ins: 100,
            successes: 100,
            successes_with_strength: 100,
            successes_multi_factor: 100,
            active_accounts: 100,
            active_accounts_multi_factor: mfa_accounts,
            messages: 1,
            ..WeekCounts::default()
        };
        Scorecard::of(Week::parse("2026-W48").expect("week"), &counts)
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [10.0, 20.0, 30.0, 40.0, 50.0];
        assert_eq!(quantile(&v, 0.25), 20.0);
        assert_eq!(quantile(&v, 0.5), 30.0);
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.25), 1.75);
    }

    #[test]
    fn four_organisations_give_no_sector_figures_and_five_do() {
        let four: Vec<Scorecard> = [10, 20, 30, 40].into_iter().map(card).collect();
        let view = compare("hospital".into(), Some(&four[0]), &four);
        assert_eq!(view.organisations, 4);
        assert!(view.distributions.is_empty());

        let five: Vec<Scorecard> = [10, 20, 30, 40, 50].into_iter().map(card).collect();
        let view = compare("hospital".into(), Some(&five[3]), &five);
        let mfa = view
            .distributions
            .iter()
            .find(|d| d.metric == "mfa_accounts")
            .expect("mfa accounts shown");
        assert_eq!(
            (mfa.contributors, mfa.p25, mfa.median, mfa.p75),
            (5, 20.0, 30.0, 40.0)
        );
        assert_eq!(mfa.own, Some(40.0));
        // Beats three of five, ties itself: (3 + 0.5) / 5.
        assert_eq!(mfa.rank, Some(70.0));
        // Nobody had an attack: that figure has no contributors and is left out.
        assert!(
            view.distributions
                .iter()
                .all(|d| d.metric != "attack_success")
        );
        assert!(view.distributions.iter().any(|d| d.metric == "score"));
    }

    #[test]
    fn ranks_point_the_better_way() {
        let values = vec![1.0, 2.0, 3.0, 4.0, 5.0];
        let lower = distribution(
            "x".into(),
            "x".into(),
            Better::Lower,
            values.clone(),
            Some(1.0),
        )
        .expect("five");
        assert_eq!(lower.rank, Some(90.0));
        let higher =
            distribution("x".into(), "x".into(), Better::Higher, values, Some(1.0)).expect("five");
        assert_eq!(higher.rank, Some(10.0));
    }
}
