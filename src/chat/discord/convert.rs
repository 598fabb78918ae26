//! The chat model in Discord's terms: embeds within Discord's limits, buttons in action rows,
//! reactions, people from members.

use crate::chat::model::{ButtonStyle, Outgoing, Tone};
use crate::domain::{ChannelId, GuildId, MessageId, Person, RoleId, UserId};
use serenity::all::{
    ButtonStyle as DiscordButtonStyle, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed,
    CreateEmbedFooter, CreateInteractionResponseMessage, CreateMessage, EditMessage, Member, Nonce, ReactionType, User,
};
use sha2::{Digest, Sha256};

/// Our ids and serenity's are the same snowflakes.
macro_rules! same_snowflake {
    ($($name:ident),+) => {
        $(
            impl From<$name> for serenity::all::$name {
                fn from(id: $name) -> Self {
                    serenity::all::$name::new(id.get())
                }
            }
            impl From<serenity::all::$name> for $name {
                fn from(id: serenity::all::$name) -> Self {
                    $name::new(id.get())
                }
            }
        )+
    };
}
same_snowflake!(UserId, RoleId, GuildId, ChannelId, MessageId);

/// Embed limits (discord-conventions.md).
const TITLE: usize = 256;
const DESCRIPTION: usize = 4096;
const FIELD_NAME: usize = 256;
const FIELD_VALUE: usize = 1024;
const FOOTER: usize = 2048;
const FIELDS: usize = 25;
const CONTENT: usize = 2000;

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The embed colour of a tone.
pub fn colour(tone: Tone) -> u32 {
    match tone {
        Tone::Pending => 0xF1C40F,
        Tone::Working => 0x3498DB,
        Tone::Success => 0x2ECC71,
        Tone::Failure => 0xE74C3C,
        Tone::Warning => 0xE67E22,
        Tone::Critical => 0x992D22,
        Tone::Info => 0x95A5A6,
    }
}

fn embed(message: &Outgoing) -> Option<CreateEmbed> {
    let card = message.card.as_ref()?;
    let mut embed = CreateEmbed::new()
        .title(cut(&card.title, TITLE))
        .colour(colour(card.tone));
    if let Some(description) = &card.description {
        embed = embed.description(cut(description, DESCRIPTION));
    }
    for field in card.fields.iter().take(FIELDS) {
        embed = embed.field(
            cut(&field.name, FIELD_NAME),
            cut(&field.value, FIELD_VALUE),
            field.inline,
        );
    }
    if let Some(footer) = &card.footer {
        embed = embed.footer(CreateEmbedFooter::new(cut(footer, FOOTER)));
    }
    Some(embed)
}

fn components(message: &Outgoing) -> Vec<CreateActionRow> {
    if message.buttons.is_empty() {
        return Vec::new();
    }
    let buttons = message
        .buttons
        .iter()
        .take(5)
        .map(|b| {
            let style = match b.style {
                ButtonStyle::Success => DiscordButtonStyle::Success,
                ButtonStyle::Danger => DiscordButtonStyle::Danger,
                ButtonStyle::Secondary => DiscordButtonStyle::Secondary,
            };
            CreateButton::new(cut(&b.id, 100)).label(cut(&b.label, 80)).style(style)
        })
        .collect();
    vec![CreateActionRow::Buttons(buttons)]
}

/// `text` cut to fit a message's content.
pub fn fit(text: &str) -> String {
    cut(text, CONTENT)
}

/// As many whole `lines` as fit in a message's content, then how many were left out and `hint`.
pub fn fit_lines(lines: &[String], hint: &str) -> String {
    let mut text = String::new();
    for (shown, line) in lines.iter().enumerate() {
        let left = lines.len() - shown;
        let separator = if text.is_empty() { "" } else { "\n" };
        let tail = format!("{separator}… {left} more not shown; {hint}");
        let needed = text.chars().count() + 1 + line.chars().count();
        let room_for_tail = left == 1 || needed + tail.chars().count() <= CONTENT;
        if needed > CONTENT || !room_for_tail {
            text.push_str(&tail);
            return text;
        }
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(line);
    }
    text
}

fn content(message: &Outgoing) -> String {
    cut(message.text.as_deref().unwrap_or(""), CONTENT)
}

fn mentions(message: &Outgoing) -> CreateAllowedMentions {
    CreateAllowedMentions::new().users(message.mentions.iter().map(|u| serenity::all::UserId::from(*u)))
}

