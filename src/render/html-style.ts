// The HTML report's style sheet, inlined into the page: outcome colours, mode colours, layout.

export const REPORT_CSS = `
:root{--ok:#2f9e5e;--http:#e8912d;--err:#d9434b;--async:#3567d6;--threads:#8b52cc;--inline:#c2570c;--ink:#1f2328;--mute:#656d76;--line:#d8dee4}
*{box-sizing:border-box}
body{margin:0;background:#fff;color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1140px;margin:0 auto;padding:24px 20px 40px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 4px;padding-top:12px;border-top:1px solid var(--line)}
.sub,.lede,.note,footer{color:var(--mute);margin:4px 0}
.note{color:#9a6700}
.chart{overflow-x:auto}
.legend{display:flex;flex-wrap:wrap;gap:18px;margin:8px 0 4px;font-size:13px;color:var(--mute)}
.legend span{display:inline-flex;align-items:center;gap:6px}
.sw{display:inline-block;width:22px;height:10px;border-radius:2px}
.sw.ok{background:var(--ok)}.sw.http{background:var(--http)}.sw.err{background:var(--err)}
.sw.end{height:0;border-top:2px dashed #57606a}
.sw.band{background:linear-gradient(90deg,#fbe3e4 0 30%,var(--err) 30% 45%,#fbe3e4 45% 70%,var(--err) 70% 78%,#fbe3e4 78%)}
.sw.area{background:linear-gradient(90deg,var(--async),var(--threads),var(--inline));opacity:.6}
.sw.limit{height:0;border-top:2px dashed var(--err)}
.sw.server{height:0;border-top:2px dotted #24292f}
svg text{font-family:inherit;fill:var(--ink)}
svg .tick{font-size:11px;fill:var(--mute)}
svg .grid{stroke:#eaeef2;stroke-width:1}
svg .axis-line{stroke:#8c959f}
svg .plot{fill:rgba(140,149,159,.07);stroke:var(--line)}
svg .mode{font-size:15px;font-weight:600}
svg .facts{font-size:12px;fill:var(--mute)}
svg .row{font-size:10px;fill:var(--mute);font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
svg .bar{stroke:rgba(0,0,0,.18);stroke-width:.5}
svg .bar:hover{stroke:#000;stroke-width:1.5}
svg .ok,svg .o1,svg .o2,svg .o3,svg .o4{fill:var(--ok)}
svg .http{fill:var(--http)}
svg .err,svg .f1,svg .f2,svg .f3,svg .f4{fill:var(--err)}
svg .o1,svg .f1{opacity:.3}svg .o2,svg .f2{opacity:.5}svg .o3,svg .f3{opacity:.75}
svg .bin-row:hover .bin{stroke:#000;stroke-width:.5}
svg .band{fill:#fbe3e4}
svg .fail-mark{fill:var(--err)}
svg .fail-count{font-size:11px;font-weight:600;fill:var(--err)}
svg .scale{font-size:11px;fill:var(--mute);font-style:italic}
svg .scale-note{font-size:12px;font-weight:600;fill:#9a6700}
svg .end{stroke:#57606a;stroke-width:1.5;stroke-dasharray:5 4}
svg .flight{fill-opacity:.35;stroke-width:1.5}
svg .m-async{fill:var(--async);stroke:var(--async)}
svg .m-threads{fill:var(--threads);stroke:var(--threads)}
svg .m-inline{fill:var(--inline);stroke:var(--inline)}
svg .m-other{fill:#57606a;stroke:#57606a}
svg .limit{stroke:var(--err);stroke-width:1.5;stroke-dasharray:6 4}
svg .limit-label{font-size:11px;fill:var(--err)}
svg .server{stroke:#24292f;stroke-width:1.5;stroke-dasharray:2 3}
svg .server-label{font-size:11px;fill:#24292f}
table{border-collapse:collapse;margin:8px 0 12px;font-size:13px}
th,td{padding:4px 10px;border-bottom:1px solid var(--line);text-align:right}
th:first-child,.params td{text-align:left}
.glance tr:first-child th{color:var(--mute);font-weight:600}
.params th{color:var(--mute);font-weight:500}
pre{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:10px 12px;overflow-x:auto;font:12.5px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
details{margin:6px 0}summary{cursor:pointer;color:var(--mute)}
.verdict{font-weight:600;margin:4px 0}
footer{margin-top:32px;font-size:12px}
`;
