/* web.c — HTTP endpoints and the self-contained report page. */
#include "web.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "util.h"

/* One open connection and the moment its current request must be complete by. */
typedef struct conn_slot {
    int fd;
    double deadline; /* CLOCK_MONOTONIC seconds */
    int cut;         /* shut down by the watchdog */
    struct conn_slot *prev, *next;
} conn_slot;

struct rp_web {
    struct MHD_Daemon *d;
    rp_stats *st;
    int fd;
    rp_web_conf conf;
    char host[256]; /* the configured host, as web_name_parse gives it ("" if none) */
    char **allowed; /* Allowed_Hosts, as web_name_parse gives them */
    size_t n_allowed;
    int any_host; /* Allowed_Hosts has "*" */
    /* The watchdog: every open connection, and a thread that shuts down those past
     * their deadline (MHD's own timeout is an idle timeout: each byte received resets
     * it). lock guards conns and stopping; a slot is unlinked in MHD's CLOSED
     * notification, which comes before MHD closes the socket, so the watchdog never
     * touches a descriptor that was closed (and maybe reused). */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t watchdog;
    int watchdog_started, stopping;
    conn_slot *conns;
    char *chart_js; /* the Chart.js file, read at start; NULL when missing */
    size_t chart_js_len;
};

#define CT_JSON "application/json"
#define CT_HTML "text/html; charset=utf-8"
#define CT_TEXT "text/plain; charset=utf-8"
#define CT_PROM "text/plain; version=0.0.4; charset=utf-8"

static const char page_style[] =
    "<style>\n"
    "body{font-family:system-ui,Arial,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}\n"
    "header{background:#1d2330;color:#fff;padding:14px 24px}\n"
    "header h1{margin:0;font-size:22px}header p{margin:4px 0 0;font-size:13px;color:#c9cfdb}\n"
    "main{max-width:900px;margin:0 auto;padding:8px 24px 24px}\n"
    "h2{font-size:17px;margin:22px 0 8px}\n"
    "table{width:100%;border-collapse:collapse;background:#fff;box-shadow:0 1px 2px #0002}\n"
    "td,th{text-align:left;padding:6px 10px;font-size:14px}th{background:#e8ebf0}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;width:20%}\n"
    "td.descr{width:80%}tr:nth-child(even){background:#f2f4f7}\n"
    "tr.sub td.descr{padding-left:28px}\n"
    "#chart{background:#fff;box-shadow:0 1px 2px #0002;padding:8px}\n"
    "#chart svg{width:100%;height:auto;display:block}\n"
    ".axis{stroke:#888;stroke-width:1}.grid{stroke:#e3e6eb;stroke-width:1}\n"
    ".line{fill:none;stroke:#e05a1a;stroke-width:1.5}.area{fill:#e05a1a22;stroke:none}\n"
    "svg text{font-size:11px;fill:#555}\n"
    "footer{font-size:13px;color:#555;margin-top:20px}\n"
    "code{background:#e8ebf0;padding:1px 4px}\n"
    ".scroll{overflow-x:auto}.plot{position:relative;height:280px;background:#fff;"
    "box-shadow:0 1px 2px #0002;padding:8px;margin-bottom:8px}\n"
    "form,.controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:6px 0}\n"
    "select,input,button{font-size:15px;padding:6px 8px;border:1px solid #5a6478;"
    "border-radius:4px;background:#fff;color:#1d2330}\n"
    "input{flex:1 1 220px;min-width:0}button{background:#1d4ed8;color:#fff;border-color:#1d4ed8;"
    "cursor:pointer}\n"
    "button.link{background:none;color:#1d4ed8;border:none;padding:0;text-decoration:underline}\n"
    ":focus-visible{outline:3px solid #f59e0b;outline-offset:2px}\n"
    "td.in{color:#166534}td.out{color:#b91c1c;font-weight:600}\n"
    "ol#timeline{background:#fff;box-shadow:0 1px 2px #0002;margin:0;padding:10px 10px 10px 34px}\n"
    "ol#timeline li{margin:4px 0;font-size:14px}ol#timeline .ev{font-weight:600}\n"
    ".muted{color:#4b5563;font-size:13px}\n"
    "@media (max-width:600px){main{padding:4px 10px}td,th{padding:4px 6px;font-size:13px}"
    "header{padding:10px}}\n"
    "</style>\n";

/* The chart and the refresh are drawn by the browser from /json and /json/ts-messages;
 * everything goes through textContent or SVG attributes, never innerHTML. */
