//! Lure themes: what the message talks the reader into. Health (COVID-19, vaccines,
//! WHO guidance: the Cerium lures), recruiting (job offers, salary, interviews: the Zinc
//! lures), credentials (password expiry, mailbox quota, shared documents) and invoices,
//! in English, French, Spanish, German and Korean.
//!
//! The subject, the text body, the HTML body with its tags stripped ([`html_text`]) and
//! the attachment names are searched with one Aho-Corasick automaton (ASCII
//! case-insensitive, leftmost-longest; other letters are lower-cased one for one first,
//! so `RECHNUNG` and `Überfällig` match too). Each phrase is also tried without
//! accents and with a typographic apostrophe.
//!
//! Every theme has **strong** phrases, which by themselves say what the message is about
//! ("job offer", "your password expires", "COVID-19"), and **weak** terms, which
//! ordinary mail uses too ("interview", "vaccine", "payment"). A theme fires on one
//! strong phrase or on two different weak terms, and gives one finding listing up to
//! three of the phrases found and where, strong ones first. Benign mail talks about
//! vaccines and interviews all the time: a lure alone never makes a verdict (weights
//! 8–15), it explains what an impersonation or a malicious link was for.
//!
//! Words that ordinary technical mail uses in other senses are left out on purpose
//! ("job", "position", "resume", "expire", "testing"): measured on the SpamAssassin ham
//! corpus they fired more than they told.
//!
//! Latin-script terms match whole words; a table entry ending in `*` matches any word it
//! begins ("vaccin*": vaccine, vaccination, vaccinés). Korean terms match anywhere,
//! since particles attach to the noun.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use model::Mail;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::{EVIDENCE_VALUE_CHARS, clip, clip_bytes};
use crate::{Code, Finding};

/// Most bytes of each source (subject, body, attachment name) searched.
const MAX_SCAN_BYTES: usize = 256 * 1024;
/// Most phrases quoted in one finding.
const MAX_EVIDENCE_PHRASES: usize = 3;
/// Longest quoted phrase.
const MAX_PHRASE_CHARS: usize = 80;

/// The phrases of one theme in one language (the constant's name says which).
struct Terms {
    strong: &'static [&'static str],
    weak: &'static [&'static str],
}

struct Theme {
    code: Code,
    terms: &'static [Terms],
}

const THEMES: &[Theme] = &[
    Theme {
        code: Code::LureHealth,
        terms: &[HEALTH_EN, HEALTH_FR, HEALTH_ES, HEALTH_DE, HEALTH_KO],
    },
    Theme {
        code: Code::LureRecruiting,
        terms: &[
            RECRUITING_EN,
            RECRUITING_FR,
            RECRUITING_ES,
            RECRUITING_DE,
            RECRUITING_KO,
        ],
    },
    Theme {
        code: Code::LureCredentials,
        terms: &[
            CREDENTIALS_EN,
            CREDENTIALS_FR,
            CREDENTIALS_ES,
            CREDENTIALS_DE,
            CREDENTIALS_KO,
        ],
    },
    Theme {
        code: Code::LureInvoice,
        terms: &[INVOICE_EN, INVOICE_FR, INVOICE_ES, INVOICE_DE, INVOICE_KO],
    },
];

// ---------------------------------------------------------------------------------
// Health
// ---------------------------------------------------------------------------------

const HEALTH_EN: Terms = Terms {
    strong: &[
        "covid-19",
        "covid 19",
        "covid*",
        "coronavirus*",
        "sars-cov-2",
        "2019-ncov",
        "ncov",
        "pcr test*",
        "antigen test*",
        "vaccination certificate*",
        "vaccine certificate*",
        "vaccine passport*",
        "vaccination record*",
        "who guidance",
        "who guidelines",
        "who recommendations",
        "who advisory",
        "who health alert",
    ],
    weak: &[
        "vaccin*",
        "pandemic*",
        "outbreak*",
        "epidemic*",
        "quarantin*",
        "mask",
        "masks",
        "face covering*",
        "test kit*",
        "infection*",
        "symptom*",
        "public health",
        "world health organization",
        "world health organisation",
        "booster*",
        "immuni*",
        "lockdown*",
        "contact tracing",
        "omicron",
        "mpox",
        "monkeypox",
        "ebola",
        "pcr",
        "health advisory",
    ],
};

const HEALTH_FR: Terms = Terms {
    strong: &[
        "test pcr",
        "tests pcr",
        "test antigénique",
        "certificat de vaccination",
        "pass sanitaire",
        "passe sanitaire",
        "pass vaccinal",
        "recommandations de l'oms",
        "directives de l'oms",
        "consignes de l'oms",
    ],
    weak: &[
        "pandémie*",
        "épidémie*",
        "confinement",
        "quarantaine",
        "masque*",
        "dépistage",
        "symptôme*",
        "santé publique",
        "organisation mondiale de la santé",
        "oms",
        "rappel vaccinal",
    ],
};

