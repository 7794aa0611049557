//! Who writes the bulk mailbox's mail: the clinic's staff and executives, and the
//! outside organisations it deals with, each with the mail system it sends from (which
//! decides its headers, Message-IDs and authentication results).

use fastrand::Rng;

use super::BULK_OWN_DOMAINS;
use super::text::{choose, pick};
use crate::names::staff_names;

/// Staff in the directory besides the executives.
const STAFF: usize = 260;

/// How a sender's mail system writes mail: Message-ID, client headers, HTML flavour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Client {
    /// The clinic's own Exchange server and Outlook.
    ExchangeOnPrem,
    /// Microsoft 365 (Exchange Online) and Outlook.
    ExchangeOnline,
    /// Gmail or Google Workspace.
    Gmail,
    /// Apple Mail on a phone.
    AppleMail,
    /// Thunderbird.
    Thunderbird,
    /// A bulk sender (newsletters, notifications): SendGrid, Mailchimp, Amazon SES …
    Bulk,
    /// An application or appliance writing its own mail (monitoring, scanners, billing).
    Application,
    /// A phishing kit's mailer (PHPMailer and its kin) on a rented or compromised host.
    Kit,
    /// A webmail on a compromised or throwaway host (Roundcube).
    Webmail,
}

/// A DMARC policy a domain publishes, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Policy {
    Reject,
    Quarantine,
    Monitor,
    Absent,
}

impl Policy {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Policy::Reject => "reject",
            Policy::Quarantine => "quarantine",
            Policy::Monitor => "none",
            Policy::Absent => "",
        }
    }
}

/// A member of staff.
#[derive(Clone, Debug)]
pub(super) struct Person {
    pub first: String,
    pub last: String,
    /// `Ana Silva`, or `Dr. Paul Martin`.
    pub display: String,
    pub address: String,
    pub department: &'static str,
    pub title: &'static str,
}

impl Person {
    pub(super) fn mailbox(&self) -> (String, String) {
        (self.display.clone(), self.address.clone())
    }
}

/// Departments and the titles people in them have.
const DEPARTMENTS: &[(&str, &[&str])] = &[
    (
        "Nursing",
        &[
            "Staff Nurse",
            "Ward Manager",
            "Clinical Nurse Specialist",
            "Senior Staff Nurse",
            "Healthcare Assistant",
        ],
    ),
    (
        "Cardiology",
        &[
            "Consultant Cardiologist",
            "Cardiac Physiologist",
            "Specialty Registrar",
        ],
    ),
    (
        "Radiology",
        &["Consultant Radiologist", "Radiographer", "PACS Manager"],
    ),
    (
        "Pharmacy",
        &[
            "Clinical Pharmacist",
            "Pharmacy Technician",
            "Chief Pharmacist",
        ],
    ),
    (
        "Laboratory",
        &["Biomedical Scientist", "Laboratory Manager", "Phlebotomist"],
    ),
    (
        "Finance",
        &[
            "Accounts Payable Officer",
            "Management Accountant",
            "Finance Manager",
            "Payroll Officer",
        ],
    ),
    (
        "Human Resources",
        &["HR Advisor", "HR Business Partner", "Recruitment Officer"],
    ),
    (
        "IT",
        &[
            "IT Service Desk Analyst",
            "Systems Administrator",
            "Information Security Officer",
            "Network Engineer",
        ],
    ),
    (
        "Procurement",
        &["Buyer", "Procurement Officer", "Contracts Manager"],
    ),
    (
        "Research",
        &[
            "Research Fellow",
            "Clinical Trials Coordinator",
            "Research Nurse",
            "Data Manager",
        ],
    ),
    (
        "Facilities",
        &["Estates Officer", "Facilities Manager", "Porter Supervisor"],
    ),
    (
        "Quality and Safety",
        &[
            "Patient Safety Lead",
            "Infection Prevention Nurse",
            "Governance Officer",
        ],
    ),
];

/// The executive team: the names a BEC fraudster puts in a display name.
const EXECUTIVES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "paul",
        "martin",
        "Dr. Paul Martin",
        "Administration",
        "Chief Executive Officer",
    ),
    (
        "ingrid",
        "novak",
        "Ingrid Novak",
        "Finance",
        "Chief Financial Officer",
    ),
    (
        "amani",
        "odhiambo",
        "Dr. Amani Odhiambo",
        "Administration",
        "Medical Director",
    ),
    (
        "sabine",
        "richter",
        "Sabine Richter",
        "Human Resources",
        "Director of Human Resources",
    ),
    (
        "declan",
        "byrne",
        "Declan Byrne",
        "Procurement",
        "Head of Procurement",
    ),
    (
        "leila",
        "haddad",
        "Leila Haddad",
        "Nursing",
        "Director of Nursing",
    ),
];

