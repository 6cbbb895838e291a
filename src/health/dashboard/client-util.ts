/**
 * Browser-side helpers of the dashboard, as source text (shipped inside the package; no CDN).
 * Plain ES2020 without template literals, so it can live in a TS string. Everything from the API is
 * put into the page with textContent/setAttribute, never innerHTML: job and repository names come
 * from GitHub users.
 */
export const CLIENT_UTIL_JS = `
var SVG_NS = 'http://www.w3.org/2000/svg';

function put(node, children) {
  for (var i = 0; i < children.length; i++) {
    var c = children[i];
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) put(node, c);
    else if (typeof c === 'object') node.appendChild(c);
    else node.appendChild(document.createTextNode(String(c)));
  }
  return node;
}

/** replaceChildren that, like el(), skips null/false children instead of printing them. */
function fill(node) {
  node.replaceChildren();
  return put(node, Array.prototype.slice.call(arguments, 1));
}

function setAttrs(node, attrs) {
  for (var k in attrs || {}) {
    var v = attrs[k];
    if (v === undefined || v === null) continue;
    if (k === 'text') node.textContent = String(v);
    else node.setAttribute(k, String(v));
  }
  return node;
}

function el(tag, attrs) {
  return put(setAttrs(document.createElement(tag), attrs), Array.prototype.slice.call(arguments, 2));
}

function svg(tag, attrs) {
  return put(setAttrs(document.createElementNS(SVG_NS, tag), attrs), Array.prototype.slice.call(arguments, 2));
}

function ms(iso) {
  if (!iso) return undefined;
  var v = Date.parse(iso);
  return isFinite(v) ? v : undefined;
}

function pad2(n) { return n < 10 ? '0' + n : String(n); }

function fmtMs(v) {
  if (v === undefined || v === null || !isFinite(v)) return '\u2013';
  var a = Math.abs(v), s;
  if (a < 1000) s = Math.round(a) + ' ms';
  else if (a < 10000) s = (a / 1000).toFixed(1) + ' s';
  else if (a < 60000) s = Math.round(a / 1000) + ' s';
  else if (a < 3600000) { var secs = Math.round(a / 1000); s = Math.floor(secs / 60) + 'm ' + pad2(secs % 60) + 's'; }
  else { var mins = Math.round(a / 60000); s = Math.floor(mins / 60) + 'h ' + pad2(mins % 60) + 'm'; }
  return (v < 0 ? '\u2212' : '') + s;
}

function clock(v) {
  var d = new Date(v);
  return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
}

function percentile(sorted, p) {
  if (!sorted.length) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  var pow = Math.pow(10, Math.floor(Math.log10(v)));
  var steps = [1, 2, 2.5, 5, 10];
  for (var i = 0; i < steps.length; i++) if (steps[i] * pow >= v) return steps[i] * pow;
  return 10 * pow;
}

function firstTime(j) { return ms(j.queuedAt) || ms(j.assignedAt) || ms(j.startedAt) || ms(j.completedAt); }

function resultClass(j) {
  if (!j.completedAt) return j.startedAt ? 'seg-run' : 'seg-wait';
  var r = (j.result || '').toLowerCase();
  if (r.indexOf('succe') === 0) return 'seg-ok';
  if (r.indexOf('fail') === 0) return 'seg-fail';
  return 'seg-other';
}
`;
