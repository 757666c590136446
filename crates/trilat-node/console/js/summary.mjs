// A report's one-line summary per kind (title of a timeline item, a popup,
// the detail panel's heading). Payload text is shown as written.

import { t } from './i18n.mjs';
import { num } from './dom.mjs';
import * as seismic from './seismic.mjs';

export function kindName(kind) {
  const key = `kind.${kind}`;
  const name = t(key);
  return name === key ? kind : name;
}

export function summary(report) {
  const p = report.payload ?? {};
  switch (report.kind) {
    case 'note':
      return String(p.text ?? '').slice(0, 140);
    case 'missile.track':
      return t('summary.track', { id: p.track_id, height: num(p.height_km), phase: p.phase ?? '' });
    case 'missile.assessment':
      return t('summary.assessment', { id: p.track_id, class: p.class ?? '', range: num(p.range_km, 0), apogee: num(p.apogee_km, 0) });
    case 'missile.warning':
      return t('summary.warning', { level: p.level ?? '', status: p.status ?? '', reason: p.reason ?? '' });
    case 'maritime.incident':
      return t('summary.incident', { category: p.category ?? '', narrative: String(p.narrative ?? '').slice(0, 100) });
    case 'maritime.event':
    case 'maritime.sanctioned-vessel':
      return t('summary.event', { event: p.event ?? p.detail?.event ?? '', mmsi: p.mmsi ?? '', name: p.name ?? '' });
    case 'sanctions.hit':
      return t('summary.hit', { name: p.query?.name ?? '', caption: p.hit?.caption ?? '', score: num(p.hit?.score, 2) });
    case 'cyber.stix':
      return t('summary.stix', { type: p.stix_type ?? '', id: p.stix_id ?? '' });
    case 'seismic.event':
    case 'nuclear.assessment':
      return seismic.summary(report);
    default:
      return '';
  }
}
