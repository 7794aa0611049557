//! The named signals the analyser can raise, with their default weights.
//!
//! Signal modules report [`Finding`]s (a code and its evidence); the analyser turns them
//! into weighted [`model::Reason`]s. Keeping every code and weight in one table is what
//! lets a reviewer see, in one place, why a message scored what it did.

use std::fmt;

/// Every reason code tocsin can give. The snake_case names are part of the output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    // Sender identity.
    LookalikeSender,
    BrandInSenderDomain,
    SuffixSwapSender,
    LookalikeLink,
    BrandInLinkHost,
    SuffixSwapLink,
    DisplayNameImpersonation,
    FreemailOfficialTitle,
    ReplyToMismatch,
    ReturnPathMismatch,
    // Authentication results from a trusted receiving host.
    SpfFail,
    DkimFail,
    DmarcFail,
    DmarcPass,
    // Lure themes.
    LureHealth,
    LureRecruiting,
    LureCredentials,
    LureInvoice,
    // Links.
    LinkIpLiteral,
    LinkPunycode,
    LinkShortener,
    LinkCredentialPath,
    LinkTextMismatch,
    LinkDataUri,
    HtmlForm,
    HtmlPasswordForm,
    // Attachments.
    AttachmentMacro,
    AttachmentShortcut,
    AttachmentDiskImage,
    AttachmentHtml,
    AttachmentScript,
    AttachmentEncryptedArchive,
    AttachmentDoubleExtension,
    AttachmentRtlo,
    // The message itself.
    ParseLimit,
    // Threat intelligence: a sender, link host, URL or attachment is a live indicator.
    KnownIndicator,
}

