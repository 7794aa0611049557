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
    fn an_empty_window_still_draws_labelled_axes() {
        let svg = attack_volume(&[], &[], at("2026-12-05T00:00:00Z"), 24, &[]);
        assert!(svg.contains("0 failed sign-ins"));
        assert!(svg.contains("<title id=\"chart-title\">"));
        assert_eq!(svg.matches("class=\"bar\"").count(), 0);
    }
}
