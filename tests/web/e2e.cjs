// tests/web/e2e.cjs — the site in a real browser (run by tests/web/e2e.sh): register, set
// genres, get recommendations, search and rate with a review, upload a movie with a cover, see
// it on its details page, see the recommendations change, switch to Chinese, log out. Every
// page is saved as a screenshot; any page error, console error (CSP included) or failed check
// fails the run.
'use strict';
const { chromium } = require('playwright-core');
const zlib = require('node:zlib');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');

const BASE = process.env.BASE;
const SHOTS = process.env.SHOTS || 'out/e2e';
let failures = 0, passed = 0;
function check(cond, what) {
  if (cond) { passed++; console.log('ok   ' + what); } else { failures++; console.log('FAIL ' + what); }
}

// A real PNG cover (RGB gradient), built with zlib: no image files are shipped.
function makePng(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = (x * 255 / w) | 0; raw[o + 1] = 64; raw[o + 2] = (y * 255 / h) | 0;
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'soma-e2e-chromium-'));
  // A fresh profile directory (--user-data-dir) through launchPersistentContext.
  const context = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    locale: 'en-US',
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
  let shot = 0;
  const snap = async (name) => {
    shot++;
    const file = path.join(SHOTS, String(shot).padStart(2, '0') + '-' + name + '.png');
    await page.screenshot({ path: file, fullPage: true });
  };
  const ready = async () => page.waitForSelector('main[data-ready="1"]', { timeout: 20000 });
  const go = async (hash) => {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await ready();
  };

  // 1. register
  await page.goto(BASE + '/#/register');
  await ready();
  const user = 'e2e_' + Date.now().toString(36);
  await page.fill('#username', user);
  await page.fill('#password', 'e2e-password-1');
  await snap('register');
  await page.click('#auth-submit');
  await page.waitForSelector('#prefs-form');
  await ready();
  check((await page.textContent('#nav-user')) === user, 'registered and logged in as ' + user);

  // 2. favourite genres
  await page.check('input[data-genre="Comedy"]');
  await page.check('input[data-genre="Sci-Fi"]');
  await snap('preferences');
  await page.click('#prefs-save');
  await page.waitForSelector('#recs');
  await ready();

  // 3. recommendations (cold start from the genres)
  const coldIds = await page.$$eval('#recs .card', (cs) => cs.map((c) => c.dataset.movie));
  check(coldIds.length > 0, `cold-start recommendations shown (${coldIds.length})`);
  check(await page.isVisible('#cold-start'), 'marked as cold start');
  const reasons = await page.$$eval('#recs .reason', (rs) => rs.map((r) => r.textContent));
  check(reasons.some((r) => /Comedy|Sci-Fi/.test(r)), 'a genre reason is given');
  await snap('recommendations-cold-start');

  // 4. search and rate with a review
  await page.fill('#search-input', 'star');
  await page.press('#search-input', 'Enter');
  await page.waitForSelector('#search-results .card');
  await ready();
  const titles = await page.$$eval('#search-results .card .title', (ts) => ts.map((t) => t.textContent));
  check(titles.length > 0 && titles.every((t) => /star/i.test(t)), `search "star": ${titles.slice(0, 3).join(', ')}…`);
  await snap('search');
  const target = coldIds[0];
  await go('#/movie/' + target);
  await page.click('#star-input button[data-stars="5"]');
  const review = 'Great <b>film</b> & a "review" from the browser test';
  await page.fill('#review', review);
  await page.click('#rate-submit');
  await page.waitForSelector('#rate-form .msg.ok');
  const texts = await page.$$eval('#reviews .review-text', (rs) => rs.map((r) => r.textContent));
  check(texts.includes(review), 'the review is listed verbatim (escaped, not HTML)');
  check((await page.$$('#reviews b')).length === 0, 'no HTML from the review in the page');
  await snap('rated');

  // 5. upload a movie with a cover, then its details page
  await go('#/upload');
  const title = 'E2E Movie ' + Date.now().toString(36);
  await page.fill('#up-title', title);
  await page.fill('#up-date', '2024-05-17');
  await page.check('#upload-genres input[value="Sci-Fi"]');
  await page.check('#upload-genres input[value="Comedy"]');
  await page.fill('#up-desc', 'A movie added by the end-to-end test.');
  await page.setInputFiles('#up-cover', { name: 'cover.png', mimeType: 'image/png', buffer: makePng(200, 300) });
  await snap('upload');
  await page.click('#up-submit');
  await page.waitForSelector('#movie-title');
  await ready();
  check((await page.textContent('#movie-title')) === title, 'the uploaded movie has its details page');
  const cover = await page.getAttribute('#movie-cover', 'src');
  check(/^\/media\/[0-9a-f]{64}\.png$/.test(cover), 'its cover is stored under a content hash: ' + cover);
  const coverOk = await page.evaluate(() => document.querySelector('#movie-cover').naturalWidth === 200);
  check(coverOk, 'the cover image loads in the browser');
  await snap('uploaded-details');

  // 6. recommendations changed after the rating
  await go('#/');
  await page.waitForSelector('#recs');
  const afterIds = await page.$$eval('#recs .card', (cs) => cs.map((c) => c.dataset.movie));
  check(!afterIds.includes(target), 'the rated movie left the recommendations');
  check(JSON.stringify(afterIds) !== JSON.stringify(coldIds), 'the recommendations changed');
  check(!(await page.isVisible('#cold-start')), 'no longer a cold start');
  await snap('recommendations-after-rating');

  // 7. Simplified Chinese
  await page.selectOption('#lang-select', 'zh');
  await page.waitForFunction(() => document.querySelector('#nav-logout') && document.querySelector('#nav-logout').textContent === '退出');
  await ready();
  check((await page.textContent('h1')) === '今日推荐', 'the page is in Chinese');
  await snap('recommendations-zh');
  await page.selectOption('#lang-select', 'en');
  await page.waitForFunction(() => document.querySelector('#nav-logout').textContent === 'Log out');

  // 8. demo users (MovieLens accounts)
  await go('#/demo');
  check((await page.$$('#demo-users tr')).length > 1, 'MovieLens users listed as demo accounts');
  await snap('demo-users');

  // 9. log out
  await page.click('#nav-logout');
  await page.waitForSelector('#login-form');
  check(await page.isVisible('#nav-login'), 'logged out');
  const nErrors = errors.length; // the deliberate 401 below logs a console error
  const r = await page.evaluate(async () => (await fetch('/api/recommendations')).status);
  errors.length = nErrors;
  check(r === 401, 'the API refuses recommendations after log-out');
  await snap('logged-out');

  check(errors.length === 0, 'no page or console errors' + (errors.length ? ': ' + errors.join(' | ') : ''));
  await context.close();
  fs.rmSync(userDir, { recursive: true, force: true });
  console.log(`e2e: ${passed} passed, ${failures} failed`);
  process.exit(failures ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
