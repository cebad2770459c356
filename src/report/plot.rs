//! Inline SVG charts for `nti report`, drawn with the plotters crate (SVG backend only: no fonts,
//! no bitmaps, nothing loaded from outside the page).
//!
//! One chart type covers every figure of the report: x-y series drawn as lines (optionally with a
//! shaded +-1 standard-error band), as points with error bars, or as bars (categories on the x
//! axis, labelled by name). Non-finite values are skipped (a NaN error draws no bar or band).

use anyhow::{anyhow, Result};
use plotters::prelude::*;

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Style {
    /// A line; with errors, a shaded band of +-1 standard error around it.
    Line,
    /// A dashed line (references: equations of state, target values).
    Dashed,
    /// Markers with +-1 standard-error bars.
    Points,
    /// Bars from zero with +-1 standard-error bars; x are category indices 0, 1, ...
    Bars,
}

/// One data series.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend entry.
    pub label: String,
    /// How it is drawn.
    pub style: Style,
    /// Abscissae.
    pub x: Vec<f64>,
    /// Ordinates.
    pub y: Vec<f64>,
    /// Standard errors of `y` (empty: none).
    pub err: Vec<f64>,
}

impl Series {
    /// A series without errors.
    pub fn new(label: impl Into<String>, style: Style, x: Vec<f64>, y: Vec<f64>) -> Self {
        Series { label: label.into(), style, x, y, err: vec![] }
    }

    /// The same series with standard errors.
    pub fn with_err(mut self, err: Vec<f64>) -> Self {
        self.err = err;
        self
    }

    fn points(&self) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        (0..self.x.len().min(self.y.len()))
            .map(|i| (self.x[i], self.y[i], self.err.get(i).copied().unwrap_or(f64::NAN)))
            .filter(|p| p.0.is_finite() && p.1.is_finite())
    }
}

/// A chart: title, axis labels (with units) and series; `categories` names the x positions of
/// bar charts.
#[derive(Clone, Debug, Default)]
pub struct Chart {
    /// Title above the plot area.
    pub title: String,
    /// x-axis label, with units.
    pub x_label: String,
    /// y-axis label, with units.
    pub y_label: String,
    /// The data.
    pub series: Vec<Series>,
    /// Names of the x positions 0, 1, ... (bar charts); empty for numeric x.
    pub categories: Vec<String>,
    /// A horizontal line at y = 0 (for signed quantities).
    pub zero_line: bool,
}

/// Colours of the series, in order (colour-blind-safe palette of Okabe and Ito).
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];

/// Pixel size of every chart.
const SIZE: (u32, u32) = (760, 420);

/// The data range of all series (values +- errors), padded by 5 %; None without finite data.
fn ranges(c: &Chart) -> Option<((f64, f64), (f64, f64))> {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for s in &c.series {
        for (x, y, e) in s.points() {
            let e = if e.is_finite() { e } else { 0.0 };
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y - e);
            y1 = y1.max(y + e);
            if s.style == Style::Bars || c.zero_line {
                y0 = y0.min(0.0);
                y1 = y1.max(0.0);
            }
        }
    }
    if !(x0.is_finite() && y0.is_finite()) {
        return None;
    }
    if !c.categories.is_empty() {
        (x0, x1) = (-0.6, c.categories.len() as f64 - 0.4);
    }
    let pad = |a: f64, b: f64| {
        let w = if b > a { b - a } else { a.abs().max(1.0) };
        (a - 0.05 * w, b + 0.05 * w)
    };
    let xr = if c.categories.is_empty() { pad(x0, x1) } else { (x0, x1) };
    Some((xr, pad(y0, y1)))
}

