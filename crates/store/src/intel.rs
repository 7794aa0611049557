//! The operator's threat intelligence as held between restarts: feeds and their state,
//! the newest version of each indicator, imported actors, warning lists, and retro-hunts.
//!
//! The bodies are JSON written by `intel` (`Indicator`, `Actor`, `BenignList`); this
//! crate keeps them opaque so that it does not depend on the intelligence code. None of
//! this is organisation data: feeds are the operator's, shared by every organisation.

use std::collections::HashSet;

use jiff::Timestamp;
use sqlx::Row;

use crate::mails::{StoredMail, mail_from_row};
use crate::signins::signin_from_row;
use crate::{Result, Store, corrupt, now_text};
use model::{Observation, OrgId};

/// Indicators written per SQL statement when a pull is stored.
const ROWS_PER_STATEMENT: usize = 2_000;

/// Retro-hunt records kept; older finished ones are deleted as new ones start.
pub const MAX_RETRO_HUNTS: i64 = 1000;

/// A feed as configured or uploaded, with what its last pull did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Feed {
    pub name: String,
    /// `stix`, `misp`, `list`, `warninglist`, `taxii` or `upload`.
    pub kind: String,
    /// A path or URL; for uploads, who uploaded.
    pub location: String,
    /// Caching state of the last pull (ETag, Last-Modified, TAXII `added_after`), JSON.
    #[serde(skip)]
    pub cursor: String,
    pub last_attempt: Option<String>,
    pub last_success: Option<String>,
    /// Why the last pull failed, in words; `None` after a success.
    pub last_error: Option<String>,
    /// Indicators held for this feed.
    pub indicators: i64,
    /// Objects of the last pull that could not be used.
    pub problems: i64,
}

/// One indicator row: the feed's id, its version and the JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndicatorRow {
    pub id: String,
    pub body: String,
}

/// The progress and outcome of one retro-hunt.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RetroHunt {
    pub id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// Events from this instant on are searched.
    pub since: Timestamp,
    /// Indicators added at or after this instant are searched for.
    pub indicators_since: Timestamp,
    /// `running`, `done` or `failed`.
    pub state: String,
    pub events_total: i64,
    pub events_scanned: i64,
    pub matches: i64,
    pub incidents: i64,
    pub error: Option<String>,
}

/// A stored message with the organisation it belongs to, for the retro-hunt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgMail {
    pub org: OrgId,
    pub mail: StoredMail,
    /// When tocsin received it: indicators that arrived before were matched live.
    pub received: Timestamp,
}

