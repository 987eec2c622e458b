//! Bruno collections: a folder with `bruno.json`, `collection.bru` (collection-level auth and
//! variables), sub-folders with `folder.bru`, one `.bru` file per request and `environments/*.bru`.
//! `auth:oauth2 { grant_type: … }` blocks at the collection, a folder or a request; a request
//! whose method block says `auth: inherit` (or nothing) takes its folder's. `{{var}}` comes from
//! the request's, the folder's, the environment's and the collection's variables, in that order.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Auth, Block, Format, ImportPlan, Input, Node, NodeKind, Planner, Style, Vars};
use crate::error::{Error, ErrorCode, Result};

/// One `.bru` file: its blocks by name (`meta`, `get`, `auth:oauth2`, `vars:pre-request`…).
#[derive(Debug, Default)]
pub(crate) struct Bru {
    dicts: Vec<(String, Vec<(String, String)>)>,
    lists: Vec<(String, Vec<String>)>,
}

impl Bru {
    /// Reads the Bru language: `name {` … `}` dictionaries of `key: value` lines (`~key` is
    /// switched off) and `name [` … `]` lists. Text blocks (bodies, scripts, docs) are read as
    /// dictionaries too and never looked at.
    pub fn parse(text: &str) -> Self {
        let mut bru = Bru::default();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.starts_with(char::is_whitespace) {
                continue;
            }
            let line = line.trim_end();
            if let Some(name) = line.strip_suffix(" {") {
                let mut pairs = Vec::new();
                for inner in lines.by_ref() {
                    if inner.trim_end() == "}" && !inner.starts_with(char::is_whitespace) {
                        break;
                    }
                    let inner = inner.trim();
                    if inner.starts_with('~') {
                        continue;
                    }
                    if let Some((k, v)) = inner.split_once(':') {
                        pairs.push((k.trim().to_owned(), v.trim().to_owned()));
                    }
                }
                bru.dicts.push((name.trim().to_owned(), pairs));
            } else if let Some(name) = line.strip_suffix(" [") {
                let mut items = Vec::new();
                for inner in lines.by_ref() {
                    if inner.trim_end() == "]" && !inner.starts_with(char::is_whitespace) {
                        break;
                    }
                    let inner = inner.trim().trim_end_matches(',');
                    if !inner.is_empty() && !inner.starts_with('~') {
                        items.push(inner.to_owned());
                    }
                }
                bru.lists.push((name.trim().to_owned(), items));
            }
        }
        bru
    }

    pub fn dict(&self, name: &str) -> Option<&[(String, String)]> {
        self.dicts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.as_slice())
    }

    fn get(&self, block: &str, key: &str) -> Option<String> {
        self.dict(block)?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    fn list(&self, name: &str) -> &[String] {
        self.lists
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[], |(_, l)| l.as_slice())
    }

    /// The auth mode: `auth { mode: … }` (collection, folder) or `auth:` in the method block
    /// (a request).
    fn auth(&self) -> Auth {
        let mode = self
            .get("auth", "mode")
            .or_else(|| METHODS.iter().find_map(|m| self.get(m, "auth")));
        match mode.as_deref() {
            None | Some("inherit") => Auth::Inherit,
            Some("none") => Auth::None,
            Some("oauth2") => match self.dict("auth:oauth2") {
                Some(pairs) => Auth::OAuth2(Box::new(block(pairs))),
                None => Auth::None,
            },
            Some(_) => Auth::Other,
        }
    }

    fn vars(&self) -> Vec<(String, String)> {
        self.dict("vars:pre-request")
            .or_else(|| self.dict("vars"))
            .map(<[_]>::to_vec)
            .unwrap_or_default()
    }
}

const METHODS: &[&str] = &[
    "get", "post", "put", "delete", "patch", "options", "head", "connect", "trace", "http",
    "graphql",
];