const HEALTH_ES: Terms = Terms {
    strong: &[
        "prueba pcr",
        "pruebas pcr",
        "certificado de vacunación",
        "pasaporte covid",
        "recomendaciones de la oms",
        "directrices de la oms",
    ],
    weak: &[
        "vacuna*",
        "pandemia*",
        "brote*",
        "epidemia*",
        "cuarentena*",
        "mascarilla*",
        "cubrebocas",
        "síntoma*",
        "salud pública",
        "organización mundial de la salud",
        "contagio*",
        "infección*",
    ],
};

const HEALTH_DE: Terms = Terms {
    strong: &[
        "pcr-test*",
        "impfzertifikat*",
        "impfnachweis*",
        "impfpass",
        "who-empfehlung*",
        "who-richtlinie*",
    ],
    weak: &[
        "maske",
        "masken*",
        "impf*",
        "pandemie*",
        "ausbruch",
        "epidemie*",
        "quarantäne",
        "schnelltest*",
        "gesundheitsamt",
        "öffentliche gesundheit",
        "weltgesundheitsorganisation",
        "infektion*",
    ],
};

const HEALTH_KO: Terms = Terms {
    strong: &[
        "코로나19",
        "코로나 19",
        "코로나바이러스",
        "신종 코로나",
        "백신 접종 증명",
        "접종 증명서",
        "pcr 검사",
        "세계보건기구 지침",
        "방역 지침",
    ],
    weak: &[
        "코로나",
        "백신",
        "예방접종",
        "접종",
        "팬데믹",
        "감염",
        "격리",
        "마스크",
        "진단검사",
        "증상",
        "세계보건기구",
        "질병관리청",
        "방역",
    ],
};

// ---------------------------------------------------------------------------------
// Recruiting
// ---------------------------------------------------------------------------------

const RECRUITING_EN: Terms = Terms {
    strong: &[
        "job offer*",
        "job description*",
        "job opportunit*",
        "offer letter",
        "employment offer",
        "career opportunit*",
        "we are hiring",
        "shortlisted",
        "open position*",
        "interview invitation",
        "invitation to interview",
        "recruitment process",
        "position available",
    ],
    weak: &[
        "curriculum vitae",
        "relocation package",
        "recruit*",
        "vacanc*",
        "salary",
        "salaries",
        "compensation package",
        "interview*",
        "hiring",
        "cv",
        "candidate*",
        "talent acquisition",
        "benefits package",
        "headhunt*",
    ],
};

const RECRUITING_FR: Terms = Terms {
    strong: &[
        "offre d'emploi",
        "offres d'emploi",
        "proposition d'emploi",
        "fiche de poste",
        "description de poste",
        "opportunité de carrière",
        "entretien d'embauche",
        "poste à pourvoir",
        "promesse d'embauche",
    ],
    weak: &[
        "recrut*",
        "poste",
        "candidat*",
        "salaire*",
        "rémunération",
        "entretien*",
        "embauche*",
        "curriculum",
        "emploi",
        "carrière*",
    ],
};

const RECRUITING_ES: Terms = Terms {
    strong: &[
        "oferta de trabajo",
        "oferta de empleo",
        "ofertas de empleo",
        "propuesta laboral",
        "descripción del puesto",
        "oportunidad laboral",
        "entrevista de trabajo",
        "vacante disponible",
        "carta de oferta",
    ],
    weak: &[
        "reclut*",
        "vacante*",
        "puesto",
        "salario*",
        "sueldo",
        "entrevista*",
        "contratación",
        "currículum",
        "hoja de vida",
        "empleo",
        "selección de personal",
    ],
};

const RECRUITING_DE: Terms = Terms {
    strong: &[
        "stellenangebot*",
        "jobangebot*",
        "stellenbeschreibung*",
        "vorstellungsgespräch*",
        "bewerbungsgespräch*",
        "karrierechance*",
        "arbeitsangebot*",
        "offene stelle*",
    ],
    weak: &[
        "gehalt",
        "bewerb*",
        "stelle",
        "lebenslauf",
        "personalvermitt*",
        "einstellung",
        "kandidat*",
        "vergütung",
        "karriere*",
    ],
};

const RECRUITING_KO: Terms = Terms {
    strong: &[
        "채용 공고",
        "채용공고",
        "채용 제안",
        "입사 제안",
        "직무 기술서",
        "직무기술서",
        "채용 면접",
        "면접 안내",
        "스카우트 제의",
        "이직 제안",
    ],
    weak: &[
        "채용",
        "연봉",
        "면접",
        "이력서",
        "헤드헌터",
        "구인",
        "지원자",
        "경력직",
        "입사",
        "포지션",
    ],
};

// ---------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------

