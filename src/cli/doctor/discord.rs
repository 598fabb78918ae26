//! Doctor's Discord checks, over Discord's REST API with the bot token: the token, the bot's
//! membership and roles in each configured server, and its permissions in the alert channel and
//! in the channels requests were filed in, overwrites included.

use super::Report;
use super::permissions::{self, MemberRoles, Need, Overwrite, Target};
use crate::config::Config;
use crate::secret::Secret;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serenity::all::Permissions;
use std::collections::BTreeMap;

/// Discord's REST API as the doctor asks it.
struct Rest {
    client: reqwest::Client,
    api_base: String,
    token: Secret,
}

/// A refusal or failure of one REST call.
enum Refused {
    /// Discord answered this HTTP status and JSON error code.
    Status(u16, i64),
    /// No readable answer.
    Failed(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Status(401, _) => write!(f, "Discord refused the token (401 Unauthorized)"),
            Refused::Status(403, 50001) => write!(f, "Discord answered 403 Missing Access"),
            Refused::Status(404, code) => write!(f, "Discord answered 404 (code {code}: unknown)"),
            Refused::Status(status, code) => write!(f, "Discord answered HTTP {status} (code {code})"),
            Refused::Failed(why) => f.write_str(why),
        }
    }
}

#[derive(Deserialize)]
struct User {
    id: String,
    username: String,
}

#[derive(Deserialize)]
struct Member {
    roles: Vec<String>,
}

#[derive(Deserialize)]
struct Role {
    id: String,
    permissions: String,
}

#[derive(Deserialize)]
struct Channel {
    #[serde(rename = "type")]
    kind: u8,
    guild_id: Option<String>,
    name: Option<String>,
    parent_id: Option<String>,
    #[serde(default)]
    permission_overwrites: Vec<RawOverwrite>,
}

#[derive(Deserialize)]
struct RawOverwrite {
    id: String,
    #[serde(rename = "type")]
    kind: u8,
    allow: String,
    deny: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: i64,
}

/// Discord's channel types for threads (announcement, public and private threads).
const THREADS: [u8; 3] = [10, 11, 12];

fn snowflake(text: &str) -> u64 {
    text.parse().unwrap_or(0)
}

fn bits(text: &str) -> Permissions {
    Permissions::from_bits_truncate(text.parse().unwrap_or(0))
}

impl Rest {
    fn new(api_base: &str, token: &Secret) -> Result<Rest, String> {
        let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10));
        if api_base.trim_end_matches('/') != crate::chat::discord::DISCORD {
            builder = builder.no_proxy();
        }
        Ok(Rest {
            client: builder.build().map_err(|e| e.to_string())?,
            api_base: api_base.trim_end_matches('/').to_owned(),
            token: token.clone(),
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Refused> {
        let url = format!("{}/api/v10/{path}", self.api_base);
        let response = self
            .client
            .get(&url)
            .header(reqwest::header::AUTHORIZATION, format!("Bot {}", self.token.expose()))
            .send()
            .await
            .map_err(|e| Refused::Failed(format!("{} could not be reached: {e}", self.api_base)))?;
        let status = response.status();
        if !status.is_success() {
            let code = response.json::<ErrorBody>().await.map_or(0, |b| b.code);
            return Err(Refused::Status(status.as_u16(), code));
        }
        response
            .json()
            .await
            .map_err(|e| Refused::Failed(format!("unreadable answer to GET /{path}: {e}")))
    }
}

/// What the doctor learnt of the bot in one server: its roles, and the server's roles.
struct InGuild {
    member: MemberRoles,
    roles: Vec<(u64, Permissions)>,
}

/// Runs the Discord checks; `request_channels` are the channels requests were filed in.
pub(super) async fn check(config: &Config, request_channels: &[u64], report: &mut Report) {
    let discord = &config.discord;
    let Some(token) = &config.secrets.discord_token else {
        return report.warn(
            "Discord token",
            "DISCORD_TOKEN is not set",
            "needed by `cvmbot run`: export DISCORD_TOKEN (or DISCORD_TOKEN_FILE)",
        );
    };
    let rest = match Rest::new(&discord.api_base, token) {
        Ok(rest) => rest,
        Err(problem) => return report.fail("Discord client", problem, "see the error above"),
    };
    let bot = match rest.get::<User>("users/@me").await {
        Ok(user) => {
            report.ok(
                "Discord token",
                format!("valid for bot {} (id {})", user.username, user.id),
            );
            snowflake(&user.id)
        }
        Err(refused) => {
            return report.fail(
                "Discord token",
                refused.to_string(),
                "copy the token again from the Developer Portal (Bot → Reset Token) into DISCORD_TOKEN",
            );
        }
    };
    let mut asking = Asking {
        rest: &rest,
        bot,
        config,
        guilds: BTreeMap::new(),
    };
    if discord.guild_ids.is_empty() {
        report.warn(
            "discord.guild_ids",
            "empty: commands are registered globally and can take up to an hour to appear",
            "list your server's id for instant registration",
        );
    }
    for guild in &discord.guild_ids {
        let found = check_guild(&rest, *guild, bot, config.chat.thread_per_request, report).await;
        asking.guilds.insert(*guild, found);
    }
    match config.chat.alert_channel {
        Some(channel) => {
            let needs = permissions::alert_channel();
            let what = format!("alert channel {}", channel.get());
            check_channel(&mut asking, &what, channel.get(), &needs, report).await;
        }
        None => report.warn(
            "discord.alert_channel_id",
            "not set: balance warnings go to the log only",
            "set it to a channel id the bot can post in",
        ),
    }
    let needs = permissions::request_channel(config.chat.thread_per_request);
    for channel in request_channels {
        let what = format!("request channel {channel}");
        check_channel(&mut asking, &what, *channel, &needs, report).await;
    }
}

/// The bot's membership of `guild` and what its roles give it there.
async fn check_guild(rest: &Rest, guild: u64, bot: u64, threads: bool, report: &mut Report) -> Option<InGuild> {
    let what = format!("server {guild}");
    let found = match in_guild(rest, guild, bot).await {
        Ok(found) => found,
        Err(Refused::Status(403 | 404, _)) => {
            report.fail(
                &what,
                "the bot is not a member of this server (listed in discord.guild_ids)",
                "invite the bot with the link from the README (\"Create the Discord application\"), or take the id out of discord.guild_ids",
            );
            return None;
        }
        Err(refused) => {
            report.fail(&what, refused.to_string(), "check discord.api_base and the network");
            return None;
        }
    };
    let has = permissions::base(&found.member, &found.roles);
    let needs = permissions::request_channel(threads);
    let missing = permissions::missing_names(has, &needs);
    if missing.is_empty() {
        report.ok(
            &what,
            "the bot is a member; its roles give it every permission cvmbot needs",
        );
    } else {
        report.warn(
            &what,
            format!(
                "the bot is a member, but its roles lack {} across the server (a channel may still allow them)",
                missing.join(", ")
            ),
            &format!(
                "Server Settings → Roles → the bot's role: allow {}; or allow them in each channel where /cvm is used",
                missing.join(", ")
            ),
        );
    }
    Some(found)
}

async fn in_guild(rest: &Rest, guild: u64, bot: u64) -> Result<InGuild, Refused> {
    let member: Member = rest.get(&format!("guilds/{guild}/members/{bot}")).await?;
    let roles: Vec<Role> = rest.get(&format!("guilds/{guild}/roles")).await?;
    Ok(InGuild {
        member: MemberRoles {
            guild,
            user: bot,
            roles: member.roles.iter().map(|r| snowflake(r)).collect(),
        },
        roles: roles.iter().map(|r| (snowflake(&r.id), bits(&r.permissions))).collect(),
    })
}

/// Who asks, and what it learnt of each server so far.
struct Asking<'a> {
    rest: &'a Rest,
    bot: u64,
    config: &'a Config,
    guilds: BTreeMap<u64, Option<InGuild>>,
}

