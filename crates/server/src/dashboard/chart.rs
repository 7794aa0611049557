//! Charts drawn on the server as SVG: readable without JavaScript, labelled for screen
//! readers (`<title>`, `<desc>`, a `<title>` per bar), every label escaped.

use std::fmt::Write as _;

use jiff::{SignedDuration, Timestamp};
use notify::email::escape;

/// A moment worth marking on a time axis: an incident opened.
pub(crate) struct Marker {
    pub at: Timestamp,
    pub label: String,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 36.0;

/// Counts per hour over `hours` hours from `from`; `counts` are (start of hour, count), in
/// any order, hours without one left out, hours outside the window dropped.
fn bucket(counts: &[(Timestamp, i64)], from: Timestamp, hours: usize) -> Vec<i64> {
    let mut per_hour = vec![0i64; hours];
    for (start, count) in counts {
        let index = start.duration_since(from).as_hours();
        if (0..hours as i64).contains(&index) {
            per_hour[index as usize] += count;
        }
    }
    per_hour
}

/// Failed sign-ins (blue) and phishing messages (orange, beside them) per hour over
/// `hours` hours from `from`, on one scale, with `markers` drawn as vertical lines.
pub(crate) fn attack_volume(
    failures: &[(Timestamp, i64)],
    phishing: &[(Timestamp, i64)],
    from: Timestamp,
    hours: usize,
    markers: &[Marker],
) -> String {
    let hours = hours.max(1);
    let per_hour = bucket(failures, from, hours);
    let phish = bucket(phishing, from, hours);
    let total: i64 = per_hour.iter().sum();
    let phish_total: i64 = phish.iter().sum();
    let peak = per_hour
        .iter()
        .chain(phish.iter())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let bar_w = plot_w / hours as f64;
    let until = from + SignedDuration::from_hours(hours as i64);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" role=\"img\" aria-labelledby=\"chart-title chart-desc\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"chart-title\">Attack volume per hour</title>\
         <desc id=\"chart-desc\">{total} failed sign-ins and {phish_total} phishing messages from {} to {} (UTC), at most {} failed sign-ins in one hour; {} incidents marked.</desc>",
        hour_label(from, true),
        hour_label(until, true),
        per_hour.iter().max().unwrap_or(&0),
        markers.len()
    );
    // Axes and the y scale: 0, half, peak.
    let _ = write!(
        svg,
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{}\"/>\
         <line class=\"axis\" x1=\"{LEFT}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\"/>",
        TOP + plot_h,
        WIDTH - RIGHT
    );
    for value in [0, peak / 2, peak] {
        let y = TOP + plot_h - plot_h * value as f64 / peak as f64;
        let _ = write!(
            svg,
            "<text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{value}</text>",
            LEFT - 6.0,
            y + 4.0
        );
    }
    for (i, count) in per_hour.iter().enumerate() {
        let start = from + SignedDuration::from_hours(i as i64);
        let x = LEFT + bar_w * i as f64;
        if *count > 0 {
            let h = plot_h * *count as f64 / peak as f64;
            let _ = write!(
                svg,
                "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\">\
                 <title>{}: {count} failed sign-ins</title></rect>",
                x + 0.5,
                TOP + plot_h - h,
                (bar_w - 1.0).max(0.5),
                escape(&hour_label(start, true))
            );
        }
        if phish[i] > 0 {
            let h = plot_h * phish[i] as f64 / peak as f64;
            let _ = write!(
                svg,
                "<rect class=\"phish\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\">\
                 <title>{}: {} phishing messages</title></rect>",
                x + bar_w / 2.0,
                TOP + plot_h - h,
                (bar_w / 2.0 - 0.5).max(0.5),
                escape(&hour_label(start, true)),
                phish[i]
            );
        }
        // An hour label every six hours.
        if start.as_second().rem_euclid(6 * 3600) == 0 {
            let _ = write!(
                svg,
                "<text class=\"tick\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                TOP + plot_h + 16.0,
                escape(&hour_label(
                    start,
                    start.as_second().rem_euclid(86_400) == 0
                ))
            );
        }
    }
    for marker in markers {
        let offset = marker.at.duration_since(from).as_secs_f64() / 3600.0;
        if !(0.0..hours as f64).contains(&offset) {
            continue;
        }
        let x = LEFT + bar_w * offset;
        let _ = write!(
            svg,
            "<line class=\"marker\" x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{:.1}\">\
             <title>{}</title></line>",
            TOP + plot_h,
            escape(&marker.label)
        );
    }
    let _ = write!(
        svg,
        "<text class=\"legend\" x=\"{LEFT}\" y=\"{:.1}\">blue: failed sign-ins · orange: phishing messages · red lines: incidents opened (per hour, UTC)</text></svg>",
        HEIGHT - 4.0
    );
    svg
}