const CREDENTIALS_EN: Terms = Terms {
    strong: &[
        "password expires",
        "password will expire",
        "password has expired",
        "password expiry",
        "password expiration",
        "keep your current password",
        "keep the same password",
        "mailbox is full",
        "mailbox quota",
        "mailbox storage",
        "exceeded your quota",
        "exceeded the storage",
        "verify your account",
        "verify your identity",
        "verify your email",
        "confirm your account",
        "confirm your identity",
        "validate your account",
        "shared a document with you",
        "shared a file with you",
        "has shared a file",
        "has shared a document",
        "sign in to view",
        "log in to view",
        "login to view",
        "sign in to access",
        "unusual sign-in activity",
        "unusual sign in activity",
        "unusual login",
        "suspicious sign-in",
        "suspicious login",
        "account suspended",
        "account has been suspended",
        "account will be suspended",
        "account will be deactivated",
        "account will be closed",
        "account has been locked",
        "reactivate your account",
        "undelivered messages",
        "messages are on hold",
        "pending messages",
    ],
    weak: &[
        "password*",
        "mailbox",
        "quota",
        "suspend*",
        "verification",
        "sign in",
        "sign-in",
        "log in",
        "login",
        "credentials",
        "deactivat*",
        "security alert",
        "unusual activity",
    ],
};

const CREDENTIALS_FR: Terms = Terms {
    strong: &[
        "votre mot de passe expire",
        "mot de passe expir*",
        "expiration du mot de passe",
        "conserver le même mot de passe",
        "boîte aux lettres est pleine",
        "boîte de réception est pleine",
        "boîte mail pleine",
        "quota de messagerie",
        "vérifiez votre compte",
        "vérifier votre compte",
        "confirmer votre identité",
        "confirmez votre identité",
        "a partagé un document avec vous",
        "a partagé un fichier avec vous",
        "connectez-vous pour consulter",
        "connectez-vous pour voir",
        "activité de connexion inhabituelle",
        "connexion inhabituelle",
        "compte suspendu",
        "compte sera suspendu",
        "compte a été suspendu",
        "compte sera désactivé",
        "compte bloqué",
        "réactiver votre compte",
        "messages en attente",
    ],
    weak: &[
        "mot de passe",
        "identifiant*",
        "boîte aux lettres",
        "messagerie",
        "connexion",
        "vérification",
        "suspendu",
        "désactiv*",
    ],
};

const CREDENTIALS_ES: Terms = Terms {
    strong: &[
        "su contraseña caduca",
        "tu contraseña caduca",
        "contraseña caducará",
        "contraseña ha caducado",
        "contraseña expira",
        "buzón está lleno",
        "buzón lleno",
        "cuota del buzón",
        "verifique su cuenta",
        "verifica tu cuenta",
        "confirme su identidad",
        "ha compartido un documento con usted",
        "compartió un documento contigo",
        "compartió un archivo",
        "inicie sesión para ver",
        "inicia sesión para ver",
        "actividad de inicio de sesión inusual",
        "inicio de sesión inusual",
        "cuenta suspendida",
        "cuenta será suspendida",
        "cuenta ha sido suspendida",
        "cuenta bloqueada",
        "reactivar su cuenta",
        "mensajes pendientes",
    ],
    weak: &[
        "contraseña*",
        "buzón",
        "cuota",
        "iniciar sesión",
        "inicio de sesión",
        "verificación",
        "verificar",
        "suspendid*",
        "caduca*",
        "credenciales",
    ],
};

const CREDENTIALS_DE: Terms = Terms {
    strong: &[
        "passwort läuft ab",
        "kennwort läuft ab",
        "passwort ist abgelaufen",
        "kennwort ist abgelaufen",
        "passwort abgelaufen",
        "postfach ist voll",
        "postfach voll",
        "speicherkontingent",
        "postfachkontingent",
        "bestätigen sie ihr konto",
        "verifizieren sie ihr konto",
        "bestätigen sie ihre identität",
        "hat ein dokument mit ihnen geteilt",
        "hat eine datei mit ihnen geteilt",
        "ungewöhnliche anmeldeaktivität",
        "ungewöhnliche anmeldung",
        "konto wurde gesperrt",
        "konto gesperrt",
        "konto wird gesperrt",
        "konto wird deaktiviert",
        "konto reaktivieren",
        "ausstehende nachrichten",
    ],
    weak: &[
        "passwort*",
        "kennwort*",
        "postfach",
        "kontingent",
        "anmeld*",
        "verifizier*",
        "gesperrt",
        "deaktiv*",
        "läuft ab",
        "zugangsdaten",
    ],
};

const CREDENTIALS_KO: Terms = Terms {
    strong: &[
        "비밀번호가 만료",
        "비밀번호 만료",
        "암호가 만료",
        "암호 만료",
        "사서함이 가득",
        "메일함이 가득",
        "메일함 용량",
        "저장 용량 초과",
        "계정을 확인",
        "계정 확인이 필요",
        "문서를 공유했습니다",
        "파일을 공유했습니다",
        "로그인하여 확인",
        "비정상적인 로그인",
        "새로운 로그인 시도",
        "의심스러운 로그인",
        "계정이 정지",
        "계정 정지",
        "계정이 잠겼",
        "계정이 비활성화",
    ],
    weak: &[
        "비밀번호",
        "암호",
        "로그인",
        "메일함",
        "사서함",
        "용량",
        "인증",
        "만료",
        "정지",
        "계정",
    ],
};