/// The bot's permissions in `channel`, against what cvmbot `needs` there.
async fn check_channel(asking: &mut Asking<'_>, what: &str, channel: u64, needs: &[Need], report: &mut Report) {
    let (rest, bot, config) = (asking.rest, asking.bot, asking.config);
    let guilds = &mut asking.guilds;
    let found: Channel = match rest.get(&format!("channels/{channel}")).await {
        Ok(found) => found,
        Err(Refused::Status(403, _)) => {
            return report.fail(
                what,
                "the bot cannot see this channel (403 Missing Access): it lacks View Channel there, or the channel is in a server it is not in",
                "Edit Channel → Permissions → the bot's role: allow View Channel (or invite the bot to that server)",
            );
        }
        Err(Refused::Status(404, _)) => {
            return report.fail(
                what,
                "Discord knows no such channel",
                "check the channel id (Developer Mode → Copy Channel ID)",
            );
        }
        Err(refused) => return report.fail(what, refused.to_string(), "check discord.api_base and the network"),
    };
    let Some(guild) = found.guild_id.as_deref().map(snowflake) else {
        return report.fail(what, "not a server channel", "use a text channel of your server");
    };
    let listed = &config.discord.guild_ids;
    if !listed.is_empty() && !listed.contains(&guild) {
        report.warn(
            what,
            format!(
                "the channel is in server {guild}, which is not in discord.guild_ids: cvmbot does not answer there"
            ),
            "add that server's id to discord.guild_ids, or use a channel of a listed server",
        );
    }
    let in_guild = match guilds.get(&guild) {
        Some(known) => known.as_ref(),
        None => {
            let fetched = in_guild(rest, guild, bot).await.ok();
            guilds.entry(guild).or_insert(fetched).as_ref()
        }
    };
    let Some(in_guild) = in_guild else {
        return report.fail(
            what,
            format!("the bot is not a member of its server {guild}"),
            "invite the bot to that server",
        );
    };
    // A thread has the permissions of its parent channel.
    let (holder, name) = if THREADS.contains(&found.kind) {
        match found.parent_id.as_deref() {
            Some(parent) => match rest.get::<Channel>(&format!("channels/{parent}")).await {
                Ok(parent) => (parent, found.name.clone()),
                Err(refused) => {
                    return report.fail(
                        what,
                        format!("its parent channel: {refused}"),
                        "allow the bot to see the thread's parent channel",
                    );
                }
            },
            None => (found, None),
        }
    } else {
        let name = found.name.clone();
        (found, name)
    };
    let overwrites: Vec<Overwrite> = holder
        .permission_overwrites
        .iter()
        .map(|o| Overwrite {
            target: if o.kind == 1 {
                Target::Member(snowflake(&o.id))
            } else {
                Target::Role(snowflake(&o.id))
            },
            allow: bits(&o.allow),
            deny: bits(&o.deny),
        })
        .collect();
    let base = permissions::base(&in_guild.member, &in_guild.roles);
    let has = permissions::in_channel(&in_guild.member, base, &overwrites);
    let label = match &name {
        Some(name) => format!("{what} (#{name})"),
        None => what.to_owned(),
    };
    let missing = permissions::missing(has, needs);
    if missing.is_empty() {
        return report.ok(&label, "the bot has every permission cvmbot needs there");
    }
    report.fail(
        &label,
        format!("the bot lacks {}", missing.join("; ")),
        &format!(
            "Edit Channel → Permissions → the bot's role (or the bot itself): allow {}",
            permissions::missing_names(has, needs).join(", ")
        ),
    );
}
