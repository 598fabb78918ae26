//! The table of Discord routes the fake serves, matched segment by segment.

use super::rest::{Ctx, Reply, percent_decode};
use super::state::State;
use super::{rest_commands as rc, rest_dms as rd, rest_guild as rg, rest_interactions as ri};
use super::{rest_messages as rm, rest_reactions as rr};

pub type Handler = fn(&mut State, &Ctx) -> Reply;

/// (method, template, needs bot auth, handler). `@me` literals precede `{user}` captures.
pub const ROUTES: &[(&str, &str, bool, Handler)] = &[
    ("GET", "gateway", false, rg::gateway),
    ("GET", "gateway/bot", true, rg::gateway_bot),
    ("GET", "users/@me", true, rg::current_user),
    ("POST", "users/@me/channels", true, rd::create_dm),
    ("GET", "users/{user}", true, rg::get_user),
    ("GET", "oauth2/applications/@me", true, rg::current_application),
    ("GET", "guilds/{guild}/members/{user}", true, rg::get_member),
    ("GET", "guilds/{guild}/roles", true, rg::get_roles),
    ("GET", "channels/{channel}", true, rg::get_channel),
    ("POST", "channels/{channel}/messages", true, rm::create_message),
    ("GET", "channels/{channel}/messages", true, rm::get_messages),
    ("GET", "channels/{channel}/messages/{message}", true, rm::get_message),
    ("PATCH", "channels/{channel}/messages/{message}", true, rm::edit_message),
    (
        "DELETE",
        "channels/{channel}/messages/{message}",
        true,
        rm::delete_message,
    ),
    (
        "PUT",
        "channels/{channel}/messages/{message}/reactions/{emoji}/@me",
        true,
        rr::add_own_reaction,
    ),
    (
        "DELETE",
        "channels/{channel}/messages/{message}/reactions/{emoji}/@me",
        true,
        rr::delete_own_reaction,
    ),
    (
        "DELETE",
        "channels/{channel}/messages/{message}/reactions/{emoji}/{user}",
        true,
        rr::delete_user_reaction,
    ),
    (
        "GET",
        "channels/{channel}/messages/{message}/reactions/{emoji}",
        true,
        rr::get_reactions,
    ),
    (
        "POST",
        "channels/{channel}/messages/{message}/threads",
        true,
        rr::create_thread,
    ),
    (
        "POST",
        "interactions/{interaction}/{token}/callback",
        false,
        ri::callback,
    ),
    ("POST", "webhooks/{application}/{token}", false, ri::create_followup),
    (
        "GET",
        "webhooks/{application}/{token}/messages/{message}",
        false,
        ri::get_webhook_message,
    ),
    (
        "PATCH",
        "webhooks/{application}/{token}/messages/{message}",
        false,
        ri::edit_webhook_message,
    ),
    (
        "DELETE",
        "webhooks/{application}/{token}/messages/{message}",
        false,
        ri::delete_webhook_message,
    ),
    ("PUT", "applications/{application}/commands", true, rc::put_commands),
    ("GET", "applications/{application}/commands", true, rc::get_commands),
    ("POST", "applications/{application}/commands", true, rc::create_command),
    (
        "DELETE",
        "applications/{application}/commands/{command}",
        true,
        rc::delete_command,
    ),
    (
        "PUT",
        "applications/{application}/guilds/{guild}/commands",
        true,
        rc::put_commands,
    ),
    (
        "GET",
        "applications/{application}/guilds/{guild}/commands",
        true,
        rc::get_commands,
    ),
    (
        "POST",
        "applications/{application}/guilds/{guild}/commands",
        true,
        rc::create_command,
    ),
    (
        "DELETE",
        "applications/{application}/guilds/{guild}/commands/{command}",
        true,
        rc::delete_command,
    ),
];

/// The route's log name, e.g. `POST /channels/{channel}/messages`.
pub fn route_name(method: &str, template: &str) -> String {
    format!("{method} /{template}")
}

/// Finds the route for a request: (log name, needs auth, handler, decoded parameters).
pub fn match_route(method: &str, segs: &[&str]) -> Option<(String, bool, Handler, Vec<String>)> {
    ROUTES.iter().find_map(|(m, template, auth, handler)| {
        let tsegs: Vec<&str> = template.split('/').collect();
        if *m != method || tsegs.len() != segs.len() {
            return None;
        }
        let mut params = Vec::new();
        for (t, s) in tsegs.iter().zip(segs) {
            if t.starts_with('{') {
                params.push(percent_decode(s));
            } else if t != s {
                return None;
            }
        }
        Some((route_name(m, template), *auth, *handler, params))
    })
}