static const char page_script[] =
    "<script>\n"
    "(function(){'use strict';\n"
    "var NS='http://www.w3.org/2000/svg';\n"
    "function el(n,a,t){var e=document.createElementNS(NS,n);for(var k in a)e.setAttribute(k,a[k]);"
    "if(t!==undefined)e.textContent=t;return e;}\n"
    "function fmt(t){var d=new Date(t*1000);return d.toISOString().slice(0,16).replace('T',' ');}\n"
    "function draw(ps){\n"
    " var box=document.getElementById('chart');var W=860,H=300,L=56,R=12,T=12,B=36;\n"
    " var svg=el('svg',{id:'chart-svg',viewBox:'0 0 '+W+' '+H,role:'img',"
    "'aria-label':'Messages per minute'});\n"
    " var pts=[];ps.forEach(function(p){pts.push([Date.parse(p.time)/1000,p.messages]);});\n"
    " var fill=[];for(var i=0;i<pts.length;i++){if(i>0&&pts[i][0]-pts[i-1][0]>60){"
    "fill.push([pts[i-1][0]+60,0]);if(pts[i][0]-pts[i-1][0]>120)fill.push([pts[i][0]-60,0]);}"
    "fill.push(pts[i]);}\n"
    " svg.appendChild(el('line',{'class':'axis',x1:L,y1:H-B,x2:W-R,y2:H-B}));\n"
    " svg.appendChild(el('line',{'class':'axis',x1:L,y1:T,x2:L,y2:H-B}));\n"
    " if(!fill.length){svg.appendChild(el('text',{x:W/2,y:H/2,'text-anchor':'middle'},"
    "'No messages yet'));}\n"
    " else{\n"
    "  var t0=fill[0][0],t1=fill[fill.length-1][0];if(t1===t0){t0-=60;t1+=60;}\n"
    "  var ymax=1;fill.forEach(function(p){if(p[1]>ymax)ymax=p[1];});\n"
    "  function X(t){return L+(t-t0)/(t1-t0)*(W-L-R);}\n"
    "  function Y(v){return Math.round((H-B-v/ymax*(H-T-B))*10)/10;}\n"
    "  for(var g=0;g<=4;g++){var v=Math.round(ymax*g/4);svg.appendChild(el('line',{'class':'grid',"
    "x1:L,y1:Y(v),x2:W-R,y2:Y(v)}));svg.appendChild(el('text',{x:L-6,y:Y(v)+4,"
    "'text-anchor':'end'},String(v)));}\n"
    "  var s=fill.map(function(p){return X(p[0]).toFixed(1)+','+Y(p[1]).toFixed(1);}).join(' ');\n"
    "  svg.appendChild(el('polygon',{'class':'area',points:X(t0).toFixed(1)+','+Y(0)+' '+s+' '+"
    "X(t1).toFixed(1)+','+Y(0)}));\n"
    "  svg.appendChild(el('polyline',{'class':'line',id:'chart-line',points:s,"
    "'data-points':String(pts.length)}));\n"
    "  svg.appendChild(el('text',{x:L,y:H-B+16},fmt(t0)+' UTC'));\n"
    "  svg.appendChild(el('text',{x:W-R,y:H-B+16,'text-anchor':'end'},fmt(t1)+' UTC'));\n"
    " }\n"
    " svg.appendChild(el('text',{x:L,y:H-4},'messages per minute (last 10 days)'));\n"
    " box.replaceChildren(svg);\n"
    "}\n"
    "function row(tb,k,v,cls){var tr=document.createElement('tr');var "
    "a=document.createElement('td');"
    "a.className=cls;a.textContent=k;var b=document.createElement('td');b.className='num';"
    "b.textContent=v;tr.appendChild(a);tr.appendChild(b);tb.appendChild(tr);return b;}\n"
    "function counters(d){\n"
    " document.getElementById('startedRunning').textContent=d.startedRunning;\n"
    " var seen={};document.querySelectorAll('[data-counter]').forEach(function(c){"
    "var k=c.getAttribute('data-counter');seen[k]=1;if(k in d)c.textContent=d[k];});\n"
    " Object.keys(d).forEach(function(k){if(k==='startedRunning'||seen[k])return;"
    "var tb=document.querySelector(k.indexOf('persona_')===0?'#personas tbody':'#other tbody');"
    "row(tb,k,d[k],'descr').setAttribute('data-counter',k);});\n"
    "}\n"
    "function params(p){\n"
    " var tb=document.querySelector('#params tbody');var ps=p.params||{};var "
    "keys=Object.keys(ps);\n"
    " document.getElementById('params-source').textContent=keys.length?"
    "'From '+(p.source||'?')+' ('+(p.reason||'?')+', '+(p.ts||'?')+')':'No parameters received "
    "yet.';\n"
    " tb.replaceChildren();keys.forEach(function(k){var v=ps[k];"
    "row(tb,k,typeof v==='string'?v:JSON.stringify(v),'descr');});\n"
    "}\n"
    "function get(u,f){return fetch(u,{cache:'no-store'}).then(function(r){"
    "if(!r.ok)throw new Error(u+': '+r.status);return r.json();}).then(f);}\n"
    "function refresh(){Promise.all([get('json',counters),get('json/ts-messages',draw),"
    "get('json/params',params)]).then(function(){document.getElementById('updated').textContent="
    "new Date().toISOString().slice(0,19).replace('T',' ')+' UTC';document.body.setAttribute("
    "'data-loaded','1');}).catch(function(e){document.getElementById('updated').textContent="
    "'update failed: '+e.message;});}\n"
    "refresh();setInterval(refresh,5000);\n"
    "})();\n"
    "</script>\n";

/* ---- the history sections of the page (one function each) ---- */

/* Per-outcome time series: a Chart.js stacked bar chart over a table of totals. */
static void page_outcomes_section(bs_buf *out)
{
    buf_puts(out, "<section id=\"outcomes\" aria-labelledby=\"outcomes-h\">\n"
                  "<h2 id=\"outcomes-h\">Outcomes over time</h2>\n"
                  "<div class=\"controls\"><label for=\"range\">Time range</label>"
                  "<select id=\"range\" name=\"range\">"
                  "<option value=\"1h\" selected>last hour</option>"
                  "<option value=\"6h\">last 6 hours</option>"
                  "<option value=\"24h\">last 24 hours</option>"
                  "<option value=\"7d\">last 7 days</option>"
                  "<option value=\"30d\">last 30 days</option></select>"
                  "<span class=\"muted\" id=\"history-state\"></span></div>\n"
                  "<div class=\"plot\"><canvas id=\"chart-outcomes\" role=\"img\" "
                  "aria-label=\"Records per outcome over the chosen time range, stacked\" "
                  "hidden></canvas></div>\n"
                  "<div class=\"scroll\"><table id=\"series-table\"><caption class=\"muted\">"
                  "Records per outcome in the range</caption><thead><tr><th scope=\"col\">"
                  "Outcome</th><th scope=\"col\">In the range</th><th scope=\"col\">Latest "
                  "interval</th></tr></thead><tbody></tbody></table></div>\n</section>\n");
}

