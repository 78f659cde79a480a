/**
 * The Temporal Web UI (2.54.1, bundled with Temporal CLI 1.9.1) as a change manager uses it: the workflow list with
 * the Cutover search-attribute columns, the workflow page's User Metadata tab (summary, details, current details)
 * and More Actions → Send an Update. Every click goes through `click`, which counts it.
 * Selectors are roles, accessible names and visible text; the one exception is the current-details iframe, found by
 * its element id because the UI gives all three Markdown iframes the same title ("output").
 */
import { chromium, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { CHROMIUM_LAUNCH } from '../support/browser';

/**
 * Bounded wait for one UI element. The UI renders from its own polling, so most waits are a few seconds; the bound
 * is for a browser sharing two loaded cores with a second suite, and only decides how soon a broken run fails.
 */
const UI_TIMEOUT_MS = 60_000;

/** A laptop's window: what "visible without scrolling" is checked against. */
export const VIEWPORT = { width: 1280, height: 800 } as const;

/** The workflow list's columns, in the UI's own storage format: what Configure Columns saves (see the README). */
export const CUTOVER_COLUMNS = [
  'Status',
  'CutoverTicket',
  'CutoverApp',
  'CutoverStage',
  'CutoverOutcome',
  'Workflow ID',
  'Start',
  'End',
];

/**
 * Runs `fn` with a page in a fresh headless Chromium (a new browser context: no profile, no cookies) at `VIEWPORT`,
 * whose workflow list shows `CUTOVER_COLUMNS` in the default namespace. When `fn` fails, saves a screenshot of the
 * page as it was to `failureShot` first.
 */
export async function withPage<T>(failureShot: string, fn: (page: Page) => Promise<T>): Promise<T> {
  const browser = await chromium.launch(CHROMIUM_LAUNCH);
  try {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const columns = JSON.stringify({ default: CUTOVER_COLUMNS.map((label) => ({ label })) });
    await context.addInitScript(
      `window.localStorage.setItem('namespace-workflow-table-columns', ${JSON.stringify(columns)});`,
    );
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    try {
      return await fn(page);
    } catch (err) {
      await page.screenshot({ path: failureShot, fullPage: true }).catch(() => undefined);
      console.log(`screenshot at the failure: ${failureShot}`);
      throw err;
    }
  } finally {
    await browser.close();
  }
}

export class WorkflowPage {
  /** Clicks made through `click` so far. */
  clicks = 0;
  /** Called with the filled-in Send an Update dialog, just before Submit (screenshots). */
  beforeSubmit: ((dialog: Locator) => Promise<void>) | undefined;

  constructor(
    readonly page: Page,
    private readonly uiUrl: string,
    readonly workflowId: string,
    private readonly namespace = 'default',
  ) {}

  get url(): string {
    return `${this.uiUrl}/namespaces/${this.namespace}/workflows/${encodeURIComponent(this.workflowId)}`;
  }

  /** One counted click. */
  async click(target: Locator, options?: Parameters<Locator['click']>[0]): Promise<void> {
    await target.click(options);
    this.clicks++;
  }

  /** The namespace's workflow list (typed address or bookmark: no click), once it lists the workflow. */
  async openList(): Promise<void> {
    await this.page.goto(`${this.uiUrl}/namespaces/${this.namespace}/workflows`);
    await this.page.getByRole('link', { name: this.workflowId }).waitFor({ timeout: UI_TIMEOUT_MS });
  }

  /** The workflow's row in the list. */
  listRow(): Locator {
    return this.page.getByRole('row').filter({ has: this.page.getByRole('link', { name: this.workflowId }) });
  }

  /** Clicks the workflow's id in the list: the UI opens the run on its Timeline tab. */
  async openFromList(): Promise<void> {
    await this.click(this.listRow().getByRole('link', { name: this.workflowId }));
    await this.page.getByRole('heading', { level: 1, name: this.workflowId }).waitFor({ timeout: UI_TIMEOUT_MS });
  }

  /** A run's User Metadata tab by its address: the link of a gate notice (activities/notify.ts). */
  async openUserMetadata(runId: string): Promise<void> {
    await this.page.goto(`${this.url}/${encodeURIComponent(runId)}/user-metadata`);
    await this.page.getByRole('heading', { name: 'Current Details' }).waitFor({ timeout: UI_TIMEOUT_MS });
  }

  async showUserMetadata(): Promise<void> {
    await this.click(this.page.getByRole('tab', { name: 'User Metadata' }));
    await this.page.getByRole('heading', { name: 'Current Details' }).waitFor({ timeout: UI_TIMEOUT_MS });
  }

  /** The workflow's status badge when it reads `status` (Running, Completed …). */
  status(status: string): Locator {
    return this.page
      .getByRole('main')
      .getByRole('status')
      .filter({ hasText: new RegExp(`^\\s*${status}\\s*$`) });
  }

  /** The static summary, rendered as Markdown in its own iframe. */
  summary(): FrameLocator {
    return this.page.frameLocator('iframe#user-metadata-summary');
  }

  /** The current details (`setCurrentDetails`), rendered as Markdown in its own iframe. */
  currentDetails(): FrameLocator {
    return this.page.frameLocator('iframe#user-metadata-current-details');
  }

  /**
   * Waits until `locate` finds something visible on the User Metadata tab. The UI queries current details when the
   * tab opens and again when R is pressed ("Press the R for freshness"), never on its own: each round that finds
   * nothing presses R, which re-runs the query without reloading the page; with `reload`, it reloads the page
   * instead (for what the UI reads only on loading, like the status badge).
   */
  async waitForMetadata(
    locate: (page: WorkflowPage) => Locator,
    what: string,
    { timeoutMs = 120_000, reload = false }: { timeoutMs?: number; reload?: boolean } = {},
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await locate(this).waitFor({ state: 'visible', timeout: Math.min(5_000, Math.max(1, deadline - Date.now())) });
        return;
      } catch (err) {
        if (Date.now() >= deadline)
          throw new Error(`the Web UI did not show ${what} within ${timeoutMs} ms`, { cause: err });
      }
      if (reload) {
        await this.page.reload();
        await this.page.getByRole('heading', { name: 'Current Details' }).waitFor({ timeout: UI_TIMEOUT_MS });
      } else await this.page.keyboard.press('r');
    }
  }

  /**
   * More Actions → Send an Update: picks the update whose listed name and description are exactly `name` and
   * `description` (so a missing or changed description fails here), types `input` as the JSON payload (nothing
   * when undefined) and submits: 6 clicks.
   * Resolves when the UI reports the outcome: accepted, or rejected with the message the UI shows (a validator's
   * error); the dialog is closed either way.
   */
  async sendUpdate(name: string, description: string, input: unknown): Promise<UpdateOutcome> {
    const page = this.page;
    await this.click(page.getByRole('button', { name: 'More Actions' }));
    await this.click(page.getByRole('menuitem', { name: 'Send an Update' }));
    const dialog = page.getByRole('dialog', { name: 'Send an Update' });
    await this.click(dialog.getByRole('button', { name: 'Select an Update' }));
    await this.click(dialog.getByRole('option', { name: `${name} ${description}`, exact: true }), {
      timeout: UI_TIMEOUT_MS,
    });

    if (input !== undefined) {
      const data = dialog.getByRole('textbox', { name: 'Data' });
      await this.click(data);
      await data.fill(JSON.stringify(input));
      // The editor reformats its JSON when it loses focus, which moves the Submit button: let that happen first,
      // or the click lands where the button was.
      await data.blur();
      const typed: unknown = JSON.parse(await data.innerText());
      if (JSON.stringify(typed) !== JSON.stringify(input))
        throw new Error(`the Data editor holds ${JSON.stringify(typed)}, not ${JSON.stringify(input)}`);
    }
    await this.beforeSubmit?.(dialog);
    await this.click(dialog.getByRole('button', { name: 'Submit' }));
    // Success: a toast, and the dialog closes. The toast's text is also in a visually hidden live region after it,
    // which Playwright counts as visible too: first() is the toast.
    // Rejection: the dialog stays open with an alert naming the error (its first paragraph), then a stack trace.
    const success = page.getByText('Update successful').first();
    const error = dialog.getByRole('alert').filter({ hasText: /\S/ }).getByRole('paragraph').first();
    await success.or(error).first().waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    if (await success.isVisible()) {
      await dialog.waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
      return { accepted: true };
    }
    const message = (await error.innerText()).trim();
    await dialog.getByRole('button', { name: 'Cancel' }).first().click();
    await dialog.waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
    return { accepted: false, message };
  }
}

export type UpdateOutcome = { readonly accepted: true } | { readonly accepted: false; readonly message: string };
