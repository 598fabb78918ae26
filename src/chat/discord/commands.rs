//! The `/cvm` application command: its definition (each description is what Discord shows) and
//! how an invocation's options become the desk's inputs.

use crate::domain::spec::{BANDWIDTH_CHARGES, DISK_TYPES, PREPAID_MONTHS};
use crate::domain::{BillingKind, PurchaseForm};
use serenity::all::{
    CommandDataOption, CommandDataOptionValue, CommandOptionType, CreateCommand, CreateCommandOption,
    InstallationContext, InteractionContext,
};
use std::collections::BTreeMap;

/// `/cvm`: the purchasing desk.
pub const CVM: &str = "Tencent Cloud servers: request, approve, track";
/// `/cvm buy`: request servers.
pub const BUY: &str = "Request servers; a second person must approve before anything is bought";
/// `/cvm buy payg`.
pub const BUY_PAYG: &str = "Pay-as-you-go servers, billed by the second (one hour is frozen at purchase)";
/// `/cvm buy spot`.
pub const BUY_SPOT: &str = "Spot servers at the market price up to your bid; can be reclaimed";
/// `/cvm buy prepaid`.
pub const BUY_PREPAID: &str = "Prepaid servers for 1–12, 24, 36, 48 or 60 months, paid at purchase";
/// `/cvm status`.
pub const STATUS: &str = "Show a request: price, approvals, instances and IPs";
/// `/cvm list`.
pub const LIST: &str = "List requests: pending (default), mine or all";
/// `/cvm cancel`.
pub const CANCEL: &str = "Cancel a pending or approved request (yours, or any if you are an admin)";
/// `/cvm release`.
pub const RELEASE: &str = "Give back servers cvmbot bought: all of a purchase's, or some (may need approval)";
/// `/cvm extend`.
pub const EXTEND: &str = "Let a purchase's servers live longer before cvmbot releases them";
/// `/cvm renew`.
pub const RENEW: &str = "Pay for more months of prepaid servers cvmbot bought (approved by cost)";
/// `/cvm autorenew`.
pub const AUTORENEW: &str = "Turn automatic renewal of a purchase's prepaid servers on or off";
/// `/cvm spend`.
pub const SPEND: &str = "Chart what cvmbot's servers cost per day, by requester, tag, type, zone or fleet";

/// `/cvm spend by:`, its choices as [`crate::domain::SpendBy`] names them.
fn by_option() -> CreateCommandOption {
    crate::domain::SpendBy::NAMES.iter().fold(
        CreateCommandOption::new(CommandOptionType::String, "by", "How to group it (default requester)"),
        |option, name| option.add_string_choice(*name, *name),
    )
}

/// `/cvm balance`.
pub const BALANCE: &str = "Show the Tencent Cloud balance and the runway of what cvmbot bought";
/// `/cvm fleet`.
pub const FLEET: &str = "Keep a number of spot servers running within a budget approved once";
/// `/cvm fleet create`.
pub const FLEET_CREATE: &str = "Keep N spot servers running; the budget is count × max price";
/// `/cvm fleet scale`.
pub const FLEET_SCALE: &str = "Change how many servers a fleet keeps (above its approved budget needs approval)";
/// `/cvm fleet status`.
pub const FLEET_STATUS: &str = "Show a fleet: running, pending, placements, spend and budget";
/// `/cvm fleet release`.
pub const FLEET_RELEASE: &str = "Give back every server of a fleet and end it (the release policy applies)";
/// `/cvm history`.
pub const HISTORY: &str = "Show someone's requests (yours by default)";

/// The largest INTEGER option Discord takes (2^53 - 1; larger bounds are refused at registration).
const MAX_INTEGER: u64 = (1 << 53) - 1;

fn text(name: &str, description: &str) -> CreateCommandOption {
    CreateCommandOption::new(CommandOptionType::String, name, description)
}