/* Observed share of each outcome of the mixed stream beside the configured share. */
static void page_model_section(bs_buf *out)
{
    buf_puts(out, "<section id=\"model\" aria-labelledby=\"model-h\">\n"
                  "<h2 id=\"model-h\">Observed vs configured (mixed stream)</h2>\n"
                  "<p class=\"muted\" id=\"model-n\"></p>\n"
                  "<div class=\"scroll\"><table id=\"model-table\"><thead><tr>"
                  "<th scope=\"col\">Outcome</th><th scope=\"col\">Observed</th>"
                  "<th scope=\"col\">95 % interval (Wilson)</th><th scope=\"col\">Configured"
                  "</th><th scope=\"col\">Verdict</th></tr></thead><tbody></tbody></table>"
                  "</div>\n</section>\n");
}

/* In-band (and greylist, throttle) replies by code: a bar chart and its table. */
static void page_codes_section(bs_buf *out)
{
    buf_puts(out, "<section id=\"codes\" aria-labelledby=\"codes-h\">\n"
                  "<h2 id=\"codes-h\">In-band replies by code</h2>\n"
                  "<div class=\"plot\"><canvas id=\"chart-codes\" role=\"img\" "
                  "aria-label=\"In-band replies per SMTP code in the chosen time range\" "
                  "hidden></canvas></div>\n"
                  "<div class=\"scroll\"><table id=\"codes-table\"><thead><tr><th scope=\"col\">"
                  "Code</th><th scope=\"col\">Replies</th></tr></thead><tbody></tbody></table>"
                  "</div>\n</section>\n");
}

/* The search box: one message's records and the timeline of the first. */
static void page_lookup_section(bs_buf *out)
{
    buf_puts(out, "<section id=\"lookup\" aria-labelledby=\"lookup-h\">\n"
                  "<h2 id=\"lookup-h\">What happened to my message?</h2>\n"
                  "<form id=\"lookup-form\" role=\"search\"><label for=\"lookup-field\">"
                  "Search by</label><select id=\"lookup-field\" name=\"field\">"
                  "<option value=\"rcpt\">recipient</option>"
                  "<option value=\"from\">envelope sender</option>"
                  "<option value=\"message_id\">Message-ID</option>"
                  "<option value=\"spool_id\">spool id</option>"
                  "<option value=\"msfbl\">X-MSFBL</option></select>"
                  "<label for=\"lookup-value\" class=\"muted\">Value</label>"
                  "<input id=\"lookup-value\" name=\"value\" type=\"search\" "
                  "autocomplete=\"off\" required placeholder=\"user@example.com\">"
                  "<button id=\"lookup-go\" type=\"submit\">Search</button></form>\n"
                  "<p id=\"lookup-status\" class=\"muted\" role=\"status\" "
                  "aria-live=\"polite\"></p>\n"
                  "<div class=\"scroll\"><table id=\"lookup-table\" hidden><thead><tr>"
                  "<th scope=\"col\">Time</th><th scope=\"col\">Kind</th><th scope=\"col\">"
                  "Outcome</th><th scope=\"col\">Recipient</th><th scope=\"col\">Timeline</th>"
                  "</tr></thead><tbody></tbody></table></div>\n"
                  "<h3 id=\"timeline-h\" hidden>Timeline</h3>\n"
                  "<ol id=\"timeline\" aria-labelledby=\"timeline-h\" hidden></ol>\n"
                  "</section>\n");
}

/* The newest records, refreshed with the rest (a live tail). */
static void page_recent_section(bs_buf *out)
{
    buf_puts(out, "<section id=\"recent\" aria-labelledby=\"recent-h\">\n"
                  "<h2 id=\"recent-h\">Recent messages</h2>\n"
                  "<div class=\"scroll\"><table id=\"recent-table\"><thead><tr>"
                  "<th scope=\"col\">Time</th><th scope=\"col\">Kind</th><th scope=\"col\">"
                  "Outcome</th><th scope=\"col\">Recipient</th><th scope=\"col\">Timeline</th>"
                  "</tr></thead><tbody></tbody></table></div>\n</section>\n");
}

/* Draws the history sections from /json/outcomes and /json/messages: tables always,
 * charts when /chart.js loaded (window.Chart). textContent only, never innerHTML. */
