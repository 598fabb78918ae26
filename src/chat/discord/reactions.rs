//! Votes by reaction. Reactions are input only: the desk judges them like any vote; a refused
//! one is removed and its author told why. Reactions made while the bot was offline are read
//! back from each pending request's message when the bot connects.

use super::convert::{person, reaction};
use super::handler::{Handler, vote_emoji};
use crate::chat::model::{APPROVE_EMOJI, REJECT_EMOJI};
use crate::desk::{Ballot, DeskError};
use crate::domain::{ChannelId, GuildId, MessageId, Person, RequestId, UserId};
use crate::store::{ListFilter, RequestRecord};
use serenity::all::{Context, CreateMessage, Reaction};
use std::time::Duration;
use tracing::{error, info, warn};

/// Handles MESSAGE_REACTION_ADD.
pub async fn on_reaction(handler: &Handler, ctx: &Context, added: &Reaction) {
    let Some(approve) = vote_emoji(&added.emoji) else {
        return;
    };
    let Some(user_id) = added.user_id else { return };
    let bot = handler.bot_id.get().copied();
    if Some(UserId::from(user_id)) == bot {
        return;
    }
    // Cards are the bot's own messages; Discord says whose message was reacted to.
    if added
        .message_author_id
        .is_some_and(|author| Some(UserId::from(author)) != bot)
    {
        return;
    }
    if let Some(refusal) = handler.refusal(added.guild_id.map(|g| g.get())) {
        info!(guild = ?added.guild_id.map(|g| g.get()), "refused a reaction from where cvmbot is not set up");
        return refuse_elsewhere(ctx, added, user_id.into(), approve, refusal).await;
    }
    let Some(record) = request_of(handler, added.message_id.into()).await else {
        return;
    };
    let voter = match &added.member {
        Some(member) => person(&member.user, Some(member)),
        None => match fetch_person(ctx, record.guild_id, user_id.into()).await {
            Some(voter) => voter,
            None => return,
        },
    };
    match handler.desk.vote(record.id, &voter, &Ballot::reaction(approve)).await {
        Ok(outcome) => info!(request_id = %record.id, decided = ?outcome.decided, "reaction vote counted"),
        Err(error) => refuse(ctx, &record, &voter, approve, &error).await,
    }
}

/// The request whose card is `message`; a reaction can arrive before the card's id is stored,
/// so a miss is looked up again a few times.
async fn request_of(handler: &Handler, message: MessageId) -> Option<RequestRecord> {
    for attempt in 0..5 {
        match handler.desk.request_by_message(message).await {
            Ok(Some(record)) => return Some(record),
            Ok(None) => {}
            Err(e) => error!(error = %e, "looking up a reacted message"),
        }
        tokio::time::sleep(Duration::from_millis(200 * (attempt + 1))).await;
    }
    None
}

async fn fetch_person(ctx: &Context, guild: Option<GuildId>, user: UserId) -> Option<Person> {
    let guild = guild?;
    match ctx.http.get_member(guild.into(), user.into()).await {
        Ok(member) => Some(person(&member.user, Some(&member))),
        Err(e) => {
            warn!(error = %e, "could not read a voter's roles");
            None
        }
    }
}

/// Removes a refused vote's reaction and tells its author why: by direct message, or in the
/// channel when direct messages are closed.
async fn refuse(ctx: &Context, record: &RequestRecord, voter: &Person, approve: bool, error: &DeskError) {
    if let DeskError::Internal(cause) = error {
        error!(error = %format!("{cause:#}"), "reaction vote failed");
        return;
    }
    let (Some(channel), Some(message)) = (record.channel_id, record.message_id) else {
        return;
    };
    let emoji = reaction(if approve { APPROVE_EMOJI } else { REJECT_EMOJI });
    let (channel, message, user) = (
        serenity::all::ChannelId::from(channel),
        serenity::all::MessageId::from(message),
        serenity::all::UserId::from(voter.id),
    );
    if let Err(e) = ctx.http.delete_reaction(channel, message, user, &emoji).await {
        warn!(error = %e, "could not remove a refused reaction");
    }
    let text = format!(
        "Your {} on request #{} was not counted: {}",
        emoji,
        record.id,
        error.user_message()
    );
    let dm = async {
        let dm = user.create_dm_channel(&ctx.http).await?;
        dm.id.send_message(&ctx.http, CreateMessage::new().content(&text)).await
    };
    if dm.await.is_err() {
        let text = format!("<@{}> {text}", voter.id);
        let allowed = serenity::all::CreateAllowedMentions::new().users([user]);
        if let Err(e) = channel
            .send_message(&ctx.http, CreateMessage::new().content(text).allowed_mentions(allowed))
            .await
        {
            warn!(error = %e, "could not tell a voter why the reaction was refused");
        }
    }
}

