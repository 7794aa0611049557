//! Fixtures the notification tests share: the indicator matches and the attribution of
//! a known-indicator incident, as the intakes would have weighed them.

use model::IndicatorMatch;
use model::attribution::{ActorRef, Alternative, Attribution, Confidence};

/// A CERT feed's indicator on 198.51.100.0/24 linked to Forest Blizzard, and a Tor exit.
pub fn cert_feed_matches() -> Vec<IndicatorMatch> {
    vec![
        IndicatorMatch {
            indicator: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f".into(),
            feed: "cert-feed".into(),
            field: "ipv4-addr:value".into(),
            observed: "198.51.100.23".into(),
            pattern: "[ipv4-addr:value = '198.51.100.0/24']".into(),
            actors: vec!["forest-blizzard".into()],
            labels: vec!["malicious-activity".into()],
        },
        IndicatorMatch {
            indicator: "tor-exits:412".into(),
            feed: "tor-exits".into(),
            field: "ipv4-addr:value".into(),
            observed: "203.0.113.50".into(),
            pattern: "[ipv4-addr:value = '203.0.113.50']".into(),
            actors: vec![],
            labels: vec!["tor-exit".into()],
        },
    ]
}

/// Forest Blizzard, very likely, high confidence, from the feed's link.
pub fn forest_blizzard() -> Attribution {
    Attribution {
        actor: Some(ActorRef {
            id: "forest-blizzard".into(),
            name: "Forest Blizzard".into(),
            aliases: vec!["STRONTIUM".into(), "APT28".into(), "Fancy Bear".into()],
        }),
        confidence: Confidence::High,
        words: model::attribution::VERY_LIKELY,
        evidence: vec![
            "Indicator indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f from feed cert-feed links this incident to Forest Blizzard (forest-blizzard).".into(),
            "Technique T1078 is one Forest Blizzard is reported to use.".into(),
            "Source addresses are on a tor-exit list; Forest Blizzard is reported to use: anonymisation networks.".into(),
            "Forest Blizzard is reported to target the health sector, the targeted organisation's.".into(),
        ],
        conflict: false,
        alternatives: vec![Alternative {
            id: "midnight-blizzard".into(),
            name: "Midnight Blizzard".into(),
            confidence: Confidence::Low,
        }],
    }
}
