//! Posting and editing through Discord's REST API with the bot token (not interaction tokens,
//! which expire after 15 minutes while a purchase can take longer).

use super::convert::{create_message, edit_message, reaction};
use crate::chat::model::Outgoing;
use crate::chat::notifier::Notifier;
use futures_util::future::BoxFuture;
use serenity::all::{ChannelId, Http, MessageId};
use std::sync::Arc;

/// The Discord notifier.
#[derive(Clone)]
pub struct DiscordNotifier {
    http: Arc<Http>,
}

impl DiscordNotifier {
    /// A notifier using `http`.
    pub fn new(http: Arc<Http>) -> DiscordNotifier {
        DiscordNotifier { http }
    }
}

impl Notifier for DiscordNotifier {
    fn post<'a>(&'a self, channel: u64, message: &'a Outgoing) -> BoxFuture<'a, anyhow::Result<u64>> {
        Box::pin(async move {
            let channel = ChannelId::new(channel);
            let posted = channel.send_message(&self.http, create_message(message)).await?;
            for emoji in &message.reactions {
                self.http.create_reaction(channel, posted.id, &reaction(emoji)).await?;
            }
            Ok(posted.id.get())
        })
    }

    fn edit<'a>(&'a self, channel: u64, message_id: u64, message: &'a Outgoing) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            ChannelId::new(channel)
                .edit_message(&self.http, MessageId::new(message_id), edit_message(message))
                .await?;
            Ok(())
        })
    }
}
