//! The whole bot against the fake Discord: the fake with the team's roles and members, the
//! application on the simulator and a fresh database, and the real `Bot::connect` pointed at the
//! fake's REST URL, running until stopped. A restart stops the bot and starts a new process's
//! worth of it (a new `App`) on the same database and simulator.

use super::app::{Backend, TestApp, spawn_app};
use super::fake_discord::{FakeDiscord, InteractionHandle, InteractionOutcome, MessageView, WAIT};
use super::sim::{IMAGE, TYPE, ZONE};
use cvmbot::clock::Clock;
use cvmbot::domain::RequestId;
use cvmbot::secret::Secret;
use cvmbot::sim::LoggedRequest;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Files requests; no role.
pub const ALICE: u64 = 101;
/// An approver.
pub const BOB: u64 = 102;
/// Another approver.
pub const CAROL: u64 = 103;
/// A member without any role.
pub const DAVE: u64 = 104;
/// An admin.
pub const ERIN: u64 = 105;

/// The approve and reject reactions.
pub const APPROVE: &str = "✅";
/// See [`APPROVE`].
pub const REJECT: &str = "❌";

/// A running bot and how to stop it.
struct RunningBot {
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

/// The fake Discord, the application and the bot between them.
pub struct DiscordApp {
    /// The fake Discord.
    pub fake: FakeDiscord,
    /// The application, its simulator and database.
    pub test: TestApp,
    /// The role the policy lets approve (a fake-assigned id).
    pub approver_role: u64,
    /// The role the policy lets cancel anyone's request.
    pub admin_role: u64,
    /// `#general`, where requests are filed.
    pub channel: u64,
    /// `#alerts`, the alert channel.
    pub alerts: u64,
    bot: Option<RunningBot>,
    expected_refusals: std::sync::Mutex<Vec<i64>>,
}

/// Settings that make the workers quick enough for a test: the submitter, tracker and card
/// dispatcher act within a fraction of a second.
pub const FAST_WORKERS: &str = r#"
[submitter]
poll_interval = "200ms"

[tracker]
initial_interval = "100ms"
waiting_interval = "200ms"
max_interval = "1s"
"#;

impl DiscordApp {
    /// The guild (alice, bob and carol approvers, dave, erin admin), the app on `backend` and a
    /// connected, ready bot; `None` when the backend is not available here.
    pub async fn start(backend: Backend) -> Option<DiscordApp> {
        Self::start_with(backend, "").await
    }

    /// Like [`Self::start`] with extra configuration (TOML) layered last.
    pub async fn start_with(backend: Backend, extra: &str) -> Option<DiscordApp> {
        Self::start_with_sim(backend, crate::support::sim::test_config(), extra).await
    }

    /// Like [`Self::start_with`] with a simulator configuration of the test's choosing.
    pub async fn start_with_sim(backend: Backend, sim: cvmbot::sim::SimConfig, extra: &str) -> Option<DiscordApp> {
        init_logging();
        let fake = FakeDiscord::start().await;
        let approver_role = fake.add_role("approver", 0);
        let admin_role = fake.add_role("cvm-admin", 0);
        fake.add_member(ALICE, "alice", &[]);
        fake.add_member(BOB, "bob", &[approver_role]);
        fake.add_member(CAROL, "carol", &[approver_role]);
        fake.add_member(DAVE, "dave", &[]);
        fake.add_member(ERIN, "erin", &[admin_role]);
        let alerts = fake.add_channel("alerts");
        let guild = fake.guild_id();
        let rest_url = fake.rest_url();
        let settings = format!(
            r#"
[discord]
api_base = "{rest_url}"
guild_ids = ["{guild}"]
alert_channel_id = "{alerts}"

[policy]
approvers = {{ roles = ["{approver_role}"] }}
admins = {{ roles = ["{admin_role}"] }}
{}"#,
            FAST_WORKERS
        );
        let test = crate::support::app::spawn_app_with(backend, sim, &layered(&settings, extra)).await?;
        let channel = fake.default_channel_id();
        let mut app = DiscordApp {
            fake,
            test,
            approver_role,
            admin_role,
            channel,
            alerts,
            bot: None,
            expected_refusals: Default::default(),
        };
        app.start_bot().await;
        Some(app)
    }

