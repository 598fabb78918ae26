//! Embeds the migrations: every `migrations/<backend>/NNNN_description.sql` becomes an entry of
//! that backend's list, so a new migration is a new file and nothing else. Both backends must
//! have the same versions, since the code above the store expects one schema.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo::rerun-if-changed=migrations");
    let mut out = String::new();
    let mut versions = Vec::new();
    for (backend, constant) in [("sqlite", "SQLITE_MIGRATIONS"), ("postgres", "POSTGRES_MIGRATIONS")] {
        let folder = Path::new("migrations").join(backend);
        println!("cargo::rerun-if-changed={}", folder.display());
        let migrations = read(&folder);
        versions.push((backend, migrations.keys().copied().collect::<Vec<_>>()));
        writeln!(out, "const {constant}: &[(i64, &str, &str)] = &[").unwrap();
        for (version, (description, path)) in &migrations {
            let path = std::fs::canonicalize(path).expect("a migration's path");
            writeln!(
                out,
                "    ({version}, {description:?}, include_str!({:?})),",
                path.display()
            )
            .unwrap();
        }
        writeln!(out, "];").unwrap();
    }
    if versions[0].1 != versions[1].1 {
        panic!("migrations differ between backends: {versions:?}");
    }
    let target = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    std::fs::write(target, out).expect("writing the migration list");
}

/// The folder's migrations by version: (description, path).
fn read(folder: &Path) -> BTreeMap<i64, (String, std::path::PathBuf)> {
    let mut migrations = BTreeMap::new();
    for entry in std::fs::read_dir(folder).expect("the migrations folder") {
        let path = entry.expect("a migration file").path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".sql") else {
            continue;
        };
        let (number, description) = stem
            .split_once('_')
            .unwrap_or_else(|| panic!("{name}: migrations are named NNNN_description.sql"));
        let version: i64 = number
            .parse()
            .unwrap_or_else(|_| panic!("{name}: migrations are named NNNN_description.sql"));
        let description = description.replace('_', " ");
        if migrations.insert(version, (description, path.clone())).is_some() {
            panic!("{}: two migrations numbered {version}", folder.display());
        }
    }
    migrations
}
