import { createHash } from 'node:crypto';
import { CLIENT_HOSTS_JS } from './client-hosts.js';
import { CLIENT_JOBS_JS } from './client-jobs.js';
import { CLIENT_MAIN_JS } from './client-main.js';
import { CLIENT_SCALE_SET_JS } from './client-scale-set.js';
import { CLIENT_UTIL_JS } from './client-util.js';
import { DASHBOARD_CSS } from './style.js';

export interface DashboardPage {
  html: string;
  /** Allows exactly the inline script and style of `html` (by hash) and fetches to the same origin. */
  contentSecurityPolicy: string;
}

/** The client script, one strict-mode IIFE so nothing leaks onto `window`. */
export const DASHBOARD_JS = `(function () {\n'use strict';\n${CLIENT_UTIL_JS}${CLIENT_SCALE_SET_JS}${CLIENT_HOSTS_JS}${CLIENT_JOBS_JS}${CLIENT_MAIN_JS}})();\n`;

const hash = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

const BODY = `
<header class="top">
  <h1>runner</h1>
  <span class="muted" id="version"></span>
  <span class="spacer"></span>
  <span id="overall"></span>
  <span class="muted" id="updated">connecting…</span>
</header>
<main>
  <div class="banner" id="error" role="alert" hidden></div>
  <section class="grid" id="scale-sets" aria-label="Scale sets"></section>
  <div id="hosts"></div>
  <section class="card" aria-label="Recent jobs">
    <header>
      <h2>Recent jobs</h2><span class="spacer"></span>
      <span class="legend">
        <span><i class="dot seg-queue"></i>queued</span><span><i class="dot seg-wait"></i>waiting for a runner</span>
        <span><i class="dot seg-run"></i>running</span><span><i class="dot seg-ok"></i>succeeded</span>
        <span><i class="dot seg-fail"></i>failed</span>
      </span>
    </header>
    <div id="timeline"></div>
  </section>
  <section class="card" aria-label="Pickup latency">
    <header><h2>Pickup latency</h2><span class="muted">queued → job started, recent jobs</span></header>
    <div id="latency"></div>
  </section>
</main>`;

let cached: DashboardPage | undefined;

export function dashboardPage(): DashboardPage {
  cached ??= {
    html: `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>runner</title>
<style>${DASHBOARD_CSS}</style>
</head>
<body>${BODY}
<script>${DASHBOARD_JS}</script>
</body>
</html>
`,
    contentSecurityPolicy: [
      "default-src 'none'",
      `script-src ${hash(DASHBOARD_JS)}`,
      `style-src ${hash(DASHBOARD_CSS)}`,
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
  };
  return cached;
}
