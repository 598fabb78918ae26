//! The spend and runway charts as PNG images, and the same figures as plain text for screen
//! readers.
//!
//! Every chart is [`WIDTH`] × [`HEIGHT`] pixels, 2:1. Discord shows an image attachment inline in a
//! box at most 550 pixels wide (CSS pixels), so a 1100-pixel-wide chart is shown at exactly half
//! its size on an ordinary screen and pixel for pixel on a 2× (high-density) screen: an integer
//! ratio either way, so lines and letters stay sharp instead of being resampled by an odd factor.
//! The smallest text is 22 pixels, 11 at half size, about the size of Discord's own timestamps.
//!
//! The image carries its own opaque, light background with a grey border, so it reads the same on
//! Discord's dark theme (a light card on a dark channel) and its light theme (the border sets it
//! off from the white channel). Text and bars are checked against that background in the tests:
//! text at 7:1 or more, bars and lines at 3:1 or more (WCAG's thresholds for text and for
//! graphics).
//!
//! Text is drawn with DejaVu Sans, shipped in `assets/fonts/` and compiled into the binary: no
//! system font is looked up at run time. Money is exact everywhere but in pixel positions: labels
//! print the exact decimal of the [`Yuan`](crate::money::Yuan) they show.

mod canvas;
mod runway;
mod spend;
mod table;

pub use runway::runway_png;
pub use spend::spend_png;
pub use table::{runway_table, spend_table};

/// The spend chart as a message attachment, its table as the alt text.
pub fn spend_attachment(series: &crate::domain::SpendSeries) -> anyhow::Result<crate::chat::model::Attachment> {
    Ok(crate::chat::model::Attachment {
        filename: "cvmbot-spend.png".into(),
        bytes: spend_png(series)?,
        description: spend_table(series),
    })
}

/// The runway chart as a message attachment, its table as the alt text.
pub fn runway_attachment(history: &crate::domain::BalanceHistory) -> anyhow::Result<crate::chat::model::Attachment> {
    Ok(crate::chat::model::Attachment {
        filename: "cvmbot-runway.png".into(),
        bytes: runway_png(history)?,
        description: runway_table(history),
    })
}

/// The width of every chart, in pixels.
pub const WIDTH: u32 = 1100;
/// The height of every chart, in pixels.
pub const HEIGHT: u32 = 550;
/// Discord's limit on an attachment's description (its alt text), in characters; the tables fit
/// in it and say what they leave out.
pub const ALT_TEXT_LIMIT: usize = 1024;
/// How many colours a stacked chart uses at most: the biggest groups get one each and the rest
/// share the last as "other".
pub const MAX_GROUPS: usize = 6;

#[cfg(test)]
mod tests;
