//! The path every inbound message takes: decode it, judge it against the organisation's
//! own domains, keep its record, and for a phishing verdict open or extend an incident
//! and queue the notification, all in one transaction.
//!
//! Whatever the path (HTTP upload, the SMTP/LMTP journal listener), messages enter
//! through [`MailIntake::accept`]. A message names many recipients; only those at the
//! organisation's enrolled domains are its business. Mail for nobody enrolled is judged
//! and the verdict returned, but nothing is kept and nobody is told.

use std::collections::HashMap;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, Notify};

use crate::config::NotifyConfig;
use crate::correlate::{absorb, refresh_summary};
use crate::indicators;
use crate::lifecycle::{self, Sample};
use intel::live::Live;
use intel::{Match, Observed};
use mail::analyse::{Analyser, OwnDomains};
use mail::parse::{Limits, MailError, parse_message};
use mail::{Code, Finding};
use model::{
    AttachmentRecord, Detection, DetectionKind, EventId, Mail, MailAnalysis, MailOrigin,
    MailRecord, OrgId, Severity, Verdict,
};
use store::{Intake, MasterKey, Sender, Store, StoreError, StoredMail};

/// How far back phishing from the same sender domain to other organisations counts as
/// one campaign.
const CAMPAIGN_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(7 * 24);

/// What became of one message.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MailReport {
    pub origin: MailOrigin,
    pub message_id: Option<String>,
    #[serde(flatten)]
    pub analysis: MailAnalysis,
    /// Recipients at the organisation's enrolled domains.
    pub recipients: Vec<String>,
    /// `stored`, `duplicate` (the same message was received before) or `not_enrolled`
    /// (no recipient at the organisation's domains: judged, not kept).
    pub disposition: Disposition,
    /// The incident the message opened or extended, for a phishing verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    Stored,
    Duplicate,
    NotEnrolled,
}

/// Why a message was not taken.
#[derive(Debug, thiserror::Error)]
pub enum MailIntakeError {
    #[error(transparent)]
    Unreadable(#[from] MailError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The stateful mail pipeline; one per process.
pub struct MailIntake {
    store: Store,
    analyser: Arc<Analyser>,
    limits: Limits,
    config: NotifyConfig,
    outbox_wake: Arc<Notify>,
    /// Each organisation's own domains, built on first use (building a lookalike index
    /// costs more than judging a message). Bounded by the number of enrolled
    /// organisations; a domain verified later is taken in by `forget_domains`.
    own: Mutex<HashMap<OrgId, Arc<OwnDomains>>>,
    /// The threat intelligence, shared with the sign-in intake.
    intel: Arc<Live>,
}

impl MailIntake {
    pub fn new(
        store: Store,
        analyser: Arc<Analyser>,
        limits: Limits,
        config: NotifyConfig,
        outbox_wake: Arc<Notify>,
        intel: Arc<Live>,
    ) -> MailIntake {
        MailIntake {
            store,
            analyser,
            limits,
            config,
            outbox_wake,
            own: Mutex::new(HashMap::new()),
            intel,
        }
    }

    /// Opens or extends the phishing incident for a stored message judged phishing (or
    /// found by a retro-hunt: `hunted` says so in the reasons) and queues what the change
    /// calls for, inside `tx`. Returns the incident's id and whether anything was queued.
    async fn open_phishing(
        &self,
        tx: &mut Intake,
        org: OrgId,
        id: EventId,
        record: &MailRecord,
        matches: &[Match],
        hunted: Option<&str>,
    ) -> Result<(String, bool), StoreError> {
        let mut detection = detection(org, record);
        if let Some(note) = hunted {
            detection.reasons.insert(0, note.to_string());
        }
        if let Some(sender) = sender(record) {
            let since = record
                .time
                .checked_sub(CAMPAIGN_WINDOW)
                .unwrap_or(Timestamp::MIN);
            let others = tx.other_orgs_phished_by(org, &sender, since).await?;
            if others > 0 {
                let (what, value) = match &sender {
                    Sender::Domain(d) => ("sender domain", d),
                    Sender::Address(a) => ("sender", a),
                };
                detection.severity = detection.severity.max(Severity::High);
                detection.reasons.insert(
                    1,
                    format!(
                        "The same {what}, {value}, sent messages judged phishing to {} \
                         protected by this service in the 7 days before: a campaign, not a \
                         stray message.",
                        if others == 1 {
                            "1 other organisation".to_owned()
                        } else {
                            format!("{others} other organisations")
                        },
                    ),
                );
            }
        }
        let not_before = record
            .time
            .checked_sub(self.config.reopen_after)
            .unwrap_or(Timestamp::MIN);
        let existing = tx
            .open_incident(org, &detection.campaign_key, not_before)
            .await?;
        let (mut incident, change) =
            absorb(existing, &detection, || uuid::Uuid::now_v7().to_string());
        indicators::attach(&mut incident, matches);
        incident.evidence_count += 1;
        let sender = record.from.address.clone();
        if !incident.sources.contains(&sender)
            && incident.sources.len() < model::Incident::MAX_LISTED
        {
            incident.sources.push(sender);
            incident.sources.sort();
        }
        let organisation = tx
            .organisation(org)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("organisation {org} does not exist")))?;
        incident.attribution = Some(
            self.intel
                .current()
                .attribute(&incident, Some(organisation.sector)),
        );
        refresh_summary(&mut incident);
        tx.save_incident(&incident).await?;
        tx.add_mail_evidence(&incident.id, &[id]).await?;
        let queued = lifecycle::after_change(
            tx,
            &self.config,
            &organisation,
            &mut incident,
            change,
            1,
            Sample::Mails(&[id]),
            Timestamp::now(),
        )
        .await?;
        Ok((incident.id, queued))
    }

