//! What both charts share: the embedded font, the colours, a canvas that remembers the words it
//! draws, and the PNG encoding.

use super::{HEIGHT, WIDTH};
use anyhow::{Context, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::Pos;
use plotters::style::{FontStyle, register_font};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use std::sync::OnceLock;

/// The family name the embedded font is registered under.
pub(super) const FONT: &str = "cvmbot-dejavu-sans";
static FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// The chart's own background: near white, so it reads on both of Discord's themes.
pub(super) const BACKGROUND: RGBColor = RGBColor(0xfa, 0xfa, 0xfb);
/// The frame that sets the chart off from Discord's white light theme.
pub(super) const BORDER: RGBColor = RGBColor(0x9c, 0xa3, 0xaf);
/// Titles, figures and labels.
pub(super) const TEXT: RGBColor = RGBColor(0x1f, 0x23, 0x28);
/// Notes and axis descriptions (still 7:1 on the background).
pub(super) const MUTED: RGBColor = RGBColor(0x40, 0x46, 0x4f);
/// Grid lines: faint on purpose, they are not data.
pub(super) const GRID: RGBColor = RGBColor(0xe1, 0xe4, 0xe8);
/// One colour per group, biggest first; the last is "other". Okabe–Ito hues darkened until each
/// is 3:1 or more on the background, so bars are told apart by people with colour blindness too.
pub(super) const PALETTE: [RGBColor; super::MAX_GROUPS] = [
    RGBColor(0x00, 0x6b, 0xa6), // blue
    RGBColor(0xc2, 0x55, 0x00), // vermilion
    RGBColor(0x00, 0x85, 0x62), // bluish green
    RGBColor(0xa8, 0x4f, 0x8a), // reddish purple
    RGBColor(0x9a, 0x6b, 0x00), // ochre
    RGBColor(0x6b, 0x72, 0x80), // grey: other
];
/// The balance line and the projection.
pub(super) const BALANCE: RGBColor = PALETTE[0];
/// Where the money runs out.
pub(super) const DANGER: RGBColor = RGBColor(0xb4, 0x23, 0x18);
/// Prepaid renewals ahead.
pub(super) const PAYMENT: RGBColor = PALETTE[1];

/// A drawing area the size of the whole chart, on an RGB buffer.
pub(super) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// The chart being drawn, and every word written on it so far (tests read them: a picture's
/// words are what it says).
pub(super) struct Canvas<'a> {
    pub area: Area<'a>,
    pub words: Vec<String>,
}

/// A finished chart.
pub(super) struct Drawn {
    /// The PNG file.
    pub png: Vec<u8>,
    /// The words drawn on it, in order (not the axis ticks plotters writes).
    #[cfg_attr(not(test), allow(dead_code))]
    pub words: Vec<String>,
}

/// Text style: the embedded font at `size` pixels in `color`, anchored at `pos`.
pub(super) fn style(size: u32, color: RGBColor, pos: Pos) -> TextStyle<'static> {
    TextStyle {
        font: (FONT, size).into_font(),
        color: color.to_backend_color(),
        pos,
    }
}

impl Canvas<'_> {
    /// Writes `text` at pixel `at` and remembers it.
    pub fn text(&mut self, text: &str, at: (i32, i32), style: &TextStyle) -> anyhow::Result<()> {
        self.area
            .draw_text(text, style, at)
            .context("drawing text on a chart")?;
        self.words.push(text.to_owned());
        Ok(())
    }

    /// The width in pixels `text` takes in `style`.
    pub fn width_of(&self, text: &str, style: &TextStyle) -> anyhow::Result<i32> {
        let (w, _) = self.area.estimate_text_size(text, style).context("measuring text")?;
        Ok(i32::try_from(w).unwrap_or(i32::MAX))
    }

    /// `text`, shortened with an ellipsis until it fits in `max` pixels.
    pub fn fit(&self, text: &str, max: i32, style: &TextStyle) -> anyhow::Result<String> {
        if self.width_of(text, style)? <= max {
            return Ok(text.to_owned());
        }
        let mut chars: Vec<char> = text.chars().collect();
        while !chars.is_empty() {
            chars.pop();
            let short: String = chars.iter().collect::<String>() + "…";
            if self.width_of(&short, style)? <= max {
                return Ok(short);
            }
        }
        Ok("…".to_owned())
    }
}

/// Draws a chart with `paint` on a fresh canvas and encodes it as PNG.
pub(super) fn render(paint: impl FnOnce(&mut Canvas) -> anyhow::Result<()>) -> anyhow::Result<Drawn> {
    embed_font()?;
    let mut rgb = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    let words = {
        let area = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        area.fill(&BACKGROUND).context("filling the chart's background")?;
        let mut canvas = Canvas {
            area,
            words: Vec::new(),
        };
        paint(&mut canvas)?;
        let frame = Rectangle::new([(0, 0), (WIDTH as i32 - 1, HEIGHT as i32 - 1)], BORDER.stroke_width(2));
        canvas.area.draw(&frame).context("framing the chart")?;
        canvas.area.present().context("finishing the chart")?;
        canvas.words
    };
    Ok(Drawn {
        png: encode(&rgb)?,
        words,
    })
}

