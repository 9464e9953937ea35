/* http_assets.c - the pages' static files (style sheet, the node page's optional refresh script), compiled in. */
#include <string.h>

#include "resolver/http_pages.h"

/* Own style, no web fonts or CDN: the node may sit on a plant network
 * without a route to the internet. */
static const char CSS[] =
	":root{--ink:#1c2430;--muted:#5b6675;--line:#d9dee5;--bg:#f4f6f9;--card:#fff;"
	"--accent:#0b5cad;--accent-ink:#fff;--ok:#1d7a46;--warn:#a35d00;--bad:#b3261e;"
	"--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,'DejaVu Sans Mono',monospace}\n"
	"*{box-sizing:border-box}\n"
	"html{font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans','Noto Sans CJK SC',"
	"'PingFang SC','Microsoft YaHei',sans-serif;color:var(--ink);background:var(--bg)}\n"
	"body{margin:0}\n"
	"a{color:var(--accent)}\n"
	"a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid #f0b400;"
	"outline-offset:2px}\n"
	".skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;"
	"padding:.25rem .5rem;z-index:2}\n"
	"header.top{background:#0d2740;color:#fff}\n"
	"header.top .in{max-width:1040px;margin:0 auto;padding:.8rem 1.25rem;display:flex;"
	"align-items:center;gap:1.5rem;flex-wrap:wrap}\n"
	".brand{font-weight:700;font-size:1.15rem;color:#fff;text-decoration:none;letter-spacing:.01em}\n"
	".brand small{font-weight:400;color:#a9bfd6;margin-left:.5rem;font-size:.85rem}\n"
	"nav ul{list-style:none;margin:0;padding:0;display:flex;gap:.25rem}\n"
	"nav a{color:#dbe6f2;text-decoration:none;padding:.35rem .7rem;border-radius:6px}\n"
	"nav a:hover{background:#18395a}\n"
	"nav a[aria-current=page]{background:#fff;color:#0d2740;font-weight:600}\n"
	"main{max-width:1040px;margin:0 auto;padding:1.5rem 1.25rem 2rem}\n"
	"h1{font-size:1.6rem;margin:.2rem 0 1rem}\n"
	"h2{font-size:1.15rem;margin:0 0 .75rem}\n"
	".card{background:var(--card);border:1px solid var(--line);border-radius:10px;"
	"padding:1.25rem 1.4rem;margin-bottom:1.25rem;box-shadow:0 1px 2px rgba(16,24,40,.05)}\n"
	".lead{color:var(--muted);margin:0 0 1rem}\n"
	"form.resolve{display:flex;gap:.6rem;flex-wrap:wrap;align-items:flex-end}\n"
	"form.resolve .field{flex:1 1 22rem;display:flex;flex-direction:column;gap:.3rem}\n"
	"label{font-weight:600}\n"
	"input[type=text]{font:1.05rem var(--mono);padding:.6rem .75rem;border:1px solid #9aa6b5;"
	"border-radius:8px;width:100%}\n"
	"button{font:inherit;font-weight:600;padding:.62rem 1.3rem;border-radius:8px;border:0;"
	"background:var(--accent);color:var(--accent-ink);cursor:pointer}\n"
	"button:hover{background:#094c8f}\n"
	".hint{color:var(--muted);font-size:.9rem;margin:.6rem 0 0}\n"
	".hint code,td code{font-family:var(--mono);font-size:.9em}\n"
	".alert{border-radius:8px;padding:.85rem 1rem;margin:0 0 1rem;border:1px solid;"
	"border-left-width:6px}\n"
	".alert.bad{background:#fdf0ef;border-color:var(--bad);color:#6d1610}\n"
	".alert.warn{background:#fff6e6;border-color:var(--warn);color:#5c3500}\n"
	".alert strong{display:block;margin-bottom:.15rem}\n"
	".handle{font-family:var(--mono);font-size:1.1rem;word-break:break-all}\n"
	".meta{color:var(--muted);font-size:.9rem;margin:.2rem 0 1rem}\n"
	".tablewrap{overflow-x:auto}\n"
	"table{border-collapse:collapse;width:100%;font-size:.95rem}\n"
	"caption{text-align:left;color:var(--muted);padding-bottom:.5rem}\n"
	"th,td{text-align:left;padding:.55rem .65rem;border-bottom:1px solid var(--line);"
	"vertical-align:top}\n"
	"th{background:#eef1f5;font-weight:600;white-space:nowrap}\n"
	"td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"td.type{font-family:var(--mono);font-weight:600;white-space:nowrap}\n"
	"td.data{word-break:break-word;max-width:30rem}\n"
	"td.ts{white-space:nowrap;color:var(--muted)}\n"
	".tag{display:inline-block;font:600 .72rem/1.4 var(--mono);padding:.05rem .4rem;"
	"border-radius:4px;background:#e7edf5;color:#2d3e52;margin-right:.35rem}\n"
	".perm{font-family:var(--mono);white-space:nowrap}\n"
	".b64{font-family:var(--mono);font-size:.85rem;color:#2d3e52;word-break:break-all}\n"
	"dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1.25rem;margin:0}\n"
	"dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;font-weight:600}\n"
	".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:1.25rem}\n"
	".metric{margin:0}\n"
	".metric .label{color:var(--muted);font-size:.9rem;margin:0}\n"
	".metric .value{font-size:2rem;font-weight:700;font-variant-numeric:tabular-nums;"
	"margin:.1rem 0 .1rem}\n"
	".metric .of{color:var(--muted);font-size:.9rem;margin:0 0 .5rem}\n"
	".bar{height:12px;background:#e6eaf0;border-radius:6px;overflow:hidden}\n"
	".bar span{display:block;height:100%;background:var(--accent);min-width:2px}\n"
	".bar.ok span{background:var(--ok)}\n"
	".pct{font-size:.85rem;color:var(--muted);margin:.3rem 0 0}\n"
	".note{font-size:.85rem;color:var(--muted);font-weight:400}\n"
	"footer{max-width:1040px;margin:0 auto;padding:0 1.25rem 2rem;color:var(--muted);"
	"font-size:.85rem}\n"
	"@media (prefers-color-scheme:dark){:root{--ink:#e4e8ee;--muted:#9aa6b5;--line:#2c3542;"
	"--bg:#11161d;--card:#19202a;--accent:#5aa2ee;--accent-ink:#0b1320}"
	"th{background:#212a36}.tag{background:#263244;color:#cfd9e6}.b64{color:#b8c4d3}"
	".bar{background:#2a3441}input[type=text]{background:#0f141a;color:var(--ink)}"
	".alert.bad{background:#2a1514;color:#f5c6c2}.alert.warn{background:#2a2010;color:#f3d49b}"
	"nav a[aria-current=page]{color:#0d2740}}\n";

