//! Pictures of the benchmark results, written beside each JSON file by `cargo xtask bench`:
//! `dma-pool.svg` (the host pool benchmark: ns per alloc+free pair by pool size and
//! occupancy, coherent against the Linux bitmap baseline) and `guest-ARCH.svg` (the guest
//! operations: median instructions under `icount` with the p99 marked, or median cycles for
//! rows of another accelerator).
//!
//! Hand-written SVG (horizontal bars on a logarithmic axis, since the figures span three
//! decades): no plotting crate is needed for bars and labels, and the files stay small and
//! diffable. The JSON files are read line by line: their writers put one object per line.

use std::fmt::Write;

/// One bar: its label, its value, an optional second mark (the p99) and its colour.
pub struct Bar {
    /// Text left of the bar.
    pub label: String,
    /// The bar's length.
    pub value: f64,
    /// A tick drawn at this value (the 99th percentile), if any.
    pub mark: Option<f64>,
    /// Fill colour.
    pub colour: &'static str,
}

/// Colours of the series.
pub const BLUE: &str = "#3b6fb6";
/// Colours of the series.
pub const ORANGE: &str = "#e08a2c";

const LABEL_WIDTH: f64 = 230.0;
const PLOT_WIDTH: f64 = 520.0;
const BAR_HEIGHT: f64 = 16.0;
const GAP: f64 = 6.0;
const TOP: f64 = 56.0;