/// One week of the score's trend.
pub(crate) struct ScorePoint {
    pub week: String,
    pub score: Option<f64>,
    pub grade: Option<&'static str>,
}

/// The score (0–100) week by week as a line with a dot per week; weeks without a score
/// break the line. Grade bands are drawn behind it.
pub(crate) fn score_trend(points: &[ScorePoint]) -> String {
    const H: f64 = 200.0;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let step = plot_w / points.len().max(1) as f64;
    let x = |i: usize| LEFT + step * (i as f64 + 0.5);
    let y = |score: f64| TOP + plot_h - plot_h * score.clamp(0.0, 100.0) / 100.0;
    let scored: Vec<&ScorePoint> = points.iter().filter(|p| p.score.is_some()).collect();
    let description = match (scored.first(), scored.last()) {
        (Some(first), Some(last)) if scored.len() > 1 => format!(
            "From {:.1} in {} to {:.1} in {}; {} of {} weeks scored.",
            first.score.unwrap_or_default(),
            first.week,
            last.score.unwrap_or_default(),
            last.week,
            scored.len(),
            points.len()
        ),
        (Some(only), _) => format!(
            "{:.1} in {}; the only week scored.",
            only.score.unwrap_or_default(),
            only.week
        ),
        _ => "No week had enough telemetry to score.".to_owned(),
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart trend\" role=\"img\" aria-labelledby=\"trend-title trend-desc\" \
         viewBox=\"0 0 {WIDTH} {H}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"trend-title\">Score over the last {} weeks</title>\
         <desc id=\"trend-desc\">{}</desc>",
        points.len(),
        escape(&description)
    );
    for (low, high, grade) in [(90.0, 100.0, "a"), (70.0, 90.0, "c"), (0.0, 70.0, "f")] {
        let _ = write!(
            svg,
            "<rect class=\"band band-{grade}\" x=\"{LEFT}\" y=\"{:.1}\" width=\"{plot_w:.1}\" height=\"{:.1}\"/>",
            y(high),
            y(low) - y(high)
        );
    }
    let _ = write!(
        svg,
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{0:.1}\"/>\
         <line class=\"axis\" x1=\"{LEFT}\" y1=\"{0:.1}\" x2=\"{1}\" y2=\"{0:.1}\"/>",
        TOP + plot_h,
        WIDTH - RIGHT
    );
    for value in [0.0, 50.0, 100.0] {
        let _ = write!(
            svg,
            "<text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{value}</text>",
            LEFT - 6.0,
            y(value) + 4.0
        );
    }
    let mut path = String::new();
    for (i, point) in points.iter().enumerate() {
        if let Some(score) = point.score {
            // A week without a score breaks the line: the next scored week starts anew.
            let verb = if path.is_empty() || points[i.saturating_sub(1)].score.is_none() {
                "M"
            } else {
                "L"
            };
            let _ = write!(path, "{verb}{:.1},{:.1} ", x(i), y(score));
        }
        // Every other week, counted back from the last, so that the newest is always named.
        if (points.len() - 1 - i).is_multiple_of(2) {
            let _ = write!(
                svg,
                "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x(i),
                TOP + plot_h + 16.0,
                escape(&point.week)
            );
        }
    }
    if !path.is_empty() {
        let _ = write!(svg, "<path class=\"line\" d=\"{}\"/>", path.trim_end());
    }
    for (i, point) in points.iter().enumerate() {
        if let Some(score) = point.score {
            let _ = write!(
                svg,
                "<circle class=\"dot\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\"><title>{}: {score:.1} ({})</title></circle>",
                x(i),
                y(score),
                escape(&point.week),
                point.grade.unwrap_or("-")
            );
        }
    }
    let _ = write!(
        svg,
        "<text class=\"legend\" x=\"{LEFT}\" y=\"{:.1}\">score 0–100 per ISO week; shaded: A (90+), B–C (70–90), D–F (below 70)</text></svg>",
        H - 4.0
    );
    svg
}

