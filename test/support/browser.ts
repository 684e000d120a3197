/**
 * What the browser tests share: a static page server on 127.0.0.1 (a secure context, so WebCrypto is
 * there for SCRAM) and Debian's headless Chromium driven by playwright-core (never a browser download;
 * XMPPKIT_CHROMIUM points at another executable).
 *
 *   const chromium = useBrowser();                       // hooks: server and browser up before the file, down after
 *   const { page, console, errors } = await chromium.open();
 *   await page.evaluate(() => globalThis.xmppkit.client({ ... }));
 *
 * By default the server answers /xmppkit.min.js with the browser bundle (packages/client/dist/xmppkit.min.js,
 * read when the file's tests start) and every other path with a blank page that loads it. `handler`
 * replaces that (the chat example serves its own page, script and stylesheet next to the bundle).
 * /favicon.ico is always an empty 204, so that Chromium's request for it never logs a console error.
 */
import { readFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

/** The browser bundle the tests load (built by `pnpm -s build && npx rollup -c --silent`). */
export const bundle = fileURLToPath(new URL('../../packages/client/dist/xmppkit.min.js', import.meta.url));

/** Debian's Chromium unless XMPPKIT_CHROMIUM says otherwise (see scripts/chromium.sh). */
export const executablePath = process.env.XMPPKIT_CHROMIUM ?? '/usr/bin/chromium';

/** Headless, no sandbox (containers run as root), and nothing that talks to Google in the background. */
export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface OpenedPage {
  page: Page;
  /** the text of every console message, in order */
  console: string[];
  /** console.error() messages and uncaught page errors */
  errors: string[];
}

export interface OpenOptions {
  /** path on the page server (default `/`) */
  path?: string;
  viewport?: BrowserContextOptions['viewport'];
}

export interface BrowserHarness {
  /** `http://127.0.0.1:<port>` of the page server */
  readonly origin: string;
  readonly browser: Browser;
  /** A new page at `origin + path`, loaded, collecting its console output and errors. */
  open(options?: OpenOptions): Promise<OpenedPage>;
}

export interface BrowserHarnessOptions {
  /** serves every request instead of the bundle and the blank page */
  handler?: RequestListener;
  /** `<title>` of the blank page */
  title?: string;
}

/** Bundle and blank page, as every browser test file but the chat example's needs. */
function bundleHandler(title: string): RequestListener {
  const code = readFileSync(bundle);
  const html = `<!doctype html><meta charset="utf-8"><title>${title}</title><script src="/xmppkit.min.js"></script>`;
  return (req, res) => {
    const script = req.url === '/xmppkit.min.js';
    res.writeHead(200, { 'content-type': script ? 'text/javascript' : 'text/html' });
    res.end(script ? code : html);
  };
}

/** Register beforeAll/afterAll hooks that start the page server and Chromium, and stop them. */
export function useBrowser(options: BrowserHarnessOptions = {}): BrowserHarness {
  let http: Server | undefined;
  let browser: Browser | undefined;
  let origin: string | undefined;

  beforeAll(async () => {
    const handler = options.handler ?? bundleHandler(options.title ?? 'xmppkit');
    const server = createServer((req, res) => {
      if (req.url === '/favicon.ico') {
        res.writeHead(204);
        res.end();
      } else void handler(req, res);
    });
    http = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath, headless: true, args: chromiumArgs });
  });

  afterAll(async () => {
    await browser?.close();
    const server = http;
    if (server) await new Promise((resolve) => server.close(resolve));
  });

  const harness: BrowserHarness = {
    get origin(): string {
      if (!origin) throw new Error('the page server runs only while the test file runs');
      return origin;
    },
    get browser(): Browser {
      if (!browser) throw new Error('Chromium runs only while the test file runs');
      return browser;
    },
    async open({ path = '/', viewport }: OpenOptions = {}): Promise<OpenedPage> {
      const page = await harness.browser.newPage(viewport ? { viewport } : {});
      const log: string[] = [];
      const errors: string[] = [];
      page.on('console', (m) => {
        log.push(m.text());
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(new URL(path, harness.origin).href);
      return { page, console: log, errors };
    },
  };
  return harness;
}