/// An outside organisation that writes to the clinic.
#[derive(Clone, Copy, Debug)]
pub(super) struct Org {
    pub name: &'static str,
    pub domain: &'static str,
    pub client: Client,
    pub policy: Policy,
    /// Whether its mail is DKIM-signed with its own domain.
    pub signs: bool,
    /// Its offset from UTC in November, in minutes.
    pub offset: i32,
    /// `en`, `fr`, `de`.
    pub language: &'static str,
    /// People who write from it: (first, last, title).
    pub people: &'static [(&'static str, &'static str, &'static str)],
}

/// Suppliers: invoices, orders, delivery notes.
pub(super) const SUPPLIERS: &[Org] = &[
    Org {
        name: "MediSupply GmbH",
        domain: "medisupply.example",
        client: Client::ExchangeOnline,
        policy: Policy::Reject,
        signs: true,
        offset: 60,
        language: "de",
        people: &[
            ("Jana", "Krüger", "Kundenbetreuung"),
            ("Stefan", "Vogel", "Vertriebsleiter"),
        ],
    },
    Org {
        name: "Fournitures Médicales SA",
        domain: "fournitures-medicales.example",
        client: Client::Application,
        policy: Policy::Monitor,
        signs: true,
        offset: 60,
        language: "fr",
        people: &[
            ("Camille", "Lefèvre", "Service comptabilité"),
            ("Julien", "Moreau", "Responsable grands comptes"),
        ],
    },
    Org {
        name: "Northwind Medical Ltd",
        domain: "northwind-medical.example",
        client: Client::ExchangeOnline,
        policy: Policy::Quarantine,
        signs: true,
        offset: 0,
        language: "en",
        people: &[
            ("Olivia", "Hughes", "Credit Controller"),
            ("Tom", "Fletcher", "Account Manager"),
        ],
    },
    Org {
        name: "Orbis Pharma Distribution",
        domain: "orbis-pharma.example",
        client: Client::ExchangeOnline,
        policy: Policy::Reject,
        signs: true,
        offset: 60,
        language: "en",
        people: &[
            ("Marco", "Bianchi", "Key Account Manager"),
            ("Elena", "Rossi", "Accounts Receivable"),
        ],
    },
    Org {
        name: "CleanCare Facility Services",
        domain: "cleancare.example",
        client: Client::Thunderbird,
        policy: Policy::Absent,
        signs: false,
        offset: 60,
        language: "en",
        people: &[("Rita", "Mendes", "Operations Manager")],
    },
    Org {
        name: "Alpine Wäscherei AG",
        domain: "alpine-linen.example",
        client: Client::Application,
        policy: Policy::Absent,
        signs: false,
        offset: 60,
        language: "de",
        people: &[("Urs", "Baumann", "Buchhaltung")],
    },
];

