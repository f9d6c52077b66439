//! The SVG plot of time per repeat publish against live keys.

use std::path::Path;

use plotters::prelude::*;

use crate::report::Summary;

/// One recorder's curve: live keys and the summary of its batches.
pub(crate) type Curve = Vec<(usize, Summary)>;

fn medians(curve: &Curve) -> Vec<(f64, f64)> {
    curve
        .iter()
        .map(|(keys, s)| (*keys as f64, s.median.max(1e-3)))
        .collect()
}

/// Draws both curves on log-log axes into an SVG file at `path`.
pub(crate) fn repeat_cost(path: &Path, kube: &Curve, ours: &Curve) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("plot {}: {e}", path.display());
    let all: Vec<(f64, f64)> = medians(kube).into_iter().chain(medians(ours)).collect();
    if all.is_empty() {
        return Err(fail(&"nothing to plot"));
    }
    let x_min = all.iter().map(|p| p.0).fold(f64::INFINITY, f64::min) / 1.5;
    let x_max = all.iter().map(|p| p.0).fold(0.0, f64::max) * 1.5;
    let y_min = all.iter().map(|p| p.1).fold(f64::INFINITY, f64::min) / 3.0;
    let y_max = all.iter().map(|p| p.1).fold(0.0, f64::max) * 3.0;

    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Time per repeat publish vs live keys", ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d((x_min..x_max).log_scale(), (y_min..y_max).log_scale())
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc("live keys")
        .y_desc("µs per publish (median)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| {
            if *y >= 1.0 {
                format!("{y:.0}")
            } else {
                format!("{y:.2}")
            }
        })
        .draw()
        .map_err(|e| fail(&e))?;
    for (name, curve, color) in [("kube-rs", kube, RED), ("ours", ours, BLUE)] {
        let points = medians(curve);
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(|e| fail(&e))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))
            .map_err(|e| fail(&e))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_an_svg_with_both_curves() {
        let dir = std::env::temp_dir().join(format!("bench-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("curve.svg");
        let s = |v: f64| Summary::of(&[v]).unwrap();
        let kube = vec![(1_000, s(50.0)), (10_000, s(300.0))];
        let ours = vec![(1_000, s(0.8)), (10_000, s(0.9))];
        repeat_cost(&path, &kube, &ours).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("kube-rs") && svg.contains("ours"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn nothing_to_plot_is_an_error() {
        let path = std::env::temp_dir().join("bench-plot-empty.svg");
        assert!(repeat_cost(&path, &Vec::new(), &Vec::new()).is_err());
    }
}
