//! The `--chart` SVG: a run's latency drawn for a human, one file with two panels.
//!
//! The top panel follows each tier's p50 and p99 second by second, so a stall or a slow warm-up
//! shows where it happened; the bottom one is the whole run's latency distribution on the usual
//! HdrHistogram "nines" axis, where the tail gets as much room as the median, with the SLA's
//! latency targets drawn across it. Both are drawn from the [`Report`], so a chart can be redrawn
//! from a saved `--json` file.

use std::path::Path;

use anyhow::Context as _;
use bourse_runtime::tier::Tier;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use crate::report::{Mode, Report, WindowReport};
use crate::sla::Objective;

/// Width and height of the whole SVG, in pixels; each panel gets half the height.
const SIZE: (u32, u32) = (1000, 900);

/// Bottom of the distribution's log-scale latency axis at the lowest: the histograms' 1 µs floor.
const MIN_LOG_LATENCY_MS: f64 = 0.001;

/// Length of a legend's line sample, in pixels.
const LEGEND_SAMPLE: i32 = 24;

/// How far from a whole number of nines still counts as on it: `-log10(1 - 0.99999)` is not
/// exactly 5 in floating point.
const NINES_SLACK: f64 = 1e-6;

/// One half of the canvas.
type Panel<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Draws the report's charts into one SVG file at `path`.
pub fn write_svg(report: &Report, path: &Path) -> anyhow::Result<()> {
    let svg = render_svg(report)?;
    std::fs::write(path, svg).with_context(|| format!("writing the chart to {}", path.display()))
}

/// Draws the report's charts into an SVG document, returned as text: what [`write_svg`] writes.
pub fn render_svg(report: &Report) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).context("clearing the chart canvas")?;
        let (top, bottom) = root.split_vertically(SIZE.1 / 2);
        draw_timeline(report, &top).context("drawing the latency-over-time panel")?;
        draw_distribution(report, &bottom).context("drawing the latency-distribution panel")?;
        root.present().context("finishing the chart SVG")?;
    }
    Ok(svg)
}

/// A tier's colours: premium in oranges, shared in blues; the lighter shade for the median (and
/// the p95 target), the darker for the tail (and the p99 target).
struct TierColours {
    light: RGBColor,
    dark: RGBColor,
}

fn colours(tier: Tier) -> TierColours {
    match tier {
        Tier::Shared => TierColours {
            light: RGBColor(110, 165, 225),
            dark: RGBColor(20, 70, 160),
        },
        Tier::Premium => TierColours {
            light: RGBColor(245, 165, 90),
            dark: RGBColor(190, 65, 0),
        },
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Open => "open",
        Mode::Closed => "closed",
        Mode::Ramp => "ramp",
    }
}

/// The top of a latency axis: a tenth above the highest value, and at least 1 ms so that an
/// empty or all-zero panel still has an axis.
fn latency_axis_top(values: impl Iterator<Item = f64>) -> f64 {
    let highest = values.filter(|value| value.is_finite()).fold(0.0, f64::max);
    (highest * 1.1).max(1.0)
}

/// The points of one percentile line of a tier's timeline: windows that sent nothing have no
/// latency to show and are left out.
fn timeline_points(timeline: &[WindowReport], pick: fn(&WindowReport) -> f64) -> Vec<(f64, f64)> {
    timeline
        .iter()
        .filter(|window| window.sent > 0)
        .map(|window| (window.start_s, pick(window)))
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect()
}

/// One labelled data line of a panel, in the panel's coordinates.
struct Line {
    label: String,
    style: ShapeStyle,
    points: Vec<(f64, f64)>,
}

