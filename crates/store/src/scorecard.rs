//! The weekly tally behind the governance metrics (docs/metrics.md): one organisation's
//! sign-ins, incidents, mail, response and coverage over a week, counted in the store,
//! and the mail-domain posture last read from DNS. Finished weeks are kept once counted,
//! so that a sector's comparison reads a row per organisation instead of recounting.

use std::collections::HashSet;

use jiff::{Timestamp, ToSpan};
use scorecard::{DomainPosture, MAX_LOOKALIKES, Week, WeekCounts};
use sqlx::Row;

use crate::{OrgId, Organisation, Result, Store, corrupt};

/// How long after a week ends its tally is taken as final: late events (a connector
/// catching up, an acknowledgement the next morning) still count until then.
const SETTLE_HOURS: i64 = 48;

/// The protocols counted as legacy, as the store names them (`Protocol::is_legacy`).
const LEGACY: &str =
    "('exchange_active_sync', 'imap', 'pop3', 'smtp', 'exchange_legacy', 'other_client')";

/// The incident kinds that are password attacks.
const PASSWORD_ATTACKS: &str = "('brute_force', 'password_spray', 'distributed_spray')";

/// Messages with a lookalike reason read per week, at most: the first ones in time hold
/// the first lookalike hosts, and a flood of them must not be read whole.
const LOOKALIKE_SCAN: i64 = 5_000;

/// Reason codes that name a sender domain imitating a protected one.
const SENDER_LOOKALIKES: [&str; 3] = [
    "lookalike_sender",
    "suffix_swap_sender",
    "brand_in_sender_domain",
];

