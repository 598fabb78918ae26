//! `UnknownParameter`: a request member the action's spec does not name (a misspelt `Datadisks`,
//! a `Placement.Zonee`) is refused, as CVM refuses it, instead of being ignored. The members come
//! from the table generated from the tccli spec (`spec_members.rs`).

use super::super::spec_members::{ACTIONS, OBJECTS};
use super::{ApiFailure, fail};
use serde_json::Value;

/// The members of request object `object`: (name, the object it holds or "").
fn members(object: &str) -> Option<&'static [(&'static str, &'static str)]> {
    OBJECTS
        .binary_search_by(|(name, _)| name.cmp(&object))
        .ok()
        .map(|i| OBJECTS[i].1)
}

/// The spec's input object of `action`.
fn input_of(action: &str) -> Option<&'static str> {
    ACTIONS
        .binary_search_by(|(name, _)| name.cmp(&action))
        .ok()
        .map(|i| ACTIONS[i].1)
}

/// Refuses the first member of `body` that `action`'s input does not have, naming its path the
/// way the form flattens it (`DataDisks.0.DiskSise`).
pub fn check(action: &str, body: &Value) -> Result<(), ApiFailure> {
    let Some(input) = input_of(action) else {
        return Ok(());
    };
    match unknown_in(input, body, "") {
        Some(path) => Err(fail(
            "UnknownParameter",
            format!("The parameter `{path}` is not recognized."),
        )),
        None => Ok(()),
    }
}