impl Store {
    /// Creates the feed or updates where it comes from; its contents stay.
    pub async fn upsert_feed(&self, name: &str, kind: &str, location: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO intel_feeds (name, kind, location) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, location = excluded.location",
        )
        .bind(name)
        .bind(kind)
        .bind(location)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn feeds(&self) -> Result<Vec<Feed>> {
        let rows = sqlx::query("SELECT * FROM intel_feeds ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(feed_from_row).collect()
    }

    pub async fn feed(&self, name: &str) -> Result<Option<Feed>> {
        let row = sqlx::query("SELECT * FROM intel_feeds WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(feed_from_row).transpose()
    }

    /// Records a failed pull; what the feed held stays in force.
    pub async fn feed_failed(&self, name: &str, error: &str) -> Result<()> {
        let now = now_text();
        sqlx::query("UPDATE intel_feeds SET last_attempt = $1, last_error = $2 WHERE name = $3")
            .bind(&now)
            .bind(error)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores what one pull of `feed` produced, in one transaction, and records the
    /// success. `replace` drops what the feed held before (a full snapshot: a list, a
    /// feed directory); otherwise the pull adds to it (an upload, a TAXII page) and an
    /// indicator replaces only an older or equal version of itself. `revoked` ids are
    /// removed. Returns how many indicators are new or changed.
    #[allow(clippy::too_many_arguments)]
    pub async fn store_feed_pull(
        &self,
        feed: &str,
        replace: bool,
        indicators: &[(IndicatorRow, Option<Timestamp>)],
        revoked: &[String],
        actors: &[(String, String)],
        benign: &[(String, String)],
        cursor: &str,
        problems: usize,
    ) -> Result<u64> {
        let now = Timestamp::now();
        let mut tx = self.begin_write().await?;
        if replace {
            for table in ["intel_actors", "intel_benign"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE feed = $1"
                )))
                .bind(feed)
                .execute(&mut *tx)
                .await?;
            }
            // Indicators present before and after keep their added time, so that a
            // re-pull of an unchanged snapshot does not retro-hunt everything again.
            sqlx::query(self.dialect.pick(
                "CREATE TEMP TABLE IF NOT EXISTS pulled (id TEXT PRIMARY KEY) WITHOUT ROWID",
                "CREATE TEMP TABLE IF NOT EXISTS pulled (id TEXT PRIMARY KEY)",
            ))
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM pulled").execute(&mut *tx).await?;
            for chunk in indicators.chunks(ROWS_PER_STATEMENT) {
                let ids: Vec<&str> = chunk.iter().map(|(row, _)| row.id.as_str()).collect();
                sqlx::query(self.dialect.pick(
                    "INSERT INTO pulled (id) SELECT value FROM json_each($1) WHERE true \
                     ON CONFLICT DO NOTHING",
                    "INSERT INTO pulled (id) SELECT jsonb_array_elements_text(CAST($1 AS jsonb)) \
                     ON CONFLICT DO NOTHING",
                ))
                .bind(serde_json::to_string(&ids).map_err(corrupt)?)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "DELETE FROM intel_indicators WHERE feed = $1 AND id NOT IN (SELECT id FROM pulled)",
            )
            .bind(feed)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM pulled").execute(&mut *tx).await?;
        }
        let mut changed = 0u64;
        // Thousands of rows per statement: one statement per row made a million-indicator
        // feed take a minute and a half.
        for chunk in indicators.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<serde_json::Value> = chunk
                .iter()
                .map(|(row, modified)| {
                    serde_json::json!({
                        "id": row.id,
                        "body": row.body,
                        "modified": modified.map_or(i64::MIN, Timestamp::as_microsecond),
                    })
                })
                .collect();
            // The newest version wins; an unchanged body keeps its added time. (`WHERE
            // true` tells SQLite's parser the ON CONFLICT is the upsert's, not a join's.)
            let done = sqlx::query(self.dialect.pick(
                "INSERT INTO intel_indicators (feed, id, body, added_at_us, modified_us) \
                 SELECT $1, value ->> 'id', value ->> 'body', $2, value ->> 'modified' \
                 FROM json_each($3) WHERE true \
                 ON CONFLICT (feed, id) DO UPDATE SET body = excluded.body, \
                 added_at_us = excluded.added_at_us, modified_us = excluded.modified_us \
                 WHERE excluded.modified_us >= intel_indicators.modified_us \
                 AND excluded.body != intel_indicators.body",
                "INSERT INTO intel_indicators (feed, id, body, added_at_us, modified_us) \
                 SELECT $1, value ->> 'id', value ->> 'body', $2, CAST(value ->> 'modified' AS BIGINT) \
                 FROM jsonb_array_elements(CAST($3 AS jsonb)) AS rows (value) \
                 ON CONFLICT (feed, id) DO UPDATE SET body = excluded.body, \
                 added_at_us = excluded.added_at_us, modified_us = excluded.modified_us \
                 WHERE excluded.modified_us >= intel_indicators.modified_us \
                 AND excluded.body != intel_indicators.body",
            ))
            .bind(feed)
            .bind(now.as_microsecond())
            .bind(serde_json::to_string(&rows).map_err(corrupt)?)
            .execute(&mut *tx)
            .await?;
            changed += done.rows_affected();
        }
        for id in revoked {
            sqlx::query("DELETE FROM intel_indicators WHERE feed = $1 AND id = $2")
                .bind(feed)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        upsert_bodies(&mut tx, "intel_actors", "id", feed, actors).await?;
        upsert_bodies(&mut tx, "intel_benign", "name", feed, benign).await?;
        let text = now.to_string();
        sqlx::query(
            "UPDATE intel_feeds SET cursor = $1, last_attempt = $2, last_success = $3, \
             last_error = NULL, problems = $4, \
             indicators = (SELECT count(*) FROM intel_indicators WHERE feed = $5) WHERE name = $6",
        )
        .bind(cursor)
        .bind(&text)
        .bind(&text)
        .bind(problems as i64)
        .bind(feed)
        .bind(feed)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Every held indicator, feed by feed, `page` at a time after `after` (feed, id).
    pub async fn indicators_page(
        &self,
        after: Option<(&str, &str)>,
        page: u32,
    ) -> Result<Vec<(String, IndicatorRow)>> {
        let (feed, id) = after.unwrap_or(("", ""));
        let rows = sqlx::query(
            "SELECT feed, id, body FROM intel_indicators WHERE (feed, id) > ($1, $2) \
             ORDER BY feed, id LIMIT $3",
        )
        .bind(feed)
        .bind(id)
        .bind(i64::from(page))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("feed")?,
                    IndicatorRow {
                        id: row.try_get("id")?,
                        body: row.try_get("body")?,
                    },
                ))
            })
            .collect()
    }

    /// How many indicators were added or changed at or after `since`.
    pub async fn indicators_added_since(&self, since: Timestamp) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT count(*) FROM intel_indicators WHERE added_at_us >= $1")
                .bind(since.as_microsecond())
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// The bodies of indicators added or changed at or after `since`, with when each
    /// arrived, at most `limit`.
    pub async fn indicators_added(
        &self,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<(String, Timestamp)>> {
        let rows = sqlx::query(
            "SELECT body, added_at_us FROM intel_indicators WHERE added_at_us >= $1 \
             ORDER BY added_at_us LIMIT $2",
        )
        .bind(since.as_microsecond())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("body")?,
                    Timestamp::from_microsecond(row.try_get("added_at_us")?).map_err(corrupt)?,
                ))
            })
            .collect()
    }

    /// Which of `ids` are already evidence of a `known_indicator` incident: a hunt does
    /// not count them again.
    pub async fn signins_already_known(&self, ids: &[i64]) -> Result<HashSet<i64>> {
        let rows: Vec<i64> = sqlx::query_scalar(self.dialect.pick(
            "SELECT DISTINCT e.signin_id FROM incident_evidence e \
             JOIN incidents i ON i.id = e.incident_id \
             WHERE i.kind = 'known_indicator' AND e.signin_id IN (SELECT value FROM json_each($1))",
            "SELECT DISTINCT e.signin_id FROM incident_evidence e \
             JOIN incidents i ON i.id = e.incident_id \
             WHERE i.kind = 'known_indicator' \
             AND e.signin_id IN (SELECT CAST(jsonb_array_elements_text(CAST($1 AS jsonb)) AS BIGINT))",
        ))
        .bind(serde_json::to_string(ids).map_err(corrupt)?)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Which of `ids` (messages) are already evidence of an incident.
    pub async fn mails_already_known(&self, ids: &[i64]) -> Result<HashSet<i64>> {
        let rows: Vec<i64> = sqlx::query_scalar(self.dialect.pick(
            "SELECT DISTINCT mail_id FROM incident_mails \
             WHERE mail_id IN (SELECT value FROM json_each($1))",
            "SELECT DISTINCT mail_id FROM incident_mails \
             WHERE mail_id IN (SELECT CAST(jsonb_array_elements_text(CAST($1 AS jsonb)) AS BIGINT))",
        ))
        .bind(serde_json::to_string(ids).map_err(corrupt)?)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Sign-ins of every organisation at or after `since`, in id order after `after_id`,
    /// `page` at a time, each with when tocsin received it; for the retro-hunt.
    pub async fn signins_for_hunt(
        &self,
        since: Timestamp,
        after_id: i64,
        page: u32,
    ) -> Result<Vec<(Observation, Timestamp)>> {
        let rows = sqlx::query(
            "SELECT * FROM signins WHERE time_us >= $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(since.as_microsecond())
        .bind(after_id)
        .bind(i64::from(page))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let stored = signin_from_row(row)?;
                let received: String = row.try_get("received_at")?;
                Ok((
                    Observation {
                        id: stored.id,
                        org: OrgId(row.try_get("org_id")?),
                        sign_in: stored.sign_in,
                    },
                    received.parse().map_err(corrupt)?,
                ))
            })
            .collect()
    }

    /// Imported actors (JSON bodies) of every feed.
    pub async fn imported_actors(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT body FROM intel_actors ORDER BY feed, id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Warning lists (JSON bodies) of every feed.
    pub async fn benign_lists(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT body FROM intel_benign ORDER BY feed, name")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Starts a retro-hunt record; the caller updates it as it goes. Only the newest
    /// [`MAX_RETRO_HUNTS`] records are kept.
    pub async fn start_retro_hunt(
        &self,
        since: Timestamp,
        indicators_since: Timestamp,
        events_total: i64,
    ) -> Result<i64> {
        sqlx::query(
            "DELETE FROM retro_hunts WHERE state != 'running' AND id <= \
             (SELECT max(id) FROM retro_hunts) - $1",
        )
        .bind(MAX_RETRO_HUNTS)
        .execute(&self.pool)
        .await?;
        Ok(sqlx::query_scalar(
            "INSERT INTO retro_hunts (started_at, since_us, indicators_since_us, state, events_total) \
             VALUES ($1, $2, $3, 'running', $4) RETURNING id",
        )
        .bind(now_text())
        .bind(since.as_microsecond())
        .bind(indicators_since.as_microsecond())
        .bind(events_total)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn retro_hunt_progress(
        &self,
        id: i64,
        scanned: i64,
        matches: i64,
        incidents: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE retro_hunts SET events_scanned = $1, matches = $2, incidents = $3 WHERE id = $4",
        )
        .bind(scanned)
        .bind(matches)
        .bind(incidents)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks a retro-hunt done, or failed with `error`.
    pub async fn finish_retro_hunt(&self, id: i64, error: Option<&str>) -> Result<()> {
        sqlx::query(
            "UPDATE retro_hunts SET finished_at = $1, state = $2, error = $3 WHERE id = $4",
        )
        .bind(now_text())
        .bind(if error.is_some() { "failed" } else { "done" })
        .bind(error)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn retro_hunt(&self, id: i64) -> Result<Option<RetroHunt>> {
        let row = sqlx::query("SELECT * FROM retro_hunts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(hunt_from_row).transpose()
    }

    /// The newest retro-hunts, at most `limit`.
    pub async fn retro_hunts(&self, limit: u32) -> Result<Vec<RetroHunt>> {
        let rows = sqlx::query("SELECT * FROM retro_hunts ORDER BY id DESC LIMIT $1")
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(hunt_from_row).collect()
    }

    /// A hunt left `running` by a process that stopped is marked failed at start.
    pub async fn abandon_retro_hunts(&self) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE retro_hunts SET state = 'failed', finished_at = $1, \
             error = 'the service stopped during the hunt; start it again' WHERE state = 'running'",
        )
        .bind(now_text())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// How many sign-ins and messages of every organisation are at or after `since`.
    pub async fn events_since(&self, since: Timestamp) -> Result<i64> {
        let signins: i64 = sqlx::query_scalar("SELECT count(*) FROM signins WHERE time_us >= $1")
            .bind(since.as_microsecond())
            .fetch_one(&self.pool)
            .await?;
        let mails: i64 = sqlx::query_scalar("SELECT count(*) FROM mails WHERE time_us >= $1")
            .bind(since.as_microsecond())
            .fetch_one(&self.pool)
            .await?;
        Ok(signins + mails)
    }

    /// Messages of every organisation at or after `since`, in id order after `after_id`,
    /// `page` at a time; for the retro-hunt.
    pub async fn mails_since(
        &self,
        since: Timestamp,
        after_id: i64,
        page: u32,
    ) -> Result<Vec<OrgMail>> {
        let rows =
            sqlx::query("SELECT * FROM mails WHERE time_us >= $1 AND id > $2 ORDER BY id LIMIT $3")
                .bind(since.as_microsecond())
                .bind(after_id)
                .bind(i64::from(page))
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                let received: String = row.try_get("received_at")?;
                Ok(OrgMail {
                    org: OrgId(row.try_get("org_id")?),
                    mail: mail_from_row(row)?,
                    received: received.parse().map_err(corrupt)?,
                })
            })
            .collect()
    }
}

/// Replaces the `(key, body)` rows of `feed` in `table` (actors, warning lists): a few
/// thousand at most, one statement each.
async fn upsert_bodies(
    tx: &mut sqlx::AnyConnection,
    table: &str,
    key: &str,
    feed: &str,
    rows: &[(String, String)],
) -> Result<()> {
    let sql = format!(
        "INSERT INTO {table} (feed, {key}, body) VALUES ($1, $2, $3) \
         ON CONFLICT (feed, {key}) DO UPDATE SET body = excluded.body"
    );
    for (id, body) in rows {
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(feed)
            .bind(id)
            .bind(body)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

fn feed_from_row(row: &sqlx::any::AnyRow) -> Result<Feed> {
    Ok(Feed {
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        location: row.try_get("location")?,
        cursor: row.try_get("cursor")?,
        last_attempt: row.try_get("last_attempt")?,
        last_success: row.try_get("last_success")?,
        last_error: row.try_get("last_error")?,
        indicators: row.try_get("indicators")?,
        problems: row.try_get("problems")?,
    })
}

fn hunt_from_row(row: &sqlx::any::AnyRow) -> Result<RetroHunt> {
    let time = |name: &str| -> Result<Timestamp> {
        Timestamp::from_microsecond(row.try_get(name)?).map_err(corrupt)
    };
    Ok(RetroHunt {
        id: row.try_get("id")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        since: time("since_us")?,
        indicators_since: time("indicators_since_us")?,
        state: row.try_get("state")?,
        events_total: row.try_get("events_total")?,
        events_scanned: row.try_get("events_scanned")?,
        matches: row.try_get("matches")?,
        incidents: row.try_get("incidents")?,
        error: row.try_get("error")?,
    })
}

impl Store {
    /// Whether `org` agreed that incidents it shares out name it.
    pub async fn share_identity(&self, org: OrgId) -> Result<bool> {
        let shared: Option<i64> =
            sqlx::query_scalar("SELECT share_identity FROM organisations WHERE id = $1")
                .bind(org.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(shared == Some(1))
    }

    /// Records the organisation's choice, with its audit entry, in one transaction.
    pub async fn set_share_identity(&self, org: OrgId, share: bool, actor: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE organisations SET share_identity = $1 WHERE id = $2")
            .bind(i64::from(share))
            .bind(org.0)
            .execute(&mut *tx)
            .await?;
        crate::audit::append(
            &mut tx,
            actor,
            Some(org),
            "sharing.set",
            &serde_json::json!({ "share_identity": share }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Where connector `name` got to, as it last saved it; `None` the first time.
    pub async fn checkpoint(&self, name: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT position FROM connector_checkpoints WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
