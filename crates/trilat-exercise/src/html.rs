//! The after-action report as one self-contained HTML page: tables and two
//! charts drawn as inline SVG from the report's own figures (a timeline
//! per party, the distribution of inject-to-party latencies). No script,
//! no style sheet or font from elsewhere.

use std::fmt::Write as _;

use crate::after_action::{AfterAction, DeliveryStatus, FindingKind};

/// Latency histogram bins: upper bounds in ms (the last is open).
const LATENCY_BINS_MS: [i64; 8] = [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];
/// Chart width, in SVG units.
const WIDTH: f64 = 900.0;
/// Distinct inject colours (cycled).
const COLOURS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// The page.
pub fn render(report: &AfterAction) -> String {
    let mut page = String::with_capacity(64 * 1024);
    let title = format!("After-action report: {}", escape(&report.scenario));
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n<style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n<p>EXERCISE EXERCISE EXERCISE. Run <code>{}</code>, started {}, speed ×{}.</p>\n",
        escape(&report.run_id),
        report.started_at,
        report.speed
    );
    summary_table(&mut page, report);
    page.push_str("<h2>Timeline per party</h2>\n");
    timeline_svg(&mut page, report);
    outages_table(&mut page, report);
    page.push_str("<h2>Latency from inject to party</h2>\n");
    latency_svg(&mut page, report);
    findings(&mut page, report);
    injects(&mut page, report);
    page.push_str("</body></html>\n");
    page
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;font-size:90%}th{background:#eee}.withheld{color:#8a5a00}.missing{color:#b00;font-weight:bold}svg{border:1px solid #ddd;background:#fff}code{font-size:90%}";

fn summary_table(page: &mut String, report: &AfterAction) {
    page.push_str("<h2>Summary</h2>\n<table><tr><th>Party</th><th>Received</th><th>Withheld</th><th>Missing</th><th>Latency p50 (ms)</th><th>p90</th><th>max</th><th>Acknowledged</th><th>longest to acknowledge (ms)</th></tr>\n");
    let ms = |v: Option<i64>| v.map_or("–".to_string(), |v| v.to_string());
    for s in &report.summary {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            s.party,
            s.n_received,
            s.n_withheld,
            s.n_missing,
            ms(s.latency_ms_p50),
            ms(s.latency_ms_p90),
            ms(s.latency_ms_max),
            s.n_acknowledged,
            ms(s.acknowledge_ms_max)
        );
    }
    page.push_str("</table>\n");
}