/// The chart as an `<svg>` element; an error if it has no finite data point.
pub fn svg(c: &Chart) -> Result<String> {
    let ((x0, x1), (y0, y1)) = ranges(c).ok_or_else(|| anyhow!("chart '{}': no finite data", c.title))?;
    let mut out = String::new();
    draw(c, (x0, x1), (y0, y1), &mut out).map_err(|e| anyhow!("chart '{}': {e}", c.title))?;
    Ok(out)
}

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn draw(c: &Chart, (x0, x1): (f64, f64), (y0, y1): (f64, f64), out: &mut String) -> DrawResult {
    let root = SVGBackend::with_string(out, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&c.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let cats = &c.categories;
    let fmt_x = |v: &f64| {
        if cats.is_empty() {
            tick(*v)
        } else {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < cats.len() {
                cats[i as usize].clone()
            } else {
                String::new()
            }
        }
    };
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(c.x_label.as_str())
        .y_desc(c.y_label.as_str())
        .x_label_formatter(&fmt_x)
        .y_label_formatter(&|v| tick(*v))
        .axis_desc_style(("sans-serif", 15))
        .label_style(("sans-serif", 13))
        .light_line_style(WHITE.mix(0.0));
    if !cats.is_empty() {
        mesh.x_labels(cats.len() * 2 + 1).disable_x_mesh();
    }
    mesh.draw()?;
    if c.zero_line {
        chart.draw_series(LineSeries::new([(x0, 0.0), (x1, 0.0)], BLACK.mix(0.4)))?;
    }
    let n_bars = c.series.iter().filter(|s| s.style == Style::Bars).count().max(1);
    let mut bar_k = 0;
    for (k, s) in c.series.iter().enumerate() {
        let col = PALETTE[k % PALETTE.len()];
        let pts: Vec<(f64, f64, f64)> = s.points().collect();
        let legend_line = move |(x, y): (i32, i32)| PathElement::new(vec![(x, y), (x + 18, y)], col.stroke_width(2));
        match s.style {
            Style::Line | Style::Dashed => {
                let band: Vec<&(f64, f64, f64)> = pts.iter().filter(|p| p.2.is_finite()).collect();
                if band.len() >= 2 {
                    let mut poly: Vec<(f64, f64)> = band.iter().map(|p| (p.0, p.1 + p.2)).collect();
                    poly.extend(band.iter().rev().map(|p| (p.0, p.1 - p.2)));
                    chart.draw_series(std::iter::once(Polygon::new(poly, col.mix(0.25).filled())))?;
                }
                let line = pts.iter().map(|p| (p.0, p.1));
                let anno = if s.style == Style::Dashed {
                    chart.draw_series(DashedLineSeries::new(line, 6, 4, col.stroke_width(2)))?
                } else {
                    chart.draw_series(LineSeries::new(line, col.stroke_width(2)))?
                };
                anno.label(&s.label).legend(legend_line);
            }
            Style::Points => {
                chart.draw_series(
                    pts.iter()
                        .filter(|p| p.2.is_finite())
                        .map(|p| ErrorBar::new_vertical(p.0, p.1 - p.2, p.1, p.1 + p.2, col.stroke_width(1), 6)),
                )?;
                chart
                    .draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 3, col.filled())))?
                    .label(&s.label)
                    .legend(move |(x, y)| Circle::new((x + 9, y), 3, col.filled()));
            }
            Style::Bars => {
                let w = 0.8 / n_bars as f64;
                let off = -0.4 + w * bar_k as f64;
                bar_k += 1;
                chart
                    .draw_series(pts.iter().map(|p| {
                        Rectangle::new(
                            [(p.0 + off + 0.05 * w, 0.0), (p.0 + off + 0.95 * w, p.1)],
                            col.mix(0.8).filled(),
                        )
                    }))?
                    .label(&s.label)
                    .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], col.filled()));
                chart.draw_series(pts.iter().filter(|p| p.2.is_finite()).map(|p| {
                    let xm = p.0 + off + 0.5 * w;
                    ErrorBar::new_vertical(xm, p.1 - p.2, p.1, p.1 + p.2, BLACK.stroke_width(1), 6)
                }))?;
            }
        }
    }
    if c.series.len() > 1 || c.series.iter().any(|s| !s.label.is_empty()) {
        chart
            .configure_series_labels()
            .position(legend_corner(c, (x0, x1), (y0, y1)))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 13))
            .draw()?;
    }
    root.present()?;
    Ok(())
}

/// The corner of the plot area with the fewest data points (and error-bar ends), for the legend.
fn legend_corner(c: &Chart, (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> SeriesLabelPosition {
    let mut count = [0usize; 4]; // upper right, upper left, lower right, lower left
    for s in &c.series {
        for (x, y, e) in s.points() {
            let e = if e.is_finite() { e } else { 0.0 };
            let fx = (x - x0) / (x1 - x0);
            for y in [y - e, y, y + e] {
                let fy = (y - y0) / (y1 - y0);
                let k = match (fx > 0.55, fx < 0.45, fy > 0.7, fy < 0.3) {
                    (true, _, true, _) => 0,
                    (_, true, true, _) => 1,
                    (true, _, _, true) => 2,
                    (_, true, _, true) => 3,
                    _ => continue,
                };
                count[k] += 1;
            }
        }
    }
    let best = (0..4).min_by_key(|&k| count[k]).unwrap_or(0);
    [
        SeriesLabelPosition::UpperRight,
        SeriesLabelPosition::UpperLeft,
        SeriesLabelPosition::LowerRight,
        SeriesLabelPosition::LowerLeft,
    ][best]
        .clone()
}

/// A tick label: up to 4 significant digits, exponent notation for very large or small values.
pub fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || a < 1e-12 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.1e}")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line with a band and bars with errors give an SVG with the title, the axis labels, a
    /// polygon (the band) and one rectangle per bar (plus the legend's).
    #[test]
    fn chart_has_title_axes_band_and_bars() {
        let line = Chart {
            title: "integrand".into(),
            x_label: "t".into(),
            y_label: "<du/dt> (kT)".into(),
            series: vec![Series::new("windows", Style::Line, vec![0.0, 0.5, 1.0], vec![1.0, 2.0, f64::NAN])
                .with_err(vec![0.1, 0.2, 0.3])],
            ..Default::default()
        };
        let s = svg(&line).unwrap();
        assert!(s.starts_with("<svg") && s.contains("integrand") && s.contains("&lt;du/dt&gt; (kT)"), "{s}");
        assert!(s.contains("<polygon"), "no band: {s}");
        let bars = Chart {
            title: "terms".into(),
            series: vec![Series::new("by term", Style::Bars, vec![0.0, 1.0], vec![-3.0, 2.0]).with_err(vec![0.1, 0.1])],
            categories: vec!["prior".into(), "network".into()],
            ..Default::default()
        };
        let s = svg(&bars).unwrap();
        assert!(s.contains(">\nprior\n<") && s.contains(">\nnetwork\n<"), "category labels missing: {s}");
        assert!(s.matches("<rect").count() >= 3, "{s}");
    }

    /// A chart without a single finite point is an error, not an empty picture.
    #[test]
    fn no_finite_data_is_an_error() {
        let c = Chart { series: vec![Series::new("x", Style::Line, vec![f64::NAN], vec![1.0])], ..Default::default() };
        assert!(svg(&c).is_err());
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(-12.0), "-12");
        assert_eq!(tick(1.0e-5), "1.0e-5");
        assert_eq!(tick(0.0), "0");
    }
}
