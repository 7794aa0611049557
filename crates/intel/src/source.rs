//! Where intelligence comes from, as the operator configures it, and one pull of it,
//! whatever the kind: a STIX bundle, a MISP feed, a plain list, a warning list or a
//! TAXII collection, from a path or a URL. `tocsin scan --intel PATH` reads a local
//! path through [`load_path`], which tells the kinds apart by their content.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::lists::{self, Layout};
use crate::{Intel, misp, stix, taxii};

/// The largest bundle or list fetched or read in one piece.
const MAX_DOCUMENT_BYTES: usize = stix::MAX_BUNDLE_BYTES;

/// One feed in `[[intel.feeds]]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// Names the feed in matches, incidents and the API; letters, digits, `-`, `_`, `.`.
    pub name: String,
    pub kind: FeedKind,
    /// A path, or an `http://`/`https://` URL. For TAXII, the API root
    /// (`https://taxii.example/api1/`); for MISP, the directory holding `manifest.json`.
    pub location: String,
    /// Lists: the label every value gets (`tor-exit`, `anonymising-vpn`); the attribution
    /// reads it as infrastructure. Default: the feed's name.
    #[serde(default)]
    pub label: Option<String>,
    /// Lists: `plain` (one value a line), `csv` or `tor` (the Tor Project's exit list).
    #[serde(default)]
    pub layout: ListLayout,
    /// CSV lists: the column of the value, from 0.
    #[serde(default)]
    pub column: usize,
    /// CSV lists: whether the first line is a header.
    #[serde(default)]
    pub header: bool,
    /// TAXII: the collection id.
    #[serde(default)]
    pub collection: Option<String>,
    /// TAXII: the user for HTTP basic authentication.
    #[serde(default)]
    pub username: Option<String>,
    /// TAXII: the environment variable holding the password (never the password itself,
    /// so that the file can be shared and kept in version control).
    #[serde(default)]
    pub password_env: Option<String>,
    /// How often the feed is pulled, e.g. `1h`. Default: `[intel] refresh`.
    #[serde(default, with = "crate::source::optional_duration")]
    pub refresh: Option<jiff::SignedDuration>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    Stix,
    Misp,
    List,
    Warninglist,
    Taxii,
}