// ---------------------------------------------------------------------------------
// Invoices
// ---------------------------------------------------------------------------------

const INVOICE_EN: Terms = Terms {
    strong: &[
        "invoice attached",
        "attached invoice",
        "overdue invoice*",
        "outstanding invoice*",
        "unpaid invoice*",
        "payment overdue",
        "overdue payment",
        "past due",
        "remittance advice",
        "proof of payment",
        "payment confirmation",
        "wire transfer",
        "bank transfer details",
        "updated bank details",
        "new bank details",
        "change of bank details",
        "purchase order",
        "final notice",
        "payment reminder",
    ],
    weak: &[
        "invoice*",
        "payment*",
        "remittance",
        "overdue",
        "outstanding balance",
        "balance due",
        "amount due",
        "billing",
        "receipt",
        "due date",
        "bank details",
        "iban",
        "swift",
    ],
};

const INVOICE_FR: Terms = Terms {
    strong: &[
        "facture ci-jointe",
        "facture impayée",
        "factures impayées",
        "facture en retard",
        "relance de paiement",
        "avis de virement",
        "preuve de paiement",
        "justificatif de paiement",
        "nouvelles coordonnées bancaires",
        "changement de coordonnées bancaires",
        "changement de rib",
        "bon de commande",
        "dernier rappel",
    ],
    weak: &[
        "facture*",
        "paiement*",
        "virement*",
        "impayé*",
        "échéance",
        "règlement",
        "coordonnées bancaires",
        "montant dû",
        "relance",
    ],
};

const INVOICE_ES: Terms = Terms {
    strong: &[
        "factura adjunta",
        "factura pendiente",
        "factura vencida",
        "facturas pendientes",
        "pago vencido",
        "pago pendiente",
        "aviso de pago",
        "comprobante de pago",
        "justificante de pago",
        "transferencia bancaria",
        "nuevos datos bancarios",
        "cambio de datos bancarios",
        "orden de compra",
        "último aviso",
    ],
    weak: &[
        "factura*",
        "pago*",
        "transferencia*",
        "vencimiento",
        "importe",
        "datos bancarios",
        "recibo*",
        "saldo pendiente",
        "cobro*",
    ],
};

const INVOICE_DE: Terms = Terms {
    strong: &[
        "rechnung im anhang",
        "anbei die rechnung",
        "offene rechnung",
        "unbezahlte rechnung",
        "überfällige rechnung",
        "zahlungserinnerung",
        "mahnung",
        "zahlungsavis",
        "zahlungsbestätigung",
        "überweisungsbestätigung",
        "neue bankverbindung",
        "geänderte bankverbindung",
        "änderung der bankverbindung",
    ],
    weak: &[
        "rechnung*",
        "zahlung*",
        "überweisung*",
        "fällig*",
        "überfällig",
        "bankverbindung",
        "betrag",
        "quittung",
        "lastschrift",
    ],
};

const INVOICE_KO: Terms = Terms {
    strong: &[
        "청구서 첨부",
        "미납 청구서",
        "결제 기한 초과",
        "연체",
        "미납",
        "송금 확인",
        "입금 확인",
        "송금증",
        "계좌 변경",
        "변경된 계좌",
        "결제 요청",
        "세금계산서",
        "발주서",
    ],
    weak: &[
        "청구서",
        "인보이스",
        "결제",
        "송금",
        "입금",
        "계좌",
        "납부",
        "영수증",
        "대금",
        "금액",
    ],
};

// ---------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------

/// What one automaton pattern stands for.
struct Pattern {
    theme: usize,
    strong: bool,
    /// The table entry, without `*`: two patterns with the same term count once.
    term: &'static str,
    /// `*` entries match any word they begin.
    prefix: bool,
}

struct Dictionary {
    automaton: AhoCorasick,
    patterns: Vec<Pattern>,
}

static DICTIONARY: LazyLock<Option<Dictionary>> = LazyLock::new(build_dictionary);

fn build_dictionary() -> Option<Dictionary> {
    let mut texts: Vec<String> = Vec::new();
    let mut patterns = Vec::new();
    for (theme, t) in THEMES.iter().enumerate() {
        for terms in t.terms {
            let entries = terms
                .strong
                .iter()
                .map(|e| (e, true))
                .chain(terms.weak.iter().map(|e| (e, false)));
            for (entry, strong) in entries {
                let (term, prefix) = match entry.strip_suffix('*') {
                    Some(stem) => (stem, true),
                    None => (*entry, false),
                };
                for variant in spellings(term) {
                    // The first table entry wins: a term shared by two languages counts
                    // once, with the strength it was first given.
                    if texts.contains(&variant) {
                        continue;
                    }
                    texts.push(variant);
                    patterns.push(Pattern {
                        theme,
                        strong,
                        term,
                        prefix,
                    });
                }
            }
        }
    }
    let automaton = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .build(&texts)
        .ok()?;
    Some(Dictionary {
        automaton,
        patterns,
    })
}

