//! Posting and editing through Discord's REST API with the bot token (not interaction tokens,
//! which expire after 15 minutes while a purchase can take longer).

use super::convert::{create_message, edit_message, reaction};
use crate::chat::model::Outgoing;
use crate::chat::notifier::CardMark;
use crate::chat::notifier::Notifier;
use crate::domain::{ChannelId, MessageId as ChatMessageId};
use futures_util::future::BoxFuture;
use serenity::all::{ActionRowComponent, ButtonKind, CreateThread, GetMessages, Http, HttpError, MessageId, UserId};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The Discord notifier.
#[derive(Clone)]
pub struct DiscordNotifier {
    http: Arc<Http>,
    installation: Arc<str>,
    me: Arc<OnceCell<UserId>>,
}

/// How many recent messages are searched for a card that may have been posted.
const CARD_SEARCH: u8 = 100;

/// Discord's error code for "a thread has already been created for this message".
const THREAD_EXISTS: isize = 160_004;

impl DiscordNotifier {
    /// A notifier using `http`, for the installation `installation` (its posts' nonces are
    /// scoped to it).
    pub fn new(http: Arc<Http>, installation: &str) -> DiscordNotifier {
        DiscordNotifier {
            http,
            installation: installation.into(),
            me: Arc::default(),
        }
    }

    async fn me(&self) -> anyhow::Result<UserId> {
        let id = self
            .me
            .get_or_try_init(|| async { self.http.get_current_user().await.map(|user| user.id) })
            .await?;
        Ok(*id)
    }
}

impl Notifier for DiscordNotifier {
    fn post<'a>(&'a self, channel: ChannelId, message: &'a Outgoing) -> BoxFuture<'a, anyhow::Result<ChatMessageId>> {
        Box::pin(async move {
            let channel = serenity::all::ChannelId::from(channel);
            let posted = channel
                .send_message(&self.http, create_message(message, &self.installation))
                .await?;
            for emoji in &message.reactions {
                self.http.create_reaction(channel, posted.id, &reaction(emoji)).await?;
            }
            Ok(posted.id.into())
        })
    }

    fn edit<'a>(
        &'a self,
        channel: ChannelId,
        message_id: ChatMessageId,
        message: &'a Outgoing,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            serenity::all::ChannelId::from(channel)
                .edit_message(&self.http, MessageId::from(message_id), edit_message(message))
                .await?;
            Ok(())
        })
    }

    fn react<'a>(
        &'a self,
        channel: ChannelId,
        message_id: ChatMessageId,
        emoji: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            self.http
                .create_reaction(
                    serenity::all::ChannelId::from(channel),
                    MessageId::from(message_id),
                    &reaction(emoji),
                )
                .await?;
            Ok(())
        })
    }

    fn open_thread<'a>(
        &'a self,
        channel: ChannelId,
        message_id: ChatMessageId,
        name: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<ChannelId>> {
        Box::pin(async move {
            let opened = serenity::all::ChannelId::from(channel)
                .create_thread_from_message(&self.http, MessageId::from(message_id), CreateThread::new(name))
                .await;
            match opened {
                Ok(thread) => Ok(thread.id.into()),
                // Opened already, by a process that died before recording it: a thread started
                // from a message has that message's id.
                Err(serenity::Error::Http(HttpError::UnsuccessfulRequest(response)))
                    if response.error.code == THREAD_EXISTS =>
                {
                    Ok(ChannelId::new(message_id.get()))
                }
                Err(error) => Err(error.into()),
            }
        })
    }

    fn find_card<'a>(
        &'a self,
        channel: ChannelId,
        card: &'a CardMark,
    ) -> BoxFuture<'a, anyhow::Result<Option<ChatMessageId>>> {
        Box::pin(async move {
            let me = self.me().await?;
            let recent = serenity::all::ChannelId::from(channel)
                .messages(&self.http, GetMessages::new().limit(CARD_SEARCH))
                .await?;
            Ok(recent
                .iter()
                .find(|m| {
                    let posted = time::OffsetDateTime::from_unix_timestamp(m.timestamp.unix_timestamp())
                        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                    m.author.id == me && card.posted_in_time(posted) && card.matches_buttons(button_ids(m))
                })
                .map(|m| m.id.into()))
        })
    }
}

fn button_ids(message: &serenity::all::Message) -> impl Iterator<Item = &str> {
    message
        .components
        .iter()
        .flat_map(|row| &row.components)
        .filter_map(|component| match component {
            ActionRowComponent::Button(button) => match &button.data {
                ButtonKind::NonLink { custom_id, .. } => Some(custom_id.as_str()),
                _ => None,
            },
            _ => None,
        })
}