static const char page_history_script[] =
    "<script src=\"chart.js\"></script>\n"
    "<script>\n"
    "(function(){'use strict';\n"
    "var COLORS={accept:'#6b7280',open:'#2563eb',click:'#7c3aed',oob:'#dc2626',fbl:'#ea580c',"
    "ooto:'#0891b2',unsubscribe:'#65a30d',inband_4xx:'#ca8a04',inband_5xx:'#9f1239',"
    "blackhole:'#111827',deferral:'#0d9488',skipped:'#a16207',error:'#be185d'};\n"
    "function $(id){return document.getElementById(id);}\n"
    "function cell(tr,text,tag){var c=document.createElement(tag||'td');c.textContent=text;"
    "tr.appendChild(c);return c;}\n"
    "function get(u){return fetch(u,{cache:'no-store'}).then(function(r){return r.json()"
    ".catch(function(){return {};}).then(function(j){if(!r.ok)throw new Error(j.error||"
    "(u+': '+r.status));return j;});});}\n"
    "var charts={};\n"
    "function chart(id,cfg){var c=$(id);if(!window.Chart){c.hidden=true;return;}"
    "c.hidden=false;if(charts[id])charts[id].destroy();cfg.options=Object.assign({"
    "animation:false,maintainAspectRatio:false,responsive:true},cfg.options||{});"
    "charts[id]=new Chart(c,cfg);c.setAttribute('data-chart','drawn');}\n"
    "function pct(x){return x===null||x===undefined?'\\u2014':(100*x).toFixed(x<0.01?3:1)+' %';}\n"
    "function outcomes(d){\n"
    " var tb=document.querySelector('#series-table tbody');tb.replaceChildren();var sets=[];"
    "var names=[];\n"
    " Object.keys(d.series).forEach(function(k){var v=d.series[k];var tot=v.reduce(function(a,b)"
    "{return a+b;},0);if(!tot)return;names.push(k);var tr=document.createElement('tr');"
    "tr.setAttribute('data-outcome',k);cell(tr,k,'th').setAttribute('scope','row');"
    "cell(tr,String(tot)).className='num';cell(tr,String(v[v.length-1])).className='num';"
    "tb.appendChild(tr);sets.push({label:k,data:v,backgroundColor:COLORS[k]||'#999'});});\n"
    " if(!names.length){var tr=document.createElement('tr');cell(tr,'No records in this range')"
    ".colSpan=3;tb.appendChild(tr);}\n"
    " $('outcomes').setAttribute('data-series',names.join(','));\n"
    " var labels=d.times.map(function(t){return d.step>=3600?t.slice(5,13).replace('T',' ')+'h':"
    "t.slice(11,16);});\n"
    " chart('chart-outcomes',{type:'bar',data:{labels:labels,datasets:sets},options:{scales:{"
    "x:{stacked:true,ticks:{maxTicksLimit:12}},y:{stacked:true,beginAtZero:true,title:{"
    "display:true,text:'records per '+(d.step/60)+' min'}}}}});\n"
    "}\n"
    "function model(m){\n"
    " var tb=document.querySelector('#model-table tbody');tb.replaceChildren();\n"
    " $('model-n').textContent=m.n+' messages of the mixed stream in the range (gated ones "
    "left out).';\n"
    " m.rows.forEach(function(r){var tr=document.createElement('tr');tr.setAttribute("
    "'data-outcome',r.outcome);cell(tr,r.outcome,'th').setAttribute('scope','row');"
    "cell(tr,pct(r.observed)+' ('+r.count+')');cell(tr,m.n?pct(r.low)+' \\u2013 '+pct(r.high):"
    "'\\u2014');cell(tr,pct(r.configured));var v=cell(tr,r.configured===null?'no parameters':"
    "!m.n?'no data':r.within?'as configured':'outside the interval');v.className=r.within?"
    "'in':m.n&&r.configured!==null?'out':'';tb.appendChild(tr);});\n"
    "}\n"
    "function codes(cs){\n"
    " var tb=document.querySelector('#codes-table tbody');tb.replaceChildren();\n"
    " cs.forEach(function(c){var tr=document.createElement('tr');tr.setAttribute('data-code',"
    "c.code);cell(tr,String(c.code),'th').setAttribute('scope','row');cell(tr,String(c.count));"
    "tb.appendChild(tr);});\n"
    " if(!cs.length){var tr=document.createElement('tr');cell(tr,'No in-band replies in this "
    "range').colSpan=2;tb.appendChild(tr);}\n"
    " chart('chart-codes',{type:'bar',data:{labels:cs.map(function(c){return String(c.code);}),"
    "datasets:[{label:'replies',data:cs.map(function(c){return c.count;}),backgroundColor:"
    "cs.map(function(c){return c.code>=500?'#9f1239':'#ca8a04';})}]},options:{plugins:{legend:"
    "{display:false}},scales:{y:{beginAtZero:true}}}});\n"
    "}\n"
    "function detail(e){return Object.keys(e).filter(function(k){return k!=='event'&&k!=='time';})"
    ".map(function(k){var v=e[k];return k+'='+(typeof v==='string'?v:JSON.stringify(v));})"
    ".join(', ');}\n"
    "function timeline(m){var ol=$('timeline');ol.replaceChildren();$('timeline-h').hidden=false;"
    "ol.hidden=false;$('timeline-h').textContent='Timeline of '+m.kind+' '+m.id+' ('+m.outcome+')';"
    "ol.setAttribute('data-id',m.id);\n"
    " (m.events||[]).forEach(function(e){var li=document.createElement('li');li.setAttribute("
    "'data-event',e.event);var t=document.createElement('span');t.className='muted';t.textContent="
    "(e.time?e.time.slice(11,23):'')+' ';var b=document.createElement('span');b.className='ev';"
    "b.textContent=e.event;li.appendChild(t);li.appendChild(b);var d=detail(e);if(d)"
    "li.appendChild(document.createTextNode(' \\u2014 '+d));ol.appendChild(li);});}\n"
    "function rows(tb,ms){tb.replaceChildren();ms.forEach(function(m){var tr=document."
    "createElement('tr');tr.setAttribute('data-seq',m.seq);cell(tr,(m.time||'').slice(0,19)"
    ".replace('T',' '));cell(tr,m.kind);cell(tr,m.outcome);cell(tr,m.rcpt||'');var td=cell(tr,'');"
    "var b=document.createElement('button');b.type='button';b.className='link';b.textContent="
    "'show';b.setAttribute('aria-label','Show the timeline of '+m.kind+' '+m.id);b.onclick="
    "function(){timeline(m);$('timeline').scrollIntoView();};td.appendChild(b);tb.appendChild(tr);"
    "});}\n"
    "function lookup(field,value){$('lookup-status').textContent='Searching\\u2026';\n"
    " return get('json/messages?'+encodeURIComponent(field)+'='+encodeURIComponent(value)+"
    "'&limit=50').then(function(d){var t=$('lookup-table');rows(t.querySelector('tbody'),"
    "d.messages);t.hidden=!d.messages.length;$('lookup-status').textContent=d.messages.length+"
    "' record(s) found'+(d.next_before?' (newest 50 shown)':'')+'.';if(d.messages.length)"
    "timeline(d.messages[0]);else{$('timeline').hidden=true;$('timeline-h').hidden=true;}"
    "document.body.setAttribute('data-lookup','done');}).catch(function(e){$('lookup-status')"
    ".textContent='Search failed: '+e.message;});}\n"
    "$('lookup-form').addEventListener('submit',function(ev){ev.preventDefault();var f=$("
    "'lookup-field').value,v=$('lookup-value').value.trim();if(!v)return;history.replaceState("
    "null,'','#'+f+'='+encodeURIComponent(v));lookup(f,v);});\n"
    "function refresh(){var r=$('range').value;return Promise.all([get('json/outcomes?range='+r)"
    ".then(function(d){outcomes(d);model(d.model);codes(d.codes);}),get('json/messages?limit=15')"
    ".then(function(d){rows(document.querySelector('#recent-table tbody'),d.messages);})]).then("
    "function(){$('history-state').textContent=window.Chart?'':'Charts need /chart.js "
    "(libjs-chart.js); tables only.';document.body.setAttribute('data-history-loaded','1');})"
    ".catch(function(e){$('history-state').textContent='History: '+e.message;});}\n"
    "$('range').addEventListener('change',refresh);\n"
    "var h=/^#(rcpt|from|message_id|spool_id|msfbl)=(.+)$/.exec(location.hash);\n"
    "if(h){$('lookup-field').value=h[1];$('lookup-value').value=decodeURIComponent(h[2]);"
    "lookup(h[1],$('lookup-value').value);}\n"
    "refresh();setInterval(refresh,5000);\n"
    "})();\n"
    "</script>\n";

