//! The report's SVG plots (plotters' SVG backend: text is written as SVG
//! text, so no font or system library is needed).

use std::{error::Error, ops::Range, path::Path};

use plotters::prelude::*;

type Result = std::result::Result<(), Box<dyn Error>>;

/// One named series of `(x, y)` points.
pub type Series = (String, Vec<(f64, f64)>);

fn color(i: usize) -> RGBColor {
    const COLORS: [RGBColor; 6] = [
        RGBColor(0xd6, 0x27, 0x28),
        RGBColor(0x1f, 0x77, 0xb4),
        RGBColor(0x2c, 0xa0, 0x2c),
        RGBColor(0xff, 0x7f, 0x0e),
        RGBColor(0x94, 0x67, 0xbd),
        RGBColor(0x8c, 0x56, 0x4b),
    ];
    COLORS[i % COLORS.len()]
}

/// A range of `values` for a log axis, with room above for the legend.
fn log_range(values: impl Iterator<Item = f64>) -> Range<f64> {
    let (lo, hi) = values
        .filter(|v| *v > 0.0)
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return 0.1..10.0;
    }
    lo / 1.5..hi * 4.0
}

/// An axis label: no decimals from 10 up.
fn num(v: &f64) -> String {
    if *v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A log-log line chart: one line with markers per series (the first
/// series is drawn in red: anysync's).
pub fn lines(path: &Path, title: &str, x_desc: &str, y_desc: &str, series: &[Series]) -> Result {
    let root = SVGBackend::new(path, (560, 360)).into_drawing_area();
    root.fill(&WHITE)?;
    let xs = {
        let r = log_range(series.iter().flat_map(|s| s.1.iter().map(|p| p.0)));
        r.start..r.end / 2.0
    };
    let ys = log_range(series.iter().flat_map(|s| s.1.iter().map(|p| p.1)));
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(xs.log_scale(), ys.log_scale())?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&num)
        .y_label_formatter(&num)
        .draw()?;
    for (i, (name, points)) in series.iter().enumerate() {
        let c = color(i);
        let points: Vec<_> = points.iter().copied().filter(|p| p.1 > 0.0).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), c.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2)));
        chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, c.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// A horizontal bar chart of ratios (anysync over the best peer), with the
/// parity line at 1.0; bars above 1.05 are red, the others green.
pub fn ratios(path: &Path, title: &str, rows: &[(String, f64)]) -> Result {
    let height = 70 + 22 * rows.len() as u32;
    let root = SVGBackend::new(path, (760, height)).into_drawing_area();
    root.fill(&WHITE)?;
    // The first row at the top, as in the table.
    let slot = |i: usize| rows.len() - 1 - i;
    let max = rows.iter().map(|r| r.1).fold(1.2f64, f64::max) * 1.05;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(330)
        .build_cartesian_2d(0f64..max, (0..rows.len()).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows.len())
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) if *i < rows.len() => rows[slot(*i)].0.clone(),
            _ => String::new(),
        })
        .x_desc("ratio to the best same-guarantee peer (lower is better)")
        .draw()?;
    chart.draw_series(rows.iter().enumerate().map(|(i, (_, r))| {
        let i = slot(i);
        let c = if *r > 1.05 { color(0) } else { color(2) };
        let mut bar = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(i)),
                (*r, SegmentValue::Exact(i + 1)),
            ],
            c.filled(),
        );
        bar.set_margin(3, 3, 0, 0);
        bar
    }))?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![
            (1.0, SegmentValue::Exact(0)),
            (1.0, SegmentValue::Exact(rows.len())),
        ],
        BLACK.stroke_width(1),
    )))?;
    root.present()?;
    Ok(())
}
