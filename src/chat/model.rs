//! The chat rendering model shared by every adapter: a message is text, an optional card (an
//! embed on Discord, a box on the console), buttons and reactions. Adapters translate; they
//! decide nothing.

use crate::domain::UserId;

/// The colour a card is shown in, by what it says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Waiting for people.
    Pending,
    /// Under way.
    Working,
    /// Done and good.
    Success,
    /// Refused, failed or withdrawn.
    Failure,
    /// Needs attention.
    Warning,
    /// Money is at risk now.
    Critical,
    /// Information.
    Info,
}

/// A field of a card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Label.
    pub name: String,
    /// Content.
    pub value: String,
    /// Whether it may sit beside other fields.
    pub inline: bool,
}

/// A structured block: Discord shows it as an embed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Card {
    /// Title (≤ 256 characters on Discord).
    pub title: String,
    /// Colour.
    pub tone: Tone,
    /// Body text.
    pub description: Option<String>,
    /// Fields (≤ 25 on Discord).
    pub fields: Vec<Field>,
    /// Small print.
    pub footer: Option<String>,
}

/// A button's look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ButtonStyle {
    /// Green.
    Success,
    /// Red.
    Danger,
    /// Grey.
    Secondary,
}

/// A button; its id comes back when someone presses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Button {
    /// Identifies the action (≤ 100 characters on Discord).
    pub id: String,
    /// Label.
    pub label: String,
    /// Look.
    pub style: ButtonStyle,
}

/// Something to post or to show in place of an earlier post.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outgoing {
    /// Plain text.
    pub text: Option<String>,
    /// A card.
    pub card: Option<Card>,
    /// Buttons under the message.
    pub buttons: Vec<Button>,
    /// Emoji the bot adds as reactions after posting (✅ ❌ on a request).
    pub reactions: Vec<String>,
    /// Users to mention (and notify).
    pub mentions: Vec<UserId>,
    /// A key that makes a repeated post of the same notice a no-op where the chat supports it.
    pub dedupe_key: Option<String>,
    /// Files posted with the message (a chart).
    pub attachments: Vec<Attachment>,
}

/// A file posted with a message: a chart, with the same figures as text for screen readers.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Its file name (`cvmbot-spend.png`).
    pub filename: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// What it shows in words (Discord's alt text, at most 1,024 characters).
    pub description: String,
}

impl std::fmt::Debug for Attachment {
    /// The name, size and description; not the bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("bytes", &self.bytes.len())
            .field("description", &self.description)
            .finish()
    }
}

impl Outgoing {
    /// A text-only message.
    pub fn text(text: impl Into<String>) -> Outgoing {
        Outgoing {
            text: Some(text.into()),
            ..Outgoing::default()
        }
    }
}

/// The reaction that approves.
pub const APPROVE_EMOJI: &str = "✅";
/// The reaction that rejects.
pub const REJECT_EMOJI: &str = "❌";