/* Optional: the node page refreshes its figures from /api/node every 10 s.
 * Without JavaScript the page is complete as served. */
static const char NODE_JS[] =
	"(function(){\n"
	"var fmt=function(n){return Number(n).toLocaleString('en-US');};\n"
	/* the same wording as http_node.c's pct_text() */
	"function pct(q){return q===0?'0%':q<0.001?'< 0.001%':q<1?q.toFixed(3)+'%':q.toFixed(1)+'%';}\n"
	"function upd(){\n"
	" fetch('/api/node',{cache:'no-store'}).then(function(r){return r.json();}).then(function(j){\n"
	"  (j.metrics||[]).forEach(function(m){\n"
	"   var el=document.getElementById('m-'+m.id); if(!el)return;\n"
	"   el.querySelector('.value').textContent=fmt(m.value);\n"
	"   if(m.threshold){var p=Math.min(100,100*m.value/m.threshold);\n"
	"    var s=el.querySelector('.bar span'); if(s)s.style.width=p.toFixed(2)+'%';\n"
	"    var b=el.querySelector('.bar'); if(b)b.setAttribute('aria-valuenow',p.toFixed(2));\n"
	"    var t=el.querySelector('.pct'); if(t)t.textContent=pct(100*m.value/m.threshold)+' of the threshold';}\n"
	"  });\n"
	"  var u=document.getElementById('uptime'); if(u&&j.uptimeText)u.textContent=j.uptimeText;\n"
	" }).catch(function(){});\n"
	"}\n"
	"setInterval(upd,10000);\n"
	"})();\n";

static const http_asset_t ASSETS[] = {
	{ "idnode.css", "text/css;charset=utf-8", CSS, sizeof(CSS) - 1 },
	{ "node.js", "text/javascript;charset=utf-8", NODE_JS, sizeof(NODE_JS) - 1 },
};

const http_asset_t *http_asset_find(const char *name)
{
	for (size_t i = 0; i < sizeof(ASSETS) / sizeof(ASSETS[0]); i++)
		if (strcmp(ASSETS[i].name, name) == 0)
			return &ASSETS[i];
	return NULL;
}
