//! The runway chart: the balance over the last weeks, and a dashed projection at today's burn down
//! to zero, stepping down where prepaid renewals take money.

use super::canvas::{
    BACKGROUND, BALANCE, Canvas, DANGER, Drawn, GRID, MUTED, PAYMENT, TEXT, axis_top, axis_yuan, label_every, position,
    render, short_date, style,
};
use super::{HEIGHT, WIDTH};
use crate::domain::BalanceHistory;
use anyhow::Context;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use time::{Duration, OffsetDateTime, Time};

const HEADER: i32 = 100;
const FOOTER: i32 = 52;
/// The projection is drawn this far past the last reading at most, so a far-off end does not
/// squash the history; the footer still names the day.
const MOST_DAYS_AHEAD: i64 = 60;
/// And at least this far, so there is a projection to see.
const LEAST_DAYS_AHEAD: i64 = 7;

/// The runway chart of `history` as a PNG: the balance readings as a line, the projection at
/// today's burn as a dashed line to zero with the day it runs out labelled, and a ▼ marker (with
/// the amount) where each prepaid renewal ahead takes money.
pub fn runway_png(history: &BalanceHistory) -> anyhow::Result<Vec<u8>> {
    Ok(draw(history)?.png)
}

/// The chart and the words on it.
pub(super) fn draw(history: &BalanceHistory) -> anyhow::Result<Drawn> {
    render(|canvas| {
        canvas.text(
            "Balance and runway",
            (24, 18),
            &style(30, TEXT, Pos::new(HPos::Left, VPos::Top)),
        )?;
        let Some(&(last_at, last)) = history.readings.last() else {
            let centre = (WIDTH as i32 / 2, HEIGHT as i32 / 2);
            return canvas.text(
                "No balance readings yet",
                centre,
                &style(34, MUTED, Pos::new(HPos::Center, VPos::Center)),
            );
        };
        let now = format!("Now {last}");
        canvas.text(
            &now,
            (WIDTH as i32 - 24, 20),
            &style(28, TEXT, Pos::new(HPos::Right, VPos::Top)),
        )?;
        key(canvas, history)?;
        let origin = history.readings[0].0.replace_time(Time::MIDNIGHT);
        let end = window_end(history, last_at);
        plot(canvas, history, origin, end)?;
        let words = match history.runs_out_at {
            Some(at) if at <= end => format!("At today's burn it runs out on {}.", at.date()),
            Some(at) => format!(
                "At today's burn it runs out on {}, past the end of this chart.",
                at.date()
            ),
            None => "At today's burn it does not run out.".to_owned(),
        };
        let footer = (24, HEIGHT as i32 - FOOTER + 14);
        canvas.text(&words, footer, &style(22, TEXT, Pos::new(HPos::Left, VPos::Top)))?;
        Ok(())
    })
}

/// Where the chart's time axis ends: past the day it runs out and the renewals ahead, within
/// [`LEAST_DAYS_AHEAD`] and [`MOST_DAYS_AHEAD`] of the last reading.
fn window_end(history: &BalanceHistory, last_at: OffsetDateTime) -> OffsetDateTime {
    let wanted = history
        .payments
        .iter()
        .map(|p| p.at)
        .chain(history.runs_out_at)
        .max()
        .map_or(last_at, |at| at + Duration::days(1));
    wanted.clamp(
        last_at + Duration::days(LEAST_DAYS_AHEAD),
        last_at + Duration::days(MOST_DAYS_AHEAD),
    )
}

/// The line samples under the title saying what each line and marker is.
fn key(canvas: &mut Canvas, history: &BalanceHistory) -> anyhow::Result<()> {
    let text = style(22, TEXT, Pos::new(HPos::Left, VPos::Center));
    let y = 70;
    let mut x = 24;
    canvas
        .area
        .draw(&PathElement::new(vec![(x, y), (x + 36, y)], BALANCE.stroke_width(3)))?;
    canvas.text("balance", (x + 46, y), &text)?;
    x += 46 + canvas.width_of("balance", &text)? + 28;
    let dashed = DashedPathElement::new(vec![(x, y), (x + 40, y)], 8, 6, BALANCE.stroke_width(3));
    canvas.area.draw(&dashed)?;
    let burn = format!("at today's burn of {} a day", history.burn_per_day);
    canvas.text(&burn, (x + 50, y), &text)?;
    x += 50 + canvas.width_of(&burn, &text)? + 28;
    if !history.payments.is_empty() {
        triangle(canvas, (x + 10, y - 8))?;
        canvas.text("prepaid renewal", (x + 28, y), &text)?;
    }
    Ok(())
}

/// A ▼ whose tip is 16 pixels under `top`.
fn triangle(canvas: &Canvas, (x, top): (i32, i32)) -> anyhow::Result<()> {
    let shape = Polygon::new(vec![(x - 9, top), (x + 9, top), (x, top + 16)], PAYMENT.filled());
    canvas.area.draw(&shape).context("drawing a renewal marker")?;
    Ok(())
}

/// Days since `origin`, as an x position.
fn days_since(origin: OffsetDateTime, at: OffsetDateTime) -> f64 {
    (at - origin).as_seconds_f64() / 86_400.0
}

