//! Workspaces: profile files synced into the store under their ids, tokens kept across file
//! changes, edits written back in place, bad files reported without disturbing the others.

use std::path::Path;

use tokendesk_core::profile::{AuthMethod, ProfileId};
use tokendesk_core::workspace;
use tokendesk_testkit::*;

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn cc_file(p: &Provider, id: &str, name: &str) -> String {
    format!(
        "# Shared by the team.\nid = \"{id}\"\nname = \"{name}\"\nissuer = \"{}\"\nclient_id = \"cc-post\"\nauth_method = \"client_secret_post\" # the gateway wants it in the body\ngrant = \"client_credentials\"\nscopes = [\"api:read\"]\n\n[secrets.client_secret]\nfrom = \"command\"\nargv = [\"sh\", \"-c\", \"printf 'cc-post-%s' secret\"]\n",
        p.issuer
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workspace_profile_gets_tokens_keeps_them_across_changes_and_is_written_back() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let ws = tempfile::tempdir().unwrap();
    write(
        ws.path(),
        "test/gateway.toml",
        &cc_file(&p, "gw-1", "gateway"),
    );
    write(
        ws.path(),
        "broken.toml",
        "id = \"b-1\"\nname = \"broken\"\nclient_id = \n",
    );

    let status = t.core.open_workspaces(&[ws.path().to_path_buf()]);
    let files = &status[0].files;
    assert_eq!(files.len(), 2);
    let broken = files.iter().find(|f| f.file == "broken.toml").unwrap();
    assert_eq!(broken.problems[0].line, Some(3), "{:?}", broken.problems);
    let id = ProfileId::from("gw-1");
    let profile = t.core.profile("gateway").unwrap();
    assert_eq!(profile.id, id, "keyed by the file's id");
    assert_eq!(
        profile.config.environment, "test",
        "the subfolder is the environment"
    );
    assert_eq!(
        t.core.origin(&id).unwrap().unwrap().file,
        "test/gateway.toml"
    );
    // Everything works as for a local profile: a token from the real provider.
    t.core.fetch_token(&id).await.unwrap();

    // A change on disk (a git pull): the profile follows, its token stays.
    let changed = cc_file(&p, "gw-1", "gateway-renamed");
    write(ws.path(), "test/gateway.toml", &changed);
    let file = t
        .core
        .sync_workspace_file(ws.path(), &ws.path().join("test/gateway.toml"));
    assert!(file.problems.is_empty(), "{:?}", file.problems);
    assert_eq!(
        t.core.profile("gw-1").unwrap().config.name,
        "gateway-renamed"
    );
    assert!(
        t.core.token(&id).unwrap().is_some(),
        "the token is keyed by the id, not the name"
    );

    // An edit in the app writes the file back in place: comments and order kept.
    let mut config = t.core.profile("gw-1").unwrap().config;
    config.scopes = vec!["api:read".into(), "api:write".into()];
    t.core.update_profile(&id, config).await.unwrap();
    let text = std::fs::read_to_string(ws.path().join("test/gateway.toml")).unwrap();
    assert!(
        text.starts_with("# Shared by the team.\nid = \"gw-1\""),
        "{text}"
    );
    assert!(
        text.contains("auth_method = \"client_secret_post\" # the gateway wants it in the body"),
        "{text}"
    );
    assert!(
        text.contains("scopes = [\"api:read\", \"api:write\"]"),
        "{text}"
    );
    assert!(!text.contains("cc-post-secret"), "never a secret value");

    // Deleting it through TokenDesk is refused: the file is the team's.
    let e = t.core.delete_profile(&id).await.unwrap_err();
    assert!(e.message.contains("test/gateway.toml"), "{}", e.message);

    // A file that stops parsing keeps the last good profile; a removed file removes it.
    write(ws.path(), "test/gateway.toml", "id = \"gw-1\"\nname = [");
    let file = t
        .core
        .sync_workspace_file(ws.path(), &ws.path().join("test/gateway.toml"));
    assert!(!file.problems.is_empty());
    assert!(
        t.core.profile("gw-1").is_ok(),
        "a broken file disturbs nothing"
    );
    std::fs::remove_file(ws.path().join("test/gateway.toml")).unwrap();
    t.core.sync_workspace(ws.path(), false);
    assert!(t.core.profile("gw-1").is_err(), "its file is gone");
}

#[tokio::test(flavor = "multi_thread")]
async fn init_writes_local_profiles_as_files_that_open_as_the_same_profiles() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let local = t
        .add(
            cc_config(&p, "cc-post", AuthMethod::ClientSecretPost),
            Some("cc-post-secret"),
        )
        .await;
    t.core.fetch_token(&local.id).await.unwrap();
    let ws = tempfile::tempdir().unwrap();
    let written = t.core.init_workspace(ws.path()).unwrap();
    assert!(ws.path().join("README.md").exists());
    assert_eq!(written.len(), 2, "{written:?}");
    for (path, bytes) in all_bytes(ws.path()) {
        assert!(
            !contains(&bytes, "cc-post-secret"),
            "no secret in {}",
            path.display()
        );
    }
    // Opened, the files adopt the local profiles (same id): the token is still there.
    let status = t.core.open_workspaces(&[ws.path().to_path_buf()]);
    assert!(
        status[0].files.iter().all(|f| f.problems.is_empty()),
        "{status:?}"
    );
    assert!(t.core.origin(&local.id).unwrap().is_some());
    assert!(t.core.token(&local.id).unwrap().is_some());
    // Init again: every profile is in the workspace already, the README there: nothing written.
    assert!(t.core.init_workspace(ws.path()).unwrap().is_empty());
}