/// One figure of a sector comparison, on the metric's own scale.
pub(crate) struct PeerBar {
    pub name: String,
    pub unit: String,
    pub p25: f64,
    pub median: f64,
    pub p75: f64,
    pub own: Option<f64>,
    pub rank: Option<f64>,
    /// The top of the scale: 100 for shares and points, else what fits everything.
    pub scale: f64,
}

/// A row per figure: the sector's middle half as a band, its median as a tick, and the
/// organisation as a dot.
pub(crate) fn sector_bars(bars: &[PeerBar]) -> String {
    const ROW: f64 = 34.0;
    const LABEL: f64 = 300.0;
    let h = TOP + ROW * bars.len() as f64 + 24.0;
    let plot_w = WIDTH - LABEL - RIGHT - 60.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart peers\" role=\"img\" aria-labelledby=\"peers-title peers-desc\" \
         viewBox=\"0 0 {WIDTH} {h:.0}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"peers-title\">Your organisation among its sector</title>\
         <desc id=\"peers-desc\">{} figures; each shows the sector's middle half (25th to 75th percentile) as a band, its median as a line and your value as a dot.</desc>",
        bars.len()
    );
    for (i, bar) in bars.iter().enumerate() {
        let top = TOP + ROW * i as f64;
        let scale = bar.scale.max(f64::MIN_POSITIVE);
        let x = |v: f64| LABEL + plot_w * (v / scale).clamp(0.0, 1.0);
        let name = escape(&bar.name);
        let unit = escape(&bar.unit);
        let (label_x, label_y, axis_y, axis_end) =
            (LABEL - 8.0, top + 14.0, top + 10.0, LABEL + plot_w);
        let (band_x, band_y, band_w) = (x(bar.p25), top + 4.0, (x(bar.p75) - x(bar.p25)).max(1.0));
        let (median_x, median_end) = (x(bar.median), top + 16.0);
        let (p25, p75, median) = (bar.p25, bar.p75, bar.median);
        let _ = write!(
            svg,
            "<text class=\"label\" x=\"{label_x:.1}\" y=\"{label_y:.1}\" text-anchor=\"end\">{name}</text>\
             <line class=\"axis\" x1=\"{LABEL}\" y1=\"{axis_y:.1}\" x2=\"{axis_end:.1}\" y2=\"{axis_y:.1}\"/>\
             <rect class=\"iqr\" x=\"{band_x:.1}\" y=\"{band_y:.1}\" width=\"{band_w:.1}\" height=\"12\"><title>{name}: sector 25th–75th percentile {p25} to {p75} {unit}</title></rect>\
             <line class=\"median\" x1=\"{median_x:.1}\" y1=\"{band_y:.1}\" x2=\"{median_x:.1}\" y2=\"{median_end:.1}\"><title>{name}: sector median {median} {unit}</title></line>"
        );
        if let Some(own) = bar.own {
            let rank = bar
                .rank
                .map(|r| format!(", better than {r:.0}% of the sector"))
                .unwrap_or_default();
            let _ = write!(
                svg,
                "<circle class=\"own\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\"><title>{}: you {own} {}{}</title></circle>\
                 <text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                x(own),
                top + 10.0,
                escape(&bar.name),
                escape(&bar.unit),
                rank,
                LABEL + plot_w + 8.0,
                top + 14.0,
                bar.rank
                    .map(|r| format!("{r:.0}th pct"))
                    .unwrap_or_default()
            );
        }
    }
    let _ = write!(
        svg,
        "<text class=\"legend\" x=\"{LABEL}\" y=\"{:.1}\">band: sector's middle half · line: median · dot: you · right: your percentile (higher is better)</text></svg>",
        h - 4.0
    );
    svg
}