/// One row per party; a dot where its node had a product (created or
/// received), in the inject's colour; a hollow square at the inject's time
/// for a product withheld from it, a cross for one missing; a shaded band
/// over a party's row while a link of its was cut or its node was down.
fn timeline_svg(page: &mut String, report: &AfterAction) {
    let start_ms = report.started_at.unix_ms();
    let mut marks: Vec<(usize, f64, usize, &str)> = Vec::new(); // (row, s, inject, kind)
    for inject in &report.injects {
        for product in &inject.products {
            for delivery in &product.deliveries {
                let Some(row) = report.parties.iter().position(|p| *p == delivery.party) else {
                    continue;
                };
                let (at_s, kind) = match &delivery.status {
                    DeliveryStatus::Owner { at, .. } | DeliveryStatus::Received { at, .. } => {
                        ((at.unix_ms() - start_ms) as f64 / 1000.0, "had")
                    }
                    DeliveryStatus::Stored => continue,
                    DeliveryStatus::Withheld { .. } => (
                        (inject.played_at.unix_ms() - start_ms) as f64 / 1000.0,
                        "withheld",
                    ),
                    DeliveryStatus::Missing => (
                        (inject.played_at.unix_ms() - start_ms) as f64 / 1000.0,
                        "missing",
                    ),
                };
                marks.push((row, at_s.max(0.0), inject.inject_idx, kind));
            }
        }
    }
    let seconds = |at: trilat_core::Timestamp| ((at.unix_ms() - start_ms) as f64 / 1000.0).max(0.0);
    let span_s = marks
        .iter()
        .map(|m| m.1)
        .chain(report.outages.iter().map(|o| seconds(o.to)))
        .fold(1.0_f64, f64::max);
    let (left, row_h) = (60.0, 40.0);
    let height = 40.0 + row_h * report.parties.len() as f64;
    let x = |s: f64| left + (WIDTH - left - 20.0) * s / span_s;
    let _ = writeln!(
        page,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"timeline per party\">"
    );
    for (row, party) in report.parties.iter().enumerate() {
        let y = 20.0 + row_h * (row as f64 + 0.5);
        let _ = writeln!(
            page,
            "<text x=\"5\" y=\"{:.1}\" font-size=\"13\">{party}</text><line x1=\"{left}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ccc\"/>",
            y + 4.0,
            WIDTH - 20.0
        );
    }
    for outage in &report.outages {
        let (from_s, to_s) = (seconds(outage.from), seconds(outage.to));
        let what = match outage.type_name.as_str() {
            "node_restart" => "node down",
            _ => "link cut",
        };
        for party in &outage.parties {
            let Some(row) = report.parties.iter().position(|p| p == party) else {
                continue;
            };
            let _ = writeln!(
                page,
                "<rect class=\"outage\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#888\" fill-opacity=\"0.25\"><title>inject {}: {party} {what} from {from_s:.1} s to {to_s:.1} s</title></rect>",
                x(from_s),
                20.0 + row_h * row as f64 + 4.0,
                (x(to_s) - x(from_s)).max(1.0),
                row_h - 8.0,
                outage.inject_idx + 1
            );
        }
    }
    for (row, at_s, inject_idx, kind) in &marks {
        let (cx, cy) = (x(*at_s), 20.0 + row_h * (*row as f64 + 0.5));
        let colour = COLOURS[inject_idx % COLOURS.len()];
        let title = format!("inject {}, {kind} at {at_s:.1} s", inject_idx + 1);
        let _ = match *kind {
            "had" => writeln!(page, "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"4\" fill=\"{colour}\"><title>{title}</title></circle>"),
            "withheld" => writeln!(page, "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" fill=\"none\" stroke=\"{colour}\"><title>{title}</title></rect>", cx - 4.0, cy - 14.0),
            _ => writeln!(page, "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#b00\" font-size=\"14\">×<title>{title}</title></text>", cx - 4.0, cy + 18.0),
        };
    }
    let _ = writeln!(
        page,
        "<text x=\"{left}\" y=\"{:.1}\" font-size=\"11\">0 s</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{span_s:.1} s after the start (wall clock; exercise time ×{})</text></svg>",
        height - 4.0,
        WIDTH - 20.0,
        height - 4.0,
        report.speed
    );
}

/// Grouped bars: for each latency bin, one bar per party counting the
/// injects whose first product reached the party within it.
fn latency_svg(page: &mut String, report: &AfterAction) {
    let n_bins = LATENCY_BINS_MS.len() + 1;
    let counts: Vec<Vec<usize>> = report
        .summary
        .iter()
        .map(|s| {
            let mut bins = vec![0; n_bins];
            for latency in &s.latencies_ms {
                let bin = LATENCY_BINS_MS
                    .iter()
                    .position(|upper| latency <= upper)
                    .unwrap_or(n_bins - 1);
                bins[bin] += 1;
            }
            bins
        })
        .collect();
    let count_max = counts.iter().flatten().copied().max().unwrap_or(0).max(1);
    let (left, bottom, plot_h) = (40.0, 40.0, 200.0);
    let height = plot_h + bottom + 20.0;
    let group_w = (WIDTH - left - 20.0) / n_bins as f64;
    let bar_w = (group_w - 8.0) / counts.len().max(1) as f64;
    let _ = writeln!(
        page,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"latency distribution\">"
    );
    for (party_idx, bins) in counts.iter().enumerate() {
        let colour = COLOURS[party_idx % COLOURS.len()];
        for (bin, n) in bins.iter().enumerate() {
            let h = plot_h * *n as f64 / count_max as f64;
            let bx = left + group_w * bin as f64 + 4.0 + bar_w * party_idx as f64;
            let _ = writeln!(
                page,
                "<rect x=\"{bx:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{colour}\"><title>{}: {n}</title></rect>",
                20.0 + plot_h - h,
                (bar_w - 1.0).max(1.0),
                report.summary[party_idx].party
            );
        }
    }
    for bin in 0..n_bins {
        let label = match LATENCY_BINS_MS.get(bin) {
            Some(upper) => format!("≤{upper}"),
            None => format!(">{}", LATENCY_BINS_MS[LATENCY_BINS_MS.len() - 1]),
        };
        let _ = writeln!(
            page,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{label}</text>",
            left + group_w * (bin as f64 + 0.5),
            20.0 + plot_h + 16.0
        );
    }
    let _ = writeln!(
        page,
        "<text x=\"5\" y=\"28\" font-size=\"11\">{count_max}</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">ms from inject to the party's first product</text>",
        WIDTH / 2.0,
        height - 4.0
    );
    for (party_idx, s) in report.summary.iter().enumerate() {
        let _ = writeln!(
            page,
            "<rect x=\"{:.1}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{:.1}\" y=\"13\" font-size=\"11\">{}</text>",
            WIDTH - 200.0 + 60.0 * party_idx as f64,
            COLOURS[party_idx % COLOURS.len()],
            WIDTH - 186.0 + 60.0 * party_idx as f64,
            s.party
        );
    }
    page.push_str("</svg>\n");
}

