//! Plots shared by the examples: decision regions of a 2-D classifier with its data on top,
//! and loss curves. Drawn by plotters into a pixel buffer and written as PNG by the `png`
//! crate; text is drawn with DejaVu Sans from the `dejavu` crate (registered with plotters'
//! `ab_glyph` feature), so the plots render on a machine without any system font.
#![allow(dead_code)]

use autodiff::data::Dataset;
use autodiff::nn::Mlp;
use autodiff::prelude::*;
use plotters::coord::types::RangedCoordusize;
use plotters::coord::Shift;
use plotters::element::{ComposedElement, DashedPathElement};
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::error::Error;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// What the examples draw on.
pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// A position in pixels.
type PixelXy = (i32, i32);

/// Where the examples write their pictures: `$CARGO_TARGET_DIR/plots` when that variable is
/// set (relative to the current directory, as for cargo), else `target/plots` under the
/// workspace.
pub fn plots_dir() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the examples are a folder of the workspace")
            .join("target"),
    };
    let dir = target.join("plots");
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| "DejaVu Sans is a valid font")
            .unwrap();
    });
}

/// Light fills for the regions and strong colours for the points, by class.
const REGION: [RGBColor; 6] = [
    RGBColor(255, 204, 204),
    RGBColor(204, 230, 204),
    RGBColor(204, 214, 255),
    RGBColor(255, 236, 179),
    RGBColor(230, 204, 255),
    RGBColor(222, 200, 190),
];
const POINT: [RGBColor; 6] = [
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(31, 119, 180),
    RGBColor(255, 160, 0),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// One colour per loss curve, far apart in hue and lightness (the Okabe–Ito palette, which
/// stays distinct for colour-blind readers), in the order of the series.
const CURVE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(213, 94, 0),    // vermilion
    RGBColor(0, 0, 0),       // black
];

/// The decision regions of `model` over the square `[-lim, lim]²` (each cell coloured by the
/// predicted class), with the points of `data` on top, coloured by their label.
pub fn decision_regions(
    area: &Area,
    model: &Mlp,
    data: &Dataset,
    title: &str,
) -> Result<(), Box<dyn Error>> {
    register_fonts();
    let lim = 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(-lim..lim, -lim..lim)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(5)
        .y_labels(5)
        .x_desc("input x₁")
        .y_desc("input x₂")
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;

    let cells = 200;
    let size = 2.0 * lim / cells as f64;
    let centre = |k: usize| -lim + (k as f64 + 0.5) * size;
    let grid = DMatrix::from_fn(cells * cells, 2, |r, c| {
        if c == 0 {
            centre(r % cells)
        } else {
            centre(r / cells)
        }
    });
    let classes = model.predict(&grid);
    chart.draw_series(classes.iter().enumerate().map(|(r, &k)| {
        let (x, y) = (centre(r % cells), centre(r / cells));
        let h = size / 2.0;
        Rectangle::new(
            [(x - h, y - h), (x + h, y + h)],
            REGION[k % REGION.len()].filled(),
        )
    }))?;
    chart.draw_series(data.x.row_iter().zip(&data.labels).map(|(p, &k)| {
        Circle::new(
            (p[0], p[1]),
            4,
            POINT[k % POINT.len()].filled().stroke_width(1),
        )
    }))?;
    chart.draw_series(
        data.x
            .row_iter()
            .map(|p| Circle::new((p[0], p[1]), 4, BLACK.stroke_width(1))),
    )?;
    Ok(())
}

/// A PNG of `width × height` pixels at `path`, drawn by `draw`.
pub fn png(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&Area) -> Result<(), Box<dyn Error>>,
) -> Result<(), Box<dyn Error>> {
    register_fonts();
    // Three bytes per pixel: red, green, blue.
    let mut pixels = vec![0u8; 3 * width as usize * height as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    let mut encoder = ::png::Encoder::new(BufWriter::new(File::create(path)?), width, height);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(())
}

/// Loss curves (one per named series, unnamed for a single one) against the step, the loss
/// on a log scale: equal ratios take equal heights, so the slow decrease of a tail that looks
/// flat on a linear scale shows. Several curves are told apart by colour, by line (every
/// other one dashed, drawn over the solid ones) and by a marker of their own every eighth of
/// the steps, placed so that markers of curves that coincide do not cover each other; a
/// legend names them.
pub fn loss_curves(
    area: &Area,
    title: &str,
    series: &[(&str, &[f64])],
) -> Result<(), Box<dyn Error>> {
    register_fonts();
    let steps = series
        .iter()
        .map(|(_, s)| s.len())
        .max()
        .unwrap_or(1)
        .max(2);
    let positive = || {
        series
            .iter()
            .flat_map(|(_, s)| s.iter().copied())
            .filter(|&v| v.is_finite() && v > 0.0)
    };
    let hi = positive().fold(f64::MIN_POSITIVE, f64::max) * 1.05;
    let lo = positive().fold(hi, f64::min) / 1.05;
    let y = (lo..hi).log_scale().with_key_points(log_ticks(lo, hi));
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0..steps, y)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("training loss (log scale)")
        .y_label_formatter(&|&v| tick_label(v))
        .light_line_style(WHITE.mix(0.0))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;
    draw_curves(&mut chart, steps, series)
}

