// The approval console in a real browser (Debian's Chromium through playwright-core) against the whole
// local stack with the demo app in a container: a critical fault waits; a person opens /console, types
// the approver token, approves with a comment and watches the incident resolve; then reads the runbook and
// turns the learned fix off and on. The page may reach only Medic: every other request is aborted and counted.
import { mkdirSync, readFileSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { banner } from '../../scripts/local-stack.js';
import { CONSOLE_CSP } from '../../src/api/console.js';
import { chromiumOrSkip, guardedContext, launchChromium } from '../support/browser.js';
import { type E2eStack, engineOrSkip, incidentReader, startE2eStack } from './support.js';

const { engine, skipReason: noEngine } = engineOrSkip();
const { skipReason: noBrowser } = chromiumOrSkip();
const DEMO = `medic-console-${process.pid}`;
const SCREENSHOT = 'test-results/console.png';
let stack: E2eStack;
let browser: Browser | undefined;

describe.skipIf(Boolean(noEngine ?? noBrowser))('the approval console in a real browser', () => {
  beforeAll(async () => {
    stack = await startE2eStack({
      engine: engine!,
      // A resolved incident closes at once, so the console lists it among the recent ones as RESOLVED.
      env: { MEDIC_RECURRENCE_WINDOW: '0s' },
      demo: { name: DEMO, env: { MONITOR_INTERVAL_MS: '1000' } },
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const { incident, awaitIncident } = incidentReader(() => stack.apiUrl);

  async function trigger(fault: string): Promise<void> {
    const res = await fetch(`${stack.demo.url}/trigger/${fault}`, { method: 'POST' });
    expect(res.status).toBe(202);
  }

  /** The text a person sees (innerText: rendered, hidden parts left out), not the DOM's textContent. */
  // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator, not a DOM node.
  const visibleText = (locator: Locator) => locator.innerText();

  /** Errors the page reports (script errors, CSP violations, failed loads), collected for one assertion. */
  function pageProblems(page: Page): string[] {
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
    });
    return problems;
  }

  it('shows the waiting incident, approves it with a comment, and shows it resolved', {
    timeout: 240_000,
  }, async () => {
    expect(banner(stack)).toContain(`Approval console ${stack.apiUrl}/console`);

    // A first fault healed without asking gives the guard something to show (a restart, a cooldown).
    await trigger('memory-leak');
    await awaitIncident(`incident:local:${DEMO}:memory-leak`, 'RESOLVED');
    await trigger('hang');
    const workflowId = `incident:local:${DEMO}:hang`;
    await awaitIncident(workflowId, 'AWAITING_APPROVAL');

    const { context, blocked } = await guardedContext(browser!, { viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    const problems = pageProblems(page);
    const requested: string[] = [];
    page.on('request', (req) => requested.push(req.url()));

    // As a notification links it: the console brings the incident named after # into view.
    const response = await page.goto(`${stack.apiUrl}/console#${workflowId}`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toBe(CONSOLE_CSP);

    // The waiting incident, with what a person needs to decide.
    const card = page.locator(`article[id="${workflowId}"]`);
    await card.waitFor({ timeout: 30_000 });
    await expect.poll(() => visibleText(card), { timeout: 15_000 }).toContain('restarts this hour');
    const text = await visibleText(card);
    expect(text).toContain(`${DEMO} · hang`);
    expect(text).toContain('severity: critical');
    expect(text).toMatch(/waiting \d+ (s|min)/);
    expect(text).toContain('Proposed action');
    expect(text).toContain('RESTART');
    expect(text).toContain('Diagnosis trail');
    expect(text).toMatch(/rules: answered/);
    expect(text).toContain(`container ${DEMO}`);
    expect(await card.getAttribute('class')).toContain('linked');

    // Without a token nothing is sent: the page asks for one.
    await card.getByRole('button', { name: 'Approve' }).click();
    expect(await visibleText(card.locator('.outcome'))).toContain('Type your approver token first');
    expect((await incident(workflowId))?.status).toBe('AWAITING_APPROVAL');

    // The token, typed once: kept in this tab's session storage, nowhere else.
    const token = stack.approverTokens[0]!.token;
    await page.getByLabel('Approver token').fill(token);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByText('A token is set for this browser tab.').waitFor();
    expect(await visibleText(card.locator('.outcome'))).toBe('');
    // A string, evaluated in the page: the test program is typed without the DOM's globals.
    const stored = await page.evaluate(
      '({ session: Object.values(sessionStorage), local: localStorage.length, cookie: document.cookie })',
    );
    expect(stored).toEqual({ session: [token], local: 0, cookie: '' });
    expect(page.url()).not.toContain(token);

    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // The report opens in the page (fetched with the token), and closes with its button.
    await card.getByRole('link', { name: 'Report' }).click();
    const report = page.getByRole('dialog');
    // The report is a query of the incident: on a busy machine it takes longer than poll's 1 s default.
    await expect.poll(() => visibleText(report), { timeout: 15_000 }).toContain(`# Incident ${workflowId}`);
    await report.getByRole('button', { name: 'Close' }).click();
    await report.waitFor({ state: 'hidden' });

    const comment = 'approved from the console test';
    await card.getByLabel('Comment (optional)').fill(comment);
    await card.getByRole('button', { name: 'Approve' }).click();
    // The answer comes once the decision is taken; by then the next refresh may already have taken the
    // card off the waiting list, so the answer is read where the console announces it.
    await expect
      .poll(() => visibleText(page.locator('#changes')), { timeout: 60_000 })
      .toContain('Approved by operator; now REMEDIATING');

    // It leaves the waiting list and shows up resolved among the recent incidents.
    const row = page.locator(`tr[id="recent-${workflowId}"]`);
    await expect.poll(() => visibleText(row).catch(() => ''), { timeout: 120_000 }).toContain('RESOLVED');
    // Two visibility queries feed the two lists, each eventually consistent: the card goes at a refresh.
    await expect.poll(() => card.count(), { timeout: 30_000 }).toBe(0);
    expect(await visibleText(page.locator('#changes'))).toContain(
      `${DEMO} · hang no longer waits for approval`,
    );

    // The decision, as the incident recorded it.
    const state = await incident(workflowId);
    expect(state?.status).toBe('RESOLVED');
    expect(state?.approval).toMatchObject({
      decision: 'approved',
      decidedBy: 'operator',
      comment,
      channel: 'api',
    });

    // The runbook: the fix the memory leak taught, with its counts and standing (one success does not make
    // it trusted); an approver turns it off with a note, and on again.
    const fixRow = page.locator('#runbook-body tr', { hasText: `${DEMO} · memory-leak` });
    await expect.poll(() => visibleText(fixRow).catch(() => ''), { timeout: 60_000 }).toContain('RESTART');
    const fixText = await visibleText(fixRow);
    expect(fixText).toContain('1 resolved, 0 failed, 0 rejected, 0 did not stick');
    expect(fixText).toContain('100 % of 1');
    expect(fixText).toContain('not trusted');
    expect(fixText).toContain('not enough uses yet');
    expect(await visibleText(fixRow.locator('td.enabled'))).toBe('yes');
    expect(await visibleText(page.locator('#runbook-summary'))).toContain('at least 80 % of at least 2 uses');

    await fixRow.getByRole('button', { name: 'Disable' }).click();
    expect(await visibleText(fixRow.locator('.outcome'))).toContain('Say in the note why');
    const note = 'turned off from the console test';
    await fixRow.getByLabel('Note').fill(note);
    await fixRow.getByRole('button', { name: 'Disable' }).click();
    await expect
      .poll(() => visibleText(page.locator('#changes')), { timeout: 30_000 })
      .toContain('Disabled by operator.');
    await expect.poll(() => visibleText(fixRow.locator('td.enabled')), { timeout: 30_000 }).toMatch(/^no/);
    expect(await visibleText(fixRow)).toContain(`disabled by operator at `);
    const learned = () =>
      (JSON.parse(readFileSync(stack.runbookPath, 'utf8')).fixes as Array<Record<string, unknown>>).find(
        (f) => (f.match as { alertType: string }).alertType === 'memory-leak',
      );
    expect(learned()).toMatchObject({ enabled: false, toggled: { enabled: false, by: 'operator', note } });

    await fixRow.getByRole('button', { name: 'Enable' }).click();
    await expect.poll(() => visibleText(fixRow.locator('td.enabled')), { timeout: 30_000 }).toMatch(/^yes/);
    expect(learned()).toMatchObject({ enabled: true, toggled: { enabled: true, by: 'operator' } });

    // The console asked nothing of any host but Medic's own, and the page reported no error.
    expect(blocked).toEqual([]);
    const origin = new URL(stack.apiUrl).origin;
    expect(requested.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});
