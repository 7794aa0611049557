//! E-mail notifications: rendering a notification document into a message a person reads
//! (plain text and HTML, in English or French), and sending it through an SMTP relay.
//!
//! Rendering happens when the notification is queued, from the same JSON document a
//! webhook receives, so every attempt sends the same message. A `digest` document becomes
//! one message listing its incidents in a few lines each. Everything an attacker
//! chose (sender names, subjects, addresses, URLs) is escaped in the HTML part and
//! defanged (`hxxp`, `[.]`) in both parts, so that no mail client turns it into a link.
//! Every sentence of a message comes from one language's table ([`EN`], [`FR`]); the
//! few texts that exist only in English (the detectors' own reasons, a playbook without
//! a translation) are placed under a heading that says so.
//!
//! What threat intelligence says (the indicators an incident matched, and who is probably
//! behind it) comes from feeds and, through them, from attackers: every such text is put
//! on one line, cut to a readable length and defanged before it reaches either part, so
//! it can neither be clicked nor forge lines of the plain-text part.

use std::fmt::Write as _;
use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::Value;

use crate::config::{EmailConfig, SmtpTls};
use crate::notice::{CONNECTOR_FAILED_EVENT, EmailNotice};
use store::Language;

/// How many accounts, sources or evidence rows an e-mail lists; the API has the rest.
const LISTED: usize = 25;