/// Removes a vote cast where cvmbot is not set up and tells its author why, by direct message
/// only: cvmbot does not post in a server it is not set up for.
async fn refuse_elsewhere(ctx: &Context, added: &Reaction, voter: UserId, approve: bool, refusal: &str) {
    let emoji = reaction(if approve { APPROVE_EMOJI } else { REJECT_EMOJI });
    let user = serenity::all::UserId::from(voter);
    if let Err(e) = ctx
        .http
        .delete_reaction(added.channel_id, added.message_id, user, &emoji)
        .await
    {
        warn!(error = %e, "could not remove a reaction from where cvmbot is not set up");
    }
    let text = format!("Your {emoji} was not counted: {refusal}");
    let dm = async {
        let dm = user.create_dm_channel(&ctx.http).await?;
        dm.id.send_message(&ctx.http, CreateMessage::new().content(&text)).await
    };
    if let Err(e) = dm.await {
        warn!(error = %e, "could not tell a voter that cvmbot is not set up for their server");
    }
}

/// Counts ✅/❌ reactions on pending requests' cards that were made while the bot was away, then
/// has every pending card re-rendered.
pub async fn reconcile(handler: &Handler, ctx: &Context) -> Result<(), DeskError> {
    let pending = handler.desk.list(ListFilter::Pending, 1000).await?;
    let bot = handler.bot_id.get().copied();
    let mut counted = 0;
    for record in &pending {
        let (Some(channel), Some(message)) = (record.channel_id, record.message_id) else {
            continue;
        };
        if record
            .guild_id
            .is_some_and(|guild| handler.refusal(Some(guild.get())).is_some())
        {
            // Filed in a server cvmbot is no longer set up for: its reactions are not votes.
            continue;
        }
        let voted: Vec<UserId> = handler
            .desk
            .view(record.id)
            .await?
            .votes
            .iter()
            .map(|v| v.voter_id)
            .collect();
        for (emoji, approve) in [(APPROVE_EMOJI, true), (REJECT_EMOJI, false)] {
            let users = reactors(ctx, channel, message, emoji).await;
            if bot.is_some_and(|bot| !users.contains(&bot)) {
                // A card posted by a process that stopped before adding its voting reactions.
                let added = ctx
                    .http
                    .create_reaction(channel.into(), message.into(), &reaction(emoji))
                    .await;
                if let Err(error) = added {
                    warn!(request_id = %record.id, %error, "could not add a voting reaction; buttons still work");
                }
            }
            for user in users.into_iter().filter(|u| Some(*u) != bot && !voted.contains(u)) {
                let Some(voter) = fetch_person(ctx, record.guild_id, user).await else {
                    continue;
                };
                match handler.desk.vote(record.id, &voter, &Ballot::reaction(approve)).await {
                    Ok(_) => counted += 1,
                    Err(error) => refuse(ctx, record, &voter, approve, &error).await,
                }
            }
        }
    }
    let ids: Vec<RequestId> = pending.iter().map(|r| r.id).collect();
    handler.desk.refresh_cards(&ids).await?;
    info!(pending = ids.len(), counted, "reconciled votes cast while offline");
    Ok(())
}

/// Everyone who reacted with `emoji`, page by page.
async fn reactors(ctx: &Context, channel: ChannelId, message: MessageId, emoji: &str) -> Vec<UserId> {
    let mut users = Vec::new();
    let mut after = None;
    loop {
        let page = match ctx
            .http
            .get_reaction_users(channel.into(), message.into(), &reaction(emoji), 100, after)
            .await
        {
            Ok(page) => page,
            Err(e) => {
                warn!(error = %e, %message, "could not read reactions");
                return users;
            }
        };
        let full = page.len() == 100;
        after = page.last().map(|u| u.id.get());
        users.extend(page.iter().map(|u| UserId::from(u.id)));
        if !full {
            return users;
        }
    }
}
