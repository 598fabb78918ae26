//! The bot's permissions in a channel, computed as Discord's "Permission Overwrites" page says:
//! the base permissions are @everyone's and those of every role the member holds (ADMINISTRATOR
//! grants everything, and no overwrite takes it back), then the channel's overwrites apply in
//! order, @everyone's, the member's roles' together, the member's own. What cvmbot needs there,
//! and why, so a missing permission is named with what stops working without it.

use serenity::all::Permissions;

/// Whom an overwrite is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Target {
    /// A role (the guild's id is @everyone).
    Role(u64),
    /// One member.
    Member(u64),
}

/// One channel permission overwrite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Overwrite {
    /// Whom it is for.
    pub target: Target,
    /// Permissions it grants.
    pub allow: Permissions,
    /// Permissions it takes away.
    pub deny: Permissions,
}

/// A member of a guild: who they are and which roles they hold.
#[derive(Clone, Debug)]
pub(super) struct MemberRoles {
    /// The guild (its id is also the @everyone role's).
    pub guild: u64,
    /// The member's user id.
    pub user: u64,
    /// The member's role ids (without @everyone).
    pub roles: Vec<u64>,
}

/// The member's permissions across the guild, from the guild's roles (id, permissions).
pub(super) fn base(member: &MemberRoles, guild_roles: &[(u64, Permissions)]) -> Permissions {
    let mut permissions = Permissions::empty();
    for (id, role) in guild_roles {
        if *id == member.guild || member.roles.contains(id) {
            permissions |= *role;
        }
    }
    if permissions.contains(Permissions::ADMINISTRATOR) {
        Permissions::all()
    } else {
        permissions
    }
}

/// The member's permissions in a channel with these overwrites, from their base permissions.
pub(super) fn in_channel(member: &MemberRoles, base: Permissions, overwrites: &[Overwrite]) -> Permissions {
    if base.contains(Permissions::ADMINISTRATOR) {
        return Permissions::all();
    }
    let mut permissions = base;
    if let Some(everyone) = overwrites.iter().find(|o| o.target == Target::Role(member.guild)) {
        permissions = (permissions - everyone.deny) | everyone.allow;
    }
    let (allow, deny) = overwrites
        .iter()
        .filter(|o| matches!(o.target, Target::Role(id) if member.roles.contains(&id)))
        .fold((Permissions::empty(), Permissions::empty()), |(a, d), o| {
            (a | o.allow, d | o.deny)
        });
    permissions = (permissions - deny) | allow;
    if let Some(own) = overwrites.iter().find(|o| o.target == Target::Member(member.user)) {
        permissions = (permissions - own.deny) | own.allow;
    }
    permissions
}