/// A renewal on the chart: x, the balance just before it, and its amount as a label.
type Marker = (f64, f64, String);

/// The projection from the last reading: linear at the burn, a step down at each renewal, until
/// zero or `end`. Points are (x, balance in yuan) and the renewal markers' (x, balance before).
fn projection(history: &BalanceHistory, origin: OffsetDateTime, end: OffsetDateTime) -> (Vec<(f64, f64)>, Vec<Marker>) {
    let (last_at, last) = history.readings[history.readings.len() - 1];
    let burn = position(history.burn_per_day.amount()).max(0.0);
    let (mut x, mut balance) = (days_since(origin, last_at), position(last.to_yuan().amount()));
    let mut points = vec![(x, balance)];
    let mut markers = Vec::new();
    let mut payments: Vec<_> = history
        .payments
        .iter()
        .filter(|p| p.at > last_at && p.at <= end)
        .collect();
    payments.sort_by_key(|p| p.at);
    let stops = payments
        .iter()
        .map(|p| (days_since(origin, p.at), Some(*p)))
        .chain([(days_since(origin, end), None)]);
    for (at, payment) in stops {
        let after = balance - burn * (at - x);
        if after <= 0.0 && burn > 0.0 && balance > 0.0 {
            points.push((x + balance / burn, 0.0));
            return (points, markers);
        }
        (x, balance) = (at, after);
        points.push((x, balance));
        if let Some(payment) = payment {
            markers.push((x, balance, format!("−{}", payment.amount)));
            balance -= position(payment.amount.to_yuan().amount());
            points.push((x, balance.max(0.0)));
            if balance <= 0.0 {
                return (points, markers);
            }
        }
    }
    (points, markers)
}

/// The axes, the balance line, the projection, the renewals and the day it runs out.
fn plot(
    canvas: &mut Canvas,
    history: &BalanceHistory,
    origin: OffsetDateTime,
    end: OffsetDateTime,
) -> anyhow::Result<()> {
    let readings: Vec<(f64, f64)> = history
        .readings
        .iter()
        .map(|(at, fen)| (days_since(origin, *at), position(fen.to_yuan().amount())))
        .collect();
    let (path, markers) = projection(history, origin, end);
    let span = days_since(origin, end).ceil();
    let high = readings.iter().chain(&path).map(|p| p.1).fold(0.0, f64::max);
    let low = readings.iter().map(|p| p.1).fold(0.0, f64::min);
    let low = if low < 0.0 { -axis_top(-low) } else { 0.0 };
    let area = canvas
        .area
        .clone()
        .shrink((0, HEADER), (WIDTH, HEIGHT - (HEADER + FOOTER) as u32));
    let mut chart = ChartBuilder::on(&area)
        .margin_left(16)
        .margin_right(40)
        .margin_top(8)
        .x_label_area_size(36)
        .y_label_area_size(120)
        .build_cartesian_2d(0.0..span, low..axis_top(high))
        .context("laying out the runway chart")?;
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
        .context("drawing the runway chart's axes")?;
    let days = span as usize + 1;
    let every = label_every(days, 9);
    let label = style(22, TEXT, Pos::new(HPos::Center, VPos::Top));
    for day in (0..days).step_by(every) {
        let (x, y) = chart.backend_coord(&(day as f64, low));
        canvas.text(
            &short_date(origin.date() + Duration::days(day as i64)),
            (x, y + 8),
            &label,
        )?;
    }
    chart.draw_series(std::iter::once(PathElement::new(readings, BALANCE.stroke_width(3))))?;
    let dashed = DashedPathElement::new(path, 10, 7, BALANCE.stroke_width(3));
    chart.draw_series(std::iter::once(dashed))?;
    let amount_style = style(22, TEXT, Pos::new(HPos::Left, VPos::Bottom));
    let labelled = markers.len() <= 4;
    for (x, balance, amount) in markers {
        let (px, py) = chart.backend_coord(&(x, balance));
        triangle(canvas, (px, py - 20))?;
        if labelled {
            canvas.text(&amount, (px + 12, py - 18), &amount_style)?;
        }
    }
    if let Some(at) = history.runs_out_at.filter(|at| *at <= end) {
        let (px, py) = chart.backend_coord(&(days_since(origin, at), 0.0));
        canvas.area.draw(&Circle::new((px, py), 7, DANGER.filled()))?;
        let words = format!("runs out {}", short_date(at.date()));
        let label = style(22, TEXT, Pos::new(HPos::Left, VPos::Top));
        let width = canvas.width_of(&words, &label)?;
        // A stem up from the marker to the label, which sits on its own background above the
        // projection and ends at the stem near the right edge.
        let left = if px + width / 2 > WIDTH as i32 - 24 {
            px + 8 - width
        } else {
            px - width / 2
        };
        let top = py - 62;
        canvas.area.draw(&PathElement::new(
            vec![(px, py), (px, top + 30)],
            DANGER.stroke_width(2),
        ))?;
        let backdrop = Rectangle::new([(left - 6, top - 2), (left + width + 6, top + 28)], BACKGROUND.filled());
        canvas.area.draw(&backdrop)?;
        canvas.text(&words, (left, top), &label)?;
    }
    Ok(())
}
