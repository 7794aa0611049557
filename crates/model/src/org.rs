//! Organisations as the rest of the system refers to them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The identity of an enrolled organisation. Every stored row and every piece of detector
/// state carries one, which is what keeps one organisation's data away from another's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrgId(pub i64);

impl OrgId {
    /// The organisation that offline work (`tocsin scan`) attributes events to: files on a
    /// disk belong to whoever runs the command.
    pub const LOCAL: OrgId = OrgId(0);
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The sectors tocsin serves, as listed in the product brief.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sector {
    Hospital,
    Clinic,
    CareFacility,
    Lab,
    ClinicianPractice,
    Pharmaceutical,
    LifeSciences,
    MedicalDevices,
    HumanRights,
    Humanitarian,
    PoliticalCampaign,
    Other,
}

impl Sector {
    pub const ALL: [Sector; 12] = [
        Sector::Hospital,
        Sector::Clinic,
        Sector::CareFacility,
        Sector::Lab,
        Sector::ClinicianPractice,
        Sector::Pharmaceutical,
        Sector::LifeSciences,
        Sector::MedicalDevices,
        Sector::HumanRights,
        Sector::Humanitarian,
        Sector::PoliticalCampaign,
        Sector::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Sector::Hospital => "hospital",
            Sector::Clinic => "clinic",
            Sector::CareFacility => "care_facility",
            Sector::Lab => "lab",
            Sector::ClinicianPractice => "clinician_practice",
            Sector::Pharmaceutical => "pharmaceutical",
            Sector::LifeSciences => "life_sciences",
            Sector::MedicalDevices => "medical_devices",
            Sector::HumanRights => "human_rights",
            Sector::Humanitarian => "humanitarian",
            Sector::PoliticalCampaign => "political_campaign",
            Sector::Other => "other",
        }
    }
}

impl fmt::Display for Sector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sector name that is not one of [`Sector::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSector(pub String);

impl fmt::Display for UnknownSector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Sector::ALL.iter().map(|s| s.as_str()).collect();
        write!(
            f,
            "unknown sector {:?}; expected one of: {}",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownSector {}

impl FromStr for Sector {
    type Err = UnknownSector;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Sector::ALL
            .into_iter()
            .find(|sector| sector.as_str() == wanted)
            .ok_or_else(|| UnknownSector(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sector_names_round_trip_through_str_and_serde() {
        for sector in Sector::ALL {
            assert_eq!(sector.as_str().parse::<Sector>(), Ok(sector));
            let json = serde_json::to_string(&sector).expect("serialise");
            assert_eq!(json, format!("\"{}\"", sector.as_str()));
        }
        assert_eq!("Human Rights".parse::<Sector>(), Ok(Sector::HumanRights));
        let err = "bakery".parse::<Sector>().expect_err("not a sector");
        assert!(err.to_string().contains("hospital"), "{err}");
    }
}
