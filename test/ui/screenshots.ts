/**
 * Checks on screenshots the browser test takes: that an element lies within the window (visible without
 * scrolling), and that a screenshot really shows something there (ink: dark pixels on the light page), decoded by
 * the same browser from the PNG bytes the test saved. And the optional copies for the README (`npm run
 * screenshots` sets CUTOVER_UI_SCREENSHOTS to docs/images).
 */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Whether `box` is wholly inside a window of `viewport`, and not empty. */
export function withinViewport(box: Box | null, viewport: { width: number; height: number }): box is Box {
  return (
    box !== null &&
    box.width > 0 &&
    box.height > 0 &&
    box.x >= 0 &&
    box.y >= 0 &&
    box.x + box.width <= viewport.width &&
    box.y + box.height <= viewport.height
  );
}

export interface Ink {
  /** Share of the region's pixels darker than mid-grey: text on the UI's light page. */
  readonly dark: number;
  /** Distinct colours in the region (a blank or one-colour region has 1). */
  readonly colours: number;
}

/** Decodes `png` in a blank page of `browser` and measures the ink in `region` (CSS pixels = image pixels). */
export async function inkIn(browser: Browser, png: Buffer, region: Box): Promise<Ink> {
  const page = await browser.newPage();
  try {
    const r = {
      x: Math.floor(region.x),
      y: Math.floor(region.y),
      width: Math.ceil(region.width),
      height: Math.ceil(region.height),
    };
    return await page.evaluate<Ink>(`(async () => {
      const img = new Image();
      img.src = 'data:image/png;base64,${png.toString('base64')}';
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const { data } = ctx.getImageData(${r.x}, ${r.y}, ${r.width}, ${r.height});
      const colours = new Set();
      let dark = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [red, green, blue] = [data[i], data[i + 1], data[i + 2]];
        if (0.299 * red + 0.587 * green + 0.114 * blue < 128) dark++;
        colours.add((red << 16) | (green << 8) | blue);
      }
      return { dark: dark / (data.length / 4), colours: colours.size };
    })()`);
  } finally {
    await page.close();
  }
}

/** Where `npm run screenshots` wants the README's images, if it does. */
export const README_SHOTS_ENV = 'CUTOVER_UI_SCREENSHOTS';

/** Saves a README image `name` of `what` (a region of the page, or an element) when `npm run screenshots` asks. */
export async function forReadme(page: Page, name: string, what: Box | Locator): Promise<void> {
  const dir = process.env[README_SHOTS_ENV];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  if ('screenshot' in what) await what.screenshot({ path: file });
  else await page.screenshot({ path: file, clip: what });
  console.log(`README image: ${file}`);
}