/// Discord nonces are at most 25 characters: a digest of the installation and the dedupe key, so
/// a second installation (or a rebuilt database) posting request N's news in the same channel is
/// never taken by Discord for a repeat of the first one's, which it would swallow.
pub fn nonce(installation: &str, key: &str) -> String {
    hex::encode(Sha256::digest(format!("{installation}\n{key}").as_bytes()))[..25].to_owned()
}

/// A new channel message. With a dedupe key it carries an enforced nonce (scoped to
/// `installation`), so Discord answers a repeat within minutes with the first message instead of
/// posting twice.
pub fn create_message(message: &Outgoing, installation: &str) -> CreateMessage {
    let mut create = CreateMessage::new()
        .content(content(message))
        .components(components(message))
        .allowed_mentions(mentions(message));
    if let Some(embed) = embed(message) {
        create = create.embed(embed);
    }
    if let Some(key) = &message.dedupe_key {
        create = create
            .nonce(Nonce::String(nonce(installation, key)))
            .enforce_nonce(true);
    }
    create.add_files(message.attachments.iter().map(attachment))
}

/// A chart as a Discord attachment, with its figures as alt text.
pub fn attachment(file: &crate::chat::model::Attachment) -> serenity::all::CreateAttachment {
    serenity::all::CreateAttachment::bytes(file.bytes.clone(), file.filename.clone())
        .description(file.description.clone())
}

/// An edit that replaces a message's content, embed and buttons (no buttons removes them).
pub fn edit_message(message: &Outgoing) -> EditMessage {
    let mut edit = EditMessage::new()
        .content(content(message))
        .components(components(message));
    edit = match embed(message) {
        Some(embed) => edit.embed(embed),
        None => edit.embeds(Vec::new()),
    };
    edit
}

/// The same message as an interaction response (for UPDATE_MESSAGE or a reply).
pub fn response_message(message: &Outgoing) -> CreateInteractionResponseMessage {
    let mut response = CreateInteractionResponseMessage::new()
        .content(content(message))
        .components(components(message));
    response = match embed(message) {
        Some(embed) => response.embed(embed),
        None => response.embeds(Vec::new()),
    };
    response
}

/// A unicode emoji as a reaction.
pub fn reaction(emoji: &str) -> ReactionType {
    ReactionType::Unicode(emoji.to_owned())
}

/// The person behind an interaction or a reaction: their id, shown name and roles.
pub fn person(user: &User, member: Option<&Member>) -> Person {
    let name = member
        .and_then(|m| m.nick.clone())
        .or_else(|| user.global_name.clone())
        .unwrap_or_else(|| user.name.clone());
    let roles = member
        .map(|m| m.roles.iter().map(|r| RoleId::from(*r)).collect())
        .unwrap_or_default();
    Person {
        id: user.id.into(),
        name,
        roles,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_fit_discords_25_characters_and_are_stable() {
        let key = "instance:ins-abcdefgh:public-ip";
        assert_eq!(nonce("a", key).len(), 25);
        assert_eq!(nonce("a", key), nonce("a", key));
        assert_ne!(nonce("a", key), nonce("a", "instance:ins-abcdefgh:running"));
    }

    #[test]
    fn two_installations_never_share_a_nonce_for_the_same_notice() {
        assert_ne!(
            nonce("install-a", "request:1:submitted"),
            nonce("install-b", "request:1:submitted")
        );
    }

    #[test]
    fn listings_keep_whole_lines_within_the_content_limit_and_say_what_was_left_out() {
        let lines: Vec<String> = (0..30).map(|i| format!("{i:02} {}", "x".repeat(97))).collect();
        let text = fit_lines(&lines, "ask for one");
        assert!(text.chars().count() <= CONTENT, "{}", text.chars().count());
        assert!(text.starts_with("00 x"));
        let shown = text.lines().filter(|l| l.ends_with('x')).count();
        assert!(
            text.ends_with(&format!("… {} more not shown; ask for one", 30 - shown)),
            "{text}"
        );
        let few: Vec<String> = vec!["a".into(), "b".into()];
        assert_eq!(fit_lines(&few, "ask"), "a\nb");
    }

    #[test]
    fn long_texts_are_cut_to_the_limit_with_an_ellipsis() {
        let long = "x".repeat(300);
        let cut = cut(&long, TITLE);
        assert_eq!(cut.chars().count(), TITLE);
        assert!(cut.ends_with('…'));
    }
}
