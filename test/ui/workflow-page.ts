/**
 * The Temporal Web UI's workflow page (UI 2.x, bundled with Temporal CLI 1.9.1), as a change manager uses it:
 * the User Metadata tab (summary, details, current details) and More Actions → Send an Update.
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

/**
 * Runs `fn` with a page in a fresh headless Chromium (a new browser context: no profile, no cookies), tall enough
 * for the stage table. When `fn` fails, saves a screenshot of the page as it was to `failureShot` first.
 */
export async function withPage<T>(failureShot: string, fn: (page: Page) => Promise<T>): Promise<T> {
  const browser = await chromium.launch(CHROMIUM_LAUNCH);
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1400 } });
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
  constructor(
    readonly page: Page,
    private readonly uiUrl: string,
    readonly workflowId: string,
    private readonly namespace = 'default',
  ) {}

  get url(): string {
    return `${this.uiUrl}/namespaces/${this.namespace}/workflows/${encodeURIComponent(this.workflowId)}`;
  }

  /** Opens the workflow (the UI redirects to its latest run) and shows the User Metadata tab. */
  async open(): Promise<void> {
    await this.page.goto(this.url);
    await this.page.getByRole('heading', { level: 1, name: this.workflowId }).waitFor({ timeout: UI_TIMEOUT_MS });
    await this.showUserMetadata();
  }

  async showUserMetadata(): Promise<void> {
    await this.page.getByRole('tab', { name: 'User Metadata' }).click();
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
   * Waits until `locate` finds something visible on the User Metadata tab. The UI fetches current details when the
   * page loads (it says "Press R for freshness"), so each round that finds nothing reloads the page.
   */
  async waitForMetadata(locate: (page: WorkflowPage) => Locator, what: string, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await locate(this).waitFor({ state: 'visible', timeout: Math.min(5_000, Math.max(1, deadline - Date.now())) });
        return;
      } catch (err) {
        if (Date.now() >= deadline)
          throw new Error(`the Web UI did not show ${what} within ${timeoutMs} ms`, { cause: err });
      }
      await this.page.reload();
      await this.showUserMetadata();
    }
  }

  /**
   * More Actions → Send an Update: picks the update whose listed name and description are exactly `name` and
   * `description` (so a missing or changed description fails here), types `input` as the JSON payload and submits.
   * Resolves when the UI reports the outcome: accepted, or rejected with the message the UI shows (a validator's
   * error); the dialog is closed either way.
   */
  async sendUpdate(name: string, description: string, input: unknown): Promise<UpdateOutcome> {
    const page = this.page;
    await page.getByRole('button', { name: 'More Actions' }).click();
    await page.getByRole('menuitem', { name: 'Send an Update' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send an Update' });
    await dialog.getByRole('button', { name: 'Select an Update' }).click();
    await dialog.getByRole('option', { name: `${name} ${description}`, exact: true }).click({ timeout: UI_TIMEOUT_MS });

    const data = dialog.getByRole('textbox', { name: 'Data' });
    await data.fill(JSON.stringify(input));
    // The editor reformats its JSON when it loses focus, which moves the Submit button: let that happen first,
    // or the click lands where the button was.
    await data.blur();
    const typed: unknown = JSON.parse(await data.innerText());
    if (JSON.stringify(typed) !== JSON.stringify(input))
      throw new Error(`the Data editor holds ${JSON.stringify(typed)}, not ${JSON.stringify(input)}`);

    await dialog.getByRole('button', { name: 'Submit' }).click();
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
