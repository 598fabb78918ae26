//! Fleets: a budget approved once, and cvmbot keeps that many spot servers running. A fleet is
//! the template of one spot server (the spot buy's options, count 1), how many to keep, and the
//! other instance types and zones it may use, in order, when the first has no stock or a market
//! above the bid. Every slot of a fleet is refilled with a ClientToken derived from the fleet,
//! the slot and the slot's generation, so no retry or restart buys a slot twice.

use super::form::{FieldError, PurchaseForm, SpecErrors};
use super::ids::{RequestId, UserId};
use super::names::{InstanceType, Zone};
use super::spec::{BillingKind, ParseContext, PurchaseSpec};
use super::{TtlPolicy, TtlRule};
use crate::money::Yuan;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Where a fleet's servers may run: an instance type in a zone.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Placement {
    /// The zone.
    pub zone: Zone,
    /// The instance type.
    pub instance_type: InstanceType,
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}", self.instance_type, self.zone)
    }
}

/// A fleet's name: 1–32 lower-case letters, digits and dashes, starting with a letter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FleetName(String);

impl FleetName {
    /// Parses a fleet name, naming what is allowed when it is not one.
    pub fn parse(text: &str) -> Result<FleetName, String> {
        let name = text.trim().to_ascii_lowercase();
        let valid = (1..=32).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid {
            Ok(FleetName(name))
        } else {
            Err(format!(
                "`{text}` is not a fleet name; use 1–32 lower-case letters, digits and dashes, starting with a letter \
                 (e.g. ci-runners)"
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FleetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A fleet to create: keep `count` servers like `template` running.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetSpec {
    /// Its name, unique among running fleets.
    pub name: FleetName,
    /// How many servers to keep running.
    pub count: u32,
    /// One server as the spot buy describes it (count 1; its zone and type are the first choice;
    /// its time to live is the fleet's).
    pub template: PurchaseSpec,
    /// Other placements to use, in order, when the ones before have no stock or a market above
    /// the bid. All in the template's region.
    pub fallbacks: Vec<Placement>,
}

impl FleetSpec {
    /// Parses a fleet from the spot buy's form plus its own options (`name`, `count` at most
    /// `max_count`, `fallbacks` as `TYPE@ZONE, TYPE, …`). A fleet's time to live is its own
    /// (`ttl`, none by default): `fleet_ttl` says what is allowed. Every problem at once.
    pub fn parse(
        form: &PurchaseForm,
        context: &ParseContext,
        max_count: u32,
        fleet_ttl: TtlRule,
    ) -> Result<FleetSpec, SpecErrors> {
        let mut errors = Vec::new();
        if form.kind() != BillingKind::Spot {
            errors.push(FieldError {
                field: "billing".into(),
                problem: "a fleet keeps spot servers; its options are the spot buy's".into(),
            });
        }
        let name = match form.get("name").map(FleetName::parse) {
            Some(Ok(name)) => Some(name),
            Some(Err(problem)) => {
                errors.push(FieldError {
                    field: "name".into(),
                    problem,
                });
                None
            }
            None => {
                errors.push(FieldError {
                    field: "name".into(),
                    problem: "a fleet needs a name, such as ci-runners".into(),
                });
                None
            }
        };
        let count = match form.get("count").map(|t| t.trim().parse::<u32>()) {
            Some(Ok(n)) if (1..=max_count).contains(&n) => Some(n),
            Some(_) | None => {
                errors.push(FieldError {
                    field: "count".into(),
                    problem: format!("how many servers to keep running: a whole number from 1 to {max_count}"),
                });
                None
            }
        };
        // One server of the fleet: count 1, the fleet's own time to live.
        let mut template_form = PurchaseForm::new(BillingKind::Spot);
        for (option, value) in form
            .options()
            .iter()
            .filter(|(option, _)| option.as_str() != "fallbacks")
        {
            template_form.set(option, value.clone());
        }
        template_form.set("count", "1");
        let mut template_context = context.clone();
        template_context.ttl = TtlPolicy {
            spot: fleet_ttl,
            ..context.ttl.clone()
        };
        let template = match PurchaseSpec::parse(&template_form, &template_context) {
            Ok(template) => Some(template),
            Err(SpecErrors(more)) => {
                errors.extend(more);
                None
            }
        };
        let fallbacks = match (form.get("fallbacks"), &template) {
            (Some(text), Some(template)) => match parse_fallbacks(text, template) {
                Ok(fallbacks) => Some(fallbacks),
                Err(problem) => {
                    errors.push(FieldError {
                        field: "fallbacks".into(),
                        problem,
                    });
                    None
                }
            },
            (None, _) => Some(Vec::new()),
            (Some(_), None) => None,
        };
        match (name, count, template, fallbacks) {
            (Some(name), Some(count), Some(template), Some(fallbacks)) if errors.is_empty() => Ok(FleetSpec {
                name,
                count,
                template,
                fallbacks,
            }),
            _ => Err(SpecErrors(errors)),
        }
    }

    /// Every placement, first choice first.
    pub fn placements(&self) -> Vec<Placement> {
        let mut all = vec![Placement {
            zone: self.template.zone().clone(),
            instance_type: self.template.instance_type().clone(),
        }];
        all.extend(self.fallbacks.iter().cloned());
        all
    }

    /// One server at placement `index` (0: the first choice; past the end: the last).
    pub fn server_at(&self, index: usize) -> PurchaseSpec {
        let placements = self.placements();
        let placement = &placements[index.min(placements.len() - 1)];
        self.template
            .placed(placement.zone.clone(), placement.instance_type.clone())
    }

    /// The bid per server per hour: never exceeded, whatever the placement.
    pub fn max_price(&self) -> Yuan {
        match self.template.billing() {
            super::BillingMode::Spot { max_price } => *max_price,
            _ => Yuan::ZERO,
        }
    }
}

/// `TYPE@ZONE, TYPE, …`: a type alone stays in the first choice's zone; every zone is in the
/// template's region; no placement twice.
fn parse_fallbacks(text: &str, template: &PurchaseSpec) -> Result<Vec<Placement>, String> {
    let mut placements: Vec<Placement> = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (kind, zone) = match item.split_once('@') {
            Some((kind, zone)) => (kind, Zone::parse(zone)?),
            None => (item, template.zone().clone()),
        };
        let instance_type = InstanceType::parse(kind)?;
        if zone.region() != template.region() {
            return Err(format!(
                "`{item}`: every fallback zone must be in {}, the fleet's region",
                template.region()
            ));
        }
        let placement = Placement { zone, instance_type };
        let first = placement.zone == *template.zone() && placement.instance_type == *template.instance_type();
        if first || placements.contains(&placement) {
            return Err(format!("`{item}` is listed twice"));
        }
        placements.push(placement);
    }
    if placements.len() > 5 {
        return Err("at most 5 fallbacks, as TYPE@ZONE or TYPE separated by commas".into());
    }
    Ok(placements)
}

/// A change to a running fleet: how many it keeps, or its end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetChangeSpec {
    /// The fleet's request.
    pub fleet: RequestId,
    /// Its name.
    pub name: FleetName,
    /// Who filed it.
    pub owner: UserId,
    /// Its region.
    pub region: String,
    /// How many it keeps now.
    pub from: u32,
    /// How many it is to keep (0 with `end`).
    pub to: u32,
    /// The most servers its budget was approved for so far.
    pub approved: u32,
    /// The bid per server per hour.
    pub max_price: Yuan,
    /// Release every server and end the fleet.
    pub end: bool,
    /// Why, as the requester wrote it.
    pub reason: String,
}

impl FleetChangeSpec {
    /// Servers beyond what the budget was approved for (what this change asks to approve).
    pub fn beyond_approved(&self) -> u32 {
        self.to.saturating_sub(self.approved)
    }

    /// Servers it releases.
    pub fn releases(&self) -> u32 {
        self.from.saturating_sub(self.to)
    }
}

/// The ClientToken of generation `generation` of slot `slot` of fleet `fleet`: the same for every
/// resend of that launch, another for the next one (at most 64 ASCII characters).
pub fn slot_token(installation_id: &str, fleet: RequestId, slot: u32, generation: u32) -> String {
    let digest = Sha256::digest(format!("{installation_id}/fleet/{fleet}/{slot}/{generation}").as_bytes());
    format!("cvmbot-f{fleet}-{slot}-{generation}-{}", &hex::encode(digest)[..12])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PurchaseForm;

    fn form() -> PurchaseForm {
        PurchaseForm::new(BillingKind::Spot)
            .with("zone", "ap-guangzhou-3")
            .with("type", "S5.MEDIUM4")
            .with("image", "img-pi0ii46r")
            .with("max-price", "0.5")
            .with("name", "ci-runners")
            .with("count", "10")
    }

    fn none() -> TtlRule {
        TtlRule {
            default: None,
            max: None,
            allow_none: true,
        }
    }

    #[test]
    fn a_fleet_is_one_spot_server_kept_count_times() {
        let fleet = FleetSpec::parse(
            &form().with("fallbacks", "SA2.MEDIUM4@ap-guangzhou-4, S5.MEDIUM8"),
            &ParseContext::default(),
            1000,
            none(),
        )
        .expect("a fleet");
        assert_eq!(fleet.count, 10);
        assert_eq!(fleet.template.count(), 1);
        assert_eq!(fleet.placements().len(), 3);
        assert_eq!(fleet.server_at(1).zone().as_str(), "ap-guangzhou-4");
        assert_eq!(fleet.server_at(2).instance_type().as_str(), "S5.MEDIUM8");
        assert_eq!(fleet.server_at(2).zone().as_str(), "ap-guangzhou-3");
        assert_eq!(fleet.max_price().to_string(), "0.50 CNY");
    }

    #[test]
    fn every_bad_fleet_option_is_named_at_once() {
        let errors = FleetSpec::parse(
            &form()
                .with("name", "CI runners!")
                .with("count", "0")
                .with("fallbacks", "S5.MEDIUM4@ap-shanghai-2"),
            &ParseContext::default(),
            1000,
            none(),
        )
        .expect_err("refused");
        assert!(errors.for_field("name").is_some());
        assert!(errors.for_field("count").expect("count").problem.contains("1 to 1000"));
        let errors = FleetSpec::parse(
            &form().with("fallbacks", "S5.MEDIUM4@ap-shanghai-2"),
            &ParseContext::default(),
            1000,
            none(),
        )
        .expect_err("refused");
        assert!(
            errors
                .for_field("fallbacks")
                .expect("fallbacks")
                .problem
                .contains("ap-guangzhou")
        );
    }

    #[test]
    fn slot_tokens_differ_by_slot_and_generation_and_fit_tencent() {
        let a = slot_token("install", RequestId::new(7), 3, 0);
        assert_eq!(a, slot_token("install", RequestId::new(7), 3, 0));
        assert_ne!(a, slot_token("install", RequestId::new(7), 3, 1));
        assert_ne!(a, slot_token("install", RequestId::new(7), 4, 0));
        assert!(slot_token("install", RequestId::new(i64::MAX), u32::MAX, u32::MAX).len() <= 64);
    }
}
