//! The scorecard: the week's metrics, their weighted score, a grade, and the three
//! actions that would raise the score most.

use serde::Serialize;

use crate::counts::WeekCounts;
use crate::metric::{Better, Metric, Unit};
use crate::week::Week;

/// Below this share of the total weight measurable, no score is given: a score from a
/// third of the metrics would flatter (or shame) an organisation tocsin barely sees.
pub const MIN_MEASURED_WEIGHT: u32 = 50;

/// Actions offered at most.
pub const ACTIONS: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Grade {
    A,
    B,
    C,
    D,
    E,
    F,
}

impl Grade {
    /// A from 90, B from 80, C from 70, D from 60, E from 50, F below.
    pub fn of(score: f64) -> Grade {
        match score {
            s if s >= 90.0 => Grade::A,
            s if s >= 80.0 => Grade::B,
            s if s >= 70.0 => Grade::C,
            s if s >= 60.0 => Grade::D,
            s if s >= 50.0 => Grade::E,
            _ => Grade::F,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
            Grade::E => "E",
            Grade::F => "F",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricValue {
    pub metric: Metric,
    pub name: &'static str,
    pub unit: Unit,
    pub better: Better,
    pub weight: u32,
    /// `None`: nothing this week to measure it by.
    pub value: Option<f64>,
    /// Points (0–100) the value earns in the score; `None` for unweighted metrics.
    pub points: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Action {
    pub metric: Metric,
    pub text: String,
    /// Score points gained if this metric reached full marks.
    pub gain: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scorecard {
    pub week: Week,
    /// 0–100, rounded to one decimal; `None` when less than [`MIN_MEASURED_WEIGHT`] of
    /// the weight could be measured.
    pub score: Option<f64>,
    pub grade: Option<Grade>,
    /// Share of the total weight that could be measured this week.
    pub measured_weight: u32,
    pub metrics: Vec<MetricValue>,
    pub actions: Vec<Action>,
}

impl Scorecard {
    pub fn of(week: Week, counts: &WeekCounts) -> Scorecard {
        let metrics: Vec<MetricValue> = Metric::ALL
            .into_iter()
            .map(|metric| {
                let value = metric.value(counts);
                MetricValue {
                    metric,
                    name: metric.name(),
                    unit: metric.unit(),
                    better: metric.better(),
                    weight: metric.weight(),
                    value: value.map(round1),
                    points: value.and_then(|v| metric.points(v)).map(round1),
                }
            })
            .collect();
        let measured: Vec<(&MetricValue, f64)> = metrics
            .iter()
            .filter(|m| m.weight > 0)
            .filter_map(|m| m.points.map(|p| (m, p)))
            .collect();
        let measured_weight: u32 = measured.iter().map(|(m, _)| m.weight).sum();
        let score = (measured_weight >= MIN_MEASURED_WEIGHT).then(|| {
            let total: f64 = measured.iter().map(|(m, p)| f64::from(m.weight) * p).sum();
            round1(total / f64::from(measured_weight))
        });
        let mut actions: Vec<Action> = if measured_weight == 0 {
            Vec::new()
        } else {
            measured
                .iter()
                .map(|(m, p)| Action {
                    metric: m.metric,
                    text: m.metric.action(counts),
                    gain: round1(f64::from(m.weight) * (100.0 - p) / f64::from(measured_weight)),
                })
                .filter(|a| a.gain >= 0.5)
                .collect()
        };
        // Biggest gain first; ties in the order of the metric list (most basic first).
        actions.sort_by(|a, b| b.gain.total_cmp(&a.gain).then(a.metric.cmp(&b.metric)));
        actions.truncate(ACTIONS);
        Scorecard {
            week,
            score,
            grade: score.map(Grade::of),
            measured_weight,
            metrics,
            actions,
        }
    }

    pub fn value(&self, metric: Metric) -> Option<f64> {
        self.metrics
            .iter()
            .find(|m| m.metric == metric)
            .and_then(|m| m.value)
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posture::{DomainPosture, dmarc, spf};

    fn week() -> Week {
        Week::parse("2026-W48").expect("week")
    }

    #[test]
    fn grades_have_ten_point_bands() {
        assert_eq!(Grade::of(95.0), Grade::A);
        assert_eq!(Grade::of(90.0), Grade::A);
        assert_eq!(Grade::of(89.9), Grade::B);
        assert_eq!(Grade::of(61.0), Grade::D);
        assert_eq!(Grade::of(55.0), Grade::E);
        assert_eq!(Grade::of(12.0), Grade::F);
    }

    #[test]
    fn the_score_weighs_measured_metrics_and_ranks_the_actions() {
        let counts = WeekCounts {
            sign_ins: 500,
            successes: 200,
            successes_with_strength: 200,
            successes_multi_factor: 100,
            successes_phishing_resistant: 0,
            active_accounts: 50,
            active_accounts_multi_factor: 25,
            legacy_successes: 0,
            messages: 100,
            mailboxes: 40,
            staff: 50,
            staff_opted_in: 50,
            domains: vec![DomainPosture {
                domain: "a.example".into(),
                spf: spf(&["v=spf1 -all".into()]),
                dmarc: dmarc(&["v=DMARC1; p=reject".into()]),
                dkim: vec![crate::Dkim {
                    selector: "s1".into(),
                    key_type: "rsa".into(),
                }],
                error: None,
            }],
            ..WeekCounts::default()
        };
        let card = Scorecard::of(week(), &counts);
        // Measured: MFA accounts 50 (w20), phishing-resistant 0 (w10), legacy 100 (w15),
        // mail 100 (w15), coverage 100 (w10), opt-in 100 (w5): 75 of 100 weight.
        assert_eq!(card.measured_weight, 75);
        // (20·50 + 10·0 + 15·100 + 15·100 + 10·100 + 5·100) / 75 = 5500 / 75 = 73.3
        assert_eq!(card.score, Some(73.3));
        assert_eq!(card.grade, Some(Grade::C));
        let order: Vec<Metric> = card.actions.iter().map(|a| a.metric).collect();
        assert_eq!(order, [Metric::MfaAccounts, Metric::PhishingResistant]);
        assert_eq!(card.actions[0].gain, 13.3);
        assert!(
            card.actions[0].text.contains("25 of 50 accounts"),
            "{}",
            card.actions[0].text
        );
    }

    #[test]
    fn too_little_telemetry_gives_no_score() {
        let counts = WeekCounts {
            messages: 10,
            ..WeekCounts::default()
        };
        let card = Scorecard::of(week(), &counts);
        assert_eq!(card.measured_weight, 10);
        assert_eq!(card.score, None);
        assert_eq!(card.grade, None);
        assert_eq!(card.actions.len(), 1);
        assert!(
            card.actions[0].text.contains("sign-in logs"),
            "{}",
            card.actions[0].text
        );
    }
}