static void counter_rows(bs_buf *out, rp_stats *st, counter_group group, int dynamic)
{
    for (size_t i = 0; i < stats_count(st); i++) {
        long long v;
        const char *name = stats_name(st, i, &v);
        const char *label = NULL;
        counter_group g = GROUP_OTHER;
        if (i < stats_known_n) {
            label = stats_known[i].label;
            g = stats_known[i].group;
        } else if (!dynamic) {
            continue;
        } else if (strncmp(name, "persona_", 8) == 0) {
            g = GROUP_PERSONA; /* persona_<persona>_<rule> */
        }
        if (g != group)
            continue;
        int sub = group == GROUP_MAIN && strcmp(name, "total_messages") != 0 &&
                  strncmp(name, "oob", 3) != 0 && strncmp(name, "fbl", 3) != 0 &&
                  strncmp(name, "ooto", 4) != 0;
        buf_puts(out, sub ? "<tr class=\"sub\"><td class=\"descr\">" : "<tr><td class=\"descr\">");
        buf_html_escape(out, label ? label : name, BS_HTML_APOS);
        buf_puts(out, "</td><td class=\"num\" data-counter=\"");
        buf_html_escape(out, name, BS_HTML_APOS);
        buf_printf(out, "\">%lld</td></tr>\n", v);
    }
}

static void param_rows(bs_buf *out, const json_t *params)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(params, "params"), key, v)
    {
        buf_puts(out, "<tr><td class=\"descr\">");
        buf_html_escape(out, key, BS_HTML_APOS);
        buf_puts(out, "</td><td class=\"num\">");
        char *text = json_is_string(v) ? xstrdup(json_string_value(v))
                                       : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        buf_html_escape(out, text, BS_HTML_APOS);
        free(text);
        buf_puts(out, "</td></tr>\n");
    }
}

/* Issue 17: the actions schedule holds, by type, and when the next is due (only when a
 * schedule stage runs). */
static void schedule_section(bs_buf *out, rp_stats *st)
{
    const json_t *sc = stats_schedule(st);
    if (!sc)
        return;
    buf_puts(out, "<h2>Scheduled actions</h2>\n<table id=\"schedule\"><tbody>\n");
    const char *name;
    json_t *v;
    long long max = 1;
    json_object_foreach((json_t *)json_object_get(sc, "pending"), name,
                        v) if (json_integer_value(v) > max) max = json_integer_value(v);
    json_object_foreach((json_t *)json_object_get(sc, "pending"), name, v)
    {
        long long n = json_integer_value(v);
        buf_puts(out, "<tr><th>");
        buf_html_escape(out, name, BS_HTML_APOS);
        buf_printf(out,
                   "</th><td>%lld</td><td><span class=\"bar\" style=\"display:inline-block;"
                   "background:#4a7;height:0.8em;width:%.1fem\"></span></td></tr>\n",
                   n, 20.0 * (double)n / (double)max);
    }
    const char *next = json_string_value(json_object_get(sc, "next_due"));
    buf_printf(out, "<tr><th>all pending</th><td>%lld</td><td></td></tr>\n",
               (long long)json_integer_value(json_object_get(sc, "pending_total")));
    buf_puts(out, "<tr><th>next due</th><td colspan=\"2\">");
    buf_html_escape(out, next ? next : "none", BS_HTML_APOS);
    buf_puts(out, "</td></tr>\n</tbody></table>\n");
}

