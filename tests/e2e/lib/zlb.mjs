// tests/e2e/lib/zlb.mjs — the 浙里办 front desk (extension/src/frontdesk.html) in the
// browser tests: the sandbox's default hospital's credentials, its admin actions and
// order listing, and reading the front desk's table.

import { waitFor } from './env.mjs';

/** The sandbox's default 浙里办 account (tests/sandbox/src/platforms/zheliban/mod.rs). */
export const ZLB = {
  apikey: 'NBsyltb8wDHUf1CIVxSLMZmpktwL7ScJ',
  secret: 'eAT9HgCQy6l6GjKY26CT0giy65PtXg4W',
  aesKey: 'ZLB-sandbox-key1',
};

/** Every record the sandbox holds for zheliban, as its admin `orders` lists them. */
export async function zlbOrders(sandbox) {
  const o = await sandbox.admin('/orders?platform=zheliban');
  return Array.isArray(o) ? o : Object.values(o).flat();
}

/** The sandbox record with this serial number (throws when there is none). */
export async function zlbOrder(sandbox, serial) {
  const found = (await zlbOrders(sandbox)).find((o) => o.serialNumber === serial);
  if (!found) throw new Error(`the sandbox has no zheliban record ${serial}`);
  return found;
}

/** How many token requests (`/reservation/sync/token`) reached the sandbox's 浙里办. */
export async function zlbTokenRequests(sandbox) {
  const log = await sandbox.admin('/requests?platform=zheliban&limit=10000');
  return log.filter((r) => r.path.endsWith('/reservation/sync/token')).length;
}

/** Adds reservations (partial records, seed field names); their serial numbers. */
export async function addZlbReservations(sandbox, records) {
  const r = await sandbox.admin('/platform/zheliban/add_reservations', { records });
  return r.serialNumbers;
}

/**
 * Reads the front desk's table in the page itself (a function of `document`, so that it
 * runs under Playwright's `page.evaluate` and WebDriver's `execute` alike):
 * [{serial, name, id, check_date, status, arrived, arrival, can_arrive}].
 */
export function readDeskRows(doc = document) {
  return [...doc.querySelectorAll('[data-testid="zlb-row"]')].map((tr) => ({
    serial: tr.dataset.serial,
    name: tr.querySelector('[data-testid="zlb-name"]').textContent,
    id: tr.querySelector('[data-testid="zlb-id"]').textContent,
    check_date: tr.querySelector('[data-testid="zlb-check-date"]').textContent,
    status: tr.dataset.status,
    arrived: tr.querySelector('[data-testid="zlb-arrived-time"]')?.textContent ?? '',
    arrival: tr.dataset.arrival,
    can_arrive: Boolean(tr.querySelector('[data-testid="zlb-arrive"]')),
  }));
}

/** The rows of the front desk's table in a Playwright page (see `readDeskRows`). */
export async function deskRows(page) {
  return page.evaluate(readDeskRows);
}

/** The rows of the front desk's table in a WebDriver session (lib/webdriver.mjs). */
export async function sessionDeskRows(session) {
  return session.execute(`return (${readDeskRows})(document);`);
}

/**
 * Waits until the table's serials are exactly `serials` (any order) after the front desk
 * re-read its list (a filter, a search or a sync), and returns the rows. `read` reads
 * them from `page` (`sessionDeskRows` for a WebDriver session).
 */
export async function waitForDeskSerials(page, serials, what = 'the front desk list', read = deskRows) {
  const want = [...serials].sort().join(',');
  let rows = [];
  await waitFor(
    async () => {
      rows = await read(page);
      return rows.map((r) => r.serial).sort().join(',') === want;
    },
    { timeoutMs: 15_000, what: `${what} to be [${want}] (have [${rows.map((r) => r.serial).join(',')}])` },
  );
  return rows;
}

/** Clicks a button of the front desk and waits for the element `testid` to leave data-state `busy`. */
export async function clickAndSettle(page, button, testid, busy) {
  await page.click(`[data-testid="${button}"]`);
  const el = page.locator(`[data-testid="${testid}"]`);
  await waitFor(async () => {
    const state = await el.getAttribute('data-state');
    return state && state !== busy;
  }, { timeoutMs: 60_000, what: `${testid} after ${button}` });
  return { state: await el.getAttribute('data-state'), text: (await el.textContent()).trim() };
}
