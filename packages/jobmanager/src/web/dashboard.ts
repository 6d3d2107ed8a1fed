// The build (scripts/build.mjs) loads every file under web/assets/ as a string, so the one
// bundle carries the dashboard and needs no files beside it.
import appJs from './assets/app.js';
import indexHtml from './assets/index.html';
import styleCss from './assets/style.css';

export interface DashboardAsset {
  type: string;
  body: string;
}

/** The web dashboard's files by URL path: plain HTML, CSS and JS over the REST API. */
export const DASHBOARD_ASSETS: Readonly<Record<string, DashboardAsset>> = {
  '/index.html': { type: 'text/html; charset=utf-8', body: indexHtml },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: appJs },
  '/style.css': { type: 'text/css; charset=utf-8', body: styleCss },
};
