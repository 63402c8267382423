/// The operator's pages: sign-in and the dashboard. Plain HTML that works on a phone, one
/// small script (no build step, no library) that follows `/api/v1/admin/events` and draws
/// the last ten minutes as SVG lines.
enum ConsoleTemplates {
    static let all: [(String, String)] = [("console-head", head), ("console-sign-in", signIn), ("console", dashboard)]

    static let head = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex">
        <title>{{title}} · FlashSale</title>
        <style>
        *{box-sizing:border-box}
        body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;background:#f2f2f5}
        header{background:#111;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
        header strong{flex:1}header form{margin:0}header button{background:#333;width:auto;padding:.35rem .8rem}
        main{max-width:78rem;margin:0 auto;padding:1rem}
        .card{background:#fff;border-radius:12px;padding:1rem;margin:0 0 1rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}
        h1{font-size:1.3rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:0 0 .3rem}h3{font-size:1rem;margin:.8rem 0 .3rem}
        .muted{color:#6e6e73;font-size:.85rem}.mono{font-family:ui-monospace,monospace;font-size:.78rem;word-break:break-all}
        .status{display:inline-block;padding:.05rem .5rem;border-radius:99px;background:#eee;font-size:.8rem;vertical-align:middle}
        .status-live{background:#d1f5d8}.status-sold_out,.status-ended{background:#fbd5d5}.status-paused{background:#ffe8a3}
        .figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(8.5rem,1fr));gap:.5rem;margin:.6rem 0}
        .figure{background:#f7f7f9;border-radius:8px;padding:.45rem .6rem}.figure b{display:block;font-size:1.35rem}
        .figure>span{font-size:.78rem;color:#6e6e73}
        .charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:.6rem}
        .chart{background:#f7f7f9;border-radius:8px;padding:.4rem .6rem}.chart svg{width:100%;height:70px;display:block}
        .chart .legend{font-size:.75rem;color:#6e6e73}
        .controls{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.6rem}.controls form{display:flex;gap:.3rem;align-items:center;margin:0}
        button{padding:.5rem .8rem;border:0;border-radius:8px;background:#0a66e4;color:#fff;font-size:.9rem;font-weight:600;cursor:pointer}
        button.danger{background:#c0392b}button.quiet{background:#555}
        input,select{padding:.45rem;border:1px solid #c7c7cc;border-radius:8px;font-size:.95rem;max-width:100%}
        input[type=number]{width:6.5rem}
        .grid-form{display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:.5rem .8rem}
        .grid-form label{display:block;font-weight:600;font-size:.85rem}.grid-form input{width:100%}
        .error{background:#fdecea;color:#8a1c12;padding:.5rem .7rem;border-radius:8px;margin:.4rem 0}
        .field-error{color:#8a1c12;font-size:.8rem;display:block}
        table{width:100%;border-collapse:collapse;font-size:.88rem}td,th{text-align:left;padding:.3rem .4rem;border-bottom:1px solid #eee}
        .table{overflow-x:auto}
        #live{font-size:.85rem}#live.lost{color:#ffb4a8}
        </style>
        </head>
        <body>
        """#

    static let signIn = #"""
        {{> console-head}}
        <header><strong>FlashSale · operator</strong></header>
        <main>
        <div class="card" id="sign-in" style="max-width:28rem;margin:2rem auto">
        <h1>Sign in</h1>
        <p class="muted">Paste the admin token (<code>--admin-token</code>, or the one <code>flashsale serve</code> printed when it started).</p>
        {{#error}}<p class="error" id="sign-in-error">{{error}}</p>{{/error}}
        <form method="post" action="/admin/sign-in">
        <p><input type="password" name="token" autocomplete="current-password" required style="width:100%" aria-label="Admin token"></p>
        <button type="submit">Sign in</button>
        </form>
        </div>
        </main>
        </body>
        </html>
        """#

    static let dashboard = #"""
        {{> console-head}}
        <header><strong>FlashSale · operator</strong><span id="live" data-at="{{at}}">as of {{at}}</span>
        {{#csrf}}<form method="post" action="/admin/sign-out"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="sign-out">Sign out</button></form>{{/csrf}}
        </header>
        <main>
        {{#problem}}<p class="error" id="problem" data-section="{{section}}">{{message}}</p>{{/problem}}
        <h1>Sales</h1>
        {{^sales}}<p class="card muted">No live, upcoming or recently ended sale. Create one below.</p>{{/sales}}
        {{#sales}}
        <section class="card sale" id="sale-{{id}}" data-sale-id="{{id}}">
        <h2>{{name}} <span class="status status-{{status}}" data-field="status">{{status}}</span></h2>
        <p class="muted">{{sku}} · {{starts}} → <span data-field="ends_at">{{ends}}</span></p>
        {{#saleProblem}}<p class="error">{{saleProblem}}</p>{{/saleProblem}}
        <div class="figures">
        <div class="figure"><b data-field="available">{{available}}</b><span>available of {{quantity}}</span></div>
        <div class="figure"><b data-field="reserved">{{reserved}}</b><span>held in carts</span></div>
        <div class="figure"><b data-field="sold">{{sold}}</b><span>sold</span></div>
        <div class="figure"><b data-field="waiting">{{waiting}}</b><span>waiting (estimate)</span></div>
        <div class="figure"><b data-field="admitted">{{admitted}}</b><span>admitted of {{joined}} joined</span></div>
        <div class="figure"><b><span data-field="achieved">{{achieved}}</span> / <span data-field="rate">{{rate}}</span></b><span>admitted per second / configured</span></div>
        <div class="figure"><b data-field="lag">{{lag}}</b><span>threshold lag, s</span></div>
        <div class="figure"><b data-field="wait">{{wait}}</b><span>new shopper's wait, s</span></div>
        <div class="figure"><b data-field="orders">{{orders}}</b><span>orders</span></div>
        <div class="figure"><b><span data-field="succeeded">{{succeeded}}</span> · <span data-field="declined">{{declined}}</span> · <span data-field="unknown">{{unknown}}</span> · <span data-field="refunded">{{refunded}}</span></b><span>paid · declined · unknown · refunded</span></div>
        <div class="figure"><b data-field="refusals">{{#blocked}}{{reason}} {{count}} {{/blocked}}{{^blocked}}none{{/blocked}}</b><span>refused or challenged</span></div>
        </div>
        <div class="charts">
        <div class="chart"><svg viewBox="0 0 300 70" preserveAspectRatio="none" data-chart="stock"></svg><div class="legend">stock: <span style="color:#1a7f37">available</span>, <span style="color:#b26b00">held</span>, <span style="color:#0a66e4">sold</span> (10 min)</div></div>
        <div class="chart"><svg viewBox="0 0 300 70" preserveAspectRatio="none" data-chart="waiting"></svg><div class="legend">waiting shoppers</div></div>
        <div class="chart"><svg viewBox="0 0 300 70" preserveAspectRatio="none" data-chart="rate"></svg><div class="legend">admitted per second (grey: configured)</div></div>
        </div>
        {{#csrf}}
        <div class="controls">
        {{#open}}
        {{#paused}}<form method="post" action="/admin/sales/{{id}}/resume"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" data-action="resume">Resume</button></form>{{/paused}}
        {{^paused}}<form method="post" action="/admin/sales/{{id}}/pause"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="quiet" data-action="pause">Pause</button></form>{{/paused}}
        <form method="post" action="/admin/sales/{{id}}/rate"><input type="hidden" name="csrf" value="{{csrf}}"><input type="number" name="admission_rate_per_second" min="1" value="{{rate}}" aria-label="Admission rate per second"><button type="submit" data-action="rate">Set rate/s</button></form>
        <form method="post" action="/admin/sales/{{id}}/extend"><input type="hidden" name="csrf" value="{{csrf}}"><input type="number" name="minutes" min="1" max="1440" value="15" aria-label="Minutes"><button type="submit" class="quiet" data-action="extend">Extend (min)</button></form>
        <form method="post" action="/admin/sales/{{id}}/end" onsubmit="return confirm('End this sale now?')"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger" data-action="end">End now</button></form>
        {{/open}}
        </div>
        {{/csrf}}
        <p class="muted">Lottery commitment <span class="mono">{{commitment}}</span>{{#seed}}; seed <span class="mono" data-field="seed">{{seed}}</span>{{/seed}}</p>
        </section>
        {{/sales}}

        <section class="card" id="orders">
        <h2>Flagged orders</h2>
        <p class="muted">Orders the reseller checks flagged. Cancelling refunds through the provider and returns the units to the sale.</p>
        {{^flagged}}<p class="muted">None.</p>{{/flagged}}
        {{#hasFlagged}}<div class="table"><table><tr><th>Order</th><th>Email</th><th>Status</th><th>Amount</th><th>Flags</th><th></th></tr>{{/hasFlagged}}
        {{#flagged}}<tr data-order-id="{{id}}"><td class="mono">{{id}}</td><td>{{email}}</td><td>{{status}}</td><td>{{amount}}</td><td>{{flags}}</td><td>{{#cancellable}}{{#csrf}}<form method="post" action="/admin/orders/{{id}}/cancel" onsubmit="return confirm('Refund this order?')"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger">Cancel</button></form>{{/csrf}}{{/cancellable}}</td></tr>{{/flagged}}
        {{#hasFlagged}}</table></div>{{/hasFlagged}}
        </section>

        <section class="card" id="blocklist">
        <h2>Blocklist</h2>
        <p class="muted">Refusals on this node: {{#blocked}}{{reason}} {{count}} · {{/blocked}}{{^blocked}}none{{/blocked}}</p>
        {{#hasRules}}<div class="table"><table><tr><th>Network</th><th>Reason</th><th>Since</th><th></th></tr>{{/hasRules}}
        {{#rules}}<tr><td class="mono">{{cidr}}</td><td>{{reason}}</td><td>{{since}}</td><td>{{#csrf}}<form method="post" action="/admin/blocklist/remove"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="cidr" value="{{cidr}}"><button type="submit" class="quiet">Remove</button></form>{{/csrf}}</td></tr>{{/rules}}
        {{#hasRules}}</table></div>{{/hasRules}}
        {{#csrf}}<form method="post" action="/admin/blocklist" class="controls"><input type="hidden" name="csrf" value="{{csrf}}"><input name="cidr" placeholder="203.0.113.0/24" required aria-label="CIDR"><input name="reason" placeholder="reason" aria-label="Reason"><button type="submit">Block</button></form>{{/csrf}}
        </section>

        {{#csrf}}
        <section class="card" id="new-sale">
        <h2>New sale</h2>
        {{#newSale}}
        {{#error}}<p class="error" id="new-sale-error">{{error}}</p>{{/error}}
        <form method="post" action="/admin/sales" class="grid-form">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <div><label for="f-sku">SKU</label><input id="f-sku" name="sku" value="{{sku}}" required>{{#error_sku}}<span class="field-error">{{error_sku}}</span>{{/error_sku}}</div>
        <div><label for="f-name">Name</label><input id="f-name" name="name" value="{{name}}" required>{{#error_name}}<span class="field-error">{{error_name}}</span>{{/error_name}}</div>
        <div><label for="f-price">Price (cents)</label><input id="f-price" name="price_cents" type="number" min="0" value="{{price_cents}}" required>{{#error_price_cents}}<span class="field-error">{{error_price_cents}}</span>{{/error_price_cents}}</div>
        <div><label for="f-currency">Currency</label><input id="f-currency" name="currency" value="{{currency}}" maxlength="3" required>{{#error_currency}}<span class="field-error">{{error_currency}}</span>{{/error_currency}}</div>
        <div><label for="f-quantity">Quantity</label><input id="f-quantity" name="quantity" type="number" value="{{quantity}}" required>{{#error_quantity}}<span class="field-error" id="error-quantity">{{error_quantity}}</span>{{/error_quantity}}</div>
        <div><label for="f-starts">Starts (UTC)</label><input id="f-starts" name="starts_at" type="datetime-local" value="{{starts_at}}" required>{{#error_starts_at}}<span class="field-error">{{error_starts_at}}</span>{{/error_starts_at}}</div>
        <div><label for="f-ends">Ends (UTC)</label><input id="f-ends" name="ends_at" type="datetime-local" value="{{ends_at}}" required>{{#error_ends_at}}<span class="field-error">{{error_ends_at}}</span>{{/error_ends_at}}</div>
        <div><label for="f-limit">Per-customer limit</label><input id="f-limit" name="per_customer_limit" type="number" value="{{per_customer_limit}}" required>{{#error_per_customer_limit}}<span class="field-error">{{error_per_customer_limit}}</span>{{/error_per_customer_limit}}</div>
        <div><label for="f-ttl">Reservation TTL (s)</label><input id="f-ttl" name="reservation_ttl_seconds" type="number" value="{{reservation_ttl_seconds}}" required>{{#error_reservation_ttl_seconds}}<span class="field-error">{{error_reservation_ttl_seconds}}</span>{{/error_reservation_ttl_seconds}}</div>
        <div><label for="f-rate">Admissions per second</label><input id="f-rate" name="admission_rate_per_second" type="number" value="{{admission_rate_per_second}}" required>{{#error_admission_rate_per_second}}<span class="field-error">{{error_admission_rate_per_second}}</span>{{/error_admission_rate_per_second}}</div>
        <div style="align-self:end"><button type="submit" id="create-sale">Create sale</button></div>
        </form>
        {{/newSale}}
        </section>
        {{/csrf}}

        <section class="card" id="audit">
        <h2>Operator actions</h2>
        {{^hasAudit}}<p class="muted">None yet.</p>{{/hasAudit}}
        {{#hasAudit}}<div class="table"><table><tr><th>When</th><th>Action</th><th>Subject</th><th>By</th><th>Change</th></tr>{{/hasAudit}}
        {{#audit}}<tr><td>{{at}}</td><td>{{action}}</td><td class="mono">{{subject}}</td><td>{{actor}}</td><td>{{change}}</td></tr>{{/audit}}
        {{#hasAudit}}</table></div>{{/hasAudit}}
        </section>

        {{#hasPast}}<section class="card" id="past"><h2>Earlier sales</h2><div class="table"><table><tr><th>Name</th><th>SKU</th><th>Status</th><th>Sold</th><th>Ended</th></tr>{{/hasPast}}
        {{#past}}<tr><td>{{name}}</td><td>{{sku}}</td><td>{{status}}</td><td>{{sold}} / {{quantity}}</td><td>{{ends}}</td></tr>{{/past}}
        {{#hasPast}}</table></div></section>{{/hasPast}}
        </main>
        <script type="application/json" id="history">{{{historyJSON}}}</script>
        <script>
        (function () {
          var history = JSON.parse(document.getElementById('history').textContent || '{}');
          var live = document.getElementById('live');
          var keep = 600;
          function set(card, field, value) {
            var el = card.querySelector('[data-field="' + field + '"]');
            if (el && el.textContent !== String(value)) el.textContent = value;
          }
          function line(points, max, color, pick) {
            if (points.length < 2) return '';
            var t0 = points[0].t, span = Math.max(1, points[points.length - 1].t - t0);
            var d = points.map(function (p) {
              return ((p.t - t0) / span * 300).toFixed(1) + ',' + (68 - pick(p) / max * 66).toFixed(1);
            }).join(' ');
            return '<polyline fill="none" stroke="' + color + '" stroke-width="1.5" vector-effect="non-scaling-stroke" points="' + d + '"/>';
          }
          function draw(card, points, quantity, rate) {
            var svg = function (name) { return card.querySelector('[data-chart="' + name + '"]'); };
            var q = Math.max(1, quantity);
            svg('stock').innerHTML = line(points, q, '#1a7f37', function (p) { return p.available; }) +
              line(points, q, '#b26b00', function (p) { return p.reserved; }) + line(points, q, '#0a66e4', function (p) { return p.sold; });
            var w = Math.max(1, Math.max.apply(null, points.map(function (p) { return p.waiting; })));
            svg('waiting').innerHTML = line(points, w, '#6f42c1', function (p) { return p.waiting; });
            var r = Math.max(1, rate, Math.max.apply(null, points.map(function (p) { return p.rate; })));
            svg('rate').innerHTML = line(points, r, '#999', function () { return rate; }) + line(points, r, '#0a66e4', function (p) { return p.rate; });
          }
          document.querySelectorAll('.sale').forEach(function (card) {
            var id = card.dataset.saleId, points = history[id] || [];
            var q = Number(card.querySelector('[data-field="available"]').nextElementSibling.textContent.replace(/\D+/g, '')) || 1;
            draw(card, points, q, Number(card.querySelector('[data-field="rate"]').textContent) || 1);
          });
          if (!window.EventSource) return;
          var source = new EventSource('/api/v1/admin/events');
          source.addEventListener('stats', function (message) {
            var stats = JSON.parse(message.data);
            live.textContent = 'live · ' + stats.at.slice(11, 19) + ' UTC' + (stats.nodes > 1 ? ' · ' + stats.nodes + ' nodes' : '');
            live.className = '';
            live.dataset.at = stats.at;
            stats.sales.forEach(function (sale) {
              var card = document.getElementById('sale-' + sale.sale_id);
              if (!card) return;
              var q = sale.queue, p = sale.payments;
              set(card, 'status', sale.status); card.querySelector('[data-field="status"]').className = 'status status-' + sale.status;
              set(card, 'ends_at', sale.ends_at); set(card, 'available', sale.available); set(card, 'reserved', sale.reserved);
              set(card, 'sold', sale.sold); set(card, 'orders', sale.orders); set(card, 'waiting', q.waiting);
              set(card, 'admitted', q.admitted); set(card, 'rate', q.admission_rate_per_second);
              set(card, 'achieved', q.achieved_admission_rate_per_second.toFixed(1)); set(card, 'lag', q.threshold_lag_seconds.toFixed(1));
              set(card, 'wait', q.new_shopper_wait_seconds); set(card, 'succeeded', p.succeeded); set(card, 'declined', p.declined);
              set(card, 'unknown', p.unknown); set(card, 'refunded', p.refunded);
              var refusals = Object.keys(sale.blocked).sort().map(function (k) { return k + ' ' + sale.blocked[k]; }).join(' ');
              set(card, 'refusals', refusals || 'none');
              var points = history[sale.sale_id] = (history[sale.sale_id] || []);
              points.push({t: Date.parse(stats.at), available: sale.available, reserved: sale.reserved, sold: sale.sold,
                waiting: q.waiting, rate: q.achieved_admission_rate_per_second, lag: q.threshold_lag_seconds});
              if (points.length > keep) points.splice(0, points.length - keep);
              draw(card, points, sale.quantity, q.admission_rate_per_second);
            });
          });
          source.onerror = function () { live.textContent = 'reconnecting…'; live.className = 'lost'; };
        })();
        </script>
        </body>
        </html>
        """#
}
