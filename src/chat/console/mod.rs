//! The console adapter: a terminal chat on the same engine and rendering model as Discord, for
//! the demo and for trying cvmbot without a Discord application. People type the same commands,
//! switch identity with `/as NAME`, and see what Discord would show.

mod commands;
mod notifier;
mod text;

pub use commands::{Command, Milestone, parse};
pub use notifier::{ConsoleNotifier, Screen, print};
pub use text::{Paint, render};

use crate::chat::render::{self, LifetimeAction, TimeStyle};
use crate::desk::{Ballot, Desk, DeskError, Extension, Origin};
use crate::domain::{ChannelId, Person, RequestId, RequestState, RoleId, UserId, VoteVia};
use crate::money::{Fen, Yuan};
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// The console's one channel.
pub const CONSOLE_CHANNEL: ChannelId = ChannelId::new(1);
/// The role the demo's approvers hold.
pub const APPROVER_ROLE: RoleId = RoleId::new(900);
/// The role the demo's admins hold.
pub const ADMIN_ROLE: RoleId = RoleId::new(901);

/// How long `/cvm buy` waits for its card to be shown.
const CARD_WAIT: Duration = Duration::from_secs(5);
/// Where the console's requests are filed.
const CONSOLE: Origin = Origin {
    guild_id: None,
    channel_id: Some(CONSOLE_CHANNEL),
};

/// The people of the demo: alice and dave file requests, bob and carol approve, erin is an admin.
pub fn person(name: &str) -> Person {
    let (id, roles) = match name {
        "alice" => (101, vec![]),
        "bob" => (102, vec![APPROVER_ROLE]),
        "carol" => (103, vec![APPROVER_ROLE]),
        "dave" => (104, vec![]),
        "erin" => (105, vec![ADMIN_ROLE]),
        other => (
            1000 + other
                .bytes()
                .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
                % 1_000_000,
            vec![],
        ),
    };
    Person {
        id: UserId::new(id),
        name: name.to_owned(),
        roles,
    }
}

/// What the console may ask of an in-process simulator.
pub trait SimControls: Send + Sync {
    /// Sets the account's cash balance.
    fn set_balance(&self, balance: Fen) -> BoxFuture<'_, anyhow::Result<()>>;
    /// Moves the simulator's clock forward.
    fn advance(&self, by: Duration) -> BoxFuture<'_, anyhow::Result<()>>;
    /// Reclaims `percent` % of the running spot servers, as a spot interruption would; returns
    /// their ids.
    fn reclaim(&self, percent: u32) -> BoxFuture<'_, anyhow::Result<Vec<String>>>;
}

/// A console chat session.
pub struct Console {
    desk: Desk,
    notifier: Arc<ConsoleNotifier>,
    screen: Screen,
    paint: Paint,
    me: Person,
    sim: Option<Arc<dyn SimControls>>,
}

