//! The `FakeDiscord` methods tests call to act as users: run commands, click, submit
//! modals, react. Each checks what Discord's client would allow and dispatches the event.

use serde_json::Value;

use super::inject::{self, DispatchHandle, InteractionHandle};
use super::state::State;
use super::{FakeDiscord, inject_command};

/// A slash command run by a user: (user, channel, path, options), as [`FakeDiscord::slash_command`] takes them.
pub type CommandRun<'a> = (u64, u64, &'a str, Vec<(&'a str, Value)>);

/// User actions a test injects.
impl FakeDiscord {
    fn inject<T>(&self, what: &str, f: impl FnOnce(&mut State) -> Result<T, String>) -> T {
        self.shared.with(f).unwrap_or_else(|e| panic!("{what}: {e}"))
    }

    /// A user runs a slash command: `path` is `"cvm"`, `"cvm buy"` or `"cvm group sub"`;
    /// option types come from the registered command (which must exist, as on Discord).
    pub fn slash_command(&self, user: u64, channel: u64, path: &str, options: &[(&str, Value)]) -> InteractionHandle {
        self.inject("slash_command", |st| {
            inject_command::command(st, user, channel, path, options, None)
        })
    }

    /// Many users run slash commands at the same moment: every interaction is queued before
    /// the gateway sends the first, so they reach the bot back to back, as a burst on Discord
    /// would.
    pub fn slash_command_burst(&self, commands: &[CommandRun<'_>]) -> Vec<InteractionHandle> {
        self.inject("slash_command_burst", |st| {
            let run = |(user, channel, path, options): &CommandRun<'_>| {
                inject_command::command(st, *user, *channel, path, options, None)
            };
            commands.iter().map(run).collect()
        })
    }

    /// Like [`Self::slash_command`], but returns why Discord would not send the command
    /// (unregistered, unknown or missing required option, value outside the schema).
    pub fn try_slash_command(
        &self,
        user: u64,
        channel: u64,
        path: &str,
        options: &[(&str, Value)],
    ) -> Result<InteractionHandle, String> {
        self.shared()
            .with(|st| inject_command::command(st, user, channel, path, options, None))
    }

    /// A user types into an autocomplete option: `focused` names the option being typed
    /// (its value is sent as the partial string). Expect callback type 8.
    pub fn autocomplete(
        &self,
        user: u64,
        channel: u64,
        path: &str,
        options: &[(&str, Value)],
        focused: &str,
    ) -> InteractionHandle {
        self.inject("autocomplete", |st| {
            inject_command::command(st, user, channel, path, options, Some(focused))
        })
    }

    /// A user clicks an enabled button on a stored message.
    pub fn click_button(&self, user: u64, message: u64, custom_id: &str) -> InteractionHandle {
        self.inject("click_button", |st| {
            inject::component(st, user, message, custom_id, None)
        })
    }

    /// Like [`Self::click_button`], but returns why Discord would not send the click (the
    /// message or its button is gone: an edit removed it between the test's look and the click).
    pub fn try_click_button(&self, user: u64, message: u64, custom_id: &str) -> Result<InteractionHandle, String> {
        self.shared()
            .with(|st| inject::component(st, user, message, custom_id, None))
    }

    /// A user picks `values` in a string select menu.
    pub fn select(&self, user: u64, message: u64, custom_id: &str, values: &[&str]) -> InteractionHandle {
        self.inject("select", |st| {
            inject::component(st, user, message, custom_id, Some(values))
        })
    }

    /// A user submits a modal the bot showed them (callback type 9) with `(input id, value)`.
    pub fn submit_modal(&self, user: u64, custom_id: &str, fields: &[(&str, &str)]) -> InteractionHandle {
        self.inject("submit_modal", |st| inject::modal_submit(st, user, custom_id, fields))
    }

    /// A user adds a reaction (`emoji` unicode like "✅" or custom `name:id`): stored and
    /// dispatched as MESSAGE_REACTION_ADD. Await it with `wait_for_delivery`.
    pub fn react(&self, user: u64, channel: u64, message: u64, emoji: &str) -> DispatchHandle {
        self.inject("react", |st| {
            inject::reaction(st, true, user, channel, message, emoji, true)
        })
    }

    /// A reaction made while the bot was offline: stored (GET reactions lists it), never
    /// dispatched.
    pub fn react_offline(&self, user: u64, channel: u64, message: u64, emoji: &str) {
        self.inject("react_offline", |st| {
            inject::reaction(st, true, user, channel, message, emoji, false)
        });
    }

    /// A user removes their reaction: MESSAGE_REACTION_REMOVE.
    pub fn unreact(&self, user: u64, channel: u64, message: u64, emoji: &str) -> DispatchHandle {
        self.inject("unreact", |st| {
            inject::reaction(st, false, user, channel, message, emoji, true)
        })
    }

    /// Sends any dispatch to the bot, e.g. an event the fake does not model. It must parse
    /// in serenity 0.12.5 (see [`FakeDiscord::serenity_accepts`]) or this panics.
    pub fn dispatch_raw(&self, name: &str, d: Value) -> DispatchHandle {
        self.inject("dispatch_raw", |st| {
            let index = Some(st.dispatch_injected(name, d)?);
            Ok(DispatchHandle {
                name: name.into(),
                index,
                note: String::new(),
            })
        })
    }
}
