// Spherical geometry for the map: great-circle distance, initial bearing,
// points along a great circle, and an ellipse as a polygon (the impact
// area). Mean Earth radius; good to a fraction of a percent at these ranges.

const R_KM = 6371.0088;
const rad = (d) => (d * Math.PI) / 180;
const deg = (r) => (r * 180) / Math.PI;

/** Great-circle distance in km between [lon, lat] points. */
export function distanceKm([lon1, lat1], [lon2, lat2]) {
  const dlat = rad(lat2 - lat1);
  const dlon = rad(lon2 - lon1);
  const a = Math.sin(dlat / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(dlon / 2) ** 2;
  return 2 * R_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Initial bearing in degrees true (0..360) from a to b. */
export function bearingDeg([lon1, lat1], [lon2, lat2]) {
  const y = Math.sin(rad(lon2 - lon1)) * Math.cos(rad(lat2));
  const x = Math.cos(rad(lat1)) * Math.sin(rad(lat2)) - Math.sin(rad(lat1)) * Math.cos(rad(lat2)) * Math.cos(rad(lon2 - lon1));
  return (deg(Math.atan2(y, x)) + 360) % 360;
}

function vec([lon, lat]) {
  return [Math.cos(rad(lat)) * Math.cos(rad(lon)), Math.cos(rad(lat)) * Math.sin(rad(lon)), Math.sin(rad(lat))];
}

/** `n + 1` points along the great circle from a to b (slerp). */
export function greatCircle(a, b, n = 64) {
  const [p, q] = [vec(a), vec(b)];
  const omega = Math.acos(Math.min(1, Math.max(-1, p[0] * q[0] + p[1] * q[1] + p[2] * q[2])));
  if (omega < 1e-9) return [a, b];
  const out = [];
  for (let i = 0; i <= n; i++) {
    const f = i / n;
    const s1 = Math.sin((1 - f) * omega) / Math.sin(omega);
    const s2 = Math.sin(f * omega) / Math.sin(omega);
    const v = [0, 1, 2].map((k) => s1 * p[k] + s2 * q[k]);
    out.push([deg(Math.atan2(v[1], v[0])), deg(Math.asin(v[2]))]);
  }
  return out;
}

/** An ellipse (semi-axes in km, major axis bearing in degrees) as a closed ring. */
export function ellipseRing([lon, lat], majorKm, minorKm, bearing, n = 72) {
  const ring = [];
  const th = rad(bearing);
  const kmPerDegLat = 111.32;
  const kmPerDegLon = 111.32 * Math.max(0.01, Math.cos(rad(lat)));
  for (let i = 0; i <= n; i++) {
    const phi = (2 * Math.PI * i) / n;
    const x = majorKm * Math.cos(phi);
    const y = minorKm * Math.sin(phi);
    const north = x * Math.cos(th) - y * Math.sin(th);
    const east = x * Math.sin(th) + y * Math.cos(th);
    ring.push([lon + east / kmPerDegLon, lat + north / kmPerDegLat]);
  }
  return ring;
}

/** The [lon, lat] of a report on the map: its geometry's point, else its payload's lat/lon. */
export function reportPoint(report) {
  const g = report.geometry;
  if (g?.type === 'Point' && Array.isArray(g.coordinates)) return g.coordinates;
  const p = report.payload ?? {};
  if (typeof p.lat === 'number' && typeof p.lon === 'number') return [p.lon, p.lat];
  return null;
}
