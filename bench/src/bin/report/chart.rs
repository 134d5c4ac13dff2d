//! report.png: four panels (SET and GET; ops/s and p99.9 against pipeline
//! depth), a line per value size and server, and one legend strip for all
//! four panels at the right.
//!
//! Both axes are logarithmic: the depths go by x4, and at 64 KiB the
//! servers move ~100 times fewer requests than at 100 B, so linear axes
//! would flatten the large values onto the floor.

use crate::load::Test;
use crate::server::Kind;
use crate::table::{find, size_label, Figure};
use plotters::prelude::*;
use std::path::Path;

const WIDTH: u32 = 1600;
const HEIGHT: u32 = 1100;
const LEGEND_WIDTH: u32 = 230;
const FONT: &str = "sans-serif";
/// One colour per value size, in the order of `sizes`.
const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

/// Which figure a panel plots.
#[derive(Clone, Copy)]
enum Metric {
    Ops,
    P999,
}

impl Metric {
    fn of(self, f: &Figure) -> f64 {
        match self {
            Metric::Ops => f.ops,
            Metric::P999 => f.p999_ms,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Metric::Ops => "requests/s",
            Metric::P999 => "p99.9 latency, ms",
        }
    }
}

/// Draws the chart into `path` (PNG). `subtitle` says how it was measured.
pub fn draw(
    path: &Path,
    figs: &[Figure],
    sizes: &[u32],
    pipelines: &[u32],
    subtitle: &str,
) -> Result<(), String> {
    let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let root = root
        .titled(
            "ringcache vs redis-server, redis-benchmark -c 50",
            (FONT, 30),
        )
        .map_err(err)?;
    let (top, body) = root.split_vertically(30);
    top.draw(&Text::new(
        subtitle.to_string(),
        (10, 5),
        (FONT, 16).into_font().color(&BLACK),
    ))
    .map_err(err)?;
    let (panels, legend) = body.split_horizontally(WIDTH - LEGEND_WIDTH);
    let cells = panels.split_evenly((2, 2));
    let order = [
        (Test::Set, Metric::Ops),
        (Test::Get, Metric::Ops),
        (Test::Set, Metric::P999),
        (Test::Get, Metric::P999),
    ];
    for (area, (test, metric)) in cells.iter().zip(order) {
        panel(area, figs, sizes, pipelines, test, metric)?;
    }
    draw_legend(&legend, sizes)?;
    root.present()
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    figs: &[Figure],
    sizes: &[u32],
    pipelines: &[u32],
    test: Test,
    metric: Metric,
) -> Result<(), String> {
    let values: Vec<f64> = figs
        .iter()
        .filter(|f| f.test == test)
        .map(|f| metric.of(f))
        .collect();
    let lo = values
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .max(1e-3);
    let hi = values.iter().copied().fold(0.0, f64::max).max(lo * 2.0);
    // Depths sit at 0, 1, 2, ... so the x axis is logarithmic in the depth.
    let last = pipelines.len().saturating_sub(1) as f64;
    let x = -0.25..last + 0.25;
    let y = (lo / 1.5..hi * 1.5).log_scale();
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} {}", test.name(), metric.label()), (FONT, 22))
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(x, y)
        .map_err(err)?;
    // Only whole positions are depths; any tick plotters adds between them stays blank.
    let depth = |x: &f64| match pipelines.get(x.round() as usize) {
        Some(p) if (x - x.round()).abs() < 1e-6 => p.to_string(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .x_desc("pipeline depth (-P)")
        .y_desc(metric.label())
        .x_labels(pipelines.len())
        .y_labels(12)
        // The light lines of a log axis crowd into a grey band near each decade.
        .x_max_light_lines(0)
        .y_max_light_lines(0)
        .x_label_formatter(&depth)
        .y_label_formatter(&|v| human(*v))
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 18))
        .draw()
        .map_err(err)?;
    for (i, &size) in sizes.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        for kind in Kind::BOTH {
            let points: Vec<(f64, f64)> = pipelines
                .iter()
                .enumerate()
                .filter_map(|(x, &p)| {
                    find(figs, test, size, p, kind).map(|f| (x as f64, metric.of(f)))
                })
                .collect();
            series(&mut chart, &points, colour, kind)?;
        }
    }
    Ok(())
}

