//! The raw form of a purchase: option names and the text typed for each, before parsing.

use super::spec::{BillingKind, ParseContext};
use std::collections::BTreeMap;
use std::fmt;

/// Options of `/cvm buy` a request may carry, in the order they are documented, and whether a
/// preset may fill each in (the billing terms, the reason, keep-trying and the preset itself are
/// the request's own).
const OPTIONS: &[(&str, bool)] = &[
    ("zone", true),
    ("type", true),
    ("image", true),
    ("max-price", false),
    ("months", false),
    ("renew", false),
    ("count", true),
    ("disk-type", true),
    ("disk-size", true),
    ("data-disks", true),
    ("bandwidth", true),
    ("bandwidth-charge", true),
    ("vpc", true),
    ("subnet", true),
    ("security-groups", true),
    ("key-ids", true),
    ("name", true),
    ("tags", true),
    ("reason", false),
    ("keep-trying", false),
    ("ttl", false),
    ("preset", false),
];

/// Every option of `/cvm buy`.
pub fn options() -> impl Iterator<Item = &'static str> {
    OPTIONS.iter().map(|(name, _)| *name)
}

/// The options a preset may fill in.
pub fn preset_options() -> impl Iterator<Item = &'static str> {
    OPTIONS.iter().filter(|(_, preset)| *preset).map(|(name, _)| *name)
}

/// A purchase as typed: the billing kind (the subcommand) and option name → text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurchaseForm {
    kind: BillingKind,
    options: BTreeMap<String, String>,
}

impl PurchaseForm {
    /// An empty form for `kind`.
    pub fn new(kind: BillingKind) -> Self {
        PurchaseForm {
            kind,
            options: BTreeMap::new(),
        }
    }

    /// Adds an option (builder style). Blank values count as absent.
    pub fn with(mut self, option: &str, value: impl Into<String>) -> Self {
        self.set(option, value);
        self
    }

    /// Sets an option. Blank values count as absent.
    pub fn set(&mut self, option: &str, value: impl Into<String>) {
        let value = value.into();
        if !value.trim().is_empty() {
            self.options
                .insert(option.trim().to_ascii_lowercase().replace('_', "-"), value);
        }
    }

    /// The billing kind.
    pub fn kind(&self) -> BillingKind {
        self.kind
    }

    /// The text of `option`, if given.
    pub fn get(&self, option: &str) -> Option<&str> {
        self.options.get(option).map(String::as_str)
    }

    /// The preset named, if any.
    pub fn preset(&self) -> Option<&str> {
        self.get("preset")
    }

    /// Every option given.
    pub fn options(&self) -> &BTreeMap<String, String> {
        &self.options
    }

    /// This form with its preset's values filled in where the form has none; unknown options and
    /// unknown presets become errors.
    pub(super) fn with_preset(&self, context: &ParseContext, errors: &mut Vec<FieldError>) -> PurchaseForm {
        let mut filled = self.clone();
        for option in self
            .options
            .keys()
            .filter(|o| !options().any(|known| known == o.as_str()))
        {
            errors.push(FieldError {
                field: option.clone(),
                problem: format!(
                    "is not an option of /cvm buy; options are {}",
                    options().collect::<Vec<_>>().join(", ")
                ),
            });
        }
        if let Some(name) = self.preset() {
            match context.presets.get(name.trim()) {
                Some(values) => {
                    for (option, value) in values {
                        filled.options.entry(option.clone()).or_insert_with(|| value.clone());
                    }
                }
                None => {
                    let known: Vec<&str> = context.presets.keys().map(String::as_str).collect();
                    let known = if known.is_empty() {
                        "none are configured".to_owned()
                    } else {
                        known.join(", ")
                    };
                    errors.push(FieldError {
                        field: "preset".into(),
                        problem: format!("`{name}` is not a preset; presets: {known}"),
                    });
                }
            }
        }
        filled
    }
}

/// One invalid option: which, and what is wrong with it (including what is allowed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The option name as the user typed it (`max-price`).
    pub field: String,
    /// What is wrong, in plain words, with the allowed values.
    pub problem: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.field, self.problem)
    }
}

/// Everything wrong with a form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<FieldError>);

impl SpecErrors {
    /// The problem with `field`, if there is one.
    pub fn for_field(&self, field: &str) -> Option<&FieldError> {
        self.0.iter().find(|e| e.field == field)
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}
