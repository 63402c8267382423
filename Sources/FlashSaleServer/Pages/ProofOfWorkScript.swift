/// The waiting room's proof-of-work solver for browsers, as JavaScript source compiled into
/// the binary (no new route, no front-end build): the waiting page puts `pageHelper` in a
/// `<script>` and calls `solveChallenge`, which runs `worker` in a Web Worker made from a
/// Blob URL, or on the page in slices where workers are unavailable.
///
/// The SHA-256 is pure JavaScript (ES2017, Int32 arithmetic). The state after the prefix's
/// whole 64-byte blocks is computed once; the nonces go in batches of ten that share all but
/// the last digit, so a batch also shares the tail blocks before that digit and the rounds
/// before the word holding it, and each try costs one message schedule plus the remaining
/// rounds of (mostly) one block, with no allocation. Only the first digest word is computed
/// per try; a hit is confirmed with a plain SHA-256 of `prefix + nonce` before it is answered.
/// The round constants and initial hash value are those of FIPS 180-4 (sections 4.2.2 and
/// 5.3.3). WebCrypto's `crypto.subtle.digest` was measured and not used: it is a promise
/// per digest, and managed 33,000 to 135,000 tries/s (one at a time or 256 in flight) in the
/// same browser, 10 to 35 times slower than this code.
///
/// Measured in headless Chromium 156 on a 2-core Linux machine shared with Swift builds
/// (load average 5 to 7): 1.2 to 1.4 million tries/s in the worker, so 18 bits (262,144
/// tries on average) take about 0.2 s and 20 bits about 0.8 s, plus 20 to 25 ms to start
/// the worker; expect more on an idle core.
/// `Tests/Browser/pow_bench.py` measures it again and `--check` verifies every nonce.
enum ProofOfWorkScript {
    /// The Web Worker. In a worker it answers `{prefix, bits}` with `{progress, expected}`
    /// about every 100 ms and `{nonce, hashes, ms}` when solved (`{error}` for a bad
    /// request); evaluated anywhere else it only sets `self.createSolver(prefix, bits)`.
    static let worker = #"""
        // FlashSale waiting room: the proof-of-work solver. As a Web Worker it takes
        // {prefix, bits}, posts {progress, expected} about every 100 ms and {nonce, hashes, ms}
        // when solved ({error} for a malformed request). The nonce is the first of "0", "1",
        // "2", ... for which SHA-256(UTF-8 prefix + nonce) starts with `bits` zero bits.
        // Run anywhere else (on a page, inside a function) it only defines
        // `self.createSolver(prefix, bits)` for a main-thread fallback.
        (function (self) {
          'use strict';
          // SHA-256 round constants and initial hash value: FIPS 180-4, sections 4.2.2 and 5.3.3.
          var K = new Int32Array([
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
            0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
            0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
            0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
            0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
            0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
            0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
          ]);
          var IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

          // The message schedule: w[16..63] from w[0..15].
          function expand(w) {
            for (var i = 16; i < 64; i++) {
              var x = w[i - 15], y = w[i - 2];
              w[i] = (((y >>> 17 | y << 15) ^ (y >>> 19 | y << 13) ^ (y >>> 10)) + w[i - 7] +
                ((x >>> 7 | x << 25) ^ (x >>> 18 | x << 14) ^ (x >>> 3)) + w[i - 16]) | 0;
            }
          }

          // Rounds from..to-1 of the compression function over schedule w, registers s in, r out.
          function rounds(w, from, to, s, r) {
            var a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7], t, u;
            for (var i = from; i < to; i++) {
              t = (h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) +
                (g ^ (e & (f ^ g))) + K[i] + w[i]) | 0;
              u = (((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) +
                ((a & b) | (c & (a | b)))) | 0;
              h = g; g = f; f = e; e = (d + t) | 0; d = c; c = b; b = a; a = (t + u) | 0;
            }
            r[0] = a; r[1] = b; r[2] = c; r[3] = d; r[4] = e; r[5] = f; r[6] = g; r[7] = h;
          }

          function add(r, s) {
            for (var i = 0; i < 8; i++) r[i] = (r[i] + s[i]) | 0;
          }

          // Big-endian words 0..15 of the 64-byte block at `at`.
          function load(bytes, at, w) {
            for (var i = 0; i < 16; i++, at += 4) {
              w[i] = bytes[at] << 24 | bytes[at + 1] << 16 | bytes[at + 2] << 8 | bytes[at + 3];
            }
          }

          function utf8(text) {
            var out = [], i, c, lo;
            for (i = 0; i < text.length; i++) {
              c = text.charCodeAt(i);
              if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
                lo = text.charCodeAt(i + 1);
                if (lo >= 0xdc00 && lo < 0xe000) { c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00); i++; }
              }
              if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
              if (c < 0x80) out.push(c);
              else if (c < 0x800) out.push(0xc0 | c >> 6, 0x80 | c & 63);
              else if (c < 0x10000) out.push(0xe0 | c >> 12, 0x80 | c >> 6 & 63, 0x80 | c & 63);
              else out.push(0xf0 | c >> 18, 0x80 | c >> 12 & 63, 0x80 | c >> 6 & 63, 0x80 | c & 63);
            }
            return out;
          }

          // Plain SHA-256 of a byte array, as 8 words: the check of every answer.
          function digest(bytes) {
            var n = bytes.length, size = (n + 72) >> 6 << 6, m = new Uint8Array(size), i;
            var h = new Int32Array(IV), w = new Int32Array(64), r = new Int32Array(8);
            m.set(bytes);
            m[n] = 0x80;
            for (i = 0; i < 4; i++) {
              m[size - 8 + i] = Math.floor(n / 0x20000000) >>> (24 - 8 * i);
              m[size - 4 + i] = (n * 8) >>> (24 - 8 * i);
            }
            for (i = 0; i < size; i += 64) {
              load(m, i, w); expand(w); rounds(w, 0, 64, h, r); add(r, h); h.set(r);
            }
            return h;
          }

          function zeroBits(h) {
            for (var i = 0, n = 0; i < 8; i++, n += 32) {
              if (h[i] !== 0) return n + Math.clz32(h[i]);
            }
            return 256;
          }

          // A resumable search: run(count) tries about `count` more nonces and answers the
          // nonce (a string) or null; hashes() counts the tries so far.
          function createSolver(prefix, bits) {
            var bytes = utf8(String(prefix)), full = bytes.length >> 6 << 6, rem = bytes.length - full;
            var mid = new Int32Array(IV), chain = new Int32Array(8), pre = new Int32Array(8);
            var r = new Int32Array(8), out = new Int32Array(8);
            var w = new Int32Array(64), pad = new Int32Array(64), first = new Int32Array(16);
            var tail = new Uint8Array(128), tw = new Int32Array(32);
            // The nonce is base * 10 + d: the base's digits (most significant first, none for
            // base 0) are fixed for a batch of ten tries and only the last digit d varies.
            var digits = new Uint8Array(24), baseLen = 0, hashes = 0;
            var wp = 0, wpBase = 0, shift = 0, last = true, ready = false, cached = false, i;
            // A first digest word at most `limit` has the zero bits (confirmed in full below).
            var limit = bits >= 32 ? 0 : 0xffffffff >>> bits;
            for (i = 0; i < full; i += 64) {
              load(bytes, i, w); expand(w); rounds(w, 0, 64, mid, r); add(r, mid); mid.set(r);
            }
            for (i = 0; i < rem; i++) tail[i] = bytes[full + i];

            // Lays out the tail block(s) for the current base and hashes what the batch shares:
            // the blocks before the last digit, and the rounds before the word that holds it.
            function setup() {
              var n = rem + baseLen + 1, blocks = n + 9 > 64 ? 2 : 1, end = blocks * 64;
              var bitLen = (full + n) * 8, p = n - 1, bp = p >> 6, j, same;
              for (j = 0; j < baseLen; j++) tail[rem + j] = 48 + digits[j];
              tail[p] = 0;
              tail[n] = 0x80;
              for (j = n + 1; j < 128; j++) tail[j] = 0;
              for (j = 0; j < 4; j++) {
                tail[end - 8 + j] = Math.floor(bitLen / 0x100000000) >>> (24 - 8 * j);
                tail[end - 4 + j] = bitLen >>> (24 - 8 * j);
              }
              load(tail, 0, tw);
              load(tail, 64, pad);
              if (bp === 1) {
                // The first tail block holds only high digits: rehash it only when they change.
                for (j = 0, same = cached; j < 16 && same; j++) same = first[j] === tw[j];
                if (!same) {
                  for (j = 0; j < 16; j++) first[j] = w[j] = tw[j];
                  expand(w); rounds(w, 0, 64, mid, chain); add(chain, mid);
                  cached = true;
                }
                for (j = 0; j < 16; j++) w[j] = pad[j];
              } else {
                chain.set(mid);
                cached = false;
                for (j = 0; j < 16; j++) w[j] = tw[j];
                expand(pad);
              }
              ready = true;
              last = bp === blocks - 1;
              wp = (p & 63) >> 2;
              shift = 24 - ((p & 3) << 3);
              wpBase = w[wp];
              rounds(w, 0, wp, chain, pre);
            }

            function answer(d) {
              var text = '', j;
              for (j = 0; j < baseLen; j++) text += String.fromCharCode(48 + digits[j]);
              return text + String.fromCharCode(48 + d);
            }

            function run(count) {
              var stop = hashes + count, d, h0, j, text;
              if (!ready) setup();
              while (hashes < stop) {
                for (d = 0; d < 10; d++) {
                  w[wp] = wpBase | (48 + d) << shift;
                  expand(w);
                  rounds(w, wp, 64, pre, r);
                  if (last) {
                    h0 = (r[0] + chain[0]) | 0;
                  } else {
                    add(r, chain);
                    rounds(pad, 0, 64, r, out);
                    h0 = (out[0] + r[0]) | 0;
                  }
                  if ((h0 >>> 0) <= limit) {
                    text = answer(d);
                    if (zeroBits(digest(utf8(String(prefix) + text))) >= bits) {
                      hashes += d + 1;
                      return text;
                    }
                    if (bits <= 32) throw new Error('proof-of-work: fast path and check disagree at ' + text);
                  }
                }
                hashes += 10;
                for (j = baseLen - 1; j >= 0 && digits[j] === 9; j--) digits[j] = 0;
                if (j >= 0) {
                  digits[j]++;
                } else {
                  for (j = baseLen; j > 0; j--) digits[j] = 0;
                  digits[0] = 1;
                  baseLen++;
                }
                setup();
              }
              return null;
            }

            return { run: run, hashes: function () { return hashes; } };
          }

          function now() {
            return typeof performance !== 'undefined' && performance.now ? performance.now() : Date.now();
          }

          if (typeof importScripts === 'function' && typeof self.postMessage === 'function') {
            self.onmessage = function (event) {
              var m = event.data || {}, bits = m.bits, started = now(), reported = started;
              var count = 4096, solver, nonce = null, t0, t1;
              if (typeof m.prefix !== 'string' || bits !== (bits | 0) || bits < 0 || bits > 64) {
                self.postMessage({ error: 'bad challenge' });
                return;
              }
              try {
                solver = createSolver(m.prefix, bits);
                while (nonce === null) {
                  t0 = now();
                  nonce = solver.run(count);
                  t1 = now();
                  // Slices of 5 to 20 ms: the clock is read rarely, progress still flows.
                  if (t1 - t0 < 5) count *= 2; else if (t1 - t0 > 20 && count > 4096) count /= 2;
                  if (nonce === null && t1 - reported >= 100) {
                    reported = t1;
                    self.postMessage({ progress: solver.hashes(), expected: Math.pow(2, bits) });
                  }
                }
                self.postMessage({ nonce: nonce, hashes: solver.hashes(), ms: now() - started });
              } catch (e) {
                self.postMessage({ error: String(e && e.message || e) });
              }
            };
          } else {
            self.createSolver = createSolver;
          }
        })(self);
        """#

    /// Defines `solveChallenge(challenge, onProgress) -> Promise<nonce>` for a page. It
    /// carries the worker twice: as code, for the main-thread fallback, and as a string
    /// for the Blob the worker is made from. Holds no `{{`, `}}`, `</` or `<!--`, so it can
    /// go into a Mustache template's `<script>` as it is.
    static let pageHelper = #"""
        // solveChallenge(challenge, onProgress) -> Promise of the nonce (a string), for the
        // "challenge" object of a queue answer: {algorithm: "sha256", prefix, difficulty_bits}.
        // It hashes in a Web Worker made from a Blob of the worker's source, or, when Worker or
        // Blob is missing or refused, on this thread in slices with setTimeout between them.
        // onProgress(fraction, hashes, expected), if given, is called about every 100 ms with
        // fraction = hashes / expected (expected = 2^bits, the mean work) capped at 0.99, and
        // once with 1 when solved. The promise is rejected for a challenge it cannot solve.
        var solveChallenge = (function () {
          'use strict';
          var pow = {};
          (function (self) {
        \#(worker)
          })(pow);
          var source = \#(javaScriptString(worker));

          function onPage(prefix, bits, report, resolve, reject) {
            var solver, count = 2048;
            try { solver = pow.createSolver(prefix, bits); } catch (e) { reject(e); return; }
            function slice() {
              var started = Date.now(), nonce, spent;
              try { nonce = solver.run(count); } catch (e) { reject(e); return; }
              if (nonce !== null) { resolve(nonce, solver.hashes()); return; }
              // Slices of about 15 to 50 ms keep the page responsive.
              spent = Date.now() - started;
              if (spent < 15) count *= 2; else if (spent > 50 && count > 2048) count /= 2;
              report(solver.hashes());
              setTimeout(slice, 0);
            }
            setTimeout(slice, 0);
          }

          return function solveChallenge(challenge, onProgress) {
            return new Promise(function (resolve, reject) {
              var c = challenge || {}, prefix = c.prefix, bits = c.difficulty_bits;
              var expected = Math.pow(2, bits), worker = null, url = null, done = false;
              if ((c.algorithm != null && c.algorithm !== 'sha256') || typeof prefix !== 'string' ||
                  bits !== (bits | 0) || bits < 0 || bits > 64) {
                reject(new Error('unsupported proof-of-work challenge'));
                return;
              }
              function tell(fraction, hashes) {
                if (typeof onProgress === 'function') {
                  try { onProgress(fraction, hashes, expected); } catch (ignored) { /* the page's problem */ }
                }
              }
              function report(hashes) { if (!done) tell(Math.min(hashes / expected, 0.99), hashes); }
              function stop() {
                if (worker) { worker.onmessage = worker.onerror = null; worker.terminate(); worker = null; }
                if (url) { URL.revokeObjectURL(url); url = null; }
              }
              function solved(nonce, hashes) {
                if (done) return;
                stop();
                tell(1, hashes);
                done = true;
                resolve(nonce);
              }
              function failed(error) {
                if (done) return;
                stop();
                done = true;
                reject(error);
              }
              function fallback() {
                stop();
                if (!done) onPage(prefix, bits, report, solved, failed);
              }
              try {
                if (typeof Worker !== 'undefined' && typeof Blob !== 'undefined' &&
                    typeof URL !== 'undefined' && URL.createObjectURL) {
                  url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
                  worker = new Worker(url);
                }
              } catch (refused) {
                stop(); // e.g. a Content-Security-Policy without worker-src blob:
              }
              if (!worker) { fallback(); return; }
              worker.onmessage = function (event) {
                var m = event.data || {};
                if (typeof m.nonce === 'string') solved(m.nonce, m.hashes);
                else if (typeof m.progress === 'number') report(m.progress);
                else fallback();
              };
              worker.onerror = function (event) {
                if (event && event.preventDefault) event.preventDefault();
                fallback();
              };
              worker.postMessage({ prefix: prefix, bits: bits });
            });
          };
        })();
        """#

    /// `text` as a double-quoted JavaScript string literal that is safe inside an HTML
    /// `<script>` element: quotes, backslashes, line breaks, `<` and anything outside
    /// printable ASCII are escaped (`\uXXXX`, UTF-16 units).
    static func javaScriptString(_ text: String) -> String {
        var literal = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": literal += "\\\\"
            case "\"": literal += "\\\""
            case "\n": literal += "\\n"
            case " "..."~" where scalar != "<":
                literal.unicodeScalars.append(scalar)
            default:
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16)
                    literal += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
            }
        }
        return literal + "\""
    }
}