/// Ticks for a log axis over `lo..hi`: round numbers (1, 2, 5 times a power of ten, or finer
/// steps when the axis spans less than a decade), at least six where there is room.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    const LADDERS: [&[f64]; 4] = [
        &[1.0, 2.0, 5.0],
        &[1.0, 2.0, 3.0, 5.0],
        &[1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0],
        &[1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0],
    ];
    let ticks = |ladder: &[f64]| -> Vec<f64> {
        let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        (first..=last)
            .flat_map(|e| ladder.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|&v| lo <= v && v <= hi)
            .collect()
    };
    LADDERS
        .iter()
        .map(|ladder| ticks(ladder))
        .find(|t| t.len() >= 6)
        .unwrap_or_else(|| ticks(LADDERS[LADDERS.len() - 1]))
}

/// A tick's value with two significant digits at most, without trailing zeros: 0.25, 0.3, 1.
fn tick_label(v: f64) -> String {
    let decimals = (1 - v.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// The curves of [`loss_curves`] on `chart`, whose x axis runs over `0..steps`.
fn draw_curves<'a, Y>(
    chart: &mut ChartContext<'a, BitMapBackend<'a>, Cartesian2d<RangedCoordusize, Y>>,
    steps: usize,
    series: &[(&str, &[f64])],
) -> Result<(), Box<dyn Error>>
where
    Y: Ranged<ValueType = f64>,
{
    if let [(_, values)] = series {
        let points = values.iter().enumerate().map(|(i, &v)| (i, v));
        chart.draw_series(LineSeries::new(points, POINT[0].stroke_width(2)))?;
        return Ok(());
    }
    // The lines, solid ones first so that the dashed ones stay visible where two coincide.
    let mut order: Vec<usize> = (0..series.len()).collect();
    order.sort_by_key(|&k| dashes(k).is_some());
    for &k in &order {
        let style = CURVE[k % CURVE.len()].stroke_width(2);
        let points = series[k].1.iter().enumerate().map(|(i, &v)| (i, v));
        match dashes(k) {
            Some((dash, gap)) => {
                chart.draw_series(DashedLineSeries::new(points, dash, gap, style))?
            }
            None => chart.draw_series(LineSeries::new(points, style))?,
        };
    }
    // Then the markers, every eighth of the steps, each curve's shifted by a fraction of
    // that; the legend (in the order of the series) shows line and marker.
    let every = (steps / 8).max(1);
    for (k, &(name, values)) in series.iter().enumerate() {
        let colour = CURVE[k % CURVE.len()];
        let shift = every * k / series.len() + every / (2 * series.len());
        let markers = values.iter().enumerate().skip(shift).step_by(every);
        // A solid line in the legend: one dash as long as the line.
        let (dash, gap) = dashes(k).unwrap_or((30, 0));
        chart
            .draw_series(markers.map(|(i, &v)| marker(k, (i, v), colour)))?
            .label(name)
            .legend(move |(x, y)| {
                let (outline, fill) = marker_outline(k, colour);
                EmptyElement::at((x, y))
                    + DashedPathElement::new([(0, 0), (30, 0)], dash, gap, colour.stroke_width(2))
                    + Polygon::new(shifted(&outline, 15), fill)
                    + PathElement::new(shifted(&outline, 15), colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .legend_area_size(40)
        .draw()?;
    Ok(())
}

/// The dashes of the `k`th of several curves, dash and gap in pixels: every other curve is
/// dashed, each in a pattern of its own; `None` for a solid line.
fn dashes(k: usize) -> Option<(u32, u32)> {
    match k % 6 {
        1 => Some((10, 5)),
        3 => Some((4, 4)),
        5 => Some((16, 6)),
        _ => None,
    }
}

/// The `k`th curve's marker around `at`: a hollow circle, triangle or square, or a filled
/// diamond, circle or downward triangle, about 11 pixels across, in `colour`.
fn marker<C, DB: DrawingBackend>(
    k: usize,
    at: C,
    colour: RGBColor,
) -> ComposedElement<C, DB, Polygon<PixelXy>, PathElement<PixelXy>> {
    let (outline, fill) = marker_outline(k, colour);
    EmptyElement::at(at)
        + Polygon::new(outline.clone(), fill)
        + PathElement::new(outline, colour.stroke_width(2))
}

/// The outline of the `k`th curve's marker around (0, 0), closed (its last corner is its
/// first), and its fill: white for the hollow ones.
fn marker_outline(k: usize, colour: RGBColor) -> (Vec<PixelXy>, ShapeStyle) {
    use std::f64::consts::{FRAC_PI_2, FRAC_PI_4};
    let regular = |corners: usize, radius: f64, turn: f64| -> Vec<PixelXy> {
        (0..=corners)
            .map(|i| {
                let angle = turn + std::f64::consts::TAU * i as f64 / corners as f64;
                let (x, y) = (radius * angle.cos(), -radius * angle.sin());
                (x.round() as i32, y.round() as i32)
            })
            .collect()
    };
    let (outline, filled) = match k % 6 {
        0 => (regular(16, 5.0, 0.0), false),
        1 => (regular(3, 6.5, FRAC_PI_2), false),
        2 => (regular(4, 6.5, FRAC_PI_4), false),
        3 => (regular(4, 6.5, 0.0), true),
        4 => (regular(16, 5.0, 0.0), true),
        _ => (regular(3, 6.5, -FRAC_PI_2), true),
    };
    let fill = if filled {
        colour.filled()
    } else {
        WHITE.filled()
    };
    (outline, fill)
}

/// `points` moved `dx` pixels to the right.
fn shifted(points: &[PixelXy], dx: i32) -> Vec<PixelXy> {
    points.iter().map(|&(x, y)| (x + dx, y)).collect()
}