    /// A stored message that a retro-hunt found to match indicators which arrived after
    /// it: its phishing incident is opened or extended and the organisation told.
    pub async fn absorb_hunted(
        &self,
        org: OrgId,
        stored: &StoredMail,
        matches: &[Match],
    ) -> Result<String, StoreError> {
        let mut tx = self.store.begin_intake().await?;
        let note = format!(
            "A retro-hunt found that a message received at {} matches indicators that \
             arrived later: {}.",
            stored.record.time.strftime("%Y-%m-%d %H:%M UTC"),
            matches
                .iter()
                .take(3)
                .map(indicators::mail_evidence)
                .collect::<Vec<_>>()
                .join("; ")
        );
        let (incident, queued) = self
            .open_phishing(
                &mut tx,
                org,
                stored.id,
                &stored.record,
                matches,
                Some(&note),
            )
            .await?;
        tx.commit().await?;
        if queued {
            self.outbox_wake.notify_one();
        }
        Ok(incident)
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Drops what is remembered of `org`'s domains, after one was verified, so that the
    /// next message is judged against the new set.
    pub async fn forget_domains(&self, org: OrgId) {
        self.own.lock().await.remove(&org);
    }

    async fn own_domains(&self, org: OrgId) -> Result<Arc<OwnDomains>, StoreError> {
        if let Some(own) = self.own.lock().await.get(&org) {
            return Ok(Arc::clone(own));
        }
        let organisation = self
            .store
            .organisation(org)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("organisation {org} does not exist")))?;
        let own = Arc::new(OwnDomains::new(&organisation.name, &organisation.domains));
        self.own.lock().await.insert(org, Arc::clone(&own));
        Ok(own)
    }

    /// Decodes, judges and (for enrolled recipients) keeps one raw message sent to `org`.
    pub async fn accept(
        &self,
        org: OrgId,
        raw: &[u8],
        origin: MailOrigin,
    ) -> Result<MailReport, MailIntakeError> {
        let mail = parse_message(raw, &self.limits)?;
        let own = self.own_domains(org).await?;
        let extracted = mail::signals::links::extract(&mail);
        let links = indicators::link_targets(&extracted.links);
        let seen = Observed::mail(&mail, links.iter().map(String::as_str));
        let matches = self
            .intel
            .current()
            .matches(&seen, mail.date.unwrap_or_else(Timestamp::now));
        let mut findings = self.analyser.findings_with_links(&mail, &own, &extracted);
        findings.extend(
            matches
                .iter()
                .map(|m| Finding::new(Code::KnownIndicator, indicators::mail_evidence(m))),
        );
        let analysis = self.analyser.verdict(findings);
        // Confirmed personal addresses are the organisation's business as its domains are;
        // only recipients outside its domains are looked up.
        let all = mail.recipients();
        let others: Vec<String> = all
            .iter()
            .filter(|r| !own.contains_address(r))
            .cloned()
            .collect();
        let personal = self.store.confirmed_personal(org, &others).await?;
        let recipients: Vec<String> = all
            .into_iter()
            .filter(|r| own.contains_address(r) || personal.contains(&r.trim().to_lowercase()))
            .collect();
        let mut report = MailReport {
            origin: origin.clone(),
            message_id: mail.message_id.clone(),
            analysis: analysis.clone(),
            recipients: recipients.clone(),
            disposition: Disposition::NotEnrolled,
            incident: None,
        };
        if recipients.is_empty() {
            return Ok(report);
        }
        let record = record(&mail, raw, recipients, origin, analysis, links);
        let mut tx = self.store.begin_intake().await?;
        let Some(id) = tx.insert_mail(org, &record).await? else {
            report.disposition = Disposition::Duplicate;
            return Ok(report);
        };
        report.disposition = Disposition::Stored;
        if record.analysis.verdict != Verdict::Phishing {
            tx.commit().await?;
            return Ok(report);
        }
        let (incident, queued) = self
            .open_phishing(&mut tx, org, id, &record, &matches, None)
            .await?;
        report.incident = Some(incident);
        tx.commit().await?;
        if queued {
            self.outbox_wake.notify_one();
        }
        Ok(report)
    }
}