/// Top panel: each tier's p50 (thin, light) and p99 (thick, dark) per second of load.
fn draw_timeline(report: &Report, area: &Panel<'_>) -> anyhow::Result<()> {
    let lines: Vec<Line> = report
        .tiers
        .iter()
        .flat_map(|tier| {
            let colours = colours(tier.tier);
            [
                Line {
                    label: format!("{} p50", tier.tier),
                    style: colours.light.stroke_width(2),
                    points: timeline_points(&tier.timeline, |window| window.p50_ms),
                },
                Line {
                    label: format!("{} p99", tier.tier),
                    style: colours.dark.stroke_width(3),
                    points: timeline_points(&tier.timeline, |window| window.p99_ms),
                },
            ]
        })
        .filter(|line| !line.points.is_empty())
        .collect();

    // One window past the last start, so the last second has its width on the axis.
    let x_end = lines
        .iter()
        .flat_map(|line| line.points.iter().map(|(x, _)| x + 1.0))
        .fold(report.duration_s, f64::max)
        .max(1.0);
    let x_end = if x_end.is_finite() { x_end } else { 1.0 };
    let y_end = latency_axis_top(
        lines
            .iter()
            .flat_map(|line| line.points.iter().map(|(_, y)| *y)),
    );

    let title = format!(
        "Latency over time (scenario {}, {})",
        report.scenario,
        mode_name(report.mode)
    );
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_end, 0.0..y_end)
        .context("laying out the axes")?;
    chart
        .configure_mesh()
        .x_desc("seconds since start")
        .y_desc("latency (ms)")
        .light_line_style(BLACK.mix(0.04))
        .draw()
        .context("drawing the axes")?;

    for Line {
        label,
        style,
        points,
    } in &lines
    {
        let style = *style;
        // A lone point would be an invisible line: mark it.
        let point_size = if points.len() == 1 { 3 } else { 0 };
        chart
            .draw_series(LineSeries::new(points.iter().copied(), style).point_size(point_size))
            .with_context(|| format!("drawing the {label} line"))?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + LEGEND_SAMPLE, y)], style));
    }
    if !lines.is_empty() {
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    }
    Ok(())
}

/// Where a percentile goes on the "nines" axis: 0 % at 0, 90 % at 1, 99 % at 2, 99.9 % at 3.
/// Infinite at 100 %.
fn nines(percentile: f64) -> f64 {
    -(1.0 - percentile / 100.0).log10()
}

/// The percentile at a point of the "nines" axis, as a tick label: `50%`, `99.9%`.
fn percentile_label(nines: f64) -> String {
    let percentile = 100.0 * (1.0 - 10f64.powf(-nines));
    // Two whole digits, then one decimal per further nine.
    let decimals = (nines.ceil() - 2.0).clamp(0.0, 12.0) as usize;
    let text = format!("{percentile:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text}%")
}

/// The x axis of the distribution panel: percentiles placed by [`nines`], ticked at 0 %, 50 % and
/// each whole nine, and at the 100 % point, labelled `max`, when there is one.
struct NinesAxis {
    /// Where the data ends, in nines: the axis goes a little further.
    end: f64,
    /// Where the maximum is drawn, if the distribution has one.
    max: Option<f64>,
    /// The highest percentile's position below 100 %, in nines.
    finite_end: f64,
}

impl Ranged for NinesAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let range = self.range();
        let fraction = (value - range.start) / (range.end - range.start);
        limit.0 + (fraction * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        let mut ticks = vec![0.0, nines(50.0)];
        ticks.extend(
            (1..)
                .map(f64::from)
                .take_while(|tick| *tick <= self.finite_end + NINES_SLACK),
        );
        ticks.extend(self.max);
        ticks
    }

    fn range(&self) -> std::ops::Range<f64> {
        // A little room right of the last point so its marker is not cut in half.
        0.0..self.end * 1.02
    }
}

impl ValueFormatter<f64> for NinesAxis {
    fn format_ext(&self, value: &f64) -> String {
        match self.max {
            Some(max) if (value - max).abs() < NINES_SLACK => "max".to_owned(),
            _ => percentile_label(*value),
        }
    }
}