/// Registers the embedded font with plotters, once per process.
fn embed_font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok());
    if ok {
        Ok(())
    } else {
        Err(anyhow!("the embedded chart font does not load"))
    }
}

/// An 8-bit RGB PNG (no alpha channel: the chart is opaque by construction).
fn encode(rgb: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().context("writing the PNG header")?;
    writer.write_image_data(rgb).context("writing the PNG image")?;
    writer.finish().context("finishing the PNG")?;
    Ok(out)
}

/// `color` mixed with white, `share` of the way (0 to 1): the fill of an estimated figure.
pub(super) fn lighten(color: RGBColor, share: f64) -> RGBColor {
    let mix = |c: u8| (f64::from(c) + (255.0 - f64::from(c)) * share).round() as u8;
    RGBColor(mix(color.0), mix(color.1), mix(color.2))
}

/// Diagonal hatching across the pixel rectangle `(x0, y0)`–`(x1, y1)`: estimated figures are
/// hatched as well as lighter, so they differ in pattern and not in colour alone.
pub(super) fn hatch(area: &Area, (x0, y0): (i32, i32), (x1, y1): (i32, i32), color: RGBColor) -> anyhow::Result<()> {
    let (left, right, top, bottom) = (x0.min(x1), x0.max(x1), y0.min(y1), y0.max(y1));
    let mut c = left + top;
    while c <= right + bottom {
        // The line x + y = c, clipped to the rectangle.
        let start = left.max(c - bottom);
        let end = right.min(c - top);
        if start <= end {
            let line = PathElement::new(vec![(start, c - start), (end, c - end)], color.stroke_width(2));
            area.draw(&line).context("hatching an estimate")?;
        }
        c += 9;
    }
    Ok(())
}

/// An axis tick in yuan as a plain number (`0`, `2.5`, `1,000`): ticks are round numbers, printed
/// exactly to the cent.
pub(super) fn axis_yuan(value: f64) -> String {
    let exact = Decimal::from_f64(value).unwrap_or_default().round_dp(2).normalize();
    let text = crate::money::Yuan::new(exact).plain();
    text.strip_suffix(".00").map_or(text.clone(), str::to_owned)
}

/// An exact amount as a pixel position (the only place money becomes `f64`).
pub(super) fn position(amount: Decimal) -> f64 {
    amount.to_f64().unwrap_or(0.0)
}

/// A round upper end for an axis that must show `max`, leaving a little headroom.
pub(super) fn axis_top(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let padded = max * 1.08;
    let magnitude = 10f64.powf(padded.log10().floor());
    [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .map(|step| step * magnitude)
        .find(|top| *top >= padded)
        .unwrap_or(10.0 * magnitude)
}

/// How far apart date labels go so that at most `most` of `count` days are labelled.
pub(super) fn label_every(count: usize, most: usize) -> usize {
    count.div_ceil(most.max(1)).max(1)
}

/// `3 Nov`: a short, unambiguous day label.
pub(super) fn short_date(date: time::Date) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:short]");
    date.format(&format).unwrap_or_else(|_| date.to_string())
}

#[cfg(test)]
pub(super) mod test_support {
    use super::*;

    /// WCAG's relative luminance of an sRGB colour.
    fn luminance(color: RGBColor) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.040_45 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(color.0) + 0.7152 * channel(color.1) + 0.0722 * channel(color.2)
    }

    /// WCAG's contrast ratio of two colours, 1 to 21.
    pub fn contrast(a: RGBColor, b: RGBColor) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    /// The decoded pixels of a PNG, with its width, height and colour type.
    pub fn decode(png_bytes: &[u8]) -> (u32, u32, png::ColorType, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().expect("a PNG header");
        let mut pixels = vec![0; reader.output_buffer_size().expect("a buffer size")];
        let info = reader.next_frame(&mut pixels).expect("a PNG frame");
        pixels.truncate(info.buffer_size());
        (info.width, info.height, info.color_type, pixels)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::contrast;
    use super::*;

    #[test]
    fn text_reads_at_seven_to_one_and_bars_at_three_to_one_on_the_background() {
        for (name, color) in [("text", TEXT), ("muted", MUTED)] {
            let ratio = contrast(color, BACKGROUND);
            assert!(ratio >= 7.0, "{name} text is only {ratio:.2}:1 on the background");
        }
        for (i, color) in PALETTE.iter().chain([&DANGER]).enumerate() {
            let ratio = contrast(*color, BACKGROUND);
            assert!(ratio >= 3.0, "colour {i} is only {ratio:.2}:1 on the background");
        }
        assert!(
            contrast(BORDER, RGBColor(0xff, 0xff, 0xff)) >= 2.5,
            "the frame shows on white"
        );
    }

    #[test]
    fn axis_ticks_print_exact_round_numbers() {
        assert_eq!(axis_yuan(0.0), "0");
        assert_eq!(axis_yuan(0.1 + 0.2), "0.30");
        assert_eq!(axis_yuan(1000.0), "1,000");
        assert_eq!(axis_yuan(2.5), "2.50");
        assert_eq!(axis_top(0.0), 1.0);
        assert_eq!(axis_top(93.0), 120.0);
        assert!(axis_top(0.004) >= 0.004);
    }
}