impl FeedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Stix => "stix",
            FeedKind::Misp => "misp",
            FeedKind::List => "list",
            FeedKind::Warninglist => "warninglist",
            FeedKind::Taxii => "taxii",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListLayout {
    #[default]
    Plain,
    Csv,
    Tor,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{location}: {reason}")]
    Read { location: String, reason: String },
    #[error(transparent)]
    Stix(#[from] stix::StixError),
    #[error(transparent)]
    Misp(#[from] misp::MispError),
    #[error(transparent)]
    List(#[from] lists::ListError),
    #[error(transparent)]
    Taxii(#[from] taxii::TaxiiError),
    #[error("feed {feed}: {reason}")]
    Config { feed: String, reason: String },
}

/// What one pull of a feed gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pulled {
    pub intel: Intel,
    /// Ids to remove: revoked STIX objects, MISP attributes no longer published.
    pub removed: Vec<String>,
    /// The pull is the feed's whole content (a bundle, a list): what it does not hold is
    /// gone. Otherwise it adds to what is held (MISP events, TAXII pages).
    pub snapshot: bool,
    /// What to pass to the next pull (MISP caching state, TAXII checkpoint), JSON.
    pub cursor: String,
    /// One line for the log and the feed's status: what the pull read.
    pub summary: String,
}

/// What a feed name may be, in words for an error.
pub const FEED_NAME_RULE: &str = "a feed name is 1 to 64 letters, digits, `-`, `_` or `.`";

/// Whether `name` can name a feed (configured or uploaded): it appears in matches, URLs and
/// log lines.
pub fn is_feed_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

impl FeedConfig {
    /// Checks what can be checked without fetching.
    pub fn validate(&self) -> Result<(), SourceError> {
        let bad = |reason: &str| SourceError::Config {
            feed: self.name.clone(),
            reason: reason.to_string(),
        };
        if !is_feed_name(&self.name) {
            return Err(bad(FEED_NAME_RULE));
        }
        if self.location.trim().is_empty() {
            return Err(bad("`location` is empty: give a path or a URL"));
        }
        if self.kind == FeedKind::Taxii {
            if self.collection.is_none() {
                return Err(bad("a TAXII feed needs `collection`, the collection id"));
            }
            if !is_url(&self.location) {
                return Err(bad("a TAXII feed's `location` is the API root's URL"));
            }
        }
        if self.password_env.is_some() && self.username.is_none() {
            return Err(bad("`password_env` without `username`"));
        }
        Ok(())
    }

    fn list_layout(&self) -> Layout {
        match self.layout {
            ListLayout::Plain => Layout::Plain,
            ListLayout::Csv => Layout::Csv {
                column: self.column,
                header: self.header,
            },
            ListLayout::Tor => Layout::TorExits,
        }
    }

    fn auth(&self) -> Result<Option<(String, String)>, SourceError> {
        let Some(user) = &self.username else {
            return Ok(None);
        };
        let password = match &self.password_env {
            Some(var) => std::env::var(var).map_err(|_| SourceError::Config {
                feed: self.name.clone(),
                reason: format!("the environment variable {var} (`password_env`) is not set"),
            })?,
            None => String::new(),
        };
        Ok(Some((user.clone(), password)))
    }
}

/// Pulls `feed` once. `cursor` is what the previous pull returned (`""` or `{}` the
/// first time).
pub async fn pull(feed: &FeedConfig, cursor: &str) -> Result<Pulled, SourceError> {
    feed.validate()?;
    match feed.kind {
        FeedKind::Stix => {
            let bytes = fetch(&feed.location).await?;
            let bundle = stix::read(&feed.name, &feed.location, &bytes)?;
            Ok(Pulled {
                summary: counted(&bundle.intel),
                intel: bundle.intel,
                removed: bundle.revoked,
                snapshot: true,
                cursor: String::new(),
            })
        }
        FeedKind::List => {
            let bytes = fetch(&feed.location).await?;
            let label = feed.label.as_deref().unwrap_or(&feed.name);
            let intel = lists::read_list(&feed.name, label, feed.list_layout(), &bytes)?;
            Ok(Pulled {
                summary: counted(&intel),
                intel,
                snapshot: true,
                ..Pulled::default()
            })
        }
        FeedKind::Warninglist => {
            let bytes = fetch(&feed.location).await?;
            let intel = lists::read_warninglist(&feed.location, &bytes)?;
            let values: usize = intel.benign.iter().map(|b| b.values.len()).sum();
            Ok(Pulled {
                summary: format!("{values} benign values"),
                intel,
                snapshot: true,
                ..Pulled::default()
            })
        }
        FeedKind::Misp => {
            let mut cache: misp::FeedCache = parse_cursor(cursor);
            let source = misp::Feed::new(&feed.name, &feed.location)?;
            let pull = source.pull(&mut cache).await?;
            let summary = if pull.manifest_unchanged {
                "manifest unchanged".to_string()
            } else {
                format!(
                    "{} events read, {} unchanged, {} removed; {} indicators, {} attributes \
                     not for detection, {} of unsupported types{}",
                    pull.events_read,
                    pull.events_unchanged,
                    pull.events_removed.len(),
                    pull.counts.indicators,
                    pull.counts.not_to_ids,
                    pull.counts.unsupported,
                    if pull.more { "; more next time" } else { "" }
                )
            };
            Ok(Pulled {
                intel: pull.intel,
                removed: pull.withdrawn,
                snapshot: false,
                cursor: serde_json::to_string(&cache).unwrap_or_default(),
                summary,
            })
        }
        FeedKind::Taxii => {
            let collection = feed.collection.as_deref().unwrap_or_default();
            let client = taxii::Client::new(&feed.name, &feed.location, feed.auth()?)?;
            let state: TaxiiCursor = parse_cursor(cursor);
            let pull = client
                .pull(collection, state.added_after.as_deref())
                .await?;
            let summary = format!(
                "{} objects in {} pages{}; {}",
                pull.objects,
                pull.pages,
                if pull.complete {
                    ""
                } else {
                    ", more next time"
                },
                counted(&pull.bundle.intel)
            );
            let cursor = TaxiiCursor {
                added_after: pull.checkpoint.or(state.added_after),
            };
            Ok(Pulled {
                intel: pull.bundle.intel,
                removed: pull.bundle.revoked,
                snapshot: false,
                cursor: serde_json::to_string(&cursor).unwrap_or_default(),
                summary,
            })
        }
    }
}

#[derive(Default, Serialize, Deserialize)]
struct TaxiiCursor {
    added_after: Option<String>,
}

fn parse_cursor<T: Default + serde::de::DeserializeOwned>(cursor: &str) -> T {
    // A cursor that does not parse (first pull, a format change) only costs a full pull.
    serde_json::from_str(cursor).unwrap_or_default()
}

fn counted(intel: &Intel) -> String {
    format!(
        "{} indicators, {} actors, {} problems",
        intel.indicators.len(),
        intel.actors.len(),
        intel.problems.len()
    )
}

fn is_url(location: &str) -> bool {
    location.starts_with("http://") || location.starts_with("https://")
}

/// The bytes at a path or URL, at most [`MAX_DOCUMENT_BYTES`].
async fn fetch(location: &str) -> Result<Vec<u8>, SourceError> {
    let failed = |reason: String| SourceError::Read {
        location: location.to_string(),
        reason,
    };
    if !is_url(location) {
        return read_file(Path::new(location));
    }
    let client = taxii::http_client(Duration::from_secs(60)).map_err(|e| failed(e.to_string()))?;
    let response = client
        .get(location)
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!(
            "HTTP status {}",
            response.status().as_u16()
        )));
    }
    taxii::read_body(response, MAX_DOCUMENT_BYTES)
        .await
        .map_err(failed)
}

