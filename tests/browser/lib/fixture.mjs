// One cluster and one browser per test file, started before its tests and
// stopped after them.
import { after, before } from 'node:test';
import { launch, signIn } from './browser.mjs';
import { startCluster } from './cluster.mjs';
import { consoleReady, recordFetchBodies } from './page.mjs';

/**
 * Registers the hooks; the returned object's fields are set once `before` ran.
 * `options` go to `startCluster`; a function is called in `before` first (for
 * setup the options depend on).
 */
export function useCluster(options = {}) {
  const fixture = { cluster: null, browser: null };
  before(async () => {
    fixture.cluster = await startCluster(typeof options === 'function' ? await options() : options);
    fixture.browser = await launch();
  });
  after(async () => {
    await fixture.browser?.close();
    await fixture.cluster?.stop();
  });
  /** Opens `party`'s console signed in with its `role` token, ready. */
  fixture.openConsole = async (party, role, { record = false } = {}) => {
    const page = await fixture.browser.newPage();
    if (record) await recordFetchBodies(page);
    await signIn(page, fixture.cluster.nodes[party], role);
    await consoleReady(page);
    return page;
  };
  return fixture;
}