/// A permission cvmbot needs and what it is for.
pub(super) type Need = (Permissions, &'static str);

/// What cvmbot needs in a channel where requests are filed: it posts the card there, reacts to
/// it, reads it back after a restart, takes back refused votes and (with `thread_per_request`)
/// opens a thread under it.
pub(super) fn request_channel(threads: bool) -> Vec<Need> {
    let mut needs = vec![
        (Permissions::VIEW_CHANNEL, "to see the channel at all"),
        (Permissions::SEND_MESSAGES, "to post request cards and notices"),
        (Permissions::EMBED_LINKS, "to show a card's details (cards are embeds)"),
        (Permissions::ADD_REACTIONS, "to put ✅ and ❌ under a card for voting"),
        (
            Permissions::READ_MESSAGE_HISTORY,
            "to react to a card and to find its cards again after a restart",
        ),
        (
            Permissions::MANAGE_MESSAGES,
            "to take back a ✅ or ❌ that is not counted (the requester's own, or from someone who may not approve)",
        ),
    ];
    if threads {
        needs.push((
            Permissions::CREATE_PUBLIC_THREADS,
            "to open a thread under each card (thread_per_request)",
        ));
        needs.push((
            Permissions::SEND_MESSAGES_IN_THREADS,
            "to post a request's notices in its thread (thread_per_request)",
        ));
    }
    needs
}

/// What cvmbot needs in the alert channel: it posts plain-text warnings and the digest there.
pub(super) fn alert_channel() -> Vec<Need> {
    vec![
        (Permissions::VIEW_CHANNEL, "to see the channel at all"),
        (Permissions::SEND_MESSAGES, "to post balance warnings and the digest"),
    ]
}

/// The needs `has` does not cover, each named as Discord's settings name it, with its reason.
pub(super) fn missing(has: Permissions, needs: &[Need]) -> Vec<String> {
    needs
        .iter()
        .filter(|(permission, _)| !has.contains(*permission))
        .map(|(permission, why)| format!("{} ({why})", permission.get_permission_names().join(", ")))
        .collect()
}

/// The names of the needs `has` does not cover, for the fix line.
pub(super) fn missing_names(has: Permissions, needs: &[Need]) -> Vec<String> {
    needs
        .iter()
        .filter(|(permission, _)| !has.contains(*permission))
        .flat_map(|(permission, _)| permission.get_permission_names())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUILD: u64 = 100;
    const BOT: u64 = 1;
    const BOT_ROLE: u64 = 200;
    const OTHER_ROLE: u64 = 201;

    fn bot() -> MemberRoles {
        MemberRoles {
            guild: GUILD,
            user: BOT,
            roles: vec![BOT_ROLE, OTHER_ROLE],
        }
    }

    fn overwrite(target: Target, allow: Permissions, deny: Permissions) -> Overwrite {
        Overwrite { target, allow, deny }
    }

    #[test]
    fn base_permissions_are_everyones_and_the_members_roles_and_administrator_is_everything() {
        let roles = [
            (GUILD, Permissions::VIEW_CHANNEL),
            (BOT_ROLE, Permissions::SEND_MESSAGES),
            (999, Permissions::MANAGE_MESSAGES),
        ];
        assert_eq!(
            base(&bot(), &roles),
            Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES,
            "a role the bot does not hold gives it nothing"
        );
        let admin = [(GUILD, Permissions::empty()), (OTHER_ROLE, Permissions::ADMINISTRATOR)];
        assert_eq!(base(&bot(), &admin), Permissions::all());
        let denied = [overwrite(Target::Member(BOT), Permissions::empty(), Permissions::all())];
        assert_eq!(
            in_channel(&bot(), Permissions::all(), &denied),
            Permissions::all(),
            "no overwrite takes administrator's permissions back"
        );
    }

    #[test]
    fn overwrites_apply_everyone_then_roles_together_then_the_member() {
        let base = Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES | Permissions::ADD_REACTIONS;
        let everyone_denies_send = overwrite(Target::Role(GUILD), Permissions::empty(), Permissions::SEND_MESSAGES);
        let role_allows_send = overwrite(Target::Role(BOT_ROLE), Permissions::SEND_MESSAGES, Permissions::empty());
        let other_role_denies_it = overwrite(
            Target::Role(OTHER_ROLE),
            Permissions::EMBED_LINKS,
            Permissions::SEND_MESSAGES,
        );
        let member_denies_reactions = overwrite(Target::Member(BOT), Permissions::empty(), Permissions::ADD_REACTIONS);

        let only_everyone = in_channel(&bot(), base, &[everyone_denies_send]);
        assert!(!only_everyone.contains(Permissions::SEND_MESSAGES));
        let role_wins = in_channel(&bot(), base, &[everyone_denies_send, role_allows_send]);
        assert!(
            role_wins.contains(Permissions::SEND_MESSAGES),
            "a role's allow beats @everyone's deny"
        );
        let roles_together = in_channel(&bot(), base, &[role_allows_send, other_role_denies_it]);
        assert!(
            roles_together.contains(Permissions::SEND_MESSAGES | Permissions::EMBED_LINKS),
            "among roles an allow beats a deny, whatever their order"
        );
        let member_last = in_channel(&bot(), base, &[member_denies_reactions, everyone_denies_send]);
        assert_eq!(member_last, Permissions::VIEW_CHANNEL);
        let others = overwrite(Target::Member(2), Permissions::empty(), Permissions::VIEW_CHANNEL);
        assert_eq!(
            in_channel(&bot(), base, &[others]),
            base,
            "someone else's overwrite does not apply"
        );
    }

    #[test]
    fn missing_permissions_are_named_with_what_they_are_for_and_threads_only_when_on() {
        let has = Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES | Permissions::EMBED_LINKS;
        let without_threads = missing(has, &request_channel(false));
        assert_eq!(without_threads.len(), 3, "{without_threads:?}");
        assert!(
            without_threads[0].starts_with("Add Reactions (to put ✅ and ❌"),
            "{without_threads:?}"
        );
        assert!(
            without_threads[2].starts_with("Manage Messages (to take back"),
            "{without_threads:?}"
        );
        assert_eq!(
            missing_names(has, &request_channel(true))[3..],
            ["Create Public Threads", "Send Messages in Threads"]
        );
        assert!(missing(has, &alert_channel()).is_empty());
    }
}