fn integer(name: &str, description: &str, min: u64, max: u64) -> CreateCommandOption {
    CreateCommandOption::new(CommandOptionType::Integer, name, description)
        .min_int_value(min)
        .max_int_value(max)
}

fn choices(mut option: CreateCommandOption, values: &[&str]) -> CreateCommandOption {
    for value in values {
        option = option.add_string_choice(*value, *value);
    }
    option
}

fn common_buy_options() -> Vec<CreateCommandOption> {
    buy_options(true)
}

/// The options every buy takes; a fleet's server takes them without `count` and `name` (the
/// fleet's own). Zone, type and image are required: Discord then asks for them before anything
/// else and never sends a purchase without them. Discord wants a subcommand's required options
/// before its optional ones, so they come first here, after the caller's own required ones.
fn buy_options(with_count_and_name: bool) -> Vec<CreateCommandOption> {
    let mut options = vec![
        text("zone", "Availability zone, e.g. ap-guangzhou-3")
            .set_autocomplete(true)
            .required(true),
        text("type", "Instance type, e.g. S5.MEDIUM4")
            .set_autocomplete(true)
            .required(true),
        text("image", "Image id, e.g. img-l8og963d")
            .set_autocomplete(true)
            .required(true),
    ];
    if with_count_and_name {
        options.push(integer("count", "How many instances (default 1)", 1, 100));
    }
    options.extend([
        text("preset", "A preset that fills what you leave out").set_autocomplete(true),
        text("reason", "Why these servers are needed (shown to approvers)").max_length(300),
    ]);
    if with_count_and_name {
        options.push(text("name", "Instance name (default cvmbot-<request>)").max_length(60));
    }
    options.extend([
        choices(
            text("disk-type", "System disk type (default CLOUD_PREMIUM)"),
            DISK_TYPES,
        ),
        integer("disk-size", "System disk size in GiB (default 50)", 20, 1024),
        text("data-disks", "Data disks as TYPE:GiB, e.g. CLOUD_SSD:100,200"),
        integer(
            "bandwidth",
            "Public bandwidth in Mbps (default 0: no public IP)",
            0,
            1000,
        ),
        choices(
            text(
                "bandwidth-charge",
                "How bandwidth is paid (default by hour; prepaid for prepaid)",
            ),
            BANDWIDTH_CHARGES,
        ),
        text("vpc", "VPC id (vpc-…) or DEFAULT"),
        text("subnet", "Subnet id (subnet-…) or DEFAULT"),
        text("security-groups", "Security group ids, comma separated (sg-…)"),
        text("key-ids", "SSH key pair ids, comma separated (skey-…)"),
        text("tags", "Tags as key=value, comma separated"),
        text(
            "ttl",
            "When cvmbot releases them: 3d, 12h or none (the policy sets default, max)",
        ),
    ]);
    options
}

fn fleet_name() -> CreateCommandOption {
    text("name", "The fleet's name, e.g. ci-runners")
        .max_length(32)
        .required(true)
}

fn fleet_group() -> CreateCommandOption {
    let mut create = vec![
        fleet_name(),
        integer("count", "How many spot servers to keep running", 1, 10_000).required(true),
        text(
            "max-price",
            "Your bid: the most per server-hour in CNY, e.g. 0.6; never exceeded",
        )
        .required(true),
    ];
    create.extend(buy_options(false));
    create.push(text(
        "fallbacks",
        "Other placements in order, if no stock or the bid is too low: TYPE@ZONE, TYPE, …",
    ));
    CreateCommandOption::new(CommandOptionType::SubCommandGroup, "fleet", FLEET)
        .add_sub_option(subcommand("create", FLEET_CREATE, create))
        .add_sub_option(subcommand(
            "scale",
            FLEET_SCALE,
            vec![
                fleet_name(),
                integer("count", "How many servers it keeps from now on", 1, 10_000).required(true),
                text("reason", "Why (shown to approvers, kept in the audit log)").max_length(300),
            ],
        ))
        .add_sub_option(subcommand("status", FLEET_STATUS, vec![fleet_name()]))
        .add_sub_option(subcommand(
            "release",
            FLEET_RELEASE,
            vec![
                fleet_name(),
                text("reason", "Why it can go (shown to approvers, kept in the audit log)")
                    .max_length(300)
                    .required(true),
            ],
        ))
}