fn block(pairs: &[(String, String)]) -> Block {
    let mut b = Block {
        grant: "authorization_code".into(),
        secret_field: "client_secret",
        ..Block::default()
    };
    for (key, value) in pairs {
        let v = Some(value.clone()).filter(|v| !v.is_empty());
        match key.as_str() {
            "grant_type" => b.grant = value.clone(),
            "authorization_url" => b.auth_url = v,
            "access_token_url" => b.token_url = v,
            "refresh_token_url" => b.refresh_url = v,
            "callback_url" => b.redirect_uri = v,
            "client_id" => b.client_id = v,
            "client_secret" => b.client_secret = v,
            "scope" => b.scope = v,
            "state" => b.state = v,
            "audience" => b.audience = v,
            "resource" => b.resource = v,
            "credentials_placement" => b.secret_in_body = Some(value == "body"),
            "username" | "password" if v.is_some() => b.ignored.push(format!(
                "{key} is not imported: TokenDesk asks for no user password."
            )),
            // How Bruno uses or keeps the token: nothing for a profile.
            "pkce"
            | "credentials_id"
            | "token_placement"
            | "token_header_prefix"
            | "token_query_key"
            | "auto_fetch_token"
            | "auto_refresh_token"
            | "username"
            | "password" => {}
            other => b
                .ignored
                .push(format!("the setting {other} is not imported.")),
        }
    }
    b
}

/// A collection folder (or one `.bru` file).
pub fn plan(path: &Path, input: &Input) -> Result<ImportPlan> {
    let mut planner = Planner::new(Format::Bruno, Style::Mustache, input);
    if path.is_file() {
        let text = super::read_file(path)?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut root = Node::new("Bruno", NodeKind::Collection);
        root.children.push(request(&Bru::parse(&text), name));
        if let Some(env) = &input.environment {
            root.vars = environment(path.parent().unwrap_or(Path::new(".")), env, &mut planner)?;
        }
        planner.walk(&root, &Vars::new());
        return Ok(planner.finish());
    }
    let manifest = path.join("bruno.json");
    let name = if manifest.is_file() {
        let doc: Value = serde_json::from_str(&super::read_file(&manifest)?).map_err(|e| {
            Error::new(
                ErrorCode::InvalidInput,
                format!("{} is not JSON ({e}).", manifest.display()),
            )
        })?;
        doc.get("name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_default()
    } else {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            "not a Bruno collection: the folder has no bruno.json. Name the collection's folder \
             (the one with bruno.json), or a .bru file.",
        ));
    };
    let mut root = Node::new(
        if name.is_empty() {
            dir_name(path)
        } else {
            name
        },
        NodeKind::Collection,
    );
    let collection = path.join("collection.bru");
    if collection.is_file() {
        let bru = Bru::parse(&super::read_file(&collection)?);
        root.auth = bru.auth();
        root.vars = bru.vars();
    }
    // The environment wins over the collection's variables, loses to folders' and requests'.
    match &input.environment {
        Some(env) => {
            let vars = environment(path, env, &mut planner)?;
            root.vars.extend(vars);
        }
        None => {
            let names = environment_names(path);
            if !names.is_empty() {
                planner.warn(format!(
                    "no environment chosen: name one with --environment ({}).",
                    names.join(", ")
                ));
            }
        }
    }
    root.children = folder_children(path, &mut HashSet::new())?;
    planner.walk(&root, &Vars::new());
    Ok(planner.finish())
}

/// `--format bruno` on a file whose name does not end in `.bru`: one request file.
pub fn plan_file_text(text: &str, input: &Input) -> Result<ImportPlan> {
    let mut planner = Planner::new(Format::Bruno, Style::Mustache, input);
    let mut root = Node::new("Bruno", NodeKind::Collection);
    root.children
        .push(request(&Bru::parse(text), "request".into()));
    planner.walk(&root, &Vars::new());
    Ok(planner.finish())
}

fn dir_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "Bruno".into())
}

