//! The spend chart: spend per day stacked by group, billed figures solid and estimated ones light
//! and hatched.

use super::canvas::{
    Canvas, Drawn, GRID, MUTED, PALETTE, TEXT, axis_top, axis_yuan, hatch, label_every, lighten, position, render,
    short_date, style,
};
use super::{HEIGHT, MAX_GROUPS, WIDTH};
use crate::domain::{DaySpend, SpendGroup, SpendSeries};
use crate::money::Yuan;
use anyhow::Context;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Where the plot ends and the legend begins, in pixels from the left.
const LEGEND_LEFT: i32 = 810;
const HEADER: i32 = 64;
const FOOTER: i32 = 52;

/// The spend chart of `series` as a PNG: a bar per day stacked by group (the biggest
/// [`MAX_GROUPS`]` - 1` groups and the rest as "other"), with the title, the total, a legend with
/// each group's total, the y axis in CNY and the dates below. Estimated figures are light and
/// hatched, and a note says how much of the total they are. A series with nothing spent draws a
/// chart that says so.
pub fn spend_png(series: &SpendSeries) -> anyhow::Result<Vec<u8>> {
    Ok(draw(series)?.png)
}

/// The chart and the words on it.
pub(super) fn draw(series: &SpendSeries) -> anyhow::Result<Drawn> {
    render(|canvas| {
        canvas.text(
            &series.title,
            (24, 18),
            &style(30, TEXT, Pos::new(HPos::Left, VPos::Top)),
        )?;
        let total = format!("Total {}", series.total());
        canvas.text(
            &total,
            (WIDTH as i32 - 24, 20),
            &style(28, TEXT, Pos::new(HPos::Right, VPos::Top)),
        )?;
        if series.days.is_empty() || series.total().amount().is_zero() {
            let centre = (WIDTH as i32 / 2, HEIGHT as i32 / 2);
            return canvas.text(
                "No spend in this period",
                centre,
                &style(34, MUTED, Pos::new(HPos::Center, VPos::Center)),
            );
        }
        let groups = shown_groups(series);
        bars(canvas, series, &groups)?;
        legend(canvas, &groups)?;
        note(canvas, series)
    })
}

/// The groups as drawn: the biggest [`MAX_GROUPS`]` - 1` by total, then the rest together as
/// "other (N groups)" — or every group when there are no more than [`MAX_GROUPS`]. Amounts stay
/// exact, so the shown groups add up to the series' total.
pub(super) fn shown_groups(series: &SpendSeries) -> Vec<SpendGroup> {
    let mut groups = series.groups.clone();
    groups.sort_by_key(|g| std::cmp::Reverse(g.total()));
    if groups.len() <= MAX_GROUPS {
        return groups;
    }
    let rest = groups.split_off(MAX_GROUPS - 1);
    let per_day = (0..series.days.len())
        .map(|day| {
            let parts: Vec<DaySpend> = rest.iter().filter_map(|g| g.per_day.get(day).copied()).collect();
            DaySpend {
                billed: Yuan::new(parts.iter().map(|d| d.billed.amount()).sum()),
                estimated: Yuan::new(parts.iter().map(|d| d.estimated.amount()).sum()),
            }
        })
        .collect();
    groups.push(SpendGroup {
        name: format!("other ({} groups)", rest.len()),
        per_day,
    });
    groups
}

/// True for a figure with an estimate in it (an estimate of nothing draws nothing).
pub(super) fn is_estimate(day: &DaySpend) -> bool {
    day.is_estimated()
}

/// The part of the total that is estimated.
pub(super) fn estimated_total(series: &SpendSeries) -> Yuan {
    Yuan::new(
        series
            .groups
            .iter()
            .flat_map(|g| &g.per_day)
            .map(|d| d.estimated.amount())
            .sum(),
    )
}