/// A term as written, without its accents, and with a typographic apostrophe.
fn spellings(term: &str) -> Vec<String> {
    let mut out = vec![fold(term)];
    let plain: String = term
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .nfc()
        .collect();
    for variant in [fold(&plain), fold(&term.replace('\'', "’"))] {
        if !out.contains(&variant) {
            out.push(variant);
        }
    }
    out
}

/// Lower-cases the letters whose lower case has the same UTF-8 length, leaving the
/// others (and all ASCII, which the automaton folds itself) in place, so that byte
/// offsets in the folded text are offsets in the original.
fn fold(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii() {
                return c;
            }
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) if l.len_utf8() == c.len_utf8() => l,
                _ => c,
            }
        })
        .collect()
}

/// Scripts written without spaces between words, or with particles glued to nouns.
fn is_unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{11FF}' | '\u{3040}'..='\u{30FF}' | '\u{3130}'..='\u{318F}'
        | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7AF}')
}

/// Letters and digits of scripts that separate words with spaces: a match must not
/// continue into one of them.
fn is_spaced_alphanumeric(c: char) -> bool {
    c.is_alphanumeric() && !is_unspaced_script(c)
}

/// Whether a match edge `edge` touching `neighbour` runs into the middle of a word.
fn inside_word(edge: Option<char>, neighbour: Option<char>) -> bool {
    edge.is_some_and(is_spaced_alphanumeric) && neighbour.is_some_and(is_spaced_alphanumeric)
}

/// One phrase found: which pattern, where, and the text as written.
struct Hit<'a> {
    pattern: usize,
    source: &'a str,
    text: &'a str,
}

/// Adds the phrases found in `text` to `hits`. Only the first place of each pattern is
/// kept (`seen`): that bounds the hits by the dictionary's size, whatever the body
/// repeats.
fn search<'a>(
    dictionary: &Dictionary,
    source: &'a str,
    text: &'a str,
    seen: &mut [bool],
    hits: &mut Vec<Hit<'a>>,
) {
    let text = clip_bytes(text, MAX_SCAN_BYTES);
    let folded = fold(text);
    for m in dictionary.automaton.find_iter(&folded) {
        let pattern_id = m.pattern().as_usize();
        let pattern = &dictionary.patterns[pattern_id];
        let matched = &folded[m.start()..m.end()];
        let before = folded[..m.start()].chars().next_back();
        let after = folded[m.end()..].chars().next();
        let left_ok = !inside_word(matched.chars().next(), before);
        let right_ok = pattern.prefix || !inside_word(matched.chars().next_back(), after);
        if !left_ok || !right_ok || seen.get(pattern_id).is_none_or(|s| *s) {
            continue;
        }
        seen[pattern_id] = true;
        // A stem is quoted with the rest of its word ("vaccin" → "vaccination").
        let end = if pattern.prefix {
            m.end()
                + folded[m.end()..]
                    .chars()
                    .take_while(|c| is_spaced_alphanumeric(*c))
                    .map(char::len_utf8)
                    .sum::<usize>()
        } else {
            m.end()
        };
        // `fold` keeps byte lengths, so the span is the same in the original.
        let original = text.get(m.start()..end).unwrap_or_default();
        hits.push(Hit {
            pattern: pattern_id,
            source,
            text: original,
        });
    }
}

/// One finding per theme that fired: on one strong phrase, or on two different weak
/// terms. Evidence quotes up to three phrases, strong first, grouped by where they
/// were found: `subject: "COVID-19"; text: "vaccination", "pandemic"`.
pub fn check(mail: &Mail) -> Vec<Finding> {
    let Some(dictionary) = DICTIONARY.as_ref() else {
        return Vec::new();
    };
    let html = html_text(&mail.html);
    // File names separate words with `_`: "Job_Description.pdf".
    let attachment_sources: Vec<(String, String)> = mail
        .attachments
        .iter()
        .filter_map(|a| a.name.as_deref())
        .map(|n| {
            (
                format!("attachment \"{}\"", clip(n, 100)),
                n.replace('_', " "),
            )
        })
        .collect();
    let mut hits = Vec::new();
    let mut seen = vec![false; dictionary.patterns.len()];
    search(dictionary, "subject", &mail.subject, &mut seen, &mut hits);
    search(dictionary, "text", &mail.text, &mut seen, &mut hits);
    search(dictionary, "html", &html, &mut seen, &mut hits);
    for (label, name) in &attachment_sources {
        search(dictionary, label, name, &mut seen, &mut hits);
    }

    let mut findings = Vec::new();
    for (theme_index, theme) in THEMES.iter().enumerate() {
        // First hit of each distinct term, strong terms first, then in reading order.
        let mut chosen: Vec<&Hit> = Vec::new();
        let mut terms: Vec<&str> = Vec::new();
        let mut strong = 0usize;
        let mut weak = 0usize;
        for want_strong in [true, false] {
            for hit in &hits {
                let p = &dictionary.patterns[hit.pattern];
                if p.theme != theme_index || p.strong != want_strong || terms.contains(&p.term) {
                    continue;
                }
                terms.push(p.term);
                if p.strong {
                    strong += 1;
                } else {
                    weak += 1;
                }
                if chosen.len() < MAX_EVIDENCE_PHRASES {
                    chosen.push(hit);
                }
            }
        }
        if strong >= 1 || weak >= 2 {
            findings.push(Finding::new(theme.code, evidence(&chosen)));
        }
    }
    findings
}