const HELP: &str = "\
Commands (the same as Discord's /cvm):
  /cvm buy payg|spot|prepaid zone:ap-guangzhou-3 type:S5.MEDIUM4 image:img-… [max-price:0.6] [months:1]
           [count:1] [disk-type:…] [disk-size:50] [bandwidth:5] [name:…] [preset:…] [reason:\"…\"] [keep-trying:true]
  /cvm status N · /cvm list [pending|mine|all] · /cvm cancel N [reason] · /cvm balance · /cvm history [name]
  /cvm release N reason:\"…\" [instances:ins-a,ins-b]   (the servers purchase N bought)
  /cvm extend N [by:1d]   (purchase N's time to live; a buy takes ttl:3d or ttl:none)
  /cvm renew N months:M [instances:…] · /cvm autorenew N on|off   (prepaid servers)
  /cvm fleet create name:ci count:10 max-price:0.2 zone:… type:… image:… [fallbacks:SA2.MEDIUM4@ap-guangzhou-6,…]
  /cvm fleet scale NAME N [reason] · /cvm fleet status NAME · /cvm fleet release NAME REASON   (spot fleets)
Buttons: /press extend N · /press release-now N (under a time-to-live reminder)
Votes: /approve N · /reject N REASON · +✅ N · +❌ N (reactions)
People: /as NAME (alice and dave request, bob and carol approve, erin is an admin)
Demo: /wait 5s · /await running|ip|settled|refilled N [timeout] · /await alert · /sim balance CNY · /sim advance 10m
      /sim reclaim PERCENT (Tencent reclaims that share of the running spot servers)
";

impl Console {
    /// A session as `alice`.
    pub fn new(
        desk: Desk,
        notifier: Arc<ConsoleNotifier>,
        screen: Screen,
        paint: Paint,
        sim: Option<Arc<dyn SimControls>>,
    ) -> Console {
        Console {
            desk,
            notifier,
            screen,
            paint,
            me: person("alice"),
            sim,
        }
    }

    /// Who is typing.
    pub fn me(&self) -> &Person {
        &self.me
    }

    /// The prompt: the current identity.
    pub fn prompt(&self) -> String {
        format!("{}> ", self.me.name)
    }

    fn say(&self, text: &str) {
        print(&self.screen, &format!("{text}\n"));
    }

    fn private(&self, text: &str) {
        let label = self.paint.dim("(only you can see this)");
        print(&self.screen, &format!("{label} {text}\n"));
    }

    /// Runs a script: each line is echoed after the prompt, as if typed.
    pub async fn run_script(&mut self, script: &str) {
        for line in script.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with('#') {
                self.say(&self.paint.dim(trimmed));
                continue;
            }
            if trimmed.is_empty() {
                continue;
            }
            self.say(&format!("{}{trimmed}", self.paint.bold(&self.prompt())));
            self.run_line(trimmed).await;
        }
    }

    /// Runs one line and prints what it shows.
    pub async fn run_line(&mut self, line: &str) {
        match parse(line) {
            Ok(command) => {
                if let Err(error) = self.execute(command).await {
                    if let DeskError::Internal(cause) = &error {
                        tracing::error!(error = %format!("{cause:#}"), "console command failed");
                    }
                    self.private(&format!("❗ {}", error.user_message()));
                }
            }
            Err(usage) => self.private(&usage),
        }
    }

    /// Extends purchase `purchase`'s time to live (at once within the policy, else by an
    /// extension request whose card is posted).
    async fn extend(&mut self, purchase: RequestId, by: Option<Duration>) -> Result<(), DeskError> {
        match self.desk.extend(&self.me, purchase, by, CONSOLE).await? {
            Extension::Extended { until } => self.private(&format!(
                "The servers of #{purchase} now run until {}.",
                TimeStyle::Utc.at(until)
            )),
            Extension::Filed(view) => {
                self.private(&format!(
                    "That goes past the policy's maximum lifetime: extension request #{} needs an approver.",
                    view.record.id
                ));
                self.desk.wait_for_card(view.record.id, CARD_WAIT).await?;
            }
        }
        Ok(())
    }

    async fn execute(&mut self, command: Command) -> Result<(), DeskError> {
        match command {
            Command::Nothing => {}
            Command::Help => self.say(HELP),
            Command::As(name) => {
                self.me = person(&name);
                self.say(&self.paint.dim(&format!("(you are now {name})")));
            }
            Command::Buy(form) => {
                let origin = Origin {
                    guild_id: None,
                    channel_id: Some(CONSOLE_CHANNEL),
                };
                let view = self.desk.create(&self.me, &form, origin).await?;
                // The dispatcher posts the card, as it does on Discord.
                self.desk.wait_for_card(view.record.id, CARD_WAIT).await?;
            }
            Command::Vote {
                id,
                approve,
                reason,
                reaction,
            } => {
                let ballot = Ballot {
                    approve,
                    reason,
                    seen_hash: None,
                    via: if reaction { VoteVia::Reaction } else { VoteVia::Console },
                };
                let outcome = self.desk.vote(id, &self.me, &ballot).await?;
                let text = match outcome.decided {
                    Some(RequestState::Approved) => format!("Approved request #{id}; it goes to Tencent Cloud now."),
                    Some(RequestState::Rejected) => format!("Rejected request #{id}."),
                    _ => format!(
                        "Your approval of request #{id} is counted ({} of {}).",
                        outcome.view.approvals(),
                        outcome.view.record.approvals_needed
                    ),
                };
                self.private(&text);
            }
            Command::Status(id) => {
                let view = self.desk.view(id).await?;
                self.notifier.show(&render::request_card(&view, TimeStyle::Utc));
            }
            Command::FleetCreate(form) => {
                let view = self.desk.create_fleet(&self.me, &form, CONSOLE).await?;
                self.desk.wait_for_card(view.record.id, CARD_WAIT).await?;
            }
            Command::FleetChange { name, count, reason } => {
                let view = self
                    .desk
                    .change_fleet(&self.me, &name, count, reason.as_deref(), CONSOLE)
                    .await?;
                self.desk.wait_for_card(view.record.id, CARD_WAIT).await?;
            }
            Command::FleetStatus(name) => {
                let view = self.desk.fleet_view(&name).await?;
                self.notifier.show(&render::request_card(&view, TimeStyle::Utc));
            }
            Command::List(kind) => {
                let records = self.desk.list(kind.filter(self.me.id), 20).await?;
                self.private(&listing(&records));
            }
            Command::History(name) => {
                let who = name.as_deref().map_or_else(|| self.me.clone(), person);
                let records = self.desk.list(crate::store::ListFilter::Mine(who.id), 20).await?;
                self.private(&format!("Requests by {}:\n{}", who.name, listing(&records)));
            }
            Command::Release {
                purchase,
                instances,
                reason,
            } => {
                let origin = Origin {
                    guild_id: None,
                    channel_id: Some(CONSOLE_CHANNEL),
                };
                let view = self
                    .desk
                    .release(&self.me, purchase, &instances, reason.as_deref(), origin)
                    .await?;
                self.desk.wait_for_card(view.record.id, CARD_WAIT).await?;
            }
            Command::Extend { purchase, by } => self.extend(purchase, by).await?,
            Command::Renew {
                purchase,
                months,
                instances,
            } => {
                let view = self.desk.renew(&self.me, purchase, months, &instances, CONSOLE).await?;
                self.desk.wait_for_card(view.record.id, CARD_WAIT).await?;
            }
            Command::AutoRenew(purchase, on) => {
                let ids = self.desk.set_auto_renew(&self.me, purchase, on).await?;
                self.private(&format!(
                    "Automatic renewal is {} for {} server(s) of #{purchase}.",
                    if on { "on" } else { "off" },
                    ids.len()
                ));
            }
            Command::Press(LifetimeAction::Extend, purchase) => self.extend(purchase, None).await?,
            // On Discord the button opens a form asking for the months; here the command does.
            Command::Press(LifetimeAction::Renew, purchase) => self.private(&format!(
                "Renew… asks how many months: /cvm renew {purchase} months:1 (1–12, 24, 36, 48 or 60)"
            )),
            Command::Press(LifetimeAction::ReleaseNow, purchase) => {
                let view = self
                    .desk
                    .release(
                        &self.me,
                        purchase,
                        &[],
                        Some("released from the time-to-live reminder"),
                        CONSOLE,
                    )
                    .await?;
                self.desk.wait_for_card(view.record.id, CARD_WAIT).await?;
            }
            Command::Cancel(id, reason) => {
                self.desk.cancel(id, &self.me, reason.as_deref()).await?;
                self.private(&format!("Cancelled request #{id}."));
            }
            Command::Balance => {
                let report = self.desk.balance_report().await?;
                let history = self.desk.balance_history(Some(report.spendable)).await?;
                let chart = crate::chat::charts::runway_attachment(&history).map_err(DeskError::Internal);
                self.private(&with_chart(balance_text(&report), chart));
            }
            Command::Spend { period, by } => {
                let spend = self.desk.spend_as_asked(&period, &by).await?;
                let chart = crate::chat::charts::spend_attachment(&spend.series).map_err(DeskError::Internal);
                self.private(&with_chart(render::spend_summary(&spend), chart));
            }
            Command::Wait(duration) => tokio::time::sleep(duration).await,
            Command::Await(milestone, id, timeout) => self.await_milestone(milestone, id, timeout).await?,
            Command::AwaitAlert(timeout) => self.await_alert(timeout).await?,
            Command::SimBalance(amount) => {
                let sim = self
                    .sim
                    .as_ref()
                    .ok_or_else(|| DeskError::refused("No simulator is attached."))?;
                let yuan: Yuan = amount.parse().map_err(DeskError::refused)?;
                sim.set_balance(yuan.to_fen_round())
                    .await
                    .map_err(DeskError::Internal)?;
                self.say(
                    &self
                        .paint
                        .dim(&format!("(simulator: the account balance is now {yuan})")),
                );
            }
            Command::SimReclaim(percent) => {
                let sim = self
                    .sim
                    .as_ref()
                    .ok_or_else(|| DeskError::refused("No simulator is attached."))?;
                let ids = sim.reclaim(percent).await.map_err(DeskError::Internal)?;
                self.say(&self.paint.dim(&format!(
                    "(simulator: Tencent reclaimed {} spot server(s): {})",
                    ids.len(),
                    ids.join(", ")
                )));
            }
            Command::SimAdvance(by) => {
                let sim = self
                    .sim
                    .as_ref()
                    .ok_or_else(|| DeskError::refused("No simulator is attached."))?;
                sim.advance(by).await.map_err(DeskError::Internal)?;
                self.say(&self.paint.dim(&format!(
                    "(simulator: the clock moved {})",
                    crate::domain::duration::format_duration(by)
                )));
            }
        }
        Ok(())
    }

    /// Waits until an alert-channel notice raised from now on has been posted.
    async fn await_alert(&self, timeout: Duration) -> Result<(), DeskError> {
        let since = self.desk.clock().now();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notices = self.desk.outbox(None).await?;
            if notices
                .iter()
                .any(|n| n.target == "alert" && n.created_at >= since && n.sent_at.is_some())
            {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(DeskError::refused("No alert was posted in time."));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits (polling the engine) until request `id` reaches `milestone`, letting the workers post meanwhile.
    async fn await_milestone(&self, milestone: Milestone, id: RequestId, timeout: Duration) -> Result<(), DeskError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let view = self.desk.view(id).await?;
            let r = &view.record;
            let reached = match milestone {
                Milestone::Settled => r.state.is_final(),
                // A fleet: as many running as it keeps.
                Milestone::Running if view.fleet.is_some() => {
                    view.fleet.as_ref().is_some_and(|f| f.running == f.record.desired)
                }
                Milestone::Refilled => view.fleet.as_ref().is_some_and(|f| {
                    f.record.reclaimed_total > 0
                        && f.running == f.record.desired
                        && f.record.last_refill_at >= f.record.last_reclaim_at
                }),
                Milestone::Running => {
                    r.state.is_final()
                        || (!view.instances.is_empty() && view.instances.iter().all(|i| i.running_at.is_some()))
                }
                Milestone::Ip => {
                    r.state.is_final()
                        && view
                            .instances
                            .iter()
                            .all(|i| !i.wants_public_ip || i.public_ip_at.is_some() || i.gone_at.is_some())
                        || (!view.instances.is_empty()
                            && view
                                .instances
                                .iter()
                                .all(|i| i.running_at.is_some() && (!i.wants_public_ip || i.public_ip_at.is_some())))
                }
            };
            if reached {
                // Give the dispatcher a moment to print what the workers raised.
                tokio::time::sleep(Duration::from_millis(600)).await;
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(DeskError::refused(format!(
                    "Request #{id} did not get there within {}.",
                    crate::domain::duration::format_duration(timeout)
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn listing(records: &[crate::store::RequestRecord]) -> String {
    if records.is_empty() {
        return "No requests.".into();
    }
    records
        .iter()
        .map(|r| render::listing_line(r, TimeStyle::Utc))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The balance report in words (shared with Discord's `/cvm balance`).
/// `text` and where its chart was written (or why it was not).
fn with_chart(text: String, chart: Result<crate::chat::model::Attachment, DeskError>) -> String {
    let saved = chart
        .map_err(|e| format!("{}", crate::desk::Chain(&e)))
        .and_then(|file| {
            text::save_attachment(&file)
                .map(|path| (file, path))
                .map_err(|e| format!("{e:#}"))
        });
    match saved {
        Ok((file, path)) => format!("{text}\n📎 chart written to {}\n{}", path.display(), file.description),
        Err(error) => format!("{text}\n(the chart could not be drawn or written: {error})"),
    }
}

pub fn balance_text(report: &crate::desk::BalanceReport) -> String {
    let mut text = format!(
        "Tencent Cloud balance: {} spendable{}; frozen {}; owed {}.\nServers bought by cvmbot burn {}/h",
        report.spendable,
        if report.credit { " (with credit)" } else { "" },
        report.freeze,
        report.owe,
        report.burn_per_hour
    );
    match &report.runway {
        Some(runway) => text.push_str(&format!(": runway {}.", render::runway_words(runway))),
        None => text.push('.'),
    }
    if report.owe > Fen::ZERO {
        text.push_str("\n🚨 The account owes money: Tencent will reclaim pay-as-you-go and spot servers. Top up now.");
    }
    text
}
