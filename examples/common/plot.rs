//! Plots shared by the examples: decision regions of a 2-D classifier with its data on top,
//! and loss curves. Drawn by plotters into a pixel buffer and written as PNG by the `png`
//! crate; text is drawn with DejaVu Sans from the `dejavu` crate (registered with plotters'
//! `ab_glyph` feature), so the plots render on a machine without any system font.
#![allow(dead_code)]

use autodiff::data::Dataset;
use autodiff::nn::Mlp;
use autodiff::prelude::*;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::error::Error;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// Where the examples write their pictures: `target/plots/` under the workspace.
pub fn plots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the examples are a folder of the workspace")
        .join("target")
        .join("plots");
    std::fs::create_dir_all(&dir).expect("target/plots can be created");
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

/// The decision regions of `model` over the square `[-lim, lim]²` (each cell coloured by the
/// predicted class), with the points of `data` on top, coloured by their label.
pub fn decision_regions(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    model: &Mlp,
    data: &Dataset,
    title: &str,
) -> Result<(), Box<dyn Error>> {
    register_fonts();
    let lim = 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(-lim..lim, -lim..lim)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(5)
        .y_labels(5)
        .label_style(("sans-serif", 14))
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
    draw: impl FnOnce(&DrawingArea<BitMapBackend, plotters::coord::Shift>) -> Result<(), Box<dyn Error>>,
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

/// Loss curves (one per named series, unnamed for a single one) against the step.
pub fn loss_curves(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
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
    let hi = series
        .iter()
        .flat_map(|(_, s)| s.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0..steps, 0.0..hi * 1.05)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("loss")
        .light_line_style(WHITE.mix(0.0))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;
    for (k, (name, values)) in series.iter().enumerate() {
        let colour = POINT[k % POINT.len()];
        let line = LineSeries::new(
            values.iter().enumerate().map(|(i, &v)| (i, v)),
            colour.stroke_width(2),
        );
        chart
            .draw_series(line)?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
    }
    if series.len() > 1 {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()?;
    }
    Ok(())
}