/// The `/cvm` command as registered.
pub fn definition() -> CreateCommand {
    let mut spot = vec![text("max-price", "Your bid: the most per instance-hour in CNY, e.g. 0.6").required(true)];
    spot.extend(common_buy_options());
    spot.push(text(
        "keep-trying",
        "If there is no stock or the market is above your bid: keep trying (true, or e.g. 6h)",
    ));
    let mut months =
        CreateCommandOption::new(CommandOptionType::Integer, "months", "Prepaid period in months").required(true);
    for m in PREPAID_MONTHS {
        months = months.add_int_choice(m.to_string(), *m as i32);
    }
    let mut prepaid = vec![months];
    prepaid.extend(common_buy_options());
    prepaid.push(CreateCommandOption::new(
        CommandOptionType::Boolean,
        "renew",
        "Renew automatically at the end (default no)",
    ));
    let buy = CreateCommandOption::new(CommandOptionType::SubCommandGroup, "buy", BUY)
        .add_sub_option(subcommand("payg", BUY_PAYG, common_buy_options()))
        .add_sub_option(subcommand("spot", BUY_SPOT, spot))
        .add_sub_option(subcommand("prepaid", BUY_PREPAID, prepaid));
    let id = || integer("id", "Request number", 1, MAX_INTEGER).required(true);
    let list_filter = choices(
        text("filter", "Which requests (default pending)"),
        &["pending", "mine", "all"],
    );
    // In servers only, and only where the bot itself is installed: not in direct messages, and
    // not as a user-installed app in servers the bot is not in.
    CreateCommand::new("cvm")
        .description(CVM)
        .contexts(vec![InteractionContext::Guild])
        .integration_types(vec![InstallationContext::Guild])
        .add_option(buy)
        .add_option(subcommand("status", STATUS, vec![id()]))
        .add_option(subcommand("list", LIST, vec![list_filter]))
        .add_option(subcommand(
            "cancel",
            CANCEL,
            vec![id(), text("reason", "Why (shown on the request)")],
        ))
        .add_option(subcommand(
            "release",
            RELEASE,
            vec![
                integer("request", "The purchase request whose servers go", 1, MAX_INTEGER).required(true),
                text("reason", "Why they can go (shown to approvers, kept in the audit log)")
                    .max_length(300)
                    .required(true),
                text(
                    "instances",
                    "Only these instance ids, comma separated (default: all of the request's)",
                ),
            ],
        ))
        .add_option(subcommand(
            "extend",
            EXTEND,
            vec![
                integer(
                    "request",
                    "The purchase request whose time to live to extend",
                    1,
                    MAX_INTEGER,
                )
                .required(true),
                text("by", "How much longer, e.g. 1d or 12h (default: the policy's step)"),
            ],
        ))
        .add_option(subcommand(
            "renew",
            RENEW,
            vec![
                integer(
                    "request",
                    "The purchase request whose prepaid servers to renew",
                    1,
                    MAX_INTEGER,
                )
                .required(true),
                {
                    let mut months = CreateCommandOption::new(CommandOptionType::Integer, "months", "How many months")
                        .required(true);
                    for m in PREPAID_MONTHS {
                        months = months.add_int_choice(m.to_string(), *m as i32);
                    }
                    months
                },
                text(
                    "instances",
                    "Only these instance ids, comma separated (default: all of the request's)",
                ),
            ],
        ))
        .add_option(subcommand(
            "autorenew",
            AUTORENEW,
            vec![
                integer(
                    "request",
                    "The purchase request whose prepaid servers it is about",
                    1,
                    MAX_INTEGER,
                )
                .required(true),
                CreateCommandOption::new(CommandOptionType::Boolean, "on", "Renew automatically at expiry")
                    .required(true),
            ],
        ))
        .add_option(fleet_group())
        .add_option(subcommand("balance", BALANCE, vec![]))
        .add_option(subcommand(
            "spend",
            SPEND,
            vec![
                CreateCommandOption::new(
                    CommandOptionType::String,
                    "period",
                    "7d, 30d (default), month or YYYY-MM",
                ),
                by_option(),
            ],
        ))
        .add_option(subcommand(
            "history",
            HISTORY,
            vec![CreateCommandOption::new(
                CommandOptionType::User,
                "user",
                "Whose requests (default yours)",
            )],
        ))
}