/// What is kept of a message: headers to find it again and the verdict, never the body.
fn record(
    mail: &Mail,
    raw: &[u8],
    recipients: Vec<String>,
    origin: MailOrigin,
    analysis: MailAnalysis,
    links: Vec<String>,
) -> MailRecord {
    MailRecord {
        time: mail.date.unwrap_or_else(Timestamp::now),
        message_id: mail.message_id.clone(),
        from: mail.from.first().cloned().unwrap_or_default(),
        reply_to: mail.reply_to.first().map(|m| m.address.clone()),
        subject: mail.subject.clone(),
        recipients,
        attachments: mail
            .attachments
            .iter()
            .map(AttachmentRecord::from)
            .collect(),
        links,
        sha256: hex::encode(Sha256::digest(raw)),
        origin,
        analysis,
    }
}

/// The sending infrastructure a phishing message came from: the domain an attacker
/// registered (a lookalike), or, on a free-mail provider that millions share, the one
/// account.
fn sender(record: &MailRecord) -> Option<Sender> {
    let domain = record.from.domain()?.to_ascii_lowercase();
    Some(if mail::signals::impersonation::is_freemail(&domain) {
        Sender::Address(record.from.address.to_ascii_lowercase())
    } else {
        Sender::Domain(domain)
    })
}

/// The campaign a phishing message belongs to, by its sending infrastructure
/// ([`sender`]): messages from it to the same organisation are one incident.
pub fn campaign_key(record: &MailRecord) -> String {
    match sender(record) {
        Some(Sender::Domain(d)) => format!("phishing:{d}"),
        Some(Sender::Address(a)) => format!("phishing:{a}"),
        None => "phishing:unknown sender".into(),
    }
}