impl Store {
    /// The tally of `organisation`'s `week`. A week that ended more than two days before
    /// `now` is counted once and kept; later calls read it back.
    pub async fn week_counts(
        &self,
        organisation: &Organisation,
        week: Week,
        now: Timestamp,
    ) -> Result<WeekCounts> {
        let org = organisation.id;
        let settled = week
            .end()
            .checked_add(SETTLE_HOURS.hours())
            .unwrap_or(week.end())
            <= now;
        if settled {
            let kept: Option<String> = sqlx::query_scalar(
                "SELECT counts FROM scorecard_weeks WHERE org_id = $1 AND week_start_us = $2",
            )
            .bind(org.0)
            .bind(week.start().as_microsecond())
            .fetch_optional(&self.pool)
            .await?;
            if let Some(kept) = kept {
                return serde_json::from_str(&kept).map_err(corrupt);
            }
        }
        let counts = self.count_week(organisation, week).await?;
        if settled {
            let mut tx = self.begin_write().await?;
            sqlx::query(
                "INSERT INTO scorecard_weeks (org_id, week_start_us, counts, computed_at_us) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, week_start_us) DO NOTHING",
            )
            .bind(org.0)
            .bind(week.start().as_microsecond())
            .bind(serde_json::to_string(&counts).map_err(corrupt)?)
            .bind(now.as_microsecond())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        Ok(counts)
    }

    async fn count_week(&self, organisation: &Organisation, week: Week) -> Result<WeekCounts> {
        let org = organisation.id;
        let start = week.start().as_microsecond();
        let end = week.end().as_microsecond();
        let mut c = WeekCounts::default();
        // Verified domains only: the ones that are the organisation's.
        let own_domains = &organisation.domains;

        // Sign-ins.
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FILTER (WHERE outcome <> 'pre_auth') AS sign_ins, \
             count(*) FILTER (WHERE outcome = 'success') AS successes, \
             count(*) FILTER (WHERE outcome = 'success' AND authentication IS NOT NULL) AS strength, \
             count(*) FILTER (WHERE outcome = 'success' AND authentication IN ('multi_factor', 'phishing_resistant')) AS mfa, \
             count(*) FILTER (WHERE outcome = 'success' AND authentication = 'phishing_resistant') AS resistant, \
             count(*) FILTER (WHERE outcome = 'success' AND protocol IN {LEGACY}) AS legacy_successes, \
             count(*) FILTER (WHERE outcome <> 'pre_auth' AND protocol IN {LEGACY}) AS legacy_attempts, \
             count(*) FILTER (WHERE failure_kind = 'locked') AS lockouts, \
             count(DISTINCT CASE WHEN failure_kind = 'locked' THEN account END) AS locked_accounts \
             FROM signins WHERE org_id = $1 AND time_us >= $2 AND time_us < $3"
        )))
        .bind(org.0)
        .bind(start)
        .bind(end)
        .fetch_one(&self.pool)
        .await?;
        c.sign_ins = count(&row, "sign_ins")?;
        c.successes = count(&row, "successes")?;
        c.successes_with_strength = count(&row, "strength")?;
        c.successes_multi_factor = count(&row, "mfa")?;
        c.successes_phishing_resistant = count(&row, "resistant")?;
        c.legacy_successes = count(&row, "legacy_successes")?;
        c.legacy_attempts = count(&row, "legacy_attempts")?;
        c.lockouts = count(&row, "lockouts")?;
        c.locked_accounts = count(&row, "locked_accounts")?;

        let row = sqlx::query(
            "SELECT count(*) AS active, count(*) FILTER (WHERE single = 0) AS covered FROM ( \
             SELECT account, sum(CASE WHEN authentication = 'single_factor' THEN 1 ELSE 0 END) AS single \
             FROM signins WHERE org_id = $1 AND time_us >= $2 AND time_us < $3 \
             AND outcome = 'success' AND authentication IS NOT NULL GROUP BY account) AS a",
        )
        .bind(org.0)
        .bind(start)
        .bind(end)
        .fetch_one(&self.pool)
        .await?;
        c.active_accounts = count(&row, "active")?;
        c.active_accounts_multi_factor = count(&row, "covered")?;

        c.sign_in_sources = sqlx::query_scalar(
            "SELECT DISTINCT format FROM signins WHERE org_id = $1 AND time_us >= $2 \
             AND time_us < $3 ORDER BY format",
        )
        .bind(org.0)
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;

        let staff_since = week.end().checked_sub(672.hours()).unwrap_or(week.start());
        let staff: i64 = sqlx::query_scalar(
            "SELECT count(DISTINCT account) FROM signins WHERE org_id = $1 AND time_us >= $2 \
             AND time_us < $3 AND outcome = 'success'",
        )
        .bind(org.0)
        .bind(staff_since.as_microsecond())
        .bind(end)
        .fetch_one(&self.pool)
        .await?;
        c.staff = non_negative(staff);

        // Password attacks first seen this week.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT accounts, compromised FROM incidents WHERE org_id = $1 \
             AND kind IN {PASSWORD_ATTACKS} AND first_seen_us >= $2 AND first_seen_us < $3"
        )))
        .bind(org.0)
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        let mut targeted: HashSet<String> = HashSet::new();
        for row in &rows {
            let accounts: Vec<String> =
                serde_json::from_str(&row.try_get::<String, _>("accounts")?).map_err(corrupt)?;
            let compromised: Vec<serde_json::Value> =
                serde_json::from_str(&row.try_get::<String, _>("compromised")?).map_err(corrupt)?;
            c.attacks += 1;
            if !compromised.is_empty() {
                c.attacks_succeeded += 1;
            }
            targeted.extend(accounts);
        }
        c.targeted_accounts = targeted.len() as u64;

        // Mail.
        let row = sqlx::query(
            "SELECT count(*) AS messages, count(*) FILTER (WHERE verdict = 'phishing') AS phishing \
             FROM mails WHERE org_id = $1 AND time_us >= $2 AND time_us < $3",
        )
        .bind(org.0)
        .bind(start)
        .bind(end)
        .fetch_one(&self.pool)
        .await?;
        c.messages = count(&row, "messages")?;
        c.phishing_messages = count(&row, "phishing")?;
        // Counted in the database: recipient lists are the sender's to make long.
        let recipients_at = |pattern: String| async move {
            let n: i64 = sqlx::query_scalar(self.dialect.pick(
                "SELECT count(DISTINCT r.value) FROM mails m, json_each(m.recipients) r \
                 WHERE m.org_id = $1 AND m.time_us >= $2 AND m.time_us < $3 AND r.value LIKE $4",
                "SELECT count(DISTINCT r) FROM mails m, jsonb_array_elements_text(m.recipients::jsonb) r \
                 WHERE m.org_id = $1 AND m.time_us >= $2 AND m.time_us < $3 AND r LIKE $4",
            ))
            .bind(org.0)
            .bind(start)
            .bind(end)
            .bind(pattern)
            .fetch_one(&self.pool)
            .await?;
            Ok::<u64, crate::StoreError>(non_negative(n))
        };
        if own_domains.is_empty() {
            c.mailboxes = recipients_at("%".to_owned()).await?;
        }
        for domain in own_domains {
            // A recipient has one domain, so the domains' counts add up. Domains are
            // normalised host names: no LIKE wildcard in them but `_`, which matches itself.
            c.mailboxes += recipients_at(format!("%@{domain}")).await?;
            // The analyser gives dmarc_pass and dmarc_fail only for a trusted receiving
            // host's verdict: the organisation's own mail as others judge it.
            let row = sqlx::query(
                "SELECT count(*) FILTER (WHERE reasons LIKE '%\"code\":\"dmarc_fail\"%') AS failed, \
                 count(*) FILTER (WHERE reasons LIKE '%\"code\":\"dmarc_pass\"%' \
                 AND reasons NOT LIKE '%\"code\":\"dmarc_fail\"%') AS passed \
                 FROM mails WHERE org_id = $1 AND from_domain = $2 AND time_us >= $3 AND time_us < $4",
            )
            .bind(org.0)
            .bind(domain)
            .bind(start)
            .bind(end)
            .fetch_one(&self.pool)
            .await?;
            let (failed, passed) = (count(&row, "failed")?, count(&row, "passed")?);
            c.own_domain_spoofs += failed;
            c.own_domain_dmarc_pass += passed;
            c.own_domain_messages += failed + passed;
        }
        let rows = sqlx::query(
            "SELECT reasons FROM mails WHERE org_id = $1 AND time_us >= $2 \
             AND time_us < $3 AND reasons LIKE '%imitates%' ORDER BY time_us, id LIMIT $4",
        )
        .bind(org.0)
        .bind(start)
        .bind(end)
        .bind(LOOKALIKE_SCAN)
        .fetch_all(&self.pool)
        .await?;
        let mut lookalikes: Vec<String> = Vec::new();
        for row in &rows {
            let reasons: Vec<serde_json::Value> =
                serde_json::from_str(&row.try_get::<String, _>("reasons")?).map_err(corrupt)?;
            let code = |r: &serde_json::Value| r["code"].as_str().unwrap_or("").to_owned();
            // The lookalike host is the one the evidence names, which may be in Sender,
            // Reply-To or Return-Path rather than From:
            // "Reply-To: a@host: host (shown as …) imitates own.example (Owner): …".
            for reason in &reasons {
                if !SENDER_LOOKALIKES.contains(&code(reason).as_str()) {
                    continue;
                }
                let Some(evidence) = reason["evidence"].as_str() else {
                    continue;
                };
                let Some((before, after)) = evidence.split_once(" imitates ") else {
                    continue;
                };
                let imitated = after.split_whitespace().next().unwrap_or("");
                if !own_domains.iter().any(|d| d == imitated) {
                    continue;
                }
                let host = before
                    .rsplit(": ")
                    .next()
                    .and_then(|h| h.split_whitespace().next())
                    .unwrap_or("")
                    .to_owned();
                if !host.is_empty()
                    && !lookalikes.contains(&host)
                    && lookalikes.len() < MAX_LOOKALIKES
                {
                    lookalikes.push(host);
                }
            }
        }
        lookalikes.sort();
        c.lookalike_domains = lookalikes;

        // Response: incidents whose first notification was queued this week.
        let rows = sqlx::query(
            "SELECT incident_id, \
             min(CASE WHEN kind = 'notification' AND detail LIKE '%\"delivery_id\"%' THEN at_us END) AS notified, \
             min(CASE WHEN kind = 'state' AND (detail LIKE '%\"to\":\"acknowledged\"%' \
                 OR detail LIKE '%\"to\":\"resolved\"%' OR detail LIKE '%\"to\":\"false_positive\"%') THEN at_us END) AS acknowledged, \
             min(CASE WHEN kind = 'state' AND (detail LIKE '%\"to\":\"resolved\"%' \
                 OR detail LIKE '%\"to\":\"false_positive\"%') THEN at_us END) AS resolved \
             FROM incident_events WHERE org_id = $1 AND incident_id IN ( \
               SELECT incident_id FROM incident_events WHERE org_id = $1 AND kind = 'notification' \
               AND at_us >= $2 AND at_us < $3) \
             GROUP BY incident_id",
        )
        .bind(org.0)
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        let mut acknowledge = Vec::new();
        let mut resolve = Vec::new();
        for row in &rows {
            let Some(notified) = row.try_get::<Option<i64>, _>("notified")? else {
                continue;
            };
            if notified < start || notified >= end {
                continue;
            }
            c.notified_incidents += 1;
            match row.try_get::<Option<i64>, _>("acknowledged")? {
                Some(at) => acknowledge.push((at - notified).max(0) / 1_000_000),
                None => c.unacknowledged += 1,
            }
            if let Some(at) = row.try_get::<Option<i64>, _>("resolved")? {
                resolve.push((at - notified).max(0) / 1_000_000);
            }
        }
        c.acknowledge_seconds = median(&mut acknowledge);
        c.resolve_seconds = median(&mut resolve);

        // Coverage.
        let row = sqlx::query(
            "SELECT count(*) AS connectors, \
             count(*) FILTER (WHERE state IN ('failed', 'backing_off')) AS failing \
             FROM connectors WHERE org_id = $1",
        )
        .bind(org.0)
        .fetch_one(&self.pool)
        .await?;
        c.connectors = count(&row, "connectors")?;
        c.connectors_failing = count(&row, "failing")?;
        let confirmed: Vec<String> =
            sqlx::query_scalar("SELECT confirmed_at FROM personal_accounts WHERE org_id = $1")
                .bind(org.0)
                .fetch_all(&self.pool)
                .await?;
        c.staff_opted_in = confirmed
            .iter()
            .filter_map(|t| t.parse::<Timestamp>().ok())
            .filter(|t| *t < week.end())
            .count() as u64;

        let postures = self.domain_postures(org).await?;
        c.domains = postures
            .into_iter()
            .filter(|(p, _)| own_domains.contains(&p.domain))
            .map(|(p, _)| p)
            .collect();
        Ok(c)
    }

    /// Keeps what DNS said of one of `org`'s domains.
    pub async fn record_posture(
        &self,
        org: OrgId,
        posture: &DomainPosture,
        at: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO domain_posture (org_id, domain, checked_at_us, posture) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id, domain) DO UPDATE SET checked_at_us = excluded.checked_at_us, \
             posture = excluded.posture",
        )
        .bind(org.0)
        .bind(&posture.domain)
        .bind(at.as_microsecond())
        .bind(serde_json::to_string(posture).map_err(corrupt)?)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The posture last read for each of `org`'s domains, with when it was read.
    pub async fn domain_postures(&self, org: OrgId) -> Result<Vec<(DomainPosture, Timestamp)>> {
        let rows = sqlx::query(
            "SELECT posture, checked_at_us FROM domain_posture WHERE org_id = $1 ORDER BY domain",
        )
        .bind(org.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let posture =
                    serde_json::from_str(&row.try_get::<String, _>("posture")?).map_err(corrupt)?;
                let at =
                    Timestamp::from_microsecond(row.try_get("checked_at_us")?).map_err(corrupt)?;
                Ok((posture, at))
            })
            .collect()
    }
}

fn count(row: &sqlx::any::AnyRow, name: &str) -> Result<u64> {
    Ok(non_negative(row.try_get::<i64, _>(name)?))
}

fn non_negative(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn median(values: &mut [i64]) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    let m = if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2
    };
    Some(non_negative(m))
}
