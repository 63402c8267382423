import Mustache

/// The shop's HTML, as Mustache templates compiled into the binary: no front-end build
/// step, no template files to ship beside the executable. `{{ }}` escapes HTML.
enum PageTemplates {
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in all { try library.register(text, named: name) }
        return library
    }

    static let all: [(String, String)] = [
        ("head", head), ("foot", foot), ("index", index), ("sale", sale), ("waiting", waiting),
        ("checkout", checkout), ("message", message), ("challenge", challenge),
    ] + ConsoleTemplates.all

    static let head = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · FlashSale</title>
        {{#refresh}}<noscript><meta http-equiv="refresh" content="{{seconds}};url={{url}}"></noscript>{{/refresh}}
        <style>
        *{box-sizing:border-box}
        body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;background:#f5f5f7}
        header{background:#111;color:#fff;padding:.75rem 1rem}header a{color:#fff;text-decoration:none;font-weight:700}
        main{max-width:40rem;margin:0 auto;padding:1rem}
        .card{background:#fff;border-radius:12px;padding:1rem 1.25rem;margin:0 0 1rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}
        .card h2{margin:.1rem 0 .4rem;font-size:1.2rem}.muted{color:#6e6e73;font-size:.9rem}
        .price{font-size:1.4rem;font-weight:700}.status{display:inline-block;padding:.1rem .5rem;border-radius:99px;background:#eee;font-size:.8rem}
        .status-live{background:#d1f5d8}.status-sold_out,.status-ended{background:#fbd5d5}
        a.button,button{display:inline-block;width:100%;padding:.8rem;border:0;border-radius:10px;background:#0a66e4;color:#fff;font-size:1rem;font-weight:600;text-align:center;text-decoration:none;cursor:pointer}
        button:disabled{background:#9bb8e6;cursor:progress}
        progress{width:100%;height:1rem}.big{font-size:2rem;font-weight:700;margin:0}
        label{display:block;margin:.6rem 0 .2rem;font-weight:600;font-size:.9rem}
        input,select{width:100%;padding:.6rem;border:1px solid #c7c7cc;border-radius:8px;font-size:1rem}
        .row{display:flex;gap:.5rem}.row>div{flex:1}fieldset{border:0;padding:0;margin:0 0 1rem}legend{font-weight:700;margin-bottom:.2rem}
        .error{background:#fdecea;color:#8a1c12;padding:.6rem .8rem;border-radius:8px}
        </style>
        </head>
        <body>
        <header><a href="/">FlashSale</a></header>
        <main>
        """#

    static let foot = #"""
        </main>
        </body>
        </html>
        """#

    static let index = #"""
        {{> head}}
        <h1>Sales</h1>
        {{#sales}}
        <div class="card sale" data-sale-id="{{id}}">
        <h2><a href="/sales/{{id}}">{{name}}</a></h2>
        <p><span class="price">{{price}}</span> <span class="status status-{{status}}">{{statusText}}</span></p>
        <p class="muted">{{when}}</p>
        </div>
        {{/sales}}
        {{^sales}}<p class="card">No sale is live or coming up right now.</p>{{/sales}}
        {{> foot}}
        """#

    static let sale = #"""
        {{> head}}
        <div class="card" id="sale" data-sale-id="{{id}}">
        <h1>{{name}}</h1>
        <p class="muted">{{sku}}</p>
        <p><span class="price">{{price}}</span> <span class="status status-{{status}}" id="status">{{statusText}}</span></p>
        <p id="availability">{{available}} of {{quantity}} available · limit {{perCustomerLimit}} per customer</p>
        {{#upcoming}}<p>Opens in <strong id="countdown" data-starts-at="{{startsAt}}">{{countdown}}</strong> ({{startsAtText}})</p>{{/upcoming}}
        {{#open}}<a class="button" id="buy" href="/sales/{{id}}/checkout">{{buyText}}</a>{{/open}}
        </div>
        <script>
        (function () {
          var el = document.getElementById("countdown");
          if (!el) return;
          var starts = Date.parse(el.getAttribute("data-starts-at"));
          function pad(n) { return (n < 10 ? "0" : "") + n; }
          function tick() {
            var s = Math.max(0, Math.round((starts - Date.now()) / 1000));
            el.textContent = Math.floor(s / 3600) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
            if (s > 0) setTimeout(tick, 1000); else location.reload();
          }
          tick();
        })();
        </script>
        {{> foot}}
        """#

    static let waiting = #"""
        {{> head}}
        <div class="card" id="waiting" data-status="{{status}}">
        <h1>{{name}}</h1>
        <p id="headline">{{headline}}</p>
        <p class="big"><span id="position">{{position}}</span></p>
        <p class="muted">shoppers ahead of you · about <span id="eta">{{eta}}</span></p>
        <progress id="progress" max="100" value="{{progress}}">{{progress}}%</progress>
        <p class="muted">Keep this page open: it moves on by itself and you keep your place. Refreshing does not help or hurt.</p>
        </div>
        <script>
        (function () {
          var url = "/api/v1/sales/{{id}}/queue";
          var first = {{firstPosition}};
          var shownEta = null, lastPosition = first;
          var byId = function (id) { return document.getElementById(id); };
          function wait(seconds) {
            if (seconds == null) return "a moment";
            if (seconds < 60) return seconds + " s";
            return Math.round(seconds / 60) + " min";
          }
          function show(q) {
            byId("waiting").setAttribute("data-status", q.status);
            if (q.status === "not_started") byId("headline").textContent = "The sale has not opened yet. Everyone who arrives before the start is placed in a fair random order at the opening.";
            if (q.position != null) {
              if (first === 0 || q.position > first) first = q.position;
              byId("position").textContent = q.position;
              byId("progress").value = first > 0 ? Math.round(100 * (1 - q.position / first)) : 0;
            }
            // The wait shown does not wobble up with the admission rate: small rises are
            // hidden, large ones (or a line that moved back) are real news.
            if (q.eta_seconds != null && (shownEta == null || q.eta_seconds <= shownEta ||
                q.eta_seconds > shownEta * 1.5 || q.position > lastPosition)) shownEta = q.eta_seconds;
            if (q.position != null) lastPosition = q.position;
            byId("eta").textContent = wait(shownEta);
          }
          function poll() {
            fetch(url, { credentials: "same-origin", cache: "no-store" })
              .then(function (r) { return r.json(); })
              .then(function (q) {
                if (q.status === "admitted" || q.status === "sold_out" || q.status === "ended") {
                  location.replace("/sales/{{id}}/checkout");
                  return;
                }
                show(q);
                setTimeout(poll, q.poll_after_ms || 2000);
              })
              .catch(function () { setTimeout(poll, 3000); });
          }
          setTimeout(poll, {{pollAfterMs}});
        })();
        </script>
        {{> foot}}
        """#

    /// A join asked for proof of work: solved in a Web Worker (`ProofOfWorkScript`) with
    /// a progress line, then the join is sent again with the nonce and the page moves on to
    /// the waiting room. Without JavaScript nothing can be solved, so the page says so.
    static let challenge = #"""
        {{> head}}
        <div class="card" id="waiting" data-status="challenge">
        <h1>{{name}}</h1>
        <p id="headline">Checking your browser before you join the queue: this takes a moment and happens once.</p>
        <progress id="progress" max="100" value="0">0%</progress>
        <p class="muted" id="work">Starting…</p>
        <noscript><p><strong>To keep bots out, this sale asks browsers joining from a busy network for a moment of
        work before they join the queue. Please enable JavaScript and reload this page.</strong></p></noscript>
        </div>
        <script>
        (function () {
          {{{helper}}}
          var byId = function (id) { return document.getElementById(id); };
          var challenge = { algorithm: "sha256", prefix: "{{prefix}}", difficulty_bits: {{bits}}, bits: {{bits}} };
          var started = Date.now();
          solveChallenge(challenge, function (fraction) {
            var percent = Math.min(99, Math.round(100 * fraction));
            byId("progress").value = percent;
            byId("work").textContent = "Working… " + percent + "% (" + ((Date.now() - started) / 1000).toFixed(1) + " s)";
          }).then(function (nonce) {
            byId("work").textContent = "Done: joining the queue…";
            return fetch("/api/v1/sales/{{id}}/queue", {
              method: "POST", credentials: "same-origin", cache: "no-store", headers: { "X-Queue-Proof": String(nonce) }
            });
          }).then(function () {
            location.replace("/sales/{{id}}/checkout");
          }).catch(function () {
            setTimeout(function () { location.reload(); }, 3000);
          });
        })();
        </script>
        {{> foot}}
        """#

    static let checkout = #"""
        {{> head}}
        <div class="card">
        <h1>{{name}}</h1>
        <p><span class="price">{{price}}</span> · it is your turn. Finish within <strong id="admitted-for" data-until="{{admittedUntil}}">{{admittedFor}}</strong>.</p>
        {{#error}}<p class="error" id="error">{{error}}</p>{{/error}}
        <form method="post" action="/sales/{{id}}/checkout" id="checkout-form">
        <input type="hidden" name="reservation_key" value="{{reservationKey}}">
        <input type="hidden" name="idempotency_key" value="{{paymentKey}}">
        <fieldset><legend>You</legend>
        <label for="email">Email</label><input id="email" name="email" type="email" autocomplete="email" required value="{{email}}">
        <label for="quantity">Quantity</label><select id="quantity" name="quantity">{{#quantities}}<option value="{{.}}">{{.}}</option>{{/quantities}}</select>
        </fieldset>
        <fieldset><legend>Card</legend>
        <label for="card_number">Card number</label><input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" required>
        <div class="row"><div><label for="exp_month">Month</label><input id="exp_month" name="exp_month" inputmode="numeric" autocomplete="cc-exp-month" placeholder="MM" required></div>
        <div><label for="exp_year">Year</label><input id="exp_year" name="exp_year" inputmode="numeric" autocomplete="cc-exp-year" placeholder="YYYY" required></div>
        <div><label for="cvc">CVC</label><input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" required></div></div>
        </fieldset>
        <fieldset><legend>Shipping</legend>
        <label for="ship_name">Name</label><input id="ship_name" name="ship_name" autocomplete="name" required value="{{shipName}}">
        <label for="ship_line1">Address</label><input id="ship_line1" name="ship_line1" autocomplete="address-line1" required value="{{shipLine1}}">
        <div class="row"><div><label for="ship_city">City</label><input id="ship_city" name="ship_city" autocomplete="address-level2" required value="{{shipCity}}"></div>
        <div><label for="ship_postal_code">Postal code</label><input id="ship_postal_code" name="ship_postal_code" autocomplete="postal-code" required value="{{shipPostalCode}}"></div></div>
        <label for="ship_country">Country (2 letters)</label><input id="ship_country" name="ship_country" autocomplete="country" maxlength="2" required value="{{shipCountry}}">
        </fieldset>
        <button type="submit" id="submit-button">Pay {{price}}</button>
        </form>
        </div>
        <script>
        (function () {
          var form = document.getElementById("checkout-form");
          var button = document.getElementById("submit-button");
          form.addEventListener("submit", function (event) {
            if (button.disabled) { event.preventDefault(); return; }
            button.disabled = true;
            button.textContent = "Processing…";
          });
        })();
        </script>
        {{> foot}}
        """#

    static let message = #"""
        {{> head}}
        <div class="card" id="message" data-status="{{status}}">
        <h1>{{headline}}</h1>
        <p>{{detail}}</p>
        {{#orderID}}<p class="muted">Order <span id="order-id">{{orderID}}</span></p>{{/orderID}}
        {{#reservationID}}<p class="muted">Reservation <span id="reservation-id">{{reservationID}}</span></p>{{/reservationID}}
        <p><a href="/">Back to the sales</a></p>
        </div>
        {{> foot}}
        """#
}