fn detection(org: OrgId, record: &MailRecord) -> Detection {
    let strongest: Vec<String> = record
        .analysis
        .reasons
        .iter()
        .filter(|r| r.weight > 0)
        .take(5)
        .map(|r| format!("{} ({:+}): {}", r.code, r.weight, r.evidence))
        .collect();
    let mut reasons = vec![format!(
        "A message from {} with the subject \"{}\" scored {} and was judged phishing.",
        record.from.address,
        mail::signals::clip(&record.subject, 120),
        record.analysis.score
    )];
    reasons.extend(strongest);
    let dangerous = record.analysis.reasons.iter().any(|r| {
        r.code.starts_with("attachment_") || r.code == "lookalike_sender" || r.code == "html_form"
    });
    Detection {
        kind: DetectionKind::Phishing,
        org,
        campaign_key: campaign_key(record),
        severity: if dangerous {
            Severity::High
        } else {
            Severity::Medium
        },
        first_seen: record.time,
        last_seen: record.time,
        accounts: record.recipients.clone(),
        sources: Vec::new(),
        compromised: Vec::new(),
        evidence: Vec::new(),
        reasons,
    }
}

/// The journal address of an organisation: `journal-<id>-<token>@<host>`. The token is
/// derived from the master key, so it is never stored and cannot be guessed from the id;
/// a mail system configured to journal to it proves it belongs to the organisation.
pub fn journal_local_part(master: &MasterKey, org: OrgId) -> String {
    format!("journal-{}-{}", org.0, journal_token(master, org))
}

fn journal_token(master: &MasterKey, org: OrgId) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(master.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("tocsin journal address v1 for organisation {}", org.0).as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..12])
}

/// The organisation a journal address belongs to, if its token is right.
pub fn journal_org(master: &MasterKey, address: &str) -> Option<OrgId> {
    let local = address.trim_matches(['<', '>']).split('@').next()?;
    let rest = local.to_ascii_lowercase();
    let rest = rest.strip_prefix("journal-")?;
    let (id, token) = rest.split_once('-')?;
    let org = OrgId(id.parse().ok()?);
    let expected = journal_token(master, org);
    // Compare in constant time: the token is a secret.
    let same = expected.len() == token.len()
        && expected
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    same.then_some(org)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{MailAnalysis, Mailbox};

    fn record(from: &str) -> MailRecord {
        MailRecord {
            time: Timestamp::UNIX_EPOCH,
            message_id: None,
            from: Mailbox {
                name: None,
                address: from.into(),
            },
            reply_to: None,
            subject: String::new(),
            recipients: vec![],
            attachments: vec![],
            links: vec![],
            sha256: String::new(),
            origin: MailOrigin::Upload {
                request: "r".into(),
                index: 1,
            },
            analysis: MailAnalysis {
                verdict: Verdict::Phishing,
                score: 60,
                reasons: vec![],
            },
        }
    }

    #[test]
    fn a_campaign_is_a_registered_domain_or_one_free_mail_account() {
        assert_eq!(
            campaign_key(&record("covid19@who-int.org")),
            "phishing:who-int.org"
        );
        assert_eq!(
            campaign_key(&record("sarah.miller.talent@gmail.com")),
            "phishing:sarah.miller.talent@gmail.com",
            "two strangers on gmail.com are not one campaign"
        );
        assert_eq!(campaign_key(&record("")), "phishing:unknown sender");
    }

    #[tokio::test]
    async fn journal_addresses_carry_a_token_only_the_service_can_make() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_for_tests(dir.path()).await.expect("store");
        let master = store.master_key();
        let local = journal_local_part(master, OrgId(7));
        assert_eq!(
            journal_org(master, &format!("{local}@tocsin.example")),
            Some(OrgId(7))
        );
        assert_eq!(
            journal_org(master, &format!("<{}@x>", local.to_uppercase())),
            Some(OrgId(7))
        );
        let forged = local.replacen("journal-7-", "journal-8-", 1);
        assert_eq!(
            journal_org(master, &format!("{forged}@tocsin.example")),
            None
        );
        assert_eq!(journal_org(master, "journal-7-00@tocsin.example"), None);
        assert_eq!(journal_org(master, "postmaster@tocsin.example"), None);
    }
}
