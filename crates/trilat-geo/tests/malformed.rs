//! No panic on malformed TopoJSON / GeoJSON: mutated valid documents and arbitrary JSON.
use proptest::prelude::*;
use trilat_geo::{parse_geojson_zones, parse_topojson, ZoneKind};

const TOPO: &str = r#"{"type":"Topology","transform":{"scale":[0.5,0.5],"translate":[130,30]},"objects":{"countries":{"type":"GeometryCollection","geometries":[{"type":"Polygon","arcs":[[0,1]],"id":"392","properties":{"name":"Japan"}},{"type":"MultiPolygon","arcs":[[[-1,2]]],"id":"410"}]}},"arcs":[[[2,0],[0,2]],[[2,2],[-2,0],[0,-2],[2,0]],[[2,0],[2,0],[0,2],[-2,0]]]}"#;
const GEO: &str = r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"a","properties":{"kind":"area-of-interest","isoA3":"JPN"},"geometry":{"type":"Polygon","coordinates":[[[134,38],[136,38],[136,40],[134,38]]]}},{"type":"Feature","properties":{},"geometry":{"type":"GeometryCollection","geometries":[{"type":"MultiPolygon","coordinates":[[[[125,33],[126,33],[126,34],[125,33]]]]}]}}]}"#;

fn mutate(base: &str, edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
    let mut bytes = base.as_bytes().to_vec();
    for &(at, byte) in edits {
        let at = at % bytes.len();
        bytes[at] = b"[]{},:-0123456789\"ae.x "[byte as usize % 23];
    }
    bytes.truncate(bytes.len() - cut % 8);
    bytes
}

fn exercise_topo(bytes: &[u8]) {
    if let Ok(topology) = parse_topojson(bytes) {
        if let Ok(features) = topology.features("countries") {
            let _ = topology.coast_segments(&features, None);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn topojson_mutations_do_not_panic(edits in proptest::collection::vec((0usize..10_000, any::<u8>()), 0..6), cut in 0usize..8) {
        exercise_topo(&mutate(TOPO, &edits, cut));
    }

    #[test]
    fn geojson_mutations_do_not_panic(edits in proptest::collection::vec((0usize..10_000, any::<u8>()), 0..6), cut in 0usize..8) {
        let bytes = mutate(GEO, &edits, cut);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = parse_geojson_zones(text, ZoneKind::Eez);
        }
    }

    #[test]
    fn arbitrary_bytes_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        exercise_topo(&bytes);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = parse_geojson_zones(text, ZoneKind::Land);
        }
    }
}

#[test]
fn the_unmutated_documents_parse() {
    let topology = parse_topojson(TOPO.as_bytes()).unwrap();
    assert_eq!(topology.features("countries").unwrap().len(), 2);
    assert_eq!(parse_geojson_zones(GEO, ZoneKind::Eez).unwrap().len(), 2);
}
