//! docs/metrics.md is the reference people cite: it must say what the code does. This
//! test reads the metric table (the Markdown table whose header has a `Weight` column)
//! and checks it against `Metric::ALL`: every metric has exactly one row, in the code's
//! order, with its id in backticks in the first cell, its name, and its weight. The
//! thresholds are written as a bold number just before the constant's name in
//! backticks (`at least **5** organisations (`MIN_CONTRIBUTORS`)`) and checked too.

use tocsin_scorecard::posture::COMMON_DKIM_SELECTORS;
use tocsin_scorecard::{ACTIONS, MAX_LOOKALIKES, MIN_CONTRIBUTORS, MIN_MEASURED_WEIGHT, Metric};

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/metrics.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn cells(line: &str) -> Vec<String> {
    let line = line.trim();
    let inner = line.strip_prefix('|').unwrap_or(line);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    inner.split('|').map(|c| c.trim().to_owned()).collect()
}

/// A row of the metric table: the first cell, the name cell and the weight cell.
struct Row {
    line: usize,
    id: String,
    name: String,
    weight: String,
}

/// The rows of every table whose header has `Weight` and `Name` columns.
fn metric_rows(doc: &str) -> Vec<Row> {
    let lines: Vec<&str> = doc.lines().collect();
    let mut rows = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let starts_table = lines[i].trim_start().starts_with('|')
            && (i == 0 || !lines[i - 1].trim_start().starts_with('|'));
        if !starts_table {
            i += 1;
            continue;
        }
        let header = cells(lines[i]);
        let column = |name: &str| header.iter().position(|c| c.eq_ignore_ascii_case(name));
        let (Some(name_at), Some(weight_at)) = (column("Name"), column("Weight")) else {
            i += 1;
            continue;
        };
        // Skip the header and the |---| line.
        i += 2;
        while i < lines.len() && lines[i].trim_start().starts_with('|') {
            let row = cells(lines[i]);
            assert_eq!(
                row.len(),
                header.len(),
                "docs/metrics.md line {}: {} cells where the header has {} (a `|` inside a cell?)",
                i + 1,
                row.len(),
                header.len()
            );
            rows.push(Row {
                line: i + 1,
                id: row[0].clone(),
                name: row[name_at].clone(),
                weight: row[weight_at].clone(),
            });
            i += 1;
        }
    }
    rows
}

#[test]
fn the_metric_table_has_every_metric_with_its_weight() {
    let doc = doc();
    let rows = metric_rows(&doc);
    assert!(
        !rows.is_empty(),
        "docs/metrics.md has no table with Name and Weight columns"
    );
    for metric in Metric::ALL {
        let id = format!("`{}`", metric.id());
        assert!(doc.contains(&id), "docs/metrics.md never names {id}");
        let found: Vec<&Row> = rows.iter().filter(|r| r.id == id).collect();
        assert_eq!(
            found.len(),
            1,
            "docs/metrics.md should have exactly one metric-table row for {id}"
        );
        let row = found[0];
        assert_eq!(
            row.name,
            metric.name(),
            "docs/metrics.md line {}: the name of {id}",
            row.line
        );
        let weight: u32 = row.weight.parse().unwrap_or_else(|_| {
            panic!(
                "docs/metrics.md line {}: the weight of {id} is {:?}, not a number",
                row.line, row.weight
            )
        });
        assert_eq!(
            weight,
            metric.weight(),
            "docs/metrics.md line {}: the weight of {id}",
            row.line
        );
    }
    // Nothing else in the table, and the code's order (the exports' column order).
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let expected: Vec<String> = Metric::ALL
        .iter()
        .map(|m| format!("`{}`", m.id()))
        .collect();
    assert_eq!(
        ids, expected,
        "the metric table's rows should be Metric::ALL, in order"
    );
}

/// The bold number closest before the first `` `name` `` in its paragraph.
fn number_before(doc: &str, name: &str) -> Option<u64> {
    let needle = format!("`{name}`");
    let paragraph = doc.split("\n\n").find(|p| p.contains(&needle))?;
    let before = &paragraph[..paragraph.find(&needle)?];
    before
        .split("**")
        .enumerate()
        .filter(|(n, _)| n % 2 == 1)
        .filter_map(|(_, bold)| bold.trim().parse::<u64>().ok())
        .last()
}

#[test]
fn the_thresholds_are_the_code_s() {
    let doc = doc();
    for (name, value) in [
        ("MIN_CONTRIBUTORS", MIN_CONTRIBUTORS as u64),
        ("MIN_MEASURED_WEIGHT", u64::from(MIN_MEASURED_WEIGHT)),
        ("ACTIONS", ACTIONS as u64),
        ("MAX_LOOKALIKES", MAX_LOOKALIKES as u64),
    ] {
        assert_eq!(
            number_before(&doc, name),
            Some(value),
            "docs/metrics.md should write {name} as **{value}** just before `{name}`"
        );
    }
}

#[test]
fn every_common_dkim_selector_is_listed() {
    let doc = doc();
    for selector in COMMON_DKIM_SELECTORS {
        assert!(
            doc.contains(&format!("`{selector}`")),
            "docs/metrics.md does not list the DKIM selector `{selector}`"
        );
    }
}