fn evidence(hits: &[&Hit]) -> String {
    let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
    for hit in hits {
        let phrase = format!("\"{}\"", clip(hit.text, MAX_PHRASE_CHARS));
        match groups.iter_mut().find(|(s, _)| *s == hit.source) {
            Some((_, phrases)) => phrases.push(phrase),
            None => groups.push((hit.source, vec![phrase])),
        }
    }
    let text = groups
        .iter()
        .map(|(source, phrases)| format!("{source}: {}", phrases.join(", ")))
        .collect::<Vec<_>>()
        .join("; ");
    clip(&text, EVIDENCE_VALUE_CHARS * 2)
}

/// Most characters [`html_text`] returns.
const MAX_HTML_TEXT_BYTES: usize = MAX_SCAN_BYTES;

/// The readable text of an HTML body: tags, comments, `<script>` and `<style>` removed
/// (each tag becomes a space, so words on either side stay apart), the common character
/// references decoded, whitespace collapsed. Not a renderer; bounded, never panics.
pub fn html_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while !rest.is_empty() && out.len() < MAX_HTML_TEXT_BYTES {
        let Some(c) = rest.chars().next() else { break };
        if c == '<' {
            rest = skip_markup(rest);
            push_space(&mut out);
        } else if c == '&' {
            let (decoded, len) = character_reference(rest);
            if decoded.is_whitespace() {
                push_space(&mut out);
            } else {
                out.push(decoded);
            }
            rest = &rest[len..];
        } else {
            if c.is_whitespace() {
                push_space(&mut out);
            } else {
                out.push(c);
            }
            rest = &rest[c.len_utf8()..];
        }
    }
    out.truncate(out.trim_end().len());
    out
}

fn push_space(out: &mut String) {
    if !out.is_empty() && !out.ends_with(' ') {
        out.push(' ');
    }
}

/// Skips the markup at the start of `s` (which begins with `<`): a comment, a
/// `<script>`/`<style>` element with its content, or one tag.
fn skip_markup(s: &str) -> &str {
    let starts = |prefix: &str| {
        s.get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    };
    if starts("<!--") {
        return s.find("-->").map_or("", |i| &s[i + 3..]);
    }
    for element in ["script", "style"] {
        if starts(&format!("<{element}")) {
            let close = format!("</{element}");
            let lower_close = find_ascii_case_insensitive(s, &close);
            return match lower_close {
                Some(i) => s[i..].find('>').map_or("", |j| &s[i + j + 1..]),
                None => "",
            };
        }
    }
    // One tag; a `>` inside a quoted attribute value does not end it.
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return &s[i + 1..],
            (None, '<') => return &s[i..],
            _ => {}
        }
    }
    ""
}

