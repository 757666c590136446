//! The 77 commodities of the MCS 2024 data release: the file code
//! (`mcs2024-galli_world.csv` → `galli`) and the name an analyst types,
//! and which lines of the net-import-reliance figure (MCS 2024 Fig. 2)
//! belong to which commodity and series.

/// (file code, name). Names are the MCS chapter titles, lower case.
pub const COMMODITIES: &[(&str, &str)] = &[
    ("abras", "abrasives"),
    ("alumi", "aluminum"),
    ("antim", "antimony"),
    ("arsen", "arsenic"),
    ("asbes", "asbestos"),
    ("barit", "barite"),
    ("bauxi", "bauxite and alumina"),
    ("beryl", "beryllium"),
    ("bismu", "bismuth"),
    ("boron", "boron"),
    ("bromi", "bromine"),
    ("cadmi", "cadmium"),
    ("cemen", "cement"),
    ("chrom", "chromium"),
    ("clays", "clays"),
    ("cobal", "cobalt"),
    ("coppe", "copper"),
    ("diamo", "diamond (industrial)"),
    ("diato", "diatomite"),
    ("felds", "feldspar"),
    ("feore", "iron ore"),
    ("fepig", "iron oxide pigments"),
    ("feste", "iron and steel"),
    ("fluor", "fluorspar"),
    ("galli", "gallium"),
    ("garne", "garnet (industrial)"),
    ("gemst", "gemstones"),
    ("germa", "germanium"),
    ("gold", "gold"),
    ("graph", "graphite (natural)"),
    ("gypsu", "gypsum"),
    ("heliu", "helium"),
    ("indiu", "indium"),
    ("iodin", "iodine"),
    ("kyani", "kyanite"),
    ("lead", "lead"),
    ("lime", "lime"),
    ("lithi", "lithium"),
    ("manga", "manganese"),
    ("mercu", "mercury"),
    ("mgcomp", "magnesium compounds"),
    ("mgmet", "magnesium metal"),
    ("mica", "mica (natural)"),
    ("molyb", "molybdenum"),
    ("nicke", "nickel"),
    ("niobi", "niobium"),
    ("nitro", "nitrogen (fixed)-ammonia"),
    ("peat", "peat"),
    ("perli", "perlite"),
    ("phosp", "phosphate rock"),
    ("plati", "platinum-group metals"),
    ("potas", "potash"),
    ("pumic", "pumice and pumicite"),
    ("raree", "rare earths"),
    ("rheni", "rhenium"),
    ("salt", "salt"),
    ("sandi", "sand and gravel (industrial)"),
    ("selen", "selenium"),
    ("silve", "silver"),
    ("simet", "silicon"),
    ("sodaa", "soda ash"),
    ("stond", "stone (dimension)"),
    ("stron", "strontium"),
    ("sulfu", "sulfur"),
    ("talc", "talc and pyrophyllite"),
    ("tanta", "tantalum"),
    ("tellu", "tellurium"),
    ("timin", "titanium mineral concentrates"),
    ("tin", "tin"),
    ("titan", "titanium and titanium dioxide"),
    ("tungs", "tungsten"),
    ("vanad", "vanadium"),
    ("vermi", "vermiculite"),
    ("wolla", "wollastonite"),
    ("zeoli", "zeolites"),
    ("zinc", "zinc"),
    ("zirco", "zirconium and hafnium"),
];

/// The name of a file code.
pub fn name_of(code: &str) -> Option<&'static str> {
    COMMODITIES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

/// The file code of what an analyst typed: a code (`galli`), a name
/// (`gallium`), or the start of a name (`rare earth`, `graphite`).
pub fn code_of(query: &str) -> Option<&'static str> {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return None;
    }
    COMMODITIES
        .iter()
        .find(|(c, name)| *c == q || *name == q)
        .or_else(|| COMMODITIES.iter().find(|(_, name)| name.starts_with(&q)))
        .map(|(c, _)| *c)
}