fn hour_label(at: Timestamp, with_day: bool) -> String {
    if with_day {
        at.strftime("%d %b %H:00").to_string()
    } else {
        at.strftime("%H:00").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("time")
    }

    #[test]
    fn bars_stand_where_their_hours_are_and_markers_are_escaped() {
        let from = at("2026-12-05T00:00:00Z");
        let counts = [
            (at("2026-12-05T03:00:00Z"), 10),
            (at("2026-12-05T04:00:00Z"), 5),
            // Outside the window: not drawn.
            (at("2026-12-07T04:00:00Z"), 500),
        ];
        let markers = [Marker {
            at: at("2026-12-05T03:30:00Z"),
            label: "password spray <script>alert(1)</script>".into(),
        }];
        let phishing = [(at("2026-12-05T04:00:00Z"), 2)];
        let svg = attack_volume(&counts, &phishing, from, 48, &markers);
        assert!(svg.contains("<title>05 Dec 04:00: 2 phishing messages</title>"));
        assert!(svg.contains("15 failed sign-ins and 2 phishing messages"));
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 2);
        assert!(svg.contains("<title>05 Dec 03:00: 10 failed sign-ins</title>"));
        assert!(svg.contains("from 05 Dec 00:00 to 07 Dec 00:00"));
        assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script>"));
        assert_eq!(svg.matches("class=\"marker\"").count(), 1);
        // The tallest bar reaches the top of the plot.
        assert!(svg.contains(&format!("y=\"{TOP:.1}\"")));
    }

    #[test]
    fn the_trend_breaks_at_unscored_weeks_and_escapes_labels() {
        let points = [
            ScorePoint {
                week: "2026-W46".into(),
                score: Some(50.0),
                grade: Some("E"),
            },
            ScorePoint {
                week: "2026-W47".into(),
                score: None,
                grade: None,
            },
            ScorePoint {
                week: "2026-W48".into(),
                score: Some(100.0),
                grade: Some("A"),
            },
            ScorePoint {
                week: "<b>".into(),
                score: Some(0.0),
                grade: Some("F"),
            },
        ];
        let svg = score_trend(&points);
        assert_eq!(svg.matches("<circle class=\"dot\"").count(), 3);
        // Two pieces of line: W46 alone, then W48 to the last week.
        let path = svg
            .split("class=\"line\" d=\"")
            .nth(1)
            .expect("line")
            .split('"')
            .next()
            .expect("d");
        assert_eq!(path.matches('M').count(), 2, "{path}");
        assert_eq!(path.matches('L').count(), 1, "{path}");
        assert!(svg.contains("<title>2026-W48: 100.0 (A)</title>"));
        // 100 sits at the top of the plot, 0 on the axis.
        assert!(svg.contains(&format!("cy=\"{TOP:.1}\"")));
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
        assert!(svg.contains("From 50.0 in 2026-W46 to 0.0 in &lt;b&gt;"));
    }

    #[test]
    fn sector_bars_place_band_median_and_dot_on_the_scale() {
        let bars = [PeerBar {
            name: "MFA <accounts>".into(),
            unit: "%".into(),
            p25: 20.0,
            median: 30.0,
            p75: 40.0,
            own: Some(50.0),
            rank: Some(90.0),
            scale: 100.0,
        }];
        let svg = sector_bars(&bars);
        // The plot spans 300..648; 50 % is its middle.
        assert!(svg.contains("<circle class=\"own\" cx=\"474.0\""), "{svg}");
        assert!(svg.contains("x=\"369.6\""), "band starts at 20 %: {svg}");
        assert!(svg.contains("better than 90% of the sector"));
        assert!(svg.contains("MFA &lt;accounts&gt;"));
    }

    #[test]
    fn an_empty_window_still_draws_labelled_axes() {
        let svg = attack_volume(&[], &[], at("2026-12-05T00:00:00Z"), 24, &[]);
        assert!(svg.contains("0 failed sign-ins"));
        assert!(svg.contains("<title id=\"chart-title\">"));
        assert_eq!(svg.matches("class=\"bar\"").count(), 0);
    }
}