/// Every sentence of an e-mail, in one language.
pub struct Strings {
    /// Between a label and its value (French puts a space before the colon).
    pub colon: &'static str,
    pub severity: [&'static str; 4],
    /// `{n}` accounts; singular and plural.
    pub brute_force: [&'static str; 2],
    pub password_spray: [&'static str; 2],
    pub credential_stuffing: [&'static str; 2],
    pub distributed_spray: [&'static str; 2],
    pub cross_org_campaign: [&'static str; 2],
    pub phishing: [&'static str; 2],
    pub known_indicator: [&'static str; 2],
    pub other_attack: [&'static str; 2],
    /// `{severity}`, `{what}`, `{org}`.
    pub subject: &'static str,
    pub subject_escalated: &'static str,
    /// Later evidence on an open incident (`incident.updated`).
    pub subject_updated: &'static str,
    pub subject_test: &'static str,
    pub subject_connector: &'static str,
    /// `{n}` incidents, `{org}`; singular and plural.
    pub subject_digest: [&'static str; 2],
    pub intro_digest: &'static str,
    pub label_incident: &'static str,
    /// `{delivery}`.
    pub footer_digest: &'static str,
    pub footer_notice: &'static str,
    pub intro_opened: &'static str,
    pub intro_escalated: &'static str,
    pub intro_updated: &'static str,
    pub heading_what: &'static str,
    pub label_kind: &'static str,
    pub label_severity: &'static str,
    pub label_first_seen: &'static str,
    pub label_last_seen: &'static str,
    pub label_events: &'static str,
    pub heading_accounts: &'static str,
    pub heading_compromised: &'static str,
    pub compromised_note: &'static str,
    pub heading_sources: &'static str,
    pub heading_evidence: &'static str,
    pub evidence_columns: [&'static str; 5],
    pub outcome_success: &'static str,
    pub outcome_failure: &'static str,
    pub heading_messages: &'static str,
    pub label_from: &'static str,
    pub label_reply_to: &'static str,
    pub label_subject: &'static str,
    pub label_received: &'static str,
    pub label_recipients: &'static str,
    pub label_attachments: &'static str,
    pub label_score: &'static str,
    pub heading_actions: &'static str,
    pub heading_playbook: &'static str,
    pub heading_details: &'static str,
    /// Recommended actions that have no translation yet.
    pub heading_untranslated: &'static str,
    /// Said under a playbook written in another language than the reader's.
    pub playbook_in_english: &'static str,
    pub more: &'static str,
    pub footer: &'static str,
    pub test_body: &'static str,
    pub connector_body: &'static str,
    pub defanged_note: &'static str,
    pub heading_attribution: &'static str,
    /// `{actor}` for each estimative phrase: almost certainly, very likely, likely,
    /// roughly even chance.
    pub attributed: [&'static str; 4],
    /// Low, moderate, high confidence.
    pub confidence: [&'static str; 3],
    /// `{reason}`: the first sentence of the attribution's evidence.
    pub unattributed: &'static str,
    pub unattributed_plain: &'static str,
    /// `{actors}`: the alternatives the indicators point to.
    pub conflicting: &'static str,
    /// `{actors}`: other actors the clues fit, each with its confidence.
    pub alternatives: &'static str,
    /// Above the evidence sentences, which tocsin writes in English.
    pub attribution_evidence: &'static str,
    pub heading_indicators: &'static str,
    /// `{observed}`, `{field}`, `{indicator}`, `{feed}`.
    pub indicator_item: &'static str,
    /// `{actors}`, right after an indicator the feed links to actors.
    pub indicator_actors: &'static str,
}

pub const EN: Strings = Strings {
    colon: ": ",
    severity: ["Low", "Medium", "High", "Critical"],
    brute_force: [
        "brute force against {n} account",
        "brute force against {n} accounts",
    ],
    password_spray: [
        "password spray against {n} account",
        "password spray against {n} accounts",
    ],
    credential_stuffing: [
        "credential stuffing against {n} account",
        "credential stuffing against {n} accounts",
    ],
    distributed_spray: [
        "distributed password spray against {n} account",
        "distributed password spray against {n} accounts",
    ],
    cross_org_campaign: [
        "campaign across organisations against {n} account",
        "campaign across organisations against {n} accounts",
    ],
    phishing: [
        "phishing sent to {n} recipient",
        "phishing sent to {n} recipients",
    ],
    known_indicator: [
        "sign-ins from known hostile infrastructure to {n} account",
        "sign-ins from known hostile infrastructure to {n} accounts",
    ],
    other_attack: ["attack on {n} account", "attack on {n} accounts"],
    subject: "[tocsin] {severity}: {what} of {org}",
    subject_escalated: "[tocsin] {severity} (worse): {what} of {org}",
    subject_updated: "[tocsin] {severity} (update): {what} of {org}",
    subject_test: "[tocsin] Test notification for {org}",
    subject_connector: "[tocsin] Sign-in logs of {org} stopped arriving ({connector})",
    subject_digest: [
        "[tocsin] Digest: {n} incident of {org}",
        "[tocsin] Digest: {n} incidents of {org}",
    ],
    intro_digest: "tocsin held these less urgent incidents of {org} for its daily digest. Each says what happened and, when it is known, who is behind it.",
    label_incident: "Incident",
    footer_digest: "Notification {delivery}. This message was sent automatically by tocsin; replies are not read. Every incident and its evidence are available through the API: GET /api/v1/incidents/{id}.",
    footer_notice: "Notification {delivery}. This message was sent automatically by tocsin; replies are not read. Each connector's state is available through the API: GET /api/v1/org/connectors.",
    intro_opened: "tocsin detected an attack against {org}. What follows is what it saw and what to do now.",
    intro_escalated: "An attack against {org} that tocsin already reported has got worse. What follows is what it saw and what to do now.",
    intro_updated: "There is new evidence on an attack against {org} that tocsin already reported. What follows is what it saw and what to do now.",
    heading_what: "What happened",
    label_kind: "Attack",
    label_severity: "Severity",
    label_first_seen: "First seen",
    label_last_seen: "Last seen",
    label_events: "Events behind it",
    heading_accounts: "Accounts targeted",
    heading_compromised: "Accounts believed compromised",
    compromised_note: "The attacker signed in to these accounts: treat them as in the attacker's hands.",
    heading_sources: "Where the attack came from",
    heading_evidence: "Sign-ins",
    evidence_columns: ["Time (UTC)", "Account", "Source", "Outcome", "Country"],
    outcome_success: "success",
    outcome_failure: "failure",
    heading_messages: "Messages",
    label_from: "From",
    label_reply_to: "Reply-To",
    label_subject: "Subject",
    label_received: "Sent",
    label_recipients: "Recipients",
    label_attachments: "Attachments",
    label_score: "Phishing score",
    heading_actions: "What to do now",
    heading_playbook: "Playbook",
    heading_details: "Why tocsin raised it",
    heading_untranslated: "Further actions",
    playbook_in_english: "",
    more: "and {n} more",
    footer: "Incident {incident}, notification {delivery}. This message was sent automatically by tocsin; replies are not read. Every piece of evidence is available through the API: GET /api/v1/incidents/{incident}.",
    connector_body: "tocsin can no longer read the sign-in logs of {org} through the connector \"{connector}\" ({kind}): {reason}\n\nUntil this is fixed, attacks on these accounts cannot be detected. What to do: {action} Then set the credential again (PUT /api/v1/org/connectors/{connector}); pulling resumes where it stopped, with nothing lost. You are told once; the connector keeps retrying.",
    test_body: "This is a test notification that {org} asked for. It proves that notifications from tocsin reach this address. No attack was detected and there is nothing to do.",
    defanged_note: "Addresses and links chosen by the attacker are defanged (hxxp, [.]) so that they cannot be clicked.",
    heading_attribution: "Who is behind it",
    attributed: [
        "Almost certainly {actor}",
        "Very likely {actor}",
        "Likely {actor}",
        "Roughly even chance that it is {actor}",
    ],
    confidence: ["low confidence", "moderate confidence", "high confidence"],
    unattributed: "Not attributed: {reason}",
    unattributed_plain: "Not attributed.",
    conflicting: "Not attributed: the indicators point to more than one actor ({actors}).",
    alternatives: "Also possible: {actors}.",
    attribution_evidence: "What this rests on:",
    heading_indicators: "Indicators matched",
    indicator_item: "{observed} ({field}) matched {indicator} from feed {feed}",
    indicator_actors: "; linked to {actors}",
};

pub const FR: Strings = Strings {
    colon: "\u{a0}: ",
    severity: ["Faible", "Moyenne", "Élevée", "Critique"],
    brute_force: [
        "force brute contre {n} compte",
        "force brute contre {n} comptes",
    ],
    password_spray: [
        "pulvérisation de mots de passe contre {n} compte",
        "pulvérisation de mots de passe contre {n} comptes",
    ],
    credential_stuffing: [
        "bourrage d'identifiants contre {n} compte",
        "bourrage d'identifiants contre {n} comptes",
    ],
    distributed_spray: [
        "pulvérisation distribuée de mots de passe contre {n} compte",
        "pulvérisation distribuée de mots de passe contre {n} comptes",
    ],
    cross_org_campaign: [
        "campagne multi-organisations contre {n} compte",
        "campagne multi-organisations contre {n} comptes",
    ],
    phishing: [
        "hameçonnage envoyé à {n} destinataire",
        "hameçonnage envoyé à {n} destinataires",
    ],
    known_indicator: [
        "connexions depuis une infrastructure hostile connue vers {n} compte",
        "connexions depuis une infrastructure hostile connue vers {n} comptes",
    ],
    other_attack: ["attaque contre {n} compte", "attaque contre {n} comptes"],
    subject: "[tocsin] {severity} : {what} de {org}",
    subject_escalated: "[tocsin] {severity} (aggravation) : {what} de {org}",
    subject_updated: "[tocsin] {severity} (mise à jour) : {what} de {org}",
    subject_test: "[tocsin] Notification de test pour {org}",
    subject_connector: "[tocsin] Les journaux de connexion de {org} n'arrivent plus ({connector})",
    subject_digest: [
        "[tocsin] Récapitulatif : {n} incident de {org}",
        "[tocsin] Récapitulatif : {n} incidents de {org}",
    ],
    intro_digest: "tocsin a réuni dans ce récapitulatif quotidien les incidents moins urgents de {org}. Pour chacun : ce qui s'est passé et, quand on le sait, qui est derrière.",
    label_incident: "Incident",
    footer_digest: "Notification {delivery}. Ce message a été envoyé automatiquement par tocsin ; les réponses ne sont pas lues. Chaque incident et ses preuves sont disponibles par l'API : GET /api/v1/incidents/{id}.",
    footer_notice: "Notification {delivery}. Ce message a été envoyé automatiquement par tocsin ; les réponses ne sont pas lues. L'état de chaque connecteur est disponible par l'API : GET /api/v1/org/connectors.",
    intro_opened: "tocsin a détecté une attaque contre {org}. Voici ce qui a été observé et ce qu'il faut faire maintenant.",
    intro_escalated: "Une attaque contre {org} déjà signalée par tocsin s'est aggravée. Voici ce qui a été observé et ce qu'il faut faire maintenant.",
    intro_updated: "De nouveaux éléments sont apparus sur une attaque contre {org} déjà signalée par tocsin. Voici ce qui a été observé et ce qu'il faut faire maintenant.",
    heading_what: "Ce qui s'est passé",
    label_kind: "Attaque",
    label_severity: "Gravité",
    label_first_seen: "Première observation",
    label_last_seen: "Dernière observation",
    label_events: "Événements en cause",
    heading_accounts: "Comptes visés",
    heading_compromised: "Comptes probablement compromis",
    compromised_note: "L'attaquant s'est connecté à ces comptes : considérez qu'ils sont entre ses mains.",
    heading_sources: "Provenance de l'attaque",
    heading_evidence: "Connexions",
    evidence_columns: ["Heure (UTC)", "Compte", "Source", "Résultat", "Pays"],
    outcome_success: "réussite",
    outcome_failure: "échec",
    heading_messages: "Messages",
    label_from: "Expéditeur",
    label_reply_to: "Répondre à",
    label_subject: "Objet",
    label_received: "Envoyé le",
    label_recipients: "Destinataires",
    label_attachments: "Pièces jointes",
    label_score: "Score d'hameçonnage",
    heading_actions: "Que faire maintenant",
    heading_playbook: "Procédure",
    heading_details: "Pourquoi tocsin a donné l'alerte (texte des détecteurs, en anglais)",
    heading_untranslated: "Autres mesures (en anglais)",
    playbook_in_english: "Cette procédure n'est rédigée qu'en anglais.",
    more: "et {n} de plus",
    footer: "Incident {incident}, notification {delivery}. Ce message a été envoyé automatiquement par tocsin ; les réponses ne sont pas lues. Toutes les preuves sont disponibles par l'API : GET /api/v1/incidents/{incident}.",
    connector_body: "tocsin ne peut plus lire les journaux de connexion de {org} par le connecteur \"{connector}\" ({kind}) : {reason}\n\nTant que ce n'est pas corrigé, les attaques contre ces comptes ne peuvent pas être détectées. Que faire : {action} Puis renseignez à nouveau l'identifiant (PUT /api/v1/org/connectors/{connector}) ; la collecte reprend là où elle s'est arrêtée, sans perte. Vous n'êtes prévenu qu'une fois ; le connecteur continue d'essayer.",
    test_body: "Ceci est une notification de test demandée par {org}. Elle prouve que les notifications de tocsin parviennent à cette adresse. Aucune attaque n'a été détectée et il n'y a rien à faire.",
    defanged_note: "Les adresses et liens choisis par l'attaquant sont neutralisés (hxxp, [.]) pour qu'on ne puisse pas cliquer dessus.",
    heading_attribution: "Qui est derrière l'attaque",
    attributed: [
        "Presque certainement {actor}",
        "Très probablement {actor}",
        "Probablement {actor}",
        "Une chance sur deux qu'il s'agisse de {actor}",
    ],
    confidence: ["confiance faible", "confiance modérée", "confiance élevée"],
    unattributed: "Attaque non attribuée\u{a0}: {reason}",
    unattributed_plain: "Attaque non attribuée.",
    conflicting: "Attaque non attribuée\u{a0}: les indicateurs désignent plusieurs acteurs ({actors}).",
    alternatives: "Autres possibilités\u{a0}: {actors}.",
    attribution_evidence: "Éléments retenus (rédigés en anglais)\u{a0}:",
    heading_indicators: "Indicateurs correspondants",
    indicator_item: "{observed} ({field}) correspond à {indicator} du flux {feed}",
    indicator_actors: " ; lié à {actors}",
};

/// The French of every recommended action `payload` can write. An action missing here is
/// shown under a heading that says it is in English (a test keeps this table complete).
const ACTIONS_FR: &[(&str, &str)] = &[
    (
        "Treat the compromised accounts as in the attacker's hands: reset their passwords and revoke all their sessions and refresh tokens now.",
        "Considérez les comptes compromis comme entre les mains de l'attaquant : réinitialisez leurs mots de passe et révoquez dès maintenant toutes leurs sessions et jetons d'actualisation.",
    ),
    (
        "Check the compromised accounts for new MFA methods, mailbox forwarding or inbox rules, OAuth consents and sent mail since the attack began, and remove what the owner did not add.",
        "Vérifiez sur les comptes compromis les nouvelles méthodes d'authentification multifacteur, les transferts et règles de boîte aux lettres, les consentements OAuth et les messages envoyés depuis le début de l'attaque, et supprimez ce que le titulaire n'a pas ajouté.",
    ),
    (
        "Block the listed source addresses at the identity provider or firewall.",
        "Bloquez les adresses sources listées au niveau du fournisseur d'identité ou du pare-feu.",
    ),
    (
        "Make sure the targeted accounts use multi-factor authentication and a long, unique password.",
        "Assurez-vous que les comptes visés utilisent l'authentification multifacteur et un mot de passe long et unique.",
    ),
    (
        "Confirm that account lockout (or Entra smart lockout) is on for these accounts.",
        "Vérifiez que le verrouillage de compte (ou le verrouillage intelligent d'Entra) est actif pour ces comptes.",
    ),
    (
        "The attacker is replaying a list of leaked user names and passwords: force a password reset for every listed account that exists, and check staff addresses against breach notification services.",
        "L'attaquant rejoue une liste d'identifiants et de mots de passe divulgués : imposez la réinitialisation du mot de passe de chaque compte listé qui existe, et vérifiez les adresses du personnel auprès des services de notification de fuites.",
    ),
    (
        "Require multi-factor authentication and block legacy authentication, so that a leaked password alone is not enough.",
        "Exigez l'authentification multifacteur et bloquez l'authentification héritée, afin qu'un mot de passe divulgué ne suffise pas.",
    ),
    (
        "Require multi-factor authentication for every targeted account and block legacy authentication (IMAP, POP, SMTP AUTH, Exchange ActiveSync with basic auth), which sprays rely on.",
        "Exigez l'authentification multifacteur pour chaque compte visé et bloquez l'authentification héritée (IMAP, POP, SMTP AUTH, Exchange ActiveSync en authentification de base), sur laquelle reposent les pulvérisations.",
    ),
    (
        "Look for any successful sign-in from the listed addresses, and ban common and breached passwords (Entra password protection).",
        "Recherchez toute connexion réussie depuis les adresses listées, et interdisez les mots de passe courants et divulgués (protection par mot de passe d'Entra).",
    ),
    (
        "Tell the listed recipients not to open the message's links or attachments, and not to reply; if anyone did, or typed a password on a page it led to, reset that password and revoke the account's sessions now.",
        "Demandez aux destinataires listés de ne pas ouvrir les liens ou pièces jointes du message et de ne pas y répondre ; si quelqu'un l'a fait, ou a saisi un mot de passe sur une page vers laquelle il menait, réinitialisez ce mot de passe et révoquez dès maintenant les sessions du compte.",
    ),
    (
        "Find and remove every copy of the message from all mailboxes (Microsoft 365: Content search and purge; Google Workspace: the security investigation tool), searching by sender and subject.",
        "Retrouvez et supprimez chaque copie du message dans toutes les boîtes aux lettres (Microsoft 365 : recherche de contenu et purge ; Google Workspace : outil d'enquête de sécurité), en cherchant par expéditeur et par objet.",
    ),
    (
        "Block the sender's domain and the link hosts listed in the evidence at the mail gateway and the web proxy.",
        "Bloquez le domaine de l'expéditeur et les hôtes des liens listés dans les preuves sur la passerelle de messagerie et le proxy web.",
    ),
    (
        "If an attachment was opened, isolate that computer and have it checked for malware before it reconnects.",
        "Si une pièce jointe a été ouverte, isolez cet ordinateur et faites-le analyser avant qu'il ne se reconnecte.",
    ),
    (
        "Block the listed source addresses at the identity provider, VPN and firewall: the operator's threat intelligence names them.",
        "Bloquez les adresses sources listées au niveau du fournisseur d'identité, du VPN et du pare-feu : le renseignement sur les menaces de l'opérateur les désigne.",
    ),
    (
        "Check every listed account for a successful sign-in from these addresses, and treat any account that has one as compromised.",
        "Vérifiez pour chaque compte listé s'il y a eu une connexion réussie depuis ces adresses, et considérez comme compromis tout compte qui en a une.",
    ),
    (
        "Require multi-factor authentication for the targeted accounts and block legacy authentication.",
        "Exigez l'authentification multifacteur pour les comptes visés et bloquez l'authentification héritée.",
    ),
];

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the notification document is not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
}

pub fn strings(language: Language) -> &'static Strings {
    match language {
        Language::En => &EN,
        Language::Fr => &FR,
    }
}

/// The Message-ID of the e-mail queued as outbox row `delivery_id`.
pub fn message_id(delivery_id: &str, domain: &str) -> String {
    format!("<{delivery_id}@{domain}>")
}

/// Renders a notification document (the webhook body, or a test notification) for one
/// reader.
pub fn render(
    document: &str,
    language: Language,
    message_id: String,
) -> Result<EmailNotice, RenderError> {
    let doc: Value = serde_json::from_str(document)?;
    let s = strings(language);
    let org = text(&doc["organisation"]["name"]);
    let event = text(&doc["event"]);
    if event == "notification.test" {
        let body = fill(s.test_body, &[("org", &org)]);
        let footer = fill(
            s.footer,
            &[("incident", "-"), ("delivery", &text(&doc["delivery_id"]))],
        );
        return Ok(EmailNotice {
            subject: fill(s.subject_test, &[("org", &org)]),
            text: format!("{body}\n\n-- \n{footer}\n"),
            html: page(&format!(
                "<p>{}</p>\n<hr>\n<p style=\"color:#555;font-size:90%\">{}</p>\n",
                escape(&body),
                escape(&footer)
            )),
            message_id,
        });
    }
    if event == CONNECTOR_FAILED_EVENT {
        let connector = &doc["connector"];
        let name = text(&connector["name"]);
        let body = fill(
            s.connector_body,
            &[
                ("org", &org),
                ("connector", &name),
                ("kind", &text(&connector["kind"])),
                ("reason", &text(&connector["error"])),
                ("action", &text(&connector["action"])),
            ],
        );
        let footer = fill(s.footer_notice, &[("delivery", &text(&doc["delivery_id"]))]);
        let paragraphs: String = body
            .split("\n\n")
            .map(|p| format!("<p>{}</p>\n", escape(p)))
            .collect();
        return Ok(EmailNotice {
            subject: fill(s.subject_connector, &[("org", &org), ("connector", &name)]),
            text: format!("{body}\n\n-- \n{footer}\n"),
            html: page(&format!(
                "{paragraphs}<hr>\n<p style=\"color:#555;font-size:90%\">{}</p>\n",
                escape(&footer)
            )),
            message_id,
        });
    }
    if event == "digest" {
        return Ok(render_digest(&doc, s, &org, message_id));
    }
    let incident = &doc["incident"];
    let mut out = Sections {
        colon: s.colon,
        ..Sections::default()
    };
    let severity = severity(s, &text(&incident["severity"]));
    let accounts = list(&incident["accounts"]);
    let what = kind_phrase(s, &text(&incident["kind"]), accounts.len());
    let (subject_template, intro) = match event.as_str() {
        "incident.escalated" => (s.subject_escalated, s.intro_escalated),
        "incident.updated" => (s.subject_updated, s.intro_updated),
        _ => (s.subject, s.intro_opened),
    };
    let subject = fill(
        subject_template,
        &[("severity", severity), ("what", &what), ("org", &org)],
    );
    out.paragraph(&fill(intro, &[("org", &org)]));
    out.heading(s.heading_what);
    let technique = text(&incident["technique"]);
    let kind_label = if technique.is_empty() {
        what.clone()
    } else {
        format!("{what} (MITRE ATT&CK {technique})")
    };
    out.fields(&[
        (s.label_kind, kind_label),
        (s.label_severity, severity.to_owned()),
        (s.label_first_seen, time(&incident["first_seen"])),
        (s.label_last_seen, time(&incident["last_seen"])),
        (s.label_events, text(&incident["evidence_count"])),
    ]);
    let compromised = list(&incident["compromised_accounts"]);
    if !compromised.is_empty() {
        out.heading(s.heading_compromised);
        out.paragraph(s.compromised_note);
        out.items(s, &compromised);
    }
    if incident["attribution"].is_object() {
        attribution_section(&mut out, s, &incident["attribution"]);
    }
    out.heading(s.heading_accounts);
    out.items(s, &accounts);
    let sources: Vec<String> = list(&incident["sources"])
        .iter()
        .map(|v| defang(v))
        .collect();
    let indicators = incident["indicators"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if !sources.is_empty() {
        out.heading(s.heading_sources);
        out.items(s, &sources);
        if indicators.is_empty() {
            out.paragraph(s.defanged_note);
        }
    }
    if !indicators.is_empty() {
        let total = incident["indicator_count"]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(indicators.len());
        indicators_section(&mut out, s, indicators, total);
    }
    let evidence = doc["evidence"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if !evidence.is_empty() {
        out.heading(s.heading_evidence);
        let rows: Vec<[String; 5]> = evidence
            .iter()
            .take(LISTED)
            .map(|e| {
                let outcome = match e["outcome"].as_str() {
                    Some("success") => s.outcome_success.to_owned(),
                    Some("failure") => s.outcome_failure.to_owned(),
                    other => other.unwrap_or_default().to_owned(),
                };
                [
                    time(&e["time"]),
                    text(&e["account"]),
                    defang(&text(&e["source_ip"])),
                    outcome,
                    text(&e["country"]),
                ]
            })
            .collect();
        out.table(&s.evidence_columns, &rows);
    }
    let messages = doc["messages"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if !messages.is_empty() {
        out.heading(s.heading_messages);
        for m in messages.iter().take(LISTED) {
            let from = match (m["from"]["name"].as_str(), m["from"]["address"].as_str()) {
                (Some(name), Some(address)) if !name.is_empty() => {
                    format!("{} <{}>", defang(name), defang(address))
                }
                (_, Some(address)) => defang(address),
                _ => String::new(),
            };
            let mut fields = vec![
                (s.label_from, from),
                (s.label_subject, defang(&text(&m["subject"]))),
                (s.label_received, time(&m["time"])),
                (s.label_recipients, list(&m["recipients"]).join(", ")),
            ];
            if let Some(reply_to) = m["reply_to"].as_str() {
                fields.insert(1, (s.label_reply_to, defang(reply_to)));
            }
            let attachments: Vec<String> = m["attachments"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .map(|a| text(&a["name"]))
                .collect();
            if !attachments.is_empty() {
                fields.push((s.label_attachments, attachments.join(", ")));
            }
            fields.push((s.label_score, text(&m["score"])));
            out.fields(&fields);
        }
        out.paragraph(s.defanged_note);
    }
    // The playbooks (the account-compromise one first when an account is believed taken)
    // are data files in both languages: the reader gets the one in their language, found
    // by its id; the document's own (English) text only when this tocsin lacks the id.
    let mut playbooks = 0;
    for key in ["compromise_playbook", "playbook"] {
        if doc[key].is_object() {
            playbook_section(&mut out, s, language, &doc[key]);
            playbooks += 1;
        }
    }
    let actions = list(&doc["recommended_actions"]);
    if playbooks == 0 && !actions.is_empty() {
        out.heading(s.heading_actions);
        let (translated, untranslated) = translate_actions(language, &actions);
        out.numbered(&translated);
        if !untranslated.is_empty() {
            out.heading(s.heading_untranslated);
            out.numbered(&untranslated);
        }
    }
    let reasons: Vec<String> = list(&incident["reasons"])
        .iter()
        .map(|r| defang(r))
        .collect();
    if !reasons.is_empty() || !text(&incident["summary"]).is_empty() {
        out.heading(s.heading_details);
        let summary = text(&incident["summary"]);
        if !summary.is_empty() {
            out.paragraph(&defang(&summary));
        }
        out.items(s, &reasons);
    }
    let footer = fill(
        s.footer,
        &[
            ("incident", &text(&incident["id"])),
            ("delivery", &text(&doc["delivery_id"])),
        ],
    );
    out.footer(&footer);
    Ok(EmailNotice {
        subject,
        text: out.text,
        html: page(&out.html),
        message_id,
    })
}

/// How long a feed's or an attacker's text may be in an e-mail; longer is cut with `…`.
const FEED_TEXT: usize = 200;
/// Evidence sentences of an attribution an e-mail quotes; the API has all.
const ATTRIBUTION_EVIDENCE: usize = 3;
/// Aliases named after an actor's name, as in the attribution's own headline.
const ALIASES: usize = 2;

/// Text from a feed or an attacker, fit for either part: one line, at most
/// [`FEED_TEXT`] characters, defanged.
fn feed_text(value: &str) -> String {
    defang(&one_line(value))
}

/// One line: control and bidirectional-override characters shown as `[U+202E]`, at most
/// [`FEED_TEXT`] characters with `…` when cut.
fn one_line(value: &str) -> String {
    let mut line = String::with_capacity(value.len().min(FEED_TEXT * 4));
    for (n, c) in value.chars().enumerate() {
        if n == FEED_TEXT {
            line.push('…');
            break;
        }
        if c.is_control() || is_bidi_control(c) {
            let _ = write!(line, "[U+{:04X}]", u32::from(c));
        } else {
            line.push(c);
        }
    }
    line
}

/// Characters that reorder text on screen, so that what a reader sees is not what is
/// there (CVE-2021-42574).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// "Forest Blizzard (STRONTIUM, APT28)".
fn actor_name(actor: &Value) -> String {
    let name = feed_text(&text(&actor["name"]));
    let aliases: Vec<String> = actor["aliases"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .take(ALIASES)
        .map(|a| feed_text(&text(a)))
        .collect();
    if aliases.is_empty() {
        name
    } else {
        format!("{name} ({})", aliases.join(", "))
    }
}

fn confidence(s: &Strings, confidence: &str) -> Option<&'static str> {
    match confidence {
        "low" => Some(s.confidence[0]),
        "moderate" => Some(s.confidence[1]),
        "high" => Some(s.confidence[2]),
        _ => None,
    }
}

/// "Very likely Forest Blizzard (STRONTIUM, APT28) — high confidence", the alternatives,
/// and the first evidence sentences; or why nobody is named.
fn attribution_section(out: &mut Sections, s: &Strings, attribution: &Value) {
    let evidence: Vec<String> = list(&attribution["evidence"])
        .iter()
        .map(|e| feed_text(e))
        .collect();
    let alternatives: Vec<String> = attribution["alternatives"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .take(intel::attribution::MAX_ALTERNATIVES)
        .map(|a| {
            let name = feed_text(&text(&a["name"]));
            match confidence(s, &text(&a["confidence"])) {
                Some(c) => format!("{name} ({c})"),
                None => name,
            }
        })
        .collect();
    let (headline, reason_used) = attribution_headline(s, attribution);
    // The evidence sentences quoted below the headline: for an unattributed incident the
    // first one is the headline's reason already.
    let quoted = &evidence[usize::from(reason_used).min(evidence.len())..];
    out.heading(s.heading_attribution);
    out.strong(&headline);
    if attribution["actor"].is_object() && !alternatives.is_empty() {
        out.paragraph(&fill(
            s.alternatives,
            &[("actors", &alternatives.join(", "))],
        ));
    }
    if !quoted.is_empty() {
        out.paragraph(s.attribution_evidence);
        let shown: Vec<String> = quoted.iter().take(ATTRIBUTION_EVIDENCE).cloned().collect();
        out.items(s, &shown);
    }
}

/// The attribution in one line of the reader's language, and whether that line quotes
/// the first evidence sentence (the reason an incident is unattributed).
fn attribution_headline(s: &Strings, attribution: &Value) -> (String, bool) {
    let words = text(&attribution["words"]);
    let phrase = match words.as_str() {
        model::attribution::ALMOST_CERTAINLY => Some(s.attributed[0]),
        model::attribution::VERY_LIKELY => Some(s.attributed[1]),
        model::attribution::LIKELY => Some(s.attributed[2]),
        model::attribution::ROUGHLY_EVEN_CHANCE => Some(s.attributed[3]),
        _ => None,
    };
    let alternatives = attribution["alternatives"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if attribution["actor"].is_object() {
        let actor = actor_name(&attribution["actor"]);
        let named = match phrase {
            Some(phrase) => fill(phrase, &[("actor", &actor)]),
            // Words this tocsin does not know (a newer scale): the document's own.
            None => feed_text(&text(&attribution["headline"])),
        };
        let headline = match confidence(s, &text(&attribution["confidence"])) {
            Some(c) if phrase.is_some() => format!("{named} — {c}"),
            _ => named,
        };
        (headline, false)
    } else if attribution["conflict"].as_bool() == Some(true) && !alternatives.is_empty() {
        let names: Vec<String> = alternatives
            .iter()
            .take(intel::attribution::MAX_ALTERNATIVES)
            .map(|a| feed_text(&text(&a["name"])))
            .collect();
        (fill(s.conflicting, &[("actors", &names.join(", "))]), false)
    } else {
        match attribution["evidence"].get(0).map(text) {
            Some(reason) => (
                fill(s.unattributed, &[("reason", &feed_text(&reason))]),
                true,
            ),
            None => (s.unattributed_plain.to_owned(), false),
        }
    }
}

/// Each indicator matched: the value seen, what it was compared as, the indicator and
/// its feed, and the actors the feed links it to; "and n more" up to `total`.
fn indicators_section(out: &mut Sections, s: &Strings, indicators: &[Value], total: usize) {
    let mut items: Vec<String> = indicators
        .iter()
        .take(crate::payload::INDICATORS_IN_NOTIFICATION)
        .map(|m| {
            let item = fill(
                s.indicator_item,
                &[
                    ("observed", &feed_text(&text(&m["observed"]))),
                    ("field", &feed_text(&text(&m["field"]))),
                    ("indicator", &feed_text(&text(&m["indicator"]))),
                    ("feed", &feed_text(&text(&m["feed"]))),
                ],
            );
            let actors: Vec<String> = list(&m["actors"])
                .iter()
                .take(ALIASES + 1)
                .map(|a| feed_text(a))
                .collect();
            if actors.is_empty() {
                item
            } else {
                item + &fill(s.indicator_actors, &[("actors", &actors.join(", "))])
            }
        })
        .collect();
    let shown = items.len();
    out.heading(s.heading_indicators);
    if total > shown {
        // `items` says "and n more" itself past LISTED; past the document's cut, say it
        // here.
        items.push(fill(s.more, &[("n", &(total - shown).to_string())]));
    }
    out.items(s, &items);
    out.paragraph(s.defanged_note);
}

/// Items listed on one line of a digest before "and n more".
const IN_DIGEST_LINE: usize = 5;

/// The daily digest: for each incident (up to [`LISTED`]) what it was, when, against
/// whom, from where, and who is behind it, with its id to look it up.
fn render_digest(doc: &Value, s: &Strings, org: &str, message_id: String) -> EmailNotice {
    let incidents = doc["incidents"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let n = incidents.len();
    let subject = fill(
        s.subject_digest[usize::from(n != 1)],
        &[("n", &n.to_string()), ("org", org)],
    );
    let mut out = Sections {
        colon: s.colon,
        ..Sections::default()
    };
    out.paragraph(&fill(s.intro_digest, &[("org", org)]));
    let joined = |items: Vec<String>| -> String {
        let mut shown: Vec<String> = items.iter().take(IN_DIGEST_LINE).cloned().collect();
        if items.len() > IN_DIGEST_LINE {
            shown.push(fill(
                s.more,
                &[("n", &(items.len() - IN_DIGEST_LINE).to_string())],
            ));
        }
        shown.join(", ")
    };
    for item in incidents.iter().take(LISTED) {
        let incident = &item["incident"];
        let accounts: Vec<String> = list(&incident["accounts"])
            .iter()
            .map(|a| one_line(a))
            .collect();
        let what = kind_phrase(s, &text(&incident["kind"]), accounts.len());
        out.heading(&format!(
            "{}{}{what}",
            severity(s, &text(&incident["severity"])),
            s.colon
        ));
        let mut fields = vec![
            (s.label_first_seen, time(&incident["first_seen"])),
            (s.label_last_seen, time(&incident["last_seen"])),
            (s.label_events, text(&incident["evidence_count"])),
            (s.heading_accounts, joined(accounts)),
        ];
        let sources: Vec<String> = list(&incident["sources"])
            .iter()
            .map(|v| feed_text(v))
            .collect();
        if !sources.is_empty() {
            fields.push((s.heading_sources, joined(sources)));
        }
        if incident["attribution"].is_object() {
            let (headline, _) = attribution_headline(s, &incident["attribution"]);
            fields.push((s.heading_attribution, headline));
        }
        let indicators: Vec<String> = incident["indicators"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(|m| feed_text(&text(&m["observed"])))
            .collect();
        if !indicators.is_empty() {
            fields.push((s.heading_indicators, joined(indicators)));
        }
        fields.push((s.label_incident, one_line(&text(&incident["id"]))));
        out.fields(&fields);
    }
    if n > LISTED {
        out.paragraph(&fill(s.more, &[("n", &(n - LISTED).to_string())]));
    }
    out.paragraph(s.defanged_note);
    out.footer(&fill(
        s.footer_digest,
        &[("delivery", &text(&doc["delivery_id"]))],
    ));
    EmailNotice {
        subject,
        text: out.text,
        html: page(&out.html),
        message_id,
    }
}

/// One playbook: its title, id and version, then its numbered steps.
fn playbook_section(out: &mut Sections, s: &Strings, language: Language, playbook: &Value) {
    let id = text(&playbook["id"]);
    let own = crate::playbook::Language::parse(language.as_str())
        .and_then(|wanted| crate::playbook::by_id(&id).map(|p| p.in_language(wanted)));
    let (title, version, steps, written_in) = match own {
        Some(own) => (
            own.title.to_owned(),
            own.version.to_string(),
            own.actions.to_vec(),
            language.as_str().to_owned(),
        ),
        None => (
            text(&playbook["title"]),
            text(&playbook["version"]),
            playbook["actions"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .map(|a| match a {
                    Value::String(step) => step.clone(),
                    // A structured step: its title, then its detail.
                    other => [text(&other["title"]), text(&other["detail"])]
                        .into_iter()
                        .filter(|t| !t.is_empty())
                        .collect::<Vec<_>>()
                        .join(": "),
                })
                .collect(),
            playbook["language"].as_str().unwrap_or("en").to_owned(),
        ),
    };
    out.heading(&format!(
        "{}{}{title} ({id}, v{version})",
        s.heading_playbook, s.colon
    ));
    if written_in != language.as_str() && !s.playbook_in_english.is_empty() {
        out.paragraph(s.playbook_in_english);
    }
    out.numbered(&steps);
}

fn translate_actions(language: Language, actions: &[String]) -> (Vec<String>, Vec<String>) {
    if language == Language::En {
        return (actions.to_vec(), Vec::new());
    }
    let mut translated = Vec::new();
    let mut untranslated = Vec::new();
    for action in actions {
        match ACTIONS_FR.iter().find(|(en, _)| en == action) {
            Some((_, fr)) => translated.push((*fr).to_owned()),
            None => untranslated.push(action.clone()),
        }
    }
    (translated, untranslated)
}

/// A message's text and HTML parts, written side by side so they say the same.
#[derive(Default)]
struct Sections {
    text: String,
    html: String,
    colon: &'static str,
}

impl Sections {
    fn paragraph(&mut self, line: &str) {
        let _ = writeln!(self.text, "{line}\n");
        let _ = writeln!(self.html, "<p>{}</p>", escape(line));
    }

    /// A paragraph that matters most in its section, in bold in the HTML part.
    fn strong(&mut self, line: &str) {
        let _ = writeln!(self.text, "{line}\n");
        let _ = writeln!(self.html, "<p><strong>{}</strong></p>", escape(line));
    }

    fn heading(&mut self, title: &str) {
        let _ = writeln!(
            self.text,
            "{title}\n{}\n",
            "-".repeat(title.chars().count())
        );
        let _ = writeln!(
            self.html,
            "<h2 style=\"font-size:110%\">{}</h2>",
            escape(title)
        );
    }

    fn fields(&mut self, fields: &[(&str, String)]) {
        self.html.push_str("<table>\n");
        for (label, value) in fields {
            let _ = writeln!(self.text, "{label}{}{value}", self.colon);
            let _ = writeln!(
                self.html,
                "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
                escape(label),
                escape(value)
            );
        }
        self.text.push('\n');
        self.html.push_str("</table>\n");
    }

    fn items(&mut self, s: &Strings, items: &[String]) {
        self.html.push_str("<ul>\n");
        for item in items.iter().take(LISTED) {
            let _ = writeln!(self.text, "- {item}");
            let _ = writeln!(self.html, "<li>{}</li>", escape(item));
        }
        if items.len() > LISTED {
            let more = fill(s.more, &[("n", &(items.len() - LISTED).to_string())]);
            let _ = writeln!(self.text, "- {more}");
            let _ = writeln!(self.html, "<li>{}</li>", escape(&more));
        }
        self.text.push('\n');
        self.html.push_str("</ul>\n");
    }

    fn numbered(&mut self, items: &[String]) {
        self.html.push_str("<ol>\n");
        for (n, item) in items.iter().enumerate() {
            let _ = writeln!(self.text, "{}. {item}", n + 1);
            let _ = writeln!(self.html, "<li>{}</li>", escape(item));
        }
        self.text.push('\n');
        self.html.push_str("</ol>\n");
    }

    fn table(&mut self, columns: &[&str], rows: &[[String; 5]]) {
        self.html.push_str(
            "<table border=\"1\" cellpadding=\"4\" style=\"border-collapse:collapse\">\n<tr>",
        );
        for column in columns {
            let _ = write!(self.html, "<th>{}</th>", escape(column));
        }
        self.html.push_str("</tr>\n");
        for row in rows {
            let _ = writeln!(self.text, "{}", row.join(" | "));
            self.html.push_str("<tr>");
            for cell in row {
                let _ = write!(self.html, "<td>{}</td>", escape(cell));
            }
            self.html.push_str("</tr>\n");
        }
        self.text.push('\n');
        self.html.push_str("</table>\n");
    }

    fn footer(&mut self, line: &str) {
        let _ = writeln!(self.text, "-- \n{line}");
        let _ = writeln!(
            self.html,
            "<hr>\n<p style=\"color:#555;font-size:90%\">{}</p>",
            escape(line)
        );
    }
}

fn page(body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n<body style=\"font-family:sans-serif\">\n{body}</body></html>\n"
    )
}

fn severity(s: &Strings, severity: &str) -> &'static str {
    match severity {
        "low" => s.severity[0],
        "medium" => s.severity[1],
        "high" => s.severity[2],
        _ => s.severity[3],
    }
}

fn kind_phrase(s: &Strings, kind: &str, accounts: usize) -> String {
    let forms = match kind {
        "brute_force" => s.brute_force,
        "password_spray" => s.password_spray,
        "credential_stuffing" => s.credential_stuffing,
        "distributed_spray" => s.distributed_spray,
        "cross_org_campaign" => s.cross_org_campaign,
        "phishing" => s.phishing,
        "known_indicator" => s.known_indicator,
        _ => s.other_attack,
    };
    let form = if accounts == 1 { forms[0] } else { forms[1] };
    fill(form, &[("n", &accounts.to_string())])
}

/// Replaces each `{name}` in `template`. Values are inserted once, never re-scanned, so
/// a value containing `{org}` stays as it is.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}').and_then(|end| {
            values
                .iter()
                .find(|(name, _)| *name == &after[..end])
                .map(|(_, value)| (end, value))
        }) {
            Some((end, value)) => {
                out.push_str(value);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| items.iter().map(text).collect())
        .unwrap_or_default()
}

/// An RFC 3339 time as `2026-11-23 03:00:00 UTC`, or as given when it is not one.
fn time(value: &Value) -> String {
    let raw = text(value);
    match raw.parse::<jiff::Timestamp>() {
        Ok(t) => t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        Err(_) => raw,
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Makes attacker-chosen URLs, domains and addresses unclickable: `http` becomes `hxxp`
/// and a dot between two letters or digits becomes `[.]`, so mail clients do not link
/// them and a reader can still read them.
pub fn defang(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..chars.len().min(i + 5)].iter().collect();
        let lower = rest.to_ascii_lowercase();
        if lower.starts_with("http") && (lower == "https" || lower.starts_with("http:")) {
            // Keep the writer's case: hXXp for HTTP.
            let x = if chars[i + 1].is_ascii_uppercase() {
                'X'
            } else {
                'x'
            };
            out.push(chars[i]);
            out.push(x);
            out.push(x);
            out.push(chars[i + 3]);
            i += 4;
            continue;
        }
        let c = chars[i];
        let between = i > 0
            && i + 1 < chars.len()
            && chars[i - 1].is_alphanumeric()
            && chars[i + 1].is_alphanumeric();
        if c == '.' && between {
            out.push_str("[.]");
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// Why an e-mail was not accepted by the relay.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again: a 4xx reply, a timeout, a refused or broken connection.
    #[error("{0}")]
    Transient(String),
    /// The relay refused for good (5xx): a non-existent mailbox, a policy refusal.
    #[error("{0}")]
    Permanent(String),
}

/// Why the mailer could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("notify.email.from {0:?} is not a mailbox such as \"tocsin <alerts@cert.example>\"")]
    From(String),
    #[error("notify.email.password_env names {0}, which is not set")]
    Password(String),
    #[error("cannot set up the SMTP connection to {host}: {error}")]
    Transport { host: String, error: String },
    #[error("notify.email.ca_file {path}: {error}")]
    CaFile { path: String, error: String },
}

/// Sends e-mail notifications through the configured relay.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    /// The mailer of `config`, or `None` when e-mail is off (`smtp_host` unset).
    pub fn new(config: &EmailConfig) -> Result<Option<Mailer>, MailerError> {
        let Some(host) = config.smtp_host.as_deref().filter(|h| !h.trim().is_empty()) else {
            return Ok(None);
        };
        crate::webhook::install_crypto_provider();
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|_| MailerError::From(config.from.clone()))?;
        let transport_error = |error: lettre::transport::smtp::Error| MailerError::Transport {
            host: host.to_owned(),
            error: error.to_string(),
        };
        let builder = match (&config.ca_file, config.tls) {
            (_, SmtpTls::None) => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            (None, SmtpTls::Starttls) => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(transport_error)?,
            (None, SmtpTls::Tls) => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(transport_error)?
            }
            // A private relay: its authority is trusted besides the public roots, and the
            // certificate must still name `host`.
            (Some(path), tls) => {
                let ca_error = |error: String| MailerError::CaFile {
                    path: path.display().to_string(),
                    error,
                };
                let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
                let ca = lettre::transport::smtp::client::Certificate::from_pem(&pem)
                    .map_err(|e| ca_error(e.to_string()))?;
                let parameters =
                    lettre::transport::smtp::client::TlsParameters::builder(host.to_owned())
                        .add_root_certificate(ca)
                        .build_rustls()
                        .map_err(transport_error)?;
                let tls = if tls == SmtpTls::Tls {
                    lettre::transport::smtp::client::Tls::Wrapper(parameters)
                } else {
                    lettre::transport::smtp::client::Tls::Required(parameters)
                };
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).tls(tls)
            }
        };
        let timeout: Duration = config.timeout.try_into().unwrap_or(Duration::from_secs(30));
        let mut builder = builder.port(config.port).timeout(Some(timeout));
        if let Some(username) = &config.username {
            let password = match &config.password_env {
                Some(var) => std::env::var(var).map_err(|_| MailerError::Password(var.clone()))?,
                None => String::new(),
            };
            builder = builder.credentials(Credentials::new(username.clone(), password));
        }
        Ok(Some(Mailer {
            transport: builder.build(),
            from,
            timeout,
        }))
    }

    /// How long one SMTP read or write may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Builds the message for `to` with the transactional headers: Message-ID as queued,
    /// Auto-Submitted and X-Auto-Response-Suppress so that out-of-office replies stay
    /// away, and no List-Unsubscribe (these are not newsletters).
    pub fn message(&self, to: &str, notice: &EmailNotice) -> Result<Message, SendError> {
        let to: Mailbox = to
            .parse()
            .map_err(|_| SendError::Permanent(format!("{to:?} is not an e-mail address")))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(notice.subject.clone())
            .message_id(Some(notice.message_id.clone()))
            .date_now()
            .header(AutoSubmitted)
            .header(AutoResponseSuppress)
            .multipart(MultiPart::alternative_plain_html(
                notice.text.clone(),
                notice.html.clone(),
            ))
            .map_err(|error| SendError::Permanent(format!("cannot build the message: {error}")))
    }

    /// Hands one message to the relay; on success, the relay's reply.
    pub async fn send(&self, to: &str, notice: &EmailNotice) -> Result<String, SendError> {
        let message = self.message(to, notice)?;
        match self.transport.send(message).await {
            Ok(response) => Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Err(error) if error.is_permanent() => Err(SendError::Permanent(describe(&error))),
            Err(error) => Err(SendError::Transient(describe(&error))),
        }
    }
}

fn describe(error: &lettre::transport::smtp::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `Auto-Submitted: auto-generated` (RFC 3834).
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// `X-Auto-Response-Suppress: All`, which Exchange honours.
#[derive(Clone)]
struct AutoResponseSuppress;

impl Header for AutoResponseSuppress {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Auto-Response-Suppress")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoResponseSuppress)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "All".to_owned())
    }
}