void web_page(rp_stats *st, bs_buf *out)
{
    char started[40];
    stats_timestr(stats_started(st), started, sizeof started);
    buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<title>Bouncy Sink report</title>\n");
    buf_puts(out, page_style);
    buf_puts(out, "</head>\n<body>\n<header><h1>Bouncy Sink</h1><p>Started running "
                  "<span id=\"startedRunning\">");
    buf_html_escape(out, started, BS_HTML_APOS);
    buf_puts(out, "</span> &middot; updated <span id=\"updated\">(not yet)</span></p></header>\n"
                  "<main>\n");
    page_lookup_section(out);
    page_outcomes_section(out);
    page_model_section(out);
    page_codes_section(out);
    page_recent_section(out);
    buf_puts(out, "<h2>Messages per minute</h2>\n<div id=\"chart\">"
                  "<noscript>The chart needs JavaScript.</noscript></div>\n");
    buf_puts(out, "<h2>Responses from the sink</h2>\n<table id=\"counters\"><tbody>\n");
    counter_rows(out, st, GROUP_MAIN, 0);
    buf_puts(out, "</tbody></table>\n<h2>Error responses</h2>\n<table id=\"errors\"><tbody>\n");
    counter_rows(out, st, GROUP_ERROR, 0);
    buf_puts(out, "</tbody></table>\n<h2>Open and click processing</h2>\n"
                  "<table id=\"urls\"><tbody>\n");
    counter_rows(out, st, GROUP_URL, 0);
    buf_puts(out, "</tbody></table>\n<h2>Greylisting, throttling and slow replies</h2>\n"
                  "<table id=\"listener\"><tbody>\n");
    counter_rows(out, st, GROUP_LISTEN, 0);
    buf_puts(out, "</tbody></table>\n<h2>Provider personas (replies per persona and rule)</h2>\n"
                  "<table id=\"personas\"><tbody>\n");
    counter_rows(out, st, GROUP_PERSONA, 1);
    buf_puts(out, "</tbody></table>\n<h2>Other counters</h2>\n<table id=\"other\"><tbody>\n");
    counter_rows(out, st, GROUP_OTHER, 1);
    buf_puts(out, "</tbody></table>\n");
    schedule_section(out, st);
    buf_puts(out, "<h2>Model parameters in force</h2>\n<p id=\"params-source\">");
    const json_t *params = stats_params(st);
    if (params) {
        buf_puts(out, "From ");
        buf_html_escape(out, json_string_value(json_object_get(params, "source")), BS_HTML_APOS);
        buf_puts(out, " (");
        buf_html_escape(out, json_string_value(json_object_get(params, "reason")), BS_HTML_APOS);
        buf_puts(out, ", ");
        buf_html_escape(out, json_string_value(json_object_get(params, "ts")), BS_HTML_APOS);
        buf_puts(out, ")");
    } else {
        buf_puts(out, "No parameters received yet.");
    }
    buf_puts(out, "</p>\n<table id=\"params\"><tbody>\n");
    param_rows(out, params);
    buf_puts(out, "</tbody></table>\n<footer>The same data as JSON: <a href=\"json\">/json</a>, "
                  "<a href=\"json/ts-messages\">/json/ts-messages</a>, <a href=\"json/params\">"
                  "/json/params</a>, <a href=\"json/messages\">/json/messages</a>, "
                  "<a href=\"json/outcomes\">/json/outcomes</a>; for Prometheus: <a "
                  "href=\"metrics\">/metrics</a>. "
                  "In-band and blackholed recipients are counted apart from messages "
                  "processed.</footer>\n</main>\n");
    buf_puts(out, page_script);
    buf_puts(out, page_history_script);
    buf_puts(out, "</body>\n</html>\n");
}

static void put_json(bs_buf *body, json_t *doc)
{
    char *s = json_dumps(doc, JSON_ENCODE_ANY);
    buf_puts(body, s);
    buf_putc(body, '\n');
    free(s);
    json_decref(doc);
}

void web_route(rp_stats *st, const char *method, const char *url, int *status, const char **ctype,
               bs_buf *body)
{
    static const char *const paths[] = {"/", "/json", "/json/ts-messages", "/json/params",
                                        "/metrics"};
    int which = -1;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (strcmp(url, paths[i]) == 0)
            which = (int)i;
    *status = 200;
    *ctype = CT_TEXT;
    if (which < 0) {
        *status = 404;
        buf_puts(body, "Not found. Try /, /json, /json/ts-messages, /json/params or /metrics.\n");
        return;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        *status = 405;
        buf_puts(body, "Method not allowed: this report is read-only (GET, HEAD).\n");
        return;
    }
    stats_lock(st);
    switch (which) {
    case 0:
        *ctype = CT_HTML;
        web_page(st, body);
        break;
    case 1:
        *ctype = CT_JSON;
        put_json(body, stats_json(st));
        break;
    case 2:
        *ctype = CT_JSON;
        put_json(body, stats_series(st));
        break;
    case 3:
        *ctype = CT_JSON;
        put_json(body, stats_params_json(st));
        break;
    default: {
        *ctype = CT_PROM;
        char *m = stats_metrics(st);
        buf_puts(body, m);
        free(m);
    }
    }
    stats_unlock(st);
}

static void put_error(bs_buf *body, const char *text)
{
    json_t *e = json_object();
    json_object_set_new(e, "error", json_string(text));
    put_json(body, e);
}

int web_history_route(rp_hist_reader *h, rp_stats *st, const char *url, const char *const *keys,
                      const char *const *values, size_t n, int *status, const char **ctype,
                      bs_buf *body)
{
    int messages = strcmp(url, "/json/messages") == 0;
    if (!messages && strcmp(url, "/json/outcomes") != 0)
        return 0;
    *ctype = CT_JSON;
    *status = 200;
    if (!h) {
        *status = 503;
        put_error(body, "no history is kept ([Report] History = none)");
        return 1;
    }
    char *err = NULL;
    json_t *doc = NULL;
    if (messages) {
        hist_query q;
        hist_query_init(&q);
        for (size_t i = 0; i < n; i++) {
            const char *why;
            if (hist_query_set(&q, keys[i], values[i], &why) != 0) {
                err = xasprintf("%s: %s", why, keys[i]);
                *status = 400;
                break;
            }
        }
        if (!err)
            doc = hist_messages(h, &q, &err);
        hist_query_free(&q);
    } else {
        const char *range = "1h";
        for (size_t i = 0; i < n; i++) {
            if (strcmp(keys[i], "range") != 0) {
                err = xstrdup("unknown parameter (range)");
                break;
            }
            range = values[i] ? values[i] : "";
        }
        long secs, step;
        if (!err && hist_range(range, &secs, &step) != 0)
            err = xstrdup("range is not one of 1h, 6h, 24h, 7d, 30d");
        if (err) {
            *status = 400;
        } else {
            stats_lock(st);
            json_t *params = stats_params(st) ? json_deep_copy(stats_params(st)) : NULL;
            stats_unlock(st);
            doc = hist_overview(h, range, bs_now(), params, &err);
            json_decref(params);
        }
    }
    if (doc) {
        put_json(body, doc);
    } else {
        if (*status == 200)
            *status = 500;
        put_error(body, err ? err : "history query failed");
    }
    free(err);
    return 1;
}

#define WEB_MAX_ARGS 16
typedef struct {
    const char *keys[WEB_MAX_ARGS], *values[WEB_MAX_ARGS];
    size_t n;
    int too_many;
} web_args;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    web_args *a = cls;
    if (a->n == WEB_MAX_ARGS) {
        a->too_many = 1;
        return MHD_NO;
    }
    a->keys[a->n] = key;
    a->values[a->n++] = value;
    return MHD_YES;
}