/// A line of the net-import-reliance figure (by the start of its label,
/// upper case as USGS prints it) → the commodity, and a word the series'
/// type must contain when the commodity has several (copper: refined).
/// Lines with no world file (cesium, rubidium, scandium, yttrium,
/// nepheline syenite) are not listed: their reliance is kept, unjoined.
pub const RELIANCE_LINES: &[(&str, &str, Option<&str>)] = &[
    ("ABRASIVES, fused aluminum oxide", "abras", Some("fused")),
    (
        "ABRASIVES, silicon carbide",
        "abras",
        Some("silicon carbide"),
    ),
    ("ALUMINA", "bauxi", Some("alumina")),
    ("ALUMINUM", "alumi", None),
    ("ANTIMONY", "antim", None),
    ("ARSENIC", "arsen", None),
    ("ASBESTOS", "asbes", None),
    ("BARITE", "barit", None),
    ("BAUXITE", "bauxi", Some("bauxite")),
    ("BISMUTH", "bismu", None),
    ("BROMINE", "bromi", None),
    ("CEMENT", "cemen", Some("cement")),
    ("CHROMIUM", "chrom", None),
    ("COBALT", "cobal", None),
    ("COPPER", "coppe", Some("refinery")),
    ("DIAMOND (INDUSTRIAL)", "diamo", None),
    ("FLUORSPAR", "fluor", None),
    ("GALLIUM", "galli", None),
    ("GARNET", "garne", None),
    ("GEMSTONES", "gemst", None),
    ("GERMANIUM", "germa", None),
    ("GRAPHITE", "graph", None),
    ("INDIUM", "indiu", None),
    ("IODINE", "iodin", None),
    ("IRON OXIDE PIGMENTS", "fepig", None),
    ("LEAD", "lead", None),
    ("LITHIUM", "lithi", None),
    ("MAGNESIUM COMPOUNDS", "mgcomp", None),
    ("MAGNESIUM METAL", "mgmet", None),
    ("MANGANESE", "manga", None),
    ("MICA (NATURAL), scrap", "mica", Some("scrap")),
    ("MICA (NATURAL), sheet", "mica", Some("sheet")),
    ("NICKEL", "nicke", None),
    ("NIOBIUM", "niobi", None),
    ("PALLADIUM", "plati", Some("palladium")),
    ("PEAT", "peat", None),
    ("PERLITE", "perli", None),
    ("PLATINUM", "plati", Some("platinum")),
    ("POTASH", "potas", None),
    ("RARE EARTHS", "raree", None),
    ("RHENIUM", "rheni", None),
    ("SALT", "salt", None),
    ("SELENIUM", "selen", None),
    ("SILICON", "simet", None),
    ("SILVER", "silve", None),
    ("STONE (DIMENSION)", "stond", None),
    ("STRONTIUM", "stron", None),
    ("TANTALUM", "tanta", None),
    ("TELLURIUM", "tellu", None),
    ("TIN", "tin", None),
    ("TITANIUM MINERAL CONCENTRATES", "timin", None),
    ("TITANIUM, sponge", "titan", None),
    ("TUNGSTEN", "tungs", None),
    ("VANADIUM", "vanad", None),
    ("VERMICULITE", "vermi", None),
    ("ZINC", "zinc", None),
    ("ZIRCONIUM", "zirco", None),
];

/// The commodity (and series word) of a net-import-reliance label; the
/// longest matching start wins (`TITANIUM MINERAL…` before `TITANIUM, …`).
pub fn reliance_target(label: &str) -> Option<(&'static str, Option<&'static str>)> {
    RELIANCE_LINES
        .iter()
        .filter(|(start, _, _)| {
            label.starts_with(start)
                && label[start.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphabetic())
        })
        .max_by_key(|(start, _, _)| start.len())
        .map(|(_, code, word)| (*code, *word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seventy_seven_codes_and_lookups() {
        assert_eq!(COMMODITIES.len(), 77);
        assert_eq!(code_of("gallium"), Some("galli"));
        assert_eq!(code_of("Rare earths"), Some("raree"));
        assert_eq!(code_of("graphite"), Some("graph"));
        assert_eq!(code_of("tin"), Some("tin"));
        assert_eq!(code_of("unobtainium"), None);
    }

    #[test]
    fn reliance_labels() {
        assert_eq!(reliance_target("GALLIUM"), Some(("galli", None)));
        assert_eq!(
            reliance_target("COPPER, refined"),
            Some(("coppe", Some("refinery")))
        );
        assert_eq!(
            reliance_target("TITANIUM MINERAL CONCENTRATES"),
            Some(("timin", None))
        );
        assert_eq!(
            reliance_target("TITANIUM, sponge metal"),
            Some(("titan", None))
        );
        assert_eq!(reliance_target("TIN, refined"), Some(("tin", None)));
        assert_eq!(reliance_target("CESIUM"), None);
        // "SALT" must not catch a longer word.
        assert_eq!(reliance_target("SALTPETER"), None);
    }
}
