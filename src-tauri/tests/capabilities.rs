//! The window may call exactly the commands the shell declares and registers: nothing more
//! (least privilege), nothing less (a UI call would fail at run time).

use std::collections::BTreeSet;

fn quoted_in(text: &str, start: &str, end: &str) -> BTreeSet<String> {
    let from = text.find(start).expect("start marker") + start.len();
    let to = from + text[from..].find(end).expect("end marker");
    text[from..to]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn capabilities_grant_exactly_the_registered_commands() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let build = std::fs::read_to_string(format!("{dir}/build.rs")).unwrap();
    let declared = quoted_in(&build, "const COMMANDS: &[&str] = &[", "];");

    let lib = std::fs::read_to_string(format!("{dir}/src/lib.rs")).unwrap();
    let from = lib.find("generate_handler![").unwrap();
    let to = from + lib[from..].find(']').unwrap();
    let registered: BTreeSet<String> = lib[from..to]
        .split(',')
        .filter_map(|p| p.trim().rsplit("::").next().map(str::to_owned))
        .filter(|c| !c.is_empty() && !c.starts_with("generate_handler"))
        .collect();
    assert_eq!(
        declared, registered,
        "build.rs and the invoke handler list the same commands"
    );

    let cap: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}/capabilities/main-window.json")).unwrap(),
    )
    .unwrap();
    let granted: BTreeSet<String> = cap["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .filter_map(|p| p.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect();
    assert_eq!(
        granted, declared,
        "the main window is granted exactly the app's commands"
    );
    let others: Vec<&str> = cap["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| !p.starts_with("allow-"))
        .collect();
    assert_eq!(
        others,
        ["core:event:allow-listen", "core:event:allow-unlisten"],
        "and only event listening besides"
    );
}

#[test]
fn the_content_security_policy_is_strict() {
    let conf: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tauri.conf.json")).unwrap(),
    )
    .unwrap();
    let csp = &conf["app"]["security"]["csp"];
    assert_eq!(csp["default-src"], "'self'");
    assert_eq!(csp["script-src"], "'self'", "no inline or remote scripts");
    assert_eq!(csp["object-src"], "'none'");
    assert_eq!(
        csp["connect-src"], "ipc: http://ipc.localhost",
        "only Tauri's IPC"
    );
    for (k, v) in csp.as_object().unwrap() {
        let v = v.as_str().unwrap();
        if k == "connect-src" {
            continue;
        }
        assert!(
            !v.contains("unsafe") && !v.contains("http:") && !v.contains("https:"),
            "{k}: {v}"
        );
    }
    assert_eq!(conf["app"]["withGlobalTauri"], false);
}
