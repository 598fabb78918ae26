//! The layers of ARCHITECTURE.md, read from the source: every `crate::…` path in a module's code
//! names its own layer or one below, and siblings (the chat and the workers; the domain and the
//! Tencent client) do not use each other.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each top-level module of the library and its layer, lowest first.
const LAYERS: &[(&str, u8)] = &[
    ("clock", 0),
    ("signal", 0),
    ("crashpoint", 0),
    ("money", 0),
    ("secret", 0),
    ("random", 0),
    ("systemd", 0),
    ("domain", 1),
    ("tencent", 1),
    ("sim", 1),
    ("store", 2),
    ("ops", 2),
    ("desk", 3),
    ("chat", 4),
    ("workers", 4),
    ("config", 5),
    ("app", 6),
    ("demo", 7),
    ("gallery", 7),
    ("cli", 8),
];

fn layer(module: &str) -> u8 {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, layer)| *layer)
        .unwrap_or_else(|| panic!("`{module}` is not in the layer table of tests/it/layers.rs"))
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The top-level modules a file's code names as `crate::x` (comments left out).
fn used_modules(source: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                used.insert(name);
            }
            rest = after;
        }
    }
    used
}

#[test]
fn every_module_uses_only_its_own_layer_and_the_ones_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let own = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|c| c.trim_end_matches(".rs").to_owned())
            .expect("a module");
        if own == "lib" || own == "main" {
            continue;
        }
        let source = std::fs::read_to_string(&file).expect("a source file");
        for used in used_modules(&source) {
            if used == own {
                continue;
            }
            let (mine, theirs) = (layer(&own), layer(&used));
            if theirs > mine {
                wrong.push(format!("{}: uses crate::{used}, a higher layer", relative.display()));
            } else if theirs == mine {
                wrong.push(format!("{}: uses crate::{used}, a sibling", relative.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers:\n{}", wrong.join("\n"));
}

#[test]
fn the_layer_reader_sees_paths_in_code_and_not_in_comments() {
    let source = "use crate::desk::Desk;\n// crate::chat is mentioned here only\nlet x = crate::store::to_ms(now);";
    let used: Vec<String> = used_modules(source).into_iter().collect();
    assert_eq!(used, ["desk", "store"]);
}