/// Each link outage and node restart: when, and what each party it
/// touched received only after it ended.
fn outages_table(page: &mut String, report: &AfterAction) {
    if report.outages.is_empty() {
        return;
    }
    page.push_str("<h2>Outages and restarts</h2>\n<table><tr><th>Inject</th><th>Type</th><th>From</th><th>To</th><th>Party</th><th>Caught up after</th><th>Last one</th></tr>\n");
    for outage in &report.outages {
        for caught_up in &outage.caught_up {
            let _ = writeln!(
                page,
                "<tr><td>{}. {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} product(s)</td><td>{}</td></tr>",
                outage.inject_idx + 1,
                escape(&outage.label),
                escape(&outage.type_name),
                outage.from,
                outage.to,
                caught_up.party,
                caught_up.n_products,
                caught_up
                    .last_after_ms
                    .map_or("–".to_string(), |ms| format!("+{ms} ms"))
            );
        }
    }
    page.push_str("</table>\n");
}

fn findings(page: &mut String, report: &AfterAction) {
    page.push_str("<h2>Findings</h2>\n");
    if report.findings.is_empty() {
        page.push_str("<p>No duplicates, gaps or unacknowledged warnings.</p>\n");
        return;
    }
    page.push_str("<ul>\n");
    for finding in &report.findings {
        let kind = match finding.kind {
            FindingKind::Duplicate => "duplicate",
            FindingKind::Gap => "gap",
            FindingKind::Unacknowledged => "unacknowledged",
            FindingKind::NotExercise => "not flagged exercise",
        };
        let _ = writeln!(
            page,
            "<li><b>{kind}</b> (inject {}): {}</li>",
            finding.inject_idx + 1,
            escape(&finding.message)
        );
    }
    page.push_str("</ul>\n");
}

fn injects(page: &mut String, report: &AfterAction) {
    page.push_str("<h2>Injects</h2>\n");
    for inject in &report.injects {
        let _ = writeln!(
            page,
            "<h3>{}. {} <small>({}, at {} s, played {})</small></h3>",
            inject.inject_idx + 1,
            escape(&inject.label),
            escape(&inject.type_name),
            inject.at_s,
            inject.played_at
        );
        page.push_str("<table><tr><th>Product</th><th>Owner</th><th>Marking</th>");
        for party in &report.parties {
            let _ = write!(page, "<th>{party}</th>");
        }
        page.push_str("</tr>\n");
        for product in &inject.products {
            let _ = write!(
                page,
                "<tr><td><code>{}</code> {}</td><td>{}</td><td>{}</td>",
                product.id,
                escape(&product.kind),
                product.owner,
                escape(&product.banner)
            );
            for delivery in &product.deliveries {
                let cell = match &delivery.status {
                    DeliveryStatus::Owner { latency_ms, .. } => format!("owner, +{latency_ms} ms"),
                    DeliveryStatus::Received { latency_ms, .. } => format!("+{latency_ms} ms"),
                    DeliveryStatus::Stored => "stored".into(),
                    DeliveryStatus::Withheld { reason } => {
                        format!(
                            "<span class=\"withheld\">withheld: {}</span>",
                            escape(reason)
                        )
                    }
                    DeliveryStatus::Missing => "<span class=\"missing\">missing</span>".into(),
                };
                let ack = match &delivery.acknowledged {
                    Some(ack) => format!(
                        "; acknowledged{} by {}",
                        ack.after_ms
                            .map_or(String::new(), |ms| format!(" +{ms} ms")),
                        escape(&ack.by)
                    ),
                    None => String::new(),
                };
                let _ = write!(page, "<td>{cell}{ack}</td>");
            }
            page.push_str("</tr>\n");
        }
        page.push_str("</table>\n");
        if inject.n_products_unlisted > 0 {
            let _ = writeln!(
                page,
                "<p>… and {} more products (in the JSON).</p>",
                inject.n_products_unlisted
            );
        }
    }
}

/// Text as HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
