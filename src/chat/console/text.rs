//! Terminal rendering of the chat model: boxes for cards, colour by tone when writing to a TTY.

use crate::chat::model::{ButtonStyle, Outgoing, Tone};

/// ANSI colour (or none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paint {
    /// Whether to emit escape codes.
    pub enabled: bool,
}

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Bold.
    pub fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }

    /// Dim.
    pub fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }

    /// The colour of a tone.
    pub fn tone(self, tone: Tone, text: &str) -> String {
        let code = match tone {
            Tone::Pending => "33",
            Tone::Working => "36",
            Tone::Success => "32",
            Tone::Failure => "31",
            Tone::Warning => "33;1",
            Tone::Critical => "31;1",
            Tone::Info => "37",
        };
        self.wrap(code, text)
    }
}

/// A message as terminal lines, each prefixed with `│ ` inside a box when it has a card.
pub fn render(message: &Outgoing, paint: Paint) -> String {
    let mut out = String::new();
    if let Some(text) = &message.text {
        out.push_str(text);
        out.push('\n');
        if message.card.is_none() && !message.buttons.is_empty() {
            let buttons: Vec<String> = message.buttons.iter().map(|b| format!("[{}]", b.label)).collect();
            out.push_str(&format!("  {}\n", paint.bold(&buttons.join(" "))));
        }
    }
    if let Some(card) = &message.card {
        out.push_str(&format!("┌ {}\n", paint.tone(card.tone, &paint.bold(&card.title))));
        if let Some(description) = &card.description {
            for line in description.lines() {
                out.push_str(&format!("│ {line}\n"));
            }
        }
        for field in &card.fields {
            let mut lines = field.value.lines();
            let first = lines.next().unwrap_or("");
            out.push_str(&format!("│ {}: {first}\n", paint.bold(&field.name)));
            for line in lines {
                out.push_str(&format!("│   {line}\n"));
            }
        }
        if !message.buttons.is_empty() || !message.reactions.is_empty() {
            let buttons: Vec<String> = message
                .buttons
                .iter()
                .map(|b| {
                    let tone = match b.style {
                        ButtonStyle::Success => Tone::Success,
                        ButtonStyle::Danger => Tone::Failure,
                        ButtonStyle::Secondary => Tone::Info,
                    };
                    paint.tone(tone, &format!("[{}]", b.label))
                })
                .collect();
            out.push_str(&format!("│ {}  {}\n", buttons.join(" "), message.reactions.join(" ")));
        }
        let footer = card.footer.as_deref().unwrap_or("");
        out.push_str(&format!("└ {}\n", paint.dim(footer)));
    }
    for file in &message.attachments {
        let line = match save_attachment(file) {
            Ok(path) => format!("📎 {} written to {}", file.filename, path.display()),
            Err(error) => format!("📎 {} could not be written: {error:#}", file.filename),
        };
        out.push_str(&paint.dim(&line));
        out.push('\n');
    }
    out
}

/// The variable naming the directory the console writes charts to (default: the system's
/// temporary directory's `cvmbot-charts`).
pub const CHART_DIR: &str = "CVMBOT_CHART_DIR";

/// Writes an attachment (a chart) where [`CHART_DIR`] says, named by its file name and the
/// time, and returns its path.
pub fn save_attachment(file: &crate::chat::model::Attachment) -> anyhow::Result<std::path::PathBuf> {
    use anyhow::Context as _;
    let dir = std::env::var_os(CHART_DIR).map_or_else(|| std::env::temp_dir().join("cvmbot-charts"), Into::into);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let (stem, extension) = file.filename.rsplit_once('.').unwrap_or((&file.filename, "png"));
    let path = dir.join(format!("{stem}-{stamp}.{extension}"));
    std::fs::write(&path, &file.bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// A card edit in one line: the title and its status line.
pub fn render_edit(message: &Outgoing, paint: Paint) -> String {
    match &message.card {
        Some(card) => {
            let status = card.description.as_deref().and_then(|d| d.lines().last()).unwrap_or("");
            format!("✎ {} — {}\n", paint.tone(card.tone, &card.title), status)
        }
        None => format!("✎ {}", render(message, paint)),
    }
}
