//! The console's command language: the same `/cvm` commands as Discord, written as text, plus
//! `/as NAME` to switch identity, votes, and a few demo helpers.

use crate::chat::render::LifetimeAction;
use crate::domain::{BillingKind, PurchaseForm, RequestId, UserId};
use crate::store::ListFilter;
use std::time::Duration;

/// A condition `/await` waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Milestone {
    /// Every instance RUNNING (or the request settled).
    Running,
    /// Every instance that wants one has a public IP.
    Ip,
    /// The request reached a final state.
    Settled,
    /// A fleet replaced what was reclaimed and runs as many as it keeps.
    Refilled,
}

/// What a line asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// `/cvm buy payg|spot|prepaid key:value …`
    Buy(PurchaseForm),
    /// `/cvm status N`
    Status(RequestId),
    /// `/cvm list [pending|mine|all]`
    List(ListKind),
    /// `/cvm cancel N [reason]`
    Cancel(RequestId, Option<String>),
    /// `/cvm release N reason:… [instances:ins-a,ins-b]`
    Release {
        purchase: RequestId,
        instances: Vec<String>,
        reason: Option<String>,
    },
    /// `/cvm extend N [by:1d]`
    Extend { purchase: RequestId, by: Option<Duration> },
    /// `/cvm renew N months:M [instances:ins-a,ins-b]`
    Renew {
        purchase: RequestId,
        months: u32,
        instances: Vec<String>,
    },
    /// `/cvm autorenew N on|off`
    AutoRenew(RequestId, bool),
    /// `/cvm fleet create name:… count:N max-price:… zone:… type:… image:… [fallbacks:…]`
    FleetCreate(PurchaseForm),
    /// `/cvm fleet scale NAME N [reason]`, `/cvm fleet release NAME reason`
    FleetChange {
        name: String,
        count: Option<u32>,
        reason: Option<String>,
    },
    /// `/cvm fleet status NAME`
    FleetStatus(String),
    /// `/press extend N`, `/press release-now N`: a reminder's button.
    Press(LifetimeAction, RequestId),
    /// `/cvm balance`
    Balance,
    /// `/cvm spend [period:7d|30d|month|YYYY-MM] [by:requester|tag|type|zone|fleet]`
    Spend {
        /// `period:` as typed (empty: the default).
        period: String,
        /// `by:` as typed (empty: the default).
        by: String,
    },
    /// `/cvm history [name]`
    History(Option<String>),
    /// `/approve N`, `+✅ N`
    Vote {
        id: RequestId,
        approve: bool,
        reason: Option<String>,
        reaction: bool,
    },
    /// `/as NAME`
    As(String),
    /// `/wait 5s`
    Wait(Duration),
    /// `/await running|ip|settled|refilled N [timeout]`
    Await(Milestone, RequestId, Duration),
    /// `/await alert [timeout]`: until the next alert-channel notice is posted.
    AwaitAlert(Duration),
    /// `/sim balance 150` (CNY)
    SimBalance(String),
    /// `/sim advance 10m`
    SimAdvance(Duration),
    /// `/sim reclaim 30` (percent of the running spot servers)
    SimReclaim(u32),
    /// `/help`
    Help,
    /// A comment or a blank line.
    Nothing,
}

/// Which listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// Waiting for approval.
    Pending,
    /// Mine.
    Mine,
    /// Everything.
    All,
}

impl ListKind {
    /// The store filter for `user`.
    pub fn filter(self, user: UserId) -> ListFilter {
        match self {
            ListKind::Pending => ListFilter::Pending,
            ListKind::Mine => ListFilter::Mine(user),
            ListKind::All => ListFilter::All,
        }
    }
}

/// Splits on spaces, keeping `"quoted text"` together (quotes removed).
pub fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    words.push(std::mem::take(&mut current));
                    any = false;
                }
            }
            c => {
                current.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(current);
    }
    words
}

fn id(word: Option<&String>, usage: &str) -> Result<RequestId, String> {
    word.and_then(|w| w.trim_start_matches('#').parse().ok())
        .ok_or_else(|| format!("usage: {usage}"))
}

fn rest(words: &[String]) -> Option<String> {
    (!words.is_empty()).then(|| words.join(" "))
}