#[test]
fn problems_of_one_file_leave_the_others_and_name_what_to_fix() {
    let ws = tempfile::tempdir().unwrap();
    write(
        ws.path(),
        "a.toml",
        "id = \"a\"\nname = \"a\"\nclient_id = \"c\"\ngrant = \"client_credentials\"\nscope = [\"x\"]\n",
    );
    let mut reads: Vec<workspace::Read> = workspace::files(ws.path())
        .unwrap()
        .iter()
        .map(|f| workspace::read(ws.path(), f))
        .collect();
    workspace::refuse_duplicates(&mut reads, &|_, _| false);
    let problems = reads[0].result.as_ref().unwrap_err();
    let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert!(
        text.iter()
            .any(|m| m.starts_with("line 5, column 1: Unknown field `scope`")),
        "{text:?}"
    );
    assert!(
        text.iter().any(|m| m.contains("token endpoint")),
        "the missing endpoint: {text:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_watcher_picks_up_a_changed_added_and_removed_file() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let ws = tempfile::tempdir().unwrap();
    write(ws.path(), "gateway.toml", &cc_file(&p, "gw-1", "gateway"));
    t.core.open_workspaces(&[ws.path().to_path_buf()]);
    let _watch =
        workspace::watch::WorkspaceWatch::start(t.core.clone(), vec![ws.path().to_path_buf()])
            .unwrap();
    let until = |what: &str, ok: &dyn Fn() -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !ok() {
            assert!(
                std::time::Instant::now() < deadline,
                "the watcher saw: {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    write(ws.path(), "gateway.toml", &cc_file(&p, "gw-1", "gateway-2"));
    until("the change", &|| t.core.profile("gateway-2").is_ok());
    write(ws.path(), "prod/new.toml", &cc_file(&p, "new-1", "fresh"));
    until("the new file", &|| {
        t.core
            .profile("fresh")
            .is_ok_and(|p| p.config.environment == "prod")
    });
    std::fs::remove_file(ws.path().join("gateway.toml")).unwrap();
    until("the removal", &|| t.core.profile("gw-1").is_err());
}

#[test]
fn a_folder_added_from_settings_is_saved_once_listed_and_removed() {
    let t = TestCore::new();
    let ws = tempfile::tempdir().unwrap();
    write(
        ws.path(),
        "dev/a.toml",
        "id = \"a-1\"\nname = \"alpha\"\nclient_id = \"c\"\nissuer = \"https://a.example\"\n",
    );
    let dir = ws.path().display().to_string();
    let status = t.core.add_saved_workspace(ws.path()).unwrap();
    assert_eq!(status.files.len(), 1);
    t.core.add_saved_workspace(ws.path()).unwrap();
    assert_eq!(t.core.saved_workspaces().unwrap().len(), 1, "saved once");
    let listed = t.core.workspace_statuses(false);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].files[0].name.as_deref(), Some("alpha"));
    let origins = t.core.origins().unwrap();
    assert_eq!(origins[0].file, "dev/a.toml");
    let e = t
        .core
        .add_saved_workspace(&ws.path().join("missing"))
        .unwrap_err();
    assert_eq!(e.code, tokendesk_core::ErrorCode::NotFound);

    t.core.remove_saved_workspace(&dir).unwrap();
    assert!(t.core.saved_workspaces().unwrap().is_empty());
    assert!(t.core.workspace_statuses(false).is_empty());
    assert!(
        t.core.remove_saved_workspace(&dir).is_err(),
        "not saved any more"
    );
}

/// A profile whose client secret is kept in this machine's keychain (no `[secrets]`).
fn keychain_file(p: &Provider, id: &str, name: &str) -> String {
    format!(
        "id = \"{id}\"\nname = \"{name}\"\nissuer = \"{}\"\nclient_id = \"cc-post\"\nauth_method = \"client_secret_post\"\ngrant = \"client_credentials\"\n",
        p.issuer
    )
}

/// A profile whose file leaves the workspace (a branch switched, a pull) is parked: hidden, the
/// sync names it, but its tokens and keychain-kept client secret stay, and it comes back as it
/// was with its file; pruned, or parked for over 30 days, it leaves nothing in the keychain. A
/// moved file keeps everything, and so does a file that stops parsing, even one moved in the
/// same change.
#[tokio::test(flavor = "multi_thread")]
async fn a_profile_gone_from_the_workspace_is_parked_and_pruned_leaves_nothing_in_the_keychain() {
    use tokendesk_core::secret::{SecretKind, SecretStore, Sensitive};
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let ws = tempfile::tempdir().unwrap();
    write(
        ws.path(),
        "gateway.toml",
        &keychain_file(&p, "gw-k", "gateway"),
    );
    t.core.open_workspaces(&[ws.path().to_path_buf()]);
    let id = ProfileId::from("gw-k");
    t.core
        .set_client_secret(&id, Some(Sensitive::new("cc-post-secret".to_owned())))
        .await
        .unwrap();
    t.core.fetch_token(&id).await.unwrap();
    let entries = || {
        SecretKind::ALL
            .iter()
            .filter(|k| t.keychain.get(&id, **k).unwrap().is_some())
            .count()
    };
    let kept = entries();
    assert!(kept >= 2, "the client secret and the access token: {kept}");
    let keeps_everything = |what: &str| {
        assert!(t.core.token(&id).unwrap().is_some(), "{what}: the token");
        assert_eq!(entries(), kept, "{what}: the keychain entries");
    };

    // Moved into a subfolder (`git mv`): the same id, everything kept.
    std::fs::create_dir(ws.path().join("prod")).unwrap();
    std::fs::rename(
        ws.path().join("gateway.toml"),
        ws.path().join("prod/gateway.toml"),
    )
    .unwrap();
    // The watcher sees the old path go first: that alone removes nothing.
    t.core
        .sync_workspace_file(ws.path(), &ws.path().join("gateway.toml"));
    let s = t.core.sync_workspace(ws.path(), false);
    assert!(s.removed.is_empty(), "{:?}", s.removed);
    assert_eq!(
        t.core.origin(&id).unwrap().unwrap().file,
        "prod/gateway.toml"
    );
    keeps_everything("moved");

    // Moved again and broken in the same pull: the broken file still names the id.
    std::fs::remove_file(ws.path().join("prod/gateway.toml")).unwrap();
    write(
        ws.path(),
        "test/gw.toml",
        "id = \"gw-k\"\nname = \"gateway\"\nissuer = \n",
    );
    let s = t.core.sync_workspace(ws.path(), false);
    assert!(s.removed.is_empty(), "{:?}", s.removed);
    assert!(s.files[0].problems[0].line.is_some(), "{:?}", s.files);
    keeps_everything("moved and broken");
    // Broken in place: its last good profile stays.
    write(
        ws.path(),
        "test/gw.toml",
        &keychain_file(&p, "gw-k", "gateway"),
    );
    t.core.sync_workspace(ws.path(), false);
    assert_eq!(t.core.origin(&id).unwrap().unwrap().file, "test/gw.toml");
    write(ws.path(), "test/gw.toml", "id = \"gw-k\"\nname = [\n");
    let s = t.core.sync_workspace(ws.path(), true);
    assert!(s.removed.is_empty());
    keeps_everything("broken in place");

    // Deleted (a branch without the file checked out): parked. The sync says which profile
    // left; it is in no list and asking for it says where it went, but its token and its
    // keychain-kept client secret stay.
    let good = keychain_file(&p, "gw-k", "gateway");
    write(ws.path(), "test/gw.toml", &good);
    t.core.sync_workspace(ws.path(), false);
    let history = t.core.history(&id, 1000).unwrap().len();
    assert!(history > 0);
    std::fs::remove_file(ws.path().join("test/gw.toml")).unwrap();
    let s = t.core.sync_workspace(ws.path(), false);
    assert_eq!(
        s.removed,
        vec![workspace::RemovedProfile {
            id: "gw-k".into(),
            name: "gateway".into(),
            file: "test/gw.toml".into(),
        }]
    );
    assert_eq!(s.parked.len(), 1, "{:?}", s.parked);
    assert_eq!(s.parked[0].file, "test/gw.toml");
    assert!(t.core.list_profiles().unwrap().iter().all(|p| p.id != id));
    let e = t.core.profile("gateway").unwrap_err();
    assert!(
        e.message.contains("gateway left workspace")
            && e.message.contains("(file test/gw.toml) on ")
            && e.message.contains("tokendesk workspace prune"),
        "{}",
        e.message
    );
    assert_eq!(entries(), kept, "the keychain entries stay while parked");
    // A second sync has nothing more to say, and still keeps it parked.
    let s = t.core.sync_workspace(ws.path(), false);
    assert!(s.removed.is_empty());
    assert_eq!(s.parked.len(), 1);

    // The branch switched back: the profile returns as it was, secret, token and history.
    write(ws.path(), "test/gw.toml", &good);
    let file = t
        .core
        .sync_workspace_file(ws.path(), &ws.path().join("test/gw.toml"));
    assert!(file.problems.is_empty(), "{:?}", file.problems);
    assert_eq!(t.core.profile("gateway").unwrap().id, id);
    keeps_everything("back");
    assert_eq!(t.core.history(&id, 1000).unwrap().len(), history);
    assert!(t.core.sync_workspace(ws.path(), true).parked.is_empty());
    t.core
        .fetch_token(&id)
        .await
        .expect("its keychain-kept secret still works");

    // Gone again, then pruned: every keychain entry and the store's rows go.
    std::fs::remove_file(ws.path().join("test/gw.toml")).unwrap();
    t.core.sync_workspace(ws.path(), false);
    let parked = t.core.parked_profiles(None).unwrap();
    assert_eq!(parked.len(), 1);
    t.core.delete_parked(&id).unwrap();
    assert_eq!(entries(), 0, "no keychain entry left behind");
    assert!(t.core.parked_profiles(None).unwrap().is_empty());
    assert!(t.core.origin(&id).unwrap().is_none(), "the store's rows go");
    let e = t.core.profile("gw-k").unwrap_err();
    assert!(e.message.contains("No profile named"), "{}", e.message);
    // The file back after a prune: a new profile, the secret must be entered again.
    write(ws.path(), "test/gw.toml", &good);
    t.core.sync_workspace(ws.path(), false);
    assert_eq!(t.core.profile("gateway").unwrap().id, id);
    assert_eq!(entries(), 0);
}

/// A profile parked for more than 30 days is deleted by a sync with its keychain entries; one
/// parked for less stays (the time from the core's clock).
#[tokio::test(flavor = "multi_thread")]
async fn a_profile_parked_for_over_30_days_is_purged_by_a_sync() {
    use std::sync::Arc;
    use tokendesk_core::CoreOptions;
    use tokendesk_core::clock::FixedClock;
    use tokendesk_core::events::{CoreEvent, EventSink};
    use tokendesk_core::secret::{SecretKind, SecretStore, Sensitive};
    #[derive(Default)]
    struct Seen(std::sync::Mutex<Vec<CoreEvent>>);
    impl EventSink for Seen {
        fn emit(&self, e: CoreEvent) {
            self.0.lock().unwrap().push(e);
        }
    }
    let seen = Arc::new(Seen::default());
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let ws = tempfile::tempdir().unwrap();
    write(ws.path(), "gw.toml", &keychain_file(&p, "gw-30", "gateway"));
    let id = ProfileId::from("gw-30");
    // The same home, with a clock this test moves.
    let clock = Arc::new(FixedClock::at(t.core.now()));
    let core = t.another_process_with(
        t.keychain.clone(),
        CoreOptions {
            clock: clock.clone(),
            events: seen.clone(),
            ..Default::default()
        },
    );
    core.open_workspaces(&[ws.path().to_path_buf()]);
    core.set_client_secret(&id, Some(Sensitive::new("cc-post-secret".to_owned())))
        .await
        .unwrap();
    let secret = || t.keychain.get(&id, SecretKind::ClientSecret).unwrap();
    std::fs::remove_file(ws.path().join("gw.toml")).unwrap();
    assert_eq!(core.sync_workspace(ws.path(), false).removed.len(), 1);

    clock.advance_ms(29 * 86_400_000);
    assert_eq!(core.sync_workspace(ws.path(), false).parked.len(), 1);
    assert!(secret().is_some(), "29 days: still kept");

    clock.advance_ms(2 * 86_400_000);
    let removed = CoreEvent::TokenRemoved {
        profile_id: id.clone(),
    };
    assert!(!seen.0.lock().unwrap().contains(&removed));
    let s = core.sync_workspace(ws.path(), false);
    assert!(
        seen.0.lock().unwrap().contains(&removed),
        "the app is told its token set is gone"
    );
    assert!(s.parked.is_empty(), "{:?}", s.parked);
    assert!(secret().is_none(), "31 days: purged from the keychain");
    assert!(core.parked_profiles(None).unwrap().is_empty());
    assert!(core.origin(&id).unwrap().is_none());
}