fn read_file(path: &Path) -> Result<Vec<u8>, SourceError> {
    let failed = |reason: String| SourceError::Read {
        location: path.display().to_string(),
        reason,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| failed(e.to_string()))?
        .len();
    if size > MAX_DOCUMENT_BYTES as u64 {
        return Err(failed(format!(
            "{size} bytes is more than the {MAX_DOCUMENT_BYTES} a feed file may have"
        )));
    }
    std::fs::read(path).map_err(|e| failed(e.to_string()))
}

/// What a local path holds, told apart by content: a directory with `manifest.json` is a
/// MISP feed; a JSON file is a STIX bundle, a MISP warning list or a MISP event; anything
/// else is a plain list labelled with the file's stem. Returns the feed kind read and
/// what it gave, with the ids it revokes (so that they withdraw versions other files
/// hold).
pub async fn load_path(path: &Path) -> Result<(FeedKind, Pulled), SourceError> {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "intel".to_string());
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    let location = path.display().to_string();
    if path.is_dir() {
        if !path.join("manifest.json").is_file() {
            return Err(SourceError::Read {
                location,
                reason: "a directory of intelligence must be a MISP feed with a manifest.json"
                    .into(),
            });
        }
        let feed = misp::Feed::new(&name, &location)?;
        let pull = feed.pull(&mut misp::FeedCache::default()).await?;
        // `withdrawn` also lists attributes not meant for detection: nothing to withdraw
        // from a first read.
        return Ok((FeedKind::Misp, whole(pull.intel, Vec::new())));
    }
    let bytes = read_file(path)?;
    let json: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
    match json {
        Some(serde_json::Value::Object(object))
            if object.contains_key("list") && object.contains_key("type") =>
        {
            Ok((
                FeedKind::Warninglist,
                whole(lists::read_warninglist(&location, &bytes)?, Vec::new()),
            ))
        }
        Some(serde_json::Value::Object(object)) if object.contains_key("Event") => {
            let event = misp::read_event(&name, &location, &bytes, None)?;
            Ok((FeedKind::Misp, whole(event.intel, Vec::new())))
        }
        Some(_) => {
            let bundle = stix::read(&name, &location, &bytes)?;
            Ok((FeedKind::Stix, whole(bundle.intel, bundle.revoked)))
        }
        None => Ok((
            FeedKind::List,
            whole(
                lists::read_list(&name, &name, Layout::Plain, &bytes)?,
                Vec::new(),
            ),
        )),
    }
}

/// A local file read whole.
fn whole(intel: Intel, removed: Vec<String>) -> Pulled {
    Pulled {
        summary: counted(&intel),
        intel,
        removed,
        snapshot: true,
        cursor: String::new(),
    }
}

/// `refresh = "1h"` in the friendly or ISO 8601 form jiff reads.
pub(crate) mod optional_duration {
    use jiff::SignedDuration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<SignedDuration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => serializer.serialize_str(&format!("{d:#}")),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<SignedDuration>, D::Error> {
        let text: Option<String> = Option::deserialize(deserializer)?;
        text.map(|t| t.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(path: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/intel")
            .join(path)
    }

    #[tokio::test]
    async fn a_local_path_is_read_as_what_its_content_is() {
        let (kind, pulled) = load_path(&shared("misp-feed-sample")).await.expect("misp");
        let intel = pulled.intel;
        assert_eq!(kind, FeedKind::Misp);
        assert_eq!(intel.indicators.len(), 71);

        let (kind, pulled) = load_path(&shared(
            "stix-examples/examples/indicator-for-c2-ip-address.json",
        ))
        .await
        .expect("stix");
        assert_eq!(kind, FeedKind::Stix);
        assert_eq!(pulled.intel.indicators.len(), 1);
        assert!(pulled.snapshot && pulled.removed.is_empty());

        let dir = std::env::temp_dir().join(format!("tocsin-source-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let list = dir.join("tor-exits.txt");
        std::fs::write(
            &list,
            "# exits\n198.51.100.7\n2001:db8::/32\nnot a value!\n",
        )
        .expect("write");
        let (kind, pulled) = load_path(&list).await.expect("list");
        let intel = pulled.intel;
        assert_eq!(kind, FeedKind::List);
        assert_eq!(intel.indicators.len(), 2);
        assert_eq!(intel.indicators[0].labels, ["tor-exits"]);
        assert_eq!(intel.problems.len(), 1, "{:?}", intel.problems);
        assert!(
            intel.problems[0].source.contains(":4"),
            "{:?}",
            intel.problems
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn feed_settings_are_checked_before_any_fetch() {
        let feed: FeedConfig = toml::from_str(
            "name = \"taxii one\"\nkind = \"taxii\"\nlocation = \"/tmp/x\"\nrefresh = \"15m\"",
        )
        .expect("parses");
        assert_eq!(feed.refresh, Some(jiff::SignedDuration::from_mins(15)));
        let error = feed.validate().expect_err("bad name").to_string();
        assert!(error.contains("feed name"), "{error}");
        let feed = FeedConfig {
            name: "taxii".into(),
            ..feed
        };
        let error = feed.validate().expect_err("no collection").to_string();
        assert!(error.contains("collection"), "{error}");
    }
}