/// The axes and the stacked bars, with a date under every few days.
fn bars(canvas: &mut Canvas, series: &SpendSeries, groups: &[SpendGroup]) -> anyhow::Result<()> {
    let days = series.days.len();
    let top = (0..days)
        .map(|i| position(series.day_total(i).amount()))
        .fold(0.0, f64::max);
    let plot = canvas
        .area
        .clone()
        .shrink((0, HEADER), (LEGEND_LEFT as u32, HEIGHT - (HEADER + FOOTER) as u32));
    let mut chart = ChartBuilder::on(&plot)
        .margin_left(16)
        .margin_right(12)
        .margin_top(8)
        .x_label_area_size(36)
        .y_label_area_size(104)
        .build_cartesian_2d(-0.5..days as f64 - 0.5, 0.0..axis_top(top))
        .context("laying out the spend chart")?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(6)
        .y_label_formatter(&|v| axis_yuan(*v))
        .y_desc("CNY")
        .label_style(style(22, TEXT, Pos::new(HPos::Right, VPos::Center)))
        .axis_desc_style(style(22, MUTED, Pos::new(HPos::Center, VPos::Center)))
        .max_light_lines(0)
        .bold_line_style(GRID)
        .axis_style(MUTED)
        .draw()
        .context("drawing the spend chart's axes")?;
    let half = 0.38;
    for day in 0..days {
        let mut base = 0.0;
        for (group, colour) in groups.iter().zip(PALETTE) {
            let Some(figure) = group.per_day.get(day) else { continue };
            // The billed part solid, the estimated part hatched above it.
            for (part, estimated) in [(figure.billed, false), (figure.estimated, true)] {
                let height = position(part.amount());
                if height <= 0.0 {
                    continue;
                }
                let (x0, x1) = (day as f64 - half, day as f64 + half);
                let (low, high) = (
                    chart.backend_coord(&(x0, base)),
                    chart.backend_coord(&(x1, base + height)),
                );
                if estimated {
                    canvas
                        .area
                        .draw(&Rectangle::new([low, high], lighten(colour, 0.62).filled()))?;
                    hatch(&canvas.area, low, high, colour)?;
                } else {
                    canvas.area.draw(&Rectangle::new([low, high], colour.filled()))?;
                }
                canvas.area.draw(&Rectangle::new([low, high], colour.stroke_width(1)))?;
                base += height;
            }
        }
    }
    let every = label_every(days, 8);
    let label = style(22, TEXT, Pos::new(HPos::Center, VPos::Top));
    for (day, date) in series
        .days
        .iter()
        .enumerate()
        .filter(|(i, _)| (days - 1 - i).is_multiple_of(every))
    {
        let (x, y) = chart.backend_coord(&(day as f64, 0.0));
        canvas.text(&short_date(*date), (x, y + 8), &label)?;
    }
    Ok(())
}

/// A swatch, the name and the total of each group, and a key for estimates.
fn legend(canvas: &mut Canvas, groups: &[SpendGroup]) -> anyhow::Result<()> {
    let name_style = style(22, TEXT, Pos::new(HPos::Left, VPos::Top));
    let total_style = style(22, MUTED, Pos::new(HPos::Left, VPos::Top));
    let left = LEGEND_LEFT + 8;
    let mut y = HEADER + 12;
    for (group, colour) in groups.iter().zip(PALETTE) {
        canvas
            .area
            .draw(&Rectangle::new([(left, y + 2), (left + 20, y + 22)], colour.filled()))?;
        let name = canvas.fit(&group.name, WIDTH as i32 - left - 48, &name_style)?;
        canvas.text(&name, (left + 30, y), &name_style)?;
        canvas.text(&group.total().to_string(), (left + 30, y + 26), &total_style)?;
        y += 58;
    }
    if groups.iter().flat_map(|g| &g.per_day).any(is_estimate) {
        let (low, high) = ((left, y + 2), (left + 20, y + 22));
        canvas
            .area
            .draw(&Rectangle::new([low, high], lighten(MUTED, 0.62).filled()))?;
        hatch(&canvas.area, low, high, MUTED)?;
        canvas.area.draw(&Rectangle::new([low, high], MUTED.stroke_width(1)))?;
        canvas.text("estimated", (left + 30, y), &name_style)?;
    }
    Ok(())
}

/// Which figures are billed and which estimated, under the chart.
fn note(canvas: &mut Canvas, series: &SpendSeries) -> anyhow::Result<()> {
    let text = if series.has_estimates() {
        format!(
            "Solid: billed by Tencent. Light, hatched: estimated from cvmbot's records ({} of the total).",
            estimated_total(series)
        )
    } else {
        "Every figure is billed by Tencent.".to_owned()
    };
    let at = (24, HEIGHT as i32 - FOOTER + 14);
    canvas.text(&text, at, &style(22, MUTED, Pos::new(HPos::Left, VPos::Top)))
}