int web_host_parse(const char *value, char *out, size_t n)
{
    const char *s = value, *end;
    if (!s || n == 0)
        return -1;
    int bracketed = *s == '[';
    if (bracketed) { /* [v6]:port */
        s++;
        end = strchr(s, ']');
        if (!end || end == s)
            return -1;
        for (const char *p = s; p < end; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
                return -1;
        value = end + 1;
    } else {
        end = s;
        while (*end && *end != ':') {
            unsigned char c = (unsigned char)*end;
            if (!isalnum(c) && c != '-' && c != '.' && c != '_')
                return -1;
            end++;
        }
        if (end == s)
            return -1;
        value = end;
    }
    if (*value == ':') { /* a port: 1 to 5 digits, nothing after */
        size_t d = strspn(value + 1, "0123456789");
        if (d < 1 || d > 5 || value[1 + d] != 0)
            return -1;
    } else if (*value) {
        return -1;
    }
    size_t len = (size_t)(end - s);
    if (len > 1 && s[len - 1] == '.' && !bracketed) /* the FQDN form "host." */
        len--;
    if (len == 0 || len >= n || len > 253)
        return -1;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[len] = 0;
    return 0;
}

int web_name_parse(const char *name, char *out, size_t n)
{
    if (strchr(name, ':') && name[0] != '[') { /* a bare IPv6 address */
        struct in6_addr a;
        size_t len = strlen(name);
        if (inet_pton(AF_INET6, name, &a) != 1 || len >= n)
            return -1;
        for (size_t i = 0; i <= len; i++)
            out[i] = (char)tolower((unsigned char)name[i]);
        return 0;
    }
    return web_host_parse(name, out, n);
}

int web_origin_valid(const char *o)
{
    if (strcmp(o, "*") == 0 || strcmp(o, "null") == 0)
        return 1;
    const char *rest = strncmp(o, "https://", 8) == 0  ? o + 8
                       : strncmp(o, "http://", 7) == 0 ? o + 7
                                                       : NULL;
    char host[256];
    return rest && strchr(rest, '/') == NULL && web_host_parse(rest, host, sizeof host) == 0;
}

/* Whether the IP literal host is the address the connection reached on this side. */
static int is_local_address(struct MHD_Connection *conn, const char *host)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (!ci || getsockname(ci->connect_fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET) {
        struct in_addr a;
        return inet_pton(AF_INET, host, &a) == 1 &&
               memcmp(&a, &((struct sockaddr_in *)&ss)->sin_addr, sizeof a) == 0;
    }
    if (ss.ss_family == AF_INET6) {
        struct in6_addr a;
        return inet_pton(AF_INET6, host, &a) == 1 &&
               memcmp(&a, &((struct sockaddr_in6 *)&ss)->sin6_addr, sizeof a) == 0;
    }
    return 0;
}

/* The Host check against DNS rebinding: 0 allowed, else the status to answer. */
static int check_host(rp_web *w, struct MHD_Connection *conn, const char *version)
{
    const char *value = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    char host[256];
    if (!value) /* allowed in HTTP/1.0 only (browsers always send one) */
        return strcmp(version, MHD_HTTP_VERSION_1_0) == 0 ? 0 : 400;
    if (web_host_parse(value, host, sizeof host) != 0)
        return 400;
    if (w->any_host || (w->host[0] && strcmp(host, w->host) == 0))
        return 0;
    for (size_t i = 0; i < w->n_allowed; i++)
        if (strcmp(host, w->allowed[i]) == 0)
            return 0;
    return is_local_address(conn, host) ? 0 : 421;
}

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", CT_TEXT);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)upload;
    (void)con_cls;
    rp_web *w = cls;
    /* Answered on the first call, with the headers: a request body is never read (MHD
     * discards it or closes the connection), so uploads cannot tie the server up. */
    *upload_size = 0;
    int bad_host = check_host(w, conn, version);
    if (bad_host == 421)
        return answer_text(conn, 421,
                           "Misdirected request: this report answers to its own address and "
                           "the names of [Report] Allowed_Hosts.\n");
    if (bad_host)
        return answer_text(conn, 400, "Bad request: missing or malformed Host header.\n");
    int status;
    const char *ctype;
    bs_buf body;
    buf_init(&body);
    web_args args = {.n = 0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &args);
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (get && strcmp(url, "/chart.js") == 0) {
        if (!w->chart_js)
            return answer_text(conn, 404,
                               "Not found: [Report] Chart_JS is missing (apt-get install "
                               "libjs-chart.js); the page shows tables only.\n");
        struct MHD_Response *r =
            MHD_create_response_from_buffer(w->chart_js_len, w->chart_js, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Content-Type", "text/javascript; charset=utf-8");
        MHD_add_response_header(r, "Cache-Control", "max-age=3600");
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        enum MHD_Result rc = MHD_queue_response(conn, 200, r);
        MHD_destroy_response(r);
        return rc;
    }
    if (get && args.too_many &&
        (strcmp(url, "/json/messages") == 0 || strcmp(url, "/json/outcomes") == 0)) {
        status = 400;
        ctype = CT_JSON;
        put_error(&body, "too many query parameters");
    } else if (!get || !web_history_route(w->conf.history, w->st, url, args.keys, args.values,
                                          args.n, &status, &ctype, &body)) {
        web_route(w->st, method, url, &status, &ctype, &body);
    }
    size_t len = body.len;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, buf_steal(&body), MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", ctype);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (status == 405)
        MHD_add_response_header(r, "Allow", "GET, HEAD");
    if (strcmp(ctype, CT_HTML) == 0)
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src "
                                "'unsafe-inline'; connect-src 'self'; img-src 'self' data:");
    if (w->conf.cors_origin && strcmp(ctype, CT_JSON) == 0) /* dashboards elsewhere */
        MHD_add_response_header(r, "Access-Control-Allow-Origin", w->conf.cors_origin);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

/* MHD's messages, at most LOG_BURST per LOG_WINDOW seconds (an attack makes one per
 * refused connection); the number left out is told with the next one shown. */
#define LOG_BURST 10
#define LOG_WINDOW 60.0
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
    static double window_start;
    static unsigned shown_in_window;
    static unsigned long suppressed;
    pthread_mutex_lock(&log_lock);
    double now = bs_monotonic();
    if (now - window_start >= LOG_WINDOW) {
        window_start = now;
        shown_in_window = 0;
    }
    int show = shown_in_window < LOG_BURST;
    unsigned long left_out = 0;
    if (show) {
        shown_in_window++;
        left_out = suppressed;
        suppressed = 0;
    } else {
        suppressed++;
    }
    pthread_mutex_unlock(&log_lock);
    if (!show)
        return;
    if (left_out)
        bs_warn("http: %lu more messages left out (at most %d a minute)", left_out, LOG_BURST);
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = 0;
    char *shown = fmt_diag(msg); /* MHD's messages may quote what a client sent */
    bs_warn("http: %s", shown);
    free(shown);
}