    /// Connects a bot as `cvmbot run` does and waits until it handled READY (command
    /// registered, catalogue loaded, offline votes reconciled).
    pub async fn start_bot(&mut self) {
        assert!(self.bot.is_none(), "a bot is already running");
        let token = Secret::new(self.fake.token());
        let bot = self
            .test
            .app
            .discord(&token)
            .await
            .expect("the bot connects to the fake Discord");
        let mut ready = bot.readiness();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(bot.run_until(async move {
            let _ = stopped.await;
        }));
        self.bot = Some(RunningBot { stop, task });
        let waited = tokio::time::timeout(WAIT, ready.wait_for(|ready| *ready)).await;
        assert!(
            matches!(waited, Ok(Ok(_))),
            "the bot did not get ready within {WAIT:?}; problems: {:?}",
            self.fake.problems()
        );
        let guild = self.fake.guild_id();
        if self.test.app.config.discord.guild_ids.contains(&guild) {
            let refused: Vec<_> = self.fake.requests().into_iter().filter(|r| r.status >= 400).collect();
            assert!(
                !self.fake.commands(Some(guild)).is_empty(),
                "the bot is ready but /cvm is not registered; refused requests: {refused:#?}"
            );
        }
    }

    /// Stops the bot (gateway closed, workers stopped, lease released) and waits until the fake
    /// sees no connection: from now on the bot misses everything, as when it is down.
    pub async fn stop_bot(&mut self) {
        let bot = self.bot.take().expect("a running bot");
        let _ = bot.stop.send(());
        let ended = tokio::time::timeout(WAIT, bot.task).await;
        let result = ended
            .expect("the bot stops in time")
            .expect("the bot task did not panic");
        result.expect("the bot stops cleanly");
        self.fake.wait_until_disconnected(WAIT).await;
    }

    /// Stops the bot and starts a new one on a freshly built application over the same
    /// database and simulator, as a process restart would.
    pub async fn restart(&mut self) {
        if self.bot.is_some() {
            self.stop_bot().await;
        }
        self.test.app = self.test.restart(Clock::System).await;
        self.start_bot().await;
    }

    /// Declares that Discord refusing a request with this JSON error `code` is part of the test
    /// (closed DMs 50007, a missing permission 50013, a fault injected with `fail_next` 0).
    pub fn expect_refusal(&self, code: i64) {
        self.expected_refusals.lock().expect("refusals").push(code);
    }

    /// Checks what every test must end with: every interaction answered within Discord's
    /// deadline, nothing the fake flagged and no request Discord refused (unless the test said
    /// so: the fake answers a bad body with 400 like Discord, which is not a "problem" by
    /// itself); then stops the bot.
    pub async fn finish(mut self) {
        self.fake.assert_interactions_answered(WAIT).await;
        self.fake.assert_no_problems();
        let expected = self.expected_refusals.lock().expect("refusals").clone();
        let refused: Vec<String> = self
            .fake
            .requests()
            .into_iter()
            .filter(|r| r.status >= 400)
            .filter(|r| !expected.contains(&r.response.as_ref().and_then(|b| b["code"].as_i64()).unwrap_or(-1)))
            .map(|r| format!("{} {} -> {} {:?}", r.method, r.path, r.status, r.response))
            .collect();
        assert!(refused.is_empty(), "Discord refused what the bot sent: {refused:#?}");
        if self.bot.is_some() {
            self.stop_bot().await;
        }
    }

    /// `/cvm buy spot` by `user` for one S5.MEDIUM4 in ap-guangzhou-3 with 5 Mbps, bid 0.6.
    pub fn buy_spot(&self, user: u64) -> InteractionHandle {
        self.fake
            .slash_command(user, self.channel, "cvm buy spot", &spot_options())
    }

    /// Files a spot request as `user` and returns its id and its card once the bot has added
    /// its ✅ and ❌ reactions.
    pub async fn file_spot(&self, user: u64) -> (RequestId, MessageView) {
        let filing = self.buy_spot(user);
        let answer = self.answer(&filing).await;
        let id = filed_request_id(&answer);
        let bot = self.fake.bot_user_id();
        let card = self
            .wait_for_card(id, |card| {
                card.reaction_users(APPROVE).contains(&bot) && card.reaction_users(REJECT).contains(&bot)
            })
            .await;
        (id, card)
    }