/// Partners: hospitals, universities, the health authority, vendors, and last the
/// recruitment agency (which writes about jobs only).
pub(super) const PARTNERS: &[Org] = &[
    Org {
        name: "St Mary's Hospital",
        domain: "stmarys-hospital.example",
        client: Client::ExchangeOnline,
        policy: Policy::Reject,
        signs: true,
        offset: 0,
        language: "en",
        people: &[
            ("Fiona", "Campbell", "Consultant Microbiologist"),
            ("Rajesh", "Iyer", "Bed Manager"),
            ("Hannah", "Price", "Clinical Governance Lead"),
        ],
    },
    Org {
        name: "Lakeside University",
        domain: "lakeside-university.example",
        client: Client::Thunderbird,
        policy: Policy::Monitor,
        signs: true,
        offset: 0,
        language: "en",
        people: &[
            ("Margaret", "Oyelaran", "Professor of Epidemiology"),
            ("Lucas", "Dubois", "Postdoctoral Researcher"),
            ("Yuki", "Sato", "Research Data Officer"),
        ],
    },
    Org {
        name: "Regional Health Authority",
        domain: "regional-health.example",
        client: Client::ExchangeOnline,
        policy: Policy::Reject,
        signs: true,
        offset: 60,
        language: "en",
        people: &[
            ("Grainne", "Walsh", "Commissioning Manager"),
            ("Peter", "Lindqvist", "Public Health Consultant"),
        ],
    },
    Org {
        name: "Helix Diagnostics",
        domain: "helix-diagnostics.example",
        client: Client::Gmail,
        policy: Policy::Reject,
        signs: true,
        offset: 60,
        language: "en",
        people: &[
            ("Nadia", "Benali", "Laboratory Liaison"),
            ("Kofi", "Asante", "Quality Manager"),
        ],
    },
    Org {
        name: "Medisoft EHR",
        domain: "medisoft.example",
        client: Client::ExchangeOnline,
        policy: Policy::Quarantine,
        signs: true,
        offset: 60,
        language: "en",
        people: &[
            ("Sven", "Olsen", "Customer Success Manager"),
            ("Amira", "Khalil", "Implementation Consultant"),
        ],
    },
    Org {
        name: "MedStaff Recruitment",
        domain: "medstaff-recruitment.example",
        client: Client::ExchangeOnline,
        policy: Policy::Quarantine,
        signs: true,
        offset: 0,
        language: "en",
        people: &[
            ("Grace", "Kelly", "Senior Recruitment Consultant"),
            ("Owen", "Price", "Talent Acquisition Partner"),
        ],
    },
];

/// The clinic's executives, then its staff; `staff[0..EXECUTIVES.len()]` are the
/// executives.
pub(super) struct World {
    pub staff: Vec<Person>,
}

impl World {
    pub(super) fn new(rng: &mut Rng) -> World {
        let mut staff: Vec<Person> = EXECUTIVES
            .iter()
            .map(|(first, last, display, department, title)| Person {
                first: capitalise(first),
                last: capitalise(last),
                display: (*display).to_owned(),
                address: format!("{first}.{last}@{}", BULK_OWN_DOMAINS[0]),
                department,
                title,
            })
            .collect();
        for (first, last) in staff_names(rng.u64(..), STAFF) {
            if staff
                .iter()
                .any(|p| p.first.to_lowercase() == first && p.last.to_lowercase() == last)
            {
                continue;
            }
            let (department, titles) = choose(rng, DEPARTMENTS);
            // The research institute and the foundation have their own domains.
            let domain = match department {
                "Research" => BULK_OWN_DOMAINS[1],
                _ if rng.u32(..40) == 0 => BULK_OWN_DOMAINS[2],
                _ => BULK_OWN_DOMAINS[0],
            };
            staff.push(Person {
                first: capitalise(&first),
                last: capitalise(&last),
                display: format!("{} {}", capitalise(&first), capitalise(&last)),
                address: format!("{first}.{last}@{domain}"),
                department,
                title: choose(rng, titles),
            });
        }
        World { staff }
    }

    pub(super) fn executives(&self) -> &[Person] {
        &self.staff[..EXECUTIVES.len()]
    }

    pub(super) fn anyone<'a>(&'a self, rng: &mut Rng) -> &'a Person {
        pick(rng, &self.staff)
    }

    /// Someone in `department`, or anyone if nobody is.
    pub(super) fn in_department<'a>(&'a self, rng: &mut Rng, department: &str) -> &'a Person {
        let members: Vec<&Person> = self
            .staff
            .iter()
            .filter(|p| p.department == department)
            .collect();
        if members.is_empty() {
            self.anyone(rng)
        } else {
            members[rng.usize(..members.len())]
        }
    }

    /// Someone other than `not`.
    pub(super) fn other<'a>(&'a self, rng: &mut Rng, not: &Person) -> &'a Person {
        loop {
            let p = self.anyone(rng);
            if p.address != not.address {
                return p;
            }
        }
    }
}

pub(super) fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// An address's local part: `Jana Krüger` → `jana.krueger`.
pub(super) fn local_part(first: &str, last: &str) -> String {
    let mut out = String::new();
    for c in format!("{first}.{last}").to_lowercase().chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'é' | 'è' | 'ê' => out.push('e'),
            'à' | 'â' => out.push('a'),
            'ç' => out.push('c'),
            'ï' | 'î' => out.push('i'),
            'ô' => out.push('o'),
            ' ' | '\'' => {}
            c => out.push(c),
        }
    }
    out
}
