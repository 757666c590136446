//! Zones: what a polygon means (kind, owner, dispute flag) and its identity in an index.

/// What kind of area a [`Zone`] is.
#[non_exhaustive]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, PartialOrd, Ord,
)]
#[serde(rename_all = "kebab-case")]
pub enum ZoneKind {
    /// Land territory of a state.
    Land,
    /// Territorial sea: water within 12 nm of the coast (UNCLOS art. 3).
    TerritorialSea,
    /// Contiguous zone: water from 12 nm to 24 nm of the coast (UNCLOS art. 33).
    ContiguousZone,
    /// Exclusive economic zone: water from 12 nm to 200 nm of the coast (UNCLOS art. 57).
    Eez,
    /// A zone a state declared unilaterally (e.g. a military warning zone).
    Declared,
    /// An area drawn by a user (watch box, patrol area).
    AreaOfInterest,
}

impl ZoneKind {
    /// Short kebab-case label, the same as the serde name (used in zone ids).
    pub fn label(self) -> &'static str {
        match self {
            ZoneKind::Land => "land",
            ZoneKind::TerritorialSea => "territorial-sea",
            ZoneKind::ContiguousZone => "contiguous-zone",
            ZoneKind::Eez => "eez",
            ZoneKind::Declared => "declared",
            ZoneKind::AreaOfInterest => "area-of-interest",
        }
    }
}

/// Index of a zone inside one [`crate::ZoneIndex`] (position in [`crate::ZoneIndex::zones`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ZoneId(pub u32);

/// One area with a meaning: a state's land or maritime zone, a declared zone, or a user's area.
#[derive(Clone, Debug)]
pub struct Zone {
    /// Stable textual id, e.g. `"JPN-eez"` or `"KOR-territorial-sea-takeshima"`.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// What the area is.
    pub kind: ZoneKind,
    /// ISO 3166-1 alpha-3 code of the owning (administering) state, e.g. `"JPN"`; empty for user areas.
    pub owner: String,
    /// True when sovereignty or the boundary of this area is disputed (see `docs/geo.md`).
    pub disputed: bool,
    /// True when the polygon is computed or simplified rather than an official boundary.
    pub approximate: bool,
    /// The area; x = longitude, y = latitude, degrees, longitudes in [-180, 180].
    pub polygon: geo::MultiPolygon<f64>,
}