fn find_ascii_case_insensitive(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.len();
    hay.as_bytes()
        .windows(n)
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Decodes the character reference at the start of `s` (which begins with `&`);
/// returns the character and how many bytes it took. An unknown one is a plain `&`.
fn character_reference(s: &str) -> (char, usize) {
    let end = s
        .char_indices()
        .take(12)
        .find(|(_, c)| *c == ';')
        .map(|(i, _)| i);
    let Some(end) = end else {
        return ('&', 1);
    };
    let name = &s[1..end];
    let decoded = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        "rsquo" | "lsquo" => Some('’'),
        "eacute" => Some('é'),
        "egrave" => Some('è'),
        "agrave" => Some('à'),
        "ccedil" => Some('ç'),
        "uuml" => Some('ü'),
        "ouml" => Some('ö'),
        "auml" => Some('ä'),
        "szlig" => Some('ß'),
        "ntilde" => Some('ñ'),
        "oacute" => Some('ó'),
        "aacute" => Some('á'),
        "iacute" => Some('í'),
        "uacute" => Some('ú'),
        _ => name
            .strip_prefix("#x")
            .or_else(|| name.strip_prefix("#X"))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
            .and_then(char::from_u32),
    };
    match decoded {
        Some(c) => (c, end + 1),
        None => ('&', 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Attachment;

    fn mail(subject: &str, text: &str, html: &str) -> Mail {
        Mail {
            subject: subject.into(),
            text: text.into(),
            html: html.into(),
            ..Mail::default()
        }
    }

    fn codes(findings: &[Finding]) -> Vec<Code> {
        findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn the_dictionary_builds() {
        let d = DICTIONARY.as_ref().expect("automaton builds");
        assert!(d.patterns.len() > 400, "{}", d.patterns.len());
    }

    #[test]
    fn table_entries_are_lower_case_and_trimmed() {
        for theme in THEMES {
            for terms in theme.terms {
                for entry in terms.strong.iter().chain(terms.weak) {
                    assert_eq!(*entry, entry.to_lowercase());
                    assert_eq!(*entry, entry.trim());
                }
            }
        }
    }

    /// Positive and negative examples per theme and language.
    #[test]
    fn themes_fire_in_every_language() {
        use Code::*;
        let table: &[(&str, &str, &str, &[Code])] = &[
            // Health
            (
                "en",
                "COVID-19 vaccination: updated WHO guidance",
                "",
                &[LureHealth],
            ),
            ("en", "Team lunch", "Bring a mask if you like.", &[]),
            (
                "en",
                "Outbreak update",
                "The pandemic has reached your region.",
                &[LureHealth],
            ),
            ("fr", "Pass sanitaire obligatoire", "", &[LureHealth]),
            (
                "fr",
                "Pandémie",
                "Nouvelle épidémie dans votre région : dépistage gratuit.",
                &[LureHealth],
            ),
            ("fr", "Réunion", "Le masque est dans le tiroir.", &[]),
            ("es", "Certificado de vacunación", "", &[LureHealth]),
            (
                "es",
                "Brote",
                "Nuevo brote: use mascarilla y vacunas.",
                &[LureHealth],
            ),
            ("es", "Hola", "La vacuna del perro está lista.", &[]),
            ("de", "Ihr Impfzertifikat", "", &[LureHealth]),
            (
                "de",
                "Hinweis",
                "Pandemie: Maskenpflicht im Gesundheitsamt.",
                &[LureHealth],
            ),
            ("de", "Hallo", "Die Impfung war gut.", &[]),
            ("ko", "코로나19 예방접종 안내", "", &[LureHealth]),
            (
                "ko",
                "알림",
                "백신 접종 후 증상이 있으면 연락하세요",
                &[LureHealth],
            ),
            ("ko", "회의", "내일 마스크 가져오세요", &[]),
            // Recruiting
            ("en", "Job offer: Senior Engineer", "", &[LureRecruiting]),
            (
                "en",
                "Hello",
                "Your salary expectations for the interview?",
                &[LureRecruiting],
            ),
            (
                "en",
                "Notes",
                "The interview with the mayor aired today.",
                &[],
            ),
            ("fr", "Offre d’emploi", "", &[LureRecruiting]),
            (
                "fr",
                "Bonjour",
                "Votre salaire et l'entretien de mardi.",
                &[LureRecruiting],
            ),
            (
                "fr",
                "Bonjour",
                "L'entretien de la chaudière est prévu.",
                &[],
            ),
            ("es", "Oferta de empleo", "", &[LureRecruiting]),
            (
                "es",
                "Hola",
                "Sobre el salario y la entrevista del lunes.",
                &[LureRecruiting],
            ),
            ("es", "Hola", "La entrevista salió en la radio.", &[]),
            ("de", "Stellenangebot", "", &[LureRecruiting]),
            (
                "de",
                "Hallo",
                "Ihr Gehalt und Ihre Bewerbung.",
                &[LureRecruiting],
            ),
            ("de", "Hallo", "An dieser Stelle danke.", &[]),
            ("ko", "채용 공고 안내", "", &[LureRecruiting]),
            (
                "ko",
                "안녕하세요",
                "연봉과 면접 일정을 알려주세요",
                &[LureRecruiting],
            ),
            ("ko", "안녕하세요", "면접 잘 봤어?", &[]),
            // Credentials
            ("en", "Your password expires today", "", &[LureCredentials]),
            (
                "en",
                "IT",
                "Your mailbox is full. Sign in to view pending messages.",
                &[LureCredentials],
            ),
            ("en", "Hi", "Verify the numbers please.", &[]),
            (
                "fr",
                "Votre mot de passe expire aujourd'hui",
                "",
                &[LureCredentials],
            ),
            ("fr", "Info", "Compte suspendu", &[LureCredentials]),
            ("fr", "Info", "Le mot de passe du wifi est au tableau.", &[]),
            ("es", "Su contraseña caduca hoy", "", &[LureCredentials]),
            ("es", "Aviso", "Su buzón está lleno", &[LureCredentials]),
            ("es", "Hola", "La contraseña del wifi es la misma.", &[]),
            ("de", "Ihr Passwort läuft ab", "", &[LureCredentials]),
            (
                "de",
                "Hinweis",
                "Ihr Postfach ist voll.",
                &[LureCredentials],
            ),
            ("de", "Hallo", "Das Passwort steht im Wiki.", &[]),
            ("ko", "비밀번호가 만료됩니다", "", &[LureCredentials]),
            ("ko", "알림", "메일함이 가득 찼습니다", &[LureCredentials]),
            ("ko", "안녕", "와이파이 비밀번호 알려줘", &[]),
            // Invoices
            ("en", "Invoice attached", "", &[LureInvoice]),
            (
                "en",
                "Hello",
                "Please find the invoice; payment by Friday.",
                &[LureInvoice],
            ),
            ("en", "Hello", "Thanks for your payment.", &[]),
            ("fr", "Facture impayée", "", &[LureInvoice]),
            (
                "fr",
                "Bonjour",
                "Voici la facture, paiement sous 30 jours.",
                &[LureInvoice],
            ),
            ("fr", "Bonjour", "La facture est bien arrivée.", &[]),
            ("es", "Factura pendiente", "", &[LureInvoice]),
            (
                "es",
                "Hola",
                "Adjunto la factura para el pago.",
                &[LureInvoice],
            ),
            ("es", "Hola", "Gracias por la factura.", &[]),
            ("de", "RECHNUNG IM ANHANG", "", &[LureInvoice]),
            (
                "de",
                "Hallo",
                "Die Rechnung ist überfällig, bitte Zahlung veranlassen.",
                &[LureInvoice],
            ),
            ("de", "Hallo", "Danke für die Rechnung.", &[]),
            ("ko", "세금계산서 발행", "", &[LureInvoice]),
            (
                "ko",
                "안녕하세요",
                "청구서와 결제 안내입니다",
                &[LureInvoice],
            ),
            ("ko", "안녕하세요", "영수증 감사합니다", &[]),
        ];
        for (language, subject, text, expected) in table {
            let found = check(&mail(subject, text, ""));
            assert_eq!(
                codes(&found),
                *expected,
                "{language}: {subject:?} / {text:?}: {found:?}"
            );
        }
    }

    #[test]
    fn words_match_on_boundaries_and_stems_on_their_start() {
        let table: &[(&str, &[Code])] = &[
            // "mask" + "cv": whole words only.
            ("Unmasked CVS receipts", &[]),
            ("A mask and a CV", &[]),
            // Stems: vaccin* + pandemic*.
            ("Vaccinations during pandemics", &[Code::LureHealth]),
            // Not a word start.
            ("Revaccinated antipandemic", &[]),
            // Korean particles attach to the noun.
            ("코로나19에 대한 안내", &[Code::LureHealth]),
        ];
        for (subject, expected) in table {
            let found = check(&mail(subject, "", ""));
            assert_eq!(codes(&found), *expected, "{subject:?}: {found:?}");
        }
    }

    #[test]
    fn evidence_quotes_phrases_and_where_they_were() {
        let mut m = mail(
            "COVID-19 vaccination",
            "",
            "<p>Latest <b>WHO guidance</b> on the pandemic</p>",
        );
        m.attachments.push(Attachment {
            name: Some("Job_Description.pdf".into()),
            content_type: "application/pdf".into(),
            size: 1,
            sha256: String::new(),
            data: Vec::new(),
        });
        let found = check(&m);
        assert_eq!(
            found
                .iter()
                .map(|f| (f.code, f.evidence.as_str()))
                .collect::<Vec<_>>(),
            [
                (
                    Code::LureHealth,
                    "subject: \"COVID-19\", \"vaccination\"; html: \"WHO guidance\""
                ),
                (
                    Code::LureRecruiting,
                    "attachment \"Job_Description.pdf\": \"Job Description\""
                ),
            ]
        );
    }

    #[test]
    fn html_is_read_as_text() {
        for (html, text) in [
            ("<p>Hello <b>world</b></p>", "Hello world"),
            ("a<br>b", "a b"),
            ("<style>p { color: red }</style>Hi", "Hi"),
            ("<SCRIPT>var job = 'offer';</SCRIPT>ok", "ok"),
            ("<!-- job offer -->x", "x"),
            ("<a title=\"a > b\">link</a>", "link"),
            (
                "caf&eacute; &amp; th&#233; &#x263A; &nbsp;x",
                "café & thé ☺ x",
            ),
            ("AT&T & co", "AT&T & co"),
            ("<unterminated", ""),
            ("<<<>>>", ">>"),
        ] {
            assert_eq!(html_text(html), text, "{html}");
        }
    }

    #[test]
    fn hostile_bodies_are_bounded_and_never_panic() {
        let huge = "job offer ".repeat(200_000);
        let found = check(&mail("", &huge, &format!("<p>{huge}")));
        assert_eq!(codes(&found), [Code::LureRecruiting]);
        assert!(html_text(&"<b>x</b>".repeat(200_000)).len() <= MAX_HTML_TEXT_BYTES);
        let _ = check(&mail(
            "&#xFFFFFFFF; &#55296; &",
            "\u{130}\u{130}",
            "<script",
        ));
    }
}