fn request(bru: &Bru, file_stem: String) -> Node {
    let mut node = Node::new(
        bru.get("meta", "name").unwrap_or(file_stem),
        NodeKind::Request,
    );
    node.auth = bru.auth();
    node.vars = bru.vars();
    node
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| {
            Error::new(
                ErrorCode::NotFound,
                format!("Cannot read the folder {}: {e}.", dir.display()),
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    Ok(entries)
}

/// The requests and folders of a folder; each folder is read once, so a symbolic link to a
/// parent ends.
fn folder_children(dir: &Path, seen: &mut HashSet<PathBuf>) -> Result<Vec<Node>> {
    if !seen.insert(dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())) {
        return Ok(Vec::new());
    }
    let mut requests: Vec<(i64, Node)> = Vec::new();
    let mut folders = Vec::new();
    for entry in sorted_entries(dir)? {
        let file_name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if entry.is_dir() {
            if matches!(file_name.as_str(), "environments" | "node_modules")
                || file_name.starts_with('.')
            {
                continue;
            }
            let mut folder = Node::new(file_name, NodeKind::Folder);
            let meta = entry.join("folder.bru");
            if meta.is_file() {
                let bru = Bru::parse(&super::read_file(&meta)?);
                if let Some(n) = bru.get("meta", "name") {
                    folder.name = n;
                }
                folder.auth = bru.auth();
                folder.vars = bru.vars();
            }
            folder.children = folder_children(&entry, seen)?;
            folders.push(folder);
        } else if file_name.ends_with(".bru")
            && !matches!(file_name.as_str(), "folder.bru" | "collection.bru")
        {
            let bru = Bru::parse(&super::read_file(&entry)?);
            let seq = bru
                .get("meta", "seq")
                .and_then(|s| s.parse().ok())
                .unwrap_or(i64::MAX);
            let stem = file_name.trim_end_matches(".bru").to_owned();
            requests.push((seq, request(&bru, stem)));
        }
    }
    requests.sort_by_key(|(seq, _)| *seq);
    let mut out: Vec<Node> = requests.into_iter().map(|(_, n)| n).collect();
    out.extend(folders);
    Ok(out)
}

fn environment_names(collection: &Path) -> Vec<String> {
    sorted_entries(&collection.join("environments"))
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "bru"))
        .filter_map(|p| {
            p.file_stem()
                .map(|s| format!("\"{}\"", s.to_string_lossy()))
        })
        .collect()
}