/* A connection opens: it has request_timeout seconds for its first request. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode what)
{
    rp_web *w = cls;
    if (what == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!ci)
            return;
        conn_slot *c = xcalloc(1, sizeof *c);
        c->fd = ci->connect_fd;
        c->deadline = bs_monotonic() + w->conf.request_timeout;
        pthread_mutex_lock(&w->lock);
        c->next = w->conns;
        if (w->conns)
            w->conns->prev = c;
        w->conns = c;
        pthread_mutex_unlock(&w->lock);
        *socket_context = c;
    } else if (what == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        conn_slot *c = *socket_context;
        pthread_mutex_lock(&w->lock);
        if (c->prev)
            c->prev->next = c->next;
        else
            w->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        pthread_mutex_unlock(&w->lock);
        free(c);
        *socket_context = NULL;
    }
}

/* A request is done (answer sent, or abandoned): the next one on a kept-alive connection
 * has request_timeout seconds from now. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)con_cls;
    (void)toe;
    rp_web *w = cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_slot *c = ci ? ci->socket_context : NULL;
    if (!c)
        return;
    pthread_mutex_lock(&w->lock);
    c->deadline = bs_monotonic() + w->conf.request_timeout;
    pthread_mutex_unlock(&w->lock);
}

/* Shuts down (both ways) every connection past its deadline, four times a second; MHD
 * then sees the end of the stream and closes it. */
static void *watchdog(void *arg)
{
    rp_web *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        double now = bs_monotonic();
        for (conn_slot *c = w->conns; c; c = c->next)
            if (!c->cut && now >= c->deadline) {
                shutdown(c->fd, SHUT_RDWR);
                c->cut = 1;
            }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += 250000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->wake, &w->lock, &until);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static int listen_on(const char *host, int port, char **err)
{
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    int gai = getaddrinfo(host, ports, &hints, &res);
    if (gai != 0) {
        *err = xasprintf("cannot resolve [Report] Address host (%s): %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (res->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 128) != 0) {
        *err = xasprintf("cannot listen on [Report] Address (%s port %d): %s", host, port,
                         strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

rp_web *web_start(const rp_web_conf *conf, rp_stats *st, char **err)
{
    *err = NULL;
    int fd = listen_on(conf->host, conf->port, err);
    if (fd < 0)
        return NULL;
    rp_web *w = xcalloc(1, sizeof *w);
    w->st = st;
    w->fd = fd;
    w->conf = *conf;
    if (web_name_parse(conf->host, w->host, sizeof w->host) != 0)
        w->host[0] = 0;
    w->allowed = xcalloc(conf->n_allowed_hosts + 1, sizeof *w->allowed);
    for (size_t i = 0; i < conf->n_allowed_hosts; i++) {
        char name[256];
        if (strcmp(conf->allowed_hosts[i], "*") == 0)
            w->any_host = 1;
        else if (web_name_parse(conf->allowed_hosts[i], name, sizeof name) == 0)
            w->allowed[w->n_allowed++] = xstrdup(name);
    }
    if (conf->chart_js && *conf->chart_js) {
        FILE *f = fopen(conf->chart_js, "rb");
        if (f) {
            bs_buf js;
            buf_init(&js);
            char chunk[65536];
            size_t got;
            while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && js.len < 16u << 20)
                buf_append(&js, chunk, got);
            if (!ferror(f) && js.len > 0) {
                w->chart_js_len = js.len;
                w->chart_js = buf_steal(&js);
            } else {
                buf_free(&js);
            }
            fclose(f);
        }
        if (!w->chart_js)
            bs_warn("cannot read [Report] Chart_JS (%s): %s; the page shows tables only",
                    conf->chart_js, errno ? strerror(errno) : "empty file");
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &ca);
    pthread_condattr_destroy(&ca);
    w->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle,
                            w, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET,
                            fd, MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_LIMIT,
                            WEB_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                            conf->per_address, MHD_OPTION_CONNECTION_TIMEOUT, conf->request_timeout,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, w,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_END);
    if (!w->d) {
        *err = xasprintf("cannot start the HTTP server on %s port %d", conf->host, conf->port);
        close(fd);
        web_stop(w);
        return NULL;
    }
    int rc = pthread_create(&w->watchdog, NULL, watchdog, w);
    if (rc != 0) {
        *err = xasprintf("cannot start the HTTP watchdog thread: %s", strerror(rc));
        web_stop(w);
        return NULL;
    }
    w->watchdog_started = 1;
    return w;
}

void web_stop(rp_web *w)
{
    if (!w)
        return;
    if (w->watchdog_started) {
        pthread_mutex_lock(&w->lock);
        w->stopping = 1;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->watchdog, NULL);
    }
    if (w->d)
        MHD_stop_daemon(w->d); /* closes the listening socket and every connection */
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    for (size_t i = 0; i < w->n_allowed; i++)
        free(w->allowed[i]);
    free(w->allowed);
    free(w->chart_js);
    free(w);
}