fn duration(word: Option<&String>, usage: &str) -> Result<Duration, String> {
    word.and_then(|w| crate::domain::duration::parse_duration(w).ok())
        .ok_or_else(|| format!("usage: {usage}"))
}

/// Parses one line. Errors are usage messages.
pub fn parse(line: &str) -> Result<Command, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(Command::Nothing);
    }
    let words = words(line);
    let head = words[0].as_str();
    let args = &words[1..];
    match head {
        "/cvm" => parse_cvm(args),
        "/approve" | "+✅" => {
            let id = id(args.first(), "/approve N")?;
            Ok(Command::Vote {
                id,
                approve: true,
                reason: rest(&args[1..]),
                reaction: head.starts_with('+'),
            })
        }
        "/reject" | "+❌" => {
            let id = id(args.first(), "/reject N REASON")?;
            Ok(Command::Vote {
                id,
                approve: false,
                reason: rest(&args[1..]),
                reaction: head.starts_with('+'),
            })
        }
        "/as" => args
            .first()
            .map(|n| Command::As(n.to_ascii_lowercase()))
            .ok_or_else(|| "usage: /as NAME".into()),
        "/wait" => Ok(Command::Wait(duration(args.first(), "/wait 5s")?)),
        "/press" => {
            let usage = "/press extend|release-now|renew N (the buttons under a reminder)";
            let action = match args.first().map(String::as_str) {
                Some("extend") => LifetimeAction::Extend,
                Some("release-now") => LifetimeAction::ReleaseNow,
                Some("renew") => LifetimeAction::Renew,
                _ => return Err(format!("usage: {usage}")),
            };
            Ok(Command::Press(action, id(args.get(1), usage)?))
        }
        "/await" => {
            let usage = "/await running|ip|settled|refilled N [TIMEOUT] | /await alert [TIMEOUT]";
            if args.first().map(String::as_str) == Some("alert") {
                let timeout = if args.len() > 1 {
                    duration(args.get(1), usage)?
                } else {
                    Duration::from_secs(60)
                };
                return Ok(Command::AwaitAlert(timeout));
            }
            let milestone = match args.first().map(String::as_str) {
                Some("running") => Milestone::Running,
                Some("ip") => Milestone::Ip,
                Some("settled") => Milestone::Settled,
                Some("refilled") => Milestone::Refilled,
                _ => return Err(format!("usage: {usage}")),
            };
            let id = id(args.get(1), usage)?;
            let timeout = if args.len() > 2 {
                duration(args.get(2), usage)?
            } else {
                Duration::from_secs(60)
            };
            Ok(Command::Await(milestone, id, timeout))
        }
        "/sim" => match (args.first().map(String::as_str), args.get(1)) {
            (Some("balance"), Some(amount)) => Ok(Command::SimBalance(amount.clone())),
            (Some("advance"), Some(_)) => Ok(Command::SimAdvance(duration(args.get(1), "/sim advance 10m")?)),
            (Some("reclaim"), Some(percent)) => match percent.trim_end_matches('%').parse::<u32>() {
                Ok(percent) if percent <= 100 => Ok(Command::SimReclaim(percent)),
                _ => Err("usage: /sim reclaim PERCENT (0–100)".into()),
            },
            _ => Err("usage: /sim balance CNY | /sim advance 10m | /sim reclaim PERCENT".into()),
        },
        "/help" | "help" => Ok(Command::Help),
        other => Err(format!("unknown command {other}; type /help")),
    }
}

/// `option:value` words into a form of `kind`.
fn form_of(kind: BillingKind, words: &[String], usage: &str) -> Result<PurchaseForm, String> {
    let mut form = PurchaseForm::new(kind);
    for option in words {
        let (key, value) = option
            .split_once(':')
            .or_else(|| option.split_once('='))
            .ok_or_else(|| format!("`{option}` is not option:value; usage: {usage}"))?;
        form.set(key, value);
    }
    Ok(form)
}