    /// The final answer to an interaction: the first callback, and for a deferral the
    /// message that replaced "thinking…".
    pub async fn answer(&self, handle: &InteractionHandle) -> InteractionOutcome {
        self.fake.interaction_response(handle, WAIT).await;
        self.fake
            .wait_for_interaction(handle, "its final answer", |o| !o.thinking, WAIT)
            .await
    }

    /// The private text an interaction was answered with (content, or the embed's text).
    pub async fn private_answer(&self, handle: &InteractionHandle) -> String {
        let outcome = self.answer(handle).await;
        assert!(outcome.ephemeral(), "the answer should be private: {outcome:#?}");
        outcome
            .original
            .map(|m| m.text())
            .unwrap_or_else(|| outcome.data["content"].as_str().unwrap_or_default().to_owned())
    }

    /// Waits for request `id`'s card in `#general` to satisfy `pred`.
    pub async fn wait_for_card(&self, id: RequestId, pred: impl Fn(&MessageView) -> bool) -> MessageView {
        let title = format!("Request #{id}:");
        let bot = self.fake.bot_user_id();
        self.fake
            .wait_for_message(
                self.channel,
                |m| m.author_id == bot && !m.is_ephemeral() && card_title(m).starts_with(&title) && pred(m),
                WAIT,
            )
            .await
    }

    /// Waits for the notice that a request was submitted to Tencent Cloud, in `channel` (the
    /// request's channel, or its thread).
    pub async fn wait_until_submitted_in(&self, channel: u64) -> MessageView {
        self.fake
            .wait_for_message(channel, |m| m.content.contains("was submitted to Tencent Cloud"), WAIT)
            .await
    }

    /// Waits for the notice that a request was submitted to Tencent Cloud, in `#general`.
    pub async fn wait_until_submitted(&self) -> MessageView {
        self.wait_until_submitted_in(self.channel).await
    }

    /// Every real (not dry-run) RunInstances the simulator received.
    pub fn purchases(&self) -> Vec<LoggedRequest> {
        self.test
            .sim
            .requests()
            .into_iter()
            .filter(|r| r.action == "RunInstances" && r.params["DryRun"] != json!(true))
            .collect()
    }
}

/// `extra` merged over `base` (both TOML), tables key by key, so both may name a section.
fn layered(base: &str, extra: &str) -> String {
    fn merge(base: &mut toml::Table, over: toml::Table) {
        for (key, value) in over {
            match (base.get_mut(&key), value) {
                (Some(toml::Value::Table(inner)), toml::Value::Table(over)) => merge(inner, over),
                (_, value) => {
                    base.insert(key, value);
                }
            }
        }
    }
    let mut merged: toml::Table = base.parse().expect("the harness settings are TOML");
    merge(&mut merged, extra.parse().expect("the test's settings are TOML"));
    merged.to_string()
}

/// Logs of the bot under test, shown for failing tests: `RUST_LOG=cvmbot=debug cargo test …`.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("cvmbot=info,serenity=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// The `/cvm buy spot` options of [`DiscordApp::buy_spot`].
pub fn spot_options() -> Vec<(&'static str, Value)> {
    vec![
        ("max-price", json!("0.6")),
        ("zone", json!(ZONE)),
        ("type", json!(TYPE)),
        ("image", json!(IMAGE)),
        ("bandwidth", json!(5)),
        ("reason", json!("load test")),
    ]
}

/// The title of a message's first embed.
pub fn card_title(message: &MessageView) -> String {
    message
        .embeds
        .first()
        .and_then(|e| e["title"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// The request number in "Filed request #N; …".
pub fn filed_request_id(answer: &InteractionOutcome) -> RequestId {
    let text = answer.original.as_ref().map(|m| m.content.clone()).unwrap_or_default();
    text.strip_prefix("Filed request #")
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the filing should be answered with the request number: {answer:#?}"))
}

/// The `custom_id`s of a message's buttons.
pub fn button_ids(message: &MessageView) -> Vec<String> {
    message
        .all_components()
        .iter()
        .filter_map(|c| c["custom_id"].as_str().map(str::to_owned))
        .collect()
}

/// The button whose `custom_id` starts with `prefix` (e.g. `cvm:approve:1:`).
pub fn button(message: &MessageView, prefix: &str) -> String {
    button_ids(message)
        .into_iter()
        .find(|id| id.starts_with(prefix))
        .unwrap_or_else(|| panic!("no button {prefix}… on {:#?}", message.components))
}