/// An environment: a `.bru` file, or the name of one in the collection's `environments/`.
fn environment(
    collection: &Path,
    wanted: &str,
    planner: &mut Planner,
) -> Result<Vec<(String, String)>> {
    let as_file = PathBuf::from(wanted);
    let path = if as_file.is_file() {
        as_file
    } else {
        let named = collection
            .join("environments")
            .join(format!("{wanted}.bru"));
        if !named.is_file() {
            let names = environment_names(collection);
            return Err(Error::new(
                ErrorCode::NotFound,
                format!(
                    "no Bruno environment \"{wanted}\": give an environment .bru file or the name \
                     of one in {} ({}).",
                    collection.join("environments").display(),
                    if names.is_empty() {
                        "there are none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
        }
        named
    };
    let bru = Bru::parse(&super::read_file(&path)?);
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    planner.set_environment(&name);
    let secret = bru.list("vars:secret");
    if !secret.is_empty() {
        planner.warn(format!(
            "environment \"{name}\" keeps {} as Bruno secrets, whose values are not in its file: \
             you are asked for the client secret instead.",
            secret.join(", ")
        ));
    }
    Ok(bru.dict("vars").map(<[_]>::to_vec).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{AuthMethod, GrantKind};

    const REQUEST: &str = "meta {
  name: Get token
  type: http
  seq: 1
}

post {
  url: {{baseUrl}}/things
  body: json
  auth: oauth2
}

body:json {
  {
    \"a\": {\"b\": 1}
  }
}

auth:oauth2 {
  grant_type: client_credentials
  access_token_url: {{baseUrl}}/token
  client_id: {{clientId}}
  client_secret: literal-secret
  ~scope: disabled
  credentials_placement: basic_auth_header
  token_placement: header
}
";

    #[test]
    fn a_request_file_as_text() {
        let input = Input {
            format: Some(Format::Bruno),
            ..Input::default()
        };
        let plan = crate::import::plan_text(REQUEST, &input).unwrap();
        assert_eq!(plan.profiles.len(), 1);
        assert_eq!(plan.profiles[0].config.name, "Bruno / Get token");
    }

    #[test]
    fn a_request_file() {
        let bru = Bru::parse(REQUEST);
        assert_eq!(bru.get("meta", "name").as_deref(), Some("Get token"));
        assert_eq!(bru.get("post", "auth").as_deref(), Some("oauth2"));
        assert_eq!(
            bru.get("auth:oauth2", "scope"),
            None,
            "~ switches a line off"
        );
        let Auth::OAuth2(b) = bru.auth() else {
            panic!("an oauth2 request")
        };
        assert_eq!(b.grant, "client_credentials");
        assert_eq!(b.client_secret.as_deref(), Some("literal-secret"));
        assert_eq!(b.secret_in_body, Some(false));
    }

    #[test]
    fn a_collection_folder_with_an_environment() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("bruno.json"),
            r#"{"version": "1", "name": "Payments", "type": "collection"}"#,
        )
        .unwrap();
        std::fs::write(
            root.join("collection.bru"),
            "auth {\n  mode: oauth2\n}\n\nauth:oauth2 {\n  grant_type: authorization_code\n  callback_url: http://127.0.0.1:8765/callback\n  authorization_url: {{idp}}/authorize\n  access_token_url: {{idp}}/token\n  client_id: pay-web\n  client_secret: {{clientSecret}}\n  scope: openid payments\n  pkce: true\n  credentials_placement: body\n}\n\nvars:pre-request {\n  idp: https://collection.example\n}\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("environments")).unwrap();
        std::fs::write(
            root.join("environments/Staging.bru"),
            "vars {\n  idp: https://staging.example\n  baseUrl: https://api.staging.example\n  clientId: m2m\n}\nvars:secret [\n  clientSecret\n]\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("Batch")).unwrap();
        std::fs::write(
            root.join("Batch/folder.bru"),
            "meta {\n  name: Batch jobs\n}\n",
        )
        .unwrap();
        std::fs::write(root.join("Batch/run.bru"), REQUEST).unwrap();
        std::fs::write(
            root.join("list.bru"),
            "meta {\n  name: List\n  seq: 2\n}\n\nget {\n  url: {{baseUrl}}/list\n  auth: inherit\n}\n",
        )
        .unwrap();

        let input = Input {
            path: root.to_path_buf(),
            environment: Some("Staging".into()),
            ..Input::default()
        };
        let plan = plan(root, &input).unwrap();
        let names: Vec<_> = plan
            .profiles
            .iter()
            .map(|p| p.config.name.as_str())
            .collect();
        assert_eq!(names, ["Payments", "Payments / Batch jobs / Get token"]);
        let web = &plan.profiles[0];
        assert_eq!(web.config.grant, GrantKind::AuthorizationCode);
        assert_eq!(
            web.config.endpoints.token.as_deref(),
            Some("https://staging.example/token"),
            "the environment wins over the collection's variables"
        );
        assert_eq!(web.config.auth_method, AuthMethod::ClientSecretPost);
        assert!(web.secret.is_none());
        assert_eq!(web.used_by, ["Payments / List"]);
        assert_eq!(web.config.environment, "Staging");
        let m2m = &plan.profiles[1];
        assert_eq!(m2m.config.client_id, "m2m");
        assert_eq!(
            m2m.secret.as_ref().unwrap().value.expose(),
            "literal-secret"
        );
        assert!(
            plan.warnings
                .iter()
                .any(|w| w.contains("clientSecret") && w.contains("Bruno secrets"))
        );

        let none = super::plan(root, &Input::default()).unwrap();
        assert!(
            none.warnings.iter().any(|w| w.contains("\"Staging\"")),
            "{:?}",
            none.warnings
        );
        let wrong = super::plan(
            root,
            &Input {
                environment: Some("Prod".into()),
                ..Input::default()
            },
        );
        assert!(wrong.unwrap_err().message.contains("\"Staging\""));
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_a_parent_folder_ends() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("bruno.json"), r#"{"name": "Loop"}"#).unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::os::unix::fs::symlink(root, root.join("sub/up")).unwrap();
        std::os::unix::fs::symlink(root, root.join("sub/up2")).unwrap();
        std::fs::write(root.join("sub/r.bru"), REQUEST).unwrap();
        let plan = plan(root, &Input::default()).unwrap();
        assert_eq!(plan.profiles.len(), 1, "each folder is read once");
    }
}
