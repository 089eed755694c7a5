//! The API reference (`docs/api.md`) names every route the server serves,
//! with its methods, and names no route the server does not serve. Routes
//! are read from the router's source (`.route("PATH", get(…).post(…))`
//! under `server/src`), so a route added without its documentation, or
//! documentation left behind by a removed route, fails here.

use std::collections::BTreeSet;
use std::path::Path;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

/// `/api/v1/blobs/{hash}` and `/api/v1/blobs/{sha256}` are one route.
fn normal(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(std::fs::read_to_string(&p).unwrap());
        }
    }
}

/// (method, normalised path) of every `.route(…)` call in the sources.
fn served() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let mut routes = BTreeSet::new();
    for src in files {
        let mut rest = src.as_str();
        // `.route(` then the path, on the same line or (rustfmt's way with a long one) the next.
        while let Some(i) = rest.find(".route(") {
            rest = rest[i + ".route(".len()..].trim_start();
            let Some(r) = rest.strip_prefix('"') else { continue };
            rest = r;
            let end = rest.find('"').unwrap();
            let path = normal(&rest[..end]);
            // The handlers: up to the parenthesis that closes `.route(`.
            let mut depth = 1;
            let mut close = 0;
            for (j, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            close = j;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let handlers = &rest[end..close];
            let mut found = false;
            for m in METHODS {
                let lower = m.to_lowercase();
                let called = handlers.match_indices(&format!("{lower}(")).any(|(k, _)| {
                    k == 0 || !handlers[..k].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if called {
                    routes.insert((m.to_string(), path.clone()));
                    found = true;
                }
            }
            assert!(found, "no method found for route {path}");
        }
    }
    routes
}

/// (method, normalised path) of every "`METHOD /path…`" in the reference;
/// `GET/POST /x` names both.
fn documented() -> BTreeSet<(String, String)> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api.md")).unwrap();
    let mut routes = BTreeSet::new();
    for (i, _) in doc.match_indices('`') {
        let after = &doc[i + 1..];
        let Some(space) = after.find(' ') else { continue };
        let methods: Vec<&str> = after[..space].split('/').collect();
        if methods.is_empty() || !methods.iter().all(|m| METHODS.contains(m)) {
            continue;
        }
        let path: String = after[space + 1..]
            .chars()
            .take_while(|c| !matches!(c, '`' | ' ' | '?' | '[' | '\n'))
            .collect();
        if !path.starts_with('/') {
            continue;
        }
        for m in methods {
            routes.insert((m.to_string(), normal(&path)));
        }
    }
    routes
}

#[test]
fn every_route_is_in_the_reference_and_the_reference_names_only_routes() {
    let served = served();
    let documented = documented();
    assert!(served.len() > 25, "the source scan found only {served:?}");
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "served but not in docs/api.md: {undocumented:?}\nin docs/api.md but not served: {unserved:?}"
    );
}