fn subcommand(name: &str, description: &str, options: Vec<CreateCommandOption>) -> CreateCommandOption {
    options.into_iter().fold(
        CreateCommandOption::new(CommandOptionType::SubCommand, name, description),
        |c, o| c.add_sub_option(o),
    )
}

/// An invocation taken apart: the subcommand path, every option as text, the focused option (autocomplete).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Invocation {
    /// `["buy", "spot"]`, `["status"]`, …
    pub path: Vec<String>,
    /// Option name → value as text (users as their id).
    pub options: BTreeMap<String, String>,
    /// The option being typed, with what was typed so far.
    pub focused: Option<(String, String)>,
}

impl Invocation {
    /// Flattens an interaction's options.
    pub fn from_options(options: &[CommandDataOption]) -> Invocation {
        let mut invocation = Invocation::default();
        invocation.walk(options);
        invocation
    }

    fn walk(&mut self, options: &[CommandDataOption]) {
        for option in options {
            let name = option.name.clone();
            let value = match &option.value {
                CommandDataOptionValue::SubCommand(inner) | CommandDataOptionValue::SubCommandGroup(inner) => {
                    self.path.push(name);
                    self.walk(inner);
                    continue;
                }
                CommandDataOptionValue::Autocomplete { value, .. } => {
                    self.focused = Some((name.clone(), value.clone()));
                    value.clone()
                }
                CommandDataOptionValue::String(text) => text.clone(),
                CommandDataOptionValue::Integer(number) => number.to_string(),
                CommandDataOptionValue::Boolean(flag) => flag.to_string(),
                CommandDataOptionValue::Number(number) => number.to_string(),
                CommandDataOptionValue::User(user) => user.get().to_string(),
                _ => continue,
            };
            self.options.insert(name, value);
        }
    }

    /// The billing kind of a `buy` invocation.
    pub fn buy_kind(&self) -> Option<BillingKind> {
        match self.path.as_slice() {
            [group, kind] if group == "buy" => BillingKind::parse(kind),
            _ => None,
        }
    }

    /// Whether it is `/cvm fleet …`.
    pub fn is_fleet(&self) -> bool {
        self.path.first().is_some_and(|group| group == "fleet")
    }

    /// The purchase form of a `buy` invocation.
    pub fn form(&self, kind: BillingKind) -> PurchaseForm {
        let mut form = PurchaseForm::new(kind);
        for (name, value) in &self.options {
            form.set(name, value.clone());
        }
        form
    }

    /// The instance ids of a comma-separated option (empty when it is not given).
    pub fn id_list(&self, name: &str) -> Vec<String> {
        self.options
            .get(name)
            .map(|text| {
                text.split([',', ' '])
                    .map(str::trim)
                    .filter(|id| !id.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The purchase a release, renewal or extension is about (the `request` option).
    pub fn purchase(&self) -> Option<crate::domain::RequestId> {
        self.options.get("request").and_then(|id| id.parse().ok())
    }

    /// The request id option.
    pub fn id(&self) -> Option<crate::domain::RequestId> {
        self.options.get("id").and_then(|id| id.parse().ok())
    }
}