fn parse_fleet(args: &[String]) -> Result<Command, String> {
    let usage = "/cvm fleet create name:… count:N max-price:… zone:… type:… image:… [fallbacks:TYPE@ZONE,…] | \
                 /cvm fleet scale NAME N [reason] | /cvm fleet status NAME | /cvm fleet release NAME reason";
    let name = || args.get(1).cloned().ok_or_else(|| format!("usage: {usage}"));
    match args.first().map(String::as_str) {
        Some("create") => Ok(Command::FleetCreate(form_of(BillingKind::Spot, &args[1..], usage)?)),
        Some("scale") => Ok(Command::FleetChange {
            name: name()?,
            count: Some(
                args.get(2)
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| format!("usage: {usage}"))?,
            ),
            reason: args.get(3..).map(|words| words.join(" ")).filter(|r| !r.is_empty()),
        }),
        Some("status") => Ok(Command::FleetStatus(name()?)),
        Some("release") => Ok(Command::FleetChange {
            name: name()?,
            count: None,
            reason: args.get(2..).map(|words| words.join(" ")).filter(|r| !r.is_empty()),
        }),
        _ => Err(format!("usage: {usage}")),
    }
}

fn parse_cvm(args: &[String]) -> Result<Command, String> {
    match args.first().map(String::as_str) {
        Some("buy") => {
            let usage = "/cvm buy payg|spot|prepaid zone:… type:… image:… [option:value …]";
            let kind = args
                .get(1)
                .and_then(|k| BillingKind::parse(k))
                .ok_or_else(|| format!("usage: {usage}"))?;
            Ok(Command::Buy(form_of(kind, &args[2..], usage)?))
        }
        Some("fleet") => parse_fleet(&args[1..]),
        Some("status") => Ok(Command::Status(id(args.get(1), "/cvm status N")?)),
        Some("list") => Ok(Command::List(match args.get(1).map(String::as_str) {
            None | Some("pending") => ListKind::Pending,
            Some("mine") => ListKind::Mine,
            Some("all") => ListKind::All,
            Some(_) => return Err("usage: /cvm list [pending|mine|all]".into()),
        })),
        Some("cancel") => Ok(Command::Cancel(
            id(args.get(1), "/cvm cancel N [REASON]")?,
            rest(&args[2..]),
        )),
        Some("release") => {
            let usage = "/cvm release N reason:\"…\" [instances:ins-a,ins-b]";
            let purchase = id(args.get(1), usage)?;
            let (mut instances, mut reason) = (Vec::new(), None);
            for option in &args[2..] {
                match option.split_once(':') {
                    Some(("reason", text)) => reason = Some(text.to_owned()),
                    Some(("instances", ids)) => {
                        instances = ids
                            .split(',')
                            .map(str::trim)
                            .filter(|i| !i.is_empty())
                            .map(str::to_owned)
                            .collect();
                    }
                    _ => return Err(format!("`{option}` is not reason:… or instances:…; usage: {usage}")),
                }
            }
            Ok(Command::Release {
                purchase,
                instances,
                reason,
            })
        }
        Some("extend") => {
            let usage = "/cvm extend N [by:1d]";
            let purchase = id(args.get(1), usage)?;
            let by = match args.get(2).map(|o| o.split_once(':')) {
                None => None,
                Some(Some(("by", text))) => {
                    Some(crate::domain::duration::parse_duration(text).map_err(|e| format!("by: {e}"))?)
                }
                Some(_) => return Err(format!("usage: {usage}")),
            };
            Ok(Command::Extend { purchase, by })
        }
        Some("renew") => {
            let usage = "/cvm renew N months:M [instances:ins-a,ins-b]";
            let purchase = id(args.get(1), usage)?;
            let (mut months, mut instances) = (None, Vec::new());
            for option in &args[2..] {
                match option.split_once(':') {
                    Some(("months", m)) => {
                        months = Some(
                            m.parse::<u32>()
                                .map_err(|_| format!("months: `{m}` is not a number; usage: {usage}"))?,
                        )
                    }
                    Some(("instances", ids)) => {
                        instances = ids
                            .split(',')
                            .map(str::trim)
                            .filter(|i| !i.is_empty())
                            .map(str::to_owned)
                            .collect()
                    }
                    _ => return Err(format!("`{option}` is not months:… or instances:…; usage: {usage}")),
                }
            }
            let months = months.ok_or_else(|| format!("months: required; usage: {usage}"))?;
            Ok(Command::Renew {
                purchase,
                months,
                instances,
            })
        }
        Some("autorenew") => {
            let usage = "/cvm autorenew N on|off";
            let purchase = id(args.get(1), usage)?;
            let on = match args.get(2).map(String::as_str) {
                Some("on") => true,
                Some("off") => false,
                _ => return Err(format!("usage: {usage}")),
            };
            Ok(Command::AutoRenew(purchase, on))
        }
        Some("balance") => Ok(Command::Balance),
        Some("spend") => {
            let usage = "/cvm spend [period:7d|30d|month|YYYY-MM] [by:requester|tag|type|zone|fleet]";
            let (mut period, mut by) = (String::new(), String::new());
            for option in &args[1..] {
                match option.split_once(':') {
                    Some(("period", text)) => period = text.to_owned(),
                    Some(("by", text)) => by = text.to_owned(),
                    _ => return Err(format!("`{option}` is not period:… or by:…; usage: {usage}")),
                }
            }
            Ok(Command::Spend { period, by })
        }
        Some("history") => Ok(Command::History(args.get(1).map(|n| n.to_ascii_lowercase()))),
        _ => {
            Err("usage: /cvm buy|status|list|cancel|release|extend|renew|autorenew|fleet|balance|spend|history".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_line_names_the_purchase_the_reason_and_maybe_some_instances() {
        assert_eq!(
            parse(r#"/cvm release #4 reason:"load test over" instances:ins-a,ins-b"#),
            Ok(Command::Release {
                purchase: RequestId::new(4),
                instances: vec!["ins-a".into(), "ins-b".into()],
                reason: Some("load test over".into()),
            })
        );
        assert!(parse("/cvm release 4 because").is_err(), "options are key:value");
    }

    #[test]
    fn a_buy_line_becomes_a_form_with_quoted_values_kept_whole() {
        let command = parse(r#"/cvm buy spot zone:ap-guangzhou-3 type:S5.MEDIUM4 max-price:0.6 reason:"load test""#)
            .expect("parses");
        let Command::Buy(form) = command else {
            panic!("not a buy: {command:?}")
        };
        assert_eq!(form.kind(), BillingKind::Spot);
        assert_eq!(form.get("reason"), Some("load test"));
        assert_eq!(form.get("max-price"), Some("0.6"));
    }

    #[test]
    fn fleet_lines_create_scale_show_and_release_a_fleet() {
        let Ok(Command::FleetCreate(form)) =
            parse("/cvm fleet create name:ci count:10 max-price:0.2 fallbacks:SA2.MEDIUM4")
        else {
            panic!("a fleet")
        };
        assert_eq!(form.kind(), BillingKind::Spot);
        assert_eq!(form.get("count"), Some("10"));
        assert_eq!(form.get("fallbacks"), Some("SA2.MEDIUM4"));
        assert_eq!(
            parse("/cvm fleet scale ci 20 more builds"),
            Ok(Command::FleetChange {
                name: "ci".into(),
                count: Some(20),
                reason: Some("more builds".into()),
            })
        );
        assert_eq!(parse("/cvm fleet status ci"), Ok(Command::FleetStatus("ci".into())));
        assert!(parse("/cvm fleet scale ci twenty").is_err(), "a count is a number");
    }

    #[test]
    fn votes_reactions_and_identity_switches_parse() {
        assert_eq!(
            parse("/approve 3"),
            Ok(Command::Vote {
                id: RequestId::new(3),
                approve: true,
                reason: None,
                reaction: false
            })
        );
        assert_eq!(
            parse("+✅ 3"),
            Ok(Command::Vote {
                id: RequestId::new(3),
                approve: true,
                reason: None,
                reaction: true
            })
        );
        assert_eq!(
            parse("/reject #3 too expensive"),
            Ok(Command::Vote {
                id: RequestId::new(3),
                approve: false,
                reason: Some("too expensive".into()),
                reaction: false
            })
        );
        assert_eq!(parse("/as Bob"), Ok(Command::As("bob".into())));
        assert_eq!(parse("# a comment"), Ok(Command::Nothing));
        assert!(parse("/approve").is_err());
        assert!(parse("/cvm buy cheap zone:x").is_err());
    }
}