/// Bottom panel: each tier's latency at every percentile of its distribution, on the nines axis,
/// and the SLA's p95 and p99 targets as dashed lines.
fn draw_distribution(report: &Report, area: &Panel<'_>) -> anyhow::Result<()> {
    // The finite end of the axis is the highest percentile below 100 % of any tier; the 100 %
    // point (the maximum) cannot be placed there, so it goes one nine further, labelled "max".
    let finite_end = report
        .tiers
        .iter()
        .flat_map(|tier| &tier.distribution)
        .map(|quantile| quantile.percentile)
        .filter(|percentile| (0.0..100.0).contains(percentile))
        .map(nines)
        .fold(0.0, f64::max);
    let has_max = report
        .tiers
        .iter()
        .flat_map(|tier| &tier.distribution)
        .any(|quantile| quantile.percentile == 100.0);
    let max_x = (finite_end - NINES_SLACK).ceil().max(1.0) + 1.0;

    let lines: Vec<Line> = report
        .tiers
        .iter()
        .map(|tier| {
            let points: Vec<(f64, f64)> = tier
                .distribution
                .iter()
                .filter(|quantile| quantile.latency_ms.is_finite())
                .filter_map(|quantile| {
                    let x = if quantile.percentile == 100.0 {
                        max_x
                    } else if (0.0..100.0).contains(&quantile.percentile) {
                        nines(quantile.percentile)
                    } else {
                        return None;
                    };
                    Some((x, quantile.latency_ms))
                })
                .collect();
            Line {
                label: tier.tier.to_string(),
                style: colours(tier.tier).dark.stroke_width(2),
                points,
            }
        })
        .filter(|line| !line.points.is_empty())
        .collect();
    let targets: Vec<(String, ShapeStyle, f64)> = report
        .sla
        .iter()
        .filter(|check| check.target.is_finite())
        .filter_map(|check| {
            let colours = colours(check.tier);
            let colour = match check.objective {
                Objective::P95 => colours.light,
                Objective::P99 => colours.dark,
                Objective::Success => return None,
            };
            let label = format!("{} {} target", check.tier, check.name());
            Some((label, colour.stroke_width(1), check.target))
        })
        .collect();

    let axis = NinesAxis {
        end: if has_max { max_x } else { finite_end.max(1.0) },
        max: has_max.then_some(max_x),
        finite_end,
    };
    let x_range = axis.range();
    let values = || {
        lines
            .iter()
            .flat_map(|line| line.points.iter().map(|(_, y)| *y))
            .chain(targets.iter().map(|(_, _, target)| *target))
    };
    let y_end = latency_axis_top(values());
    // A log scale, so sub-millisecond medians and 100 ms targets are both readable; the lowest
    // value sits a little above the bottom.
    let y_start = values()
        .filter(|value| value.is_finite() && *value > 0.0)
        .fold(y_end, f64::min)
        * 0.8;
    let y_start = y_start.clamp(MIN_LOG_LATENCY_MS, y_end / 2.0);

    let mut chart = ChartBuilder::on(area)
        .caption("Latency distribution", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(axis, (y_start..y_end).log_scale())
        .context("laying out the axes")?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (ms, log scale)")
        .light_line_style(BLACK.mix(0.04))
        .draw()
        .context("drawing the axes")?;

    for Line {
        label,
        style,
        points,
    } in &lines
    {
        let style = *style;
        chart
            .draw_series(LineSeries::new(points.iter().copied(), style).point_size(3))
            .with_context(|| format!("drawing the {label} distribution"))?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + LEGEND_SAMPLE, y)], style));
    }
    for (label, style, target) in &targets {
        let style = *style;
        chart
            .draw_series(DashedLineSeries::new(
                [(x_range.start, *target), (x_range.end, *target)],
                8,
                5,
                style,
            ))
            .with_context(|| format!("drawing the {label} line"))?
            .label(label.as_str())
            .legend(move |(x, y)| {
                DashedPathElement::new([(x, y), (x + LEGEND_SAMPLE, y)], 6, 3, style)
            });
    }
    if !lines.is_empty() || !targets.is_empty() {
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    }
    Ok(())
}

/// Draws a chart's legend on a lightly opaque box, so lines behind it stay readable.
fn draw_legend<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> anyhow::Result<()>
where
    X: Ranged,
    Y: Ranged,
{
    chart
        .configure_series_labels()
        .position(position)
        .legend_area_size(LEGEND_SAMPLE + 6)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 13))
        .draw()
        .context("drawing the legend")
}

#[cfg(test)]
mod tests;