/// ringcache: solid line, filled circles; redis: dashed line, triangles.
fn series<DB: DrawingBackend, X, Y>(
    chart: &mut ChartContext<DB, Cartesian2d<X, Y>>,
    points: &[(f64, f64)],
    colour: RGBColor,
    kind: Kind,
) -> Result<(), String>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let line = colour.stroke_width(2);
    match kind {
        Kind::Ringcache => {
            chart
                .draw_series(LineSeries::new(points.iter().copied(), line))
                .map_err(err)?;
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 5, colour.filled())))
                .map_err(err)?;
        }
        Kind::Redis => {
            chart
                .draw_series(DashedLineSeries::new(points.iter().copied(), 10, 6, line))
                .map_err(err)?;
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|&p| TriangleMarker::new(p, 6, colour.filled())),
                )
                .map_err(err)?;
        }
    }
    Ok(())
}

/// Line styles for the servers, then one colour per value size.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    sizes: &[u32],
) -> Result<(), String> {
    let text = (FONT, 18).into_font().color(&BLACK);
    let mut y = 60;
    area.draw(&Text::new("server", (10, y), text.clone()))
        .map_err(err)?;
    for kind in Kind::BOTH {
        y += 30;
        let (a, b) = ((15, y + 9), (65, y + 9));
        match kind {
            Kind::Ringcache => {
                area.draw(&PathElement::new(vec![a, b], BLACK.stroke_width(2)))
                    .map_err(err)?;
                area.draw(&Circle::new((40, y + 9), 5, BLACK.filled()))
                    .map_err(err)?;
            }
            Kind::Redis => {
                area.draw(&plotters::element::DashedPathElement::new(
                    vec![a, b],
                    10,
                    6,
                    BLACK.stroke_width(2),
                ))
                .map_err(err)?;
                area.draw(&TriangleMarker::new((40, y + 9), 6, BLACK.filled()))
                    .map_err(err)?;
            }
        }
        let name = if kind == Kind::Redis {
            "redis-server"
        } else {
            "ringcache"
        };
        area.draw(&Text::new(name, (75, y), text.clone()))
            .map_err(err)?;
    }
    y += 60;
    area.draw(&Text::new("value size", (10, y), text.clone()))
        .map_err(err)?;
    for (i, &size) in sizes.iter().enumerate() {
        y += 30;
        let colour = COLOURS[i % COLOURS.len()];
        area.draw(&Rectangle::new(
            [(15, y + 3), (65, y + 15)],
            colour.filled(),
        ))
        .map_err(err)?;
        area.draw(&Text::new(size_label(size), (75, y), text.clone()))
            .map_err(err)?;
    }
    Ok(())
}

/// 1.5M, 250k, 40, 0.5: tick labels short enough for a log axis.
fn human(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if v >= 1e3 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn err<E: std::fmt::Display>(e: E) -> String {
    format!("drawing report.png: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws the full grid from made-up figures: the fonts are found and
    /// every panel has data. Look at the file to judge the layout.
    #[test]
    fn draws_the_full_grid() {
        let (sizes, pipelines) = ([100, 1024, 4096, 65536], [1, 4, 16, 64]);
        let mut figs = Vec::new();
        for test in Test::BOTH {
            for (i, &size) in sizes.iter().enumerate() {
                for (j, &pipeline) in pipelines.iter().enumerate() {
                    for (k, kind) in Kind::BOTH.into_iter().enumerate() {
                        let ops = 80_000.0 * 2f64.powi(j as i32)
                            / (1.0 + i as f64 * 3.0)
                            / (1.0 + k as f64 * 0.3);
                        let p999_ms =
                            0.5 * (1.0 + j as f64) * (1.0 + i as f64) * (1.0 + k as f64 * 0.2);
                        figs.push(Figure {
                            test,
                            size,
                            pipeline,
                            kind,
                            ops,
                            p999_ms,
                            cpu_us: 1.0,
                        });
                    }
                }
            }
        }
        let path =
            std::env::temp_dir().join(format!("report-chart-test-{}.png", std::process::id()));
        draw(&path, &figs, &sizes, &pipelines, "made-up figures").unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > 10_000);
        println!("chart in {}", path.display());
    }
}