fn unknown_in(object: &str, value: &Value, prefix: &str) -> Option<String> {
    let Value::Object(map) = value else {
        return None;
    };
    let known = members(object)?;
    for (key, inner) in map {
        let path = format!("{prefix}{key}");
        let Some((_, nested)) = known.iter().find(|(name, _)| name == key) else {
            return Some(path);
        };
        if nested.is_empty() {
            continue;
        }
        let found = match inner {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| unknown_in(nested, item, &format!("{path}.{i}."))),
            other => unknown_in(nested, other, &format!("{path}.")),
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    /// The actions the simulator serves, by service: what the table is generated for.
    const SERVED: &[(&str, &[&str])] = &[
        (
            "cvm/v20170312",
            &[
                "DescribeImages",
                "DescribeInstances",
                "DescribeInstancesStatus",
                "DescribeZoneInstanceConfigInfos",
                "DescribeZones",
                "InquiryPriceRenewInstances",
                "InquiryPriceRunInstances",
                "InquiryPriceTerminateInstances",
                "ModifyInstancesRenewFlag",
                "RenewInstances",
                "RunInstances",
                "TerminateInstances",
            ],
        ),
        (
            "billing/v20180709",
            &[
                "DescribeAccountBalance",
                "DescribeBillDetail",
                "DescribeBillResourceSummary",
                "DescribeCostSummaryByResource",
            ],
        ),
    ];

    /// The tccli specs: `TCCLI_SPECS`, else `shared/reference/tccli-specs` beside the workspace.
    fn specs_dir() -> PathBuf {
        std::env::var_os("TCCLI_SPECS").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/tccli-specs"),
            PathBuf::from,
        )
    }

    /// Renders the table from the spec files, as `spec_members.rs` holds it.
    fn derive(dir: &std::path::Path) -> String {
        let mut actions = BTreeMap::new();
        let mut objects: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for (service, served) in SERVED {
            let path = dir.join(service).join("api.json");
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let api: Value = serde_json::from_str(&text).expect("the spec is JSON");
            let mut queue: Vec<String> = Vec::new();
            for action in *served {
                let input = api["actions"][action]["input"].as_str().expect("an input object");
                actions.insert((*action).to_owned(), input.to_owned());
                queue.push(input.to_owned());
            }
            while let Some(name) = queue.pop() {
                let object = &api["objects"][&name];
                let members: Vec<(String, String)> = object["members"]
                    .as_array()
                    .expect("members")
                    .iter()
                    .map(|m| {
                        let inner = m["member"].as_str().unwrap_or_default();
                        let holds = api["objects"].get(inner).is_some()
                            && matches!(m["type"].as_str(), Some("object" | "list"));
                        let nested = if holds { inner.to_owned() } else { String::new() };
                        (m["name"].as_str().expect("a name").to_owned(), nested)
                    })
                    .collect();
                for (_, nested) in &members {
                    if !nested.is_empty() && !objects.contains_key(nested) && !queue.contains(nested) && *nested != name
                    {
                        queue.push(nested.clone());
                    }
                }
                if let Some(seen) = objects.get(&name) {
                    assert_eq!(seen, &members, "{name} differs between services");
                }
                objects.insert(name, members);
            }
        }
        let mut out = String::from(
            "//! Generated from the tccli 3.1.189.1 API spec (cvm 2017-03-12, billing 2018-07-09) by the test\n\
             //! `actions::unknown::tests::the_member_table_is_the_one_the_spec_gives`; to regenerate, run it\n\
             //! with `SPEC_MEMBERS_WRITE=1`. Do not edit by hand.\n\n\
             /// Each served action and its input object, sorted.\n\
             pub const ACTIONS: &[(&str, &str)] = &[\n",
        );
        for (action, input) in &actions {
            out.push_str(&format!("    (\"{action}\", \"{input}\"),\n"));
        }
        out.push_str(
            "];\n\n/// Each request object, sorted, with its members and the object each holds (\"\" for a scalar).\n\
             pub const OBJECTS: &[(&str, &[(&str, &str)])] = &[\n",
        );
        for (name, members) in &objects {
            let list: Vec<String> = members.iter().map(|(m, n)| format!("(\"{m}\", \"{n}\")")).collect();
            out.push_str(&format!("    (\"{name}\", &[{}]),\n", list.join(", ")));
        }
        out.push_str("];\n");
        out
    }

    #[test]
    fn the_member_table_is_the_one_the_spec_gives() {
        let dir = specs_dir();
        if !dir.exists() {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "the tccli specs are needed in CI: {} (or TCCLI_SPECS)",
                dir.display()
            );
            eprintln!("SKIPPED: no tccli specs at {}", dir.display());
            return;
        }
        let derived = derive(&dir);
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/spec_members.rs");
        if std::env::var_os("SPEC_MEMBERS_WRITE").is_some() {
            std::fs::write(&file, &derived).expect("written");
        }
        let checked_in = std::fs::read_to_string(&file).expect("the table");
        assert!(
            checked_in == derived,
            "spec_members.rs is stale: run this test with SPEC_MEMBERS_WRITE=1"
        );
    }

    #[test]
    fn a_member_the_spec_does_not_name_is_refused_with_its_path() {
        let refused = |action: &str, body: Value| check(action, &body).expect_err("refused").message;
        assert!(refused("RunInstances", json!({"Datadisks": []})).contains("`Datadisks`"));
        assert!(refused("RunInstances", json!({"Placement": {"Zonee": "x"}})).contains("`Placement.Zonee`"));
        assert!(
            refused(
                "RunInstances",
                json!({"DataDisks": [{"DiskSize": 50}, {"DiskSise": 50}]})
            )
            .contains("`DataDisks.1.DiskSise`")
        );
        assert!(refused("DescribeZones", json!({"Limit": 1})).contains("`Limit`"));
        let accepted = json!({
            "Placement": {"Zone": "ap-guangzhou-3"},
            "DataDisks": [{"DiskSize": 50, "DiskType": "CLOUD_PREMIUM"}],
            "InstanceChargePrepaid": {"Period": 1},
            "TagSpecification": [{"ResourceType": "instance", "Tags": [{"Key": "a", "Value": "b"}]}],
        });
        assert!(check("RunInstances", &accepted).is_ok());
        assert!(
            check(
                "DescribeInstances",
                &json!({"Filters": [{"Name": "zone", "Values": ["x"]}]})
            )
            .is_ok()
        );
        assert!(check("DescribeAccountBalance", &json!({"TempCredit": true})).is_ok());
    }
}