impl Code {
    pub const ALL: [Code; 36] = [
        Code::LookalikeSender,
        Code::BrandInSenderDomain,
        Code::SuffixSwapSender,
        Code::LookalikeLink,
        Code::BrandInLinkHost,
        Code::SuffixSwapLink,
        Code::DisplayNameImpersonation,
        Code::FreemailOfficialTitle,
        Code::ReplyToMismatch,
        Code::ReturnPathMismatch,
        Code::SpfFail,
        Code::DkimFail,
        Code::DmarcFail,
        Code::DmarcPass,
        Code::LureHealth,
        Code::LureRecruiting,
        Code::LureCredentials,
        Code::LureInvoice,
        Code::LinkIpLiteral,
        Code::LinkPunycode,
        Code::LinkShortener,
        Code::LinkCredentialPath,
        Code::LinkTextMismatch,
        Code::LinkDataUri,
        Code::HtmlForm,
        Code::HtmlPasswordForm,
        Code::AttachmentMacro,
        Code::AttachmentShortcut,
        Code::AttachmentDiskImage,
        Code::AttachmentHtml,
        Code::AttachmentScript,
        Code::AttachmentEncryptedArchive,
        Code::AttachmentDoubleExtension,
        Code::AttachmentRtlo,
        Code::ParseLimit,
        Code::KnownIndicator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::LookalikeSender => "lookalike_sender",
            Code::BrandInSenderDomain => "brand_in_sender_domain",
            Code::SuffixSwapSender => "suffix_swap_sender",
            Code::LookalikeLink => "lookalike_link",
            Code::BrandInLinkHost => "brand_in_link_host",
            Code::SuffixSwapLink => "suffix_swap_link",
            Code::DisplayNameImpersonation => "display_name_impersonation",
            Code::FreemailOfficialTitle => "freemail_official_title",
            Code::ReplyToMismatch => "reply_to_mismatch",
            Code::ReturnPathMismatch => "return_path_mismatch",
            Code::SpfFail => "spf_fail",
            Code::DkimFail => "dkim_fail",
            Code::DmarcFail => "dmarc_fail",
            Code::DmarcPass => "dmarc_pass",
            Code::LureHealth => "lure_health",
            Code::LureRecruiting => "lure_recruiting",
            Code::LureCredentials => "lure_credentials",
            Code::LureInvoice => "lure_invoice",
            Code::LinkIpLiteral => "link_ip_literal",
            Code::LinkPunycode => "link_punycode",
            Code::LinkShortener => "link_shortener",
            Code::LinkCredentialPath => "link_credential_path",
            Code::LinkTextMismatch => "link_text_mismatch",
            Code::LinkDataUri => "link_data_uri",
            Code::HtmlForm => "html_form",
            Code::HtmlPasswordForm => "html_password_form",
            Code::AttachmentMacro => "attachment_macro",
            Code::AttachmentShortcut => "attachment_shortcut",
            Code::AttachmentDiskImage => "attachment_disk_image",
            Code::AttachmentHtml => "attachment_html",
            Code::AttachmentScript => "attachment_script",
            Code::AttachmentEncryptedArchive => "attachment_encrypted_archive",
            Code::AttachmentDoubleExtension => "attachment_double_extension",
            Code::AttachmentRtlo => "attachment_rtlo",
            Code::ParseLimit => "parse_limit",
            Code::KnownIndicator => "known_indicator",
        }
    }

    /// Points a finding of this code adds to a message's score unless configured
    /// otherwise. A message scoring 25 or more is suspicious, 50 or more phishing
    /// (`analyse::Thresholds`): one strong sign of deceit (a misspelt lookalike sender, a
    /// right-to-left override in a file name) makes phishing, a lure alone never does.
    /// Lookalikes come in three strengths: a misspelling or homograph of a protected
    /// name is made to deceive; a protected name inside another domain
    /// (`microsoft-support.example`, `outlook.4team.biz`) often is; the protected name
    /// under another suffix (`canada.com` beside `canada.ca`) is often an old,
    /// unrelated domain and weighs least.
    pub fn default_weight(self) -> i32 {
        match self {
            Code::LookalikeSender => 50,
            Code::BrandInSenderDomain => 30,
            Code::SuffixSwapSender => 20,
            Code::LookalikeLink => 30,
            Code::BrandInLinkHost => 15,
            Code::SuffixSwapLink => 10,
            Code::DisplayNameImpersonation => 35,
            Code::FreemailOfficialTitle => 20,
            Code::ReplyToMismatch => 15,
            Code::ReturnPathMismatch => 5,
            Code::SpfFail => 10,
            Code::DkimFail => 10,
            Code::DmarcFail => 30,
            Code::DmarcPass => -20,
            Code::LureHealth => 10,
            Code::LureRecruiting => 10,
            Code::LureCredentials => 15,
            Code::LureInvoice => 8,
            Code::LinkIpLiteral => 25,
            Code::LinkPunycode => 15,
            Code::LinkShortener => 10,
            Code::LinkCredentialPath => 10,
            Code::LinkTextMismatch => 30,
            Code::LinkDataUri => 30,
            Code::HtmlForm => 10,
            Code::HtmlPasswordForm => 35,
            Code::AttachmentMacro => 40,
            Code::AttachmentShortcut => 45,
            Code::AttachmentDiskImage => 35,
            Code::AttachmentHtml => 25,
            Code::AttachmentScript => 45,
            Code::AttachmentEncryptedArchive => 30,
            Code::AttachmentDoubleExtension => 40,
            Code::AttachmentRtlo => 50,
            Code::ParseLimit => 10,
            // The operator's own intelligence names the sender, a link or an attachment:
            // that alone makes phishing. Warning-listed values never get here.
            Code::KnownIndicator => 60,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One signal raised by one check, with the evidence a person can verify: the header
/// and its value, the URL, the file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    pub evidence: String,
}

impl Finding {
    pub fn new(code: Code, evidence: impl Into<String>) -> Self {
        Finding {
            code,
            evidence: evidence.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/output.md lists every code with its default weight, in rows such as
    /// "| `spf_fail`, `dkim_fail` | 10, 10 | …"; a new or re-weighted code must be there.
    #[test]
    fn the_output_docs_list_every_code_with_its_weight() {
        let docs = include_str!("../../../docs/output.md");
        let mut documented: Vec<(String, i32)> = Vec::new();
        for line in docs.lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let [_, codes, weights, ..] = cells.as_slice() else {
                continue;
            };
            let codes: Vec<&str> = codes
                .split(',')
                .map(|c| c.trim().trim_matches('`'))
                .collect();
            let weights: Vec<i32> = weights
                .split(',')
                .filter_map(|w| w.trim().replace('−', "-").parse().ok())
                .collect();
            if codes.len() == weights.len() {
                documented.extend(codes.iter().map(|c| c.to_string()).zip(weights));
            }
        }
        for code in Code::ALL {
            assert!(
                documented.contains(&(code.as_str().to_owned(), code.default_weight())),
                "docs/output.md lacks `{code}` with weight {}",
                code.default_weight()
            );
        }
    }

    #[test]
    fn every_code_is_listed_once_with_a_distinct_name() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len());
    }
}
