/* web.c — HTTP endpoints and the self-contained report page. */
#include "web.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct rp_web {
    struct MHD_Daemon *d;
    rp_stats *st;
    int fd;
};

#define CT_JSON "application/json"
#define CT_HTML "text/html; charset=utf-8"
#define CT_TEXT "text/plain; charset=utf-8"
#define CT_PROM "text/plain; version=0.0.4; charset=utf-8"

void web_escape(bs_buf *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            buf_puts(out, "&amp;");
            break;
        case '<':
            buf_puts(out, "&lt;");
            break;
        case '>':
            buf_puts(out, "&gt;");
            break;
        case '"':
            buf_puts(out, "&quot;");
            break;
        case '\'':
            buf_puts(out, "&#39;");
            break;
        default:
            buf_putc(out, *s);
        }
    }
}

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
    " var tb=document.querySelector('#other tbody');Object.keys(d).forEach(function(k){"
    "if(k==='startedRunning'||seen[k])return;row(tb,k,d[k],'descr').setAttribute('data-counter',k);"
    "});\n"
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
        }
        if (g != group)
            continue;
        int sub = group == GROUP_MAIN && strcmp(name, "total_messages") != 0 &&
                  strncmp(name, "oob", 3) != 0 && strncmp(name, "fbl", 3) != 0 &&
                  strncmp(name, "ooto", 4) != 0;
        buf_puts(out, sub ? "<tr class=\"sub\"><td class=\"descr\">" : "<tr><td class=\"descr\">");
        web_escape(out, label ? label : name);
        buf_puts(out, "</td><td class=\"num\" data-counter=\"");
        web_escape(out, name);
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
        web_escape(out, key);
        buf_puts(out, "</td><td class=\"num\">");
        char *text = json_is_string(v) ? xstrdup(json_string_value(v))
                                       : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        web_escape(out, text);
        free(text);
        buf_puts(out, "</td></tr>\n");
    }
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
    web_escape(out, started);
    buf_puts(out, "</span> &middot; updated <span id=\"updated\">(not yet)</span></p></header>\n"
                  "<main>\n<h2>Messages per minute</h2>\n<div id=\"chart\">"
                  "<noscript>The chart needs JavaScript.</noscript></div>\n"
                  "<h2>Responses from the sink</h2>\n<table id=\"counters\"><tbody>\n");
    counter_rows(out, st, GROUP_MAIN, 0);
    buf_puts(out, "</tbody></table>\n<h2>Error responses</h2>\n<table id=\"errors\"><tbody>\n");
    counter_rows(out, st, GROUP_ERROR, 0);
    buf_puts(out, "</tbody></table>\n<h2>Open and click processing</h2>\n"
                  "<table id=\"urls\"><tbody>\n");
    counter_rows(out, st, GROUP_URL, 0);
    buf_puts(out, "</tbody></table>\n<h2>Greylisting, throttling and slow replies</h2>\n"
                  "<table id=\"listener\"><tbody>\n");
    counter_rows(out, st, GROUP_LISTEN, 0);
    buf_puts(out, "</tbody></table>\n<h2>Other counters</h2>\n<table id=\"other\"><tbody>\n");
    counter_rows(out, st, GROUP_OTHER, 1);
    buf_puts(out, "</tbody></table>\n<h2>Model parameters in force</h2>\n<p id=\"params-source\">");
    const json_t *params = stats_params(st);
    if (params) {
        buf_puts(out, "From ");
        web_escape(out, json_string_value(json_object_get(params, "source")));
        buf_puts(out, " (");
        web_escape(out, json_string_value(json_object_get(params, "reason")));
        buf_puts(out, ", ");
        web_escape(out, json_string_value(json_object_get(params, "ts")));
        buf_puts(out, ")");
    } else {
        buf_puts(out, "No parameters received yet.");
    }
    buf_puts(out, "</p>\n<table id=\"params\"><tbody>\n");
    param_rows(out, params);
    buf_puts(out, "</tbody></table>\n<footer>The same data as JSON: <a href=\"json\">/json</a>, "
                  "<a href=\"json/ts-messages\">/json/ts-messages</a>, <a href=\"json/params\">"
                  "/json/params</a>; for Prometheus: <a href=\"metrics\">/metrics</a>. "
                  "In-band and blackholed recipients are counted apart from messages "
                  "processed.</footer>\n</main>\n");
    buf_puts(out, page_script);
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

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    (void)con_cls;
    rp_web *w = cls;
    /* Answered on the first call, with the headers: a request body is never read (MHD
     * discards it or closes the connection), so uploads cannot tie the server up. */
    *upload_size = 0;
    int status;
    const char *ctype;
    bs_buf body;
    buf_init(&body);
    web_route(w->st, method, url, &status, &ctype, &body);
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
                                "default-src 'none'; script-src 'unsafe-inline'; style-src "
                                "'unsafe-inline'; connect-src 'self'; img-src 'self' data:");
    if (strcmp(ctype, CT_JSON) == 0) /* dashboards elsewhere read it, as with the old Flask app */
        MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = 0;
    bs_warn("http: %s", msg);
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

rp_web *web_start(const char *host, int port, rp_stats *st, char **err)
{
    *err = NULL;
    int fd = listen_on(host, port, err);
    if (fd < 0)
        return NULL;
    rp_web *w = xcalloc(1, sizeof *w);
    w->st = st;
    w->fd = fd;
    w->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle,
                            w, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET,
                            fd, MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_LIMIT, 512u,
                            MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!w->d) {
        *err = xasprintf("cannot start the HTTP server on %s port %d", host, port);
        close(fd);
        free(w);
        return NULL;
    }
    return w;
}

void web_stop(rp_web *w)
{
    if (!w)
        return;
    MHD_stop_daemon(w->d); /* closes the listening socket too */
    free(w);
}