/// The value of number field `name` in one JSON object line.
pub fn number(line: &str, name: &str) -> Option<f64> {
    let rest = &line[line.find(&format!("\"{name}\":"))? + name.len() + 3..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// The value of string field `name` in one JSON object line.
pub fn string<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let rest = &line[line.find(&format!("\"{name}\": \""))? + name.len() + 5..];
    Some(&rest[..rest.find('"')?])
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal bar chart with a log10 axis labelled `unit`; `legend` names the colours.
pub fn bar_chart(title: &str, unit: &str, bars: &[Bar], legend: &[(&str, &str)]) -> String {
    let values = bars
        .iter()
        .flat_map(|bar| [Some(bar.value), bar.mark])
        .flatten()
        .filter(|value| *value > 0.0);
    let (low, high) = values.fold((f64::MAX, f64::MIN), |(low, high), value| {
        (low.min(value), high.max(value))
    });
    let (low, high) = if low > high { (1.0, 10.0) } else { (low, high) };
    let first = low.log10().floor() as i32;
    let last = (high.log10().ceil() as i32).max(first + 1);
    let x = |value: f64| {
        let position =
            (value.max(10f64.powi(first)).log10() - f64::from(first)) / f64::from(last - first);
        LABEL_WIDTH + position * PLOT_WIDTH
    };
    let height = TOP + bars.len() as f64 * (BAR_HEIGHT + GAP) + 40.0;
    let width = LABEL_WIDTH + PLOT_WIDTH + 30.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="10" y="20" font-size="14" font-weight="bold">{}</text>"#,
        escape(title)
    );
    let mut legend_x = LABEL_WIDTH;
    for (name, colour) in legend {
        let _ = writeln!(
            svg,
            r#"<rect x="{legend_x}" y="30" width="12" height="12" fill="{colour}"/><text x="{}" y="40">{}</text>"#,
            legend_x + 16.0,
            escape(name)
        );
        legend_x += 30.0 + 7.0 * name.len() as f64;
    }
    let bottom = TOP + bars.len() as f64 * (BAR_HEIGHT + GAP);
    for power in first..=last {
        let position = x(10f64.powi(power));
        let _ = writeln!(
            svg,
            r##"<line x1="{position:.1}" y1="{TOP}" x2="{position:.1}" y2="{bottom}" stroke="#ccc"/><text x="{position:.1}" y="{}" text-anchor="middle">{}</text>"##,
            bottom + 14.0,
            axis_label(power)
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">{} (log scale)</text>"#,
        LABEL_WIDTH + PLOT_WIDTH / 2.0,
        bottom + 32.0,
        escape(unit)
    );
    for (index, bar) in bars.iter().enumerate() {
        let y = TOP + index as f64 * (BAR_HEIGHT + GAP);
        let end = x(bar.value);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            LABEL_WIDTH - 8.0,
            y + BAR_HEIGHT - 4.0,
            escape(&bar.label)
        );
        let _ = writeln!(
            svg,
            r#"<rect x="{LABEL_WIDTH}" y="{y:.1}" width="{:.1}" height="{BAR_HEIGHT}" fill="{}"/>"#,
            (end - LABEL_WIDTH).max(1.0),
            bar.colour
        );
        if let Some(mark) = bar.mark {
            let mark = x(mark);
            let _ = writeln!(
                svg,
                r#"<line x1="{mark:.1}" y1="{:.1}" x2="{mark:.1}" y2="{:.1}" stroke="black" stroke-width="2"/>"#,
                y - 2.0,
                y + BAR_HEIGHT + 2.0
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="10">{}</text>"#,
            end + 4.0,
            y + BAR_HEIGHT - 4.0,
            thousands(bar.value)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn axis_label(power: i32) -> String {
    match power {
        0..=2 => format!("{}", 10u64.pow(power as u32)),
        3..=5 => format!("{}k", 10u64.pow(power as u32 - 3)),
        6..=8 => format!("{}M", 10u64.pow(power as u32 - 6)),
        _ => format!("1e{power}"),
    }
}

/// `12345.6` as `12,346`; values below 100 keep one decimal.
fn thousands(value: f64) -> String {
    if value < 100.0 {
        return format!("{value:.1}");
    }
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The picture of a `guest-ARCH.json`: per operation, the `icount` row's median
/// instructions (p99 marked), then other accelerators' median cycles.
pub fn guest_chart(arch: &str, json: &str) -> String {
    let rows: Vec<&str> = json
        .lines()
        .filter(|line| line.contains("\"name\""))
        .collect();
    let mut bars = Vec::new();
    for line in rows
        .iter()
        .filter(|line| line.contains("\"accel\": \"icount\""))
    {
        if let (Some(name), Some(median)) =
            (string(line, "name"), number(line, "median_instructions"))
        {
            bars.push(Bar {
                label: format!("{name} (instructions)"),
                value: median,
                mark: number(line, "p99_instructions"),
                colour: BLUE,
            });
        }
    }
    for line in rows
        .iter()
        .filter(|line| !line.contains("\"accel\": \"icount\""))
    {
        if let (Some(name), Some(accel), Some(median)) = (
            string(line, "name"),
            string(line, "accel"),
            number(line, "median_cycles"),
        ) {
            bars.push(Bar {
                label: format!("{name} ({accel} cycles)"),
                value: median,
                mark: number(line, "p99_cycles"),
                colour: ORANGE,
            });
        }
    }
    bar_chart(
        &format!("coherent guest operations on {arch}: median, p99 marked"),
        "per operation",
        &bars,
        &[("icount: instructions", BLUE), ("kvm/tcg: cycles", ORANGE)],
    )
}

/// The picture of `dma-pool.json`: per pool size and occupancy, ns per pair for coherent's
/// pool and for the Linux bitmap baseline.
pub fn pool_chart(json: &str) -> String {
    let mut bars = Vec::new();
    for line in json.lines().filter(|line| line.contains("\"pool_bytes\"")) {
        let (Some(bytes), Some(occupancy), Some(pool), Some(bitmap)) = (
            number(line, "pool_bytes"),
            number(line, "occupancy"),
            number(line, "pool_ns"),
            number(line, "bitmap_ns"),
        ) else {
            continue;
        };
        let size = if bytes >= 1024.0 * 1024.0 * 1024.0 {
            format!("{} GiB", bytes / (1024.0 * 1024.0 * 1024.0))
        } else {
            format!("{} MiB", bytes / (1024.0 * 1024.0))
        };
        let label = format!("{size}, {:.0}% occupied", occupancy * 100.0);
        bars.push(Bar {
            label: format!("{label}: coherent"),
            value: pool,
            mark: None,
            colour: BLUE,
        });
        bars.push(Bar {
            label: format!("{label}: Linux"),
            value: bitmap,
            mark: None,
            colour: ORANGE,
        });
    }
    bar_chart(
        "DMA pool: ns per alloc+free pair (orders 0..8)",
        "ns per pair",
        &bars,
        &[
            ("coherent pool", BLUE),
            ("Linux bitmap_find_free_region", ORANGE),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_of_a_row() {
        let line = r#"  {"name": "null_call", "accel": "icount", "median_cycles": 9043.0, "p99_cycles": 9043.0, "iterations": 10000, "median_instructions": 9043, "p99_instructions": 9100},"#;
        assert_eq!(string(line, "name"), Some("null_call"));
        assert_eq!(number(line, "median_instructions"), Some(9043.0));
        assert_eq!(number(line, "p99_instructions"), Some(9100.0));
        assert_eq!(number(line, "missing"), None);
        assert_eq!(thousands(1234567.0), "1,234,567");
        assert_eq!(thousands(542.0), "542");
    }

    #[test]
    fn draws_one_bar_per_row() {
        let json = "[\n  {\"name\": \"null_call\", \"accel\": \"icount\", \"median_cycles\": 9043.0, \"p99_cycles\": 9043.0, \"iterations\": 1, \"median_instructions\": 9043, \"p99_instructions\": 9043},\n  {\"name\": \"zero_4k\", \"accel\": \"tcg\", \"median_cycles\": 1872.0, \"p99_cycles\": 1950.0, \"iterations\": 1}\n]\n";
        let svg = guest_chart("x86_64", json);
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches(&format!("fill=\"{BLUE}\"/>")).count(), 2);
        assert!(svg.contains("null_call (instructions)") && svg.contains("9,043"));
        assert!(svg.contains("zero_4k (tcg cycles)"));
        let pool = pool_chart("[\n  {\"pool_bytes\": 16777216, \"occupancy\": 0.5000, \"pool_ns\": 52.00, \"bitmap_ns\": 41.80}\n]\n");
        assert!(pool.contains("16 MiB, 50% occupied: coherent"));
        assert!(pool.contains("16 MiB, 50% occupied: Linux"));
    }
}
