// A withdrawal leaves a partner's console live. USA writes a note for USA and
// JPN, then a new version for USA alone: USA's node sends JPN a signed
// withdrawal, and JPN's live stream tells the open console (event
// `withdrawn`), which drops the note without a reload or a reconnect.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { screenshot } from '../lib/browser.mjs';
import { api } from '../lib/cluster.mjs';
import { useCluster } from '../lib/fixture.mjs';
import { timelineItem, visible } from '../lib/page.mjs';

const fixture = useCluster();

test('a note its owner withdraws from JPN leaves JPN\'s open console', async () => {
  const { USA: usa } = fixture.cluster.nodes;
  const jpn = await fixture.openConsole('JPN', 'reader');
  const streams = [];
  jpn.on('request', (r) => new URL(r.url()).pathname === '/api/v1/stream' && streams.push(r.url()));
  const text = `Fishing fleet massing off Yonaguni, withdrawn later — ${randomUUID()}`;
  const draft = (relTo, body) => ({
    kind: 'note',
    marking: { level: 'UNCLASSIFIED', tlp: 'GREEN', rel_to: relTo, further_sharing: 'none' },
    payload: { text: body },
  });
  const { report } = await api(usa, 'analyst', 'POST', '/api/v1/reports', draft(['USA', 'JPN'], text));
  await visible(timelineItem(jpn, text), 15_000);

  await api(usa, 'analyst', 'PUT', `/api/v1/reports/${report.owner}/${report.id}`, draft(['USA'], `${text} (USA only)`));
  await timelineItem(jpn, text).waitFor({ state: 'detached', timeout: 20_000 });
  assert.deepEqual(streams, [], 'the console reconnected its stream instead of following the withdrawal live');
  await screenshot(jpn, 'withdrawn-at-jpn');
  await jpn.close();
});
