/** The dashboard's stylesheet: system fonts only, light or dark following the OS. */
export const DASHBOARD_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --panel: #ffffff; --text: #1f2328; --muted: #656d76; --line: #d8dee4; --track: #eef1f4;
  --ok: #1a7f37; --bad: #cf222e; --warn: #bf8700; --info: #0969da; --idle: #8c959f; --queue: #c9d1d9;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --panel: #161b22; --text: #e6edf3; --muted: #8d96a0; --line: #30363d; --track: #21262d;
    --ok: #3fb950; --bad: #f85149; --warn: #d29922; --info: #58a6ff; --idle: #6e7681; --queue: #484f58;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
header.top {
  display: flex; align-items: center; gap: 12px; flex-wrap: wrap;
  padding: 14px 24px; border-bottom: 1px solid var(--line); background: var(--panel);
}
header.top h1 { font-size: 18px; margin: 0; letter-spacing: .2px; }
main { padding: 20px 24px 40px; display: grid; gap: 20px; max-width: 1400px; margin: 0 auto; }
h2 { font-size: 16px; margin: 0; }
h3 { font-size: 12px; margin: 14px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .6px; }
.muted { color: var(--muted); }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.spacer { flex: 1; }
.banner { padding: 10px 14px; border-radius: 6px; border: 1px solid var(--bad); color: var(--bad); background: var(--panel); }
.banner[hidden] { display: none; }
.grid { display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px; min-width: 0; }
.card > header { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
.badge {
  display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600;
  border: 1px solid currentColor;
}
.badge.ok { color: var(--ok); } .badge.bad { color: var(--bad); } .badge.warn { color: var(--warn); }
.badge.info { color: var(--info); } .badge.idle { color: var(--muted); }
.reason { color: var(--bad); margin: 8px 0 0; font-size: 13px; overflow-wrap: anywhere; }
.reason.warn { color: var(--warn); }
.kpis { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 8px; margin-top: 12px; }
.kpi { background: var(--track); border-radius: 6px; padding: 6px 8px; min-width: 0; }
.kpi b { display: block; font-size: 18px; font-variant-numeric: tabular-nums; white-space: nowrap; }
.kpi span { font-size: 11px; color: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-top: 6px; font-size: 13px; }
.legend b { font-variant-numeric: tabular-nums; }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 2px; margin-right: 5px; vertical-align: 0; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; }
.chip { border: 1px solid var(--line); border-radius: 999px; padding: 1px 10px; font-size: 13px; }
.numbers { display: flex; flex-wrap: wrap; gap: 2px 16px; font-size: 13px; }
.numbers b { font-variant-numeric: tabular-nums; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--line); padding: 4px 6px; }
td { border-bottom: 1px solid var(--track); padding: 4px 6px; vertical-align: middle; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.bar { width: 45%; min-width: 200px; }
td.job { max-width: 280px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
svg { display: block; }
svg text { fill: var(--muted); font-size: 11px; font-family: inherit; }
.s-creating, .seg-wait { fill: var(--warn); background: var(--warn); }
.s-idle { fill: var(--idle); background: var(--idle); }
.s-busy, .seg-run { fill: var(--info); background: var(--info); }
.s-done, .seg-ok { fill: var(--ok); background: var(--ok); }
.s-failed, .seg-fail { fill: var(--bad); background: var(--bad); }
.s-removing, .seg-queue { fill: var(--queue); background: var(--queue); }
.seg-other { fill: var(--idle); background: var(--idle); }
.track { fill: var(--track); }
.grid-line { stroke: var(--line); stroke-width: 1; }
.ref-line { stroke: var(--text); stroke-width: 1; stroke-dasharray: 4 3; opacity: .7; }
.lat-bar { fill: var(--info); }
.lat-bar.slow { fill: var(--warn); }
.empty { color: var(--muted); font-style: italic; padding: 8px 0; }
@media (max-width: 700px) { .kpis { grid-template-columns: repeat(3, minmax(0, 1fr)); } .grid { grid-template-columns: 1fr; } }
`;
